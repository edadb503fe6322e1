"""Phase-1 and phase-2 quorums as the kernels see them: two membership tests.

The kernels only ask "is this set of acceptors a phase-1 quorum?" (``is_read_quorum``)
and "... a phase-2 quorum?" (``is_write_quorum``), so any object with those two methods
serves -- in practice the systems of :mod:`dsalgo.quorum` (``majority``, ``flexible``,
``grid``), which map Flexible Paxos's phase-1 quorums to read quorums and phase-2 quorums
to write quorums (Howard, Malkhi & Spiegelman 2016, §3).  :class:`Quorums` pairs the
phase-1 side of one system with the phase-2 side of another.

Safety needs every phase-1 quorum to meet every phase-2 quorum ("Q1 ∩ Q2 ≠ ∅", FPaxos
§3).  When both sides come from one system, its ``is_valid()`` says so; for two systems
:func:`intersecting` checks it by enumeration.  Standard library only: the kernels may
import it.
"""

from __future__ import annotations

from itertools import combinations

__all__ = ["Quorums", "intersecting"]


class Quorums:
    """The pair the kernels use: phase 1 from ``read``, phase 2 from ``write``.

    ``read`` and ``write`` may be the same system (its read and write quorums).

    Examples
    --------
    >>> from dsalgo import quorum
    >>> q = Quorums(quorum.majority(3), quorum.flexible(3, q1=3, q2=1))
    >>> q.is_read_quorum({"n1", "n3"}), q.is_write_quorum({"n2"})
    (True, True)
    """

    __slots__ = ("is_read_quorum", "is_write_quorum", "read", "write")

    def __init__(self, read, write=None):
        write = read if write is None else write
        self.read = read
        self.write = write
        self.is_read_quorum = read.is_read_quorum
        self.is_write_quorum = write.is_write_quorum

    def __repr__(self):
        if self.read is self.write:
            return f"Quorums({self.read!r})"
        return f"Quorums(read={self.read!r}, write={self.write!r})"


def intersecting(quorums, nodes) -> bool:
    """Whether every phase-1 quorum of ``quorums`` shares a node with every phase-2 quorum.

    Quorum systems are monotone (a superset of a quorum is a quorum), so it is enough
    that no phase-2 quorum ``W`` leaves a phase-1 quorum among the nodes outside ``W``.
    Enumerates the ``2**n`` subsets of ``nodes``: meant for the small ``n`` of a simulation.

    Examples
    --------
    >>> from dsalgo import quorum
    >>> intersecting(Quorums(quorum.majority(4), quorum.flexible(4, 3, 2)), ["n1", "n2", "n3", "n4"])
    True
    >>> intersecting(Quorums(quorum.flexible(4, 2, 3), quorum.flexible(4, 3, 2)), ["n1", "n2", "n3", "n4"])
    False
    """
    nodes = list(nodes)
    everyone = frozenset(nodes)
    for k in range(len(nodes) + 1):
        for w in combinations(nodes, k):
            if quorums.is_write_quorum(frozenset(w)) and \
                    quorums.is_read_quorum(everyone.difference(w)):
                return False
    return True
