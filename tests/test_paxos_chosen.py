"""Agreement judged on values chosen by acceptor quorums, not only on what learners recorded.

A value is chosen at ``(slot, ballot)`` once the acceptors that accepted it there form a
phase-2 quorum, whether or not anybody counted the votes.  These tests pin the new
``accepted`` events, the ``q2_spec`` the harness records, and the checker's use of both.
"""

from collections import Counter
from itertools import combinations

import pandas as pd
import pytest
from test_paxos_safety import LOSSY, search

from dsalgo import paxos, quorum, sim
from dsalgo.paxos import Accept, Acceptor, MultiPaxosNode, phase2_spec, resolve_quorums
from dsalgo.sim import Command, Emit

IDS = ["n1", "n2", "n3"]
B1, B2 = (1, "n1"), (2, "n2")
SPEC3 = {"kind": "threshold", "names": IDS, "size": 2}


def events(rows):
    """An events table from ``(time, node, kind, fields)`` rows."""
    return pd.DataFrame([{"seq": i, "time": t, "node": node, "kind": kind, **fields}
                         for i, (t, node, kind, fields) in enumerate(rows)])


def single_run(rows, params=None):
    params = {"variant": "single", "q2_spec": SPEC3} if params is None else params
    return sim.Run(events=events(rows), params=params)


# ---------------------------------------------------------------- the acceptor records
def test_acceptor_emits_what_it_accepts_and_nothing_when_it_refuses():
    ctx = sim.RecordingContext("n1")
    a = Acceptor({})
    a.on_accept(Accept(B2, 0, "x"), ctx)
    a.on_accept(Accept(B1, 0, "y"), ctx)             # lower ballot: refused
    a.on_accept(Accept(B2, 0, "x"))                   # no context: no event (sans-I/O use)
    assert ctx.take() == [Emit("accepted", {"slot": 0, "ballot": B2, "value": "x"})]


def test_multi_paxos_acceptor_records_the_op_id_and_minus_one_for_a_noop():
    node = MultiPaxosNode(IDS, quorum.majority(3))
    ctx = sim.RecordingContext("n2")
    node.on_start(ctx)
    ctx.take()
    node.on_message(ctx, "n1", Accept(B1, 0, None))
    node.on_message(ctx, "n1", Accept(B1, 1, Command("c1", 7, "put", "k", 7)))
    assert [e for e in ctx.take() if isinstance(e, Emit)] == [
        Emit("accepted", {"slot": 0, "ballot": B1, "value": -1}),
        Emit("accepted", {"slot": 1, "ballot": B1, "value": 7})]


# ---------------------------------------------------------------- the harness records q2
@pytest.mark.parametrize("n, q1, q2", [(3, None, None), (5, 4, 2), (5, 2, 4),
                                       (6, quorum.grid(2, 3), None), (4, None, quorum.grid(2, 2)),
                                       (4, 3, quorum.QuorumSystem(writes=[["n1", "n2"],
                                                                          ["n3", "n4"],
                                                                          ["n1", "n4"]],
                                                                  nodes=["n1", "n2", "n3", "n4"],
                                                                  unsafe=True))])
def test_q2_spec_rebuilds_exactly_the_phase_two_quorums(n, q1, q2):
    from dsalgo.paxos.checker import _phase2_test

    servers = [f"n{i}" for i in range(1, n + 1)]
    quorums = resolve_quorums(n, q1, q2, unsafe=True)
    is_q2 = _phase2_test(phase2_spec(quorums, servers))
    for k in range(n + 1):
        for ids in combinations(servers, k):
            assert is_q2(frozenset(ids)) == quorums.is_write_quorum(frozenset(ids)), ids


def test_q2_spec_of_a_bare_membership_test_lists_its_minimal_quorums():
    class Pairs:   # only the two methods the kernels use
        def is_read_quorum(self, ids):
            return len(set(ids)) >= 2

        def is_write_quorum(self, ids):
            return {"n1", "n2"} <= set(ids) or {"n3"} <= set(ids)

    assert phase2_spec(Pairs(), IDS) == {"kind": "explicit", "quorums": [["n1", "n2"], ["n3"]]}


def test_q2_spec_is_in_the_params_and_survives_a_save(tmp_path):
    run = paxos.simulate(6, seed=3, duration=0.5, q1=quorum.grid(2, 3))
    assert run.params["q2_spec"] == {"kind": "grid", "rows": 2, "cols": 3,
                                     "names": ["n1", "n2", "n3", "n4", "n5", "n6"]}
    again = sim.load_run(run.save(tmp_path / "run"))
    assert again.params["q2_spec"] == run.params["q2_spec"]
    v, w = paxos.check(run), paxos.check(again)
    assert v and w and v.info == w.info and v.info["slots_chosen"] > 0


# ---------------------------------------------------------------- (a) hand-made tables
# v1 is chosen at ballot (1, n1) by {n1, n2}; n3 never hears of it.  Later (2, n2) gets
# v2 accepted by {n2, n3} -- a broken variant that ignored the accepted value -- and only
# n3 records a decision.  The learners agree (one value); the acceptors do not.
TWO_CHOSEN = [
    (0.00, "n1", "propose", {"value": "v1"}),
    (0.00, "n2", "propose", {"value": "v2"}),
    (0.01, "n1", "accepted", {"slot": 0, "ballot": B1, "value": "v1"}),
    (0.02, "n2", "accepted", {"slot": 0, "ballot": B1, "value": "v1"}),
    (0.05, "n2", "accepted", {"slot": 0, "ballot": B2, "value": "v2"}),
    (0.06, "n3", "accepted", {"slot": 0, "ballot": B2, "value": "v2"}),
    (0.07, "n3", "decided", {"slot": 0, "value": "v2"}),
]


def test_two_values_chosen_by_quorums_are_a_violation_though_learners_recorded_one():
    v = paxos.check(single_run(TWO_CHOSEN))
    assert not v and not v.holds("agreement") and v.holds("one_value_per_ballot")
    (row,) = v.violations.itertuples()
    assert row.time == 0.06 and row.nodes == ("n1", "n2", "n3")
    assert row.detail == ("slot 0: 'v1' chosen at ballot (1, 'n1') (accepted by n1, n2) and "
                          "'v2' chosen at ballot (2, 'n2') (accepted by n2, n3)")
    assert v.info["slots_chosen"] == 1 and v.info["slots_decided"] == 1


def test_the_same_table_passes_on_decided_events_alone_which_is_what_the_old_checker_saw():
    old = single_run(TWO_CHOSEN, params={"variant": "single"})        # no q2_spec
    v = paxos.check(old)
    assert v and "not checked" in v.info["chosen"] and 'params["q2_spec"]' in v.info["chosen"]
    legacy = single_run([r for r in TWO_CHOSEN if r[2] != "accepted"])  # no accepted events
    v = paxos.check(legacy)
    assert v and v.properties == ["agreement", "validity"]
    assert "accepted events" in v.info["chosen"] and "decided events only" in v.info["chosen"]


@pytest.mark.parametrize("key", ["family", "algorithm"])
def test_check_reads_the_params_of_new_runs_and_of_runs_saved_before_the_family_key(key):
    # runs saved by earlier releases name the family under "algorithm"
    v = paxos.check(single_run(TWO_CHOSEN, params={key: "paxos", "variant": "single",
                                                   "q2_spec": SPEC3}))
    assert not v.holds("agreement") and v.info["slots_chosen"] == 1


@pytest.mark.parametrize("key", ["family", "algorithm"])
def test_check_refuses_a_run_of_another_family(key):
    with pytest.raises(ValueError, match=r"run must be a run of the paxos family; got one "
                                         r"of 'raft'"):
        paxos.check(single_run(TWO_CHOSEN, params={key: "raft"}))


def test_a_chosen_value_that_differs_from_the_decided_one_is_a_violation():
    rows = TWO_CHOSEN[:4] + [(0.07, "n3", "decided", {"slot": 0, "value": "v2"})]
    v = paxos.check(single_run(rows))
    assert not v.holds("agreement")
    assert v.violations.query("property == 'agreement'").detail.tolist() == [
        "slot 0: 'v1' chosen at ballot (1, 'n1') (accepted by n1, n2), but n3 decided 'v2'"]
    assert not v.holds("decided_by_quorum")     # and n3's 'v2' rests on no quorum at all


def test_votes_short_of_a_quorum_choose_nothing():
    rows = TWO_CHOSEN[:3] + TWO_CHOSEN[5:]          # v1 has n1 only, v2 has n3 only
    v = paxos.check(single_run(rows))
    assert v.holds("agreement") and v.info["slots_chosen"] == 0
    # n3's decision of 'v2' rests on its own vote alone: no quorum, which is a violation
    assert v.violations.property.tolist() == ["decided_by_quorum"]


def test_two_values_at_one_ballot_break_one_value_per_ballot():
    rows = [(0.0, "n1", "propose", {"value": "v1"}), (0.0, "n2", "propose", {"value": "v2"}),
            (0.01, "n1", "accepted", {"slot": 0, "ballot": (1, ""), "value": "v1"}),
            (0.02, "n2", "accepted", {"slot": 0, "ballot": (1, ""), "value": "v2"}),
            (0.03, "n3", "accepted", {"slot": 0, "ballot": (1, ""), "value": "v2"})]
    v = paxos.check(single_run(rows))
    assert not v.holds("one_value_per_ballot")
    assert v.violations.detail.tolist() == [
        "slot 0, ballot (1, ''): n1 accepted 'v1' and n2 accepted 'v2'"]


# ---------------------------------------------------------------- (b) duplicate_ballots
@pytest.mark.parametrize("variant", ["single", "multi"])
def test_duplicate_ballots_found_by_the_randomized_search_break_one_value_per_ballot(variant):
    seed = search(variant, "duplicate_ballots")
    assert seed is not None
    n = 3
    if variant == "single":
        run = paxos.simulate(n, variant="single", seed=seed, duration=1.0, network=LOSSY,
                             proposers=n, bugs={"duplicate_ballots"},
                             faults=[sim.Nemesis(crash=8.0, partition=2.0,
                                                 mean_duration=0.05, max_crashed=n - 1)])
    else:
        run = paxos.simulate(n, seed=seed, duration=1.0, network=LOSSY,
                             bugs={"duplicate_ballots"},
                             faults=[sim.Nemesis(crash=8.0, partition=2.0,
                                                 mean_duration=0.05, max_crashed=n - 1)])
    v = paxos.check(run)
    assert not v.holds("one_value_per_ballot"), str(v)
    assert "ballot (" in v.violations.loc[v.violations.property == "one_value_per_ballot",
                                          "detail"].iloc[0]


# ---------------------------------------------------------------- (c) correct runs
@pytest.mark.parametrize("variant", ["single", "multi"])
def test_correct_runs_under_a_nemesis_pass_and_values_were_chosen(variant):
    seen = Counter()
    for seed in range(8):
        n = (3, 5)[seed % 2]
        nemesis = sim.Nemesis(crash=4.0, partition=2.0, pause=2.0, mean_duration=0.05,
                              max_crashed=n // 2)
        run = paxos.simulate(n, variant=variant, seed=seed, duration=1.0, network=LOSSY,
                             proposers=n, faults=[nemesis])
        v = paxos.check(run)
        assert v, str(v)
        assert "one_value_per_ballot" in v.properties and v.info["chosen"].startswith("derived")
        acc = run.events[run.events.kind == "accepted"]
        seen["accepted"] += len(acc) > 0
        seen["chosen"] += v.info["slots_chosen"] > 0
        # what learners decided was chosen by a quorum (never the other way round here)
        seen["decided_within_chosen"] += v.info["slots_chosen"] >= v.info["slots_decided"]
    assert seen["accepted"] == 8 and seen["chosen"] >= 6 and seen["decided_within_chosen"] == 8


# ---------------------------------------------------------------- (d) unsafe quorums
def test_non_intersecting_q1_q2_are_still_caught_and_on_chosen_values_too():
    bad = paxos.simulate(4, variant="single", seed=2, q1=2, q2=2, unsafe=True,
                         faults=[sim.Partition([["n1", "n3"], ["n2", "n4"]], at=0.0)])
    v = paxos.check(bad)
    assert not v.holds("agreement") and v.holds("one_value_per_ballot")
    # drop what learners recorded: the two chosen values alone still break agreement
    quiet = sim.Run(bad.messages, bad.events[bad.events.kind != "decided"], bad.history,
                    bad.faults, params=bad.params)
    v = paxos.check(quiet)
    assert not v.holds("agreement") and "chosen at ballot" in v.violations.detail.iloc[0]
