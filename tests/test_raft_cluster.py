"""Whole Raft clusters: safety over many seeds (and that things did happen), liveness
after healing, determinism, the history conventions, the read paths, the scenarios."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsalgo import raft, sim
from dsalgo.soak import soak
from dsalgo.soak.raft import hunt, nemesis_run


def nemesis(rate, end, **kw):
    return sim.Nemesis(crash=rate, partition=rate / 2, pause=rate / 3, clock_jump=rate / 5,
                       mean_duration=0.3, end=end, **kw)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.sampled_from([1, 2, 3, 4, 5, 7]),
       prevote=st.booleans(), check_quorum=st.booleans(),
       reads=st.sampled_from(["log", "read_index"]), noop=st.booleans(),
       drop=st.sampled_from([0.0, 0.05]), rate=st.sampled_from([0.5, 2.0]))
def test_safety_holds_under_a_nemesis(seed, n, prevote, check_quorum, reads, noop, drop, rate):
    net = sim.Network(latency=sim.Exponential(mean=0.005), drop_rate=drop, duplicate_rate=drop)
    run = raft.simulate(n, seed=seed, duration=2.0, network=net, faults=[nemesis(rate, 1.5)],
                        clients=2, think=0.02, prevote=prevote, check_quorum=check_quorum,
                        reads=reads, noop=noop, record_messages=False)
    verdict = raft.check(run)
    assert verdict, str(verdict)


def test_sometimes_leaders_change_commands_commit_and_cas_fails():
    """The "sometimes" side of the property test above, on fixed seeds."""
    infos, fails = [], 0
    for seed in range(6):
        run, verdict = nemesis_run(seed)
        assert verdict, str(verdict)
        infos.append(verdict.info)
        fails += (run.history["status"] == "fail").sum()
    df = pd.DataFrame(infos)
    assert (df["leaders_elected"] > 0).all()
    assert (df["leader_changes"] > 0).any()
    assert (df["max_commit_index"] > 0).all()
    assert fails > 0


def test_soak_sample_passes_with_everything_happening():
    result = soak("raft", runs=30)
    assert result.ok, result.report()


def test_liveness_after_faults_heal():
    """With every fault over by t=2, a leader is in place and client operations succeed
    again within 1.5 s (several election timeouts), for every seed tried."""
    for seed in range(8):
        run = raft.simulate(5, seed=seed, duration=5.0, clients=2, think=0.02,
                            faults=[nemesis(2.0, 2.0)], prevote=seed % 2 == 1,
                            check_quorum=seed % 4 >= 2, client_timeout=0.5,
                            network=sim.Network(drop_rate=0.02))
        h = run.history
        late = h[(h["t_invoke"] >= 3.5) & (h["t_invoke"] < 4.4)]  # answered before the end
        assert len(late) > 10, seed
        assert late["status"].isin(["ok", "fail"]).all(), (seed, late["status"].value_counts())
        assert raft.check(run)


def test_same_seed_same_tables():
    kw = {"n": 5, "seed": 11, "duration": 2.0, "faults": [nemesis(1.0, 1.5)],
          "network": sim.Network(drop_rate=0.02, duplicate_rate=0.02)}
    a, b = raft.simulate(**kw), raft.simulate(**kw)
    for t in ("messages", "events", "history", "faults"):
        assert getattr(a, t).equals(getattr(b, t)), t
    c = raft.simulate(**{**kw, "seed": 12})
    assert not a.events.equals(c.events)


def test_failover_same_seed_same_table():
    a = raft.failover_trials(15, seed=3)
    assert a.equals(raft.failover_trials(15, seed=3))
    assert a.equals(raft.failover_trials(15, seed=3, batch=4))  # batching changes nothing
    assert not a.equals(raft.failover_trials(15, seed=4))


def test_checker_works_on_a_loaded_run(tmp_path):
    run = raft.simulate(3, seed=5, duration=1.5)
    loaded = sim.load_run(run.save(tmp_path / "run"))
    assert raft.check(loaded).info == raft.check(run).info
    bad = sim.load_run(raft.scenarios.figure8(bug=True).save(tmp_path / "bad"))
    assert not raft.check(bad)


def test_history_conventions():
    for keys in (2, 20):  # contention makes cas fail; many keys make some reads absent
        run = raft.simulate(3, seed=2, duration=3.0, clients=3, keys=keys)
        h = run.history
        assert set(h["f"]) == {"put", "get", "cas"}
        cas = h[h["f"] == "cas"]
        assert (cas["value"].map(len) == 2).all()
        assert cas.loc[cas["status"] == "ok", "result"].eq(True).all()
        assert cas.loc[cas["status"] == "fail", "result"].eq(False).all()
        puts = h[(h["f"] == "put") & (h["status"] == "ok")]
        assert puts["result"].isna().all()
        gets = h[(h["f"] == "get") & (h["status"] == "ok")]
        written = set(h.loc[h["f"] == "put", "value"]) | set(cas["value"].map(lambda v: v[1]))
        assert set(gets["result"].dropna()) <= written
        if keys == 2:
            assert (cas["status"] == "fail").any()
        else:
            assert gets["result"].isna().any()


def test_each_command_is_applied_once_despite_retries():
    """A lossy network makes clients resend; the state machine applies each op_id once
    per server (sessions), though the log may hold it twice."""
    run = raft.simulate(3, seed=4, duration=3.0, clients=3, retry_interval=0.02,
                        network=sim.Network(drop_rate=0.2))
    ev = run.events
    applied = ev[(ev["kind"] == "apply") & ev["op_id"].notna()]
    assert (applied.groupby(["node", "op_id"]).size() >= 1).all()
    assert raft.check(run)
    ok = run.history[run.history["status"] == "ok"]
    assert len(ok) > 20


def _stale_reads(history):
    """Gets that returned a value overwritten (put after put, both before the get)."""
    h = history[history["status"] == "ok"]
    puts = h[h["f"] == "put"]
    stale = 0
    for get in h[h["f"] == "get"].itertuples():
        if get.result is None:
            continue
        mine = puts[(puts["key"] == get.key) & (puts["value"] == get.result)]
        later = puts[(puts["key"] == get.key) & (puts["t_invoke"] > mine["t_complete"].min())
                     & (puts["t_complete"] < get.t_invoke)]
        stale += len(mine) > 0 and len(later) > 0
    return stale


def _partitioned_old_leader(reads, seed=1):
    base = {"n": 3, "seed": seed, "clients": 2, "keys": 1, "mix": {"put": 1, "get": 3},
            "reads": reads, "client_timeout": 0.5}
    first = raft.simulate(duration=1.0, **base)
    leader = first.events.query("kind == 'leader_elected'")["node"].iloc[-1]
    rest = [s for s in ("n1", "n2", "n3") if s != leader]
    cut = sim.Partition([[leader, "c1"], rest + ["c2"]], at=1.0, until=2.5)
    return raft.simulate(duration=3.0, faults=[cut], **base)


def test_local_reads_are_stale_under_partition_and_read_index_is_not():
    assert _stale_reads(_partitioned_old_leader("local").history) > 0
    for reads in ("read_index", "log"):
        run = _partitioned_old_leader(reads)
        assert _stale_reads(run.history) == 0, reads
        assert (run.history["status"] == "ok").sum() > 20


def test_figure8_overwrites_a_committed_entry_only_under_the_bug():
    for bug in (False, True):
        ev = raft.scenarios.figure8(bug=bug).events
        committed = ev[(ev["kind"] == "commit") & (ev["log_index"] == 2)
                       & (ev["entry_term"] == 2)]
        truncated = ev[(ev["kind"] == "truncate") & (ev["log_index"] == 2)]
        leaders = ev[ev["kind"] == "leader_elected"][["node", "term"]].values.tolist()
        assert leaders == [["n1", 1], ["n1", 2], ["n5", 3], ["n1", 4], ["n5", 5]]
        assert set(truncated["node"]) == {"n2", "n3"}  # S5 overwrites index 2 on S2, S3
        assert (len(committed) > 0) == bug                # ... committed only under the bug
        verdict = raft.check(raft.scenarios.figure8(bug=bug))
        assert bool(verdict) != bug


def test_figure8_branch_e_keeps_the_entry_either_way():
    for bug in (False, True):
        run = raft.scenarios.figure8(bug=bug, branch="e")
        ev = run.events
        assert list(ev.loc[ev["kind"] == "leader_elected", "term"]) == [1, 2, 3, 4]
        assert raft.check(run)


def test_every_bug_is_caught_in_its_scenario_and_not_without_it():
    expected = {"commit_prior_term": {"leader_completeness", "state_machine_safety"},
                "no_up_to_date_check": {"leader_completeness", "state_machine_safety"},
                "forget_vote_on_restart": {"election_safety", "one_vote_per_term"},
                "no_truncate_on_conflict": {"state_machine_safety"},
                "dedup_off_by_one": {"exactly_once"},
                "no_election_retry": {"leader_and_commit"},
                "reply_before_sync": {"election_safety", "one_vote_per_term"},
                "count_stale_votes": {"leader_vote_majority"},
                "revote_for_newer_log": {"election_safety", "one_vote_per_term"},
                "read_index_without_quorum": {"linearizability"}}
    for bug, scenario in raft.scenarios.SCENARIOS.items():
        assert raft.check(scenario(bug=False)), bug
        verdict = raft.check(scenario(bug=True))
        assert set(verdict.violations["property"]) == expected[bug], (bug, str(verdict))


def test_random_search_catches_the_log_bugs_within_a_few_seeds():
    assert hunt("no_truncate_on_conflict", range(20))["caught"] > 0
    assert hunt("no_up_to_date_check", range(25))["caught"] > 0


def test_director_nemesis_catches_figure8_and_forgotten_votes():
    """Seeds found by the full hunts (see the soak module): the first catching seed of each
    is re-run here, and a few seeds around it must contain a catch."""
    assert hunt("commit_prior_term", range(6))["caught"] > 0
    assert hunt("forget_vote_on_restart", range(10, 14))["caught"] > 0


def test_director_soak_sample_passes():
    result = soak("raft-director", runs=20)
    assert result.ok, result.report()


def test_hunt_rejects_unknown_bug():
    with pytest.raises(ValueError, match="bug must be one of 'commit_prior_term'"):
        hunt("typo", range(1))


def test_hunt_counts_properties_in_an_order_that_does_not_depend_on_the_hash_seed():
    import os
    import subprocess
    import sys
    code = ("from dsalgo.soak import raft as r; "
            "print(list(r.hunt('no_up_to_date_check', [18])['properties']))")
    seen = set()
    for h in ("0", "2"):   # these two hash seeds gave different orders before the fix
        env = {**os.environ, "PYTHONHASHSEED": h}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
        seen.add(out)
    # a lost committed entry also shows in what clients saw (linearizability)
    assert seen == {"['leader_completeness', 'linearizability', 'state_machine_safety']"}


def test_director_run_refuses_two_bugs_instead_of_keeping_one_silently():
    from dsalgo.soak.raft import director_run
    with pytest.raises(ValueError, match="at most one bug"):
        director_run(0, bugs={"commit_prior_term", "no_up_to_date_check"}, duration=0.6)


def test_open_loop_raft_client_gets_every_operation_answered_without_faults():
    # overlapping operations of one open-loop client used to share one session, so an
    # earlier op_id reaching the log after a later one was dropped as a stale duplicate
    # and its client waited in vain (80 of 212 operations ended "info" here)
    config = raft.Config()
    cluster = sim.Cluster("raft", 3, config, seed=1)
    servers = cluster.servers
    cluster.add_servers(lambda sid: raft.RaftNode(servers, config))
    cluster.add_clients(1, lambda cid: raft.RaftClient(
        servers, sim.KVWorkload(keys=3), mode="open", rate=200, start=0.5, stop=1.5,
        timeout=1.0))
    run = cluster.run(3.0)
    assert len(run.history) > 150
    assert set(run.history["status"]) <= {"ok", "fail"}
    assert raft.check(run)
