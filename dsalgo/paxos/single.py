"""Single-decree Paxos: a set of nodes choose one value, once.

Follows Lamport, "Paxos Made Simple" (2001), §2.  Every node is an acceptor and a
learner; the first few are also proposers, each wanting its own value chosen.

A proposer picks a ballot ``(round, id)`` above any it has seen and runs

1. **Phase 1** -- ``Prepare(b)`` to every acceptor; a ``Promise(b, accepted)`` from a
   phase-1 quorum means no lower ballot can still get a value chosen.  If any promise
   reports an accepted proposal, the proposer *must* propose the value of the highest
   accepted ballot among them (§2.2, P2c); only if none does may it propose its own.
2. **Phase 2** -- ``Accept(b, v)`` to every acceptor; ``Accepted(b)`` from a phase-2 quorum
   means ``v`` is chosen, and the proposer tells every learner with ``Decided(v)``.

A ``Nack`` (an acceptor promised a higher ballot) preempts the proposer: it waits a
random back-off drawn from ``backoff`` and starts over with a higher round.  Two proposers
that retry at once can preempt each other forever (the livelock of §2.4); the random
back-off is what makes one of them finish first.

Safety properties (checked by :func:`dsalgo.paxos.check`):

* **agreement** -- no two learners learn different values (a learner that hears a second,
  different value records it too, so a violation shows up in ``run.events``);
* **validity** -- a learned value was proposed by some proposer.

Phase-1 and phase-2 quorums come from any quorum system (Flexible Paxos, Howard, Malkhi
& Spiegelman 2016): safety needs only that every phase-1 quorum meets every phase-2
quorum.

Simplifications: acceptors and proposers share nodes, and a node's messages to itself are
handled at once rather than sent over the network; a learner's knowledge is volatile
(a restarted learner relearns from a proposer); a proposer retries on a timer until it
learns a decision.

Events emitted: ``propose`` (value), ``preempted`` (round, by_round), ``promise``
(ballot: an acceptor promised it), ``accepted`` (slot, ballot, value: an acceptor accepted
a proposal; slot 0), ``decided`` (slot, value).
"""

from __future__ import annotations

from dsalgo import sim

from .acceptor import Acceptor, DurableReplies
from .messages import ZERO_BALLOT, Accept, Accepted, Decided, Nack, Prepare, Promise

__all__ = ["SingleDecreeNode"]


class SingleDecreeNode(DurableReplies, sim.Node):
    """An acceptor and learner, and a proposer of ``value`` unless it is ``None``.

    Parameters
    ----------
    nodes : list of str
        Every acceptor (and learner), this node included.
    quorums : object
        ``is_read_quorum(ids)`` (phase 1) and ``is_write_quorum(ids)`` (phase 2).
    value : object, optional
        The value this node proposes; ``None`` makes it a pure acceptor and learner.
    backoff : (float, float)
        Range of the random wait, in seconds, after a proposer is preempted.
    retry_timeout : float
        Seconds a proposer waits for a quorum before trying a higher ballot.
    bugs : set of str
        Deliberate defects: ``"acceptor_forgets_promise"``, ``"ignore_accepted_value"``,
        ``"duplicate_ballots"``, ``"stale_votes"``, and the acceptor's
        ``"accept_below_promise"``, ``"reply_before_write"`` and ``"reply_before_sync"``
        (see :data:`dsalgo.paxos.BUGS`).

    Examples
    --------
    One proposer, three acceptors, 10 ms links: the value is chosen after two round trips
    (phase 1, phase 2) and learned one hop later.

    >>> from dsalgo import sim
    >>> from dsalgo import quorum
    >>> ids, q = ["n1", "n2", "n3"], quorum.majority(3)
    >>> s = sim.Simulation(seed=1, network=sim.Network(latency=sim.Constant(0.01)))
    >>> for i in ids:
    ...     s.add_node(i, lambda i=i: SingleDecreeNode(ids, q, value="x" if i == "n1" else None))
    >>> run = s.run(until=1.0)
    >>> run.events.loc[run.events.kind == "decided", ["time", "node", "value"]].to_dict("records")
    [{'time': 0.04, 'node': 'n1', 'value': 'x'}, {'time': 0.05, 'node': 'n2', 'value': 'x'}, {'time': 0.05, 'node': 'n3', 'value': 'x'}]
    """

    def __init__(self, nodes, quorums, *, value=None, backoff=(0.0, 0.02), retry_timeout=0.1,
                 bugs=frozenset()):
        self.nodes = list(nodes)
        self.quorums = quorums
        self.value = value
        self.backoff = tuple(backoff)
        self.retry_timeout = retry_timeout
        self.bugs = frozenset(bugs)

    # ------------------------------------------------------------------ lifecycle
    def on_start(self, ctx):
        forgetful = "acceptor_forgets_promise" in self.bugs
        self.acceptor = Acceptor({} if forgetful else ctx.disk, bugs=self.bugs)
        self.instant = ctx.durable_at_once     # no storage model: syncs take no time
        self.learned = None          # the value this learner knows is chosen
        self.phase = None            # proposer: None, "prepare", "accept", "wait", "done"
        self.ballot = ZERO_BALLOT
        self.seen_round = 0          # highest round heard of, so the next one is higher
        self.promises = {}
        self.voters = set()
        self.proposal = None
        self.proposal_ballot = None  # the ballot whose Accepts are out, until it is chosen
        if self.value is not None:
            ctx.emit("propose", value=self.value)
            self._prepare(ctx)

    def on_timer(self, ctx, name):
        if name == "retry" and self.phase != "done":
            self._prepare(ctx)

    def on_message(self, ctx, src, msg):
        cls = msg.__class__
        if cls is Prepare:
            reply = self.acceptor.on_prepare(msg)
            if reply.__class__ is Promise:
                self._durable_reply(ctx, src, reply)
            else:
                self._reply(ctx, src, reply)
        elif cls is Accept:
            reply = self.acceptor.on_accept(msg)
            if reply.__class__ is Accepted:
                # the acceptance is recorded (and answered) once it is durable
                self._durable_reply(ctx, src, reply, msg)
            else:
                self._reply(ctx, src, reply)
        elif cls is Promise:
            self._on_promise(ctx, src, msg)
        elif cls is Accepted:
            self._on_accepted(ctx, src, msg)
        elif cls is Nack:
            self._on_nack(ctx, msg)
        elif cls is Decided:
            self._learn(ctx, msg.value)

    # ------------------------------------------------------------------ proposer
    def _prepare(self, ctx):
        disk = ctx.disk
        # The round is durable so a restarted proposer never reuses a ballot with a
        # different value.
        rnd = max(disk.get("round", 0), self.seen_round) + 1
        disk["round"] = rnd
        owner = "" if "duplicate_ballots" in self.bugs else ctx.id
        self.ballot = ballot = (rnd, owner)
        self.phase = "prepare"
        self.promises = {}
        ctx.set_timer("retry", self.retry_timeout)
        prepare = Prepare(ballot, 0)
        if self.instant:
            self._to_all(ctx, prepare)
        else:  # the round is durable before the ballot is used
            ctx.sync(then=lambda: (self.ballot == ballot and self.phase == "prepare"
                                   and self._to_all(ctx, prepare)))

    def _on_promise(self, ctx, src, msg):
        if self.phase != "prepare" or msg.ballot != self.ballot:
            return
        self.promises[src] = msg.accepted
        if not self.quorums.is_read_quorum(self.promises.keys()):
            return
        best_ballot, value = ZERO_BALLOT, self.value
        if "ignore_accepted_value" not in self.bugs:
            for entries in self.promises.values():
                for _slot, b, v in entries:
                    # P2c: adopt the value of the highest ballot accepted in the quorum;
                    # it may already be chosen, and then it is the only safe proposal.
                    if b > best_ballot:
                        best_ballot, value = b, v
        self.phase = "accept"
        self.proposal = value
        self.proposal_ballot = self.ballot
        if "stale_votes" not in self.bugs:   # (BUG stale_votes: earlier ballots' votes stay)
            self.voters = set()
        ctx.set_timer("retry", self.retry_timeout)
        self._to_all(ctx, Accept(self.ballot, 0, value))

    def _on_accepted(self, ctx, src, msg):
        # Votes still count after this node has learned a decision from another proposer
        # (phase "done"): if they make a quorum, our value is chosen too, which correct
        # Paxos rules out -- but a broken variant does not, and the checker can only see
        # a second chosen value if its proposer records it.
        # (BUG stale_votes: an Accepted of an earlier ballot of ours counts too)
        if (self.phase not in ("accept", "done") or self.proposal_ballot != self.ballot
                or (msg.ballot != self.ballot and "stale_votes" not in self.bugs)):
            return
        self.voters.add(src)
        if self.quorums.is_write_quorum(self.voters):
            self.phase = "done"
            self.proposal_ballot = None
            if self.learned is None or self.learned != self.proposal:
                decided = Decided(0, self.proposal)
                for dst in self.nodes:
                    if dst != ctx.id:
                        ctx.send(dst, decided)
            self._learn(ctx, self.proposal)

    def _on_nack(self, ctx, msg):
        if msg.ballot != self.ballot or self.phase not in ("prepare", "accept"):
            return
        self.seen_round = max(self.seen_round, msg.promised[0])
        self.phase = "wait"
        ctx.emit("preempted", round=msg.ballot[0], by_round=msg.promised[0])
        ctx.set_timer("retry", self.backoff)

    # ------------------------------------------------------------------ learner
    def _learn(self, ctx, value):
        if self.learned is None:
            self.learned = value
            self.phase = "done"
            ctx.cancel_timer("retry")
            ctx.emit("decided", slot=0, value=value)
        elif value != self.learned:
            # Cannot happen in correct Paxos; recorded so the checker sees it.
            ctx.emit("decided", slot=0, value=value)

    # ------------------------------------------------------------------ plumbing
    def _to_all(self, ctx, msg):
        for dst in self.nodes:
            if dst == ctx.id:
                self.on_message(ctx, dst, msg)   # our own acceptor: no network hop
            else:
                ctx.send(dst, msg)

    @staticmethod
    def _record_accept(ctx, msg):
        if msg is not None:
            ctx.emit("accepted", slot=msg.slot, ballot=msg.ballot, value=msg.value)

