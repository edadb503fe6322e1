"""Two-phase commit with presumed abort, and the cooperative termination protocol.

Follows Gray & Lamport, "Consensus on Transaction Commit" (ACM TODS 2006), for the
two-phase commit protocol and why it blocks, and Mohan, Lindsay & Obermarck,
"Transaction Management in the R* Distributed Database Management System" (ACM TODS
1986), for presumed abort (PA).  The cooperative termination protocol is the one of
Bernstein, Hadzilacos & Goodman, *Concurrency Control and Recovery in Database Systems*
(1987), chapter 7 (distributed recovery).

**Roles.**  The transaction manager ``tm`` (the coordinator) runs each transfer as a
transaction over the participants (resource managers, the shards ``n1…``) that hold its
accounts.  Phase 1: ``tm`` sends :class:`Prepare`; each participant either refuses
(:class:`Vote` ``yes=False``: an account is locked, funds are short, or it just says no)
or force-writes a *prepared* record, locks the accounts and votes yes.  Phase 2: when every
vote is yes, ``tm`` force-writes a *commit* record and sends :class:`Commit`, repeating it
until each participant sends :class:`Ack`; then it writes *end* and forgets the
transaction.  Any no vote or a vote timeout aborts.

**Presumed abort, what is logged when.**  ``tm`` writes nothing before the commit record.
An aborted transaction leaves no log record and needs no acks: ``tm`` forgets it at
once.  The rule that makes forgetting safe: *a transaction that has no record at the
coordinator is aborted*.  It holds because the only record that can say otherwise, the
commit record, is written before any participant hears ``Commit``.  So an inquiry about
an unknown transaction, after a crash or long after the fact, is answered ``Abort``.  A
participant force-writes *prepared* before voting yes and records the outcome when it
learns it; its abort record need not be forced, since losing it only leads to an
inquiry that the presumption answers.

**Blocking.**  A prepared participant has promised to do whatever ``tm`` decides, so it
holds its locks and cannot decide alone.  While ``tm`` is down it stays blocked (it asks
again every ``inquire_interval``).  With ``termination="cooperative"`` it also asks the
other participants: one that committed or aborted says so, and one that has not voted
aborts unilaterally (durably, so it will vote no later) and says abort.  If every
participant is prepared, nobody knows the outcome and all stay blocked until ``tm``
recovers: cooperation shortens blocking but cannot remove it (Gray & Lamport; their
Paxos Commit removes it by replicating the coordinator's decision on acceptors).

**Safety properties** (checked by :func:`dsalgo.txn.check`): *atomicity*: every
participant of a transaction ends committed or every one ends aborted; *commit
validity*: ``tm`` decides commit only after every participant voted yes; and
*conservation* of the bank's money, judged as an exact per-account replay of the committed
transactions.

**Forced writes.**  Without a storage model disk writes are instantaneous and atomic with
the handler that makes them, so "forced" versus "lazy" is about *what* is written, not
when.  With one (``simulate(storage=…)``) a forced write is a sync that the message it
guards waits for: a participant votes yes once its prepared record is durable, acks a
commit (and records it as the ``commit`` event) once the commit is durable, and answers
a peer's inquiry with a unilateral abort once that abort is durable; ``tm`` records and
sends its commit decision once the commit record is durable, and meanwhile answers no
inquiry about it.  A crash loses what was not synced.

**Simplifications.**  A participant refuses a prepare on a locked account instead of
waiting for it (no-wait locking: no deadlocks, more aborts).  ``tm`` remembers which
client requests it has begun (``disk["requests"]``, the request table a real TM keeps)
so that a duplicated request is not run twice; it is not part of the commit protocol.
Reads take no locks (see :mod:`dsalgo.txn.bank`).  Only ``tm`` fails as a coordinator;
there is no coordinator replication.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .. import sim
from .._validate import check_choice, check_probability
from ..sim import checks, knob
from .bank import (
    Read,
    Shard,
    Transfer,
    TransferDone,
    WorkloadConfig,
    check_timeout,
    default_network,
    renamed_size,
    run_bank,
    shard_of,
)
from .checker import check
from .scenarios import TWOPC_SCENARIOS as SCENARIOS

__all__ = ["Prepare", "Vote", "Commit", "Abort", "Ack", "Inquire", "Coordinator",
           "Participant", "simulate", "check", "BUGS", "SCENARIOS", "Config",
           "WorkloadConfig"]

#: The planted bugs: name -> the rule of the protocol each one breaks.
BUGS = {
    "commit_without_all_votes": "tm decides commit on the first yes vote; the protocol "
                                "commits only once every participant has voted yes "
                                "(commit validity).",
    "participant_forgets_prepare": "A participant keeps its prepared record in volatile "
                                   "memory, so a crash makes it forget a yes vote; the "
                                   "record must be forced to disk before voting yes "
                                   "(atomicity).",
    "no_locks_at_prepare": "A participant prepares a transaction without locking its "
                           "accounts (nor refusing locked ones), so two transfers can check "
                           "funds against the same balance and both commit: atomic, but not "
                           "isolated (lost updates, overdrafts); the protocol holds the "
                           "locks from prepare to the outcome.",
    "no_inquiry": "A prepared participant waits to be told the outcome and never asks "
                  "for it: tm sends Abort once and forgets the transaction (presumed "
                  "abort), so a lost Abort leaves the participant prepared, holding its "
                  "locks, for ever; it must inquire until it learns the outcome "
                  "(progress).",
}


# ------------------------------------------------------------------ messages
@dataclass(frozen=True, slots=True)
class Prepare:
    """tm → participant: prepare your ``legs`` of ``txn`` (``participants`` are all of them)."""
    txn: str
    legs: tuple
    participants: tuple


@dataclass(frozen=True, slots=True)
class Vote:
    """participant → tm: prepared (``yes``) or refused."""
    txn: str
    yes: bool


@dataclass(frozen=True, slots=True)
class Commit:
    """The outcome is commit (from tm, or from a peer that knows it)."""
    txn: str


@dataclass(frozen=True, slots=True)
class Abort:
    """The outcome is abort (from tm, presumed, or from a peer)."""
    txn: str


@dataclass(frozen=True, slots=True)
class Ack:
    """participant → tm: I have recorded the commit; you may forget it."""
    txn: str


@dataclass(frozen=True, slots=True)
class Inquire:
    """A blocked participant asks what happened to ``txn``."""
    txn: str


# ------------------------------------------------------------------ coordinator
class Coordinator(sim.Node):
    """The transaction manager ``tm``.

    Parameters
    ----------
    vote_timeout : float
        Seconds to wait for all votes before aborting.
    resend_interval : float
        Seconds between resends of ``Commit`` to participants that have not acked.
    bugs : collection of str
        ``"commit_without_all_votes"`` commits on the first yes vote.

    Examples
    --------
    >>> from dsalgo import sim
    >>> from dsalgo.txn.bank import Transfer
    >>> tm, ctx = Coordinator(), sim.RecordingContext("tm")
    >>> tm.on_start(ctx)
    >>> tm.on_message(ctx, "c1", Transfer(4, (("n1:0", -3), ("n2:1", 3))))
    >>> ctx.sent()[0]
    Send(dst='n1', msg=Prepare(txn='t4', legs=(('n1:0', -3),), participants=('n1', 'n2')))
    """

    def __init__(self, *, vote_timeout: float = 0.05, resend_interval: float = 0.05,
                 bugs=()):
        self.vote_timeout = check_timeout("vote_timeout", vote_timeout)
        self.resend_interval = check_timeout("resend_interval", resend_interval)
        self.bugs = frozenset(bugs)

    def on_start(self, ctx):
        self.active = {}                                   # volatile: lost on a crash
        self.unsynced = set()                              # commit records not yet durable
        self.log = ctx.disk.setdefault("log", {})          # txn -> commit record (until end)
        self.requests = ctx.disk.setdefault("requests", {})
        if self.log:
            ctx.emit("recover", committed=tuple(self.log))
            self._resend(ctx)

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Transfer):
            self._begin(ctx, src, msg)
        elif isinstance(msg, Vote):
            self._vote(ctx, src, msg)
        elif isinstance(msg, Ack):
            rec = self.log.get(msg.txn)
            if rec is not None and src not in rec["acked"]:
                rec["acked"].append(src)
                if len(rec["acked"]) == len(rec["participants"]):
                    del self.log[msg.txn]                  # the end record: forget it
                    ctx.emit("end", txn=msg.txn)
        elif isinstance(msg, Inquire):
            if msg.txn in self.unsynced:
                return                                     # the commit record is on its way
            if msg.txn in self.log:
                ctx.send(src, Commit(msg.txn))
            elif msg.txn not in self.active:
                ctx.send(src, Abort(msg.txn))              # presumed abort: no record, aborted
            # still collecting votes: say nothing; the vote timeout will decide

    def on_timer(self, ctx, name):
        if name == "resend":
            self._resend(ctx)
        elif name.startswith("vote:"):
            txn = name[5:]
            if txn in self.active:
                self._abort(ctx, txn, "vote_timeout")

    def _begin(self, ctx, client, msg):
        txn = f"t{msg.op_id}"
        if txn in self.requests:
            return                                         # a duplicated request
        self.requests[txn] = client
        legs = {}
        for account, delta in msg.legs:
            legs.setdefault(shard_of(account), []).append((account, delta))
        parts = tuple(sorted(legs))
        self.active[txn] = {"client": client, "op_id": msg.op_id, "participants": parts,
                            "yes": []}
        ctx.emit("begin", txn=txn, participants=parts)
        for p in parts:
            ctx.send(p, Prepare(txn, tuple(legs[p]), parts))
        ctx.set_timer(f"vote:{txn}", self.vote_timeout)

    def _vote(self, ctx, src, msg):
        a = self.active.get(msg.txn)
        if a is None:
            if msg.yes and msg.txn not in self.log:
                ctx.send(src, Abort(msg.txn))              # presumed abort (we forgot it)
            return
        if not msg.yes:
            self._abort(ctx, msg.txn, "vote_no")
            return
        if src not in a["yes"]:
            a["yes"].append(src)
        if "commit_without_all_votes" in self.bugs or len(a["yes"]) == len(a["participants"]):
            self._commit(ctx, msg.txn)

    def _commit(self, ctx, txn):
        a = self.active.pop(txn)
        ctx.cancel_timer(f"vote:{txn}")
        # The commit point.  This record is written only after every participant voted
        # yes, and before anyone hears Commit: from here the transaction commits whatever
        # crashes follow (recovery resends Commit); before it, a crash means abort.
        self.log[txn] = {"participants": a["participants"], "acked": []}
        self.unsynced.add(txn)
        ctx.sync(then=lambda: self._decided(ctx, txn, a))  # forced: at once without storage

    def _decided(self, ctx, txn, a):
        """The commit record is durable: the decision stands; tell everyone."""
        self.unsynced.discard(txn)
        # ``votes``: the yes votes tm had received, so the checker can tell a commit
        # decided before every vote arrived (commit validity) from the tables.
        ctx.emit("decide", txn=txn, outcome="commit", votes=tuple(sorted(a["yes"])))
        ctx.broadcast(a["participants"], Commit(txn))
        ctx.send(a["client"], TransferDone(a["op_id"], True))
        if not ctx.timer_set("resend"):
            ctx.set_timer("resend", self.resend_interval)

    def _abort(self, ctx, txn, reason):
        a = self.active.pop(txn)
        ctx.cancel_timer(f"vote:{txn}")
        # Presumed abort: nothing is logged and no ack is awaited; lost Abort messages
        # are made good by the presumption when a prepared participant inquires.
        ctx.emit("decide", txn=txn, outcome="abort", reason=reason)
        ctx.broadcast(a["participants"], Abort(txn))
        ctx.send(a["client"], TransferDone(a["op_id"], False))

    def _resend(self, ctx):
        for txn, rec in self.log.items():
            if txn in self.unsynced:
                continue
            for p in rec["participants"]:
                if p not in rec["acked"]:
                    ctx.send(p, Commit(txn))
        if self.log:
            ctx.set_timer("resend", self.resend_interval)


# ------------------------------------------------------------------ participant
class Participant(Shard):
    """A resource manager: a shard of the bank that prepares, votes and applies.

    Parameters
    ----------
    accounts, initial_balance : int
        See :class:`dsalgo.txn.bank.Shard`.
    vote_no : float
        Probability of refusing a prepare that could have succeeded.
    inquire_interval : float
        Seconds a prepared participant waits before (and between) asking for the outcome.
    termination : {"wait", "cooperative"}
        Ask only ``tm``, or ``tm`` and the other participants.
    tm : str
        The coordinator's id.
    bugs : collection of str
        ``"participant_forgets_prepare"`` keeps the prepared record in volatile memory;
        ``"no_locks_at_prepare"`` prepares without locking; ``"no_inquiry"`` never asks
        for an outcome.

    Examples
    --------
    >>> from dsalgo import sim
    >>> p, ctx = Participant(accounts=1), sim.RecordingContext("n1")
    >>> p.on_start(ctx); _ = ctx.take()
    >>> p.on_message(ctx, "tm", Prepare("t1", (("n1:0", -5),), ("n1", "n2")))
    >>> ctx.take()[-2:]
    [Send(dst='tm', msg=Vote(txn='t1', yes=True)), SetTimer(name='inquire:t1', delay=0.05)]
    >>> ctx.disk["prepared"]["t1"]["legs"]
    (('n1:0', -5),)
    """

    def __init__(self, *, accounts: int = 2, initial_balance: int = 100, vote_no: float = 0.0,
                 inquire_interval: float = 0.05, termination: str = "wait", tm: str = "tm",
                 bugs=()):
        super().__init__(accounts=accounts, initial_balance=initial_balance)
        self.vote_no = check_probability("vote_no", vote_no)
        self.inquire_interval = check_timeout("inquire_interval", inquire_interval)
        self.termination = check_choice("termination", termination, ("wait", "cooperative"))
        self.tm = tm
        self.bugs = frozenset(bugs)

    def on_start(self, ctx):
        restarted = "balance" in ctx.disk
        self.open(ctx)
        self.done = ctx.disk.setdefault("done", {})        # txn -> "commit" | "abort"
        if "participant_forgets_prepare" in self.bugs:
            self.prepared = {}                             # the bug: lost on a crash
        else:
            self.prepared = ctx.disk.setdefault("prepared", {})
        self.locks = {}                                    # account -> txn, rebuilt from the log
        self.voting = set()                                # yes votes waiting for a sync
        for txn, rec in self.prepared.items():             # recovery: still in doubt
            if "no_locks_at_prepare" not in self.bugs:
                for account, _ in rec["legs"]:
                    self.locks[account] = txn
            self._wait(ctx, txn)
        if restarted:                                      # what survived the crash
            ctx.emit("recover", in_doubt=tuple(self.prepared))

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Prepare):
            self._prepare(ctx, msg)
        elif isinstance(msg, Commit):
            ack = [(src, Ack(msg.txn))] if src == self.tm else []  # once the commit is durable
            if msg.txn in self.prepared and msg.txn not in self.voting:
                self._finish(ctx, msg.txn, "commit", ack)  # one sync: the record, then the ack
            elif ack:
                ctx.sync(send=ack)
        elif isinstance(msg, Abort):
            if msg.txn in self.prepared and msg.txn not in self.voting:
                self._finish(ctx, msg.txn, "abort")
            elif msg.txn not in self.done:                 # abort overtook the prepare
                self.done[msg.txn] = "abort"
                ctx.emit("abort", txn=msg.txn, reason="abort_before_prepare")
        elif isinstance(msg, Inquire):
            self._inquiry(ctx, src, msg.txn)
        elif isinstance(msg, Read):
            self.answer_read(ctx, src, msg)

    def on_timer(self, ctx, name):
        if name.startswith("inquire:"):
            txn = name[8:]
            rec = self.prepared.get(txn)
            if rec is None:
                return
            ctx.send(self.tm, Inquire(txn))
            if self.termination == "cooperative":
                ctx.broadcast([p for p in rec["participants"] if p != ctx.id], Inquire(txn))
            ctx.set_timer(name, self.inquire_interval)

    def _prepare(self, ctx, msg):
        txn = msg.txn
        if txn in self.prepared:
            if txn not in self.voting:
                ctx.send(self.tm, Vote(txn, True))         # our vote was lost: say it again
            return
        if txn in self.done:
            if self.done[txn] == "abort":
                ctx.send(self.tm, Vote(txn, False))
            return
        bal = ctx.disk["balance"]
        unlocked = "no_locks_at_prepare" in self.bugs
        if not unlocked and any(a in self.locks for a, _ in msg.legs):
            reason = "locked"
        elif any(bal[a] + d < 0 for a, d in msg.legs):
            reason = "insufficient_funds"
        elif self.vote_no and ctx.rng.random() < self.vote_no:
            reason = "vote_no"
        else:
            reason = None
        if reason is not None:
            self.done[txn] = "abort"                       # unilateral abort before voting
            ctx.emit("vote", txn=txn, yes=False, reason=reason)
            ctx.emit("abort", txn=txn, reason=reason)
            ctx.send(self.tm, Vote(txn, False))
            return
        # Force the prepared record before voting yes: the yes vote is a promise to
        # commit if told to, and the promise must outlive a crash of this participant.
        self.prepared[txn] = {"legs": msg.legs, "participants": msg.participants}
        if not unlocked:
            for a, _ in msg.legs:
                self.locks[a] = txn
        # what the funds check read: the version each account was at (for isolation)
        read = {a: bal[a] for a, _ in msg.legs}
        self.voting.add(txn)

        def durable():                                     # at once without a storage model
            self.voting.discard(txn)
            ctx.emit("vote", txn=txn, yes=True, read=read)
            ctx.send(self.tm, Vote(txn, True))
            self._wait(ctx, txn)

        ctx.sync(then=durable)

    def _wait(self, ctx, txn):
        """Ask for the outcome of ``txn`` every ``inquire_interval`` until it is known."""
        if "no_inquiry" not in self.bugs:
            ctx.set_timer(f"inquire:{txn}", self.inquire_interval)

    def _finish(self, ctx, txn, outcome, send=()):
        """Release ``txn``'s locks and record ``outcome``; a commit is applied and recorded
        once durable, and ``send`` (``(dst, msg)`` pairs) leaves with that same sync."""
        rec = self.prepared.pop(txn)
        self.done[txn] = outcome
        for a, _ in rec["legs"]:
            if self.locks.get(a) == txn:
                del self.locks[a]
        ctx.cancel_timer(f"inquire:{txn}")
        if outcome == "commit":
            new = self.apply(ctx, rec["legs"])
            # recorded once durable: a crash before that loses the commit, which the
            # participant (prepared again after the restart) learns and applies anew
            def durable():
                ctx.emit("commit", txn=txn, balances=new)
                for dst, msg in send:
                    ctx.send(dst, msg)

            ctx.sync(then=durable)
        else:
            ctx.emit("abort", txn=txn, reason="told")

    def _inquiry(self, ctx, src, txn):
        outcome = self.done.get(txn)
        if outcome is None and txn not in self.prepared:
            # Not voted yet: tm cannot have committed, so abort unilaterally and durably
            # (a later Prepare gets a no vote).
            outcome = self.done[txn] = "abort"
            ctx.emit("abort", txn=txn, reason="peer_inquiry")
            ctx.sync(send=[(src, Abort(txn))])             # forced: it must never vote yes
            return
        if outcome is not None:
            ctx.send(src, Commit(txn) if outcome == "commit" else Abort(txn))
        # prepared ourselves: as uncertain as the asker; say nothing


# ------------------------------------------------------------------ knobs and harness
@dataclasses.dataclass(frozen=True)
class Config(sim.Config):
    """The protocol's knobs (the bank workload's are :class:`dsalgo.txn.bank.WorkloadConfig`).

    Examples
    --------
    >>> Config(termination="cooperative").termination
    'cooperative'
    >>> Config(vote_no=1.5)
    Traceback (most recent call last):
    ...
    ValueError: vote_no must be in [0, 1]; got 1.5
    """

    vote_no: float = knob(0.0, "Probability that a participant refuses a prepare it could "
                          "have accepted.", checks.probability)
    vote_timeout: float = knob(0.05, "Seconds tm waits for every vote before it aborts.",
                               checks.positive)
    resend_interval: float = knob(0.05, "Seconds between tm's resends of Commit to "
                                  "participants that have not acked.", checks.positive)
    inquire_interval: float = knob(0.05, "Seconds a prepared participant waits before (and "
                                   "between) asking for the outcome.", checks.positive)
    termination: str = knob("wait", "How a blocked participant learns the outcome: 'wait' "
                            "(ask tm) or 'cooperative' (ask tm and the other participants).",
                            checks.choice("wait", "cooperative"))
    span: int = knob(None, "Shards a transfer touches, one leg each (None: all n).",
                     checks.optional(checks.integer(low=2)))
    bugs: frozenset = knob(frozenset(), "Planted bugs switched on (names of BUGS).",
                           checks.bugs(BUGS))


def simulate(n: int = 3, *, seed: int = 0, duration: float = 4.0, network=None, faults=(),
             bugs=(), record_messages: bool = True, progress: bool = False, cpu=None,
             storage=None, **knobs) -> sim.Run:
    """Run a bank on two-phase commit: ``tm``, participants ``n1…nN``, clients ``c1…``.

    Clients issue transfers and reads for ``duration`` seconds; the run then goes on for
    ``drain`` more seconds (a workload knob, default 2) with no new operation, so that
    in-doubt transactions resolve: ``run.until`` is ``duration + drain``.  Faults are yours
    to give; end them by ``duration`` (e.g. ``Nemesis(end=duration)``) so that the tail is
    fault-free and the run reaches quiescence.

    Parameters
    ----------
    n : int
        Number of participants (shards) ``n1…nN``, at least 2.  (``participants=`` is the
        deprecated name.)
    seed : int
        Same seed, same tables.
    duration : float
        Seconds of load (the run lasts ``duration + drain``).
    network : dsalgo.sim.Network, optional
        Defaults to exponential latency with mean 1 ms, no loss.
    faults : iterable of dsalgo.sim.Fault
        Faults to inject (``tm`` and the participants may be hit; clients are not).
    bugs : collection of str
        Planted bugs, names of :data:`BUGS`.
    record_messages : bool
        Keep ``run.messages`` (turn off for speed).
    progress : bool
        Show a progress bar (``tqdm``) over simulated time while it runs.
    cpu : latency model or dict, optional
        The processing time of ``tm`` and the participants per message and timer (see
        :meth:`dsalgo.sim.Simulation.add_node`); default: none.  Clients take no time.
    storage : dsalgo.sim.Storage, optional
        The storage model of ``tm`` and the participants: forced writes (prepared,
        commit) are syncs that the messages they guard wait for, and a crash loses what
        was not synced; default: writes durable at once.
    **knobs
        The protocol's knobs, fields of :class:`Config` (``vote_no``, ``vote_timeout``,
        ``resend_interval``, ``inquire_interval``, ``termination``, ``span``), and the
        workload's, fields of :class:`dsalgo.txn.bank.WorkloadConfig` (``clients``,
        ``concurrency``, ``accounts``, ``initial_balance``, ``read_fraction``,
        ``client_timeout``, ``drain``, ``mode``, ``rate``, ``think``);
        ``Config.describe()`` and ``WorkloadConfig.describe()`` explain each.

    Returns
    -------
    dsalgo.sim.Run
        ``run.params`` holds ``"family": "twopc"``, ``n``, every knob, the workload's knobs
        under ``"workload"`` and ``duration`` (the load period).

    Examples
    --------
    >>> from dsalgo import txn
    >>> run = simulate(n=2, seed=1, duration=0.5, drain=0.5)
    >>> bool(txn.check(run)), sorted(set(run.history["f"])), run.until
    (True, ['read', 'transfer'], 1.0)
    >>> run.params["family"], run.params["termination"], run.params["workload"]["drain"]
    ('twopc', 'wait', 0.5)
    >>> opened = simulate(n=2, seed=1, duration=0.5, drain=0.5, mode="open", rate=100)
    >>> bool(txn.check(opened)), len(opened.history) > 50
    (True, True)
    """
    n = renamed_size(knobs, "participants", n)
    cfg, wl = sim.split_knobs(knobs, Config, WorkloadConfig)
    config, workload = Config(bugs=bugs, **cfg), WorkloadConfig(**wl)
    cluster = sim.Cluster("twopc", n, config, workload=workload, seed=seed, network=network,
                          record_messages=record_messages, default_network=default_network(),
                          min_n=2, cpu=cpu, storage=storage)
    cluster.add_node("tm", lambda: Coordinator(vote_timeout=config.vote_timeout,
                                               resend_interval=config.resend_interval,
                                               bugs=config.bugs), role="coordinator")
    cluster.add_servers(lambda sid: Participant(
        accounts=workload.accounts, initial_balance=workload.initial_balance,
        vote_no=config.vote_no, inquire_interval=config.inquire_interval,
        termination=config.termination, bugs=config.bugs))
    return run_bank(cluster, workload, "tm", duration=duration, faults=faults,
                    progress=progress, span=config.span, close=True)

