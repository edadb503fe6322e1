"""Choreographed sagas: the services pass the saga along, with no orchestrator.

Garcia-Molina & Salem, "Sagas" (SIGMOD 1987), where they discuss running sagas on a system
without a saga execution component: the saga is the same sequence of local transactions
``T1 … Tn`` with compensations ``C1 … Cn`` (see :mod:`dsalgo.txn.saga`), but each service,
having run its step, hands the saga to the next one; a failed step hands a compensation to
the previous one, and the compensations travel back to the first service.

**Roles.**  The client sends its transfer to ``n1``, which begins the saga (``saga_begin``)
and runs step 0.  Service ``ni`` runs step ``i`` as a local transaction and then sends
:class:`Hop` (forward, step ``i+1``) or :class:`Hop` (backward, compensate step ``i-1``).
The last service ends a saga that went through (``saga_end`` done); ``n1`` ends one that
was compensated back to it.  Whoever ends it answers the client.

**Durability and retries.**  A hop is written to the sender's durable *outbox* in the same
local transaction as the step, and resent every ``retry_interval`` until the receiver
acknowledges it (:class:`HopAck`), so a crash of either side loses nothing.  Hops
therefore arrive more than once; each step and each compensation carries an idempotency
key, and the receiver runs it at most once and simply acknowledges a repeat.

**Safety properties**: the same as the orchestrated form (semantic atomicity,
compensations in reverse order, conservation at quiescence), checked by
:func:`dsalgo.txn.check` from the same events.

**Simplifications.**  The saga's whole plan travels in every hop (no service needs to know
the others in advance).  A service retries a hop until it is acknowledged, however long
the next service is down.
"""

from __future__ import annotations

from dataclasses import dataclass

from .bank import Read, Transfer, TransferDone, check_timeout, shard_of
from .local import Durably, SagaShard

__all__ = ["Hop", "HopAck", "ChoreographedService"]


@dataclass(frozen=True, slots=True)
class Hop:
    """Service → service: run step ``step`` of ``saga`` (``forward``) or compensate it."""
    saga: str
    step: int
    forward: bool
    plan: tuple          # ((account, delta), …) in step order
    client: str
    op_id: int


@dataclass(frozen=True, slots=True)
class HopAck:
    """The hop is recorded; stop resending it."""
    saga: str
    step: int
    forward: bool


class ChoreographedService(SagaShard):
    """A service of a choreographed saga: runs its step, then passes the saga on.

    Parameters
    ----------
    accounts, initial_balance : int
        See :class:`dsalgo.txn.bank.Shard`.
    step_failure : float
        Probability that a step is rejected (no effect) for business reasons.
    compensation : {"inverse", "restore"}
        How a compensation undoes a step (see :mod:`dsalgo.txn.local`).
    retry_interval : float
        Seconds between resends of unacknowledged hops.
    bugs : collection of str
        ``"non_idempotent_retry"`` runs every hop it receives, ignoring the key.

    Examples
    --------
    >>> from dsalgo import sim
    >>> svc, ctx = ChoreographedService(accounts=1), sim.RecordingContext("n1")
    >>> svc.on_start(ctx); _ = ctx.take()
    >>> svc.on_message(ctx, "c1", Transfer(4, (("n1:0", -3), ("n2:0", 3))))
    >>> ctx.sent()
    [Send(dst='n2', msg=Hop(saga='s4', step=1, forward=True, plan=(('n1:0', -3), ('n2:0', 3)), client='c1', op_id=4))]
    """

    def __init__(self, *, accounts: int = 2, initial_balance: int = 100,
                 step_failure: float = 0.0, compensation: str = "inverse",
                 retry_interval: float = 0.05, bugs=()):
        super().__init__(accounts=accounts, initial_balance=initial_balance,
                         step_failure=step_failure, compensation=compensation, bugs=bugs)
        self.retry_interval = check_timeout("retry_interval", retry_interval)

    def on_start(self, ctx):
        self.open(ctx)
        self.keys = ctx.disk.setdefault("keys", {})        # idempotency key -> outcome
        self.outbox = ctx.disk.setdefault("outbox", {})    # (saga, step, forward) -> Hop
        self.begun = ctx.disk.setdefault("begun", {})      # sagas this service began
        self.unsynced: set = set()                         # outbox entries not yet durable
        if self.outbox:
            self._flush(ctx)

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Hop):
            d = Durably(ctx)          # acked, recorded and passed on once it is durable
            d.send(src, HopAck(msg.saga, msg.step, msg.forward))
            self._hop(d, msg)
            d.release()
        elif isinstance(msg, HopAck):
            self.outbox.pop((msg.saga, msg.step, msg.forward), None)
        elif isinstance(msg, Transfer):
            sid = f"s{msg.op_id}"
            if sid in self.begun:
                return                                     # a duplicated request
            plan = tuple(sorted(msg.legs, key=lambda leg: int(shard_of(leg[0])[1:])))
            self.begun[sid] = True
            d = Durably(ctx)
            d.emit("saga_begin", saga=sid, steps=len(plan))
            self._hop(d, Hop(sid, 0, True, plan, src, msg.op_id))
            d.release()
        elif isinstance(msg, Read):
            self.answer_read(ctx, src, msg)

    def on_timer(self, ctx, name):
        if name == "retry":
            self._flush(ctx)

    def _hop(self, ctx, hop):
        key = f"{hop.saga}:{hop.step}:{'do' if hop.forward else 'undo'}"
        # The idempotency check: a hop whose key has an outcome on record already ran
        # (and queued its next hop); a repeat must not apply the step again.
        if "non_idempotent_retry" not in self.bugs and key in self.keys:
            return
        account, delta = hop.plan[hop.step]
        if hop.forward:
            ok = self.keys[key] = self.run_step(ctx, hop.saga, hop.step, account, delta)
            if ok and hop.step + 1 == len(hop.plan):
                self._end(ctx, hop, "done")
            elif ok:
                self._send(ctx, Hop(hop.saga, hop.step + 1, True, hop.plan, hop.client,
                                    hop.op_id))
            else:
                ctx.emit("saga_abort", saga=hop.saga, step=hop.step)
                self._back(ctx, hop, hop.step - 1)
        else:
            self.keys[key] = self.run_compensation(ctx, hop.saga, hop.step, account, -delta)
            self._back(ctx, hop, hop.step - 1)

    def _back(self, ctx, hop, step):
        if step < 0:                                       # compensated back to the start
            self._end(ctx, hop, "compensated")
        else:
            self._send(ctx, Hop(hop.saga, step, False, hop.plan, hop.client, hop.op_id))

    def _send(self, ctx, hop):
        key = (hop.saga, hop.step, hop.forward)
        self.outbox[key] = hop                             # durable before it leaves
        self.unsynced.add(key)
        ctx.send(shard_of(hop.plan[hop.step][0]), hop)
        ctx.later(lambda: self.unsynced.discard(key))
        if not ctx.timer_set("retry"):
            ctx.set_timer("retry", self.retry_interval)

    def _flush(self, ctx):
        for key, hop in self.outbox.items():
            if key not in self.unsynced:                   # its send is waiting for a sync
                ctx.send(shard_of(hop.plan[hop.step][0]), hop)
        if self.outbox:
            ctx.set_timer("retry", self.retry_interval)

    def _end(self, ctx, hop, outcome):
        ctx.emit("saga_end", saga=hop.saga, outcome=outcome)
        ctx.send(hop.client, TransferDone(hop.op_id, outcome == "done"))
