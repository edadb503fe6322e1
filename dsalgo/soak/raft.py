"""Raft soaks: 1,000 seeded runs under a nemesis, each checked, and the bug hunts.

``raft`` runs the correct algorithm across n ∈ {3, 5, 7} (seed mod 3), with PreVote,
CheckQuorum and the read path varied by seed, on a lossy, duplicating network with
crashes, restarts, partitions, pauses and clock jumps; every run must pass
:func:`dsalgo.raft.check`, and across the runs leaders must have been elected, commands
committed and leaders changed.

:func:`hunt` is the other half: the same kind of runs with one teaching bug switched on,
counting the seeds in which the checker catches it.  ``commit_prior_term`` (Figure 8)
needs a leader to crash in the few milliseconds between committing a prior-term entry and
replicating one of its own term, so its hunt adds a *leader-killing* nemesis (the
run is advanced in slices; at the end of each, the current leader is crashed a random
moment later and restarted after a while) and turns off the no-op entry (with a no-op,
the prior-term entry and the no-op reach a majority in the same message, and the bug
cannot show).
"""

from __future__ import annotations

import random

from .. import raft, sim
from ..check import Verdict
from . import Soak

__all__ = ["SOAKS", "nemesis_run", "hunt", "HUNTS"]


def _network():
    return sim.Network(latency=sim.Exponential(mean=0.005), drop_rate=0.02,
                       duplicate_rate=0.01)


def nemesis_run(seed: int, *, bugs=(), duration: float = 3.0):
    """One soak run: returns ``(run, verdict)``.

    Examples
    --------
    >>> run, verdict = nemesis_run(4)
    >>> bool(verdict), len(run.faults) > 0
    (True, True)
    """
    n = (3, 5, 7)[seed % 3]
    nemesis = sim.Nemesis(crash=1.5, partition=0.7, pause=0.5, clock_jump=0.2,
                          mean_duration=0.3, end=duration - 0.8)
    run = raft.simulate(n, seed=seed, duration=duration, network=_network(), faults=[nemesis],
                        clients=2, think=0.02, client_timeout=0.5, bugs=bugs,
                        prevote=(seed // 3) % 2 == 1, check_quorum=(seed // 6) % 2 == 1,
                        reads=("log", "read_index")[(seed // 12) % 2], record_messages=False)
    return run, raft.check(run)


def _happened(run, verdict) -> dict:
    faults = run.faults["kind"].value_counts()
    ops = run.history["status"].value_counts()
    return {"leader_elected": verdict.info["leaders_elected"],
            "leader_changed": verdict.info["leader_changes"],
            "committed": verdict.info["max_commit_index"],
            "ops_ok": int(ops.get("ok", 0)), "cas_failed": int(ops.get("fail", 0)),
            "ops_info": int(ops.get("info", 0)),
            "crash": int(faults.get("crash", 0)), "partition": int(faults.get("partition", 0)),
            "pause": int(faults.get("pause", 0))}


def _trial(seed: int) -> tuple[Verdict, dict]:
    run, verdict = nemesis_run(seed)
    return verdict, _happened(run, verdict)


def _targeted_run(seed: int, bug: str, *, duration: float = 3.0, p: float = 0.3):
    """A run under a targeted nemesis that reacts to protocol events (see the module
    docstring): after a leader's ``commit`` (``commit_prior_term``) or a server's ``vote``
    (``forget_vote_on_restart``), with probability ``p``, crash that server at once."""
    rng = random.Random(f"raft-hunt:{seed}")
    # trigger kind -> (probability, restart delay range)
    leader_kill = {"commit": (p, (0.05, 0.4)), "append": (p / 3, (0.05, 0.4))}
    if bug == "commit_prior_term":
        triggers, n, et, loss = leader_kill, 5, (0.150, 0.300), 0.02
        knobs = {"noop": False, "max_entries": 1}
    else:
        triggers, n, et, loss = {"vote": (p, (0.005, 0.05)), "commit": (p / 10, (0.05, 0.4))}, \
            3, (0.150, 0.160), 0.1
        knobs = {}
    config = raft.harness.make_config(n, bugs=(bug,), election_timeout=et, **knobs)
    network = sim.Network(latency=sim.Exponential(mean=0.005), drop_rate=loss)
    s = sim.Simulation(seed=seed, network=network, record_messages=False)
    for sid in config.servers:
        s.add_node(sid, lambda: raft.RaftNode(config))
    workload = sim.KVWorkload(keys=3)
    for c in ("c1", "c2"):
        s.add_node(c, lambda: raft.RaftClient(list(config.servers), workload, think=0.02,
                                              timeout=0.5))
    s.add_faults([sim.Nemesis(partition=3.0, mean_duration=0.3, end=duration - 0.8)])
    state = {"leaders": set(), "victim": None, "down_until": {}}

    def observe(sim_, time, node, kind, fields):
        if kind == "leader_elected":
            state["leaders"].add(node)
        elif kind in ("crash", "role") and fields.get("role") != "leader":
            state["leaders"].discard(node)
        hit = triggers.get(kind)
        if (hit is not None and state["victim"] is None and time < duration - 0.8
                and (kind == "vote" or node in state["leaders"])
                and state["down_until"].get(node, -1.0) < time and rng.random() < hit[0]):
            state["victim"] = (node, hit[1])
            sim_.stop()

    s.add_observer(observe)
    while True:
        run = s.run(until=duration)
        if state["victim"] is None or s.now >= duration:
            return run, raft.check(run)
        (victim, down), state["victim"] = state["victim"], None
        if not s.is_up(victim):
            continue
        back = s.now + rng.uniform(*down)
        state["down_until"][victim] = back
        s.add_faults([sim.Crash(victim, at=s.now), sim.Restart(victim, at=back)])


def hunt(bug: str, seeds) -> dict:
    """Run the bug's hunt over ``seeds``: which seeds the checker caught it in.

    Returns ``{"bug", "runs", "caught", "first", "properties"}`` (``first`` is the first
    catching seed or ``None``; ``properties`` counts the violated properties).

    Examples
    --------
    >>> hunt("no_truncate_on_conflict", range(9, 10))["caught"]
    1
    """
    if bug not in raft.BUGS:
        raise ValueError(f"bug must be one of {', '.join(map(repr, raft.BUGS))}; got {bug!r}")
    caught = []
    props: dict = {}
    seeds = list(seeds)
    for seed in seeds:
        if bug in ("commit_prior_term", "forget_vote_on_restart"):
            _, verdict = _targeted_run(seed, bug)
        else:
            _, verdict = nemesis_run(seed, bugs=(bug,))
        if not verdict:
            caught.append(seed)
            for p in set(verdict.violations["property"]):
                props[p] = props.get(p, 0) + 1
    return {"bug": bug, "runs": len(seeds), "caught": len(caught),
            "first": caught[0] if caught else None, "properties": props}


HUNTS = {b: b for b in raft.BUGS}

SOAKS = {
    "raft": Soak(trial=_trial, runs=1000,
                 sometimes=("leader_elected", "leader_changed", "committed", "ops_ok",
                            "cas_failed", "crash", "partition", "pause"),
                 description="Raft KV under a nemesis (crash, partition, pause, clock jump, "
                             "2% loss, 1% duplication), n in {3, 5, 7}: the five safety "
                             "properties of Figure 3"),
}
