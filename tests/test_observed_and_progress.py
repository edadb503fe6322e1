"""What clients observed and progress after faults heal, for Raft, Multi-Paxos and the
locks: each property catches a planted bug that breaks it, and the correct algorithms
pass the soaks' faulty runs with the progress side counted."""

import math

import pandas as pd
import pytest

from dsalgo import locks, paxos, raft, sim
from dsalgo.check.clients import CLIENT_PROPERTIES, client_verdict, duplicate_executions
from dsalgo.check.models import get_model
from dsalgo.check.verdict import plain
from dsalgo.soak import soak


# ---------------------------------------------------------------- one helper, two families
def test_raft_and_paxos_judge_clients_with_the_same_helper():
    for fam, run in ((raft, raft.simulate(3, seed=3, duration=1.0, clients=2)),
                     (paxos, paxos.simulate(3, seed=3, duration=1.0, clients=2))):
        v = fam.check(run)
        assert set(CLIENT_PROPERTIES) <= set(v.properties)
        alone = client_verdict(run)
        assert alone.properties == CLIENT_PROPERTIES and bool(alone)
        assert v.info["duplicate_executions"] == alone.info["duplicate_executions"] == 0
        # every operation that constrains the history is checked (a read left open at
        # the end, say, does not: its outcome is unknown and it changed nothing)
        h, kv = run.history, get_model("kv")
        kept = sum(kv.keep(f, status) for f, status in zip(h["f"], h["status"]))
        assert v.info["linearizability"]["ops"] == kept > 0


def test_duplicate_executions_start_afresh_after_a_restart():
    ev = pd.DataFrame({"seq": [0, 1, 2, 3], "time": [0.1, 0.2, 0.3, 0.4],
                       "node": ["n1"] * 4, "kind": ["apply", "crash", "restart", "apply"],
                       "process": ["c1", None, None, "c1"], "op_id": [5, None, None, 5],
                       "executed": [True, None, None, True]})
    assert duplicate_executions(ev) == []          # the store was rebuilt from the log
    again = ev.assign(kind=["apply", "apply", "apply", "apply"],
                      process=["c1", "c2", "c2", "c1"], op_id=[5, 6, 7, 5],
                      executed=[True, True, False, True])
    rows = duplicate_executions(again)
    assert [r["time"] for r in rows] == [0.4] and rows[0]["nodes"] == ("n1", "c1")


def test_a_run_without_executed_fields_is_not_judged_on_exactly_once():
    run = paxos.simulate(3, seed=1, duration=0.5, clients=1)
    run.events = run.events.drop(columns=["executed"])
    v = client_verdict(run)
    assert v.info["duplicate_executions"] is None and "not checked" in v.info["exactly_once"]


# ---------------------------------------------------------------- Multi-Paxos
def lossy_paxos(seed, bugs=()):
    return paxos.simulate(3, seed=seed, duration=2.0, clients=3, keys=2,
                          network=sim.Network(latency=sim.Exponential(mean=0.005),
                                              drop_rate=0.02, duplicate_rate=0.02),
                          faults=[sim.Nemesis(crash=1.0, partition=0.7, max_crashed=1,
                                              mean_duration=0.25, end=1.6)], bugs=bugs)


def test_paxos_replicas_record_every_application_and_suppress_retries():
    # a replica that meets a command again in the log records it with executed=False;
    # the buggy replica executes it, and nothing differs before that apply, so the buggy
    # run breaks exactly-once exactly on the seeds where the correct run suppresses one
    shown = 0
    for seed in range(40):
        run = lossy_paxos(seed)
        ap = run.events[run.events["kind"] == "apply"]
        assert len(ap) > 100 and paxos.check(run).holds("exactly_once")
        suppressed = not ap["executed"].astype(bool).all()
        v = paxos.check(lossy_paxos(seed, bugs={"dedup_at_leader_only"}))
        assert v.holds("agreement") and v.holds("exactly_once") == (not suppressed), seed
        shown += suppressed
        if shown:
            break
    assert shown, "no seed in 0..39 had a retried command meet the log twice"


def test_dedup_scenario_is_caught_by_exactly_once_and_only_with_the_bug():
    scenario = paxos.SCENARIOS["dedup_at_leader_only"]
    good = paxos.check(scenario())
    assert good and good.info["duplicate_executions"] == 0
    bad = scenario(bug=True)
    v = paxos.check(bad)
    assert bad.seed == scenario().seed
    # exactly-once names the double execution; a get between the two executions (if one
    # happened) reads what the log does not give; nothing else breaks
    assert "exactly_once" in set(v.violations["property"])
    assert set(v.violations["property"]) <= {"exactly_once", "state_machine_safety"}
    ap = bad.events[bad.events["kind"] == "apply"]
    again = ap[ap.duplicated(["node", "process", "op_id"], keep=False)]
    assert v.info["duplicate_executions"] >= 1
    assert again["executed"].astype(bool).all() and len(again) >= 2
    with pytest.raises(ValueError, match="variant must be 'multi' for dedup_at_leader_only"):
        scenario(variant="single")


def test_no_accept_retransmit_breaks_progress_not_safety():
    scenario = paxos.SCENARIOS["no_accept_retransmit"]
    good = paxos.check(scenario())
    assert good and good.info["recovery"]["judged"]
    v = paxos.check(scenario(bug=True))
    assert v.safety and not v.progress
    assert v.kinds["leader_and_commit"] == "progress"
    # the cut is shorter than an election timeout: the leader is up when it heals
    cut = scenario(bug=True).faults.query("kind == 'partition'")
    r = v.info["recovery"]
    assert len(cut) == 1 and r["t_heal"] == cut["t_end"].iloc[0] == r["t_leader"]
    assert r["work"] and r["t_commit"] is None


def test_paxos_recovery_time_measures_a_leader_crash():
    run = paxos.simulate(3, seed=1, duration=3.0, clients=2,
                         faults=[sim.Crash("n2", at=0.5), sim.Restart("n2", at=0.6),
                                 sim.Partition([["n2"], ["n1", "n3"]], at=0.6, until=1.0)])
    r = paxos.recovery_times(run).iloc[0]
    assert r["judged"] and r["t_heal"] == 1.0
    assert 0.0 <= r["recovery"] < r["grace"] and r["t_commit"] >= r["t_work"] >= 1.0
    assert paxos.check(run)


def test_paxos_progress_is_not_judged_without_a_quorum_or_time():
    down = paxos.simulate(3, seed=1, duration=2.0, clients=1,
                          faults=[sim.Crash("n1", at=0.3), sim.Crash("n3", at=0.3)])
    r = paxos.recovery_times(down).iloc[0]
    assert math.isnan(r["t_heal"]) and not r["judged"]
    v = paxos.check(down)
    assert v.holds("leader_and_commit") and "not judged" in v.info["progress"]
    # flexible quorums: q1 = 4 of 5 needs four servers up
    flex = paxos.simulate(5, seed=1, duration=2.0, clients=1, q1=4, q2=2,
                          faults=[sim.Crash("n1", at=0.3), sim.Crash("n3", at=0.3)])
    assert math.isnan(paxos.recovery_times(flex).iloc[0]["t_heal"])
    # single-decree Paxos has no progress property here
    single = paxos.check(paxos.simulate(3, variant="single", seed=1))
    assert "leader_and_commit" not in single.properties


def test_paxos_check_refuses_a_bad_grace():
    run = paxos.simulate(3, seed=1, duration=0.5, clients=1)
    with pytest.raises(TypeError, match="grace must be a real number; got 'long'"):
        paxos.check(run, grace="long")
    with pytest.raises(ValueError, match="grace"):
        raft.check(raft.simulate(3, seed=1, duration=0.3, clients=1), grace=-1.0)


# ---------------------------------------------------------------- Raft's progress bug
def test_split_vote_scenario_breaks_progress_only_with_the_bug():
    good = raft.scenarios.split_vote_scenario()
    ev = good.events
    assert (ev.loc[ev["kind"] == "role"].query("role == 'candidate'")["term"] == 1).sum() == 3
    assert raft.check(good)
    v = raft.check(raft.scenarios.split_vote_scenario(bug=True))
    assert v.safety and not v.progress
    assert set(v.violations["property"]) == {"leader_and_commit"}


def test_a_candidate_without_retries_still_elects_when_votes_do_not_split():
    # the bug only bites when an election fails: a run whose first election succeeds
    # is unaffected, which is why random nemesis runs seldom show it
    run = raft.simulate(3, seed=1, duration=2.0, clients=1, bugs={"no_election_retry"})
    assert raft.check(run)


# ---------------------------------------------------------------- the locks' info
def test_lock_recovery_info_holds_plain_numbers():
    run = locks.zookeeper.simulate(clients=2, seed=1, duration=5.0, critical_section=0.3,
                                   faults=[sim.Crash("c1", at=0.1)])
    rec = locks.check(run).info["recovery"]
    assert rec["judged"] is True
    assert all(v is None or type(v) in (bool, int, float) for v in rec.values()), rec
    assert plain(pd.Series({"a": float("nan")})) == {"a": None}


# ---------------------------------------------------------------- soaks: it did happen
@pytest.mark.parametrize("name, runs", [("raft", 12), ("paxos-multi", 8),
                                        ("locks-redlock-crash", 10),
                                        ("locks-zookeeper-fencing", 8)])
def test_correct_algorithms_pass_faulty_soak_runs_with_progress_judged(name, runs):
    result = soak(name, runs=runs)
    assert result.passed == runs, result.report()
    assert result.runs_with["progress_judged"] == runs, result.report()
    assert result.runs_with["recovered_after_fault"] > 0, result.report()


def test_paxos_hunts_catch_the_new_bugs_in_soak_runs():
    from dsalgo.soak.paxos import hunt
    dedup = hunt("dedup_at_leader_only", range(1, 4))
    assert dedup["caught"] >= 1 and dedup["properties"].get("exactly_once", 0) >= 1
    lost = hunt("no_accept_retransmit", range(6, 9))
    assert lost["caught"] >= 1 and set(lost["properties"]) == {"leader_and_commit"}
    with pytest.raises(ValueError, match="bug must be one of"):
        hunt("no_such_bug", range(1))
