"""Crash outages over time: how many replicas were down, and how often a majority was up.

A run's ``faults`` table (see :class:`dsalgo.sim.Run`) holds one row per fault with
``kind``, ``t_start`` and ``t_end`` (missing for a crash never followed by a restart).  The
helpers here read the ``"crash"`` rows as intervals ``[t_start, t_end)`` to count the
replicas down at given times, and compare the measured fraction of time a majority was up
with the exact stationary law of the birth–death chain a crash nemesis makes:

With crashes arriving at a constant rate ``λ`` (per cluster) and each down replica
restarting at rate ``1/μ`` (mean outage ``μ``), the number of replicas down is a birth–death
chain whose stationary distribution is a Poisson law truncated to ``0..n``:
``π_j ∝ (λμ)^j / j!``.  A majority is up while at most ``n - quorum_size(n)`` are down.
(The chain lets a crash arrive while every replica is down only in the truncation; a nemesis
that crashes a *live* replica behaves the same as long as outages rarely reach ``n``.)

Pure functions of a faults table: nothing here needs the simulator.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .._validate import check_int, check_number
from .bounds import quorum_size

__all__ = ["unchanged_between", "down_at", "stationary_up_fraction"]


def _crashes(faults) -> pd.DataFrame:
    if not isinstance(faults, pd.DataFrame):
        raise TypeError(f"faults must be a run's faults table (a DataFrame with kind, "
                        f"t_start, t_end); got {type(faults).__name__}")
    missing = {"kind", "t_start", "t_end"} - set(faults.columns)
    if missing:
        raise ValueError(f"faults must have the columns kind, t_start, t_end; "
                         f"missing {sorted(missing)}")
    return faults[faults["kind"] == "crash"]


def down_at(faults, times) -> np.ndarray:
    """Number of replicas crashed at each of ``times``.

    Parameters
    ----------
    faults : pandas.DataFrame
        A run's faults table; its ``"crash"`` rows are the intervals ``[t_start, t_end)``
        (a missing ``t_end`` means down until the end).
    times : array-like of float
        Seconds of simulated time.

    Returns
    -------
    numpy.ndarray of int, one count per time

    Examples
    --------
    >>> import pandas as pd
    >>> faults = pd.DataFrame({"kind": ["crash", "crash", "partition"],
    ...                        "t_start": [1.0, 2.0, 0.0], "t_end": [3.0, None, 9.0]})
    >>> down_at(faults, [0.5, 1.0, 2.5, 3.0, 10.0]).tolist()
    [0, 1, 2, 1, 1]
    """
    crashes = _crashes(faults)
    start = crashes["t_start"].to_numpy(dtype=float)[None, :]
    end = crashes["t_end"].to_numpy(dtype=float, na_value=np.inf)[None, :]
    t = np.asarray(times, dtype=float).reshape(-1)[:, None]
    return ((start <= t) & (t < end)).sum(axis=1)


def unchanged_between(faults, t0, t1) -> np.ndarray:
    """Whether no replica crashed or restarted during ``(t0, t1]``, per interval.

    A round that went out at ``t0`` and was judged at ``t1`` saw one fixed set of live
    replicas exactly when this is True.

    Parameters
    ----------
    faults : pandas.DataFrame
        A run's faults table (its ``"crash"`` rows are used).
    t0, t1 : array-like of float
        Interval ends, seconds; broadcast against each other.

    Returns
    -------
    numpy.ndarray of bool
        True where the set of crashed replicas did not change during ``(t0, t1]``.

    Examples
    --------
    >>> import pandas as pd
    >>> faults = pd.DataFrame({"kind": ["crash"], "t_start": [1.0], "t_end": [2.0]})
    >>> unchanged_between(faults, [0.0, 0.9, 1.0, 1.5], [0.5, 1.1, 1.5, 2.5]).tolist()
    [True, False, True, False]
    """
    crashes = _crashes(faults)
    edges = np.sort(np.concatenate([crashes["t_start"].to_numpy(dtype=float),
                                    crashes["t_end"].dropna().to_numpy(dtype=float)]))
    t0, t1 = np.broadcast_arrays(np.asarray(t0, dtype=float), np.asarray(t1, dtype=float))
    return (np.searchsorted(edges, t1, side="right")
            == np.searchsorted(edges, t0, side="right"))


def stationary_up_fraction(n, crash_rate, mean_down) -> float:
    """Long-run fraction of time a majority of ``n`` is up under a crash nemesis.

    Parameters
    ----------
    n : int
        Replicas.
    crash_rate : float
        Crashes per second across the cluster (``λ``).
    mean_down : float
        Mean outage of a crashed replica, seconds (``μ``).

    Returns
    -------
    float
        ``Σ_{j ≤ n - q} π_j`` with ``π_j ∝ (λμ)^j / j!`` on ``0..n`` and ``q`` the
        majority.

    Examples
    --------
    >>> round(stationary_up_fraction(3, crash_rate=0.9, mean_down=1.0), 3)
    0.783
    >>> stationary_up_fraction(5, crash_rate=0.0, mean_down=1.0)
    1.0
    """
    n = check_int("n", n, low=1)
    crash_rate = check_number("crash_rate", crash_rate, low=0.0)
    mean_down = check_number("mean_down", mean_down, low=0.0)
    rho = crash_rate * mean_down
    weights = np.array([rho ** j / math.factorial(j) for j in range(n + 1)])
    weights /= weights.sum()
    return float(weights[: n - quorum_size(n) + 1].sum())   # at most n - q down
