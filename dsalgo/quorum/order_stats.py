"""Quorum latency: how long until every member of some quorum has answered.

A coordinator sends to all ``n`` nodes at once and acts when the replies it holds cover
a quorum.  If node ``i`` answers after ``T_i``, a quorum ``Q`` is complete at
``max_{i in Q} T_i`` and the coordinator proceeds at ``min_Q max_{i in Q} T_i``.

**Closed form (any k of n, i.i.d. response times).**  The wait is the ``k``-th order
statistic ``T_(k)``.  With ``F`` the response-time CDF, ``U = F(T)`` is uniform, and the
``k``-th smallest of ``n`` uniforms is ``Beta(k, n - k + 1)``.  So the ``q``-quantile of the
wait is ``F^{-1}(B^{-1}_{k, n-k+1}(q))`` and its mean is
``∫_0^1 F^{-1}(u) b_{k, n-k+1}(u) du`` (David and Nagaraja, *Order Statistics*, §2.1).
For exponential replies with mean ``m`` this gives the familiar
``E[T_(k)] = m (1/n + 1/(n-1) + … + 1/(n-k+1))``.

**Monte Carlo (everything else).**  Heterogeneous nodes (a mapping node -> distribution)
and grids or listed systems draw response times and apply the formula above to every
sample, vectorised per family.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping

import numpy as np
from scipy import integrate, stats

from .._validate import check_choice, check_int, check_probability
from . import _families as fam

__all__ = ["latency", "sample_latency"]


def _is_dist(d) -> bool:
    return hasattr(d, "ppf") and hasattr(d, "rvs") and hasattr(d, "cdf")


def _parse(system, response_time, op):
    check_choice("op", op, ("read", "write"))
    if isinstance(response_time, Mapping):
        unknown = [x for x in response_time if x not in system._index]
        if unknown:
            raise ValueError(f"response_time names unknown nodes {unknown!r}; nodes are "
                             f"{list(system.nodes)}")
        missing = [x for x in system.nodes if x not in response_time]
        if missing:
            raise ValueError(f"response_time must give every node a distribution; "
                             f"missing {missing!r}")
        for x, d in response_time.items():
            if not _is_dist(d):
                raise TypeError(f"response_time[{x!r}] must be a frozen scipy.stats "
                                f"distribution (with ppf, cdf, rvs); got {d!r}")
        return [response_time[x] for x in system.nodes]
    if not _is_dist(response_time):
        raise TypeError("response_time must be a frozen scipy.stats distribution such as "
                        "scipy.stats.expon(scale=0.01), or a mapping node -> distribution; "
                        f"got {response_time!r}")
    return response_time


def _quantiles(q):
    if q is None:
        return None, True
    if isinstance(q, numbers.Real) and not isinstance(q, bool):
        return np.array([check_probability("q", q)]), True
    if isinstance(q, (str, bytes)) or not isinstance(q, Iterable):
        raise TypeError(f"q must be a quantile in [0, 1] or a list of them; got {q!r}")
    return np.array([check_probability("q", v) for v in q]), False


def latency(system, response_time, op: str = "read", q=None, *, samples: int = 100_000,
            seed: int = 0):
    """Time until a whole quorum of kind ``op`` has answered.

    Parameters
    ----------
    system : QuorumSystem
    response_time : frozen scipy.stats distribution or mapping node -> distribution
        Each node's response time in seconds; one distribution means i.i.d. nodes.
    op : {"read", "write"}
    q : float or list of float, optional
        Quantile(s) of the wait to return; by default its mean.
    samples : int
        Monte Carlo draws when there is no closed form.
    seed : int
        Seed of the Monte Carlo draws (results are reproducible).

    Returns
    -------
    float or ndarray
        Seconds: the mean, or one value per quantile.

    Examples
    --------
    >>> from scipy import stats
    >>> from dsalgo.quorum import majority
    >>> m = 0.010                       # 10 ms mean, exponential
    >>> exact = latency(majority(5), stats.expon(scale=m))
    >>> round(exact, 6), round(m * (1/5 + 1/4 + 1/3), 6)
    (0.007833, 0.007833)
    >>> round(latency(majority(5), stats.expon(scale=m), q=0.99), 4)
    0.0225
    """
    dist = _parse(system, response_time, op)
    qs, scalar = _quantiles(q)
    family = system._reads if op == "read" else system._writes
    if isinstance(family, fam.Threshold) and not isinstance(dist, list):
        k, n = family.k, family.n
        order = stats.beta(k, n - k + 1)
        if qs is None:
            val, _ = integrate.quad(lambda u: dist.ppf(u) * order.pdf(u), 0.0, 1.0, limit=200)
            return float(val)
        out = dist.ppf(order.ppf(qs))
    else:
        waits = sample_latency(system, response_time, op, samples=samples, seed=seed)
        if qs is None:
            return float(waits.mean())
        out = np.quantile(waits, qs)
    return float(out[0]) if scalar else np.asarray(out, dtype=float)


def sample_latency(system, response_time, op: str = "read", *, samples: int = 100_000,
                   seed: int = 0) -> np.ndarray:
    """Monte Carlo draws of the time until a whole quorum of kind ``op`` has answered.

    Parameters are those of :func:`latency`.

    Returns
    -------
    ndarray of shape ``(samples,)``, seconds

    Examples
    --------
    >>> from scipy import stats
    >>> from dsalgo.quorum import grid
    >>> w = sample_latency(grid(2, 2), stats.uniform(0, 1), "write", samples=1000)
    >>> w.shape, bool((w >= 0).all() and (w <= 1).all())
    ((1000,), True)
    """
    dist = _parse(system, response_time, op)
    samples = check_int("samples", samples, low=1)
    seed = check_int("seed", seed, low=0)
    rng = np.random.default_rng(seed)
    n = system.n
    if isinstance(dist, list):
        times = np.column_stack([d.rvs(size=samples, random_state=rng) for d in dist])
    else:
        times = dist.rvs(size=(samples, n), random_state=rng)
    family = system._reads if op == "read" else system._writes
    return family.first_time(np.asarray(times, dtype=float).reshape(samples, n))
