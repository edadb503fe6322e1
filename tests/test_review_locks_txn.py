"""Review of the locks and txn areas: checker holes found and closed."""

import pandas as pd
import pytest

from dsalgo import plot, sim, txn
from dsalgo.txn import metrics


def make_run(events, until=10.0):
    rows = [dict(seq=i, time=t, node=n, kind=k, **f) for i, (t, n, k, f) in enumerate(events)]
    ev = pd.DataFrame(rows)
    ev["node"] = ev["node"].astype("category")
    ev["kind"] = ev["kind"].astype("category")
    return sim.Run(events=ev, history=sim.empty_table("history"),
                   params={"algorithm": "twopc"}, until=until)


INIT = [(0.0, "n1", "init", {"balances": {"n1:0": 100}}),
        (0.0, "n2", "init", {"balances": {"n2:0": 100}})]
BEGIN = [(1.0, "tm", "begin", {"txn": "t1", "participants": ("n1", "n2")}),
         (1.1, "n1", "vote", {"txn": "t1", "yes": True}),
         (1.1, "n2", "vote", {"txn": "t1", "yes": True})]


def test_commit_decided_but_every_participant_aborted_violates_atomicity():
    # tm decided commit, yet both participants aborted: nobody committed, so there is no
    # "n1 committed but n2 aborted" split, but the decision and the outcomes disagree.
    ev = INIT + BEGIN + [(1.2, "tm", "decide", {"txn": "t1", "outcome": "commit"}),
                         (1.3, "n1", "abort", {"txn": "t1"}),
                         (1.3, "n2", "abort", {"txn": "t1"})]
    v = txn.check(make_run(ev))
    assert not v.holds("atomicity")
    assert "tm decided commit but n1 aborted; n2 aborted" in v.violations["detail"].tolist()[0]


def test_a_split_outcome_is_reported_once():
    ev = INIT + BEGIN + [(1.2, "tm", "decide", {"txn": "t1", "outcome": "commit"}),
                         (1.3, "n1", "commit", {"txn": "t1", "balances": {"n1:0": 90}}),
                         (1.3, "n2", "abort", {"txn": "t1"})]
    v = txn.check(make_run(ev))
    assert (v.violations["property"] == "atomicity").sum() == 1


def test_commit_before_tm_received_every_vote_violates_commit_validity():
    # Both participants voted yes before tm decided (in event order), but tm had heard
    # only n1's vote: n2's was still on the wire.  The decision was premature.
    ev = INIT + BEGIN + [(1.2, "tm", "decide", {"txn": "t1", "outcome": "commit",
                                                "votes": ("n1",)}),
                         (1.3, "n1", "commit", {"txn": "t1", "balances": {"n1:0": 90}}),
                         (1.3, "n2", "commit", {"txn": "t1", "balances": {"n2:0": 110}})]
    v = txn.check(make_run(ev))
    assert list(v.violations["property"]) == ["commit_validity"]
    assert "received the yes vote of n2" in v.violations.loc[0, "detail"]
    ev[5] = (1.2, "tm", "decide", {"txn": "t1", "outcome": "commit", "votes": ("n1", "n2")})
    assert txn.check(make_run(ev))


def test_every_premature_commit_of_the_broken_coordinator_is_caught():
    # With "commit_without_all_votes" tm commits on the first yes vote of two, so every
    # commit decision is premature; the checker must flag each one, not only those whose
    # other vote happened (in event order) after the decision.
    for seed in range(3):
        run = txn.twopc.simulate(participants=2, seed=seed, duration=0.5, drain=0.5,
                                 bugs={"commit_without_all_votes"})
        v = txn.check(run)
        flagged = set(v.violations.loc[v.violations["property"] == "commit_validity",
                                       "detail"].str.split(":").str[0])
        dec = run.events[run.events["kind"] == "decide"]
        commits = set(dec.loc[dec["outcome"] == "commit", "txn"])
        assert commits and flagged == commits


def test_correct_twopc_records_full_votes_and_holds():
    run = txn.twopc.simulate(participants=3, seed=4, duration=0.5, drain=0.5)
    dec = run.events[(run.events["kind"] == "decide") & (run.events["outcome"] == "commit")]
    assert len(dec) and all(set(v) == {"n1", "n2", "n3"} for v in dec["votes"])
    assert txn.check(run)


def test_client_told_aborted_while_tm_decided_commit_violates_atomicity():
    # tm decided commit and both participants are still in doubt (no commit event yet):
    # telling the client "aborted" is already a lie.
    hist = pd.DataFrame([{"op_id": 1, "process": "c1", "f": "transfer", "key": None,
                          "value": [["n1:0", -10], ["n2:0", 10]], "result": "aborted",
                          "t_invoke": 0.9, "t_complete": 1.25, "status": "fail"}])
    ev = INIT + BEGIN + [(1.2, "tm", "decide", {"txn": "t1", "outcome": "commit",
                                                "votes": ("n1", "n2")})]
    run = make_run(ev)
    run.history = hist
    v = txn.check(run)
    assert "t1: client was told aborted but tm decided commit" in v.violations["detail"].tolist()


@pytest.mark.parametrize("call", [
    lambda: metrics.blocking_times(3), lambda: metrics.transfers("run"),
    lambda: metrics.crashes_while_prepared(None), lambda: metrics.crashes_mid_saga(3),
    lambda: plot.lock_timeline(3), lambda: plot.blocking_time([1, 2])])
def test_metrics_and_plots_refuse_what_is_not_a_run_or_table(call):
    with pytest.raises(TypeError, match="must be a"):
        call()


def test_crash_counts_refuse_a_node_that_is_not_an_id():
    run = txn.twopc.simulate(participants=2, seed=0, duration=0.1, drain=0.1)
    with pytest.raises(TypeError, match="node must be a node id"):
        metrics.crashes_while_prepared(run, node=1)


def test_a_slow_clock_must_be_well_beyond_the_drift_allowance_to_break_redlock():
    # The widget's docstring claim: 3 % slow (three times the 1 % allowance) still keeps
    # mutual exclusion in its scenario; 10 % slow breaks it.
    from dsalgo import locks

    def holds(drift):
        run = locks.scenarios.redlock_pause(0.0, ttl=1.0, drift=drift, critical_section=3.0)
        return locks.check(run).holds("mutual_exclusion")

    assert holds(-0.03) and not holds(-0.10)


def test_a_participant_that_both_committed_and_aborted_violates_atomicity():
    # The other participant is still in doubt, so the only evidence is n1's own two
    # outcomes; keeping just one of them per node used to hide the contradiction.
    ev = INIT + BEGIN + [(1.2, "tm", "decide", {"txn": "t1", "outcome": "commit",
                                                "votes": ("n1", "n2")}),
                         (1.3, "n1", "abort", {"txn": "t1"}),
                         (1.4, "n1", "commit", {"txn": "t1", "balances": {"n1:0": 90}})]
    v = txn.check(make_run(ev))
    assert "t1: n1 both committed and aborted" in v.violations["detail"].tolist()


def test_recorded_votes_count_whatever_sequence_type_a_loader_gives():
    import numpy as np

    ev = INIT + BEGIN + [(1.2, "tm", "decide", {"txn": "t1", "outcome": "commit",
                                                "votes": np.array(["n1"], dtype=object)}),
                         (1.3, "n1", "commit", {"txn": "t1", "balances": {"n1:0": 90}}),
                         (1.3, "n2", "commit", {"txn": "t1", "balances": {"n2:0": 110}})]
    assert list(txn.check(make_run(ev)).violations["property"]) == ["commit_validity"]


def test_acquisition_waits_start_at_the_request_not_at_an_estimate():
    from dsalgo import locks

    # A think range used to be replaced by its mean: a short draw gave negative waits.
    for make in (locks.zookeeper.simulate, lambda **kw: locks.redlock.simulate(n=3, **kw)):
        w = locks.acquisition_waits(make(clients=1, think=(0.0, 0.2), duration=2.0, seed=1))
        assert len(w) > 5 and (w["wait"] > 0).all()
    # A crashed client's downtime is not waiting: it wants the lock again from its restart.
    run = locks.redlock.simulate(n=3, clients=1, duration=3.0, seed=1,
                                 faults=[sim.Crash("c1", at=0.5), sim.Restart("c1", at=1.5)])
    w = locks.acquisition_waits(run)
    assert w["wait"].max() < 0.5 and 1.5 in set(w["t_request"])


def test_acquisition_waits_fall_back_to_belief_ends_without_request_events():
    from dsalgo import locks

    run = locks.redlock.simulate(n=3, clients=2, duration=1.0, seed=2)
    run.events = run.events[run.events["kind"] != "request"].reset_index(drop=True)
    w = locks.acquisition_waits(run)
    assert w.loc[0, "t_request"] == 0.0 and (w["wait"] >= 0).all()
