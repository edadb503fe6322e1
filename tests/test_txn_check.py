"""txn.check on hand-made runs (every violation it must catch), on broken variants, on
loaded runs; determinism; bad input."""

import pandas as pd
import pytest

from dsalgo import plot, sim, txn
from dsalgo.txn import metrics


def make_run(family, events, history=(), until=10.0, faults=None):
    rows = [dict(seq=i, time=t, node=n, kind=k, **f) for i, (t, n, k, f) in enumerate(events)]
    ev = pd.DataFrame(rows)
    ev["node"] = ev["node"].astype("category")
    ev["kind"] = ev["kind"].astype("category")
    cols = ["op_id", "process", "f", "key", "value", "result", "t_invoke", "t_complete",
            "status"]
    hist = pd.DataFrame(list(history), columns=cols) if history else sim.empty_table("history")
    return sim.Run(events=ev, history=hist, faults=faults, params={"family": family},
                   until=until)


INIT = [(0.0, "n1", "init", {"balances": {"n1:0": 100}}),
        (0.0, "n2", "init", {"balances": {"n2:0": 100}})]


def twopc_events(n2_outcome="commit", n2_votes=True, decide="commit", early=False):
    ev = INIT + [(1.0, "tm", "begin", {"txn": "t1", "participants": ("n1", "n2")}),
                 (1.1, "n1", "vote", {"txn": "t1", "yes": True})]
    vote_n2 = (1.1, "n2", "vote", {"txn": "t1", "yes": n2_votes})
    dec = (1.2, "tm", "decide", {"txn": "t1", "outcome": decide})
    ev += [dec, vote_n2] if early else [vote_n2, dec]
    ev.append((1.3, "n1", "commit" if decide == "commit" else "abort",
               {"txn": "t1", "balances": {"n1:0": 90}} if decide == "commit" else {"txn": "t1"}))
    if n2_outcome == "commit":
        ev.append((1.3, "n2", "commit", {"txn": "t1", "balances": {"n2:0": 110}}))
    elif n2_outcome == "abort":
        ev.append((1.3, "n2", "abort", {"txn": "t1"}))
    return ev


def violated(v):
    return sorted(set(v.violations["property"]))


# ------------------------------------------------------------------ 2PC on hand-made runs
def test_a_correct_commit_holds():
    v = txn.check(make_run("twopc", twopc_events()))
    assert v and v.info["committed"] == 1 and v.info["quiescent"]


def test_split_outcome_violates_atomicity():
    v = txn.check(make_run("twopc", twopc_events(n2_outcome="abort")))
    assert "atomicity" in violated(v)
    assert "n1 committed but n2 aborted" in str(v.violations["detail"].tolist())


def test_commit_before_every_yes_violates_commit_validity():
    v = txn.check(make_run("twopc", twopc_events(early=True)))
    assert violated(v) == ["commit_validity"]


def test_commit_after_a_no_vote_violates_commit_validity():
    v = txn.check(make_run("twopc", twopc_events(n2_votes=False)))
    assert "commit_validity" in violated(v)


def test_participant_committing_without_a_commit_decision_violates_atomicity():
    ev = twopc_events(decide="abort")
    ev.append((1.4, "n2", "commit", {"txn": "t1", "balances": {"n2:0": 110}}))
    v = txn.check(make_run("twopc", ev))
    assert "atomicity" in violated(v)


def test_participant_that_lost_its_prepared_record_is_caught():
    ev = twopc_events(n2_outcome=None)
    ev.append((1.25, "n2", "recover", {"in_doubt": ()}))
    v = txn.check(make_run("twopc", ev))
    assert violated(v) == ["atomicity", "conservation"]
    assert "n2 lost its prepared record in a crash" in " ".join(v.violations["detail"])


def test_participant_still_in_doubt_means_not_quiescent():
    ev = twopc_events(n2_outcome=None)
    ev.append((1.25, "n2", "recover", {"in_doubt": ("t1",)}))
    v = txn.check(make_run("twopc", ev, until=1.5))      # too short to judge progress
    assert v.status == "unknown" and not v.info["quiescent"]
    assert "t1@n2" in v.info["reason"] and "drain" in v.info["reason"]


def test_participant_in_doubt_long_after_the_last_fault_violates_decision_progress():
    ev = twopc_events(n2_outcome=None)
    ev.append((1.25, "n2", "recover", {"in_doubt": ("t1",)}))
    v = txn.check(make_run("twopc", ev, until=10.0))
    assert violated(v) == ["decision_progress"] and v.safety and not v.progress
    assert v.violations["detail"][0].startswith("t1@n2: n2 voted yes at t=1.1s and never")


def test_client_told_committed_for_an_aborted_transaction_is_caught():
    ev = twopc_events(n2_outcome="abort", decide="abort")
    hist = [(1, "c1", "transfer", "n1:0", (), "committed", 0.9, 1.5, "ok")]
    v = txn.check(make_run("twopc", ev, hist))
    assert violated(v) == ["atomicity"]
    assert "client was told committed" in v.violations["detail"][0]


def test_money_created_violates_conservation():
    ev = twopc_events()
    ev[-1] = (1.3, "n2", "commit", {"txn": "t1", "balances": {"n2:0": 111}})
    v = txn.check(make_run("twopc", ev))
    assert violated(v) == ["conservation"] and v.info["final_total"] == 201


def test_reads_that_do_not_add_up_are_measured_not_violations():
    hist = [(2, "c1", "read", None, None, {"n1:0": 90, "n2:0": 100}, 1.25, 1.35, "ok"),
            (3, "c1", "read", None, None, {"n1:0": 90, "n2:0": 110}, 1.4, 1.5, "ok")]
    v = txn.check(make_run("twopc", twopc_events(), hist))
    assert v and v.info["reads"] == 2 and v.info["intermediate_reads"] == 1


def test_blocking_times_measure_vote_to_outcome():
    b = metrics.blocking_times(make_run("twopc", twopc_events()))
    assert b[["node", "outcome"]].values.tolist() == [["n1", "commit"], ["n2", "commit"]]
    assert b["blocked"].round(9).tolist() == [0.2, 0.2]


# ------------------------------------------------------------------ sagas on hand-made runs
def saga_events(applied=(0, 1), comps=(1, 0), end="compensated", steps=2):
    ev = INIT + [(1.0, "orch", "saga_begin", {"saga": "s1", "steps": steps})]
    t = 1.0
    for j in applied:
        t += 0.1
        ev.append((t, f"n{j + 1}", "step", {"saga": "s1", "step": j, "ok": True,
                                            "account": f"n{j + 1}:0",
                                            "balances": {f"n{j + 1}:0": 100 + (-5, 5)[j]}}))
    for j in comps:
        t += 0.1
        ev.append((t, f"n{j + 1}", "compensate", {"saga": "s1", "step": j,
                                                  "account": f"n{j + 1}:0",
                                                  "balances": {f"n{j + 1}:0": 100}}))
    if end:
        ev.append((t + 0.1, "orch", "saga_end", {"saga": "s1", "outcome": end}))
    return ev


def test_saga_all_compensated_in_reverse_holds():
    v = txn.check(make_run("saga", saga_events()))
    assert v and v.info["sagas_compensated"] == 1 and v.info["compensations"] == 2


def test_saga_all_done_holds():
    v = txn.check(make_run("saga", saga_events(comps=(), end="done")))
    assert v and v.info["sagas_done"] == 1


def test_step_applied_twice_violates_semantic_atomicity():
    v = txn.check(make_run("saga", saga_events(applied=(0, 1, 1), comps=(), end="done")))
    assert "semantic_atomicity" in violated(v)
    assert "step 1 applied 2 times" in " ".join(v.violations["detail"])


def test_compensations_in_step_order_violate_compensation_order():
    v = txn.check(make_run("saga", saga_events(comps=(0, 1))))
    assert violated(v) == ["compensation_order"]


def test_half_compensated_saga_violates_semantic_atomicity():
    v = txn.check(make_run("saga", saga_events(comps=(1,))))
    assert "semantic_atomicity" in violated(v)


def test_done_saga_with_a_compensation_violates_semantic_atomicity():
    v = txn.check(make_run("saga", saga_events(comps=(1,), end="done")))
    assert "semantic_atomicity" in violated(v)


def test_unfinished_saga_means_not_quiescent():
    v = txn.check(make_run("saga", saga_events(comps=(), end=None), until=1.5))
    assert v.status == "unknown" and "s1" in v.info["reason"]


def test_saga_unfinished_long_after_the_last_fault_violates_saga_progress():
    v = txn.check(make_run("saga", saga_events(comps=(), end=None), until=10.0))
    assert violated(v) == ["saga_progress"] and v.safety and not v.progress


def test_dirty_reads_and_overdrafts_are_measured():
    ev = INIT + [
        (1.0, "orch", "saga_begin", {"saga": "s1", "steps": 2}),
        (1.0, "orch", "saga_begin", {"saga": "s2", "steps": 2}),
        (1.1, "n2", "step", {"saga": "s1", "step": 1, "ok": True, "account": "n2:0",
                             "balances": {"n2:0": 150}}),
        (1.2, "n2", "step", {"saga": "s2", "step": 1, "ok": True, "account": "n2:0",
                             "balances": {"n2:0": 0}}),          # spent s1's credit
        (1.3, "n2", "compensate", {"saga": "s1", "step": 1, "account": "n2:0",
                                   "balances": {"n2:0": -50}}),
    ]
    v = txn.check(make_run("saga", ev))
    assert v.info["dirty_reads"] == 1 and v.info["overdrafts"] == 1


# ------------------------------------------------------------------ broken variants, simulated
def test_commit_without_all_votes_is_caught():
    for seed in range(3):
        v = txn.check(txn.twopc.simulate(seed=seed, duration=0.5, drain=0.5,
                                         bugs={"commit_without_all_votes"}))
        assert not v.holds("commit_validity")


def straddle(seed, bugs=()):
    # Three times, tm's messages to n2 are cut while n2 may be prepared, and n2 crashes
    # and restarts inside the cut: a transaction it voted yes on is decided meanwhile.
    faults = []
    for t in (0.3, 0.5, 0.7):
        faults += [sim.Partition([["tm"], ["n2"]], at=t, until=t + 0.1, one_way=True),
                   sim.Crash("n2", at=t + 0.05), sim.Restart("n2", at=t + 0.07)]
    return txn.twopc.simulate(2, seed=seed, duration=1.0, drain=1.0, clients=3, concurrency=2,
                              accounts=20, faults=faults, bugs=bugs)


def test_participant_forgets_prepare_is_caught():
    money_lost = 0
    for seed in range(3):
        v = txn.check(straddle(seed, {"participant_forgets_prepare"}))
        assert not v.holds("atomicity")
        assert "lost its prepared record in a crash" in " ".join(v.violations["detail"])
        money_lost += not v.holds("conservation")   # lost legs may happen to cancel out
    assert money_lost


def test_the_same_scenario_is_safe_without_the_bug():
    in_doubt_at_restart = 0
    for seed in range(3):
        run = straddle(seed)
        v = txn.check(run)
        assert v, str(v)
        ev = run.events
        recovered = ev[(ev["kind"] == "recover") & (ev["node"] == "n2")]
        in_doubt_at_restart += sum(len(d) for d in recovered["in_doubt"])
    assert in_doubt_at_restart > 0                 # it did restart holding prepared ones


@pytest.mark.parametrize("form", ["orchestrated", "choreographed"])
def test_non_idempotent_retry_is_caught(form):
    net = sim.Network(latency=sim.Exponential(mean=0.001), duplicate_rate=0.1)
    for seed in range(3):
        v = txn.check(txn.saga.simulate(seed=seed, duration=0.5, drain=0.5, network=net,
                                        form=form, bugs={"non_idempotent_retry"}))
        assert not v.holds("semantic_atomicity")


# ------------------------------------------------------------------ determinism, loading
def faulty(algorithm, seed):
    net = sim.Network(latency=sim.Exponential(mean=0.002), drop_rate=0.05, duplicate_rate=0.05)
    faults = [sim.Nemesis(crash=1.0, partition=0.5, mean_duration=0.2, end=1.0)]
    if algorithm == "twopc":
        return txn.twopc.simulate(seed=seed, duration=1.0, drain=1.5, network=net, faults=faults)
    form = "choreographed" if algorithm == "choreographed" else "orchestrated"
    return txn.saga.simulate(seed=seed, duration=1.0, drain=1.5, network=net, faults=faults,
                             form=form)


@pytest.mark.parametrize("algorithm", ["twopc", "saga", "choreographed"])
def test_same_seed_same_tables(algorithm):
    a, b = faulty(algorithm, 5), faulty(algorithm, 5)
    for table in ("messages", "events", "history", "faults"):
        assert getattr(a, table).equals(getattr(b, table)), table
    assert not a.events.equals(faulty(algorithm, 6).events)


@pytest.mark.parametrize("algorithm", ["twopc", "saga"])
def test_check_works_on_a_loaded_run(algorithm, tmp_path):
    run = faulty(algorithm, 3)
    loaded = sim.load_run(run.save(tmp_path / "run"))
    a, b = txn.check(run), txn.check(loaded)
    assert a.status == b.status == "ok" and a.info == b.info


def test_check_recognises_the_algorithm_from_the_events():
    run = faulty("saga", 1)
    run.params = {}
    assert txn.check(run).properties == txn.check.__globals__["SAGA_PROPERTIES"]


# ------------------------------------------------------------------ bad input
BAD_TWOPC = [
    ({"n": 1}, ValueError, "n must be an integer >= 2; got 1"),
    ({"n": "3"}, TypeError, "n must be an integer; got '3'"),
    ({"participants": 1}, ValueError, "participants must be an integer >= 2; got 1"),
    ({"n": 4, "participants": 3}, TypeError, "give the size once, as n; got n=4 and participants=3"),
    ({"termination": "maybe"}, ValueError, "termination must be one of 'wait', 'cooperative'; got 'maybe'"),
    ({"bugs": "commit_without_all_votes"}, TypeError, "bugs must be a collection of bug names"),
    ({"bugs": {"nope"}}, ValueError, "bugs item must be one of 'commit_without_all_votes', 'participant_forgets_prepare', 'no_locks_at_prepare', 'no_inquiry'; got 'nope'"),
    ({"vote_no": 1.5}, ValueError, "vote_no must be in [0, 1]; got 1.5"),
    ({"vote_timeout": 0}, ValueError, "vote_timeout must be > 0; got 0.0"),
    ({"duration": -1.0}, ValueError, "duration must be > 0; got -1.0"),
    ({"network": "fast"}, TypeError, "network must be a dsalgo.sim.Network; got 'fast'"),
    ({"faults": [1]}, TypeError, "faults must hold dsalgo.sim fault"),
    ({"colour": "red"}, TypeError, "unknown parameter 'colour'; accepted: vote_no"),
    ({"mode": "open"}, ValueError, "rate must be given (operations per second per client) when mode='open'"),
    ({"record_messages": "no"}, TypeError, "record_messages must be True or False; got 'no'"),
    ({"span": 1}, ValueError, "span must be an integer >= 2; got 1"),
    ({"span": 4}, ValueError, "span must be an integer <= 3; got 4"),
    ({"read_fraction": 2.0}, ValueError, "read_fraction must be in [0, 1]; got 2.0"),
    ({"clients": 0}, ValueError, "clients must be an integer >= 1; got 0"),
    ({"accounts": 0}, ValueError, "accounts must be an integer >= 1; got 0"),
    ({"seed": "x"}, TypeError, "seed must be an integer; got 'x'"),
]


@pytest.mark.parametrize("kwargs, exc, message", BAD_TWOPC, ids=[str(k) for k, _, _ in BAD_TWOPC])
def test_twopc_bad_input(kwargs, exc, message):
    with pytest.raises(exc) as e:
        txn.twopc.simulate(**kwargs)
    assert message in str(e.value)


BAD_SAGA = [
    ({"n": 1}, ValueError, "n must be an integer >= 2; got 1"),
    ({"steps": 1}, ValueError, "steps must be an integer >= 2; got 1"),
    ({"step_failure": -0.1}, ValueError, "step_failure must be in [0, 1]; got -0.1"),
    ({"bugs": {"commit_without_all_votes"}}, ValueError, "bugs item must be one of 'non_idempotent_retry'"),
    ({"span": 2}, TypeError, "unknown parameter 'span'"),
    ({"retry_interval": 0}, ValueError, "retry_interval must be > 0; got 0.0"),
    ({"drain": -1}, ValueError, "drain must be >= 0; got -1.0"),
    ({"concurrency": 0.5}, TypeError, "concurrency must be an integer; got 0.5"),
    ({"form": "chaotic"}, ValueError, "form must be one of 'orchestrated', 'choreographed'; got 'chaotic'"),
    ({"compensation": "undo"}, ValueError, "compensation must be one of 'inverse', 'restore'; got 'undo'"),
]


@pytest.mark.parametrize("kwargs, exc, message", BAD_SAGA, ids=[str(k) for k, _, _ in BAD_SAGA])
def test_saga_bad_input(kwargs, exc, message):
    with pytest.raises(exc) as e:
        txn.saga.simulate(**kwargs)
    assert message in str(e.value)


def test_check_rejects_what_is_not_a_run():
    with pytest.raises(TypeError, match="run must be a dsalgo.sim.Run .*got 'run'"):
        txn.check("run")


@pytest.mark.parametrize("key", ["family", "algorithm"])
def test_check_rejects_a_run_of_another_family(key):
    with pytest.raises(ValueError, match="run must come from txn.twopc or txn.saga .*'raft'"):
        txn.check(sim.Run(params={key: "raft"}))


def test_check_reads_the_family_of_a_run_saved_before_the_contract():
    # runs saved before the families shared one contract say "algorithm", not "family"
    run = faulty("saga", 1)
    new = txn.check(run)
    run.params = {"algorithm": "saga", "steps": 3, "drain": 1.5}
    old = txn.check(run)
    assert old.properties == new.properties and old.info == new.info


# ------------------------------------------------------------------ lost updates
def test_lost_update_is_measured_from_the_reported_balances():
    ev = INIT + [
        (1.0, "orch", "saga_begin", {"saga": "s1", "steps": 2}),
        (1.0, "orch", "saga_begin", {"saga": "s2", "steps": 2}),
        (1.1, "n2", "step", {"saga": "s1", "step": 1, "ok": True, "account": "n2:0",
                             "balances": {"n2:0": 150}}),          # s1: +50
        (1.2, "n2", "step", {"saga": "s2", "step": 1, "ok": True, "account": "n2:0",
                             "balances": {"n2:0": 120}}),          # s2: -30
        (1.3, "n2", "compensate", {"saga": "s1", "step": 1, "account": "n2:0",
                                   "balances": {"n2:0": 100}}),    # restored: s2's -30 lost
    ]
    v = txn.check(make_run("saga", ev))
    assert v.info["lost_updates"] == 1
    ev[-1] = (1.3, "n2", "compensate", {"saga": "s1", "step": 1, "account": "n2:0",
                                        "balances": {"n2:0": 70}})  # the inverse: -50
    assert txn.check(make_run("saga", ev)).info["lost_updates"] == 0


@pytest.mark.parametrize("form", ["orchestrated", "choreographed"])
def test_compensating_by_before_image_loses_updates_and_money(form):
    lost = broken = 0
    for seed in range(2):
        run = txn.saga.simulate(seed=seed, duration=0.5, drain=0.5, concurrency=4,
                                form=form, compensation="restore")
        v = txn.check(run)
        lost += v.info["lost_updates"]
        broken += not v.holds("conservation")          # money created or destroyed
    assert lost > 0 and broken > 0
    inverse = txn.check(txn.saga.simulate(seed=0, duration=0.5, drain=0.5, concurrency=4,
                                          form=form))
    assert inverse and inverse.info["lost_updates"] == 0 and inverse.info["dirty_reads"] > 0


# ---------------------------------------------------------------- checker holes found in review
def make_twopc_run(events, until=10.0):
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
    v = txn.check(make_twopc_run(ev))
    assert not v.holds("atomicity")
    assert "tm decided commit but n1 aborted; n2 aborted" in v.violations["detail"].tolist()[0]


def test_a_split_outcome_is_reported_once():
    ev = INIT + BEGIN + [(1.2, "tm", "decide", {"txn": "t1", "outcome": "commit"}),
                         (1.3, "n1", "commit", {"txn": "t1", "balances": {"n1:0": 90}}),
                         (1.3, "n2", "abort", {"txn": "t1"})]
    v = txn.check(make_twopc_run(ev))
    assert (v.violations["property"] == "atomicity").sum() == 1


def test_commit_before_tm_received_every_vote_violates_commit_validity():
    # Both participants voted yes before tm decided (in event order), but tm had heard
    # only n1's vote: n2's was still on the wire.  The decision was premature.
    ev = INIT + BEGIN + [(1.2, "tm", "decide", {"txn": "t1", "outcome": "commit",
                                                "votes": ("n1",)}),
                         (1.3, "n1", "commit", {"txn": "t1", "balances": {"n1:0": 90}}),
                         (1.3, "n2", "commit", {"txn": "t1", "balances": {"n2:0": 110}})]
    v = txn.check(make_twopc_run(ev))
    assert list(v.violations["property"]) == ["commit_validity"]
    assert "received the yes vote of n2" in v.violations.loc[0, "detail"]
    ev[5] = (1.2, "tm", "decide", {"txn": "t1", "outcome": "commit", "votes": ("n1", "n2")})
    assert txn.check(make_twopc_run(ev))


def test_every_premature_commit_of_the_broken_coordinator_is_caught():
    # With "commit_without_all_votes" tm commits on the first yes vote of two, so every
    # commit decision is premature; the checker must flag each one, not only those whose
    # other vote happened (in event order) after the decision.
    for seed in range(3):
        run = txn.twopc.simulate(n=2, seed=seed, duration=0.5, drain=0.5,
                                 bugs={"commit_without_all_votes"})
        v = txn.check(run)
        flagged = set(v.violations.loc[v.violations["property"] == "commit_validity",
                                       "detail"].str.split(":").str[0])
        dec = run.events[run.events["kind"] == "decide"]
        commits = set(dec.loc[dec["outcome"] == "commit", "txn"])
        assert commits and flagged == commits


def test_correct_twopc_records_full_votes_and_holds():
    run = txn.twopc.simulate(n=3, seed=4, duration=0.5, drain=0.5)
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
    run = make_twopc_run(ev)
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
    run = txn.twopc.simulate(n=2, seed=0, duration=0.1, drain=0.1)
    with pytest.raises(TypeError, match="node must be a node id"):
        metrics.crashes_while_prepared(run, node=1)


def test_a_participant_that_both_committed_and_aborted_violates_atomicity():
    # The other participant is still in doubt, so the only evidence is n1's own two
    # outcomes; keeping just one of them per node used to hide the contradiction.
    ev = INIT + BEGIN + [(1.2, "tm", "decide", {"txn": "t1", "outcome": "commit",
                                                "votes": ("n1", "n2")}),
                         (1.3, "n1", "abort", {"txn": "t1"}),
                         (1.4, "n1", "commit", {"txn": "t1", "balances": {"n1:0": 90}})]
    v = txn.check(make_twopc_run(ev))
    assert "t1: n1 both committed and aborted" in v.violations["detail"].tolist()


def test_recorded_votes_count_whatever_sequence_type_a_loader_gives():
    import numpy as np

    ev = INIT + BEGIN + [(1.2, "tm", "decide", {"txn": "t1", "outcome": "commit",
                                                "votes": np.array(["n1"], dtype=object)}),
                         (1.3, "n1", "commit", {"txn": "t1", "balances": {"n1:0": 90}}),
                         (1.3, "n2", "commit", {"txn": "t1", "balances": {"n2:0": 110}})]
    assert list(txn.check(make_twopc_run(ev)).violations["property"]) == ["commit_validity"]


def test_saga_step_that_overdraws_breaks_no_negative_balance_a_compensation_does_not():
    import copy
    run = txn.saga.simulate(seed=2, duration=1.0, drain=1.5, step_failure=0.4)
    v = txn.check(run)
    assert v.holds("no_negative_balance") and "no_negative_balance" in v.properties
    ev = run.events
    # it did happen: a debit step rewritten to leave its account negative is caught
    debits = [i for i, (k, ok, acct, bal) in enumerate(zip(ev["kind"], ev["ok"], ev["account"],
                                                           ev["balances"]))
              if k == "step" and ok is True and bal[acct] < 100]
    assert debits
    bad = copy.copy(run)
    rows = ev.copy()
    i = debits[0]
    acct = rows.iloc[i]["account"]
    rows.at[rows.index[i], "balances"] = {acct: -7}
    bad.events = rows
    v = txn.check(bad)
    assert not v.holds("no_negative_balance")
    assert "to -7" in v.violations.query("property == 'no_negative_balance'")["detail"].iloc[0]
    # a compensation that leaves an account negative is an anomaly sagas allow (counted)
    comps = [i for i, k in enumerate(ev["kind"]) if k == "compensate"]
    assert comps
    odd = copy.copy(run)
    rows = ev.copy()
    acct = rows.iloc[comps[0]]["account"]
    rows.at[rows.index[comps[0]], "balances"] = {acct: -3}
    odd.events = rows
    w = txn.check(odd)
    assert w.holds("no_negative_balance") and w.info["overdrafts"] >= 1
