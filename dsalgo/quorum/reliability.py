"""Exact availability: the probability that a whole quorum is alive.

Nodes fail independently, node ``i`` with probability ``p_i`` (the fraction of time it is
down).  A quorum *of kind op* is available when some read quorum (``"read"``), some
write quorum (``"write"``), or some read quorum *and* some write quorum at once
(``"both"``) are fully alive.

How each case is computed, exactly and without listing subsets of large systems:

* **Counting systems** (majority, threshold, flexible, Byzantine): the number of live
  nodes ``K`` decides everything, and a quorum of size ``k`` is alive iff ``K >= k``.  With
  one ``p`` for all nodes ``K ~ Binomial(n, 1 - p)``, so availability is the binomial tail
  ``sum_{j>=k} C(n, j) (1-p)^j p^(n-j)`` (``scipy.stats.binom.sf``, accurate for
  ``n = 1001``); with per-node ``p_i``, ``K`` is Poisson-binomial and its distribution is
  built by the ``O(n^2)`` convolution recurrence.  ``"both"`` needs ``K >= max(r, w)``.
* **Grids**: rows fail independently.  Some row fully alive has probability
  ``1 - prod_rows (1 - prod_{i in row} (1 - p_i))``; every row keeping a live node has
  ``prod_rows (1 - prod_{i in row} p_i)``; both at once is the second minus the
  probability that every row is partly but not fully alive.
* **Anything else** (explicit systems up to 20 nodes): the reliability polynomial.  Listing
  all ``2^n`` alive patterns once gives the count ``c_j`` of available patterns with ``j``
  live nodes, and availability is ``sum_j c_j (1-p)^j p^(n-j)`` for every ``p`` at once;
  with per-node ``p_i`` each pattern is weighted by its own probability.

**Correlated failures**: ``groups`` maps a name to ``(nodes, q)``; each group (a rack or an
availability zone) fails as a whole with probability ``q``, independently of the other
groups and of the nodes' own failures.  Conditioning on which groups are down (at most
``2^16`` combinations) reduces this to the independent case with the nodes of failed
groups certainly down.

``unavailability`` is computed as its own sum of positive terms rather than as
``1 - availability``, so "nines" stay accurate far past double precision's ``1 - 1e-16``.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable, Mapping

import numpy as np
from scipy import stats

from .._validate import check_choice, check_probability
from . import _families as fam

__all__ = ["OPS", "availability", "unavailability"]

OPS = ("read", "write", "both")
MAX_GROUPS = 16


def availability(system, p, op: str = "both", groups=None):
    """Probability that a quorum of kind ``op`` is fully alive.

    Parameters
    ----------
    system : QuorumSystem
    p : float, array_like of float, or mapping node -> float
        Each node's independent probability of being down, in ``[0, 1]``.  An array gives
        one result per value (a curve); a mapping gives each node its own probability and
        must name every node.
    op : {"read", "write", "both"}
        Which quorum must be alive; ``"both"`` asks for a read and a write quorum at once.
    groups : mapping name -> (iterable of node ids, float), optional
        Correlated failures: each group fails as a whole with its own probability.

    Returns
    -------
    float or ndarray
        An array with the shape of ``p`` when ``p`` is an array.

    Examples
    --------
    >>> from dsalgo.quorum import majority, grid
    >>> from scipy.stats import binom
    >>> a = majority(5).availability(0.05)
    >>> bool(abs(a - sum(binom.pmf(j, 5, 0.95) for j in (3, 4, 5))) < 1e-15)
    True
    >>> majority(3).availability([0.0, 0.5, 1.0]).tolist()
    [1.0, 0.5, 0.0]
    >>> zones = {"az1": (["n1", "n2"], 0.01), "az2": (["n3", "n4"], 0.01), "az3": (["n5"], 0.01)}
    >>> round(majority(5).availability(0.0, groups=zones), 6)
    0.999702
    """
    return _compute(system, p, op, groups)[0]


def unavailability(system, p, op: str = "both", groups=None):
    """Probability that no quorum of kind ``op`` is fully alive, ``1 - availability``,
    summed directly so that tiny values keep their precision.

    Parameters are those of :func:`availability`.

    Examples
    --------
    >>> from dsalgo.quorum import majority
    >>> u = majority(1001).unavailability(0.3)
    >>> 0 < u < 1e-30
    True
    """
    return _compute(system, p, op, groups)[1]


# -- input parsing (shared with montecarlo) ---------------------------------------------------
def parse_p(system, p):
    """``("scalar", float)``, ``("array", ndarray)`` or ``("nodes", ndarray over nodes)``."""
    if isinstance(p, Mapping):
        known = set(system.nodes)
        unknown = [x for x in p if x not in known]
        if unknown:
            raise ValueError(f"p names unknown nodes {unknown!r}; nodes are {list(system.nodes)}")
        missing = [x for x in system.nodes if x not in p]
        if missing:
            raise ValueError(f"p must give a probability for every node; missing {missing!r}")
        return "nodes", np.array([check_probability(f"p[{x!r}]", p[x]) for x in system.nodes])
    if isinstance(p, numbers.Real) and not isinstance(p, bool):
        return "scalar", check_probability("p", p)
    if isinstance(p, (str, bytes, bool)) or not (isinstance(p, Iterable) or hasattr(p, "__array__")):
        raise TypeError(f"p must be a probability, an array of probabilities or a mapping "
                        f"node -> probability; got {p!r}")
    arr = np.asarray(p)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"p must contain numbers; got an array of dtype {arr.dtype}")
    arr = arr.astype(float)
    bad = ~((arr >= 0) & (arr <= 1))
    if bad.any():
        raise ValueError(f"p must contain probabilities in [0, 1]; got {arr[bad].flat[0]!r}")
    return "array", arr


def parse_groups(system, groups):
    """A list of ``(node index array, q)``; checks names and probabilities."""
    if groups is None:
        return []
    if not isinstance(groups, Mapping):
        raise TypeError(f"groups must be a mapping name -> (nodes, probability); got {groups!r}")
    if len(groups) > MAX_GROUPS:
        raise ValueError(f"groups must have at most {MAX_GROUPS} entries; got {len(groups)}")
    out = []
    for name, spec in groups.items():
        if not (isinstance(spec, (tuple, list)) and len(spec) == 2):
            raise TypeError(f"groups[{name!r}] must be a (nodes, probability) pair; got {spec!r}")
        members, q = spec
        if isinstance(members, (str, bytes)) or not isinstance(members, Iterable):
            raise TypeError(f"groups[{name!r}] nodes must be an iterable of node ids; "
                            f"got {members!r}")
        members = list(members)
        unknown = [x for x in members if x not in system._index]
        if unknown:
            raise ValueError(f"groups[{name!r}] names unknown nodes {unknown!r}; nodes are "
                             f"{list(system.nodes)}")
        if not members:
            raise ValueError(f"groups[{name!r}] must contain at least one node; got none")
        q = check_probability(f"groups[{name!r}] probability", q)
        out.append((np.array(sorted(system._index[x] for x in members)), q))
    return out


# -- computation --------------------------------------------------------------------------
def _compute(system, p, op, groups):
    check_choice("op", op, OPS)
    kind, values = parse_p(system, p)
    parsed = parse_groups(system, groups)
    if kind == "array":
        flat = values.ravel()
        if parsed:
            pairs = [_with_groups(system, np.full(system.n, v), op, parsed) for v in flat]
            a, u = (np.array([x[i] for x in pairs]) for i in (0, 1))
        else:
            a, u = _homogeneous(system, flat, op)
        return a.reshape(values.shape), u.reshape(values.shape)
    vec = np.full(system.n, values) if kind == "scalar" else values
    if parsed:
        return _with_groups(system, vec, op, parsed)
    if kind == "scalar":
        a, u = _homogeneous(system, np.array([values]), op)
        return float(a[0]), float(u[0])
    return _heterogeneous(system, vec, op)


def _with_groups(system, vec, op, parsed):
    a_total = u_total = 0.0
    for down in itertools.product((False, True), repeat=len(parsed)):
        weight = math.prod(q if d else 1.0 - q for d, (_, q) in zip(down, parsed))
        if weight == 0.0:
            continue
        p_now = vec.copy()
        for d, (members, _) in zip(down, parsed):
            if d:
                p_now[members] = 1.0
        a, u = _heterogeneous(system, p_now, op)
        a_total += weight * a
        u_total += weight * u
    return a_total, u_total


def _threshold_k(system, op):
    r, w = system._reads, system._writes
    if isinstance(r, fam.Threshold) and isinstance(w, fam.Threshold):
        return {"read": r.k, "write": w.k, "both": max(r.k, w.k)}[op]
    return None


def _is_grid(system):
    return isinstance(system._reads, fam.Rows) and isinstance(system._writes, fam.OnePerRow)


def _homogeneous(system, p, op):
    """Arrays ``(availability, unavailability)`` for each entry of the 1-d array ``p``."""
    n = system.n
    k = _threshold_k(system, op)
    if k is not None:
        alive = 1.0 - p
        return stats.binom.sf(k - 1, n, alive), stats.binom.cdf(k - 1, n, alive)
    if _is_grid(system):
        pairs = [_heterogeneous(system, np.full(n, v), op) for v in p]
        return np.array([x[0] for x in pairs]), np.array([x[1] for x in pairs])
    counts = _pattern_counts(system, op)           # c_j: available patterns with j alive
    total = np.array([math.comb(n, j) for j in range(n + 1)], dtype=float)
    j = np.arange(n + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.power.outer(1.0 - p, j) * np.power.outer(p, n - j)
    return terms @ counts, terms @ (total - counts)


def _heterogeneous(system, p_vec, op):
    """``(availability, unavailability)`` floats for per-node probabilities ``p_vec``."""
    k = _threshold_k(system, op)
    if k is not None:
        pmf = _poisson_binomial(1.0 - p_vec)
        return float(pmf[k:].sum()), float(pmf[:k].sum())
    if _is_grid(system):
        return _grid(system, p_vec, op)
    mask = _available_patterns(system, op)
    probs = np.ones(1)
    for pi in p_vec:             # bit i of the pattern index set <=> node i alive
        probs = np.concatenate([probs * pi, probs * (1.0 - pi)])
    return float(probs[mask].sum()), float(probs[~mask].sum())


def _poisson_binomial(alive):
    """pmf of the number of live nodes when node i is alive with probability alive[i]."""
    pmf = np.zeros(len(alive) + 1)
    pmf[0] = 1.0
    for i, a in enumerate(alive):
        pmf[1:i + 2] = pmf[1:i + 2] * (1.0 - a) + pmf[:i + 1] * a
        pmf[0] *= 1.0 - a
    return pmf


def _grid(system, p_vec, op):
    rows = system._reads.rows
    all_down = np.array([np.prod(p_vec[list(r)]) for r in rows])
    all_up = np.array([np.prod(1.0 - p_vec[list(r)]) for r in rows])
    some_row_up_u = float(np.prod(1.0 - all_up))                 # no row fully alive
    every_row_a = float(np.prod(1.0 - all_down))                  # every row has a live node
    with np.errstate(divide="ignore"):   # a row certainly down gives log(0) = -inf: fine
        every_row_u = float(-np.expm1(np.sum(np.log1p(-np.minimum(all_down, 1.0)))))
    if op == "read":
        return 1.0 - some_row_up_u, some_row_up_u
    if op == "write":
        return every_row_a, every_row_u
    partial = float(np.prod(np.clip(1.0 - all_down - all_up, 0.0, 1.0)))
    return every_row_a - partial, every_row_u + partial


def _available_patterns(system, op):
    cache = system.__dict__.setdefault("_pattern_cache", {})
    if op not in cache:
        n = system.n
        if n > fam.MAX_ENUMERATED_NODES:
            raise ValueError(f"exact availability of this {system.kind} system needs listing "
                             f"2**{n} patterns (at most {fam.MAX_ENUMERATED_NODES} nodes); "
                             "use monte_carlo_availability instead")
        states = fam.all_states(n)
        if op == "read":
            mask = system._reads.alive_mask(states)
        elif op == "write":
            mask = system._writes.alive_mask(states)
        else:
            mask = system._reads.alive_mask(states) & system._writes.alive_mask(states)
        cache[op] = mask
    return cache[op]


def _pattern_counts(system, op):
    mask = _available_patterns(system, op)
    n = system.n
    alive_counts = np.bitwise_count(np.arange(2 ** n, dtype=np.uint64)) if hasattr(
        np, "bitwise_count") else fam.all_states(n).sum(axis=1)
    return np.bincount(alive_counts[mask].astype(np.int64), minlength=n + 1).astype(float)
