"""raft meets the family contract: simulate's standard parameters and knobs, Config,
run.params, BUGS and SCENARIOS, and the deprecated names."""

import dataclasses
import json
import warnings

import pytest

from dsalgo import raft, sim
from dsalgo.families import FAMILIES, check_contract


def test_raft_meets_the_family_contract():
    assert check_contract(FAMILIES["raft"]) == []


def test_bugs_describe_a_rule_each_and_every_bug_has_its_scenario():
    assert list(raft.BUGS) == ["commit_prior_term", "no_up_to_date_check",
                               "forget_vote_on_restart", "no_truncate_on_conflict",
                               "dedup_off_by_one", "no_election_retry", "reply_before_sync",
                               "count_stale_votes", "revote_for_newer_log",
                               "read_index_without_quorum"]
    for name, rule in raft.BUGS.items():
        assert rule and "\n" not in rule, name
    assert set(raft.SCENARIOS) == set(raft.BUGS)
    assert raft.SCENARIOS is raft.scenarios.SCENARIOS
    assert raft.SCENARIOS["commit_prior_term"] is raft.scenarios.figure8


def test_params_record_the_family_the_config_and_the_workload():
    run = raft.simulate(3, seed=2, duration=0.5, prevote=True, reads="read_index",
                        clients=2, mode="open", rate=20.0, bugs={"no_truncate_on_conflict"})
    p = run.params
    assert p["family"] == "raft" and p["n"] == 3 and p["duration"] == 0.5
    assert "algorithm" not in p
    assert p["prevote"] is True and p["reads"] == "read_index"
    assert p["bugs"] == ["no_truncate_on_conflict"]
    assert p["election_timeout"] == [0.15, 0.3]
    assert p["workload"]["clients"] == 2 and p["workload"]["mode"] == "open"
    json.dumps(p)
    config = raft.Config.from_params(p)
    assert config == raft.Config(prevote=True, reads="read_index",
                                 bugs={"no_truncate_on_conflict"})


def test_every_field_of_config_is_a_knob_of_simulate():
    names = [f.name for f in dataclasses.fields(raft.Config)]
    assert names == ["election_timeout", "heartbeat_interval", "prevote", "check_quorum",
                     "reads", "noop", "max_entries", "max_batch", "pipeline", "bugs"]
    for name, (_default, doc) in raft.Config.knobs().items():
        assert doc.endswith(".") and "\n" not in doc, name


def test_open_loop_clients_issue_at_their_rate():
    run = raft.simulate(3, seed=4, duration=3.0, clients=2, mode="open", rate=50.0,
                        max_ops=60)
    h = run.history
    assert len(h) == 120 and set(h["status"]) <= {"ok", "fail"}
    # arrivals overlap: some operation starts before the previous one of its client ends
    c1 = h[h["process"].astype(str).str.startswith("c1")].sort_values("t_invoke")
    assert (c1["t_invoke"].shift(-1) < c1["t_complete"]).any()
    assert raft.check(run)


def test_same_knobs_same_tables_whichever_form_they_are_given_in():
    a = raft.simulate(3, seed=5, duration=1.0, clients=2, election_timeout=(0.2, 0.4),
                      bugs={"no_truncate_on_conflict", "commit_prior_term"})
    b = raft.simulate(n=3, seed=5, duration=1.0, clients=2, election_timeout=[0.2, 0.4],
                      bugs=["commit_prior_term", "no_truncate_on_conflict"])
    assert a == b


def test_raft_config_is_a_deprecated_name_of_config():
    with pytest.warns(DeprecationWarning, match="raft.Config"):
        alias = raft.RaftConfig
    assert alias is raft.Config
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raft.Config()


def test_the_log_holds_shared_commands_and_servers_apply_the_shared_store():
    assert raft.KVStore is sim.KVStore
    node = raft.RaftNode(["n1"], raft.Config(noop=False))
    ctx = sim.RecordingContext("n1")
    node.on_start(ctx)
    ctx.fire(node, "election")
    node.on_message(ctx, "c1", raft.ClientRequest("c1", 0, "put", "x", 7))
    assert node.log[1].command == sim.Command("c1", 0, "put", "x", 7)
    assert isinstance(node.log[1].command, sim.Command)
    assert isinstance(node.store, sim.KVStore) and node.store.get("x") == 7
