"""Families of quorums over node indices ``0..n-1``: the building blocks of a system.

A quorum system is a pair of families (reads, writes).  Each family answers the same
questions in the way that suits its structure, so that counting systems never enumerate
subsets:

* :class:`Threshold` -- every set of ``k`` of the ``n`` nodes (majority, Flexible Paxos,
  Byzantine quorums);
* :class:`Rows` -- each row of a grid (the grid's read quorums);
* :class:`OnePerRow` -- one node from every row (the grid's write quorums);
* :class:`Explicit` -- a listed collection of sets.

Every family offers: membership of one set (``contains``), membership of many alive
patterns at once (``alive_mask``, vectorised for Monte Carlo and enumeration), the time at
which a quorum has all answered (``first_time``), the fewest failures that leave no quorum
(``transversal``), the least overlap with a given set (``min_overlap``), and a polytope of
per-node access probabilities for the load linear program (``lp_block``).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import sparse

__all__ = ["MAX_ENUMERATED_NODES", "Explicit", "Family", "OnePerRow", "Rows", "Threshold"]

#: Exhaustive enumeration of the 2**n alive/dead patterns is allowed up to this many nodes.
MAX_ENUMERATED_NODES = 20


class Family:
    """Abstract family of quorums over ``n`` nodes (indices ``0..n-1``)."""

    n: int

    def contains(self, members: frozenset) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def alive_mask(self, alive: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """``alive`` is a bool array ``(samples, n)``; True where some quorum is all alive."""
        raise NotImplementedError

    def first_time(self, times: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """``times`` is ``(samples, n)`` response times; when the first quorum has all answered."""
        raise NotImplementedError

    def count(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def quorums(self):  # pragma: no cover - abstract
        """Iterate the minimal quorums as frozensets of indices."""
        raise NotImplementedError

    def transversal(self) -> int:  # pragma: no cover - abstract
        """The fewest nodes whose failure leaves no quorum of this family alive."""
        raise NotImplementedError

    def min_overlap(self, other: frozenset) -> tuple[int, frozenset]:  # pragma: no cover
        """The least ``|q & other|`` over quorums ``q`` of this family, with such a ``q``."""
        raise NotImplementedError

    def lp_block(self):  # pragma: no cover - abstract
        """``(A_eq, b_eq, upper, M)``: variables ``v`` with ``A_eq v = b_eq``,
        ``0 <= v <= upper``, and ``M @ v`` the probability that each node is in the chosen
        quorum.  The set of such ``M @ v`` is exactly the convex hull of the quorums'
        indicator vectors, so optimising over it is optimising over all strategies."""
        raise NotImplementedError


class Threshold(Family):
    """Any ``k`` of the ``n`` nodes."""

    def __init__(self, n: int, k: int):
        self.n, self.k = n, k

    def contains(self, members):
        return len(members) >= self.k

    def alive_mask(self, alive):
        return alive.sum(axis=1) >= self.k

    def first_time(self, times):
        # the k-th smallest response time: the k-th order statistic
        return np.partition(times, self.k - 1, axis=1)[:, self.k - 1]

    def count(self):
        return math.comb(self.n, self.k)

    def quorums(self):
        return (frozenset(c) for c in itertools.combinations(range(self.n), self.k))

    def transversal(self):
        return self.n - self.k + 1

    def min_overlap(self, other):
        outside = [i for i in range(self.n) if i not in other]
        inside = sorted(other)
        pick = (outside + inside)[: self.k]
        return max(0, self.k - len(outside)), frozenset(pick)

    def lp_block(self):
        # The hypersimplex {0 <= x <= 1, sum x = k} is the convex hull of the k-subsets.
        a_eq = sparse.csr_matrix(np.ones((1, self.n)))
        return a_eq, np.array([float(self.k)]), np.ones(self.n), sparse.identity(self.n, format="csr")

    def __repr__(self):
        return f"any {self.k} of {self.n}"


class Rows(Family):
    """Each row (a tuple of node indices; rows are disjoint) is a quorum."""

    def __init__(self, n: int, rows):
        self.n, self.rows = n, [tuple(r) for r in rows]

    def contains(self, members):
        return any(all(i in members for i in row) for row in self.rows)

    def alive_mask(self, alive):
        return np.any([alive[:, list(r)].all(axis=1) for r in self.rows], axis=0)

    def first_time(self, times):
        return np.min([times[:, list(r)].max(axis=1) for r in self.rows], axis=0)

    def count(self):
        return len(self.rows)

    def quorums(self):
        return (frozenset(r) for r in self.rows)

    def transversal(self):
        return len(self.rows)  # one failure in every (disjoint) row

    def min_overlap(self, other):
        best = min(self.rows, key=lambda r: sum(i in other for i in r))
        return sum(i in other for i in best), frozenset(best)

    def lp_block(self):
        m = np.zeros((self.n, len(self.rows)))
        for j, row in enumerate(self.rows):
            m[list(row), j] = 1.0
        a_eq = sparse.csr_matrix(np.ones((1, len(self.rows))))
        return a_eq, np.array([1.0]), np.ones(len(self.rows)), sparse.csr_matrix(m)

    def __repr__(self):
        return f"{len(self.rows)} rows"


class OnePerRow(Family):
    """One node from every row is a quorum (the grid's write quorums)."""

    def __init__(self, n: int, rows):
        self.n, self.rows = n, [tuple(r) for r in rows]

    def contains(self, members):
        return all(any(i in members for i in row) for row in self.rows)

    def alive_mask(self, alive):
        return np.all([alive[:, list(r)].any(axis=1) for r in self.rows], axis=0)

    def first_time(self, times):
        return np.max([times[:, list(r)].min(axis=1) for r in self.rows], axis=0)

    def count(self):
        return math.prod(len(r) for r in self.rows)

    def quorums(self):
        return (frozenset(c) for c in itertools.product(*self.rows))

    def transversal(self):
        return min(len(r) for r in self.rows)  # a whole row down leaves no write quorum

    def min_overlap(self, other):
        pick = [next((i for i in row if i not in other), row[0]) for row in self.rows]
        return sum(i in other for i in pick), frozenset(pick)

    def lp_block(self):
        # A product of simplices (one per row) is the hull of the one-per-row choices.
        a_eq = np.zeros((len(self.rows), self.n))
        for j, row in enumerate(self.rows):
            a_eq[j, list(row)] = 1.0
        return (sparse.csr_matrix(a_eq), np.ones(len(self.rows)), np.ones(self.n),
                sparse.identity(self.n, format="csr"))

    def __repr__(self):
        return f"one node from each of {len(self.rows)} rows"


class Explicit(Family):
    """A listed collection of quorums (frozensets of indices)."""

    def __init__(self, n: int, quorums):
        self.n = n
        uniq = sorted(set(quorums), key=lambda q: (len(q), sorted(q)))
        self.sets = uniq
        self._incidence = np.zeros((len(uniq), n), dtype=np.int32)
        for j, q in enumerate(uniq):
            self._incidence[j, list(q)] = 1
        self._sizes = self._incidence.sum(axis=1)
        self._transversal = None

    def contains(self, members):
        return any(q <= members for q in self.sets)

    def alive_mask(self, alive):
        out = np.zeros(alive.shape[0], dtype=bool)
        step = max(1, 2_000_000 // max(1, len(self.sets)))
        for s in range(0, alive.shape[0], step):
            hits = alive[s:s + step].astype(np.int32) @ self._incidence.T
            out[s:s + step] = (hits == self._sizes).any(axis=1)
        return out

    def first_time(self, times):
        return np.min([times[:, sorted(q)].max(axis=1) for q in self.sets], axis=0)

    def count(self):
        return len(self.sets)

    def quorums(self):
        return iter(self.sets)

    def transversal(self):
        if self._transversal is None:
            # Smallest hitting set, by trying sizes in increasing order (NP-hard in general;
            # fine for the few dozen nodes explicit systems have).
            universe = sorted(set().union(*self.sets))
            for size in range(1, len(universe) + 1):
                for cut in itertools.combinations(universe, size):
                    cs = set(cut)
                    if all(q & cs for q in self.sets):
                        self._transversal = size
                        return size
        return self._transversal

    def min_overlap(self, other):
        best = min(self.sets, key=lambda q: len(q & other))
        return len(best & other), best

    def lp_block(self):
        a_eq = sparse.csr_matrix(np.ones((1, len(self.sets))))
        return (a_eq, np.array([1.0]), np.ones(len(self.sets)),
                sparse.csr_matrix(self._incidence.T.astype(float)))

    def __repr__(self):
        return f"{len(self.sets)} listed quorums"


def all_states(n: int) -> np.ndarray:
    """Every alive/dead pattern of ``n`` nodes as a bool array ``(2**n, n)``; bit i = node i."""
    states = np.arange(2 ** n, dtype=np.int64)
    return ((states[:, None] >> np.arange(n)) & 1).astype(bool)
