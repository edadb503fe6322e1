"""The key-value client of the Multi-Paxos store: find the leader, retry, give up.

A :class:`PaxosClient` is a :class:`dsalgo.sim.Client`: the workload says what to ask, the
client's loop says when, and every operation lands in ``run.history``.  This module only
says *where* to send: to the server it believes leads; a ``Redirect`` names a better
guess; an unanswered request is re-sent to the next server every ``retry_interval``
(servers execute an operation at most once, so retries are safe).  After the client's
``timeout`` the operation is recorded ``info``: it may or may not have taken effect.
"""

from __future__ import annotations

from dsalgo import sim

from .messages import Redirect, Reply, Request

__all__ = ["PaxosClient"]


class PaxosClient(sim.Client):
    """A closed- or open-loop key-value client of a Multi-Paxos cluster.

    Parameters
    ----------
    servers : list of str
        The servers' ids.
    workload : dsalgo.sim.Workload
        What to ask (usually :class:`dsalgo.sim.KVWorkload`).
    retry_interval : float
        Seconds before an unanswered request is sent to the next server.
    **client_options
        ``mode``, ``concurrency``, ``rate``, ``timeout``, ``think``, ``start``, ``stop``,
        ``max_ops`` of :class:`dsalgo.sim.Client`.

    Examples
    --------
    >>> from dsalgo import sim
    >>> c = PaxosClient(["n1", "n2"], sim.KVWorkload(keys=1, mix={"put": 1}))
    >>> ctx = sim.RecordingContext("c1")
    >>> c.on_start(ctx); ctx.take()
    [SetTimer(name='next:0', delay=0.0)]
    >>> ctx.fire(c, "next:0")
    [Invoke(op_id=0, f='put', key=0, value=0), SetTimer(name='op:0', delay=1.0), Send(dst='n2', msg=Request(op_id=0, f='put', key=0, value=0)), SetTimer(name='retry:0', delay=0.1)]
    >>> c.on_message(ctx, "n2", Redirect(0, "n1")); ctx.take()
    [Send(dst='n1', msg=Request(op_id=0, f='put', key=0, value=0)), SetTimer(name='retry:0', delay=0.1)]
    """

    def __init__(self, servers, workload, *, retry_interval=0.1, **client_options):
        super().__init__(workload, **client_options)
        self.servers = list(servers)
        self.retry_interval = retry_interval

    def on_start(self, ctx):
        self.leader = None
        self.requests = {}
        super().on_start(ctx)

    def submit(self, ctx, op_id, f, key, value):
        self.requests[op_id] = Request(op_id, f, key, value)
        if self.leader is None:
            self.leader = self.servers[ctx.rng.randrange(len(self.servers))]
        self._send(ctx, op_id)

    def _send(self, ctx, op_id):
        ctx.send(self.leader, self.requests[op_id])
        ctx.set_timer(f"retry:{op_id}", self.retry_interval)

    def _next_server(self):
        i = self.servers.index(self.leader) if self.leader in self.servers else -1
        self.leader = self.servers[(i + 1) % len(self.servers)]

    def on_message(self, ctx, src, msg):
        if msg.op_id not in self.outstanding:
            return
        if msg.__class__ is Reply:
            self.leader = src
            self._forget(ctx, msg.op_id)
            self.finish(ctx, msg.op_id, msg.status, msg.result)
        elif msg.__class__ is Redirect and msg.leader is not None and msg.leader != src:
            # a better guess; without one, the retry timer moves on to the next server
            self.leader = msg.leader
            self._send(ctx, msg.op_id)

    def on_client_timer(self, ctx, name):
        if name.startswith("retry:"):
            op_id = int(name[6:])
            if op_id in self.outstanding:
                self._next_server()
                self._send(ctx, op_id)

    def on_timeout(self, ctx, op_id):
        self._forget(ctx, op_id)
        super().on_timeout(ctx, op_id)

    def _forget(self, ctx, op_id):
        self.requests.pop(op_id, None)
        ctx.cancel_timer(f"retry:{op_id}")
