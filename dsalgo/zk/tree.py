"""The replicated state machine of the ensemble: ZooKeeper's data tree and its sessions.

Every server applies the same committed transactions, in zxid order, to its own
:class:`DataTree`; the tree is deterministic, so servers that applied the same prefix hold
the same tree (Hunt et al. 2010, §4.2: "the replicated database").  A transaction is a
:class:`Txn`; applying it returns its result and the *triggers* it fires (one-shot watches
are kept by the server a client is connected to, not by the tree, so the server turns
triggers into notifications for its own clients, §2.2).

Znodes follow §2.1: a path ``/a/b`` names a child ``b`` of ``/a``; a znode holds ``data``
and a ``version`` bumped by every set; an *ephemeral* znode belongs to a session and is
deleted when the session closes; a *sequential* znode gets the parent's next sequence
number (``cversion``, ten digits) appended to its name.  Parents are implicit (a create
under a parent that does not exist makes the parent exist), which real ZooKeeper refuses;
the lock recipe and the key-value workload never rely on the difference.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["DataTree", "Txn", "parent_of"]


class Txn(NamedTuple):
    """One transaction of the replicated log (a log entry's command).

    ``origin`` is the server the client is connected to (it answers the client once it has
    applied the transaction), ``session`` the client's session (``0`` for ``open``, whose
    session id the tree assigns), ``req`` the client's request number.  ``op`` is one of
    ``open`` (``data`` = ``(client, session_timeout)``), ``close``, ``create``, ``delete``,
    ``set``, ``sync``.

    Examples
    --------
    >>> Txn("n2", 7, 1, "set", "/kv/0", 5)[:4]
    ('n2', 7, 1, 'set')
    """

    origin: str
    session: int
    req: int
    op: str
    path: str = ""
    data: object = None
    ephemeral: bool = False
    sequential: bool = False


def parent_of(path: str) -> str:
    """The parent of ``path``.

    Examples
    --------
    >>> parent_of("/lock/lock-1"), parent_of("/kv")
    ('/lock', '/')
    """
    return path.rsplit("/", 1)[0] or "/"


def _join(parent: str, name: str) -> str:
    return f"{parent.rstrip('/')}/{name}"


class DataTree:
    """ZooKeeper's data tree and session table, applied one transaction at a time.

    Parameters
    ----------
    ephemeral_survives_expiry : bool
        The ``ephemeral_survives_expiry`` bug: closing a session keeps its ephemeral znodes.

    Attributes
    ----------
    zxid : int
        How many log entries have been applied (a leader's no-op included): the zxid of the
        last applied transaction, as a log index.
    sessions : dict
        Open session id → ``(client, session_timeout)``.
    outbox : list
        ``(zxid, txn, result, triggers)`` of each transaction applied since the server
        last drained it.

    Examples
    --------
    >>> t = DataTree()
    >>> t.apply(Txn("n1", 0, 1, "open", data=("c1", 1.0)))
    1
    >>> t.apply(Txn("n1", 1, 2, "create", "/lock/lock-", None, True, True))
    '/lock/lock-0000000000'
    >>> t.get_children("/lock"), t.apply(Txn("n1", 1, 0, "close"))
    (('lock-0000000000',), ['/lock/lock-0000000000'])
    >>> t.get_children("/lock"), [tr for _, _, _, tr in t.outbox][-1]
    ((), [('deleted', '/lock/lock-0000000000'), ('children', '/lock')])
    """

    def __init__(self, *, ephemeral_survives_expiry: bool = False):
        self.children: dict[str, dict[str, int | None]] = {"/": {}}  # parent -> name -> owner
        self.data: dict[str, object] = {}
        self.version: dict[str, int] = {}
        self.cversion: dict[str, int] = {}
        self.sessions: dict[int, tuple] = {}
        self.next_session = 1
        self.zxid = 0
        self.executions = 0  # counted as dsalgo.raft's store does (the apply event's field)
        self.outbox: list = []
        self.keep_ephemerals = ephemeral_survives_expiry

    # ------------------------------------------------------------ reads (local, may be stale)
    def exists(self, path: str) -> bool:
        """Whether znode ``path`` exists."""
        return path.rsplit("/", 1)[1] in self.children.get(parent_of(path), {})

    def get_children(self, path: str) -> tuple:
        """The names of the children of ``path``, sorted."""
        return tuple(sorted(self.children.get(path, {})))

    def get_data(self, path: str):
        """``(data, version)`` of ``path``, or ``None`` if it does not exist."""
        if not self.exists(path):
            return None
        return self.data.get(path), self.version.get(path, 0)

    # ------------------------------------------------------------ writes (committed txns)
    def apply(self, txn):
        """Apply the next committed log entry (``None``: a leader's no-op); returns the
        transaction's result."""
        self.zxid += 1
        if txn is None:
            return None
        self.executions += 1
        triggers: list = []
        result = getattr(self, "_" + txn.op)(txn, triggers)
        self.outbox.append((self.zxid, txn, result, triggers))
        return result

    def _open(self, txn, triggers):
        sid = self.next_session
        self.next_session += 1
        self.sessions[sid] = tuple(txn.data)
        return sid

    def _close(self, txn, triggers):
        sid = txn.session
        removed = []
        if sid in self.sessions and not self.keep_ephemerals:
            for parent, kids in list(self.children.items()):
                for name in [k for k, owner in kids.items() if owner == sid]:
                    path = _join(parent, name)
                    self._remove(path, triggers)
                    removed.append(path)
        self.sessions.pop(sid, None)
        return removed

    def _create(self, txn, triggers):
        parent = parent_of(txn.path)
        name = txn.path.rsplit("/", 1)[1]
        kids = self.children.setdefault(parent, {})
        seq = self.cversion.get(parent, 0)
        self.cversion[parent] = seq + 1
        if txn.sequential:
            name = f"{name}{seq:010d}"
        if name in kids or txn.session not in self.sessions:
            return ""   # node exists, or the session closed before the create committed
        kids[name] = txn.session if txn.ephemeral else None
        path = _join(parent, name)
        self.children.setdefault(path, {})
        self.data[path] = txn.data
        self.version[path] = 0
        triggers.append(("created", path))
        triggers.append(("children", parent))
        return path

    def _delete(self, txn, triggers):
        if not self.exists(txn.path) or txn.session not in self.sessions:
            return False
        self._remove(txn.path, triggers)
        return True

    def _remove(self, path, triggers):
        parent, name = parent_of(path), path.rsplit("/", 1)[1]
        del self.children[parent][name]
        self.data.pop(path, None)
        self.version.pop(path, None)
        triggers.append(("deleted", path))
        triggers.append(("children", parent))

    def _set(self, txn, triggers):
        if not self.exists(txn.path) or txn.session not in self.sessions:
            return None   # no such node (ZooKeeper's NoNode)
        self.data[txn.path] = txn.data
        self.version[txn.path] = self.version.get(txn.path, 0) + 1
        triggers.append(("changed", txn.path))
        return self.version[txn.path]

    def _sync(self, txn, triggers):
        return True
