"""Soaks of the Paxos family: many seeded runs under a nemesis, each checked.

* ``paxos-single`` -- single-decree Paxos, every node a proposer (dueling proposers),
  crashes, partitions, pauses, message loss and duplication from the first instant;
* ``paxos-multi`` -- the Multi-Paxos key-value store with majorities under crashes,
  partitions, pauses, clock jumps, loss and duplication;
* ``paxos-flexible`` -- the same store with Flexible Paxos quorums, in turn
  ``q1=4, q2=2`` and ``q1=2, q2=4`` over five nodes and a 2 x 3 grid over six.

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


def hunt(bug: str, seeds) -> dict:
    """The ``paxos-multi`` soak's runs with one bug switched on: which seeds the checker
    caught it in.

    Returns ``{"bug", "runs", "caught", "first", "properties"}`` (``first`` is the first
    catching seed or ``None``; ``properties`` counts the violated properties).

    Examples
    --------
    >>> hunt("dedup_at_leader_only", range(2, 3))["properties"]
    {'exactly_once': 1}
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
}
