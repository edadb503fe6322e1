"""Soaks of the Paxos family: many seeded runs under a nemesis, each checked.

* ``paxos-single`` -- single-decree Paxos, every node a proposer (dueling proposers),
  crashes, partitions, pauses, message loss and duplication from the first instant;
* ``paxos-multi`` -- the Multi-Paxos key-value store with majorities under crashes,
  partitions, pauses, clock jumps, loss and duplication;
* ``paxos-flexible`` -- the same store with Flexible Paxos quorums, in turn
  ``q1=4, q2=2`` and ``q1=2, q2=4`` over five nodes and a 2 x 3 grid over six.
* ``paxos-crash-points`` -- both variants on even clusters (four and six servers)
  under crash points inside handlers (:class:`dsalgo.sim.CrashPoint`: a crash between
  an acceptor's write and its reply, or part-way through a broadcast), partitions and
  delayed duplicates, a third of the runs with a storage model; judged by every property,
  ``ballots_never_decrease`` and ``decided_by_quorum`` included;
* ``paxos-late-messages`` -- the Multi-Paxos store on four and six servers (majorities,
  or flexible ``q2=2``) with heavy-tailed, reordering latency, crashes and partitions,
  and many delayed duplicates (:class:`dsalgo.sim.DelayedDuplicate`): promises,
  acceptances and their replies of earlier ballots delivered late.

Each trial returns :func:`dsalgo.paxos.check`'s verdict and what happened: values
decided, ballots preempted, leaders replaced, operations acknowledged; for Multi-Paxos
also what the progress and exactly-once properties had to judge
(:func:`dsalgo.soak.raft.progress_counts`: progress judged, recovery after a fault, no
leader at the heal, retried commands answered from the replicas' memory).

:func:`hunt` runs the ``paxos-multi`` trials with one bug on and counts the catches.
"""

from __future__ import annotations

from dsalgo import paxos, quorum, sim

from . import Soak
from .raft import progress_counts

__all__ = ["SOAKS", "hunt"]


def _network():
    return sim.Network(latency=sim.Exponential(mean=0.005), drop_rate=0.02,
                       duplicate_rate=0.02)


def _happened(run, verdict):
    kinds = run.events["kind"].value_counts() if len(run.events) else {}
    h = run.history
    leaders = int(kinds.get("leader", 0))
    progress = progress_counts(run, verdict) if "recovery" in verdict.info else {}
    return {
        **progress,
        "decided": verdict.info["slots_decided"],
        "preempted": int(kinds.get("preempted", 0)),
        "leaders_replaced": max(0, leaders - 1),
        "crashes": int(kinds.get("crash", 0)),
        "ops_ok": int((h["status"] == "ok").sum()) if len(h) else 0,
        "ops_info": int((h["status"] == "info").sum()) if len(h) else 0,
    }


def single_trial(seed: int):
    """Single-decree Paxos, 3 or 5 nodes all proposing, under a nemesis from t=0."""
    n = (3, 5)[seed % 2]
    nemesis = sim.Nemesis(crash=4.0, partition=2.0, pause=2.0, mean_duration=0.05,
                          max_crashed=n - 1)
    run = paxos.simulate(n, variant="single", seed=seed, duration=1.0, network=_network(),
                         faults=[nemesis], proposers=n, backoff=(0.0, 0.01),
                         retry_timeout=0.05)
    v = paxos.check(run)
    return v, _happened(run, v)


def _multi(seed, n, bugs=(), **quorums):
    nemesis = sim.Nemesis(crash=1.0, partition=0.7, pause=0.7, clock_jump=0.5,
                          mean_duration=0.25, max_crashed=n // 2, end=1.6)
    # a second of calm after the nemesis: progress is judged 0.75 s after the last heal
    run = paxos.simulate(n, variant="multi", seed=seed, duration=2.6, network=_network(),
                         faults=[nemesis], clients=3, keys=2, bugs=bugs, **quorums)
    v = paxos.check(run)
    return v, _happened(run, v)


def multi_trial(seed: int):
    """Multi-Paxos on 3 or 5 nodes with majorities, under a nemesis until t=1.6 s."""
    return _multi(seed, (3, 5)[seed % 2])


def flexible_trial(seed: int):
    """Multi-Paxos with flexible quorums (q1=4/q2=2, q1=2/q2=4 on 5 nodes; a 2x3 grid)."""
    k = seed % 3
    if k == 0:
        return _multi(seed, 5, q1=4, q2=2)
    if k == 1:
        return _multi(seed, 5, q1=2, q2=4)
    return _multi(seed, 6, q1=quorum.grid(2, 3))


def _struck(run, verdict, happened):
    """What the new faults did: crash points that struck, late copies delivered, and the
    ballots and decisions the new properties judged."""
    f = run.faults
    return {**happened,
            "crash_points": int(f["detail"].astype(str).str.startswith("crash point").sum()),
            "late_copies": int((f["kind"] == "delayed_duplicate").sum()),
            "ballots_judged": int(verdict.info.get("acceptor_ballots", 0)),
            "decisions_judged": int(verdict.info.get("decisions", 0))}


def crash_point_trial(seed: int, bugs=()):
    """Single-decree (every server proposing) or Multi-Paxos on 4 or 6 servers, crash
    points inside handlers (after 1-3 effects), partitions and delayed duplicates; every
    third run with a storage model (2 ms syncs).  ``bugs`` plants defects (to count
    catches)."""
    n = (4, 6)[seed % 2]
    storage = sim.Storage(sync=sim.Constant(0.002)) if seed % 3 == 0 else None
    if seed % 4 < 2:
        nemesis = sim.Nemesis(crash_point=8.0, crash=2.0, partition=2.0, pause=1.0,
                              delayed_duplicate=20.0, mean_duration=0.05,
                              max_crashed=n - 1)
        run = paxos.simulate(n, variant="single", seed=seed, duration=1.0,
                             network=_network(), faults=[nemesis], proposers=n,
                             backoff=(0.0, 0.01), retry_timeout=0.05, storage=storage,
                             bugs=bugs)
    else:
        nemesis = sim.Nemesis(crash_point=3.0, partition=0.7, pause=0.5,
                              delayed_duplicate=10.0,
                              mean_duration={"crash": 0.2, "partition": 0.2, "pause": 0.1,
                                             "delayed_duplicate": 0.3},
                              max_crashed=(n - 1) // 2, end=1.6)
        run = paxos.simulate(n, variant="multi", seed=seed, duration=2.6,
                             network=_network(), faults=[nemesis], clients=3, keys=2,
                             storage=storage, bugs=bugs)
    v = paxos.check(run)
    return v, _struck(run, v, _happened(run, v))


def late_message_trial(seed: int, bugs=()):
    """Multi-Paxos on 4 or 6 servers (majorities, or q2=2 every other pair of runs),
    log-normal latency (heavy tail, links reorder), crashes, partitions and a delayed
    duplicate every 50 ms on average, of any message or of the acceptor exchanges.
    ``bugs`` plants defects (to count catches)."""
    n = (4, 6)[seed % 2]
    kinds = None if seed % 3 else ["Prepare", "Promise", "Accept", "Accepted", "Nack"]
    nemesis = sim.Nemesis(crash=1.0, partition=0.7, delayed_duplicate=20.0,
                          duplicate_kinds=kinds,
                          mean_duration={"crash": 0.2, "partition": 0.2,
                                         "delayed_duplicate": 0.4},
                          max_crashed=(n - 1) // 2, end=1.6)
    network = sim.Network(latency=sim.LogNormal(median=0.004, sigma=1.0), drop_rate=0.02,
                          duplicate_rate=0.02)
    quorums = {"q2": 2} if seed % 4 >= 2 else {}
    run = paxos.simulate(n, variant="multi", seed=seed, duration=2.6, network=network,
                         faults=[nemesis], clients=3, keys=2, bugs=bugs, **quorums)
    v = paxos.check(run)
    return v, _struck(run, v, _happened(run, v))


def hunt(bug: str, seeds) -> dict:
    """The ``paxos-multi`` soak's runs with one bug switched on: which seeds the checker
    caught it in.

    Returns ``{"bug", "runs", "caught", "first", "properties"}`` (``first`` is the first
    catching seed or ``None``; ``properties`` counts the violated properties).

    Examples
    --------
    A retried command decided twice is rare (one run in tens), so hunt over many seeds:

    >>> found = hunt("dedup_at_leader_only", range(60))
    >>> found["caught"] > 0, "exactly_once" in found["properties"]
    (True, True)
    """
    if bug not in paxos.BUGS:
        raise ValueError(f"bug must be one of {', '.join(map(repr, paxos.BUGS))}; "
                         f"got {bug!r}")
    seeds = list(seeds)
    caught, props = [], {}
    for seed in seeds:
        verdict, _ = _multi(seed, (3, 5)[seed % 2], bugs=(bug,))
        if not verdict:
            caught.append(seed)
            for p in sorted(set(verdict.violations["property"])):
                props[p] = props.get(p, 0) + 1
    return {"bug": bug, "runs": len(seeds), "caught": len(caught),
            "first": caught[0] if caught else None, "properties": props}


SOAKS = {
    "paxos-single": Soak(trial=single_trial, runs=1000,
                         sometimes=("decided", "preempted", "crashes"),
                         description="single-decree Paxos, dueling proposers, nemesis",
                         family="paxos"),
    "paxos-multi": Soak(trial=multi_trial, runs=1000,
                        sometimes=("decided", "preempted", "leaders_replaced", "ops_ok",
                                   "progress_judged", "recovered_after_fault",
                                   "leaderless_at_heal", "duplicates_suppressed"),
                        description="Multi-Paxos key-value store, majorities, nemesis: "
                                    "safety, exactly-once, linearizability, progress "
                                    "after the faults heal",
                        family="paxos"),
    "paxos-flexible": Soak(trial=flexible_trial, runs=1000,
                           sometimes=("decided", "preempted", "leaders_replaced", "ops_ok",
                                      "progress_judged", "recovered_after_fault"),
                           description="Multi-Paxos with flexible and grid quorums, nemesis: "
                                       "safety, exactly-once, linearizability, progress",
                           family="paxos"),
    "paxos-crash-points": Soak(trial=crash_point_trial, runs=1000,
                               sometimes=("crash_points", "late_copies", "decided",
                                          "preempted", "leaders_replaced", "ops_ok",
                                          "ballots_judged", "decisions_judged"),
                               description="single-decree and Multi-Paxos on 4 and 6 "
                                           "servers, crash points inside handlers, "
                                           "delayed duplicates, storage in a third",
                               family="paxos"),
    "paxos-late-messages": Soak(trial=late_message_trial, runs=1000,
                                sometimes=("late_copies", "decided", "preempted",
                                           "leaders_replaced", "ops_ok", "progress_judged",
                                           "recovered_after_fault", "ballots_judged"),
                                description="Multi-Paxos on 4 and 6 servers, heavy-tailed "
                                            "reordering latency, old messages delivered "
                                            "late, flexible q2=2 in half",
                                family="paxos"),
}
