"""A key-value client of the ensemble: a register per key, a session, reconnection.

Each key ``k`` is the znode ``/kv/k``.  ``put`` is ``setData`` (and ``create`` when the
znode does not exist yet, then ``setData`` again if another client created it meanwhile);
``get`` is ``getData`` at the connected server (``reads="local"``: may be stale) or
``sync`` then ``getData`` (``reads="sync"``).  Every operation lands in ``run.history``
under the key-value conventions of :mod:`dsalgo.sim.kv` (``cas`` is not offered: ZooKeeper
compares versions, not values).

The session follows the ZooKeeper client (Hunt et al. 2010, §2.3 and the programmer's
guide): it pings its server every third of the session timeout; when it hears nothing for
two thirds of it (the read timeout) it declares the connection lost, gives up the
operation it had outstanding as ``info`` (its fate is unknown), and connects to the next
server with its session id and the last zxid it saw, giving each server
``session_timeout / n`` to take it.  A server that loses its leader
drops its clients (``Disconnect``), which reconnect the same way.  A server that knows the
session resumes it (``Connected``); one that closed it says ``SessionExpired`` and the client opens
a new session.  Client events: ``connected`` (``server``, ``session``, ``resumed``),
``connection_loss`` (``server``), ``session_expired`` (``session``).
"""

from __future__ import annotations

from .. import sim
from .messages import (
    Connect,
    Connected,
    Create,
    CreateReply,
    DataReply,
    Disconnect,
    GetData,
    Ping,
    Pong,
    SessionExpired,
    SetData,
    SetReply,
    Sync,
    SyncReply,
)

__all__ = ["KVClient", "READS"]

#: How ``get`` is served: by the connected server as it stands, or after a ``sync``.
READS = ("local", "sync")


class KVClient(sim.Client):
    """A closed- or open-loop key-value client with a ZooKeeper session.

    Parameters
    ----------
    servers : list of str
        The ensemble.
    workload : dsalgo.sim.Workload
        What to ask (``put`` and ``get``).
    first : int
        Index in ``servers`` of the server it connects to first.
    reads : {"local", "sync"}
        ``"sync"`` calls ``sync`` before each ``getData``.
    session_timeout : float
        The session timeout it asks for, seconds.
    **kwargs
        Passed to :class:`dsalgo.sim.Client` (``mode``, ``timeout`` …); one operation at a
        time (``concurrency=1``), as a ZooKeeper handle answers in order.

    Examples
    --------
    >>> from dsalgo import sim
    >>> c = KVClient(["n1", "n2"], sim.KVWorkload(keys=1, mix={"get": 1}), first=1)
    >>> ctx = sim.RecordingContext("c2")
    >>> c.on_start(ctx); c.on_timer(ctx, "open"); ctx.sent()
    [Send(dst='n2', msg=Connect(session_timeout=1.0, session=None, last_zxid=0))]
    """

    def __init__(self, servers, workload, *, first: int = 0, reads: str = "local",
                 session_timeout: float = 1.0, **kwargs):
        super().__init__(workload, **kwargs)
        self.servers = list(servers)
        self.first = first % len(self.servers)
        self.reads = reads
        self.session_timeout = session_timeout
        self.read_timeout = 2 * session_timeout / 3

    # ------------------------------------------------------------ session
    def on_start(self, ctx):
        super().on_start(ctx)
        self.server = self.servers[self.first]
        self.session = None
        self.connected = False
        self.last_zxid = 0
        self.req = 0
        self.inflight: dict[int, tuple] = {}  # req -> (op_id, stage)
        self.waiting: list[int] = []          # operations issued while not connected
        self.heard = ctx.now
        ctx.set_timer("open", max(0.0, self.start - ctx.now))  # connect at its start time
        ctx.set_timer("ping", self.session_timeout / 3)

    def _connect(self, ctx):
        self.connected = False
        self.heard = ctx.now
        ctx.send(self.server, Connect(self.session_timeout, self.session, self.last_zxid))
        # ZooKeeper's client gives each server session_timeout / n to take it
        ctx.set_timer("connect", self.session_timeout / len(self.servers))

    def _connection_lost(self, ctx):
        if self.connected:
            ctx.emit("connection_loss", server=self.server)
        for op_id, _stage in self.inflight.values():
            self.finish(ctx, op_id, "info")   # it may or may not have taken effect
        self.inflight.clear()
        i = self.servers.index(self.server)
        self.server = self.servers[(i + 1) % len(self.servers)]
        self._connect(ctx)

    def on_client_timer(self, ctx, name):
        if name == "open":
            self._connect(ctx)
        elif name == "connect":
            if not self.connected:
                self._connection_lost(ctx)   # try the next server
            return
        if name != "ping":
            return
        ctx.set_timer("ping", self.session_timeout / 3)
        if not self.connected:
            return
        if ctx.now - self.heard >= self.read_timeout:
            self._connection_lost(ctx)
        else:
            ctx.send(self.server, Ping(self.session, ctx.now))

    # ------------------------------------------------------------ operations
    def submit(self, ctx, op_id, f, key, value):
        if f not in ("get", "put"):
            raise ValueError(f"f must be 'get' or 'put' (the ensemble's key-value client "
                             f"offers no cas); got {f!r}")
        if not self.connected:
            self.waiting.append(op_id)
            return
        self._start(ctx, op_id)

    def _start(self, ctx, op_id):
        op = self.outstanding.get(op_id)
        if op is None:
            return  # timed out while waiting for a connection
        if op["f"] == "put":
            self._send(ctx, op_id, "set")
        elif self.reads == "sync":
            self._send(ctx, op_id, "sync")
        else:
            self._send(ctx, op_id, "get")

    def _send(self, ctx, op_id, stage):
        op = self.outstanding[op_id]
        self.req += 1
        self.inflight[self.req] = (op_id, stage)
        path, sid, r = f"/kv/{op['key']}", self.session, self.req
        msg = {"set": lambda: SetData(sid, r, path, op["value"]),
               "create": lambda: Create(sid, r, path, data=op["value"]),
               "sync": lambda: Sync(sid, r, path),
               "get": lambda: GetData(sid, r, path)}[stage]()
        ctx.send(self.server, msg)

    def on_timeout(self, ctx, op_id):
        for req, (oid, _) in list(self.inflight.items()):
            if oid == op_id:
                del self.inflight[req]
        super().on_timeout(ctx, op_id)

    # ------------------------------------------------------------ replies
    def on_message(self, ctx, src, msg):
        if src != self.server:
            return  # from a server we left
        self.heard = ctx.now
        kind = type(msg)
        if kind is Connected:
            if not self.connected:
                resumed = msg.session == self.session
                self.session, self.connected = msg.session, True
                ctx.cancel_timer("connect")
                ctx.emit("connected", server=src, session=msg.session, resumed=resumed)
                waiting, self.waiting = self.waiting, []
                for op_id in waiting:
                    self._start(ctx, op_id)
            return
        if kind is SessionExpired:
            if msg.session == self.session:
                ctx.emit("session_expired", session=msg.session)
                for op_id, _stage in self.inflight.values():
                    self.finish(ctx, op_id, "info")
                self.inflight.clear()
                self.session = None
                self._connect(ctx)
            return
        if kind is Pong:
            return
        if kind is Disconnect:
            if self.connected:
                self._connection_lost(ctx)
            return
        got = self.inflight.pop(msg.req, None) if hasattr(msg, "req") else None
        if got is None:
            return
        op_id, _stage = got
        if op_id not in self.outstanding:
            return
        zxid = getattr(msg, "zxid", None)
        if zxid is not None and zxid > self.last_zxid:
            self.last_zxid = zxid
        if kind is DataReply:
            self.finish(ctx, op_id, "ok", msg.data if msg.exists else None)
        elif kind is SyncReply:
            self._send(ctx, op_id, "get")
        elif kind is SetReply:
            if msg.version is None:
                self._send(ctx, op_id, "create")  # no such znode yet: create it
            else:
                self.finish(ctx, op_id, "ok")
        elif kind is CreateReply:
            if msg.path:
                self.finish(ctx, op_id, "ok")
            else:
                self._send(ctx, op_id, "set")  # created meanwhile by another client
