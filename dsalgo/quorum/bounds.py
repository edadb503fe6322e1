"""How many replicas for f faults, and how big a quorum must be.

Derivations
-----------
**Crash faults.**  A replicated register (or Paxos, or Raft) acts once it hears from a
quorum of size ``q`` out of ``n``.  Two conditions bound ``q``:

* *liveness*: with ``f`` nodes crashed, the ``n - f`` survivors must still form a quorum,
  so ``q <= n - f``;
* *safety*: any two quorums must share a node (so a later quorum sees what an earlier one
  decided), and two sets of size ``q`` drawn from ``n`` are forced to overlap exactly when
  ``2q > n``, i.e. ``2q >= n + 1``.

Together ``n + 1 <= 2q <= 2(n - f)`` gives ``n >= 2f + 1``; the smallest quorum that is
safe is the majority ``q = floor(n/2) + 1``, and the most crashes an ``n``-node system
survives is ``f = n - q = floor((n - 1)/2)``.

**Byzantine faults.**  Now up to ``f`` nodes may lie.  Two quorums must overlap in at
least ``f + 1`` nodes so the overlap contains a correct node: ``2q - n >= f + 1``, i.e.
``q >= ceil((n + f + 1)/2)``.  Liveness still needs ``q <= n - f`` (the ``f`` faulty nodes
may stay silent).  So ``(n + f + 1)/2 <= n - f``, which is ``n >= 3f + 1``; at
``n = 3f + 1`` the quorum is ``2f + 1`` (PBFT).  Equivalently ``f = floor((n - 1)/3)``.

Every function here is vectorised: pass an ``int`` and get an ``int``, pass an array of
integers and get an array back.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from .._validate import check_choice, check_int

__all__ = ["MODELS", "bounds_table", "max_faults", "min_nodes", "quorum_size"]

MODELS = ("crash", "byzantine")


def _ints(name: str, value, low: int):
    """``value`` as a Python int (scalar in) or an int64 array (array in), checked >= low."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return check_int(name, value, low=low), True
    if isinstance(value, (str, bytes, bool, np.bool_, numbers.Real)):
        raise TypeError(f"{name} must be an integer or an array of integers; got {value!r} "
                        f"of type {type(value).__name__}")
    arr = np.asarray(value)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an integer or an array of integers; got an array of "
                        f"dtype {arr.dtype}")
    if arr.size and arr.min() < low:
        bad = arr.flat[int(np.argmin(arr))]
        raise ValueError(f"{name} must contain only integers >= {low}; got {int(bad)}")
    return arr.astype(np.int64, copy=False), False


def _out(arr, scalar: bool):
    return int(arr) if scalar else arr


def max_faults(n, model: str = "crash"):
    """The most faulty nodes ``f`` that ``n`` replicas tolerate.

    Crash: ``floor((n - 1)/2)`` (from ``n >= 2f + 1``); Byzantine: ``floor((n - 1)/3)``
    (from ``n >= 3f + 1``).  See the module docstring for the derivation.

    Parameters
    ----------
    n : int or array_like of int
        Number of replicas, each ``>= 1``.
    model : {"crash", "byzantine"}
        The fault model.

    Returns
    -------
    int or ndarray of int64
        Same shape as ``n``.

    Examples
    --------
    >>> max_faults(5), max_faults(4), max_faults(4, model="byzantine")
    (2, 1, 1)
    >>> max_faults([3, 4, 5, 6, 7]).tolist()
    [1, 1, 2, 2, 3]
    """
    check_choice("model", model, MODELS)
    arr, scalar = _ints("n", n, 1)
    return _out((arr - 1) // (2 if model == "crash" else 3), scalar)


def min_nodes(f, model: str = "crash"):
    """The fewest replicas that tolerate ``f`` faults: ``2f + 1`` (crash), ``3f + 1`` (Byzantine).

    Parameters
    ----------
    f : int or array_like of int
        Number of faults to tolerate, each ``>= 0``.
    model : {"crash", "byzantine"}

    Returns
    -------
    int or ndarray of int64

    Examples
    --------
    >>> min_nodes(1), min_nodes(2), min_nodes(1, model="byzantine")
    (3, 5, 4)
    >>> min_nodes([0, 1, 2], model="byzantine").tolist()
    [1, 4, 7]
    """
    check_choice("model", model, MODELS)
    arr, scalar = _ints("f", f, 0)
    return _out((2 if model == "crash" else 3) * arr + 1, scalar)


def quorum_size(n, model: str = "crash", f=None):
    """The smallest safe quorum among ``n`` replicas.

    Crash: the majority ``floor(n/2) + 1`` (any two overlap).  Byzantine:
    ``ceil((n + f + 1)/2)`` (any two overlap in ``f + 1`` nodes, so in a correct one),
    with ``f`` defaulting to ``max_faults(n, "byzantine")``.  That size is *safe* for any
    ``f <= n - 1``; it is also *live* (``q <= n - f``) only when ``f <= floor((n - 1)/3)``.
    An ``f`` for which no ``q <= n`` is safe raises ``ValueError``.

    Parameters
    ----------
    n : int or array_like of int
        Number of replicas, ``>= 1``.
    model : {"crash", "byzantine"}
    f : int or array_like of int, optional
        Byzantine faults to tolerate (only with ``model="byzantine"``), ``>= 0``.

    Returns
    -------
    int or ndarray of int64

    Examples
    --------
    >>> quorum_size(5), quorum_size(6)
    (3, 4)
    >>> quorum_size(4, model="byzantine"), quorum_size(7, model="byzantine", f=1)
    (3, 5)
    """
    check_choice("model", model, MODELS)
    arr, scalar = _ints("n", n, 1)
    if model == "crash":
        if f is not None:
            raise ValueError(f"f is only accepted with model='byzantine'; got f={f!r}")
        return _out(arr // 2 + 1, scalar)
    if f is None:
        farr, fscalar = (arr - 1) // 3, scalar
    else:
        farr, fscalar = _ints("f", f, 0)
    # ceil((n + f + 1) / 2) in integer arithmetic
    q = (arr + farr + 2) // 2
    too_big = np.asarray(q > arr)
    if too_big.any():
        k = int(np.argmax(too_big.ravel()))
        n_bad = int(np.broadcast_to(arr, too_big.shape).ravel()[k])
        f_bad = int(np.broadcast_to(farr, too_big.shape).ravel()[k])
        raise ValueError(f"f must be at most n - 1 for two quorums of n={n_bad} nodes to share "
                         f"f + 1; got f={f_bad} (a live Byzantine system also needs "
                         f"f <= floor((n - 1)/3) = {(n_bad - 1) // 3})")
    return _out(q, scalar and fscalar)


def bounds_table(n_values) -> pd.DataFrame:
    """A tidy table of the crash and Byzantine bounds for each ``n``.

    Parameters
    ----------
    n_values : iterable of int
        Cluster sizes, each ``>= 1``.

    Returns
    -------
    DataFrame
        One row per ``n`` with ``n, crash_f, crash_quorum, byzantine_f, byzantine_quorum``.
        ``crash_quorum`` is the majority; ``byzantine_quorum`` is
        ``ceil((n + f + 1)/2)`` at ``f = byzantine_f``.

    Examples
    --------
    >>> print(bounds_table([3, 4, 5, 7]).to_string(index=False))
     n  crash_f  crash_quorum  byzantine_f  byzantine_quorum
     3        1             2            0                 2
     4        1             3            1                 3
     5        2             3            1                 4
     7        3             4            2                 5
    """
    if isinstance(n_values, (numbers.Number, str)):
        raise TypeError(f"n_values must be an iterable of integers; got {n_values!r}")
    values = list(n_values)
    arr, _ = _ints("n_values", np.asarray(values) if values else np.zeros(0, np.int64), 1)
    arr = np.atleast_1d(arr)
    return pd.DataFrame({
        "n": arr,
        "crash_f": max_faults(arr),
        "crash_quorum": quorum_size(arr),
        "byzantine_f": max_faults(arr, "byzantine"),
        "byzantine_quorum": quorum_size(arr, "byzantine"),
    })

