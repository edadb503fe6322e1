"""A server of the replicated ZooKeeper ensemble: Raft's election and log, ZooKeeper's service.

The atomic broadcast is the Raft kernel of :mod:`dsalgo.raft` (election, log replication,
commitment), reused as is: :class:`EnsembleServer` is a :class:`~dsalgo.raft.RaftNode`
whose state machine is ZooKeeper's data tree (:class:`~dsalgo.zk.tree.DataTree`) instead
of the key-value store, and which speaks ZooKeeper's client protocol.  See the package
docstring for why Raft rather than a separate Zab, and for the guarantees.

Client requests, as in Hunt et al. (2010), §4:

- a **write** (``create``, ``delete``, ``setData``, and a session's ``open`` / ``close``)
  received by a follower is forwarded to the leader (``Forward``), which appends it to the
  log; it commits on a quorum in log order (the zxid order) and every server applies it;
  the server the client is connected to answers once *it* has applied it (§4.1, and the
  FIFO client order of §2.3: a client with one request outstanding then sees its own
  writes);
- a **read** (``getData``, ``exists``, ``getChildren``) is answered at once from the
  connected server's own tree, which may lag the leader (§4.2: "reads are processed
  locally at each server");
- ``sync`` goes through the log like a write and is answered once the connected server has
  applied it, so a read after it sees every write committed before the sync began;
- **watches** are registered with, and fired by, the connected server when it applies a
  transaction that triggers them;
- **sessions**: a client pings its server; each server tells the leader every ``tick``
  which sessions it heard from (``Touch``); the leader appends a ``close`` transaction for
  a session it has not heard of for ``session_timeout`` of its local clock (a new leader
  starts every session's timeout afresh, as ZooKeeper's does); applying ``close`` deletes
  the session's ephemeral znodes and fires their watches;
- a server that is not in contact with a leader (a follower that has not heard one for
  the longest election timeout, or a candidate) serves no client: it does not answer, and
  the client reconnects elsewhere, carrying its session and the last zxid it saw; a
  server that has applied less than that zxid does not take it.  A server whose leader
  changes (or that stops leading) drops its clients (``Disconnect``), as a ZooKeeper
  server going back to leader election does; they reconnect with their sessions.

Planted bug (of :data:`dsalgo.zk.BUGS`): ``sync_served_locally`` answers ``sync`` at once
from the connected server, so sync-then-read is as stale as a plain read.
"""

from __future__ import annotations

from ..raft.config import LEADER
from ..raft.messages import Entry
from ..raft.node import RaftNode
from .messages import (
    ChildrenReply,
    Connect,
    Connected,
    Create,
    CreateReply,
    DataReply,
    Delete,
    DeleteReply,
    Disconnect,
    Exists,
    ExistsReply,
    Forward,
    GetChildren,
    GetData,
    Ping,
    Pong,
    SessionExpired,
    SetData,
    SetReply,
    Sync,
    SyncReply,
    Touch,
    WatchedEvent,
)
from .tree import DataTree, Txn, parent_of

__all__ = ["EnsembleServer"]


class EnsembleServer(RaftNode):
    """One server of the ensemble ``servers``: a Raft server whose state machine is
    ZooKeeper's data tree, serving the clients connected to it.

    Parameters
    ----------
    servers : list of str
        Every server of the ensemble.
    config : dsalgo.raft.Config
        The broadcast's knobs (election timeout, heartbeat, PreVote, CheckQuorum, bugs).
    tick : float
        Seconds between a follower's ``Touch`` messages and the leader's expiry checks.
    bugs : collection of str
        ZooKeeper-side bugs: ``sync_served_locally``, ``ephemeral_survives_expiry``.

    Protocol events besides Raft's (see :class:`~dsalgo.raft.RaftNode`): ``session_opened``
    (``session``, ``client``) and ``session_expired`` (``session``, ``client``, emitted by
    the leader that closed it), ``znode_created`` / ``znode_deleted`` (``path``,
    ``client``, ``reason``; by the server the owner is connected to, else by the leader).

    Examples
    --------
    A lone server elects itself, opens a session and answers a create once committed:

    >>> from dsalgo import raft, sim
    >>> from dsalgo.zk.messages import Connect, Create
    >>> node, ctx = EnsembleServer(["n1"], raft.Config(noop=False)), sim.RecordingContext("n1")
    >>> node.on_start(ctx); _ = ctx.fire(node, "election")
    >>> node.on_message(ctx, "c1", Connect(1.0)); ctx.sent()[-1]
    Send(dst='c1', msg=Connected(session=1))
    >>> node.on_message(ctx, "c1", Create(1, 1, "/a", data="x")); ctx.sent()[-1]
    Send(dst='c1', msg=CreateReply(req=1, path='/a'))
    """

    def __init__(self, servers, config=None, *, tick: float = 0.05, bugs=()):
        super().__init__(servers, config)
        self.tick = tick
        self.zk_bugs = frozenset(bugs)

    # ------------------------------------------------------------ state
    def on_start(self, ctx):
        super().on_start(ctx)
        self.store = DataTree(
            ephemeral_survives_expiry="ephemeral_survives_expiry" in self.zk_bugs)
        self.clients: dict[int, str] = {}      # session -> client connected here
        self.opening: dict[int, str] = {}      # our open request number -> client
        self.asked: dict[tuple, str] = {}      # (session, req) we submitted -> client
        self.touched: set = set()              # sessions heard from since the last tick
        self.last_heard: dict[int, float] = {}  # leader: session -> local time
        self.closing: set = set()
        self.lead_start = 0.0
        self.data_watches: dict[str, set] = {}
        self.child_watches: dict[str, set] = {}
        self.following = None                  # the leader we serve under (ourselves)
        self.waiting: dict[str, Connect] = {}  # connects that came while no leader was known
        ctx.set_timer("zk_tick", self.tick)

    def _leader_changed(self, ctx):
        """After any handler: if the leader we served under is gone (we stepped down, or
        follow another), drop every client, as a ZooKeeper server going back to leader
        election does; they reconnect, to us or elsewhere, with their sessions."""
        now = self.leader_id
        if now == self.following:
            return
        if self.following is not None and self.clients:
            for _sid, client in sorted(self.clients.items()):
                ctx.send(client, Disconnect("leader_lost"))
            self.clients = {}
            self.opening = {}
            self.asked = {}
            self.data_watches, self.child_watches = {}, {}
        self.following = now
        if now is not None and self.waiting:   # a leader again: take the waiting clients
            waiting, self.waiting = self.waiting, {}
            for src, msg in sorted(waiting.items()):
                self._on_connect(ctx, src, msg)

    def serving(self, ctx) -> bool:
        """Whether this server answers clients: it leads, or follows a leader it heard
        within the longest election timeout."""
        if self.role == LEADER:
            return True
        return (self.leader_id is not None
                and ctx.now - self.last_contact < self.config.election_timeout[1])

    # ------------------------------------------------------------ the broadcast
    def _submit(self, ctx, txn):
        """Hand a write to the leader (or append it, if we lead)."""
        if txn.op not in ("open", "close"):
            # answered when applied, if asked in this life (a restarted server re-applies
            # its log: those transactions are no one's to answer)
            self.asked[txn.session, txn.req] = self.clients.get(txn.session)
        if self.role == LEADER:
            self._append(ctx, Entry(self.current_term, txn, 0))
            for p in self.peers:
                self._send_append(ctx, p)
            self._own_log_durable(ctx)
        elif self.leader_id is not None:
            ctx.send(self.leader_id, Forward(self.current_term, txn))
        # else: no leader known; the client's request times out and it reconnects

    def _become_leader(self, ctx):
        self.lead_start = ctx.now
        self.last_heard = {}
        self.closing = set()
        super()._become_leader(ctx)

    def _commit(self, ctx, index):
        before = self.commit_index
        super()._commit(ctx, index)
        self._drain(ctx)
        if self.role == LEADER and self.commit_index > before:
            # Zab's COMMIT: tell the followers at once, not at the next heartbeat
            self._broadcast(ctx)

    def _drain(self, ctx):
        """Act on the transactions just applied: answer our clients, fire our watches."""
        tree = self.store
        out, tree.outbox = tree.outbox, []
        me = ctx.id
        for zxid, txn, result, triggers in out:
            op = txn.op
            expired = op == "close" and txn.session in self.closing
            asker = None
            if op == "open":
                if self.role == LEADER:
                    self.last_heard[result] = ctx.now
                if txn.origin == me and txn.req in self.opening:
                    client = self.opening.pop(txn.req)
                    self.clients[result] = client
                    ctx.emit("session_opened", session=result, client=client)
                    ctx.send(client, Connected(result))
            elif op == "close":
                sid = txn.session
                client = self.clients.pop(sid, None)
                if client is not None:
                    ctx.send(client, SessionExpired(sid))
                if sid in self.closing:
                    self.closing.discard(sid)
                    self.last_heard.pop(sid, None)
                    ctx.emit("session_expired", session=sid, client=txn.data,
                             removed=len(result))
            elif txn.origin == me and (txn.session, txn.req) in self.asked:
                client = self.asked.pop((txn.session, txn.req))
                if client is not None and self.clients.get(txn.session) == client:
                    asker = client
                    if op == "create":
                        ctx.send(client, CreateReply(txn.req, result))
                    elif op == "delete":
                        ctx.send(client, DeleteReply(txn.req, result))
                    elif op == "set":
                        ctx.send(client, SetReply(txn.req, result, zxid))
                    elif op == "sync":
                        ctx.send(client, SyncReply(txn.req, zxid))
            for kind, path in triggers:
                self._trigger(ctx, kind, path, txn, expired, asker)

    def _trigger(self, ctx, kind, path, txn, expired, client):
        # the server that took the request (``client``: who asked, in this life) reports
        # it; the leader that closed a session reports its ephemeral znodes' deletion
        if kind == "children":
            self._fire(ctx, self.child_watches.pop(path, ()), "children", path)
        elif kind == "created":
            if client is not None:
                ctx.emit("znode_created", path=path, client=client, session=txn.session)
        else:   # deleted or changed
            self._fire(ctx, self.data_watches.pop(path, ()), kind, path)
            if kind == "deleted" and (client is not None or expired):
                ctx.emit("znode_deleted", path=path, client=txn.data if expired else client,
                         reason="session_expired" if expired else "release",
                         children_left=len(self.store.children.get(parent_of(path), {})))

    def _fire(self, ctx, watchers, kind, path):
        for sid in sorted(watchers):
            client = self.clients.get(sid)
            if client is not None:
                ctx.send(client, WatchedEvent(kind, path))

    # ------------------------------------------------------------ clients
    def _session(self, ctx, src, sid) -> bool:
        """A request of session ``sid`` from ``src``: is the session open, and is the
        client connected to us?  A closed session is told it expired; a client that never
        connected to this server (in this life: a restart forgets its connections, and the
        watches set through them) is told to reconnect, as a broken TCP connection would."""
        if sid not in self.store.sessions:
            ctx.send(src, SessionExpired(sid))
            return False
        if self.clients.get(sid) != src:
            ctx.send(src, Disconnect("not_connected"))
            return False
        self.touched.add(sid)
        return True

    def _on_connect(self, ctx, src, msg: Connect):
        if not self.serving(ctx):
            # not in contact with a leader: the connection waits until one is known (a
            # real server in leader election accepts it once the election is over)
            self.waiting[src] = msg
            return
        if self.store.zxid < msg.last_zxid:
            return  # behind what the client has seen: it must go elsewhere
        if msg.session is None:
            # numbered on disk, so that a restarted server does not take an open request
            # of its earlier life for one of this life
            opened = ctx.disk["opened"] = ctx.disk.get("opened", 0) + 1
            self.opening[opened] = src
            self._submit(ctx, Txn(ctx.id, 0, opened, "open",
                                  data=(src, msg.session_timeout)))
        elif msg.session not in self.store.sessions:
            ctx.send(src, SessionExpired(msg.session))
        else:
            self.clients[msg.session] = src
            self.touched.add(msg.session)
            ctx.send(src, Connected(msg.session))

    def _on_request(self, ctx, src, msg):
        if not self.serving(ctx) or not self._session(ctx, src, msg.session):
            return
        sid, tree = msg.session, self.store
        kind = type(msg)
        if kind is Ping:
            ctx.send(src, Pong(sid, msg.sent_at))
        elif kind is GetData:
            got = tree.get_data(msg.path)
            if msg.watch:
                self.data_watches.setdefault(msg.path, set()).add(sid)
            ctx.send(src, DataReply(msg.req, got is not None,
                                    None if got is None else got[0], tree.zxid))
        elif kind is Exists:
            found = tree.exists(msg.path)
            if found and msg.watch:
                self.data_watches.setdefault(msg.path, set()).add(sid)
            ctx.send(src, ExistsReply(msg.req, found))
        elif kind is GetChildren:
            if msg.watch:
                self.child_watches.setdefault(msg.path, set()).add(sid)
            ctx.send(src, ChildrenReply(msg.req, tree.get_children(msg.path)))
        elif kind is Sync and "sync_served_locally" in self.zk_bugs:
            ctx.send(src, SyncReply(msg.req, tree.zxid))  # BUG: no round through the leader
        elif kind is Sync:
            self._submit(ctx, Txn(ctx.id, sid, msg.req, "sync", msg.path))
        elif kind is Create:
            self._submit(ctx, Txn(ctx.id, sid, msg.req, "create", msg.path, msg.data,
                                  msg.ephemeral, msg.sequential))
        elif kind is Delete:
            self._submit(ctx, Txn(ctx.id, sid, msg.req, "delete", msg.path))
        elif kind is SetData:
            self._submit(ctx, Txn(ctx.id, sid, msg.req, "set", msg.path, msg.data))

    def _on_forward(self, ctx, src, msg: Forward):
        if self.role == LEADER:
            self._submit(ctx, msg.txn)
        # else: dropped; the client times out and reconnects

    def _on_touch(self, ctx, src, msg: Touch):
        if self.role == LEADER and msg.term == self.current_term:
            now = ctx.now
            for sid in msg.sessions:
                self.last_heard[sid] = now

    def _on_zk_tick(self, ctx):
        ctx.set_timer("zk_tick", self.tick)
        if self.role != LEADER:
            if self.touched and self.leader_id is not None:
                ctx.send(self.leader_id, Touch(self.current_term, tuple(sorted(self.touched))))
            self.touched = set()
            return
        now = ctx.now
        for sid in self.touched:
            self.last_heard[sid] = now
        self.touched = set()
        for sid, (client, timeout) in list(self.store.sessions.items()):
            if sid in self.closing:
                continue
            if now - self.last_heard.get(sid, self.lead_start) > timeout:
                self.closing.add(sid)
                self._submit(ctx, Txn(ctx.id, sid, 0, "close", data=client))

    # ------------------------------------------------------------ dispatch
    def on_message(self, ctx, src, msg):
        handler = _DISPATCH.get(type(msg))
        if handler is None:
            super().on_message(ctx, src, msg)
            if self.leader_id != self.following:
                self._leader_changed(ctx)
        else:
            handler(self, ctx, src, msg)

    def on_timer(self, ctx, name):
        if name == "zk_tick":
            self._on_zk_tick(ctx)
        else:
            super().on_timer(ctx, name)
            if self.leader_id != self.following:
                self._leader_changed(ctx)


_DISPATCH = {
    Connect: EnsembleServer._on_connect,
    Forward: EnsembleServer._on_forward,
    Touch: EnsembleServer._on_touch,
    **{kind: EnsembleServer._on_request
       for kind in (Ping, GetData, Exists, GetChildren, Sync, Create, Delete, SetData)},
}
