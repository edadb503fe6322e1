"""Queueing theory: the closed forms a serving-cluster simulation must converge to.

Every function is vectorised: numbers may be numpy arrays (broadcast together), and a
scalar in gives a numpy scalar out.  Utilisation ``rho`` is the offered load per server,
``lambda / (c * mu)``; ``service_mean`` is ``1 / mu`` in seconds.

What is modelled (Kleinrock, *Queueing Systems* vol. 1, 1975, §3.2 and §3.4; Harchol-Balter,
*Performance Modeling and Design of Computer Systems*, 2013, ch. 14):

- **M/M/1** — Poisson arrivals, exponential service, one FIFO server.  The number in
  system is geometric, ``P(N >= i) = rho**i``, and the response time (wait plus service)
  is exponential with rate ``mu - lambda``.  Random assignment of a Poisson stream to
  ``c`` equal servers splits it into ``c`` independent Poisson streams, so each server is
  an M/M/1 queue at the same ``rho``.
- **M/M/c** — one shared FIFO queue in front of ``c`` servers.  Erlang's C formula gives
  the probability that an arrival waits; given that it waits, the wait is exponential with
  rate ``c*mu - lambda``.  Erlang C is computed from the Erlang B recursion
  ``B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))`` with offered load ``a = c * rho``, and
  ``C = B / (1 - rho (1 - B))``, which is numerically stable for large ``c``.
- **Supermarket model** — Mitzenmacher, "The Power of Two Choices in Randomized Load
  Balancing", IEEE TPDS 12(10), 2001, §3 (Theorem 3.6 and Corollary 3.8): ``n`` FIFO
  exponential servers, each arrival joins the shortest of ``d`` servers chosen uniformly at
  random.  As ``n -> inf`` the fraction of queues holding at least ``i`` jobs tends to
  ``s_i = rho**((d**i - 1) / (d - 1))`` (``rho**(2**i - 1)`` for ``d = 2``) and the mean
  response time to ``sum_{i>=1} rho**((d**i - d) / (d - 1))`` service means.  With
  ``d = 1`` both reduce to M/M/1.

Simplifications: all of these are steady-state, infinite-buffer, FIFO results; the
supermarket model is a large-``n`` limit (a cluster of ``n`` servers deviates by
``O(1/n)``).  Nothing here knows about network hops or stale information.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "erlang_c",
    "expected_key_movement",
    "mm1_mean_response",
    "mm1_queue_tail",
    "mm1_response_quantile",
    "mmc_mean_response",
    "mmc_mean_wait",
    "mmc_response_quantile",
    "mmc_response_sf",
    "supermarket_mean_response",
    "supermarket_tail",
]


def _arr(name, value, *, low=None, high=None, low_open=False, high_open=False,
         integer=False):
    """``value`` as a float (or int) array after checking every element."""
    a = np.asarray(value)
    if a.dtype == bool or a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a number or an array of numbers; got {value!r}")
    if integer:
        if a.dtype.kind == "f":
            raise TypeError(f"{name} must be an integer or an array of integers; got {value!r}")
        a = a.astype(np.int64)
    else:
        a = a.astype(float)
    if a.dtype.kind == "f" and np.isnan(a).any():
        raise ValueError(f"{name} must not contain NaN; got {value!r}")
    bad = np.zeros(a.shape, dtype=bool)
    if low is not None:
        bad |= (a <= low) if low_open else (a < low)
    if high is not None:
        bad |= (a >= high) if high_open else (a > high)
    if bad.any():
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        if low is not None and high is not None:
            accepted = f"in {lo}, {hi}"
        elif low is not None:
            accepted = ("> " if low_open else ">= ") + f"{low:g}"
        else:
            accepted = ("< " if high_open else "<= ") + f"{high:g}"
        first = a[bad].flat[0].item()
        raise ValueError(f"{name} must be {accepted}; got {first!r}"
                         + ("" if a.ndim == 0 else f" in {value!r:.80}"))
    return a


def _out(x):
    x = np.asarray(x, dtype=float)
    return x[()] if x.ndim == 0 else x


def _rho(rho):
    return _arr("rho", rho, low=0.0, high=1.0, low_open=True, high_open=True)


def _mean(service_mean):
    return _arr("service_mean", service_mean, low=0.0, low_open=True)


# ---------------------------------------------------------------------------- M/M/1
def mm1_mean_response(rho, service_mean=1.0):
    """Mean response time (wait + service) of an M/M/1 queue, seconds.

    ``E[T] = service_mean / (1 - rho)``.

    Parameters
    ----------
    rho : float or array_like
        Utilisation in (0, 1).
    service_mean : float or array_like
        Mean service time ``1/mu``, seconds.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> float(mm1_mean_response(0.5, service_mean=0.010))
    0.02
    >>> mm1_mean_response([0.5, 0.9])
    array([ 2., 10.])
    """
    rho, s = _rho(rho), _mean(service_mean)
    return _out(s / (1.0 - rho))


def mm1_response_quantile(q, rho, service_mean=1.0):
    """The ``q``-quantile of M/M/1 response time, seconds.

    The response time is exponential with rate ``mu (1 - rho)``, so the quantile is
    ``-ln(1 - q) * service_mean / (1 - rho)``.

    Parameters
    ----------
    q : float or array_like
        Quantile in [0, 1).
    rho : float or array_like
        Utilisation in (0, 1).
    service_mean : float or array_like
        Mean service time, seconds.

    Examples
    --------
    >>> round(float(mm1_response_quantile(0.99, 0.5)), 4)   # p99 at half load, in service means
    9.2103
    """
    q = _arr("q", q, low=0.0, high=1.0, high_open=True)
    rho, s = _rho(rho), _mean(service_mean)
    return _out(-np.log1p(-q) * s / (1.0 - rho))


def mm1_queue_tail(i, rho):
    """``P(N >= i)`` for the number ``N`` of jobs in an M/M/1 system: ``rho**i``.

    Parameters
    ----------
    i : int or array_like of int
        Queue length threshold, ``>= 0``.
    rho : float or array_like
        Utilisation in (0, 1).

    Examples
    --------
    >>> mm1_queue_tail([0, 1, 2], 0.5)
    array([1.  , 0.5 , 0.25])
    """
    i = _arr("i", i, low=0, integer=True)
    return _out(_rho(rho) ** i)


# ---------------------------------------------------------------------------- M/M/c
def erlang_c(c, rho):
    """Erlang C: the probability that an arrival to an M/M/c queue has to wait.

    Parameters
    ----------
    c : int or array_like of int
        Number of servers, ``>= 1``.
    rho : float or array_like
        Per-server utilisation ``lambda / (c mu)`` in (0, 1).

    Returns
    -------
    float or numpy.ndarray
        ``P(wait > 0)``.

    Notes
    -----
    With offered load ``a = c rho`` the Erlang B blocking probability follows the recursion
    ``B(k) = a B(k-1) / (k + a B(k-1))`` from ``B(0) = 1``, and
    ``C(c, a) = B(c) / (1 - rho (1 - B(c)))``.  For ``c = 1``, ``C = rho``.

    Examples
    --------
    >>> float(erlang_c(1, 0.7))
    0.7
    >>> round(float(erlang_c(2, 0.5)), 6)   # a = 1: B = 1/5, C = (1/5) / (1 - (1/2)(4/5)) = 1/3
    0.333333
    >>> erlang_c([1, 10, 100], 0.8).round(4)   # pooling: fewer arrivals wait as c grows
    array([0.8   , 0.4092, 0.0196])
    """
    c = _arr("c", c, low=1, integer=True)
    rho = _rho(rho)
    c, rho = np.broadcast_arrays(c, rho)
    a = c * rho
    b = np.ones(a.shape)
    out = np.empty(a.shape)
    kmax = int(c.max()) if c.size else 0
    for k in range(1, kmax + 1):
        b = a * b / (k + a * b)
        done = c == k
        out[done] = b[done]
    return _out(out / (1.0 - rho * (1.0 - out)))


def mmc_mean_wait(c, rho, service_mean=1.0):
    """Mean time in queue (before service) in an M/M/c system, seconds.

    ``W_q = C(c, rho) * service_mean / (c (1 - rho))``.

    Examples
    --------
    >>> float(mmc_mean_wait(1, 0.5))            # M/M/1: rho / (mu - lambda)
    1.0
    >>> round(float(mmc_mean_wait(2, 0.5)), 6)   # (1/3) / (2 * 0.5)
    0.333333
    """
    rho, s = _rho(rho), _mean(service_mean)
    cc = _arr("c", c, low=1, integer=True)
    return _out(erlang_c(cc, rho) * s / (cc * (1.0 - rho)))


def mmc_mean_response(c, rho, service_mean=1.0):
    """Mean response time (wait + service) of an M/M/c system, seconds.

    Examples
    --------
    >>> float(mmc_mean_response(1, 0.5))
    2.0
    """
    return _out(mmc_mean_wait(c, rho, service_mean) + _mean(service_mean))


def mmc_response_sf(t, c, rho, service_mean=1.0):
    """``P(T > t)`` for the response time ``T`` of an M/M/c FIFO system.

    ``T = W + S``: ``W`` is 0 with probability ``1 - C`` and otherwise exponential with rate
    ``theta = c mu - lambda``; ``S`` is exponential with rate ``mu``.  Convolving,
    ``P(T > t) = (1 - C) e^{-mu t} + C (theta e^{-mu t} - mu e^{-theta t}) / (theta - mu)``,
    and ``(1 + mu t) e^{-mu t}`` in the place of the second term when ``theta = mu``.

    Parameters
    ----------
    t : float or array_like
        Time, seconds, ``>= 0``.
    c, rho, service_mean
        As in :func:`erlang_c` and :func:`mmc_mean_wait`.

    Examples
    --------
    >>> import numpy as np
    >>> bool(np.isclose(mmc_response_sf(3.0, 1, 0.5), np.exp(-1.5)))   # M/M/1: Exp(mu - lambda)
    True
    """
    t = _arr("t", t, low=0.0)
    rho, s = _rho(rho), _mean(service_mean)
    cc = _arr("c", c, low=1, integer=True)
    C = erlang_c(cc, rho)
    mu = 1.0 / s
    theta = cc * mu * (1.0 - rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = theta - mu
        mixed = np.where(np.isclose(gap, 0.0, rtol=1e-9, atol=1e-12 * mu),
                         (1.0 + mu * t) * np.exp(-mu * t),
                         (theta * np.exp(-mu * t) - mu * np.exp(-theta * t)) / gap)
    return _out((1.0 - C) * np.exp(-mu * t) + C * mixed)


def mmc_response_quantile(q, c, rho, service_mean=1.0):
    """The ``q``-quantile of M/M/c response time, seconds (solved by bisection).

    Examples
    --------
    >>> round(float(mmc_response_quantile(0.99, 1, 0.5)), 4)   # equals the M/M/1 closed form
    9.2103
    >>> mmc_response_quantile(0.99, [1, 4, 16], 0.8).round(3)
    array([23.026,  6.893,  4.735])
    """
    q = _arr("q", q, low=0.0, high=1.0, high_open=True)
    rho, s = _rho(rho), _mean(service_mean)
    cc = _arr("c", c, low=1, integer=True)
    q, cc, rho, s = np.broadcast_arrays(q, cc, rho, s)
    target = 1.0 - q
    lo = np.zeros(q.shape)
    # P(T > t) <= P(W > t/2) + P(S > t/2) <= e^{-theta t/2} + e^{-mu t/2}: doubling this bound
    hi = 2.0 * s * np.log(2.0 / np.maximum(target, 1e-300)) / np.minimum(1.0, cc * (1 - rho))
    for _ in range(100):
        mid = (lo + hi) / 2
        above = mmc_response_sf(mid, cc, rho, s) > target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return _out((lo + hi) / 2)


# ---------------------------------------------------------------------------- supermarket
def _d(d):
    return _arr("d", d, low=1, integer=True)


def supermarket_tail(i, rho, d=2):
    """Fraction of queues with at least ``i`` jobs under power-of-``d`` choices (n → ∞).

    ``s_i = rho ** ((d**i - 1) / (d - 1))``: ``rho**(2**i - 1)`` for ``d = 2``, ``rho**i``
    (M/M/1) for ``d = 1``.  Mitzenmacher 2001, Theorem 3.6.

    Parameters
    ----------
    i : int or array_like of int
        Queue length threshold, ``>= 0``.
    rho : float or array_like
        Per-server utilisation in (0, 1).
    d : int or array_like of int
        Number of servers sampled per arrival, ``>= 1``.

    Examples
    --------
    >>> supermarket_tail([0, 1, 2, 3], 0.9).round(4)
    array([1.    , 0.9   , 0.729 , 0.4783])
    >>> supermarket_tail(3, 0.9, d=1).round(4)
    np.float64(0.729)
    """
    i = _arr("i", i, low=0, integer=True)
    rho, d = _rho(rho), _d(d)
    i, d = np.broadcast_arrays(i, d)
    expo = np.where(d == 1, i, (np.power(d.astype(float), i) - 1.0) / np.maximum(d - 1, 1))
    return _out(rho ** expo)


def supermarket_mean_response(rho, d=2, service_mean=1.0, *, terms=64):
    """Mean response time under power-of-``d`` choices in the large-``n`` limit, seconds.

    ``E[T] = service_mean * sum_{i>=1} rho ** ((d**i - d) / (d - 1))`` (Mitzenmacher 2001,
    Corollary 3.8); ``service_mean / (1 - rho)`` for ``d = 1``.

    Parameters
    ----------
    rho, d, service_mean
        As in :func:`supermarket_tail`; ``service_mean`` in seconds.
    terms : int
        Terms of the series summed for ``d >= 2`` (it converges doubly exponentially).

    Examples
    --------
    >>> float(supermarket_mean_response(0.5, d=1))
    2.0
    >>> supermarket_mean_response([0.5, 0.9, 0.99]).round(3)   # 0.5: 1 + 1/4 + 1/64 + ...
    array([1.266, 2.614, 5.432])
    """
    if isinstance(terms, bool) or not isinstance(terms, (int, np.integer)) or terms < 1:
        raise ValueError(f"terms must be an integer >= 1 (terms of the series summed); got "
                         f"{terms!r}")
    rho, d, s = _rho(rho), _d(d), _mean(service_mean)
    rho, d, s = np.broadcast_arrays(rho, d, s)
    i = np.arange(1, terms + 1).reshape((terms,) + (1,) * rho.ndim)
    with np.errstate(over="ignore"):
        expo = (np.power(d.astype(float), i) - d) / np.maximum(d - 1, 1)
    series = np.sum(rho ** expo, axis=0)
    return _out(np.where(d == 1, s / (1.0 - rho), s * series))


def expected_key_movement(n, change="add"):
    """Expected fraction of keys that change owner in consistent hashing (Karger et al. 1997).

    Adding one backend to ``n`` moves the keys the newcomer takes over: ``1 / (n + 1)`` in
    expectation.  Removing one of ``n`` moves exactly the keys it held: ``1 / n``.

    Parameters
    ----------
    n : int or array_like of int
        Backends before the change (``>= 1``; ``>= 2`` for ``"remove"``).
    change : {"add", "remove"}

    Examples
    --------
    >>> float(expected_key_movement(9))
    0.1
    >>> expected_key_movement([2, 4], change="remove")
    array([0.5 , 0.25])
    """
    if change == "add":
        return _out(1.0 / (_arr("n", n, low=1, integer=True) + 1))
    if change == "remove":
        return _out(1.0 / _arr("n", n, low=2, integer=True))
    raise ValueError(f"change must be one of 'add', 'remove'; got {change!r}")
