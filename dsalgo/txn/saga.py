"""Sagas: a sequence of local transactions undone, on failure, by compensations.

Follows Garcia-Molina & Salem, "Sagas" (SIGMOD 1987): a saga is a sequence
``T1, T2, … Tn`` of local transactions, each with a compensating transaction ``Ci``
that semantically undoes it.  The system guarantees that either ``T1 … Tn`` all run, or
``T1 … Tj, Cj … C1`` run for some ``j`` (backward recovery).  Sagas give up
isolation for availability: nothing is locked between steps, so other sagas and readers
see the intermediate states.

**Roles.**  The orchestrator ``orch`` (the paper's saga execution component) runs each
transfer as a saga with one step per service ``n1 … n{steps}`` in that order: step ``i``
adds the transfer's leg to an account on service ``ni`` (a debit or a credit) as one
local transaction.  A step may fail (a debit that would overdraw, or a business
rejection with probability ``step_failure``); ``orch`` then runs the compensations of the
completed steps in reverse order.  Compensations never fail (the paper's assumption):
they add the opposite delta even if the account goes negative, which the checker
reports as an anomaly (an overdraft).  The local transactions themselves live in
:mod:`dsalgo.txn.local`, shared with the choreographed form.

**Durability and retries.**  ``orch`` keeps its saga log in ``ctx.disk`` (begin, each
step's completion, each compensation) and resumes every unfinished saga after a crash,
by resending the pending request; it also resends a request every ``retry_interval``
until answered.  Requests therefore arrive more than once (retries, duplicated
messages).  Each carries an *idempotency key* (``"s12:2:do"``, ``"s12:2:undo"``), and a
service records the outcome of every key durably, in the same local transaction as the
step, and answers a repeat from that record instead of applying it again.

**Safety properties** (checked by :func:`dsalgo.txn.check`): *semantic atomicity*: every
saga ends all-done or all-compensated, each step applied at most once and compensated
at most once, only completed steps compensated; *compensation order*: reverse order of
the steps; *conservation* of the bank's money at quiescence.  Isolation anomalies (reads
of intermediate states, steps that read a state later compensated, lost updates,
overdrafts) are measured in ``verdict.info``, not counted as violations.

**Simplifications.**  The choreographed form (no orchestrator) lives in
:mod:`dsalgo.txn.choreography`; :func:`simulate` runs either.  Only backward
recovery (no save-points or forward recovery).  ``orch`` retries a step until it is
answered and does not give up on a service that is down; with a fault-free tail every
saga ends.  Updates are deltas and compensations add the opposite delta, so a
compensation never overwrites another saga's update; ``compensation="restore"`` undoes a
step by restoring its before-image instead, and the checker then measures the updates it
loses (:mod:`dsalgo.txn.local`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .. import sim
from ..sim import checks, knob
from .bank import (
    Read,
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
from .choreography import ChoreographedService
from .local import COMPENSATIONS, Durably, SagaShard
from .scenarios import SAGA_SCENARIOS as SCENARIOS

__all__ = ["Step", "StepReply", "Compensate", "Compensated", "Orchestrator", "Service",
           "simulate", "check", "BUGS", "SCENARIOS", "Config", "WorkloadConfig"]

#: The planted bugs: name -> the rule of the protocol each one breaks.
BUGS = {
    "non_idempotent_retry": "A service applies every request it receives, ignoring its "
                            "idempotency key, so a retried or duplicated step or "
                            "compensation runs twice; each must run at most once "
                            "(semantic atomicity).",
    "orchestrator_does_not_resume": "orch keeps its saga log on disk but, restarting "
                                    "after a crash, does not resume the sagas in flight: "
                                    "they never end, neither committed nor compensated, "
                                    "and their applied steps stay applied; recovery must "
                                    "resume every saga its log shows unfinished "
                                    "(progress).",
}


# ------------------------------------------------------------------ messages
@dataclass(frozen=True, slots=True)
class Step:
    """orch → service: run step ``step`` of ``saga``: add ``delta`` to ``account``."""
    saga: str
    step: int
    key: str
    account: str
    delta: int


@dataclass(frozen=True, slots=True)
class StepReply:
    """service → orch: the step committed locally (``ok``) or failed with no effect."""
    saga: str
    step: int
    ok: bool


@dataclass(frozen=True, slots=True)
class Compensate:
    """orch → service: undo step ``step`` of ``saga`` (add ``delta``, the opposite)."""
    saga: str
    step: int
    key: str
    account: str
    delta: int


@dataclass(frozen=True, slots=True)
class Compensated:
    """service → orch: the compensation is done."""
    saga: str
    step: int


# ------------------------------------------------------------------ orchestrator
class Orchestrator(sim.Node):
    """The saga execution component ``orch``.

    Parameters
    ----------
    retry_interval : float
        Seconds between resends of an unanswered step or compensation.
    bugs : collection of str
        ``"orchestrator_does_not_resume"`` leaves the sagas in flight at a crash alone.

    Examples
    --------
    >>> from dsalgo import sim
    >>> o, ctx = Orchestrator(), sim.RecordingContext("orch")
    >>> o.on_start(ctx)
    >>> o.on_message(ctx, "c1", Transfer(3, (("n1:0", -2), ("n2:0", 2))))
    >>> ctx.sent()
    [Send(dst='n1', msg=Step(saga='s3', step=0, key='s3:0:do', account='n1:0', delta=-2))]
    """

    def __init__(self, *, retry_interval: float = 0.05, bugs=()):
        self.retry_interval = check_timeout("retry_interval", retry_interval)
        self.bugs = frozenset(bugs)

    def on_start(self, ctx):
        self.sagas = ctx.disk.setdefault("sagas", {})      # the saga log
        self.unsynced = set()                              # begin records not yet durable
        resumed = [sid for sid, rec in self.sagas.items() if rec["state"] in ("forward", "back")]
        if "orchestrator_does_not_resume" in self.bugs:
            resumed = []
        if resumed:
            ctx.emit("recover", sagas=tuple(resumed))
        for sid in resumed:
            self._request(ctx, sid)

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Transfer):
            sid = f"s{msg.op_id}"
            if sid in self.sagas:
                return                                     # a duplicated request
            steps = tuple(sorted(msg.legs, key=lambda leg: _service_index(leg[0])))
            # The begin record is durable before the first step is sent, so a crash can
            # never leave a step applied by a saga that orch has no memory of.
            self.sagas[sid] = {"client": src, "op_id": msg.op_id, "steps": steps,
                               "state": "forward", "at": 0}
            self.unsynced.add(sid)

            def durable():                                 # at once without a storage model
                self.unsynced.discard(sid)
                ctx.emit("saga_begin", saga=sid, steps=len(steps))
                self._request(ctx, sid)

            ctx.sync(then=durable)
        elif isinstance(msg, StepReply):
            rec = self.sagas.get(msg.saga)
            if rec is None or rec["state"] != "forward" or rec["at"] != msg.step:
                return                                     # stale or duplicated reply
            # records are replaced, never changed in place: a sync makes the log durable
            # as it was when the sync began
            if msg.ok:
                rec = self.sagas[msg.saga] = {**rec, "at": rec["at"] + 1}
                if rec["at"] == len(rec["steps"]):
                    self._end(ctx, msg.saga, "done")
                    return
            else:
                rec = self.sagas[msg.saga] = {**rec, "state": "back", "at": msg.step - 1}
                ctx.emit("saga_abort", saga=msg.saga, step=msg.step)
                if rec["at"] < 0:
                    self._end(ctx, msg.saga, "compensated")
                    return
            self._request(ctx, msg.saga)
        elif isinstance(msg, Compensated):
            rec = self.sagas.get(msg.saga)
            if rec is None or rec["state"] != "back" or rec["at"] != msg.step:
                return
            rec = self.sagas[msg.saga] = {**rec, "at": rec["at"] - 1}   # C_j, then C_(j-1)
            if rec["at"] < 0:
                self._end(ctx, msg.saga, "compensated")
            else:
                self._request(ctx, msg.saga)

    def on_timer(self, ctx, name):
        sid = name[6:]                                     # "retry:<saga>"
        rec = self.sagas.get(sid)
        if rec is not None and rec["state"] in ("forward", "back"):
            self._request(ctx, sid)

    def _request(self, ctx, sid):
        rec = self.sagas[sid]
        j = rec["at"]
        account, delta = rec["steps"][j]
        if rec["state"] == "forward":
            msg = Step(sid, j, f"{sid}:{j}:do", account, delta)
        else:
            msg = Compensate(sid, j, f"{sid}:{j}:undo", account, -delta)
        ctx.send(shard_of(account), msg)
        ctx.set_timer(f"retry:{sid}", self.retry_interval)

    def _end(self, ctx, sid, outcome):
        rec = self.sagas[sid] = {**self.sagas[sid], "state": outcome}
        ctx.cancel_timer(f"retry:{sid}")
        d = Durably(ctx)                                   # the end record first
        d.emit("saga_end", saga=sid, outcome=outcome)
        d.send(rec["client"], TransferDone(rec["op_id"], outcome == "done"))
        d.release()


def _service_index(account: str) -> int:
    return int(shard_of(account)[1:])


# ------------------------------------------------------------------ service
class Service(SagaShard):
    """A service holding accounts; runs steps and compensations as local transactions.

    Parameters
    ----------
    accounts, initial_balance : int
        See :class:`dsalgo.txn.bank.Shard`.
    step_failure : float
        Probability that a step is rejected (no effect) for business reasons.
    compensation : {"inverse", "restore"}
        How a compensation undoes a step (see :mod:`dsalgo.txn.local`).
    bugs : collection of str
        ``"non_idempotent_retry"`` applies every request it receives, ignoring its key.

    Examples
    --------
    >>> from dsalgo import sim
    >>> svc, ctx = Service(accounts=1), sim.RecordingContext("n1")
    >>> svc.on_start(ctx); _ = ctx.take()
    >>> for _ in range(2):                      # the same request twice: applied once
    ...     svc.on_message(ctx, "orch", Step("s1", 0, "s1:0:do", "n1:0", -30))
    >>> ctx.disk["balance"], ctx.sent()
    ({'n1:0': 70}, [Send(dst='orch', msg=StepReply(saga='s1', step=0, ok=True)), Send(dst='orch', msg=StepReply(saga='s1', step=0, ok=True))])
    """

    def on_start(self, ctx):
        self.open(ctx)
        self.keys = ctx.disk.setdefault("keys", {})        # idempotency key -> outcome

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Step):
            d = Durably(ctx)          # answered (and recorded) once the local txn is durable
            ok = self._once(d, msg, self.run_step)
            d.send(src, StepReply(msg.saga, msg.step, ok))
            d.release()
        elif isinstance(msg, Compensate):
            d = Durably(ctx)
            self._once(d, msg, self.run_compensation)
            d.send(src, Compensated(msg.saga, msg.step))
            d.release()
        elif isinstance(msg, Read):
            self.answer_read(ctx, src, msg)

    def _once(self, ctx, msg, run):
        # The idempotency check: a request whose key has an outcome on record was already
        # run (a retry or a duplicate); answer from the record, never apply it twice.
        if "non_idempotent_retry" not in self.bugs and msg.key in self.keys:
            return self.keys[msg.key]
        ok = self.keys[msg.key] = run(ctx, msg.saga, msg.step, msg.account, msg.delta)
        return ok                                          # recorded in the same local transaction


# ------------------------------------------------------------------ knobs and harness
@dataclasses.dataclass(frozen=True)
class Config(sim.Config):
    """The sagas' knobs (the bank workload's are :class:`dsalgo.txn.bank.WorkloadConfig`).

    Examples
    --------
    >>> Config(form="choreographed").form
    'choreographed'
    >>> Config(compensation="undo")
    Traceback (most recent call last):
    ...
    ValueError: compensation must be one of 'inverse', 'restore'; got 'undo'
    """

    step_failure: float = knob(0.1, "Probability that a service rejects a step (a business "
                               "failure, no effect).", checks.probability)
    retry_interval: float = knob(0.05, "Seconds between resends of an unanswered step, "
                                 "compensation or hop.", checks.positive)
    form: str = knob("orchestrated", "Who drives a saga: 'orchestrated' (orch) or "
                     "'choreographed' (the services pass it along).",
                     checks.choice("orchestrated", "choreographed"))
    compensation: str = knob("inverse", "How a compensation undoes a step: 'inverse' (the "
                             "opposite delta) or 'restore' (the before-image, which loses "
                             "concurrent updates).", checks.choice(*COMPENSATIONS))
    bugs: frozenset = knob(frozenset(), "Planted bugs switched on (names of BUGS).",
                           checks.bugs(BUGS))


def simulate(n: int = 3, *, seed: int = 0, duration: float = 4.0, network=None, faults=(),
             bugs=(), record_messages: bool = True, progress: bool = False, cpu=None,
             storage=None, **knobs) -> sim.Run:
    """Run a bank on sagas: ``orch`` (orchestrated form), services ``n1…nN``, clients ``c1…``.

    Every transfer is a saga of ``n`` steps, one leg on each service in order.  In the
    choreographed form there is no ``orch``: clients send transfers to ``n1`` and the
    services pass each saga along (:mod:`dsalgo.txn.choreography`).  Clients issue
    transfers and reads for ``duration`` seconds; the run then goes on for ``drain`` more
    seconds (a workload knob, default 2) with no new operation, so that every saga can
    end: ``run.until`` is ``duration + drain``.  End the faults by ``duration`` (e.g.
    ``Nemesis(end=duration)``) so that the tail is fault-free.

    Parameters
    ----------
    n : int
        Number of services ``n1…nN`` = steps per saga, at least 2.  (``steps=`` is the
        deprecated name.)
    seed : int
        Same seed, same tables.
    duration : float
        Seconds of load (the run lasts ``duration + drain``).
    network : dsalgo.sim.Network, optional
        Defaults to exponential latency with mean 1 ms, no loss.
    faults : iterable of dsalgo.sim.Fault
        Faults to inject (``orch`` and the services may be hit; clients are not).
    bugs : collection of str
        Planted bugs, names of :data:`BUGS`.
    record_messages : bool
        Keep ``run.messages`` (turn off for speed).
    progress : bool
        Show a progress bar (``tqdm``) over simulated time while it runs.
    cpu : latency model or dict, optional
        The processing time of ``orch`` and the services per message and timer (see
        :meth:`dsalgo.sim.Simulation.add_node`); default: none.  Clients take no time.
    storage : dsalgo.sim.Storage, optional
        The storage model of ``orch`` and the services: a node answers (and records) a
        local transaction once it is durable, ``orch`` sends a saga's first step once its
        begin record is durable and ends it once the end record is, and a crash loses
        what was not synced; default: writes durable at once.
    **knobs
        The sagas' knobs, fields of :class:`Config` (``step_failure``, ``retry_interval``,
        ``form``, ``compensation``), and the workload's, fields of
        :class:`dsalgo.txn.bank.WorkloadConfig` (``clients``, ``concurrency``,
        ``accounts``, ``initial_balance``, ``read_fraction``, ``client_timeout``,
        ``drain``, ``mode``, ``rate``, ``think``); ``Config.describe()`` and
        ``WorkloadConfig.describe()`` explain each.

    Returns
    -------
    dsalgo.sim.Run
        ``run.params`` holds ``"family": "saga"``, ``n``, every knob, the workload's knobs
        under ``"workload"`` and ``duration`` (the load period).

    Examples
    --------
    >>> from dsalgo import txn
    >>> run = simulate(n=3, step_failure=0.3, seed=2, duration=0.5, drain=0.5)
    >>> v = txn.check(run)
    >>> bool(v), v.info["sagas_compensated"] > 0
    (True, True)
    >>> run.params["family"], run.params["form"], run.until
    ('saga', 'orchestrated', 1.0)
    """
    n = renamed_size(knobs, "steps", n)
    cfg, wl = sim.split_knobs(knobs, Config, WorkloadConfig)
    config, workload = Config(bugs=bugs, **cfg), WorkloadConfig(**wl)
    cluster = sim.Cluster("saga", n, config, workload=workload, seed=seed, network=network,
                          record_messages=record_messages, default_network=default_network(),
                          min_n=2, cpu=cpu, storage=storage)
    shard = dict(accounts=workload.accounts, initial_balance=workload.initial_balance,
                 step_failure=config.step_failure, compensation=config.compensation,
                 bugs=config.bugs)
    if config.form == "orchestrated":
        entry = "orch"
        cluster.add_node("orch", lambda: Orchestrator(retry_interval=config.retry_interval,
                                                             bugs=config.bugs),
                         role="orchestrator")
        cluster.add_servers(lambda sid: Service(**shard))
    else:
        entry = "n1"
        cluster.add_servers(lambda sid: ChoreographedService(
            retry_interval=config.retry_interval, **shard))
    return run_bank(cluster, workload, entry, duration=duration, faults=faults,
                    progress=progress, close=True)
