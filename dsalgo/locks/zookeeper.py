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
release wakes exactly one client ("avoids the herd effect").  The *naive* variant (the
``herd`` bug of :data:`BUGS`) instead watches the parent with ``getChildren(watch=true)``
and re-checks on every change: each change wakes every waiter.

Safety: the holder is the owner of the lowest znode; an ephemeral znode disappears when
its owner's session expires, so a crashed holder's lock is freed.  A client must also
stop believing it holds the lock once it cannot be sure its session is alive: it treats
the lock as lost ``2/3 · session_timeout`` after the send time of the last request the
service answered (ZooKeeper's read timeout), before the service may expire the session.
A client *paused* past that point cannot notice, which is why the lock alone does not
give mutual exclusion, and why the sequence number serves as a **fencing token**
(Kleppmann 2016): znodes are numbered in creation order and holders acquire in that
order, so tokens increase with every grant.  The ``no_fencing`` bug leaves the token out
of the storage requests.

Simplified: the service is :class:`~dsalgo.locks.zkservice.ZooKeeperServer` with a fixed
leader, or with ``ensemble=True`` the replicated ensemble of :mod:`dsalgo.zk` (an elected
leader, writes forwarded to it, reads and watches at the client's own server, sessions
expired by the leader); a client that loses its connection does not try to resume its
session but opens a new one, on the next server of the ensemble (its old znode goes with
the old session); znode names carry no GUID, since a create is never retried.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

from .. import sim
from .._validate import check_bool, check_choice
from ..sim import checks, knob
from .checker import check
from .harness import LockWorkload, LoopConfig, lock_cluster
from .scenarios import zookeeper_session_expiry, zookeeper_write_delay
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
    Disconnect,
    Exists,
    ExistsReply,
    GetChildren,
    Ping,
    Pong,
    SessionExpired,
    WatchedEvent,
    ZooKeeperServer,
)

__all__ = ["BUGS", "SCENARIOS", "Config", "LockRecipeClient", "WorkloadConfig",
           "ZooKeeperServer", "check", "simulate"]

WorkloadConfig = LockWorkload  # every family names its workload knobs WorkloadConfig

BUGS = {
    "no_fencing": "The client does not send its znode's sequence number to the storage as a "
                  "fencing token, so a holder whose session expired while it was paused (or "
                  "whose write was delayed) overwrites a newer holder's update.",
    "herd": "Waiters watch the lock node (getChildren with a watch) instead of the next-lower "
            "znode, so every release wakes every waiter (the herd effect): still safe, but "
            "each handover costs a message per waiter.",
    "ephemeral_survives_expiry": "The service keeps a session's ephemeral znodes when the "
                                 "session expires, so a crashed holder's lock node stays and "
                                 "the lock is held for ever (ephemeral nodes must go with "
                                 "their session): safe, but no waiter ever acquires.",
    "enter_on_watch": "A waiter takes the lock on any watch notification instead of going "
                      "back to step 2 (list the children): a notification that its "
                      "predecessor went away while that predecessor was only waiting (its "
                      "session expired) lets it in while the holder still holds.",
}
"""The ZooKeeper lock's planted bugs: name → the rule it breaks (``simulate(bugs=…)``)."""


class LockRecipeClient(LockClient):
    """A client that takes the lock with the ZooKeeper recipe (or the naive variant).

    Parameters
    ----------
    session_timeout : float
        The session timeout it asks for, seconds.
    bugs : collection of str
        Names from :data:`BUGS`: ``herd`` watches the parent instead of the next-lower
        znode; ``no_fencing`` sends no fencing token to the storage.
    servers : list of str, optional
        The servers of an ensemble (:mod:`dsalgo.zk`): the client connects to one (chosen
        from its id) and, when it loses its session, to the next; default: the single
        server's leader ``n1``.
    **loop
        Passed to :class:`~dsalgo.locks.worker.LockClient` (``key``, ``critical_section``,
        ``think``, ``storage_timeout``, ``start``).

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

    def __init__(self, *, session_timeout=1.0, bugs=frozenset(), servers=None, **loop):
        bugs = frozenset(bugs)
        # the single server's leader, or (an ensemble) every server, tried in turn
        self.servers = list(servers) if servers else [LEADER]
        self.server = self.servers[0]
        super().__init__(fencing="no_fencing" not in bugs, **loop)
        self.session_timeout = session_timeout
        self.naive = "herd" in bugs
        self.enter_on_watch = "enter_on_watch" in bugs
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
        ctx.send(self.server, Connect(self.session_timeout))
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
        self._next_server()
        self._connect(ctx)

    def _next_server(self):
        i = self.servers.index(self.server)
        self.server = self.servers[(i + 1) % len(self.servers)]

    def _request(self, ctx, make):
        self.req += 1
        self.outstanding[self.req] = ctx.now
        ctx.send(self.server, make(self.req))
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
        if len(self.servers) > 1:  # spread the clients over the ensemble
            self.server = self.servers[sum(map(ord, ctx.id)) % len(self.servers)]
        self._connect(ctx)

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Connected):
            if self.session is None and src == self.server:
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
        elif isinstance(msg, Disconnect):   # its server lost its leader, or restarted
            if self.session is not None and src == self.server:
                self._session_lost(ctx, "connection_loss")
        elif isinstance(msg, WatchedEvent):
            if self.state == "wait" and self.enter_on_watch:  # the bug: no step 2
                self.state = "hold"
                self.enter(ctx, int(self.my_node[-10:]), znode=self.my_node)
            elif self.state == "wait":
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
                ctx.send(self.server, Ping(self.session, ctx.now))
                ctx.set_timer("ping", self.session_timeout / 3)
        elif name == "session":
            if self.session is not None:
                self._session_lost(ctx, "session_timeout")
        elif name == "request":
            if self.session is not None:
                self._session_lost(ctx, "connection_loss")
        elif name == "connect":
            if self.session is None:
                self._next_server()
                self._connect(ctx)
        else:
            self.on_loop_timer(ctx, name)



def _lock_node_name(name, value):
    if not isinstance(value, str) or not value or "/" in value:
        raise TypeError(f"{name} must be a non-empty str lock name without '/'; got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class Config(LoopConfig):
    """The ZooKeeper lock's knobs: the holder loop's
    (:class:`~dsalgo.locks.harness.LoopConfig`), the session's and the ensemble's.

    Examples
    --------
    >>> Config(bugs=["herd"]).bugs
    frozenset({'herd'})
    >>> Config(key="a/b")
    Traceback (most recent call last):
    ...
    TypeError: key must be a non-empty str lock name without '/'; got 'a/b'
    """

    storage_timeout: float = knob(0.5, "Give up waiting for the storage after this many "
                                  "seconds and release (None: wait for ever).",
                                  checks.optional(checks.positive))
    key: str = knob("lock", "The lock's name: the lock node is /<key>.", _lock_node_name)
    session_timeout: float = knob(1.0, "Session timeout each client asks for, seconds.",
                                  checks.positive)
    tick: float = knob(0.05, "How often the leader looks for expired sessions, seconds.",
                       checks.positive)
    ensemble: bool = knob(False, "Run the lock on the replicated ensemble of dsalgo.zk "
                          "(leader election, follower reads, sessions expired by the "
                          "leader) instead of the single server with a fixed leader.",
                          checks.boolean)
    bugs: frozenset = knob(frozenset(), "Planted bugs, names of zookeeper.BUGS.",
                           checks.bugs(BUGS))


_LEGACY = {  # old keyword -> (its check, its default, the value that plants the bug, the bug)
    "fencing": (check_bool, True, False, "no_fencing"),
    "recipe": (lambda name, v: check_choice(name, v, ("recipe", "naive")), "recipe", "naive",
               "herd"),
}


def _legacy(knobs: dict, bugs, caller: str = "zookeeper.simulate",
            stacklevel: int = 3) -> frozenset:
    """Map the old ``fencing=`` and ``recipe=`` keywords (removed from ``knobs``) onto
    ``bugs``, with a ``DeprecationWarning``."""
    bugs = checks.bugs(BUGS)("bugs", bugs)
    for old, (check_old, default, buggy, bug) in _LEGACY.items():
        if old not in knobs:
            continue
        value = check_old(old, knobs.pop(old))
        warnings.warn(f"{caller}({old}=...) is deprecated: pass bugs={{{bug!r}}} instead of "
                      f"{old}={buggy!r}, and nothing for {old}={default!r}",
                      DeprecationWarning, stacklevel=stacklevel)
        if value == buggy:
            bugs |= {bug}
        elif bug in bugs:
            raise ValueError(f"{old}={value!r} contradicts bugs={sorted(bugs)!r}")
    return bugs


def _cluster(n=3, *, seed=0, network=None, bugs=(), record_messages=True, cpu=None,
             storage=None, **knobs) -> sim.Cluster:
    """The cluster of a ZooKeeper lock run, before it runs (scenarios add observers)."""
    cfg, work = sim.split_knobs(knobs, Config, LockWorkload)
    config = Config(bugs=bugs, **cfg)
    if storage is not None and not config.ensemble:
        raise ValueError(f"storage must be None with the single-server service, whose log "
                         f"is not synced (pass ensemble=True for a storage model); got "
                         f"{storage!r}")
    return lock_cluster(
        "zookeeper", n, config, LockWorkload(**work), seed=seed, network=network,
        record_messages=record_messages, cpu=cpu, storage=storage,
        server=_ensemble_server(config) if config.ensemble else
        lambda sid, servers: ZooKeeperServer(servers, tick=config.tick, bugs=config.bugs),
        client=lambda servers, start: LockRecipeClient(
            session_timeout=config.session_timeout, bugs=config.bugs, start=start,
            servers=servers if config.ensemble else None, **config.loop_options()))


def _ensemble_server(config):
    """``server(sid, servers)`` of the replicated ensemble with the lock's session knobs."""
    from .. import zk  # the ensemble is built on the Raft kernel: imported when asked for
    zk_config = zk.Config(session_timeout=config.session_timeout, tick=config.tick,
                          bugs=config.bugs & frozenset(zk.BUGS))
    return lambda sid, servers: zk.ensemble_server(servers, zk_config)


def simulate(n=3, *, seed=0, duration=5.0, network=None, faults=(), bugs=(),
             record_messages=True, progress=False, cpu=None, storage=None,
             **knobs) -> sim.Run:
    """Run the ZooKeeper lock: servers ``n1…`` (leader ``n1``), clients ``c1…``, storage.

    Each client loops: take the lock with the recipe, read the counter on the storage
    service, work ``critical_section`` seconds, write the counter plus one (with the
    znode's sequence number as fencing token), release, wait ``think``.

    Parameters
    ----------
    n : int
        Servers in the ensemble (≥ 1); a write commits on a majority.
    seed : int
        Same seed, same tables.
    duration : float
        Simulated seconds.
    network : dsalgo.sim.Network, optional
        Default: exponential latency with mean 5 ms.
    faults : iterable of dsalgo.sim faults
        May target servers, clients or ``"storage"``.
    bugs : collection of str
        Planted bugs, names of :data:`BUGS`: ``"no_fencing"`` (was ``fencing=False``),
        ``"herd"`` (was ``recipe="naive"``; both old keywords still work, with a
        ``DeprecationWarning``).
    record_messages : bool
        Keep ``run.messages`` (turn off for speed; :func:`~dsalgo.locks.herd` needs them).
    progress : bool
        Show a progress bar (``tqdm``) over simulated time while it runs.
    cpu : latency model or dict, optional
        The servers' processing time per message and timer (see
        :meth:`dsalgo.sim.Simulation.add_node`); default: none.  Clients and the storage
        service take no time.
    storage : dsalgo.sim.Storage, optional
        The servers' storage model, with ``ensemble=True`` only (the ensemble's servers
        persist through syncs; the single server's log is not synced, so it is refused
        there); default: writes durable at once.
    **knobs
        Fields of :class:`Config` (``session_timeout``, ``tick``, ``critical_section``,
        ``think``, ``storage_timeout``, default 0.5, ``key``; ``Config.describe()``
        explains each) and of the workload, :class:`~dsalgo.locks.harness.LockWorkload`
        (``clients``, default 2; ``starts``).

    Returns
    -------
    dsalgo.sim.Run
        Client events ``request``, ``acquire`` (``token``), ``wait``, ``release``,
        ``expire``, ``session_lost``; server events ``znode_created``, ``znode_deleted``,
        ``session_expired``; storage ``write``.

    Examples
    --------
    >>> from dsalgo import locks
    >>> run = locks.zookeeper.simulate(clients=3, seed=4, duration=1.0)
    >>> tokens = run.events.loc[run.events["kind"] == "acquire", "token"].tolist()
    >>> tokens == sorted(tokens), len(tokens) > 5
    (True, True)
    >>> run.params["family"], run.params["session_timeout"], run.params["bugs"]
    ('zookeeper', 1.0, [])
    """
    bugs = _legacy(knobs, bugs)
    cluster = _cluster(n, seed=seed, network=network, bugs=bugs,
                       record_messages=record_messages, cpu=cpu, storage=storage, **knobs)
    return cluster.run(duration, faults, progress=progress, close=True)


SCENARIOS = {f.__name__: f for f in (zookeeper_session_expiry, zookeeper_write_delay)}
"""Scripted runs of a paused holder and of a delayed write (:mod:`dsalgo.locks.scenarios`)."""
