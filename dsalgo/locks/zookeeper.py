"""The ZooKeeper lock recipe, its herd-prone naive variant, and fencing by sequence number.

Follows the ZooKeeper documentation, "ZooKeeper Recipes and Solutions", section "Locks",
which gives the recipe exactly:

1. ``create`` a znode ``_locknode_/lock-`` with the *sequence* and *ephemeral* flags;
2. ``getChildren`` of the lock node *without* setting a watch;
3. if the znode created in step 1 has the lowest sequence number, the client holds the
   lock;
4. otherwise call ``exists`` with a watch on the znode with the *next lower* sequence
   number;
5. if ``exists`` returns false, go to step 2; otherwise wait for a notification, then go
   to step 2.

Release is deleting the znode.  Because each waiter watches only its predecessor, a
release wakes exactly one client ("avoids the herd effect").  The *naive* variant
(``recipe="naive"``) instead watches the parent with ``getChildren(watch=true)`` and
re-checks on every change: each change wakes every waiter.

Safety: the holder is the owner of the lowest znode; an ephemeral znode disappears when
its owner's session expires, so a crashed holder's lock is freed.  A client must also
stop believing it holds the lock once it cannot be sure its session is alive: it treats
the lock as lost ``2/3 · session_timeout`` after the send time of the last request the
service answered (ZooKeeper's read timeout), before the service may expire the session.
A client *paused* past that point cannot notice, which is why the lock alone does not
give mutual exclusion, and why the sequence number serves as a **fencing token**
(Kleppmann 2016): znodes are numbered in creation order and holders acquire in that
order, so tokens increase with every grant.

Simplified: the service is :class:`~dsalgo.locks.zkservice.ZooKeeperServer` with a fixed
leader; a client that loses its connection does not try to resume its session but opens a
new one (its old znode goes with the old session); znode names carry no GUID, since a
create is never retried.
"""

from __future__ import annotations

import math

from .. import sim
from .._validate import check_bool, check_choice, check_int, check_number, check_range
from .storage import STORAGE, StorageServer
from .worker import LockClient
from .zkservice import (
    LEADER,
    ChildrenReply,
    Connect,
    Connected,
    Create,
    CreateReply,
    Delete,
    DeleteReply,
    Exists,
    ExistsReply,
    GetChildren,
    Ping,
    Pong,
    SessionExpired,
    WatchedEvent,
    ZooKeeperServer,
)

__all__ = ["LockRecipeClient", "ZooKeeperServer", "simulate"]


class LockRecipeClient(LockClient):
    """A client that takes the lock with the ZooKeeper recipe (or the naive variant).

    Parameters
    ----------
    session_timeout : float
        The session timeout it asks for, seconds.
    recipe : {"recipe", "naive"}
        Watch the next-lower znode (the documented recipe) or the parent (naive).
    **loop
        Passed to :class:`~dsalgo.locks.worker.LockClient` (``key``, ``critical_section``,
        ``think``, ``storage_timeout``, ``fencing``, ``start``).

    Examples
    --------
    >>> from dsalgo import sim
    >>> c, ctx = LockRecipeClient(session_timeout=1.0), sim.RecordingContext("c2")
    >>> c.on_start(ctx); c.on_message(ctx, "n1", Connected(7)); c.lock(ctx)
    >>> c.on_message(ctx, "n1", CreateReply(1, "/lock/lock-0000000005"))
    >>> _ = ctx.take()
    >>> c.on_message(ctx, "n1", ChildrenReply(2, ("lock-0000000003", "lock-0000000005")))
    >>> ctx.take()
    [CancelTimer(name='request'), Send(dst='n1', msg=Exists(session=7, req=3, path='/lock/lock-0000000003', watch=True)), SetTimer(name='request', delay=0.6666666666666666)]
    """

    def __init__(self, *, session_timeout=1.0, recipe="recipe", **loop):
        super().__init__(**loop)
        self.session_timeout = session_timeout
        self.naive = recipe == "naive"
        self.parent = "/" + self.key
        self.read_timeout = 2 * session_timeout / 3
        self.session = None
        self.connect_sent = 0.0
        self.confirmed = -math.inf
        self.req = 0
        self.outstanding: dict[int, float] = {}
        self.state = None   # None, "create", "list", "exists", "wait", "hold", "delete"
        self.my_node = None
        self.recheck = False
        self.want = False

    # ------------------------------------------------------------ session
    def _connect(self, ctx):
        self.session = None
        self.confirmed = -math.inf  # a new session: nothing confirmed yet
        self.connect_sent = ctx.now
        ctx.send(LEADER, Connect(self.session_timeout))
        ctx.set_timer("connect", self.read_timeout)

    def _confirm(self, ctx, sent_at):
        """The service answered a request sent at local time ``sent_at``."""
        if sent_at > self.confirmed:
            self.confirmed = sent_at
            # The safety line: the service heard from us no earlier than ``sent_at``, so
            # it cannot expire the session before sent_at + session_timeout; we give the
            # lock up at sent_at + 2/3 of it, strictly earlier.
            ctx.set_timer("session", max(0.0, sent_at + self.read_timeout - ctx.now))

    def _session_lost(self, ctx, reason):
        ctx.emit("session_lost", reason=reason)
        self.lost(ctx, reason)
        for t in ("ping", "session", "request"):
            ctx.cancel_timer(t)
        self.outstanding.clear()
        self.state, self.my_node, self.recheck = None, None, False
        self.want = not ctx.timer_set("next")
        if self.want:          # it goes on wanting the lock once reconnected
            self.start_wanting(ctx)
        self._connect(ctx)

    def _request(self, ctx, make):
        self.req += 1
        self.outstanding[self.req] = ctx.now
        ctx.send(LEADER, make(self.req))
        ctx.set_timer("request", self.read_timeout)

    def _answered(self, ctx, req) -> bool:
        sent_at = self.outstanding.pop(req, None)
        if sent_at is None:
            return False  # an answer to a request of an abandoned session
        ctx.cancel_timer("request")
        self._confirm(ctx, sent_at)
        return True

    # ------------------------------------------------------------ the recipe
    def lock(self, ctx):
        if self.session is None or self.state == "delete":
            self.want = True  # go on once connected / once the old znode is gone
            return
        self.want = False
        self.state = "create"
        sid = self.session
        self._request(ctx, lambda r: Create(sid, r, self.parent + "/lock-", ephemeral=True,
                                            sequential=True))

    def _list(self, ctx):
        self.state, self.recheck = "list", False
        sid, watch = self.session, self.naive
        self._request(ctx, lambda r: GetChildren(sid, r, self.parent, watch=watch))

    def _children(self, ctx, children):
        mine = self.my_node.rsplit("/", 1)[1]
        if mine not in children:
            self._session_lost(ctx, "znode_vanished")
            return
        ordered = sorted(children)  # fixed-width sequence numbers sort as numbers
        i = ordered.index(mine)
        if i == 0:  # lowest sequence number: every earlier request has been deleted
            self.state = "hold"
            self.enter(ctx, int(mine[-10:]), znode=self.my_node)
        elif self.naive:
            self._wait(ctx, self.parent)
        else:
            prev = f"{self.parent}/{ordered[i - 1]}"  # watch only the next-lower znode
            self.state = "exists"
            sid = self.session
            self._request(ctx, lambda r: Exists(sid, r, prev, watch=True))

    def _wait(self, ctx, on):
        self.state = "wait"
        ctx.emit("wait", lock=self.key, on=on)
        if self.recheck:  # the watch fired before the answer that set it came back
            self._list(ctx)

    def unlock(self, ctx):
        self.state = "delete"
        sid, node = self.session, self.my_node
        self._request(ctx, lambda r: Delete(sid, r, node))

    # ------------------------------------------------------------ handlers
    def on_start(self, ctx):
        super().on_start(ctx)
        self._connect(ctx)

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Connected):
            if self.session is None:
                self.session = msg.session
                ctx.cancel_timer("connect")
                self._confirm(ctx, self.connect_sent)
                ctx.set_timer("ping", self.session_timeout / 3)
                if self.want:
                    self.lock(ctx)
        elif isinstance(msg, Pong):
            if msg.session == self.session:
                self._confirm(ctx, msg.sent_at)
        elif isinstance(msg, SessionExpired):
            if msg.session == self.session:
                self._session_lost(ctx, "session_expired")
        elif isinstance(msg, WatchedEvent):
            if self.state == "wait":
                self._list(ctx)
            elif self.state in ("list", "exists"):
                self.recheck = True
        elif isinstance(msg, CreateReply):
            if self._answered(ctx, msg.req):
                if not msg.path:
                    self._session_lost(ctx, "session_expired")
                else:
                    self.my_node = msg.path
                    self._list(ctx)
        elif isinstance(msg, ChildrenReply):
            if self._answered(ctx, msg.req):
                self._children(ctx, msg.children)
        elif isinstance(msg, ExistsReply):
            if self._answered(ctx, msg.req):
                if msg.exists:
                    self._wait(ctx, "/".join(self.my_node.split("/")[:-1]))
                else:
                    self._list(ctx)
        elif isinstance(msg, DeleteReply):
            if self._answered(ctx, msg.req):
                self.state, self.my_node = None, None
                if self.want:
                    self.lock(ctx)
        else:
            self.on_storage(ctx, msg)

    def on_timer(self, ctx, name):
        if name == "ping":
            if self.session is not None:
                ctx.send(LEADER, Ping(self.session, ctx.now))
                ctx.set_timer("ping", self.session_timeout / 3)
        elif name == "session":
            if self.session is not None:
                self._session_lost(ctx, "session_timeout")
        elif name == "request":
            if self.session is not None:
                self._session_lost(ctx, "connection_loss")
        elif name == "connect":
            if self.session is None:
                self._connect(ctx)
        else:
            self.on_loop_timer(ctx, name)


def _build(n=3, *, clients=2, session_timeout=1.0, fencing=True, recipe="recipe", seed=0,
           network=None, faults=(), critical_section=0.05, think=0.0, tick=0.05,
           storage_timeout=None, key="lock", starts=None) -> sim.Simulation:
    n = check_int("n", n, low=1)
    clients = check_int("clients", clients, low=1)
    session_timeout = check_number("session_timeout", session_timeout, low=0.0,
                                   low_open=True)
    fencing = check_bool("fencing", fencing)
    check_choice("recipe", recipe, ("recipe", "naive"))
    critical_section = check_number("critical_section", critical_section, low=0.0)
    think = check_range("think", think)
    tick = check_number("tick", tick, low=0.0, low_open=True)
    if storage_timeout is not None:
        storage_timeout = check_number("storage_timeout", storage_timeout, low=0.0,
                                       low_open=True)
    if not isinstance(key, str) or not key or "/" in key:
        raise TypeError(f"key must be a non-empty str lock name without '/'; got {key!r}")
    starts = [0.0] * clients if starts is None else [check_number("starts[...]", s, low=0.0)
                                                       for s in starts]
    servers = [f"n{i}" for i in range(1, n + 1)]
    s = sim.Simulation(seed=seed, network=network)
    for sid in servers:
        s.add_node(sid, lambda: ZooKeeperServer(servers, tick=tick))
    s.add_node(STORAGE, StorageServer)
    for i in range(clients):
        s.add_node(f"c{i + 1}", lambda st=starts[i]: LockRecipeClient(
            session_timeout=session_timeout, recipe=recipe, key=key,
            critical_section=critical_section, think=think, storage_timeout=storage_timeout,
            fencing=fencing, start=st))
    s.add_faults(faults)
    s.params = {"algorithm": "zookeeper", "n": n, "clients": clients,
                "session_timeout": session_timeout, "fencing": fencing, "recipe": recipe,
                "critical_section": critical_section, "think": think, "tick": tick,
                "storage_timeout": storage_timeout, "key": key}
    return s


def simulate(n=3, *, clients=2, session_timeout=1.0, fencing=True, recipe="recipe", seed=0,
             duration=5.0, network=None, faults=(), critical_section=0.05, think=0.0,
             tick=0.05, storage_timeout=0.5, key="lock", progress: bool = False) -> sim.Run:
    """Run the ZooKeeper lock: servers ``n1…`` (leader ``n1``), clients ``c1…``, storage.

    Each client loops: take the lock with the recipe, read the counter on the storage
    service, work ``critical_section`` seconds, write the counter plus one (with the
    znode's sequence number as fencing token if ``fencing``), release, wait ``think``.

    Parameters
    ----------
    n : int
        Servers in the ensemble (≥ 1); a write commits on a majority.
    clients : int
        Competing clients (≥ 1).
    session_timeout : float
        Session timeout, seconds (> 0).
    fencing : bool
        Send fencing tokens to the storage service.
    recipe : {"recipe", "naive"}
        The documented recipe or the herd-prone variant watching the parent.
    seed : int
        Same seed, same tables.
    duration : float
        Simulated seconds.
    network : dsalgo.sim.Network, optional
        Default: exponential latency with mean 5 ms.
    faults : iterable of dsalgo.sim faults
        May target servers, clients or ``"storage"``.
    critical_section : float
        Seconds between the read and the write.
    think : float or (low, high)
        Seconds between a release and the next attempt.
    tick : float
        How often the leader looks for expired sessions.
    storage_timeout : float, optional
        A client gives up waiting for the storage after this long and releases
        (``None``: waits for ever).
    key : str
        The lock's name (the lock node is ``/<key>``).
    progress : bool
        Show a progress bar (``tqdm``) over simulated time while it runs.

    Returns
    -------
    dsalgo.sim.Run
        Client events ``request``, ``acquire`` (``token``), ``wait``, ``release``,
        ``expire``, ``session_lost``; server
        events ``znode_created``, ``znode_deleted``, ``session_expired``; storage ``write``.

    Examples
    --------
    >>> from dsalgo import locks
    >>> run = locks.zookeeper.simulate(clients=3, seed=4, duration=1.0)
    >>> tokens = run.events.loc[run.events["kind"] == "acquire", "token"].tolist()
    >>> tokens == sorted(tokens), len(tokens) > 5
    (True, True)
    """
    duration = check_number("duration", duration, low=0.0, low_open=True)
    s = _build(n, clients=clients, session_timeout=session_timeout, fencing=fencing,
               recipe=recipe, seed=seed, network=network, faults=faults,
               critical_section=critical_section, think=think, tick=tick,
               storage_timeout=storage_timeout, key=key)
    return s.run(until=duration, progress=progress)
