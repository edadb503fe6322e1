"""Scripted transaction runs that show a failure, or a planted bug, step by step.

Each scenario is one client making one transfer (or a few) over three shards on a network
with a constant one-way delay of 10 ms, so that the timeline reads in round numbers: the
client's request reaches the coordinator at 10 ms, its first requests reach the shards at
20 ms, their answers are back at 30 ms.  The faults are placed between those steps.

Two-phase commit (:data:`dsalgo.txn.twopc.SCENARIOS`):

- :func:`coordinator_crash`: ``tm`` crashes after every participant voted yes and before
  it decides; the prepared participants hold their locks, blocked, until ``tm`` recovers
  and (finding no commit record) answers their inquiries with abort.  Cooperative
  termination does not help: every peer is as uncertain as the asker.
- :func:`cooperative_termination`: the same crash, but one participant never got its
  ``Prepare``; asked by a blocked peer, it aborts on the spot and unblocks everyone long
  before ``tm`` is back.  With ``termination="wait"`` they stay blocked.
- :func:`commit_without_all_votes` and :func:`participant_forgets_prepare`: the planted
  bugs, each in the run that makes it lose money (``bug=False`` runs the same script
  under the correct protocol); :func:`no_locks_at_prepare`, the run where it overdraws
  an account (isolation), and :func:`no_inquiry`, the run where a participant never
  learns the outcome (progress).

Sagas (:data:`dsalgo.txn.saga.SCENARIOS`):

- :func:`failed_step`: the last step of a saga fails (the debit would overdraw), and the
  completed steps are compensated in reverse order.
- :func:`orchestrator_crash`: ``orch`` crashes mid-saga and resumes it from its log.
- :func:`non_idempotent_retry`: a lost reply makes ``orch`` resend a step, which the
  planted bug applies twice.
- :func:`orchestrator_does_not_resume`: the planted bug leaves a saga unfinished after
  ``orch`` restarts (progress).

Examples
--------
>>> from dsalgo import txn
>>> from dsalgo.txn import scenarios
>>> run = scenarios.coordinator_crash()
>>> b = txn.metrics.blocking_times(run)
>>> b[["node", "outcome"]].values.tolist(), bool((b["blocked"] > 0.3).all())
([['n1', 'abort'], ['n2', 'abort'], ['n3', 'abort']], True)
>>> txn.check(scenarios.participant_forgets_prepare()).status
'violated'
"""

from __future__ import annotations

from .. import sim

__all__ = ["TWOPC_SCENARIOS", "SAGA_SCENARIOS", "coordinator_crash",
           "cooperative_termination", "commit_without_all_votes",
           "participant_forgets_prepare", "no_locks_at_prepare", "no_inquiry", "failed_step",
           "orchestrator_does_not_resume", "orchestrator_crash",
           "non_idempotent_retry"]

#: One-way delay of every message, seconds.
LATENCY = 0.010

# One transfer: the client issues it at t=0 and, with duration < 4 delays, no other.
_ONE_TRANSFER = dict(n=3, duration=0.03, clients=1, read_fraction=0.0, accounts=1)


def _network() -> sim.Network:
    return sim.Network(latency=sim.Constant(LATENCY))


def _twopc(faults, **knobs):
    from .twopc import simulate
    return simulate(**{**_ONE_TRANSFER, **knobs}, network=_network(), faults=faults)


def _saga(faults, **knobs):
    from .saga import simulate
    return simulate(**{**_ONE_TRANSFER, "step_failure": 0.0, **knobs}, network=_network(),
                    faults=faults)


# ------------------------------------------------------------------ two-phase commit
def coordinator_crash(termination: str = "wait", down: float = 0.3) -> sim.Run:
    """``tm`` crashes at 25 ms, after the three participants voted yes (20 ms) and before
    their votes arrive (30 ms); it restarts ``down`` seconds later.

    The participants are prepared: they may neither commit nor abort alone, so they hold
    their locks and ask every ``inquire_interval`` (50 ms; inquiries that reach ``tm``
    while it is down are lost).  ``tm`` comes back with no commit record, so by presumed
    abort the first inquiry to reach it is answered ``Abort``: each participant was
    blocked for the whole outage and a little more (from its vote at 20 ms to the answer).  ``termination="cooperative"`` changes
    nothing here, since every peer is prepared too (2PC blocks).

    Examples
    --------
    >>> from dsalgo import txn
    >>> run = coordinator_crash(termination="cooperative", down=0.2)
    >>> b = txn.metrics.blocking_times(run)
    >>> b["blocked"].round(2).tolist(), bool(txn.check(run))
    ([0.22, 0.22, 0.22], True)
    """
    faults = [sim.Crash("tm", at=0.025), sim.Restart("tm", at=0.025 + down)]
    return _twopc(faults, termination=termination, drain=down + 0.5)


def cooperative_termination(termination: str = "cooperative", down: float = 0.3) -> sim.Run:
    """As :func:`coordinator_crash`, but ``tm``'s ``Prepare`` to ``n3`` is lost.

    ``n1`` and ``n2`` vote yes and are blocked when ``tm`` crashes.  With cooperative
    termination their first inquiry (70 ms) also goes to ``n3``, which has not voted: it
    aborts unilaterally (durably: it will vote no if the ``Prepare`` ever comes) and
    answers ``Abort``, so both learn the outcome at 90 ms instead of after ``tm``'s
    recovery.  ``termination="wait"`` runs the same script asking only ``tm``.

    Examples
    --------
    >>> from dsalgo import txn
    >>> b = txn.metrics.blocking_times(cooperative_termination())
    >>> b[["node", "outcome"]].values.tolist(), b["blocked"].round(2).tolist()
    ([['n1', 'abort'], ['n2', 'abort']], [0.07, 0.07])
    >>> txn.metrics.blocking_times(cooperative_termination("wait"))["blocked"].round(2).tolist()
    [0.32, 0.32]
    """
    faults = [sim.Partition([["tm"], ["n3"]], at=0.0, until=0.015, one_way=True),
              sim.Crash("tm", at=0.025), sim.Restart("tm", at=0.025 + down)]
    return _twopc(faults, termination=termination, drain=down + 0.5)


def commit_without_all_votes(bug: bool = True) -> sim.Run:
    """``tm``'s ``Prepare`` to ``n2`` is lost; ``n1`` and ``n3`` vote yes.

    With the bug, ``tm`` decides commit on the first yes vote (30 ms) and sends
    ``Commit`` to all three; ``n2`` never prepared, so it acks and applies nothing: its
    leg of the transfer is lost (atomicity, commit validity and conservation all fail).
    Without it, ``tm`` waits for ``n2``'s vote until ``vote_timeout`` and aborts.

    Examples
    --------
    >>> from dsalgo import txn
    >>> v = txn.check(commit_without_all_votes())
    >>> sorted(set(v.violations["property"]))
    ['atomicity', 'commit_validity', 'conservation']
    >>> txn.check(commit_without_all_votes(bug=False)).info["aborted"]
    1
    """
    faults = [sim.Partition([["tm"], ["n2"]], at=0.0, until=0.015, one_way=True)]
    return _twopc(faults, bugs={"commit_without_all_votes"} if bug else (), drain=0.5)


def participant_forgets_prepare(bug: bool = True) -> sim.Run:
    """``n2`` votes yes (20 ms), crashes at 25 ms and restarts at 35 ms, just before
    ``tm``'s ``Commit`` reaches it (40 ms).

    With the bug, its prepared record was in memory only: it restarts knowing nothing of
    the transaction, acks the ``Commit`` and applies nothing (atomicity and conservation
    fail).  Without it, it restarts in doubt, still holding its lock, and applies the
    ``Commit`` when it comes.

    Examples
    --------
    >>> from dsalgo import txn
    >>> v = txn.check(participant_forgets_prepare())
    >>> v.violations["detail"].tolist()[0]
    't0: tm decided commit but n2 lost its prepared record in a crash'
    >>> bool(txn.check(participant_forgets_prepare(bug=False)))
    True
    """
    faults = [sim.Crash("n2", at=0.025), sim.Restart("n2", at=0.035)]
    return _twopc(faults, bugs={"participant_forgets_prepare"} if bug else (), drain=0.5)


#: A seed whose two concurrent transfers both debit ``n2:0`` (5 and 3, from 5).
_DOUBLE_DEBIT_SEED = 5


def no_locks_at_prepare(bug: bool = True) -> sim.Run:
    """Two clients issue a transfer each at t=0; both debit account ``n2:0``, which
    opens at 5, by 5 and by 3.

    Both ``Prepare`` messages reach ``n2`` at 20 ms.  With the bug, each funds check
    reads 5, both vote yes and both commit: ``n2:0`` ends at -3, and the second
    transaction overwrote a version it never read (a G-single cycle: serializability and
    no negative balance fail).  Without it, the first prepare locks the account and the
    second is refused (``locked``) and aborts.

    Examples
    --------
    >>> from dsalgo import txn
    >>> v = txn.check(no_locks_at_prepare())
    >>> sorted(set(v.violations["property"]))
    ['no_negative_balance', 'serializability']
    >>> v.violations["detail"].tolist()[0]
    'G-single: cycle of 2 transactions: t1 -rw(n1:0)→ t0 -ww(n1:0)→ t1'
    >>> txn.check(no_locks_at_prepare(bug=False)).info["aborted"]
    1
    """
    return _twopc((), seed=_DOUBLE_DEBIT_SEED, clients=2, initial_balance=5,
                  bugs={"no_locks_at_prepare"} if bug else (), drain=0.5)


def no_inquiry(bug: bool = True) -> sim.Run:
    """``tm``'s ``Prepare`` to ``n3`` is lost, so ``tm`` aborts at its vote timeout (60
    ms), and its ``Abort`` to ``n1`` is lost too (a one-way cut from 55 to 75 ms).

    ``n1`` voted yes at 20 ms.  With the bug it waits to be told and never is: ``tm``
    forgot the transaction when it aborted (presumed abort), so ``n1`` stays prepared,
    holding its lock, to the end of the run (decision progress fails; safety holds).
    Without it, ``n1`` inquires at 70 ms and is answered ``Abort`` at 90 ms.

    Examples
    --------
    >>> from dsalgo import txn
    >>> v = txn.check(no_inquiry())
    >>> v.violations["detail"].tolist()[0]
    't0@n1: n1 voted yes at t=0.02s and never learnt the outcome though every fault had healed at t=0.075s (grace 1s)'
    >>> bool(v.safety), bool(txn.check(no_inquiry(bug=False)))
    (True, True)
    """
    faults = [sim.Partition([["tm"], ["n3"]], at=0.0, until=0.015, one_way=True),
              sim.Partition([["tm"], ["n1"]], at=0.055, until=0.075, one_way=True)]
    return _twopc(faults, bugs={"no_inquiry"} if bug else (), drain=1.5)


# ------------------------------------------------------------------ sagas
#: A seed whose one transfer has its source (the debit) on the last service, n3.
_LAST_STEP_DEBIT_SEED = 0


def failed_step(form: str = "orchestrated") -> sim.Run:
    """A saga whose last step fails: the accounts open empty, so the debit on ``n3``
    would overdraw, while the credits on ``n1`` and ``n2`` go through.

    Steps 0 and 1 are applied, step 2 fails, and the compensations run in reverse: step
    1, then step 0.  The saga ends compensated and the money is back where it was.

    Examples
    --------
    >>> run = failed_step()
    >>> ev = run.events[run.events["kind"].isin(["step", "compensate"])]
    >>> [(k, int(s), ok) for k, s, ok in zip(ev["kind"], ev["step"], ev["ok"].fillna("-"))]
    [('step', 0, True), ('step', 1, True), ('step', 2, False), ('compensate', 1, '-'), ('compensate', 0, '-')]
    """
    return _saga((), seed=_LAST_STEP_DEBIT_SEED, initial_balance=0, form=form, drain=0.5)


def orchestrator_crash(down: float = 0.1) -> sim.Run:
    """``orch`` crashes at 25 ms, while ``n1`` runs step 0 (its reply, at 30 ms, is
    lost), and restarts ``down`` seconds later.

    It resumes the saga from its durable log by resending step 0 with the same
    idempotency key; ``n1`` answers from its record without applying it again, and the
    saga goes on to the end.

    Examples
    --------
    >>> from dsalgo import txn
    >>> run = orchestrator_crash()
    >>> ev = run.events
    >>> ev.loc[ev["kind"] == "recover", "sagas"].tolist(), bool(txn.check(run))
    ([('s0',)], True)
    """
    faults = [sim.Crash("orch", at=0.025), sim.Restart("orch", at=0.025 + down)]
    return _saga(faults, drain=down + 0.5)


def orchestrator_does_not_resume(bug: bool = True, down: float = 0.1) -> sim.Run:
    """:func:`orchestrator_crash` with a longer tail: ``orch`` crashes at 25 ms, while
    ``n1`` runs step 0, and restarts ``down`` seconds later.

    With the bug, ``orch`` restarts without resuming the saga its log shows in flight:
    step 0 stays applied, the saga never ends (saga progress fails, and the run never
    reaches quiescence, so conservation cannot be judged).  Without it, the saga resumes
    and ends.

    Examples
    --------
    >>> from dsalgo import txn
    >>> v = txn.check(orchestrator_does_not_resume())
    >>> v.violations["detail"].tolist()[0]
    's0: it began at t=0.01s and never ended though every fault had healed at t=0.125s (grace 1s)'
    >>> bool(txn.check(orchestrator_does_not_resume(bug=False)))
    True
    """
    faults = [sim.Crash("orch", at=0.025), sim.Restart("orch", at=0.025 + down)]
    return _saga(faults, bugs={"orchestrator_does_not_resume"} if bug else (),
                 drain=down + 1.5)


def non_idempotent_retry(bug: bool = True) -> sim.Run:
    """``n1``'s reply to step 0 is lost (a one-way cut from 15 to 30 ms), so ``orch``
    resends the step after ``retry_interval`` (60 ms).

    With the bug, ``n1`` ignores the idempotency key and applies the step a second time:
    the saga applies step 0 twice (semantic atomicity and conservation fail).  Without it,
    ``n1`` answers the resend from its record.

    Examples
    --------
    >>> from dsalgo import txn
    >>> v = txn.check(non_idempotent_retry())
    >>> v.violations["detail"].tolist()[0]
    's0: step 0 applied 2 times'
    >>> bool(txn.check(non_idempotent_retry(bug=False)))
    True
    """
    faults = [sim.Partition([["n1"], ["orch"]], at=0.015, until=0.03, one_way=True)]
    return _saga(faults, bugs={"non_idempotent_retry"} if bug else (), drain=0.5)


TWOPC_SCENARIOS = {
    "coordinator_crash": coordinator_crash,
    "cooperative_termination": cooperative_termination,
    "commit_without_all_votes": commit_without_all_votes,
    "participant_forgets_prepare": participant_forgets_prepare,
    "no_locks_at_prepare": no_locks_at_prepare,
    "no_inquiry": no_inquiry,
}
"""Name → scenario of two-phase commit; the keys that are :data:`dsalgo.txn.twopc.BUGS`
take ``bug=True`` (show it) or ``bug=False`` (the same script, correct protocol)."""

SAGA_SCENARIOS = {
    "failed_step": failed_step,
    "orchestrator_crash": orchestrator_crash,
    "non_idempotent_retry": non_idempotent_retry,
    "orchestrator_does_not_resume": orchestrator_does_not_resume,
}
"""Name → scenario of sagas; the keys that are :data:`dsalgo.txn.saga.BUGS` names take
``bug=True`` or ``bug=False``."""
