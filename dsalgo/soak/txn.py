"""Soaks of :mod:`dsalgo.txn`: two-phase commit and sagas under crashes, restarts, message
loss, duplication and partitions.

Each trial runs a bank for 3 s of load under a :class:`~dsalgo.sim.Nemesis` (crashes and
partitions of the coordinator and the shards, restarted and healed by the end of the
load), on a network that loses and duplicates 5 % of messages, then a 2 s fault-free
tail so the run reaches quiescence; :func:`dsalgo.txn.check` must hold, its progress
properties included (every prepared participant learns the outcome, every saga ends,
within grace of the last fault's heal).  Odd seeds run
2PC with cooperative termination, and choreographed sagas.  The counts say what happened: transactions aborted,
the coordinator crashed while participants were prepared, compensations ran.

``twopc-low-funds`` is the same faulty 2PC setting with balances that run low: every
account opens with 10, transfers move up to 10 from one account, and four clients keep
three transfers each outstanding on two accounts per shard.  Prepares are refused for
insufficient funds as well as for held locks, and accounts reach zero; a participant
that prepared without locking (the ``no_locks_at_prepare`` bug) lets two transfers check
their funds against the same balance and overdraws it (``no_negative_balance``,
``serializability``).  Conservation is the exact per-account replay of the committed
transactions (:func:`dsalgo.txn.check`).
"""

from __future__ import annotations

from .. import sim
from ..txn import check, metrics, saga, twopc
from . import Soak

DURATION = 3.0
DRAIN = 2.0


def _setting():
    network = sim.Network(latency=sim.Exponential(mean=0.002), drop_rate=0.05,
                          duplicate_rate=0.05)
    faults = [sim.Nemesis(crash=1.0, partition=0.5, mean_duration=0.3, end=DURATION)]
    return dict(seed=None, duration=DURATION, drain=DRAIN, network=network, faults=faults,
                clients=3, concurrency=2, accounts=4, client_timeout=0.25)


def twopc_trial(seed: int):
    """One faulty 2PC run, checked; returns ``(verdict, counts)``."""
    kw = _setting()
    kw["seed"] = seed
    termination = "cooperative" if seed % 2 else "wait"
    run = twopc.simulate(n=3, termination=termination, **kw)
    v = check(run)
    f = run.faults
    return v, {"committed": v.info["committed"], "aborted": v.info["aborted"],
               "tm_crashed_while_prepared": metrics.crashes_while_prepared(run, "tm"),
               "participant_crashes": int(((f["kind"] == "crash") & (f["target"] != "tm")).sum()),
               "partitions": int((f["kind"] == "partition").sum()),
               "messages_lost": int((run.messages["reason"] == "loss").sum()),
               "intermediate_reads": v.info.get("intermediate_reads", 0),
               # the progress property had work to do: participants still prepared when
               # the last fault healed, all of them decided within grace
               "in_doubt_at_heal": int(v.info["recovery"]["pending"] or 0),
               # isolation was exercised: a prepare refused because another transaction
               # held the account's lock
               "refused_locked": _refused_locked(run)}


def _refused_locked(run) -> int:
    return _refused(run, "locked")


def _refused(run, reason) -> int:
    ev = run.events
    if "reason" not in ev.columns:
        return 0
    return int(((ev["kind"] == "vote") & (ev["reason"] == reason)).sum())


#: The low-funds setting: opening balance, clients, transfers outstanding per client.
LOW_FUNDS = {"initial_balance": 10, "clients": 4, "concurrency": 3, "accounts": 2}


def low_funds_run(seed: int, bugs=()):
    """One run of the ``twopc-low-funds`` soak (``bugs``: names of twopc.BUGS).

    Examples
    --------
    >>> from dsalgo import txn
    >>> bool(txn.check(low_funds_run(0)))
    True
    >>> txn.check(low_funds_run(0, bugs={"no_locks_at_prepare"})).holds("no_negative_balance")
    False
    """
    kw = _setting()
    kw.update(seed=seed, **LOW_FUNDS)
    return twopc.simulate(n=3, termination="cooperative" if seed % 2 else "wait", bugs=bugs,
                          **kw)


def low_funds_trial(seed: int):
    """One low-funds 2PC run, checked; returns ``(verdict, counts)``."""
    run = low_funds_run(seed)
    v = check(run)
    bal = run.events["balances"].dropna() if "balances" in run.events.columns else []
    return v, {"committed": v.info["committed"], "aborted": v.info["aborted"],
               "refused_insufficient_funds": _refused(run, "insufficient_funds"),
               "refused_locked": _refused(run, "locked"),
               # funds ran out: an account committed down to less than one transfer's worth
               "account_below_5": int(any(b < 5 for d in bal for b in d.values())),
               "tm_crashed_while_prepared": metrics.crashes_while_prepared(run, "tm"),
               "replayed_commits": int((run.events["kind"] == "commit").sum())}


def saga_trial(seed: int):
    """One faulty saga run, checked; returns ``(verdict, counts)``."""
    kw = _setting()
    kw["seed"] = seed
    form = "choreographed" if seed % 2 else "orchestrated"
    run = saga.simulate(n=3, step_failure=0.1, form=form, **kw)
    v = check(run)
    f = run.faults
    return v, {"sagas_done": v.info.get("sagas_done", 0),
               "sagas_compensated": v.info.get("sagas_compensated", 0),
               "compensations": v.info.get("compensations", 0),
               "orch_crashed_mid_saga": metrics.crashes_mid_saga(run, "orch"),
               "service_crashes": int(((f["kind"] == "crash") & (f["target"] != "orch")).sum()),
               "choreographed_compensated": (v.info.get("sagas_compensated", 0)
                                             if form == "choreographed" else 0),
               "partitions": int((f["kind"] == "partition").sum()),
               "messages_duplicated": int((run.messages["reason"] == "duplicate").sum()),
               "dirty_reads": v.info.get("dirty_reads", 0),
               "intermediate_reads": v.info.get("intermediate_reads", 0),
               "in_flight_at_heal": int(v.info["recovery"]["pending"] or 0)}


SOAKS = {
    "twopc": Soak(trial=twopc_trial, runs=1000,
                  sometimes=("committed", "aborted", "tm_crashed_while_prepared",
                             "participant_crashes", "partitions", "messages_lost",
                             "in_doubt_at_heal", "refused_locked"),
                  description="2PC (presumed abort; wait and cooperative termination) under "
                              "crashes, partitions, loss and duplication: atomicity, commit "
                              "validity, conservation (an exact per-account replay), "
                              "serializability, no negative balance; every prepared "
                              "participant decides once faults heal",
                  family="twopc"),
    "twopc-low-funds": Soak(trial=low_funds_trial, runs=1000,
                            sometimes=("committed", "aborted", "refused_insufficient_funds",
                                       "refused_locked", "account_below_5",
                                       "tm_crashed_while_prepared", "replayed_commits"),
                            description="2PC with balances that run low (open at 10) under "
                                        "crashes, partitions, loss and duplication: exact "
                                        "per-account replay, no negative balance, "
                                        "serializability, atomicity",
                            family="twopc"),
    "saga": Soak(trial=saga_trial, runs=1000,
                 sometimes=("sagas_done", "sagas_compensated", "compensations",
                            "orch_crashed_mid_saga", "service_crashes", "partitions",
                            "messages_duplicated", "choreographed_compensated",
                            "in_flight_at_heal"),
                 description="orchestrated and choreographed sagas under crashes, partitions, loss and "
                             "duplication: semantic atomicity, reverse compensation, "
                             "conservation at quiescence; every saga ends once faults heal",
                 family="saga"),
}
