"""Acceptor ballots never decrease; every decision rests on one ballot's phase-2 quorum.

Each property is pinned on hand-made tables, shown to catch its broken variant (a
``BUGS`` entry), and shown to hold for correct Paxos over many seeds under the faults
that exercise it -- crash points inside handlers and delayed duplicates of old messages --
with a count that those faults did strike.
"""

from collections import Counter

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsalgo import paxos, sim
from dsalgo.soak import soak

IDS = ["n1", "n2", "n3"]
B1, B2, B3 = (1, "n1"), (2, "n2"), (3, "n3")
SPEC3 = {"kind": "threshold", "names": IDS, "size": 2}
LOSSY = sim.Network(latency=sim.Exponential(mean=0.005), drop_rate=0.05, duplicate_rate=0.05)


def run_of(rows, spec=SPEC3):
    ev = pd.DataFrame([{"seq": i, "time": t, "node": node, "kind": kind, **fields}
                       for i, (t, node, kind, fields) in enumerate(rows)])
    return sim.Run(events=ev, params={"variant": "single", "q2_spec": spec})


def acc(t, node, ballot, value="x"):
    return (t, node, "accepted", {"slot": 0, "ballot": ballot, "value": value})


def dec(t, node, value="x"):
    return (t, node, "decided", {"slot": 0, "value": value})


PROPOSE = (0.0, "n1", "propose", {"value": "x"})


# ---------------------------------------------------------------- on hand-made tables
def test_an_acceptance_below_a_promise_is_a_decrease():
    v = paxos.check(run_of([PROPOSE, (0.1, "n2", "promise", {"ballot": B2}),
                            acc(0.2, "n2", B1), acc(0.3, "n2", B1)]))
    assert v.holds("agreement") and not v.holds("ballots_never_decrease")
    assert v.violations["detail"].tolist() == [
        "acceptor n2 accepted a proposal at ballot (1, 'n1') after it had promised ballot "
        "(2, 'n2') at t=0.1s (2 decreases in all)"]
    assert v.info["acceptor_ballots"] == 3


def test_ballots_that_only_grow_hold_per_acceptor_and_across_acceptors():
    rows = [PROPOSE, (0.1, "n1", "promise", {"ballot": B2}), acc(0.2, "n2", B1),
            acc(0.3, "n1", B2), (0.4, "n2", "promise", {"ballot": B3}),
            (0.5, "n2", "promise", {"ballot": B3}), acc(0.6, "n2", B3)]
    assert paxos.check(run_of(rows)).holds("ballots_never_decrease")


def test_a_promise_below_an_acceptance_is_a_decrease_too():
    v = paxos.check(run_of([PROPOSE, acc(0.1, "n3", B2), (0.2, "n3", "promise",
                                                          {"ballot": B1})]))
    assert v.violations["detail"].tolist() == [
        "acceptor n3 promised ballot (1, 'n1') after it had accepted ballot (2, 'n2') at "
        "t=0.1s"]


def test_a_decision_needs_a_quorum_in_one_ballot_before_it():
    split = [PROPOSE, acc(0.1, "n1", B1), acc(0.2, "n2", B2), dec(0.3, "n1")]
    v = paxos.check(run_of(split))
    assert not v.holds("decided_by_quorum") and v.holds("agreement")
    assert v.violations["detail"].tolist() == [
        "slot 0: n1 decided 'x' at t=0.3s, but no phase-2 quorum ever accepted it in one "
        "ballot"]
    late = [PROPOSE, acc(0.1, "n1", B1), dec(0.2, "n1"), acc(0.3, "n2", B1)]
    assert paxos.check(run_of(late)).violations["detail"].tolist() == [
        "slot 0: n1 decided 'x' at t=0.2s, but a phase-2 quorum accepted it in one ballot "
        "only at t=0.3s"]
    good = [PROPOSE, acc(0.1, "n1", B1), acc(0.2, "n3", B1), dec(0.2, "n3"), dec(0.4, "n2")]
    assert paxos.check(run_of(good))


def test_the_quorum_is_the_runs_own_phase_two_quorum():
    five = ["n1", "n2", "n3", "n4", "n5"]
    rows = [PROPOSE, acc(0.1, "n1", B1), acc(0.2, "n4", B1), dec(0.3, "n1")]
    q2 = {"kind": "threshold", "names": five, "size": 2}     # flexible: q1=4, q2=2
    assert paxos.check(run_of(rows, q2)).holds("decided_by_quorum")
    q3 = {"kind": "threshold", "names": five, "size": 3}
    assert not paxos.check(run_of(rows, q3)).holds("decided_by_quorum")
    grid = {"kind": "grid", "rows": 2, "cols": 2, "names": ["n1", "n2", "n3", "n4"]}
    assert paxos.check(run_of(rows, grid)).holds("decided_by_quorum")   # one per row
    rows[2] = acc(0.2, "n2", B1)                                        # both in row 1
    assert not paxos.check(run_of(rows, grid)).holds("decided_by_quorum")


def test_the_kernels_emit_promises_as_they_answer():
    run = paxos.simulate(3, variant="single", seed=1, duration=1.0)
    ev = run.events
    promises = ev[ev["kind"] == "promise"]
    assert len(promises) >= 2 and set(promises["node"]) <= set(IDS)
    multi = paxos.simulate(3, seed=1, duration=0.5, storage=sim.Storage(sync=sim.Constant(0.01)))
    ev = multi.events
    first = ev[ev["kind"] == "promise"].iloc[0]
    # with a storage model a promise is recorded once durable: after a sync of its node
    syncs = ev[(ev["kind"] == "sync") & (ev["node"] == first["node"])]
    assert (syncs["time"] <= first["time"]).any()


# ---------------------------------------------------------------- broken variants caught
def single_run(seed, bugs=(), n=3, **nemesis):
    rates = dict(crash=8.0, partition=2.0)
    rates.update(nemesis)
    return paxos.simulate(n, variant="single", seed=seed, duration=1.0, network=LOSSY,
                          proposers=n, bugs=bugs,
                          faults=[sim.Nemesis(mean_duration=0.05, max_crashed=n - 1,
                                              **rates)])


def first_caught(make, prop, tries=40):
    for seed in range(tries):
        v = paxos.check(make(seed))
        if not v.holds(prop):
            return seed
    return None


@pytest.mark.parametrize("variant", ["single", "multi"])
def test_accept_below_promise_is_caught_by_ballots_never_decrease(variant):
    v = paxos.check(paxos.SCENARIOS["accept_below_promise"](bug=True, variant=variant))
    assert not v.holds("ballots_never_decrease")
    assert paxos.check(paxos.SCENARIOS["accept_below_promise"](variant=variant))
    if variant == "single":   # and a randomized search finds it within a few seeds
        assert first_caught(lambda s: single_run(s, {"accept_below_promise"}),
                            "ballots_never_decrease", tries=10) is not None


def test_reply_before_write_is_caught_only_with_crash_points_inside_handlers():
    points = dict(crash_point=8.0, crash_point_after=1)
    caught = [s for s in range(40)
              if not paxos.check(single_run(s, {"reply_before_write"}, **points))]
    assert caught
    # the same seeds with atomic handlers: the bug cannot show
    assert all(paxos.check(single_run(s, {"reply_before_write"})) for s in caught)
    # and the correct kernel survives the very crash points that caught it
    assert all(paxos.check(single_run(s, **points)) for s in caught)


def test_reply_before_write_scenario_in_both_variants():
    scenario = paxos.SCENARIOS["reply_before_write"]
    assert paxos.check(scenario()) and not paxos.check(scenario(bug=True))
    assert paxos.check(scenario(bug=True, crash_points=False))
    assert not paxos.check(scenario(bug=True, variant="multi")).safety
    with pytest.raises(TypeError, match="crash_points must be True or False"):
        scenario(crash_points="yes")


def test_stale_votes_are_caught_by_decided_by_quorum_with_late_votes():
    def make(seed):
        return paxos.simulate(6, variant="single", seed=seed, duration=1.0, network=LOSSY,
                              proposers=6, bugs={"stale_votes"}, backoff=(0.0, 0.01),
                              retry_timeout=0.05,
                              faults=[sim.Nemesis(crash=4.0, partition=2.0, pause=2.0,
                                                  max_crashed=5, delayed_duplicate=20.0,
                                                  duplicate_kinds=["Accepted"],
                                                  mean_duration=0.05)])
    assert first_caught(make, "decided_by_quorum", tries=15) is not None
    v = paxos.check(paxos.SCENARIOS["stale_votes"](bug=True))
    assert not v.holds("decided_by_quorum")
    with pytest.raises(ValueError, match="variant must be 'single' for stale_votes"):
        paxos.SCENARIOS["stale_votes"](variant="multi")


# ---------------------------------------------------------------- correct Paxos holds
SETTINGS = settings(max_examples=10, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def struck(run):
    f = run.faults
    return Counter({"crash_points": int(f["detail"].astype(str)
                                        .str.startswith("crash point").sum()),
                    "late_copies": int((f["kind"] == "delayed_duplicate").sum()),
                    "decided": int((run.events["kind"] == "decided").any())})


def test_single_decree_holds_under_crash_points_and_delayed_duplicates():
    seen = Counter()

    @SETTINGS
    @given(seed=st.integers(0, 10**6), n=st.sampled_from([4, 6]),
           storage=st.booleans())
    def always(seed, n, storage):
        run = paxos.simulate(
            n, variant="single", seed=seed, duration=1.0, network=LOSSY, proposers=n,
            backoff=(0.0, 0.01), retry_timeout=0.05,
            storage=sim.Storage(sync=sim.Constant(0.003)) if storage else None,
            faults=[sim.Nemesis(crash_point=8.0, crash=2.0, partition=2.0,
                                delayed_duplicate=20.0, max_crashed=n - 1,
                                mean_duration=0.05)])
        v = paxos.check(run)
        assert v, str(v)
        assert v.info["acceptor_ballots"] > 0
        seen.update(struck(run))

    always()
    assert seen["crash_points"] >= 5 and seen["late_copies"] >= 50 and seen["decided"] >= 5


def test_multi_paxos_holds_under_crash_points_and_delayed_duplicates():
    seen = Counter()

    @SETTINGS
    @given(seed=st.integers(0, 10**6), n=st.sampled_from([4, 6]), q2=st.sampled_from(
        [None, "small"]))
    def always(seed, n, q2):
        quorums = {"q2": 2} if q2 else {}            # flexible: q1 = n - 1
        run = paxos.simulate(
            n, seed=seed, duration=1.5, network=LOSSY, clients=3, keys=2,
            faults=[sim.Nemesis(crash_point=4.0, partition=1.0, delayed_duplicate=10.0,
                                max_crashed=1, mean_duration=0.1, end=1.0)], **quorums)
        v = paxos.check(run, time_limit=120.0)   # a busy machine must not make it unknown
        assert v.safety, str(v)
        seen.update(struck(run))

    always()
    assert seen["crash_points"] >= 5 and seen["late_copies"] >= 50 and seen["decided"] >= 8


@pytest.mark.parametrize("name", ["paxos-crash-points", "paxos-late-messages"])
def test_new_soak_samples_pass_and_their_faults_strike(name):
    result = soak(name, runs=6)
    assert result.ok, result.report()


# ---------------------------------------------------------------- scenarios' searched seeds
SEARCHED = [("dedup_at_leader_only", "multi"), ("reply_before_sync", "multi"),
            ("accept_below_promise", "single"), ("accept_below_promise", "multi"),
            ("reply_before_write", "single"), ("reply_before_write", "multi")]


@pytest.mark.parametrize("name, variant", SEARCHED)
def test_a_searched_scenario_runs_both_kernels_on_the_seed_that_shows_the_bug(name, variant):
    scenario = paxos.SCENARIOS[name]
    bad, good = scenario(bug=True, variant=variant), scenario(variant=variant)
    assert bad.seed == good.seed and bad.params["scenario"] == name
    assert not paxos.check(bad) and paxos.check(good).safety
    # the seed lies in the range searched from the scenario's start
    starts = {"dedup_at_leader_only": 1, "reply_before_sync": 1,
              "accept_below_promise": 27 if variant == "multi" else 1,
              "reply_before_write": 3 if variant == "multi" else 1}
    assert starts[name] <= bad.seed < starts[name] + paxos.scenarios.SEARCH


def test_a_scenario_search_that_finds_nothing_says_so(monkeypatch):
    from dsalgo.paxos import scenarios
    monkeypatch.setattr(scenarios, "SEARCH", 2)
    monkeypatch.setattr(scenarios, "_FOUND", {})
    with pytest.raises(RuntimeError, match=r"no seed in \[5, 7\) shows the bug of scenario"):
        scenarios._searched(("never", "multi"), 5,
                            lambda seed: paxos.simulate(3, seed=seed, duration=0.2),
                            lambda v: False)
