"""Constructors of the classic quorum systems: majority, threshold, Flexible Paxos, grid,
Byzantine.

Each builds a :class:`~dsalgo.quorum.systems.QuorumSystem` from its structure (counting
or rows) rather than from a list of subsets, so a 1001-node majority costs nothing to
build and every metric uses the structure's closed form or compact linear program.
"""

from __future__ import annotations

from .._validate import check_bool, check_int
from . import _families as fam
from .bounds import max_faults, quorum_size
from .systems import QuorumSystem, _names

__all__ = ["byzantine", "flexible", "grid", "majority", "threshold"]


def _default_names(n, names):
    if names is None:
        return tuple(f"n{i}" for i in range(1, n + 1))
    return _names("names", names, n)


def _check_n(n):
    return check_int("n", n, low=1)


def majority(n: int, names=None) -> QuorumSystem:
    """Majority quorums: reads and writes are any ``floor(n/2) + 1`` of ``n`` nodes.

    Parameters
    ----------
    n : int
        Number of nodes, ``>= 1``.
    names : sequence of str, optional
        Node ids (default ``n1…nN``).

    Examples
    --------
    >>> qs = majority(5)
    >>> qs.nodes, qs.params
    (('n1', 'n2', 'n3', 'n4', 'n5'), {'n': 5, 'quorum': 3})
    >>> qs.resilience(), round(qs.load(0.5), 6)
    (2, 0.6)
    """
    n = _check_n(n)
    k = quorum_size(n)
    return QuorumSystem._build(_default_names(n, names), fam.Threshold(n, k),
                               fam.Threshold(n, k), kind="majority", params={"n": n, "quorum": k})


def threshold(n: int, read: int, write: int, names=None, unsafe: bool = False) -> QuorumSystem:
    """Counting quorums: any ``read`` nodes form a read quorum, any ``write`` a write quorum.

    Safe when ``read + write > n`` (Gifford's weighted voting with unit votes).

    Parameters
    ----------
    n : int
        Number of nodes, ``>= 1``.
    read, write : int
        Quorum sizes in ``[1, n]``.
    names : sequence of str, optional
    unsafe : bool
        Allow ``read + write <= n`` (then ``is_valid()`` is falsy, with a pair).

    Examples
    --------
    >>> qs = threshold(5, read=2, write=4)
    >>> qs.read_resilience(), qs.write_resilience(), round(qs.load(0.9), 6)
    (3, 1, 0.44)
    """
    n = _check_n(n)
    read = check_int("read", read, low=1, high=n)
    write = check_int("write", write, low=1, high=n)
    check_bool("unsafe", unsafe)
    if read + write <= n and not unsafe:
        raise ValueError(f"read + write must exceed n so that read and write quorums meet; "
                         f"got read={read}, write={write}, n={n}; pass unsafe=True to study it")
    return QuorumSystem._build(_default_names(n, names), fam.Threshold(n, read),
                               fam.Threshold(n, write), kind="threshold",
                               params={"n": n, "read": read, "write": write}, unsafe=unsafe)


def flexible(n: int, q1: int, q2: int, names=None, unsafe: bool = False) -> QuorumSystem:
    """Flexible Paxos counting quorums (Howard et al. 2016): any ``q1`` nodes for phase 1,
    any ``q2`` for phase 2, safe when ``q1 + q2 > n``.

    Phase-1 quorums are the *read* quorums and phase-2 quorums the *write* quorums
    (Whittaker et al.'s mapping): a new leader reads what earlier phase-2 quorums wrote.

    Parameters
    ----------
    n : int
        Number of acceptors, ``>= 1``.
    q1, q2 : int
        Phase-1 and phase-2 quorum sizes in ``[1, n]``.
    names : sequence of str, optional
    unsafe : bool
        Allow ``q1 + q2 <= n`` (then ``is_valid()`` reports a non-intersecting pair).

    Examples
    --------
    >>> fp = flexible(6, q1=5, q2=2)
    >>> fp.is_phase1_quorum({"n1", "n2", "n3", "n4", "n5"}), fp.is_write_quorum({"n1", "n2"})
    (True, True)
    >>> fp.read_resilience(), fp.write_resilience()
    (1, 4)
    """
    n = _check_n(n)
    q1 = check_int("q1", q1, low=1, high=n)
    q2 = check_int("q2", q2, low=1, high=n)
    check_bool("unsafe", unsafe)
    if q1 + q2 <= n and not unsafe:
        raise ValueError(f"q1 + q2 must exceed n so that every phase-1 quorum meets every "
                         f"phase-2 quorum; got q1={q1}, q2={q2}, n={n}; pass unsafe=True to "
                         "study it")
    return QuorumSystem._build(_default_names(n, names), fam.Threshold(n, q1),
                               fam.Threshold(n, q2), kind="flexible",
                               params={"n": n, "q1": q1, "q2": q2}, unsafe=unsafe)


def grid(rows: int, cols: int, names=None) -> QuorumSystem:
    """The grid quorum system: nodes in ``rows x cols`` (row-major), a read quorum is a
    full row and a write quorum is one node from every row.

    Parameters
    ----------
    rows, cols : int
        Grid shape, each ``>= 1``.
    names : sequence of str, optional
        ``rows * cols`` node ids, row by row (default ``n1…nN``).

    Examples
    --------
    >>> g = grid(3, 3)
    >>> g.is_read_quorum({"n4", "n5", "n6"}), g.is_write_quorum({"n1", "n5", "n9"})
    (True, True)
    >>> round(g.load(0.5), 6)
    0.333333
    """
    rows = check_int("rows", rows, low=1)
    cols = check_int("cols", cols, low=1)
    n = rows * cols
    layout = [tuple(range(r * cols, (r + 1) * cols)) for r in range(rows)]
    return QuorumSystem._build(_default_names(n, names), fam.Rows(n, layout),
                               fam.OnePerRow(n, layout), kind="grid",
                               params={"rows": rows, "cols": cols})


def byzantine(n: int, f: int, names=None) -> QuorumSystem:
    """Byzantine quorums: any ``ceil((n + f + 1)/2)`` nodes, so any two quorums share
    ``f + 1`` nodes (at least one correct); needs ``n >= 3f + 1``.

    Parameters
    ----------
    n : int
        Number of nodes, ``>= 1``.
    f : int
        Byzantine nodes tolerated, ``0 <= f <= floor((n - 1)/3)``.
    names : sequence of str, optional

    Examples
    --------
    >>> b = byzantine(4, 1)
    >>> b.params, b.overlap, b.resilience()
    ({'n': 4, 'f': 1, 'quorum': 3}, 2, 1)
    """
    n = _check_n(n)
    f = check_int("f", f, low=0)
    if f > max_faults(n, "byzantine"):
        raise ValueError(f"f must be at most floor((n - 1)/3) = {max_faults(n, 'byzantine')} "
                         f"for n={n} (Byzantine agreement needs n >= 3f + 1); got f={f}")
    k = quorum_size(n, "byzantine", f=f)
    return QuorumSystem._build(_default_names(n, names), fam.Threshold(n, k),
                               fam.Threshold(n, k), kind="byzantine",
                               params={"n": n, "f": f, "quorum": k}, overlap=f + 1)

