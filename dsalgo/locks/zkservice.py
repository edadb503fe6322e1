"""A ZooKeeper-style coordination service: sessions, ephemeral sequential znodes, watches.

Follows Hunt, Konar, Junqueira and Reed, "ZooKeeper: Wait-free coordination for
Internet-scale systems" (USENIX ATC 2010), §2 (the data model: znodes, ephemeral and
sequential flags, sessions, one-shot watches), and the broadcast phase of Zab
(Junqueira, Reed and Serafini, "Zab: High-performance broadcast for primary-backup
systems", DSN 2011, §III): the leader turns each write into a transaction with a zxid,
proposes it to the followers, and commits it — in zxid order — once a majority (the
leader included) has logged it.

Guarantees kept here: writes are linearizable (applied in zxid order, answered only
once committed); reads are answered by the leader from committed state, so they are
linearizable too (each client has at most one request outstanding); a session's
ephemeral znodes are deleted, and their watches fired, only by a committed
``close_session`` transaction, decided by the leader when it has heard nothing from the
session for ``session_timeout`` seconds of its local clock.  Sequence numbers of the
children of a parent only ever grow.

Simplified: the leader is fixed (``n1``) — there is no leader election (ZooKeeper's Zab
recovery phase), so the service is down while ``n1`` is; a restarted leader rebuilds its
tree from its durable log and gives every session a fresh timeout, as a new ZooKeeper
leader does, in a new epoch (acknowledgements of an earlier life's proposals do not
count for the new proposals at the same zxids).  A restart forgets the client
connections, and the watches set through them, as a crashed ZooKeeper server does: a
request of an open session whose client has not connected in this life is answered with
``Disconnect`` (a broken TCP connection), so the client learns that its watches are gone
and reconnects, instead of waiting for ever for a notification the restarted leader no
longer owes it.  Followers only log and acknowledge (no reads are served by them); the
leader resends unacknowledged proposals every tick, so a follower that was down catches
up.  Clients talk to the leader only.
An ``exists`` watch is left only on a znode that exists.  ``getChildren`` lists the
children in no particular order, as ZooKeeper's does ("the list of children returned is
not sorted and no guarantee is provided as to its natural or lexical order"): here by a
hash of the name, so a recipe that ranks by the listing's order instead of the
sequence number is wrong in these runs as it would be against a real server.
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

from .. import sim
from ..sim import majority

__all__ = [
    "LEADER",
    "Ack",
    "ChildrenReply",
    "Connect",
    "Connected",
    "Create",
    "CreateReply",
    "Delete",
    "DeleteReply",
    "Disconnect",
    "Exists",
    "ExistsReply",
    "GetChildren",
    "Ping",
    "listing_order",
    "Pong",
    "Proposal",
    "SessionExpired",
    "WatchedEvent",
    "ZooKeeperServer",
]

LEADER = "n1"


def listing_order(names) -> tuple:
    """``names`` in the order a ``getChildren`` answer lists them: no particular order
    (by a CRC-32 of each name, standing in for the hash set a ZooKeeper server keeps
    children in), the same on every run.

    Examples
    --------
    >>> names = [f"lock-{i:010d}" for i in range(4)]
    >>> sorted(listing_order(names)) == names, listing_order(names) == tuple(names)
    (True, False)
    """
    return tuple(sorted(names, key=lambda n: (zlib.crc32(n.encode()), n)))


class Connect(NamedTuple):
    """Open a session, or (``session`` given, ensemble only) resume it on this server;
    ``last_zxid`` is the last zxid the client saw: a server that has applied less must not
    take the client (it would see the past)."""
    session_timeout: float
    session: int | None = None
    last_zxid: int = 0


class Connected(NamedTuple):
    session: int


class Ping(NamedTuple):
    session: int
    sent_at: float  # the client's local send time, echoed back


class Pong(NamedTuple):
    session: int
    sent_at: float


class Create(NamedTuple):
    session: int
    req: int
    path: str
    ephemeral: bool = False
    sequential: bool = False
    data: object = None


class CreateReply(NamedTuple):
    req: int
    path: str


class GetChildren(NamedTuple):
    session: int
    req: int
    path: str
    watch: bool = False


class ChildrenReply(NamedTuple):
    req: int
    children: tuple


class Exists(NamedTuple):
    session: int
    req: int
    path: str
    watch: bool = False


class ExistsReply(NamedTuple):
    req: int
    exists: bool


class Delete(NamedTuple):
    session: int
    req: int
    path: str


class DeleteReply(NamedTuple):
    req: int
    ok: bool


class WatchedEvent(NamedTuple):
    """A one-shot watch fired: ``type`` is ``"deleted"`` or ``"children"``."""
    type: str
    path: str


class SessionExpired(NamedTuple):
    session: int


class Disconnect(NamedTuple):
    """The connection is gone: a server that lost its leader, or stopped leading
    (ensemble), drops its clients, as a ZooKeeper server going back to leader election
    closes every client connection; a restarted server answers a request of a session
    that has not connected in its new life with it (the TCP connection broke with the
    crash, and the watches set through it are lost).  A client reconnects, elsewhere if
    need be."""
    reason: str


class Proposal(NamedTuple):
    """Transaction ``txn`` at ``zxid``, proposed in the leader's ``epoch`` (its life:
    Zab's zxid carries the epoch in its high half, here a field of its own)."""
    zxid: int
    txn: tuple
    epoch: int


class Ack(NamedTuple):
    """The follower logged the proposal at ``zxid`` of ``epoch``."""
    zxid: int
    epoch: int


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


class ZooKeeperServer(sim.Node):
    """A server of the service: the leader ``n1`` when ``id == leader``, else a follower.

    Parameters
    ----------
    servers : list of str
        Every server of the ensemble, the leader first.
    tick : float
        How often the leader looks for expired sessions, seconds.
    bugs : collection of str
        ``"ephemeral_survives_expiry"`` (of :data:`dsalgo.locks.zookeeper.BUGS`) keeps a
        session's ephemeral znodes when it expires.

    Examples
    --------
    >>> from dsalgo import sim
    >>> node, ctx = ZooKeeperServer(["n1"]), sim.RecordingContext("n1")
    >>> node.on_start(ctx); _ = ctx.take()
    >>> node.on_message(ctx, "c1", Connect(session_timeout=1.0))
    >>> node.on_message(ctx, "c1", Create(1, 1, "/lock/lock-", ephemeral=True, sequential=True))
    >>> ctx.sent()[-1]
    Send(dst='c1', msg=CreateReply(req=1, path='/lock/lock-0000000000'))
    """

    def __init__(self, servers, *, tick: float = 0.05, bugs=()):
        self.bugs = frozenset(bugs)
        self.servers = list(servers)
        self.tick = tick

    # ------------------------------------------------------------ state
    def on_start(self, ctx):
        self.leader = ctx.id == self.servers[0]
        log = ctx.disk.setdefault("log", [])
        if not self.leader:
            return
        self.children: dict[str, dict[str, int | None]] = {}  # parent -> name -> owner
        self.cversion: dict[str, int] = {}       # parent -> next sequence number
        self.sessions: dict[int, tuple] = {}     # session -> (client, timeout)
        # session -> client, for sessions opened in this life: a restart breaks every
        # connection (and forgets the watches set through it), though not the sessions
        self.connected: dict[int, str] = {}
        self.last_heard: dict[int, float] = {}   # session -> local time
        self.closing: set = set()
        self.next_session = ctx.disk.get("next_session", 1)
        self.data_watches: dict[str, set] = {}   # path -> sessions
        self.child_watches: dict[str, set] = {}  # parent -> sessions
        # a new epoch for each life: a restarted leader numbers its proposals from its
        # committed log again, so an acknowledgement of a proposal from an earlier life
        # (still in flight, or sent by a follower that was paused) must not count for the
        # new proposal at the same zxid
        self.epoch = ctx.disk["epoch"] = ctx.disk.get("epoch", 0) + 1
        self.zxid = len(log)
        self.committed = len(log)
        self.pending: dict[int, tuple] = {}
        self.acks: dict[int, set] = {}
        for txn in log:           # recovery: replay the committed log
            self._apply(ctx, txn, replay=True)
        for sid in self.sessions:  # a new leader gives every session a fresh timeout
            self.last_heard[sid] = ctx.now
        ctx.set_timer("tick", self.tick)

    # ------------------------------------------------------------ Zab broadcast
    def _propose(self, ctx, txn):
        self.zxid += 1
        self.pending[self.zxid] = txn
        self.acks[self.zxid] = {ctx.id}
        ctx.broadcast(self.servers[1:], Proposal(self.zxid, txn, self.epoch))
        self._commit_ready(ctx)

    def _commit_ready(self, ctx):
        need = majority(len(self.servers))
        nxt = self.committed + 1
        # Commit strictly in zxid order, and only once a majority has logged the txn:
        # any later leader would have it (Zab's primary order).
        while nxt in self.pending and len(self.acks[nxt]) >= need:
            txn = self.pending.pop(nxt)
            del self.acks[nxt]
            ctx.disk["log"].append(txn)
            self.committed = nxt
            self._apply(ctx, txn)
            nxt += 1

    # ------------------------------------------------------------ the tree
    def _apply(self, ctx, txn, replay=False):
        op = txn[0]
        if op == "open":
            _, sid, client, timeout = txn
            self.sessions[sid] = (client, timeout)
            self.last_heard[sid] = ctx.now
            self.next_session = max(self.next_session, sid + 1)
            if not replay:
                self.connected[sid] = client
                ctx.send(client, Connected(sid))
        elif op == "create":
            _, sid, req, path, ephemeral, sequential = txn
            parent = _parent(path)
            kids = self.children.setdefault(parent, {})
            name = path.rsplit("/", 1)[1]
            seq = self.cversion.get(parent, 0)
            self.cversion[parent] = seq + 1
            if sequential:
                name = f"{name}{seq:010d}"
            ok = name not in kids and sid in self.sessions
            if ok:
                kids[name] = sid if ephemeral else None
            if not replay and sid in self.sessions:
                full = f"{parent.rstrip('/')}/{name}"
                client = self.sessions[sid][0]
                ctx.send(client, CreateReply(req, full if ok else ""))
                if ok:
                    ctx.emit("znode_created", path=full, client=client, session=sid)
                    self._fire(ctx, self.child_watches.pop(parent, ()), "children", parent)
        elif op == "delete":
            _, sid, req, path = txn
            ok = self._remove(ctx, path, replay, "release")
            if not replay and sid in self.sessions:
                ctx.send(self.sessions[sid][0], DeleteReply(req, ok))
        elif op == "close":
            _, sid = txn
            client = self.sessions.get(sid, (None,))[0]
            for watchers in list(self.data_watches.values()) + list(self.child_watches.values()):
                watchers.discard(sid)
            for parent, kids in list(self.children.items()):
                if "ephemeral_survives_expiry" in self.bugs:
                    break      # BUG: the session's ephemeral znodes outlive it
                for name in [k for k, owner in kids.items() if owner == sid]:
                    self._remove(ctx, f"{parent.rstrip('/')}/{name}", replay,
                                 "session_expired")
            self.sessions.pop(sid, None)
            self.connected.pop(sid, None)
            self.last_heard.pop(sid, None)
            self.closing.discard(sid)
            if not replay:
                ctx.emit("session_expired", session=sid, client=client)

    def _remove(self, ctx, path, replay, reason) -> bool:
        parent, name = _parent(path), path.rsplit("/", 1)[1]
        kids = self.children.get(parent, {})
        if name not in kids:
            return False
        owner = kids.pop(name)
        if not replay:
            client = self.sessions.get(owner, (None,))[0] if owner is not None else None
            ctx.emit("znode_deleted", path=path, client=client, reason=reason,
                     children_left=len(kids))
            self._fire(ctx, self.data_watches.pop(path, ()), "deleted", path)
            self._fire(ctx, self.child_watches.pop(parent, ()), "children", parent)
        return True

    def _fire(self, ctx, watchers, kind, path):
        for sid in sorted(watchers):
            if sid in self.sessions:
                ctx.send(self.sessions[sid][0], WatchedEvent(kind, path))

    # ------------------------------------------------------------ messages
    def on_message(self, ctx, src, msg):
        if not self.leader:
            if isinstance(msg, Proposal):
                # a proposal of an epoch older than one already seen is ignored (Zab's
                # follower accepts proposals of its current epoch only): it would overwrite
                # the newer life's transaction at that zxid
                disk = ctx.disk
                if msg.epoch < disk.get("epoch", 0):
                    return
                disk["epoch"] = msg.epoch
                # logged (idempotently: proposals are resent) before it is acknowledged
                disk.setdefault("accepted", {})[msg.zxid] = msg.txn
                ctx.send(src, Ack(msg.zxid, msg.epoch))
            return
        if isinstance(msg, Ack):
            if msg.epoch == self.epoch and msg.zxid in self.acks:
                self.acks[msg.zxid].add(src)
                self._commit_ready(ctx)
            return
        if isinstance(msg, Connect):
            sid = self.next_session
            self.next_session += 1
            ctx.disk["next_session"] = self.next_session
            self._propose(ctx, ("open", sid, src, msg.session_timeout))
            return
        sid = msg.session
        if sid not in self.sessions or sid in self.closing:
            ctx.send(src, SessionExpired(sid))
            return
        if self.connected.get(sid) != src:
            # the session outlived a restart, its connection did not: the watches it set
            # are gone, so the client must know (it does not count as heard from)
            ctx.send(src, Disconnect("not_connected"))
            return
        self.last_heard[sid] = ctx.now
        if isinstance(msg, Ping):
            ctx.send(src, Pong(sid, msg.sent_at))
        elif isinstance(msg, Create):
            self._propose(ctx, ("create", sid, msg.req, msg.path, msg.ephemeral,
                                msg.sequential))
        elif isinstance(msg, Delete):
            self._propose(ctx, ("delete", sid, msg.req, msg.path))
        elif isinstance(msg, GetChildren):
            kids = self.children.get(msg.path, {})
            if msg.watch:
                self.child_watches.setdefault(msg.path, set()).add(sid)
            ctx.send(src, ChildrenReply(msg.req, listing_order(kids)))
        elif isinstance(msg, Exists):
            found = msg.path.rsplit("/", 1)[1] in self.children.get(_parent(msg.path), {})
            if found and msg.watch:
                self.data_watches.setdefault(msg.path, set()).add(sid)
            ctx.send(src, ExistsReply(msg.req, found))

    def on_timer(self, ctx, name):
        if name == "tick" and self.leader:
            now = ctx.now
            for sid, (_client, timeout) in list(self.sessions.items()):
                if sid not in self.closing and now - self.last_heard[sid] > timeout:
                    self.closing.add(sid)
                    self._propose(ctx, ("close", sid))
            for zxid in sorted(self.pending):  # resend what a follower may have missed
                for f in self.servers[1:]:
                    if f not in self.acks[zxid]:
                        ctx.send(f, Proposal(zxid, self.pending[zxid], self.epoch))
            ctx.set_timer("tick", self.tick)
