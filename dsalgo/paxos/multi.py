"""Multi-Paxos: a replicated log of commands behind a stable leader, and a key-value store.

Follows van Renesse & Altinbuken, "Paxos Made Moderately Complex" (2015) -- replicas,
leaders, acceptors, one Paxos instance per log *slot* -- collapsed the usual way into one
node that plays every role, as in Lamport, "Paxos Made Simple", §3:

* **Phase 1 once for all slots.**  A node that suspects the leader (no ``Heartbeat`` for
  ``election_timeout``) picks a higher ballot and sends ``Prepare(b, s)`` where ``s`` is the
  first slot it has not applied.  Each ``Promise`` carries the acceptor's accepted
  proposals at slots ``>= s``.  With a phase-1 quorum of promises it is leader: for each
  slot reported it re-proposes the value of the highest accepted ballot (the safety rule,
  PMMC §3 "pmax"), and fills every hole below the highest reported slot with a **no-op**
  so the log has no gaps.
* **One round trip per command.**  In steady state a client ``Request`` becomes
  ``Accept(b, slot, cmd)`` to the acceptors; ``Accepted`` from a phase-2 quorum chooses it,
  and ``Decided(slot, cmd)`` tells the learners.  At most ``window`` slots are in flight
  (the pipeline window, PMMC's ``WINDOW``); later requests queue at the leader.
* **Batching** (``max_batch``, as Raft's knob of that name).  The commands that reach the
  leader while it is busy go out together: a zero-delay ``flush`` timer queues behind the
  work already waiting at the leader, and when it fires the queued commands (at most
  ``max_batch``, sent at once when that many are waiting) take consecutive slots in one
  ``AcceptBatch``; an acceptor accepts them all or none (they share a ballot), makes
  them durable in one sync and answers with one ``AcceptedBatch``; the decision goes
  to the learners in one ``DecidedBatch``.  ``window`` then counts rounds in flight, not
  slots.  A lost round is re-sent slot by slot (plain ``Accept``).
* **Failure detection.**  The leader sends ``Heartbeat(b, commit)`` every
  ``heartbeat_interval``; a follower that misses them for an ``election_timeout`` (drawn at
  random from a range) takes over with a higher ballot.  A ``Nack`` tells a leader or
  candidate that a higher ballot exists: it steps down and waits a random timeout.
* **Replicas** apply decided commands (:class:`dsalgo.sim.Command`) in slot order to the
  shared key-value store :class:`dsalgo.sim.KVStore` (put, get, cas) and execute each client operation at most once (a retried request decided twice has
  effect only at its first slot).  The leader answers the client once it has applied
  the command; a lagging replica asks the leader for missed decisions (``Catchup``).

Safety properties (checked by :func:`dsalgo.paxos.check`): **agreement** (no slot decided
twice differently), **validity** (a decided command was requested by a client, or is a
no-op) and **state-machine safety** (every answer a client got is what the decided log
gives, in an order that respects real time).

Simplifications: the membership is fixed; the log and the store are volatile (a
restarted replica relearns them through ``Catchup`` and leader recovery) while the
acceptor state and the highest round used are durable; a node handles messages to itself
at once rather than over the network; reads go through the log like writes.

Events emitted: ``leader`` (round), ``preempted`` (round, by_round), ``accepted``
(slot, ballot, value: an acceptor accepted a proposal), ``decided`` (slot, value); in
both, ``value`` is the ``op_id`` of the command, ``-1`` for a no-op; ``apply`` (slot,
op_id, process, executed: a replica applied a client command, ``executed`` False when it
answered from its memory of results, a retried command decided twice).
"""

from __future__ import annotations

import warnings
from collections import deque

from dsalgo import sim

from .acceptor import Acceptor, DurableReplies
from .messages import (
    NOOP,
    ZERO_BALLOT,
    Accept,
    AcceptBatch,
    Accepted,
    AcceptedBatch,
    Catchup,
    Decided,
    DecidedBatch,
    Heartbeat,
    Nack,
    Prepare,
    Promise,
    Redirect,
    Reply,
    Request,
)

__all__ = ["MultiPaxosNode", "apply_command"]

_CATCHUP_BATCH = 32   # decisions sent per catch-up request


def _op_id(cmd):
    """What events record of a command: its ``op_id``, or ``-1`` for a no-op."""
    return -1 if cmd is NOOP else cmd.op_id


def apply_command(kv: dict, cmd) -> tuple:
    """Deprecated: apply ``cmd = (op_id, client, f, key, value)`` to the dict ``kv``.

    The replicas now apply :class:`dsalgo.sim.Command` values to a
    :class:`dsalgo.sim.KVStore`; use ``KVStore.execute(f, key, value)``.

    Examples
    --------
    >>> import warnings
    >>> kv = {}
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     apply_command(kv, (0, "c1", "put", "k", 5)), apply_command(kv, (1, "c1", "cas", "k", [5, 6]))
    (('ok', None), ('ok', True))
    >>> kv
    {'k': 6}
    """
    warnings.warn("paxos.apply_command is deprecated; use dsalgo.sim.KVStore(dedup=False)"
                  ".execute(f, key, value)", DeprecationWarning, stacklevel=2)
    store = sim.KVStore(dedup=False)
    store.data = kv
    _op, _client, f, key, value = cmd
    return store.execute(f, key, value)


class MultiPaxosNode(DurableReplies, sim.Node):
    """Acceptor, leader, learner and key-value replica in one node.

    Parameters
    ----------
    nodes : list of str
        Every server, this node included.
    quorums : object
        ``is_read_quorum(ids)`` (phase 1) and ``is_write_quorum(ids)`` (phase 2).
    heartbeat_interval : float
        Seconds between the leader's heartbeats.
    election_timeout : (float, float)
        Range of the random silence, in seconds, after which a follower takes over.
    window : int
        Most slots a leader keeps in flight (proposed, not yet decided); with
        ``max_batch``, most rounds.
    max_batch : int, optional
        Batching: the most commands one accept round carries (None: a round per command).
    bugs : set of str
        Deliberate defects: ``"acceptor_forgets_promise"``, ``"ignore_accepted_value"``,
        ``"duplicate_ballots"``, ``"dedup_at_leader_only"``, ``"no_accept_retransmit"`` (see
        :data:`dsalgo.paxos.BUGS`).

    Examples
    --------
    A follower whose election timer fires asks the others to promise a higher ballot:

    >>> from dsalgo import sim
    >>> from dsalgo import quorum
    >>> ids, q = ["n1", "n2", "n3"], quorum.majority(3)
    >>> node, ctx = MultiPaxosNode(ids, q), sim.RecordingContext("n1")
    >>> node.on_start(ctx); ctx.take()
    [SetTimer(name='election', delay=(0.15, 0.3))]
    >>> ctx.fire(node, "election")
    [SetTimer(name='election', delay=(0.15, 0.3)), Emit(kind='promise', fields={'ballot': (1, 'n1')}), Send(dst='n2', msg=Prepare(ballot=(1, 'n1'), slot=0)), Send(dst='n3', msg=Prepare(ballot=(1, 'n1'), slot=0))]
    """

    def __init__(self, nodes, quorums, *, heartbeat_interval=0.05, election_timeout=(0.15, 0.3),
                 window=8, max_batch=None, bugs=frozenset()):
        self.nodes = list(nodes)
        self.quorums = quorums
        self.heartbeat_interval = heartbeat_interval
        self.election_timeout = tuple(election_timeout)
        self.window = window
        self.max_batch = max_batch
        self.bugs = frozenset(bugs)

    # ------------------------------------------------------------------ lifecycle
    def on_start(self, ctx):
        forgetful = "acceptor_forgets_promise" in self.bugs
        # ``accepted`` events carry the op_id, like ``decided`` ones, so the checker can
        # compare what a quorum chose with what learners recorded.
        self.acceptor = Acceptor({} if forgetful else ctx.disk, label=_op_id, bugs=self.bugs)
        self.instant = ctx.durable_at_once     # no storage model: syncs take no time
        self.others = [d for d in self.nodes if d != ctx.id]
        # replica / learner
        self.decided = {}            # slot -> command
        self.applied = 0             # every slot below has been applied
        self.lag_mark = 0            # the leader's commit point at the last heartbeat
        self.store = sim.KVStore(dedup=False)
        # op_id -> (status, result): at-most-once execution.  Keyed by operation, not by
        # the store's per-process memory: a client may have several operations in flight,
        # decided in any order, and op ids are unique across the run.
        self.results = {}
        # leader
        self.role = "follower"       # "follower", "candidate" or "leader"
        self.ballot = ZERO_BALLOT
        self.leader = None           # who we believe leads
        self.promises = {}
        self.from_slot = 0
        self.proposals = {}          # slot -> command, in flight
        self.votes = {}              # slot -> acceptors that accepted it
        self.sent_at = {}            # slot -> local time its Accept was last sent
        self.next_slot = 0
        self.queue = deque()         # client commands waiting for a window slot
        self.pending = set()         # op_ids queued or in flight
        self.round_of = {}           # batching: slot in flight -> first slot of its round
        self.rounds = {}             # batching: first slot of a round -> slots undecided
        ctx.set_timer("election", self.election_timeout)

    def on_timer(self, ctx, name):
        if name == "election":
            if self.role != "leader":
                self._start_phase1(ctx)
        elif name == "heartbeat" and self.role == "leader":
            self._heartbeat(ctx)
        elif name == "flush":
            self._fill_window(ctx)

    def on_message(self, ctx, src, msg):
        cls = msg.__class__
        if cls is Accept:
            reply = self.acceptor.on_accept(msg)
            if reply.__class__ is Accepted:
                # the acceptance is recorded (and answered) once it is durable
                self._durable_reply(ctx, src, reply, msg)
            else:
                self._reply(ctx, src, reply)
            self._check_deposed(ctx)
        elif cls is Accepted:
            self._on_accepted(ctx, src, msg.ballot, (msg.slot,))
        elif cls is Decided:
            self._learn(ctx, msg.slot, msg.value)
        elif cls is AcceptBatch:
            self._on_accept_batch(ctx, src, msg)
        elif cls is AcceptedBatch:
            self._on_accepted(ctx, src, msg.ballot, range(msg.slot, msg.slot + msg.count))
        elif cls is DecidedBatch:
            for i, value in enumerate(msg.values):
                self._learn(ctx, msg.slot + i, value)
        elif cls is Heartbeat:
            self._on_heartbeat(ctx, src, msg)
        elif cls is Request:
            self._on_request(ctx, src, msg)
        elif cls is Prepare:
            reply = self.acceptor.on_prepare(msg)
            if reply.__class__ is Promise:
                if src != ctx.id:
                    ctx.set_timer("election", self.election_timeout)  # give the candidate time
                self._durable_reply(ctx, src, reply)
            else:
                self._reply(ctx, src, reply)
            self._check_deposed(ctx)
        elif cls is Promise:
            self._on_promise(ctx, src, msg)
        elif cls is Nack:
            if msg.ballot == self.ballot and self.role != "follower":
                self._step_down(ctx, msg.promised)
        elif cls is Catchup:
            self._on_catchup(ctx, src, msg)

    # ------------------------------------------------------------------ phase 1
    def _start_phase1(self, ctx):
        disk = ctx.disk
        rnd = max(disk.get("round", 0), self.acceptor.promised[0], self.ballot[0]) + 1
        disk["round"] = rnd          # durable: never reuse a ballot after a restart
        owner = "" if "duplicate_ballots" in self.bugs else ctx.id
        self.ballot = ballot = (rnd, owner)
        self.role = "candidate"
        self.leader = None
        self.promises = {}
        self.from_slot = self.applied
        self._clear_proposals()
        ctx.set_timer("election", self.election_timeout)   # phase 1 gives up after this
        prepare = Prepare(ballot, self.from_slot)
        # the round is durable before the ballot is used (a restart must not reuse it)
        ctx.sync(then=lambda: (self.ballot == ballot and self.role == "candidate"
                               and self._to_all(ctx, prepare)))

    def _on_promise(self, ctx, src, msg):
        if self.role != "candidate" or msg.ballot != self.ballot:
            return
        self.promises[src] = msg.accepted
        if not self.quorums.is_read_quorum(self.promises.keys()):
            return
        # Leader of ballot b: every slot some quorum member accepted must be re-proposed
        # with the value of the highest ballot accepted there.  A value chosen at a lower
        # ballot was accepted by a phase-2 quorum, which meets this phase-1 quorum, so some
        # promise reports it; and every proposal of a higher ballot since carries that same
        # value (by this very rule), so the highest-ballot value reported is the chosen one.
        best = {}
        for entries in self.promises.values():
            for slot, b, value in entries:
                if slot not in best or b > best[slot][0]:
                    best[slot] = (b, value)
        if "ignore_accepted_value" in self.bugs:
            best = {slot: (b, NOOP) for slot, (b, _v) in best.items()}
        self.role = "leader"
        self.leader = ctx.id
        ctx.cancel_timer("election")
        ctx.emit("leader", round=self.ballot[0])
        end = max(best, default=self.from_slot - 1) + 1
        self.next_slot = max(end, self.from_slot)
        for slot in range(self.from_slot, end):
            if slot not in self.decided:
                self._propose(ctx, slot, best[slot][1] if slot in best else NOOP)
        self._heartbeat(ctx)
        self._fill_window(ctx)

    # ------------------------------------------------------------------ phase 2
    def _on_request(self, ctx, src, msg):
        done = self.results.get(msg.op_id)
        if done is not None:
            ctx.send(src, Reply(msg.op_id, *done))
        elif self.role != "leader":
            ctx.send(src, Redirect(msg.op_id, self.leader))
        elif msg.op_id not in self.pending:
            self.pending.add(msg.op_id)
            self.queue.append(sim.Command(src, msg.op_id, msg.f, msg.key, msg.value))
            if self.max_batch is None or len(self.queue) >= self.max_batch:
                self._fill_window(ctx)
            elif not ctx.timer_set("flush"):
                # a zero-delay timer queues behind the work already waiting at a busy
                # leader, so every command that arrives meanwhile goes out in its round
                ctx.set_timer("flush", 0.0)

    def _fill_window(self, ctx):
        batch = self.max_batch
        if batch is None:
            while self.queue and len(self.proposals) < self.window and self.role == "leader":
                slot = self.next_slot
                self.next_slot += 1
                self._propose(ctx, slot, self.queue.popleft())
            return
        ctx.cancel_timer("flush")
        queue = self.queue
        while queue and len(self.rounds) < self.window and self.role == "leader":
            cmds = tuple(queue.popleft() for _ in range(min(batch, len(queue))))
            first = self.next_slot
            self.next_slot += len(cmds)
            now = ctx.now
            for i, cmd in enumerate(cmds):
                slot = first + i
                self.proposals[slot] = cmd
                self.votes[slot] = set()
                self.sent_at[slot] = now
                self.round_of[slot] = first
            self.rounds[first] = len(cmds)
            self._to_all(ctx, AcceptBatch(self.ballot, first, cmds))

    def _propose(self, ctx, slot, cmd):
        self.proposals[slot] = cmd
        self.votes[slot] = set()
        self.sent_at[slot] = ctx.now
        if self.max_batch is not None:   # a round of its own (leader recovery)
            self.round_of[slot] = slot
            self.rounds[slot] = 1
        self._to_all(ctx, Accept(self.ballot, slot, cmd))

    def _on_accept_batch(self, ctx, src, msg):
        """An acceptor's part of a batched round: all of its proposals share the ballot,
        so they are accepted together (one sync, one reply) or refused together."""
        acceptor = self.acceptor
        first = acceptor.on_accept(Accept(msg.ballot, msg.slot, msg.values[0]))
        if first.__class__ is not Accepted:
            self._reply(ctx, src, first)          # a Nack: a higher ballot was promised
        else:
            for i in range(1, len(msg.values)):
                acceptor.on_accept(Accept(msg.ballot, msg.slot + i, msg.values[i]))
            self._durable_reply(ctx, src, AcceptedBatch(msg.ballot, msg.slot,
                                                        len(msg.values)), msg)
        self._check_deposed(ctx)

    def _on_accepted(self, ctx, src, ballot, slots):
        if self.role != "leader" or ballot != self.ballot:
            return
        chosen = []
        for slot in slots:
            votes = self.votes.get(slot)
            if votes is None:
                continue
            votes.add(src)
            if self.quorums.is_write_quorum(votes):
                cmd = self.proposals.pop(slot)
                del self.votes[slot], self.sent_at[slot]
                chosen.append((slot, cmd))
                first = self.round_of.pop(slot, None)
                if first is not None:
                    left = self.rounds[first] - 1
                    if left:
                        self.rounds[first] = left
                    else:
                        del self.rounds[first]
        if not chosen:
            return
        if len(chosen) == 1:
            decided = Decided(*chosen[0])
        elif chosen[-1][0] - chosen[0][0] == len(chosen) - 1:   # consecutive slots
            decided = DecidedBatch(chosen[0][0], tuple(cmd for _s, cmd in chosen))
        else:
            decided = None
        for dst in self.others:
            if decided is not None:
                ctx.send(dst, decided)
            else:
                for slot, cmd in chosen:
                    ctx.send(dst, Decided(slot, cmd))
        for slot, cmd in chosen:
            self._learn(ctx, slot, cmd)
        self._fill_window(ctx)

    # ------------------------------------------------------------------ leadership
    def _heartbeat(self, ctx):
        hb = Heartbeat(self.ballot, self.applied)
        for dst in self.others:
            ctx.send(dst, hb)
        # Re-send Accepts that have waited long enough to have been lost.  (BUG
        # no_accept_retransmit: trust the network and never do.)
        stale = ctx.now - self.election_timeout[0]
        resend = () if "no_accept_retransmit" in self.bugs else list(self.sent_at.items())
        for slot, t in resend:
            if t <= stale:
                self.sent_at[slot] = ctx.now
                acc = Accept(self.ballot, slot, self.proposals[slot])
                for dst in self.others:
                    if dst not in self.votes[slot]:
                        ctx.send(dst, acc)
        ctx.set_timer("heartbeat", self.heartbeat_interval)

    def _on_heartbeat(self, ctx, src, msg):
        promised = self.acceptor.promised
        if msg.ballot < promised:
            ctx.send(src, Nack(msg.ballot, promised))   # a deposed leader: tell it
            return
        if self.role != "follower" and msg.ballot > self.ballot:
            self._step_down(ctx, msg.ballot)
        if self.role == "follower":
            self.leader = src
            ctx.set_timer("election", self.election_timeout)
            # Decisions may still be on the wire; only a replica still short of what the
            # leader had applied one heartbeat ago has really missed some.
            if self.applied < self.lag_mark:
                ctx.send(src, Catchup(self.applied))
            self.lag_mark = msg.commit

    def _on_catchup(self, ctx, src, msg):
        for slot in range(msg.slot, msg.slot + _CATCHUP_BATCH):
            cmd = self.decided.get(slot, self)
            if cmd is self:
                break
            ctx.send(src, Decided(slot, cmd))

    def _check_deposed(self, ctx):
        promised = self.acceptor.promised
        if self.role != "follower" and promised > self.ballot:
            self._step_down(ctx, promised)

    def _step_down(self, ctx, higher):
        ctx.emit("preempted", round=self.ballot[0], by_round=higher[0])
        self.role = "follower"
        self.leader = higher[1] or None
        self._clear_proposals()
        ctx.cancel_timer("heartbeat")
        ctx.set_timer("election", self.election_timeout)   # random: the back-off

    def _clear_proposals(self):
        self.proposals.clear()
        self.votes.clear()
        self.sent_at.clear()
        self.queue.clear()
        self.pending.clear()
        self.round_of.clear()
        self.rounds.clear()

    # ------------------------------------------------------------------ replica
    def _learn(self, ctx, slot, cmd):
        known = self.decided.get(slot, self)
        if known is not self:
            if known != cmd:   # cannot happen in correct Paxos; recorded for the checker
                ctx.emit("decided", slot=slot, value=_op_id(cmd))
            return
        self.decided[slot] = cmd
        ctx.emit("decided", slot=slot, value=_op_id(cmd))
        trusting = "dedup_at_leader_only" in self.bugs
        while self.applied in self.decided:
            at = self.applied
            cmd = self.decided[at]
            self.applied += 1
            if cmd is NOOP:
                continue
            op_id = cmd.op_id
            done = self.results.get(op_id)
            # BUG dedup_at_leader_only: the replica trusts the leader to have filtered
            # retries and executes whatever was decided, a second copy included
            executed = done is None or trusting
            if executed:
                done = self.results[op_id] = self.store.execute(cmd.f, cmd.key, cmd.value)
            ctx.emit("apply", slot=at, op_id=op_id, process=cmd.process, executed=executed)
            self.pending.discard(op_id)
            if self.role == "leader":
                ctx.send(cmd.process, Reply(op_id, *done))

    # ------------------------------------------------------------------ plumbing
    def _to_all(self, ctx, msg):
        self.on_message(ctx, ctx.id, msg)      # our own acceptor: no network hop
        for dst in self.others:
            ctx.send(dst, msg)

    def _record_accept(self, ctx, msg):
        # emitted on every acceptance, retransmissions included (see Acceptor)
        if msg.__class__ is AcceptBatch:
            for i, value in enumerate(msg.values):
                ctx.emit("accepted", slot=msg.slot + i, ballot=msg.ballot,
                         value=_op_id(value))
        elif msg is not None:
            ctx.emit("accepted", slot=msg.slot, ballot=msg.ballot, value=_op_id(msg.value))

