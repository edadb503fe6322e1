"""Phase-1 and phase-2 quorums as the kernels see them: two membership tests.

The kernels only ask "is this set of acceptors a phase-1 quorum?" (``is_read_quorum``)
and "... a phase-2 quorum?" (``is_write_quorum``), so any object with those two methods
serves -- in practice the systems of :mod:`dsalgo.quorum` (``majority``, ``flexible``,
``grid``), which map Flexible Paxos's phase-1 quorums to read quorums and phase-2 quorums
to write quorums (Howard, Malkhi & Spiegelman 2016, §3).  :class:`Quorums` pairs the
phase-1 side of one system with the phase-2 side of another.

Safety needs every phase-1 quorum to meet every phase-2 quorum ("Q1 ∩ Q2 ≠ ∅", FPaxos
§3).  When both sides come from one system, its ``is_valid()`` says so; for two systems
:func:`intersecting` checks it by enumeration.  :func:`resolve_quorums` turns the ``q1`` /
``q2`` knobs into the pair, and :func:`phase2_spec` writes its phase-2 side down as plain
data for ``run.params``, from which the checker rebuilds it.
"""

from __future__ import annotations

from itertools import combinations

from dsalgo import quorum
from dsalgo._validate import check_bool, check_int

__all__ = ["Quorums", "intersecting", "phase2_spec", "resolve_quorums"]


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


def _is_system(q) -> bool:
    return hasattr(q, "is_read_quorum") and hasattr(q, "is_write_quorum")


def _size(name, q, n):
    if q is None or _is_system(q):
        return q
    if isinstance(q, bool) or not isinstance(q, int):
        raise TypeError(f"{name} must be a quorum size (int) or a quorum system with "
                        f"is_read_quorum/is_write_quorum (e.g. dsalgo.quorum.grid(2, 3)); "
                        f"got {q!r} of type {type(q).__name__}")
    return check_int(name, q, low=1, high=n)


def resolve_quorums(n: int, q1=None, q2=None, *, unsafe: bool = False) -> Quorums:
    """The phase-1/phase-2 quorums of ``n`` servers from sizes or quorum systems.

    Parameters
    ----------
    n : int
        Number of servers ``n1…nN``.
    q1, q2 : int or quorum system, optional
        Phase-1 and phase-2 quorums: a size (any ``q`` servers), or an object with
        ``is_read_quorum`` / ``is_write_quorum`` (its read quorums serve phase 1, its write
        quorums phase 2).  Both omitted: majorities.  One size given: the other is the
        smallest that meets it, ``n - q + 1``.  One system given: both phases from it.
    unsafe : bool
        Accept phase-1 and phase-2 quorums that need not intersect (to watch Paxos break).

    Returns
    -------
    Quorums

    Examples
    --------
    >>> resolve_quorums(5, q2=2)
    Quorums(<QuorumSystem flexible(n=5, q1=4, q2=2): reads = any 4 of 5, writes = any 2 of 5 over 5 nodes>)
    >>> resolve_quorums(4, 2, 2)
    Traceback (most recent call last):
    ...
    ValueError: q1=2 and q2=2 do not intersect for n=4: need q1 + q2 > n so that every phase-1 quorum meets every phase-2 quorum; pass unsafe=True to study the failure
    """
    n = check_int("n", n, low=1)
    check_bool("unsafe", unsafe)
    q1, q2 = _size("q1", q1, n), _size("q2", q2, n)
    servers = [f"n{i}" for i in range(1, n + 1)]
    for name, q in (("q1", q1), ("q2", q2)):
        if _is_system(q) and hasattr(q, "nodes") and list(q.nodes) != servers:
            raise ValueError(f"{name} must be a quorum system over the servers "
                             f"{', '.join(servers)}; got one over {', '.join(map(str, q.nodes))}")
    if q1 is None and q2 is None:
        return Quorums(quorum.majority(n))
    if q2 is None and _is_system(q1):
        read = write = q1
    elif q1 is None and _is_system(q2):
        read = write = q2
    else:
        if q1 is None:
            q1 = n - q2 + 1      # the smallest phase-1 quorum that meets every q2 one
        if q2 is None:
            q2 = n - q1 + 1
        if isinstance(q1, int) and isinstance(q2, int):
            if q1 + q2 <= n and not unsafe:
                raise ValueError(
                    f"q1={q1} and q2={q2} do not intersect for n={n}: need q1 + q2 > n so "
                    f"that every phase-1 quorum meets every phase-2 quorum; pass "
                    f"unsafe=True to study the failure")
            read = write = quorum.flexible(n, q1, q2, unsafe=True)
        else:  # a size on one side, a system on the other
            read = q1 if _is_system(q1) else quorum.threshold(n, q1, n - q1 + 1)
            write = q2 if _is_system(q2) else quorum.threshold(n, n - q2 + 1, q2)
    pair = Quorums(read, write)
    ok = bool(read.is_valid()) if read is write and hasattr(read, "is_valid") \
        else intersecting(pair, servers)
    if not ok and not unsafe:
        raise ValueError(f"q1={q1!r} and q2={q2!r} do not intersect: some phase-1 quorum misses "
                         f"some phase-2 quorum, so two values could be chosen; pass "
                         f"unsafe=True to study the failure")
    return pair


def phase2_spec(quorums, servers) -> dict:
    """The phase-2 quorums of ``quorums`` as plain data the checker can rebuild.

    ``run.params`` holds only JSON-safe values, and :func:`dsalgo.paxos.check` must judge
    which values a phase-2 quorum chose from the tables alone (a run loaded from disk has
    no quorum object), so the write side is written down as one of

    * ``{"kind": "threshold", "names": [...], "size": k}`` -- any ``k`` of ``names``
      (``majority``, ``flexible`` and ``threshold`` systems);
    * ``{"kind": "grid", "rows": r, "cols": c, "names": [...]}`` -- one node from every
      row of ``names`` laid out row by row;
    * ``{"kind": "explicit", "quorums": [[...], ...]}`` -- the minimal write quorums as
      sorted lists of node ids (any other system; an object with only
      ``is_write_quorum`` is enumerated over ``servers``).

    Parameters
    ----------
    quorums : Quorums
        As returned by :func:`resolve_quorums`.
    servers : list of str
        The acceptors.

    Returns
    -------
    dict

    Examples
    --------
    >>> from dsalgo import quorum
    >>> phase2_spec(resolve_quorums(5, q2=2), ["n1", "n2", "n3", "n4", "n5"])
    {'kind': 'threshold', 'names': ['n1', 'n2', 'n3', 'n4', 'n5'], 'size': 2}
    >>> phase2_spec(resolve_quorums(4, q2=quorum.grid(2, 2)), ["n1", "n2", "n3", "n4"])
    {'kind': 'grid', 'rows': 2, 'cols': 2, 'names': ['n1', 'n2', 'n3', 'n4']}
    """
    write = getattr(quorums, "write", quorums)
    kind = getattr(write, "kind", None)
    params = getattr(write, "params", None) or {}
    names = [str(x) for x in getattr(write, "nodes", servers)]
    size = {"majority": "quorum", "flexible": "q2", "threshold": "write"}.get(kind)
    if size is not None and size in params:
        return {"kind": "threshold", "names": names, "size": int(params[size])}
    if kind == "grid" and {"rows", "cols"} <= params.keys():
        return {"kind": "grid", "rows": int(params["rows"]), "cols": int(params["cols"]),
                "names": names}
    if hasattr(write, "write_quorums"):
        found = write.write_quorums()
    else:
        # A bare membership test: keep the minimal subsets it accepts (small n only,
        # as in :func:`intersecting`).
        found = []
        for k in range(len(servers) + 1):
            for w in combinations(servers, k):
                if write.is_write_quorum(frozenset(w)) and not any(q <= set(w) for q in found):
                    found.append(frozenset(w))
    return {"kind": "explicit",
            "quorums": sorted(sorted(map(str, q)) for q in found)}
