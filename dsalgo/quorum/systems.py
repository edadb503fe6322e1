"""Quorum systems as values: which sets may act, and whether they are safe together.

A *read-write quorum system* over nodes ``X`` is a pair ``(R, W)`` of families of subsets
of ``X`` such that every read quorum meets every write quorum (Whittaker et al., "Read-Write
Quorum Systems Made Practical", PaPoC 2021, §2; Naor and Wool, "The Load, Capacity, and
Availability of Quorum Systems", 1998, for the single-family case).  Any superset of a
quorum is a quorum, so ``is_read_quorum(S)`` asks whether ``S`` *contains* a read quorum.

Flexible Paxos (Howard, Malkhi and Spiegelman, 2016, §3) is the same object under other
names: **phase-1 quorums are the read quorums and phase-2 quorums are the write quorums**,
and the only requirement is that every Q1 meets every Q2 (two Q2s need not meet).  A
Byzantine system additionally requires every read and write quorum to share ``f + 1``
nodes, so that the overlap contains a correct node; :class:`QuorumSystem` carries that
as ``overlap``.

The constructors build counting and grid systems from structure, so nothing here lists
the ``C(1001, 501)`` majorities of a 1001-node cluster; availability, load and resilience
are computed from the structure (see :mod:`dsalgo.quorum.reliability` and
:mod:`dsalgo.quorum.lp`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .._validate import check_bool, check_int
from . import _families as fam

__all__ = ["QuorumSystem", "Validity"]


@dataclass(frozen=True)
class Validity:
    """Whether every read quorum meets every write quorum in at least ``overlap`` nodes.

    Truthy when the system is valid.  When it is not, ``read_quorum`` and ``write_quorum``
    are a pair that shares fewer than ``overlap`` nodes (``pair`` gives both).

    Examples
    --------
    >>> from dsalgo.quorum import threshold
    >>> v = threshold(5, read=2, write=3, unsafe=True).is_valid()
    >>> bool(v), sorted(v.read_quorum), sorted(v.write_quorum)
    (False, ['n1', 'n2'], ['n3', 'n4', 'n5'])
    """

    ok: bool
    read_quorum: frozenset | None = None
    write_quorum: frozenset | None = None
    overlap: int = 1

    def __bool__(self) -> bool:
        return self.ok

    @property
    def pair(self):
        """``(read_quorum, write_quorum)`` that fail to overlap, or ``None`` when valid."""
        return None if self.ok else (self.read_quorum, self.write_quorum)

    def __str__(self) -> str:
        if self.ok:
            need = "meets" if self.overlap == 1 else f"shares at least {self.overlap} nodes with"
            return f"valid: every read quorum {need} every write quorum"
        shared = len(self.read_quorum & self.write_quorum)
        return (f"invalid: read quorum {_fmt(self.read_quorum)} and write quorum "
                f"{_fmt(self.write_quorum)} share {shared} node(s); {self.overlap} required")


def _fmt(names) -> str:
    return "{" + ", ".join(map(str, sorted(names, key=_natural))) + "}"


def _natural(name):
    """Sort n2 before n10."""
    s = str(name)
    head = s.rstrip("0123456789")
    tail = s[len(head):]
    return (head, int(tail) if tail else -1, s)


class QuorumSystem:
    """A read-write quorum system.

    Parameters
    ----------
    reads, writes : iterable of iterables of node ids, optional
        The read and write quorums.  Give one or both; a missing family is filled with
        the smallest sets that meet every quorum of the other (the optimal complement,
        as quoracle does), which needs at most 20 nodes.
    nodes : iterable of node ids, optional
        All nodes (default: the union of the quorums, in natural order ``n1, n2, …, n10``).
    unsafe : bool
        Build the system even if some read and write quorum do not meet; by default that
        raises ``ValueError`` naming the pair.  ``is_valid()`` then reports the pair.

    Examples
    --------
    >>> qs = QuorumSystem(reads=[["a", "b", "c"], ["d", "e", "f"]])
    >>> qs.nodes
    ('a', 'b', 'c', 'd', 'e', 'f')
    >>> qs.is_write_quorum({"a", "e"}), qs.is_write_quorum({"a", "b"})
    (True, False)
    >>> qs.resilience(), round(qs.load(0.25), 6)
    (1, 0.375)
    """

    def __init__(self, reads=None, writes=None, *, nodes=None, unsafe: bool = False):
        check_bool("unsafe", unsafe)
        if reads is None and writes is None:
            raise TypeError("QuorumSystem needs reads=, writes= or both; got neither")
        read_sets = None if reads is None else _quorum_list("reads", reads)
        write_sets = None if writes is None else _quorum_list("writes", writes)
        given = set().union(*(read_sets or []), *(write_sets or []))
        if nodes is None:
            node_ids = tuple(sorted(given, key=_natural))
        else:
            node_ids = _names("nodes", nodes, None)
            unknown = given - set(node_ids)
            if unknown:
                raise ValueError(f"quorums name unknown nodes {_fmt(unknown)}; nodes are "
                                 f"{_fmt(node_ids)}")
        index = {x: i for i, x in enumerate(node_ids)}
        n = len(node_ids)
        r = None if read_sets is None else fam.Explicit(n, [frozenset(index[x] for x in q)
                                                            for q in read_sets])
        w = None if write_sets is None else fam.Explicit(n, [frozenset(index[x] for x in q)
                                                             for q in write_sets])
        if r is None:
            r = _complement_family(w, n, "reads")
        if w is None:
            w = _complement_family(r, n, "writes")
        self._init(node_ids, r, w, kind="explicit", overlap=1, params={}, unsafe=unsafe)

    # -- construction helpers -------------------------------------------------------------
    @classmethod
    def _build(cls, nodes, reads, writes, *, kind, params, overlap=1, unsafe=False):
        self = cls.__new__(cls)
        self._init(tuple(nodes), reads, writes, kind=kind, overlap=overlap, params=params,
                   unsafe=unsafe)
        return self

    def _init(self, nodes, reads, writes, *, kind, overlap, params, unsafe):
        self._nodes = nodes
        self._index = {x: i for i, x in enumerate(nodes)}
        self._reads, self._writes = reads, writes
        self.kind = kind
        self.overlap = overlap
        self.params = dict(params)
        if not unsafe:
            v = self.is_valid()
            if not v:
                raise ValueError(f"not a quorum system: {v}; pass unsafe=True to build it "
                                 "anyway and study it")

    @property
    def nodes(self) -> tuple:
        """The node ids, in order."""
        return self._nodes

    @property
    def n(self) -> int:
        """The number of nodes."""
        return len(self._nodes)

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return (f"<QuorumSystem {self.kind}({extra}): reads = {self._reads!r}, "
                f"writes = {self._writes!r} over {self.n} nodes>")

    # -- membership ------------------------------------------------------------------------
    def _members(self, ids) -> frozenset:
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
            raise TypeError(f"ids must be an iterable of node ids (a set, list or tuple); "
                            f"got {ids!r}")
        # ids that are not nodes of this system are ignored: a superset of a quorum is
        # still a quorum, and callers may pass every responder they heard from.
        return frozenset(self._index[x] for x in ids if x in self._index)

    def is_read_quorum(self, ids) -> bool:
        """Whether ``ids`` contains some read quorum (Flexible Paxos: a phase-1 quorum).

        Examples
        --------
        >>> from dsalgo.quorum import majority
        >>> majority(5).is_read_quorum(["n1", "n2", "n3"]), majority(5).is_read_quorum({"n1"})
        (True, False)
        """
        return self._reads.contains(self._members(ids))

    def is_write_quorum(self, ids) -> bool:
        """Whether ``ids`` contains some write quorum (Flexible Paxos: a phase-2 quorum).

        Examples
        --------
        >>> from dsalgo.quorum import flexible
        >>> flexible(6, q1=5, q2=2).is_write_quorum({"n4", "n6"})
        True
        """
        return self._writes.contains(self._members(ids))

    is_phase1_quorum = is_read_quorum
    is_phase2_quorum = is_write_quorum

    def read_quorums(self, limit: int = 100_000) -> list:
        """The minimal read quorums as frozensets of node ids.

        Raises ``ValueError`` when there are more than ``limit`` of them (a counting
        system over many nodes), rather than listing them.

        Examples
        --------
        >>> from dsalgo.quorum import grid
        >>> [sorted(q) for q in grid(2, 2).read_quorums()]
        [['n1', 'n2'], ['n3', 'n4']]
        """
        return self._list(self._reads, "read", limit)

    def write_quorums(self, limit: int = 100_000) -> list:
        """The minimal write quorums as frozensets of node ids (see :meth:`read_quorums`).

        Examples
        --------
        >>> from dsalgo.quorum import grid
        >>> [sorted(q) for q in grid(2, 2).write_quorums()]
        [['n1', 'n3'], ['n1', 'n4'], ['n2', 'n3'], ['n2', 'n4']]
        """
        return self._list(self._writes, "write", limit)

    def _list(self, family, what, limit):
        limit = check_int("limit", limit, low=1)
        if family.count() > limit:
            raise ValueError(f"this system has {family.count()} {what} quorums, more than "
                             f"limit={limit}; raise limit to list them")
        return [frozenset(self._nodes[i] for i in q) for q in family.quorums()]

    # -- safety ----------------------------------------------------------------------------
    def is_valid(self) -> Validity:
        """Whether every read quorum meets every write quorum (in ``overlap`` nodes).

        Returns a :class:`Validity`, truthy when valid and carrying an offending pair
        when not.  Counting systems are decided by arithmetic; otherwise the smaller
        family is listed and, for each of its quorums, the other family's least-overlapping
        quorum is constructed directly.

        Examples
        --------
        >>> from dsalgo.quorum import majority, flexible
        >>> bool(majority(4).is_valid())
        True
        >>> print(flexible(5, q1=2, q2=3, unsafe=True).is_valid())
        invalid: read quorum {n1, n2} and write quorum {n3, n4, n5} share 0 node(s); 1 required
        """
        r, w, n = self._reads, self._writes, self.n
        if isinstance(r, fam.Threshold) and isinstance(w, fam.Threshold):
            # Two sets of sizes r and w among n nodes must share r + w - n nodes, and can
            # be chosen to share no more: the first r and the last w.
            if r.k + w.k - n >= self.overlap:
                return Validity(True, overlap=self.overlap)
            rq = frozenset(range(r.k))
            wq = frozenset(range(n - w.k, n))
            if len(rq & wq) < self.overlap:
                return self._invalid(rq, wq)
        if r.count() <= w.count():
            for q in r.quorums():
                shared, other = w.min_overlap(q)
                if shared < self.overlap:
                    return self._invalid(q, other)
        else:
            for q in w.quorums():
                shared, other = r.min_overlap(q)
                if shared < self.overlap:
                    return self._invalid(other, q)
        return Validity(True, overlap=self.overlap)

    def _invalid(self, rq, wq):
        name = self._nodes.__getitem__
        return Validity(False, frozenset(map(name, rq)), frozenset(map(name, wq)), self.overlap)

    def read_resilience(self) -> int:
        """The largest f such that any f failures leave some read quorum alive.

        Examples
        --------
        >>> from dsalgo.quorum import grid
        >>> grid(2, 3).read_resilience(), grid(2, 3).write_resilience()
        (1, 2)
        """
        return self._reads.transversal() - 1

    def write_resilience(self) -> int:
        """The largest f such that any f failures leave some write quorum alive.

        Examples
        --------
        >>> from dsalgo.quorum import flexible
        >>> flexible(5, q1=4, q2=2).write_resilience()
        3
        """
        return self._writes.transversal() - 1

    def resilience(self) -> int:
        """The largest f such that after *any* f failures some read quorum and some write
        quorum are both still fully alive: the lesser of the two resiliences.

        Examples
        --------
        >>> from dsalgo.quorum import majority, grid
        >>> majority(5).resilience(), majority(4).resilience(), grid(3, 3).resilience()
        (2, 1, 2)
        """
        return min(self.read_resilience(), self.write_resilience())

    # -- metrics (implemented in sibling modules) -------------------------------------------
    def availability(self, p, op: str = "both", groups=None):
        """Probability that a quorum of kind ``op`` is fully alive; see
        :func:`dsalgo.quorum.reliability.availability`.

        Examples
        --------
        >>> from dsalgo.quorum import majority
        >>> round(majority(5).availability(0.05), 8)
        0.99884187
        """
        from .reliability import availability
        return availability(self, p, op=op, groups=groups)

    def unavailability(self, p, op: str = "both", groups=None):
        """``1 - availability``, computed without cancellation (for "how many nines").

        Examples
        --------
        >>> from dsalgo.quorum import majority
        >>> u = majority(5).unavailability(0.001)   # 10 p^3 (1-p)^2 + 5 p^4 (1-p) + p^5
        >>> abs(u - 9.985006e-09) < 1e-20
        True
        """
        from .reliability import unavailability
        return unavailability(self, p, op=op, groups=groups)

    def monte_carlo_availability(self, p, op: str = "both", groups=None, *,
                                 samples: int = 100_000, seed: int = 0,
                                 confidence: float = 0.99):
        """Monte Carlo estimate of :meth:`availability` with a Wilson interval; see
        :func:`dsalgo.quorum.montecarlo.monte_carlo_availability`.

        Examples
        --------
        >>> from dsalgo.quorum import majority
        >>> est = majority(5).monte_carlo_availability(0.2, samples=20_000, seed=1)
        >>> est.low <= majority(5).availability(0.2) <= est.high
        True
        """
        from .montecarlo import monte_carlo_availability
        return monte_carlo_availability(self, p, op=op, groups=groups, samples=samples,
                                        seed=seed, confidence=confidence)

    def load(self, read_fraction, node_capacity=None) -> float:
        """The Naor–Wool load of the optimal strategy; see :func:`dsalgo.quorum.lp.load`.

        Examples
        --------
        >>> from dsalgo.quorum import majority, grid
        >>> round(majority(5).load(0.5), 6), round(grid(3, 3).load(0.9), 6)
        (0.6, 0.333333)
        """
        from .lp import load
        return load(self, read_fraction, node_capacity=node_capacity)

    def capacity(self, read_fraction, node_capacity=None) -> float:
        """The throughput of the optimal strategy, ``1 / load``; see
        :func:`dsalgo.quorum.lp.capacity`.

        Examples
        --------
        >>> from dsalgo.quorum import grid
        >>> round(grid(2, 3).capacity(0.25), 6)
        2.666667
        """
        from .lp import capacity
        return capacity(self, read_fraction, node_capacity=node_capacity)

    def node_loads(self, read_fraction, node_capacity=None):
        """Per-node load under the optimal strategy; see :func:`dsalgo.quorum.lp.node_loads`.

        Examples
        --------
        >>> from dsalgo.quorum import majority
        >>> majority(3).node_loads(1.0)["load"].round(6).tolist()
        [0.666667, 0.666667, 0.666667]
        """
        from .lp import node_loads
        return node_loads(self, read_fraction, node_capacity=node_capacity)

    def latency(self, response_time, op: str = "read", q=None, *, samples: int = 100_000,
                seed: int = 0):
        """Time until a whole quorum has answered; see :func:`dsalgo.quorum.order_stats.latency`.

        Examples
        --------
        >>> from dsalgo.quorum import majority
        >>> from scipy import stats
        >>> round(majority(3).latency(stats.expon(scale=0.01), q=0.5), 5)
        0.00693
        """
        from .order_stats import latency
        return latency(self, response_time, op=op, q=q, samples=samples, seed=seed)


# -- input checks --------------------------------------------------------------------------
def _quorum_list(name, quorums) -> list:
    if isinstance(quorums, (str, bytes)) or not isinstance(quorums, Iterable):
        raise TypeError(f"{name} must be an iterable of quorums (each an iterable of node "
                        f"ids); got {quorums!r}")
    out = []
    for i, q in enumerate(quorums):
        if isinstance(q, (str, bytes)) or not isinstance(q, Iterable):
            raise TypeError(f"{name}[{i}] must be an iterable of node ids; got {q!r}")
        q = frozenset(q)
        if not q:
            raise ValueError(f"{name}[{i}] is an empty quorum; every quorum needs a node")
        out.append(q)
    if not out:
        raise ValueError(f"{name} must list at least one quorum; got none")
    return out


def _names(name, names, n):
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise TypeError(f"{name} must be a sequence of node ids; got {names!r}")
    names = tuple(names)
    if n is not None and len(names) != n:
        raise ValueError(f"{name} must have {n} node ids; got {len(names)}: {names!r}")
    if len(set(names)) != len(names):
        dup = sorted({x for x in names if names.count(x) > 1}, key=_natural)
        raise ValueError(f"{name} must be distinct; got duplicates {dup!r}")
    if not names:
        raise ValueError(f"{name} must name at least one node; got none")
    return names


def _complement_family(family, n, what):
    """The minimal sets that meet every quorum of ``family`` (its blocker)."""
    if n > fam.MAX_ENUMERATED_NODES:
        raise ValueError(f"deriving {what} needs at most {fam.MAX_ENUMERATED_NODES} nodes; "
                         f"got {n}; give {what}= explicitly")
    states = fam.all_states(n)
    # a set meets every quorum iff its complement contains no quorum
    meets = ~family.alive_mask(~states)
    bits = np.arange(2 ** n)[meets]
    minimal = [b for b in bits if not any(meets[b & ~(1 << i)] for i in range(n) if b >> i & 1)]
    return fam.Explicit(n, [frozenset(i for i in range(n) if b >> i & 1) for b in minimal])
