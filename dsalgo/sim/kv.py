"""One key-value state machine and one command shape, for every replicated store.

Raft's store, Multi-Paxos's replicas and the workloads that drive them share these, so a
history means the same thing whichever protocol made it.  (The linearizability checker's
models in :mod:`dsalgo.check.models` stay an independent oracle: they are written
separately on purpose.)

History conventions
-------------------
``f`` is ``"put"``, ``"get"`` or ``"cas"``; ``value`` is the value written for ``put``
and ``[old, new]`` for ``cas``; ``result`` is the value read for ``get`` (``None`` if the
key is absent), ``None`` for ``put`` and ``True`` for an applied ``cas``.  A ``cas`` whose
compare fails (the current value is not ``old``; ``old=None`` matches an absent key) has
no effect and completes with status ``"fail"`` and result ``False``.

Duplicates (Raft §8): each command carries its client process and operation id, and the
store remembers, per process, the latest id it applied and its answer, so that a command
retried after a timeout or a leader change is *applied once* and answered from that
memory the second time.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["OPERATIONS", "Command", "KVStore"]

OPERATIONS = ("put", "get", "cas")


class Command(NamedTuple):
    """A client command as it travels through a replicated log.

    Examples
    --------
    >>> Command("c1", 7, "cas", 0, [None, 7])
    Command(process='c1', op_id=7, f='cas', key=0, value=[None, 7])
    """

    process: str
    op_id: int
    f: str
    key: object
    value: object


class KVStore:
    """The deterministic state machine every replica applies committed commands to.

    A command is a :class:`Command` (or any ``(process, op_id, f, key, value)`` tuple);
    ``None`` is a leader's no-op.

    Parameters
    ----------
    dedup : bool
        Remember each process's latest command and answer retries from that memory
        (on by default; off, a retried command is applied again).

    Examples
    --------
    >>> kv = KVStore()
    >>> kv.apply(Command("c1", 0, "put", "x", 1))
    ('ok', None)
    >>> kv.apply(("c2", 1, "cas", "x", [1, 2])), kv.apply(("c2", 2, "cas", "x", [1, 3]))
    (('ok', True), ('fail', False))
    >>> kv.apply(("c2", 2, "cas", "x", [1, 3]))       # a retry of op 2: answered, not re-applied
    ('fail', False)
    >>> kv.get("x")
    2
    """

    __slots__ = ("data", "dedup", "sessions")

    def __init__(self, dedup: bool = True):
        self.data: dict = {}
        self.sessions: dict = {}  # process -> (op_id, status, result) of its latest command
        self.dedup = dedup

    def get(self, key):
        """The current value of ``key`` (``None`` if absent): what a local read sees."""
        return self.data.get(key)

    def cached(self, process, op_id):
        """``(status, result)`` if ``(process, op_id)`` was applied already, else ``None``."""
        s = self.sessions.get(process)
        if s is not None and s[0] == op_id:
            return s[1], s[2]
        return None

    def apply(self, command):
        """Apply ``command`` and return ``(status, result)`` (``None`` for a no-op or a
        stale duplicate older than the process's latest command)."""
        if command is None:
            return None
        process, op_id, f, key, value = command
        if self.dedup:
            s = self.sessions.get(process)
            if s is not None and op_id <= s[0]:
                # a duplicate (a retry that reached the log twice): apply once (§8)
                return (s[1], s[2]) if op_id == s[0] else None
        out = self.execute(f, key, value)
        self.sessions[process] = (op_id, out[0], out[1])
        return out

    def execute(self, f: str, key, value) -> tuple:
        """Run one operation with no duplicate detection; returns ``(status, result)``.

        Examples
        --------
        >>> kv = KVStore()
        >>> kv.execute("put", "k", 5), kv.execute("cas", "k", [4, 6]), kv.execute("get", "k", None)
        (('ok', None), ('fail', False), ('ok', 5))
        """
        data = self.data
        if f == "put":
            data[key] = value
            return "ok", None
        if f == "get":
            return "ok", data.get(key)
        if f != "cas":
            raise ValueError(f"f must be one of {', '.join(map(repr, OPERATIONS))}; got {f!r}")
        old, new = value
        if data.get(key) == old:
            data[key] = new
            return "ok", True
        return "fail", False

    def __repr__(self):
        return f"KVStore({self.data!r})"
