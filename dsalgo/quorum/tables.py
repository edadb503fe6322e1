"""Tidy tables of quorum metrics over parameter grids, ready for plotting and comparison.

Each function takes a mapping ``label -> QuorumSystem`` and a list of parameter values and
returns one row per (system, value), so a chart is a ``groupby`` away and two designs are
compared in one table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .._validate import check_choice
from .reliability import OPS

__all__ = ["availability_table", "load_table"]


def _systems(systems) -> dict:
    from .systems import QuorumSystem
    if not isinstance(systems, Mapping) or not systems:
        raise TypeError(f"systems must be a non-empty mapping label -> QuorumSystem; got {systems!r}")
    for label, qs in systems.items():
        if not isinstance(qs, QuorumSystem):
            raise TypeError(f"systems[{label!r}] must be a QuorumSystem; got {qs!r}")
    return dict(systems)


def _values(name, values) -> np.ndarray:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be an iterable of numbers; got {values!r}")
    arr = np.asarray(list(values), dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d list of numbers; got {values!r}")
    return arr


def availability_table(systems, p_values, op: str = "both", groups=None) -> pd.DataFrame:
    """Availability of several systems over a range of per-node failure probabilities.

    Parameters
    ----------
    systems : mapping label -> QuorumSystem
    p_values : iterable of float
        Per-node failure probabilities in ``[0, 1]``.
    op : {"read", "write", "both"}
    groups : mapping, optional
        Correlated groups, as in :func:`dsalgo.quorum.reliability.availability`, applied
        to every system (their node ids must exist in each).

    Returns
    -------
    DataFrame
        ``system, n, p, op, availability, unavailability, nines`` where
        ``nines = -log10(unavailability)`` (``inf`` when nothing can go wrong).

    Examples
    --------
    >>> from dsalgo.quorum import majority
    >>> df = availability_table({"3 nodes": majority(3), "5 nodes": majority(5)}, [0.01, 0.1])
    >>> print(df[["system", "p", "nines"]].round(2).to_string(index=False))
     system    p  nines
    3 nodes 0.01   3.53
    3 nodes 0.10   1.55
    5 nodes 0.01   5.01
    5 nodes 0.10   2.07
    """
    systems = _systems(systems)
    check_choice("op", op, OPS)
    ps = _values("p_values", p_values)
    parts = []
    for label, qs in systems.items():
        a = np.atleast_1d(qs.availability(ps, op=op, groups=groups))
        u = np.atleast_1d(qs.unavailability(ps, op=op, groups=groups))
        with np.errstate(divide="ignore"):
            nines = -np.log10(u)
        parts.append(pd.DataFrame({"system": label, "n": qs.n, "p": ps, "op": op,
                                   "availability": a, "unavailability": u, "nines": nines}))
    return pd.concat(parts, ignore_index=True)


def load_table(systems, read_fractions, node_capacity=None) -> pd.DataFrame:
    """Load and capacity of several systems over a range of read fractions.

    Parameters
    ----------
    systems : mapping label -> QuorumSystem
    read_fractions : iterable of float
        Each in ``[0, 1]``.
    node_capacity : optional
        As in :func:`dsalgo.quorum.lp.load`, applied to every system.

    Returns
    -------
    DataFrame
        ``system, n, read_fraction, load, capacity``.

    Examples
    --------
    >>> from dsalgo.quorum import majority, grid
    >>> df = load_table({"majority(9)": majority(9), "grid 3x3": grid(3, 3)}, [0.0, 1.0])
    >>> print(df.round(3).to_string(index=False))
         system  n  read_fraction  load  capacity
    majority(9)  9            0.0 0.556       1.8
    majority(9)  9            1.0 0.556       1.8
       grid 3x3  9            0.0 0.333       3.0
       grid 3x3  9            1.0 0.333       3.0
    """
    systems = _systems(systems)
    frs = _values("read_fractions", read_fractions)
    rows = []
    for label, qs in systems.items():
        for fr in frs:
            load = qs.load(float(fr), node_capacity)
            rows.append({"system": label, "n": qs.n, "read_fraction": float(fr), "load": load,
                         "capacity": 1.0 / load})
    return pd.DataFrame(rows, columns=["system", "n", "read_fraction", "load", "capacity"])
