"""Histories made to order: linearizable by construction, with a chosen amount of overlap.

To measure what checking costs (:func:`dsalgo.check.linearizable` is exponential in the
worst case), :func:`stretched_register_history` runs puts, gets and compare-and-sets
*sequentially* on one register — so the history has a legal order, the order of their
linearization points — and then stretches each operation around its point by a random
amount up to ``spread`` on each side.  The larger the spread against the mean gap between
points (one time unit), the more operations overlap and the larger the search.
:func:`max_concurrency` measures that overlap.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from .._validate import check_int, check_number
from .readers import history_table

__all__ = ["max_concurrency", "process_register_history", "stretched_register_history"]


def stretched_register_history(n_ops, spread, seed=0, *, mix=(4, 4, 2)) -> pd.DataFrame:
    """A linearizable compare-and-set register history with overlapping operations.

    Operation ``i`` (process ``p{i}``, key 0) is linearized at ``t_i``, the points a
    Poisson process of rate 1; it is a ``put`` of ``i + 1``, a ``get`` returning the
    current value, or a ``cas`` from a value (the current one 60 % of the time, so it
    succeeds; otherwise a random earlier one, and it fails unless that happens to be
    current) to ``i + 1``.  Its invoke and complete times are ``t_i`` minus and plus
    independent uniform draws from ``[0, spread]``.

    Parameters
    ----------
    n_ops : int
        Operations.
    spread : float
        Largest stretch on each side of a linearization point (mean gap: 1).
    seed : int
        Seed of the draws (``random.Random(seed)``).
    mix : tuple of 3 numbers
        Relative weights of put, get and cas.

    Returns
    -------
    pandas.DataFrame
        A history table (:func:`dsalgo.histories.history_table`) for the model
        ``"cas-register"``; every operation completes (``status`` ok or fail).

    Examples
    --------
    >>> from dsalgo.check import linearizable
    >>> h = stretched_register_history(40, spread=2.0, seed=1)
    >>> len(h), linearizable(h, "cas-register").status
    (40, 'ok')
    >>> sorted(h["f"].unique()), int((h["status"] == "fail").sum())
    (['cas', 'get', 'put'], 4)
    """
    n_ops = check_int("n_ops", n_ops, low=0)
    spread = check_number("spread", spread, low=0.0)
    seed = check_int("seed", seed)
    weights = [check_number("mix", w, low=0.0) for w in mix]
    if len(weights) != 3 or not sum(weights):
        raise ValueError(f"mix must be three non-negative weights (put, get, cas) with a "
                         f"positive sum; got {mix!r}")
    rng = random.Random(seed)
    value, t, rows = None, 0.0, []
    for i in range(n_ops):
        t += rng.expovariate(1.0)
        f = rng.choices(["put", "get", "cas"], weights)[0]
        arg, result, status = None, None, "ok"
        if f == "put":
            arg = value = i + 1
        elif f == "get":
            result = value
        else:
            old = value if rng.random() < 0.6 else rng.randint(1, i + 1)
            arg = [old, i + 1]
            if old == value:
                value = i + 1
            else:
                status = "fail"
        rows.append((i, f"p{i}", f, 0, arg, result, t - rng.uniform(0, spread),
                     t + rng.uniform(0, spread), status))
    return history_table(rows)


def max_concurrency(history) -> int:
    """The largest number of operations in progress at one instant.

    Parameters
    ----------
    history : pandas.DataFrame
        A history table; an operation with no ``t_complete`` stays in progress to the end.
        An operation completing at the instant another is invoked counts as overlapping it.

    Returns
    -------
    int

    Examples
    --------
    >>> from dsalgo.histories import history_table
    >>> h = history_table([(0, "a", "put", 0, 1, None, 0.0, 2.0, "ok"),
    ...                    (1, "b", "get", 0, None, 1, 1.0, 3.0, "ok"),
    ...                    (2, "c", "get", 0, None, 1, 3.0, 4.0, "ok")])
    >>> max_concurrency(h)
    2
    """
    if not isinstance(history, pd.DataFrame) or not {"t_invoke", "t_complete"} <= set(history):
        raise TypeError("history must be a history table with t_invoke and t_complete columns")
    if history.empty:
        return 0
    invoke = history["t_invoke"].to_numpy(dtype=float)
    complete = history["t_complete"].to_numpy(dtype=float, na_value=np.inf)
    times = np.concatenate([invoke, complete])
    steps = np.concatenate([np.ones(len(invoke), int), -np.ones(len(complete), int)])
    order = np.lexsort((-steps, times))        # at one instant, invocations count first
    return int(np.cumsum(steps[order]).max())


def process_register_history(n_ops, processes, seed=0) -> pd.DataFrame:
    """A linearizable compare-and-set register history from a few client processes.

    ``processes`` clients each run one operation at a time (as Jepsen clients do), so at
    most ``processes`` operations overlap however long the history: the shape of a real
    test, and the one for measuring how checking grows with length.  Each operation is
    linearized at a point of its interval (points in increasing order), its interval
    stretched up to 2 time units either side but never overlapping the same client's
    previous one; 40 % gets, 30 % puts, 30 % cas (from the current value 60 % of the time).

    Parameters
    ----------
    n_ops : int
        Operations.
    processes : int
        Client processes (``p0``, ``p1``, …).
    seed : int
        Seed of the draws (``random.Random(seed)``).

    Returns
    -------
    pandas.DataFrame
        A history table for ``"cas-register"`` (key 0, initial None), every operation
        completed ok or fail; ``attrs["semantics"]`` is ``"porcupine"``.

    Examples
    --------
    >>> from dsalgo.check import linearizable
    >>> h = process_register_history(200, 5, seed=2)
    >>> len(h), h["process"].nunique(), max_concurrency(h) <= 5
    (200, 5, True)
    >>> linearizable(h, "cas-register").status
    'ok'
    """
    n_ops = check_int("n_ops", n_ops, low=0)
    processes = check_int("processes", processes, low=1)
    rng = random.Random(seed)
    free = [0.0] * processes
    rows, value, t = [], None, 0.0
    for i in range(n_ops):
        p = min(range(processes), key=free.__getitem__)    # the client free first
        t = max(t, free[p]) + rng.expovariate(processes)   # linearization point
        t_inv = max(free[p], t - rng.uniform(0, 2.0))
        t_ret = t + rng.uniform(0, 2.0)
        free[p] = t_ret + 1e-6
        r = rng.random()
        if r < 0.4:
            rows.append((i, f"p{p}", "get", 0, None, value, t_inv, t_ret, "ok"))
        elif r < 0.7:
            value = i + 1
            rows.append((i, f"p{p}", "put", 0, value, None, t_inv, t_ret, "ok"))
        else:
            old = value if rng.random() < 0.6 or i == 0 else rng.randrange(i)
            ok = old == value
            if ok:
                value = i + 1
            rows.append((i, f"p{p}", "cas", 0, (old, i + 1), None, t_inv, t_ret,
                         "ok" if ok else "fail"))
    h = history_table(rows)
    h.attrs["semantics"] = "porcupine"
    return h
