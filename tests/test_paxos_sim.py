"""Whole-cluster behaviour of the Paxos family: determinism, round trips, failover,
flexible quorums, bad input."""

import dataclasses
import json

import numpy as np
import pytest

from dsalgo import paxos, quorum, sim
from dsalgo.families import FAMILIES, check_contract

LAN = sim.Network(latency=sim.Constant(0.01))


def leader_of(run, before=np.inf):
    ev = run.events
    lead = ev[(ev.kind == "leader") & (ev.time < before)]
    return str(lead.node.iloc[-1])


def tables_equal(a, b):
    return all(getattr(a, t).equals(getattr(b, t))
               for t in ("messages", "events", "history", "faults"))


@pytest.mark.parametrize("variant", ["single", "multi"])
def test_same_seed_gives_identical_tables_and_another_seed_does_not(variant):
    kw = {"variant": variant, "duration": 1.0,
              "faults": [sim.Nemesis(crash=2.0, partition=1.0, pause=1.0, max_crashed=2,
                                  mean_duration=0.1)],
              "network": sim.Network(latency=sim.Exponential(mean=0.005), drop_rate=0.02)}
    a, b, c = (paxos.simulate(5, seed=s, **kw) for s in (11, 11, 12))
    assert tables_equal(a, b) and a.params == b.params
    assert not tables_equal(a, c)


def test_multi_paxos_steady_state_takes_one_round_trip_per_command():
    n, clients = 5, 3
    run = paxos.simulate(n, seed=3, duration=2.0, network=LAN, clients=clients)
    m, ev = run.messages, run.events
    t_leader = ev.loc[ev.kind == "leader", "time"]
    assert len(t_leader) == 1                      # phase 1 ran once, for every slot
    assert (m.loc[m.type == "Prepare", "t_send"] <= t_leader.iloc[0]).all()
    count = m.type.value_counts()
    slots = ev.loc[ev.kind == "decided", "slot"].nunique()
    assert slots > 100
    # one Accept per acceptor per slot: the slots decided plus at most one per client in
    # flight when the run stops; never a second phase 1 or a re-sent Accept
    assert (n - 1) * slots <= count["Accept"] <= (n - 1) * (slots + clients)
    assert count["Accepted"] <= count["Accept"]
    assert count["Decided"] == (n - 1) * slots
    # a client talking to the leader waits exactly two hops to it and one round trip
    # (Accept, Accepted) from it to the acceptors: 4 x 10 ms
    h = run.history[run.history.status == "ok"].sort_values("t_invoke")
    steady = h[h.groupby("process", observed=True).cumcount() > 0]
    assert len(steady) > 100
    assert np.allclose(steady.t_complete - steady.t_invoke, 0.04)


def test_a_crashed_leader_is_replaced_and_the_store_keeps_serving():
    first = paxos.simulate(5, seed=5, duration=0.5)
    old = leader_of(first)
    run = paxos.simulate(5, seed=5, duration=2.0, faults=[sim.Crash(old, at=0.5)])
    ev, h = run.events, run.history
    new = ev[(ev.kind == "leader") & (ev.time > 0.5)]
    assert len(new) >= 1 and old not in set(new.node)
    assert new.time.iloc[0] < 0.5 + 0.3 + 0.05    # within an election timeout (+ slack)
    assert ((h.status == "ok") & (h.t_invoke > 1.0)).sum() > 50
    assert paxos.check(run)


def test_a_partitioned_old_leader_steps_down_when_it_hears_the_new_ballot():
    old = leader_of(paxos.simulate(5, seed=8, duration=0.5))
    rest = [f"n{i}" for i in range(1, 6) if f"n{i}" != old]
    run = paxos.simulate(5, seed=8, duration=2.0,
                         faults=[sim.Partition([[old], rest], at=0.5, until=1.0)])
    pre = run.events[(run.events.kind == "preempted") & (run.events.node == old)]
    assert len(pre) >= 1 and (pre.time >= 1.0).all()
    assert paxos.check(run)


def test_flexible_phase_two_quorum_keeps_committing_with_three_of_five_down():
    first = paxos.simulate(5, seed=2, duration=0.5, q1=4, q2=2)
    lead = leader_of(first)
    others = [f"n{i}" for i in range(1, 6) if f"n{i}" != lead][:3]
    crash = [sim.Crash(x, at=0.5) for x in others]
    flexible = paxos.simulate(5, seed=2, duration=1.5, q1=4, q2=2, faults=crash)
    majority = paxos.simulate(5, seed=2, duration=1.5, faults=crash)
    after = lambda r: int(((r.history.status == "ok") & (r.history.t_invoke > 0.6)).sum())
    assert after(flexible) > 50 and after(majority) == 0
    assert paxos.check(flexible) and paxos.check(majority)


def test_grid_quorums_run_and_hold():
    run = paxos.simulate(6, seed=1, duration=1.0, q1=quorum.grid(2, 3))
    assert paxos.check(run) and (run.history.status == "ok").sum() > 30


def test_unsafe_flexible_quorums_are_refused_unless_asked_for():
    with pytest.raises(ValueError, match=r"q1=2 and q2=2 do not intersect for n=4"):
        paxos.simulate(4, q1=2, q2=2)
    with pytest.raises(ValueError, match=r"do not intersect"):
        paxos.simulate(4, q1=quorum.flexible(4, 2, 2, unsafe=True))
    with pytest.raises(ValueError, match=r"do not intersect"):
        paxos.simulate(4, q1=quorum.flexible(4, 2, 3), q2=quorum.flexible(4, 3, 2))


@pytest.mark.parametrize("variant", ["single", "multi"])
@pytest.mark.parametrize("how", ["sizes", "system"])
def test_non_intersecting_quorums_let_two_halves_decide_differently(variant, how):
    q = {"q1": 2, "q2": 2} if how == "sizes" else {"q1": quorum.flexible(4, 2, 2, unsafe=True)}
    c1, c2 = (["c1"], ["c2"]) if variant == "multi" else ([], [])
    split = [sim.Partition([["n1", "n3"] + c1, ["n2", "n4"] + c2], at=0.0)]
    load = {"clients": 2} if variant == "multi" else {}   # single decree has no clients
    bad = paxos.simulate(4, variant=variant, seed=1, duration=1.0, unsafe=True, faults=split,
                         **load, **q)
    v = paxos.check(bad)
    assert not v and not v.holds("agreement")
    good = paxos.simulate(4, variant=variant, seed=1, duration=1.0, faults=split, **load)
    assert paxos.check(good)


def test_check_works_on_a_saved_and_loaded_run(tmp_path):
    run = paxos.simulate(3, seed=4, duration=1.0,
                         faults=[sim.Nemesis(crash=2.0, max_crashed=1, mean_duration=0.2)])
    loaded = sim.load_run(run.save(tmp_path / "run"))
    a, b = paxos.check(run), paxos.check(loaded)
    assert a and b and a.info == b.info


def test_params_record_how_the_run_was_made():
    run = paxos.simulate(5, seed=1, duration=0.2, q2=2, bugs=["duplicate_ballots"], keys=2)
    p = run.params
    assert (p["family"], p["variant"], p["n"], p["q2"], p["bugs"]) == (
        "paxos", "multi", 5, 2, ["duplicate_ballots"])
    assert "q1=4, q2=2" in p["quorums"] and p["q2_spec"]["size"] == 2
    assert p["workload"]["keys"] == 2 and p["duration"] == 0.2
    assert json.loads(json.dumps(p)) == p
    # the knobs come back from the params
    assert paxos.Config.from_params(p) == paxos.Config(q2=2, bugs={"duplicate_ballots"})
    assert paxos.WorkloadConfig.from_params(p["workload"]) == paxos.WorkloadConfig(keys=2)


def test_params_of_a_single_decree_run_with_a_quorum_system_are_json_safe():
    run = paxos.simulate(6, variant="single", duration=0.2, q1=quorum.grid(2, 3))
    p = run.params
    assert p["variant"] == "single" and p["workload"] == {}
    assert p["q1"] == repr(quorum.grid(2, 3)) and p["q2_spec"]["kind"] == "grid"
    assert json.loads(json.dumps(p)) == p


def test_the_family_meets_the_kernel_contract():
    assert check_contract(paxos) == [] and check_contract(FAMILIES["paxos"]) == []
    assert set(paxos.BUGS) == set(paxos.SCENARIOS)
    assert all(isinstance(d, str) and d.endswith(".") for d in paxos.BUGS.values())
    described = paxos.Config.describe()
    assert all(f"{name} :" in described for name in paxos.Config.knobs())


def test_config_is_frozen_validated_once_and_rebuilt_from_its_params():
    c = paxos.Config(election_timeout=[0.2, 0.4], bugs=["duplicate_ballots"])
    assert c.election_timeout == (0.2, 0.4) and c.bugs == frozenset({"duplicate_ballots"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.window = 2
    assert paxos.Config.from_params(json.loads(json.dumps(c.to_params()))) == c
    # the heartbeat rule is Multi-Paxos's: single-decree has no heartbeat
    assert paxos.Config(variant="single", heartbeat_interval=0.5).variant == "single"
    with pytest.raises(ValueError, match=r"heartbeat_interval must be shorter"):
        c.replace(heartbeat_interval=0.3)


def test_client_mode_is_a_deprecated_name_of_mode():
    kw = {"seed": 2, "duration": 0.5, "rate": 40.0}
    with pytest.warns(DeprecationWarning, match=r"client_mode=\.\.\.\) is deprecated; use mode"):
        old = paxos.simulate(3, client_mode="open", **kw)
    new = paxos.simulate(3, mode="open", **kw)
    assert tables_equal(old, new) and old.params == new.params
    assert new.params["workload"]["mode"] == "open"


def test_open_loop_clients_arrive_at_their_rate():
    run = paxos.simulate(3, seed=3, duration=2.0, mode="open", rate=50.0, clients=2)
    h = run.history
    assert 150 <= len(h) <= 250              # 2 clients x 50/s x 2 s, Poisson
    assert paxos.check(run) and (h.status == "ok").mean() > 0.9


def test_resolve_quorums_defaults_and_one_sided_sizes():
    assert "majority" in repr(paxos.resolve_quorums(5))
    q = paxos.resolve_quorums(5, q1=2)
    assert q.is_read_quorum({"n1", "n2"}) and not q.is_write_quorum({"n1", "n2", "n3"})


# ---------------------------------------------------------------- the checker catches
def tampered_history(run, op_filter, **changes):
    h = run.history.copy()
    idx = h.index[op_filter(h)][0]
    for col, val in changes.items():
        h.at[idx, col] = val
    return sim.Run(run.messages, run.events, h, run.faults, params=run.params, seed=run.seed)


@pytest.fixture(scope="module")
def good_run():
    run = paxos.simulate(3, seed=6, duration=1.0, keys=1)
    assert paxos.check(run)
    return run


def test_checker_catches_a_wrong_read(good_run):
    bad = tampered_history(good_run, lambda h: (h.f == "get") & (h.status == "ok")
                           & h.result.notna(), result=-99)
    v = paxos.check(bad)
    assert not v.holds("state_machine_safety") and "returned ok -99" in str(v)


def test_checker_catches_an_acknowledged_write_that_is_not_in_the_log(good_run):
    h = good_run.history
    row = h[(h.f == "put") & (h.status == "ok")].iloc[0]
    ev = good_run.events
    logged = ev.kind.isin(["decided", "accepted"])
    keep = ~(logged & (ev.value == row.op_id))
    decided = ev[ev.kind == "decided"]
    last = decided.slot.max()
    # drop the write's decisions and acceptances and renumber what follows, as if it was
    # never chosen (consistently, so agreement on chosen values still holds)
    events = ev[keep].copy()
    slot = decided.loc[decided.value == row.op_id, "slot"].iloc[0]
    events.loc[logged[keep] & (events.slot > slot), "slot"] -= 1
    bad = sim.Run(good_run.messages, events.reset_index(drop=True), h, good_run.faults,
                  params=good_run.params)
    assert last > slot
    v = paxos.check(bad)
    assert not v.holds("state_machine_safety") and "not in the decided log" in str(v)


def test_checker_catches_a_log_order_that_breaks_real_time(good_run):
    h = good_run.history
    ok = h[h.status == "ok"].sort_values("t_invoke")
    a, b = ok.iloc[0], ok[ok.t_invoke > ok.iloc[0].t_complete].iloc[0]
    ev = good_run.events.copy()
    dec = ev.kind == "decided"
    va, vb = ev.loc[dec & (ev.value == a.op_id)], ev.loc[dec & (ev.value == b.op_id)]
    ev.loc[va.index, "value"], ev.loc[vb.index, "value"] = b.op_id, a.op_id  # swap slots
    bad = sim.Run(good_run.messages, ev, h, good_run.faults, params=good_run.params)
    v = paxos.check(bad)
    assert not v.holds("state_machine_safety")
    assert any("before op" in d or "returned" in d for d in v.violations.detail)


def test_checker_catches_an_invented_value(good_run):
    ev = good_run.events.copy()
    i = ev.index[ev.kind == "decided"][0]
    # the acceptances too: a value invented for the whole run, not a learner disagreeing
    logged = ev.kind.isin(["decided", "accepted"])
    ev.loc[logged, "value"] = ev.loc[logged, "value"].where(
        ev.loc[logged, "slot"] != ev.at[i, "slot"], 10**6)
    v = paxos.check(sim.Run(good_run.messages, ev, good_run.history, good_run.faults,
                            params=good_run.params))
    assert not v.holds("validity") and "no client invoked" in str(v.violations.detail[0])


def test_checker_on_a_run_where_nothing_happened_holds_vacuously_and_says_so():
    run = paxos.simulate(3, variant="single", duration=0.001)
    v = paxos.check(run)
    assert v and v.info["slots_decided"] == 0


# ---------------------------------------------------------------- bad input
BAD = [
    ({"n": 0}, ValueError, r"n must be an integer >= 1; got 0"),
    ({"n": 2.5}, TypeError, r"n must be an integer; got 2.5"),
    ({"variant": "raft"}, ValueError, r"variant must be one of 'single', 'multi'; got 'raft'"),
    ({"seed": "x"}, TypeError, r"seed must be an integer; got 'x'"),
    ({"duration": 0}, ValueError, r"duration must be > 0; got 0.0"),
    ({"proposers": 4}, ValueError, r"proposers must be an integer <= 3; got 4"),
    ({"clients": -1}, ValueError, r"clients must be an integer >= 0; got -1"),
    ({"q1": 0}, ValueError, r"q1 must be an integer >= 1; got 0"),
    ({"q2": 4}, ValueError, r"q2 must be an integer <= 3; got 4"),
    ({"q1": "majority"}, TypeError, r"q1 must be a quorum size \(int\) or a quorum system"),
    ({"q1": quorum.majority(5)}, ValueError, r"q1 must be a quorum system over the servers n1, n2, n3"),
    ({"unsafe": "yes"}, TypeError, r"unsafe must be True or False; got 'yes'"),
    ({"bugs": "duplicate_ballots"}, TypeError, r"bugs must be a collection of bug names"),
    ({"bugs": {"off_by_one"}}, ValueError, r"bugs item must be one of 'acceptor_forgets_promise'"),
    ({"backoff": (0.2, 0.1)}, ValueError, r"backoff must be a \(low, high\) range with low <= high"),
    ({"retry_timeout": 0}, ValueError, r"retry_timeout must be > 0; got 0.0"),
    ({"heartbeat_interval": -1}, ValueError, r"heartbeat_interval must be > 0; got -1.0"),
    ({"election_timeout": (0, 0.1)}, ValueError, r"election_timeout\[0\] must be > 0; got 0.0"),
    ({"heartbeat_interval": 0.2}, ValueError,
     r"heartbeat_interval must be shorter than the smallest election timeout 0.15"),
    ({"window": 0}, ValueError, r"window must be an integer >= 1; got 0"),
    ({"keys": 0}, ValueError, r"keys must be an integer >= 1; got 0"),
    ({"mix": {"delete": 1}}, ValueError, r"mix key must be one of 'put', 'get', 'cas'; got 'delete'"),
    ({"mode": "open"}, ValueError, r"rate must be given"),
    ({"mode": "push"}, ValueError, r"mode must be one of 'closed', 'open'; got 'push'"),
    ({"client_mode": "open", "mode": "open"}, TypeError, r"give mode or its deprecated name"),
    ({"colour": "red"}, TypeError, r"unknown parameter 'colour'; accepted: variant, proposers"),
    ({"think": -1}, ValueError, r"think must be >= 0; got -1"),
    ({"client_timeout": 0}, ValueError, r"timeout must be > 0; got 0"),
    ({"max_ops": -1}, ValueError, r"max_ops must be an integer >= 0; got -1"),
    ({"retry_interval": 0}, ValueError, r"retry_interval must be > 0; got 0.0"),
    ({"network": "lan"}, TypeError, r"network must be a dsalgo.sim.Network; got 'lan'"),
    ({"faults": [sim.Crash("n9", at=1.0)]}, ValueError, r"'n9' is not a node of this simulation"),
    ({"faults": 5}, TypeError, r"faults must be an iterable of faults; got 5"),
]


@pytest.mark.parametrize("kwargs, exc, match", BAD, ids=[str(k) for k, _e, _m in BAD])
def test_bad_input_is_refused_naming_parameter_value_and_what_is_accepted(kwargs, exc, match):
    args = {"n": 3, "duration": 0.1}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        paxos.simulate(**args)


# ---------------------------------------------------------------- measures
def test_decision_time_is_two_round_trips_for_a_lone_proposer_and_nan_without_one():
    run = paxos.simulate(3, variant="single", proposers=1, network=LAN, duration=0.2)
    assert paxos.decision_time(run) == pytest.approx(0.04)
    assert np.isnan(paxos.decision_time(paxos.simulate(3, variant="single", duration=0.001)))


def test_summary_counts_only_operations_after_the_warm_up():
    run = paxos.simulate(3, seed=2, duration=1.0, network=sim.Network(latency=sim.Constant(0.005)))
    s = paxos.summary(run, after=0.5)
    h = run.history
    assert s["ops_ok"] == ((h.status == "ok") & (h.t_invoke >= 0.5)).sum() > 0
    assert s["throughput"] == pytest.approx(s["ops_ok"] / 0.5)
    assert s["latency_p50"] == pytest.approx(0.02) and s["leaders"] == 1
    assert s["messages_per_op"] > 2 * 2      # Accept + Accepted to 2 followers, at least


def test_check_refuses_what_is_not_a_run():
    with pytest.raises(TypeError, match=r"run must be a dsalgo.sim.Run .*got 'run' of type str"):
        paxos.check("run")


@pytest.mark.parametrize(("after", "exc", "match"), [
    (-1.0, ValueError, r"after must be >= 0; got -1.0"),
    ("0.5", TypeError, r"after must be a real number; got '0.5'"),
    (5.0, ValueError, r"after must be before the end of the run \(1.0 s\); got 5.0"),
])
def test_summary_refuses_a_bad_warm_up(after, exc, match):
    run = paxos.simulate(3, duration=1.0)
    with pytest.raises(exc, match=match):
        paxos.summary(run, after=after)


def test_max_ops_bounds_each_client():
    run = paxos.simulate(3, seed=1, duration=2.0, clients=2, max_ops=7)
    assert run.history.groupby("process", observed=True).size().tolist() == [7, 7]
    assert (run.history.status != "info").all()


def test_summary_gives_nan_messages_per_op_when_messages_were_not_recorded():
    run = paxos.simulate(3, seed=1, duration=1.0, record_messages=False)
    s = paxos.summary(run, after=0.5)
    assert s["ops_ok"] > 0 and s["messages_per_op"] != s["messages_per_op"]   # NaN, not 0.0
    recorded = paxos.summary(paxos.simulate(3, seed=1, duration=1.0), after=0.5)
    assert recorded["messages_per_op"] > 0
