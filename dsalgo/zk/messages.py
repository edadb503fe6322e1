"""The ensemble's messages: the client protocol and the two server-to-server additions.

The client protocol of :mod:`dsalgo.locks.zkservice` (``Connect``, ``Ping``, ``Create``,
``Delete``, ``GetChildren``, ``Exists`` and their replies, ``WatchedEvent``,
``SessionExpired``) is re-exported unchanged, so the lock recipe's client talks to the
single server and to the ensemble alike.  New here: ``SetData`` / ``GetData`` / ``Sync``
(and replies carrying the server's last applied zxid, which a client remembers so that it
never reconnects to a server behind what it has seen), and between servers ``Forward``
(a follower hands a client's write to the leader) and ``Touch`` (a follower tells the
leader which sessions it heard from, so the leader can expire the others).
"""

from __future__ import annotations

from typing import NamedTuple

from ..locks.zkservice import (
    ChildrenReply,
    Connect,
    Connected,
    Create,
    CreateReply,
    Delete,
    DeleteReply,
    Disconnect,
    Exists,
    ExistsReply,
    GetChildren,
    Ping,
    Pong,
    SessionExpired,
    WatchedEvent,
)

__all__ = [
    "ChildrenReply", "Connect", "Connected", "Create", "CreateReply", "DataReply", "Delete", "Disconnect",
    "DeleteReply", "Exists", "ExistsReply", "Forward", "GetChildren", "GetData", "Ping",
    "Pong", "SessionExpired", "SetData", "SetReply", "Sync", "SyncReply", "Touch",
    "WatchedEvent",
]


class SetData(NamedTuple):
    session: int
    req: int
    path: str
    data: object


class SetReply(NamedTuple):
    """``version`` is ``None`` when the znode does not exist (ZooKeeper's NoNode)."""
    req: int
    version: int | None
    zxid: int


class GetData(NamedTuple):
    session: int
    req: int
    path: str
    watch: bool = False


class DataReply(NamedTuple):
    """``exists`` False: no such znode (``data`` None)."""
    req: int
    exists: bool
    data: object
    zxid: int


class Sync(NamedTuple):
    session: int
    req: int
    path: str = "/"


class SyncReply(NamedTuple):
    req: int
    zxid: int


class Forward(NamedTuple):
    """A follower hands a transaction (:class:`~dsalgo.zk.tree.Txn`) to the leader."""
    term: int
    txn: tuple


class Touch(NamedTuple):
    """The sessions a follower heard from since its last ``Touch``."""
    term: int
    sessions: tuple
