"""2PC conservation as an exact per-account replay of the committed transactions, and the
low-funds soak (balances that run low, so a prepare without locks overdraws)."""

import pandas as pd

from dsalgo import sim, txn
from dsalgo.soak import soak
from dsalgo.soak.txn import low_funds_run

HIST_COLS = ["op_id", "process", "f", "key", "value", "result", "t_invoke", "t_complete",
             "status"]


def hand_made(n1_balances):
    """t1 moves 10 from n1:0 to n2:0; n1 reports ``n1_balances`` when it commits."""
    events = [(0.0, "n1", "init", {"balances": {"n1:0": 100, "n1:1": 100}}),
              (0.0, "n2", "init", {"balances": {"n2:0": 100}}),
              (1.0, "tm", "begin", {"txn": "t1", "participants": ("n1", "n2")}),
              (1.1, "n1", "vote", {"txn": "t1", "yes": True}),
              (1.1, "n2", "vote", {"txn": "t1", "yes": True}),
              (1.2, "tm", "decide", {"txn": "t1", "outcome": "commit"}),
              (1.3, "n1", "commit", {"txn": "t1", "balances": n1_balances}),
              (1.3, "n2", "commit", {"txn": "t1", "balances": {"n2:0": 110}})]
    ev = pd.DataFrame([dict(seq=i, time=t, node=n, kind=k, **f)
                       for i, (t, n, k, f) in enumerate(events)])
    hist = pd.DataFrame([(1, "c1", "transfer", "n1:0", (("n1:0", -10), ("n2:0", 10)),
                          "committed", 0.9, 1.4, "ok")], columns=HIST_COLS)
    return sim.Run(events=ev, history=hist, params={"family": "twopc"}, until=5.0)


def test_the_replay_holds_for_the_right_account_and_catches_a_wrong_one_the_total_misses():
    v = txn.check(hand_made({"n1:0": 90}))
    assert v and v.info["replay_unknown"] == 0 and v.info["replay_mismatches"] == 0
    wrong = txn.check(hand_made({"n1:1": 90}))          # the leg hit the wrong account
    assert wrong.info["total"] == wrong.info["final_total"] == 300   # the total balances
    assert not wrong.holds("conservation")
    details = " ".join(wrong.violations["detail"])
    assert "n1 reported n1:0 = None after committing its leg -10" in details
    assert "account n1:1 holds 90 at quiescence" in details


def test_a_simulated_run_replays_exactly_and_a_tampered_one_does_not():
    run = txn.twopc.simulate(n=3, seed=2, duration=0.5, drain=0.5, clients=3)
    v = txn.check(run)
    assert v and v.info["replay_unknown"] == 0 and v.info["committed"] > 5
    ev = run.events.copy()
    i = ev.index[ev["kind"] == "commit"][3]
    bal = dict(ev.at[i, "balances"])
    acct = next(iter(bal))
    bal[acct] += 1
    ev.at[i, "balances"] = bal
    tampered = txn.check(sim.Run(events=ev, history=run.history, faults=run.faults,
                                 params=run.params, until=run.until))
    assert not tampered.holds("conservation")
    assert f"reported {acct} = {bal[acct]}" in " ".join(tampered.violations["detail"])


def test_low_funds_soak_sample_passes_and_funds_do_run_low():
    result = soak("twopc-low-funds", runs=3)
    assert result.passed == result.runs, result.report()
    for what in ("refused_insufficient_funds", "account_below_5", "refused_locked"):
        assert result.runs_with[what] > 0, result.report()


def test_no_locks_at_prepare_overdraws_when_funds_run_low():
    v = txn.check(low_funds_run(1, bugs={"no_locks_at_prepare"}))
    assert not v.holds("no_negative_balance") and v.holds("atomicity")
