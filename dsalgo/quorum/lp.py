"""Load and capacity of a read-write quorum system, by linear programming.

Definitions (Naor and Wool 1998, §3, extended to read-write systems by Whittaker et al.,
"Read-Write Quorum Systems Made Practical", PaPoC 2021, §3):

* A *strategy* ``sigma = (sigma_R, sigma_W)`` is a probability distribution over the read
  quorums and one over the write quorums: each operation contacts a quorum drawn from it.
* With read fraction ``f_r`` (and ``f_w = 1 - f_r``), the *load of node x* is the
  probability that an operation contacts it, divided by its capacity ``c_x``::

      load_sigma(x) = ( f_r * sum_{R ∋ x} sigma_R(R) / c_r(x)
                      + f_w * sum_{W ∋ x} sigma_W(W) / c_w(x) )

* The load of a strategy is that of its busiest node; the *load* ``L`` of the system is
  the least load of any strategy, and its *capacity* is ``1 / L`` (with unit capacities:
  throughput in units of one node's throughput; with capacities in ops/s: ops/s).

Finding ``L`` is a linear program: minimise ``L`` subject to ``load_sigma(x) <= L`` for
every node, over all strategies.  Rather than one variable per quorum (there are
``C(1001, 501)`` majorities), each family contributes the polytope of its quorums'
*marginals* -- the vector of "probability that node x is in the chosen quorum" -- which is
all the load depends on: the hypersimplex ``{0 <= y <= 1, sum y = k}`` for "any k nodes",
a product of simplices for "one node per row", and one variable per quorum only for listed
systems (see :mod:`dsalgo.quorum._families`).  Every point of these polytopes is the
marginal of some strategy, so the optimum is the same as the quorum-by-quorum LP.

A *distribution* of read fractions ``{f_r: weight}`` asks for one strategy minimising the
expected load, ``sum_i weight_i * L_i``, as quoracle does; ``capacity`` is then
``1 / expected load``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

from .._validate import check_number

__all__ = ["capacity", "load", "node_loads"]


def load(system, read_fraction, node_capacity=None) -> float:
    """The load of the optimal strategy (Naor–Wool; Whittaker et al. 2021).

    Parameters
    ----------
    system : QuorumSystem
    read_fraction : float or mapping float -> float
        Fraction of operations that are reads, in ``[0, 1]``; or a distribution of read
        fractions ``{fraction: weight}`` (weights are normalised), in which case the
        expected load of the best single strategy is returned.
    node_capacity : float or mapping, optional
        Operations per second each node can serve: one number for all, a mapping node ->
        number, or node -> ``(read_capacity, write_capacity)``.  Default 1 for every node,
        which makes the load the busiest node's access probability.

    Returns
    -------
    float

    Examples
    --------
    >>> from dsalgo.quorum import majority, grid, QuorumSystem
    >>> round(load(majority(5), 0.5), 6), round(load(grid(3, 3), 0.2), 6)
    (0.6, 0.333333)
    >>> g = QuorumSystem(reads=[["a", "b", "c"], ["d", "e", "f"]])
    >>> round(load(g, 0.25), 6), round(load(g, {0.1: 1, 0.75: 1}), 3)
    (0.375, 0.404)
    """
    return _solve(system, read_fraction, node_capacity)["objective"]


def capacity(system, read_fraction, node_capacity=None) -> float:
    """The most operations per unit time the system serves: ``1 / load``.

    With ``node_capacity`` in operations per second the result is in operations per
    second; without it, in multiples of one node's throughput.

    Parameters are those of :func:`load`.

    Examples
    --------
    >>> from dsalgo.quorum import QuorumSystem
    >>> rows = [["a", "b", "c"], ["d", "e", "f"]]
    >>> g = QuorumSystem(reads=rows)
    >>> caps = {"a": 1000, "b": 500, "c": 1000, "d": 500, "e": 1000, "f": 500}
    >>> round(capacity(g, 0.75, caps))
    1333
    >>> rw = {x: (10 * c, c) for x, c in caps.items()}   # reads 10x cheaper than writes
    >>> [round(capacity(g, fr, rw)) for fr in (1.0, 0.5, 0.0)]
    [10000, 3913, 2000]
    """
    return 1.0 / load(system, read_fraction, node_capacity)


def node_loads(system, read_fraction, node_capacity=None) -> pd.DataFrame:
    """Per-node loads under an optimal strategy for one read fraction.

    Parameters
    ----------
    system : QuorumSystem
    read_fraction : float
        In ``[0, 1]``.
    node_capacity : see :func:`load`

    Returns
    -------
    DataFrame
        One row per node: ``node``, ``read_probability`` and ``write_probability`` (chance
        that a read / a write contacts the node), ``read_load`` and ``write_load`` (the
        node's load from reads, ``read_fraction × read_probability / read capacity``, and
        from writes, ``(1 − read_fraction) × write_probability / write capacity``) and
        ``load``, their sum (its maximum is the system's load).  Optimal strategies are
        not unique, so only the maximum is canonical.

    Examples
    --------
    >>> from dsalgo.quorum import grid
    >>> df = node_loads(grid(2, 3), 0.25)
    >>> list(df.columns), round(float(df["load"].max()), 6)
    (['node', 'read_probability', 'write_probability', 'read_load', 'write_load', 'load'], 0.375)
    """
    if isinstance(read_fraction, Mapping):
        raise TypeError("read_fraction must be one number for node_loads; got a mapping")
    sol = _solve(system, read_fraction, node_capacity)
    fr = sol["fractions"][0]
    cr, cw = sol["capacity"]
    reads, writes = sol["read_marginal"], sol["write_marginal"]
    read_load, write_load = fr * reads / cr, (1.0 - fr) * writes / cw
    return pd.DataFrame({
        "node": list(system.nodes),
        "read_probability": reads,
        "write_probability": writes,
        "read_load": read_load,
        "write_load": write_load,
        "load": read_load + write_load,
    })


# -- the linear program ---------------------------------------------------------------------
def _fractions(read_fraction):
    if isinstance(read_fraction, Mapping):
        if not read_fraction:
            raise ValueError("read_fraction distribution must have at least one entry; got {}")
        fr = [check_number("read_fraction key", k, low=0.0, high=1.0) for k in read_fraction]
        w = [check_number(f"read_fraction[{k!r}] weight", v, low=0.0)
             for k, v in read_fraction.items()]
        total = sum(w)
        if total <= 0:
            raise ValueError(f"read_fraction weights must not all be zero; got {read_fraction!r}")
        return np.array(fr), np.array(w) / total
    return np.array([check_number("read_fraction", read_fraction, low=0.0, high=1.0)]), np.ones(1)


def _capacities(system, node_capacity):
    n = system.n
    if node_capacity is None:
        return np.ones(n), np.ones(n)
    if isinstance(node_capacity, numbers.Real) and not isinstance(node_capacity, bool):
        c = check_number("node_capacity", node_capacity, low=0.0, low_open=True)
        return np.full(n, c), np.full(n, c)
    if not isinstance(node_capacity, Mapping):
        raise TypeError(f"node_capacity must be a number or a mapping node -> capacity; "
                        f"got {node_capacity!r}")
    unknown = [x for x in node_capacity if x not in system._index]
    if unknown:
        raise ValueError(f"node_capacity names unknown nodes {unknown!r}; nodes are "
                         f"{list(system.nodes)}")
    missing = [x for x in system.nodes if x not in node_capacity]
    if missing:
        raise ValueError(f"node_capacity must give every node a capacity; missing {missing!r}")
    cr, cw = np.empty(n), np.empty(n)
    for i, x in enumerate(system.nodes):
        v = node_capacity[x]
        if isinstance(v, (tuple, list)):
            if len(v) != 2:
                raise ValueError(f"node_capacity[{x!r}] must be a number or a (read, write) "
                                 f"pair; got {v!r}")
            cr[i] = check_number(f"node_capacity[{x!r}][0]", v[0], low=0.0, low_open=True)
            cw[i] = check_number(f"node_capacity[{x!r}][1]", v[1], low=0.0, low_open=True)
        else:
            cr[i] = cw[i] = check_number(f"node_capacity[{x!r}]", v, low=0.0, low_open=True)
    return cr, cw


def _solve(system, read_fraction, node_capacity):
    fr, weights = _fractions(read_fraction)
    cr, cw = _capacities(system, node_capacity)
    n, m = system.n, len(fr)
    a_r, b_r, up_r, m_r = system._reads.lp_block()
    a_w, b_w, up_w, m_w = system._writes.lp_block()
    vr, vw = a_r.shape[1], a_w.shape[1]
    # variables: [read strategy (vr) | write strategy (vw) | L_1..L_m]
    rows = []
    for i in range(m):
        # fr_i * (M_r v_r)/c_r + fw_i * (M_w v_w)/c_w - L_i <= 0, one row per node
        lhs_r = sparse.diags(fr[i] / cr) @ m_r
        lhs_w = sparse.diags((1.0 - fr[i]) / cw) @ m_w
        minus_l = sparse.csr_matrix((-np.ones(n), (np.arange(n), np.full(n, i))), shape=(n, m))
        rows.append(sparse.hstack([lhs_r, lhs_w, minus_l]))
    a_ub = sparse.vstack(rows).tocsr()
    a_eq = sparse.block_diag([a_r, a_w, sparse.csr_matrix((0, m))]).tocsr()
    b_eq = np.concatenate([b_r, b_w])
    bounds = ([(0.0, u) for u in up_r] + [(0.0, u) for u in up_w] + [(0.0, None)] * m)
    c = np.concatenate([np.zeros(vr + vw), weights])
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(n * m), A_eq=a_eq, b_eq=b_eq, bounds=bounds,
                  method="highs")
    if res.status != 0:  # pragma: no cover - the LP is always feasible and bounded
        raise RuntimeError(f"load LP failed: {res.message}")
    x = res.x
    return {
        "objective": float(res.fun),
        "fractions": fr,
        "capacity": (cr, cw),
        "read_marginal": np.asarray(m_r @ x[:vr]).ravel(),
        "write_marginal": np.asarray(m_w @ x[vr:vr + vw]).ravel(),
    }
