"""The replicated key-value store on Raft: its client (the state machine is the shared
:class:`dsalgo.sim.KVStore`, re-exported here).

§8 of the Raft paper asks two things of clients so that commands are linearizable:
each command carries a unique id, and the state machine remembers, per client, the
latest id it applied and its answer, so that a command retried after a timeout or a
leader change is *applied once* and answered from that memory the second time.  Here a
client "process" (``c1``, or ``c1/0``, ``c1/1`` … with several slots) is sequential, so
one ``(op_id, status, result)`` per process is enough.  An open-loop client's operations
overlap, so each of them is a session of its own (``c1#17``).

The history conventions (``f``, ``value``, ``result``, a failed ``cas``) are those of
every key-value store in the project, written in :mod:`dsalgo.sim.kv`.  An operation whose
answer never came back (the client gave up after ``timeout``) completes ``"info"``: it
may or may not have taken effect.
"""

from __future__ import annotations

from dsalgo import sim
from dsalgo.sim import KVStore

from .messages import ClientReply, ClientRequest

__all__ = ["KVStore", "RaftClient", "RaftStore"]


class RaftStore(KVStore):
    """The key-value state machine of one Raft server: :class:`dsalgo.sim.KVStore` that
    counts the commands it executes (so each ``apply`` event can say whether the command
    took effect or was answered from the duplicate memory).

    Parameters
    ----------
    off_by_one : bool
        The ``dedup_off_by_one`` bug: a command whose op id equals the process's latest
        is taken for new and executed again.

    Examples
    --------
    >>> s = RaftStore()
    >>> s.apply(("c1", 0, "cas", "x", [None, 1])), s.executions
    (('ok', True), 1)
    >>> s.apply(("c1", 0, "cas", "x", [None, 1])), s.executions      # a retry: once
    (('ok', True), 1)
    >>> bad = RaftStore(off_by_one=True)
    >>> _ = bad.apply(("c1", 0, "cas", "x", [None, 1]))
    >>> bad.apply(("c1", 0, "cas", "x", [None, 1])), bad.executions  # applied twice
    (('fail', False), 2)
    """

    def __init__(self, off_by_one: bool = False):
        super().__init__()
        self.off_by_one = off_by_one
        self.executions = 0

    def apply(self, command):
        if command is None or not self.off_by_one:
            return super().apply(command)
        process, op_id, f, key, value = command
        s = self.sessions.get(process)
        if s is not None and op_id < s[0]:    # BUG: should be <=, a retry of the latest
            return None
        out = self.execute(f, key, value)
        self.sessions[process] = (op_id, out[0], out[1])
        return out

    def execute(self, f, key, value):
        self.executions += 1
        return super().execute(f, key, value)


class RaftClient(sim.Client):
    """A closed- or open-loop client of the Raft key-value store.

    It sends each operation to the server it believes leads; a ``redirect`` reply moves
    it to the leader named in the hint, and every ``retry_interval`` seconds without an
    answer it resends the *same* request (same ``op_id``) to the next server in turn.
    The operation is given up as ``info`` after ``timeout`` (see :class:`dsalgo.sim.Client`
    for the workload and loop parameters).

    Parameters
    ----------
    servers : list of str
        The Raft servers.
    workload : dsalgo.sim.Workload
        What to ask.
    retry_interval : float
        Seconds between resends of an unanswered request.
    **kwargs
        Passed to :class:`dsalgo.sim.Client` (``mode``, ``concurrency``, ``timeout`` …).

    Examples
    --------
    >>> from dsalgo import sim
    >>> c = RaftClient(["n1", "n2"], sim.KVWorkload(keys=1, mix={"put": 1}), max_ops=1)
    >>> ctx = sim.RecordingContext("c1")
    >>> c.on_start(ctx); c.on_timer(ctx, "next:0"); ctx.take()[-2:]
    [Send(dst='n1', msg=ClientRequest(process='c1', op_id=0, f='put', key=0, value=0)), SetTimer(name='retry:0', delay=0.1)]
    """

    def __init__(self, servers, workload, *, retry_interval: float = 0.1, **kwargs):
        super().__init__(workload, **kwargs)
        self.servers = list(servers)
        self.retry_interval = retry_interval
        self.leader = self.servers[0]

    def submit(self, ctx, op_id, f, key, value):
        self._send(ctx, op_id)
        ctx.set_timer(f"retry:{op_id}", self.retry_interval)

    def _send(self, ctx, op_id):
        op = self.outstanding[op_id]
        slot = op["slot"]
        if self.mode == "open":
            # open loop: operations overlap, so they cannot share one session (the store
            # would take an earlier op_id arriving late for a stale duplicate and drop it);
            # each operation is its own session
            process = f"{ctx.id}#{op_id}"
        else:
            process = ctx.id if slot is None or self.concurrency == 1 else f"{ctx.id}/{slot}"
        ctx.send(self.leader, ClientRequest(process, op_id, op["f"], op["key"], op["value"]))

    def on_client_timer(self, ctx, name):
        if name.startswith("retry:"):
            op_id = int(name[6:])
            if op_id in self.outstanding:
                # no answer: perhaps the server we chose is down or cut off; try the next
                i = self.servers.index(self.leader) if self.leader in self.servers else -1
                self.leader = self.servers[(i + 1) % len(self.servers)]
                self._send(ctx, op_id)
                ctx.set_timer(name, self.retry_interval)

    def on_timeout(self, ctx, op_id):
        ctx.cancel_timer(f"retry:{op_id}")
        super().on_timeout(ctx, op_id)

    def on_message(self, ctx, src, msg):
        if not isinstance(msg, ClientReply) or msg.op_id not in self.outstanding:
            return  # a late answer to an operation already finished
        if msg.status == "redirect":
            if msg.leader_hint is not None and msg.leader_hint != self.leader:
                self.leader = msg.leader_hint
                self._send(ctx, msg.op_id)
            return  # no hint: the retry timer moves on
        self.leader = src
        ctx.cancel_timer(f"retry:{msg.op_id}")
        self.finish(ctx, msg.op_id, msg.status, msg.result)
