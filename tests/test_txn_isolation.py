"""txn.isolation: Adya's anomalies from hand-made dependency graphs, Elle list-append
histories read from EDN, the bank's runs (2PC with and without locks, sagas)."""

import pytest

from dsalgo import histories, sim, txn
from dsalgo.txn import isolation
from dsalgo.txn.isolation import Transactions, anomalies, dependency_graph

C = "committed"


def names(t):
    return anomalies(t)["anomaly"].tolist()


def test_serial_history_has_no_anomaly():
    t = Transactions({"T1": C, "T2": C}, {"x": [("init", 0), ("T1", 1), ("T2", 2)]},
                     [("T2", "x", 1, 2)])
    assert names(t) == []
    assert sorted(dependency_graph(t)["kind"]) == ["wr", "ww"]


def test_write_cycle_is_g0():
    t = Transactions({"T1": C, "T2": C}, {"x": [("init", 0), ("T1", 1), ("T2", 2)],
                                          "y": [("init", 0), ("T2", 1), ("T1", 2)]}, [])
    a = anomalies(t)
    assert a["anomaly"].tolist() == ["G0"] and a.loc[0, "txns"] == ("T1", "T2")
    assert {e[2] for e in a.loc[0, "cycle"]} == {"ww"}


def test_circular_information_flow_is_g1c():
    t = Transactions({"T1": C, "T2": C}, {"x": [("init", 0), ("T1", 1)],
                                          "y": [("init", 0), ("T2", 1)]},
                     [("T2", "x", 1, 2), ("T1", "y", 1, 2)])
    assert names(t) == ["G1c"]


def test_one_anti_dependency_is_g_single():
    # T1 read y before T2 wrote it, and read x as T2 wrote it: read skew
    t = Transactions({"T1": C, "T2": C}, {"x": [("init", 0), ("T2", 1)],
                                          "y": [("init", 0), ("T2", 1)]},
                     [("T1", "y", 0, 1), ("T1", "x", 1, 2)])
    a = anomalies(t)
    assert a["anomaly"].tolist() == ["G-single"]
    assert sorted(e[2] for e in a.loc[0, "cycle"]) == ["rw", "wr"]
    assert "T1 -rw(y)→ T2 -wr(x)→ T1" in a.loc[0, "detail"]


def test_two_anti_dependencies_is_g2():
    t = Transactions({"T1": C, "T2": C}, {"x": [("init", 0), ("T1", 1)],
                                          "y": [("init", 0), ("T2", 1)]},
                     [("T1", "y", 0, 1), ("T2", "x", 0, 1)])
    assert names(t) == ["G2"]


def test_aborted_and_intermediate_reads():
    t = Transactions({"T1": "aborted", "T2": C}, {"x": [("init", 0), ("T1", 1)]},
                     [("T2", "x", 1, 2)])
    assert names(t) == ["G1a"]
    t = Transactions({"T1": C, "T2": C}, {"x": [("init", 0), ("T1", 1), ("T1", 2)]},
                     [("T2", "x", 1, 2)])
    assert names(t) == ["G1b"]


def test_reads_by_uncommitted_transactions_are_not_judged():
    t = Transactions({"T1": "aborted", "T2": "unknown"}, {"x": [("init", 0), ("T1", 1)]},
                     [("T2", "x", 1, 2)])
    assert names(t) == [] and len(dependency_graph(t)) == 0


# ------------------------------------------------------------------ Elle list-append EDN
def edn(tmp_path, text):
    p = tmp_path / "h.edn"
    p.write_text(text)
    return histories.read_edn(p)


WRITE_SKEW = """{:process 0, :type :invoke, :f :txn, :value [[:append :x 1] [:r :y nil]]}
{:process 1, :type :invoke, :f :txn, :value [[:append :y 1] [:r :x nil]]}
{:process 0, :type :ok, :f :txn, :value [[:append :x 1] [:r :y []]]}
{:process 1, :type :ok, :f :txn, :value [[:append :y 1] [:r :x []]]}
"""


def test_list_append_write_skew_is_g2(tmp_path):
    v = isolation.check(edn(tmp_path, WRITE_SKEW))
    assert not v and v.info["anomalies"]["G2"] == 1 and v.info["transactions"] == 2
    assert v.properties == ["serializability"]


def test_list_append_serial_history_holds(tmp_path):
    h = edn(tmp_path, WRITE_SKEW.replace("[:r :x []]", "[:r :x [1]]"))
    v = isolation.check(h)
    assert v and v.info["transactions"] == 2


def test_list_append_aborted_read_and_lost_update(tmp_path):
    text = """{:process 0, :type :invoke, :f :txn, :value [[:append :x 1]]}
{:process 0, :type :fail, :f :txn, :value [[:append :x 1]]}
{:process 1, :type :invoke, :f :txn, :value [[:r :x nil]]}
{:process 1, :type :ok, :f :txn, :value [[:r :x [1]]]}
"""
    assert isolation.check(edn(tmp_path, text)).info["anomalies"]["G1a"] == 1
    # both read x empty and appended to it: the second overwrote what it never saw
    text = """{:process 0, :type :invoke, :f :txn, :value [[:r :x nil] [:append :x 1]]}
{:process 1, :type :invoke, :f :txn, :value [[:r :x nil] [:append :x 2]]}
{:process 0, :type :ok, :f :txn, :value [[:r :x []] [:append :x 1]]}
{:process 1, :type :ok, :f :txn, :value [[:r :x []] [:append :x 2]]}
{:process 2, :type :invoke, :f :txn, :value [[:r :x nil]]}
{:process 2, :type :ok, :f :txn, :value [[:r :x [1 2]]]}
"""
    v = isolation.check(edn(tmp_path, text))
    assert v.info["anomalies"]["G-single"] == 1, v.info["table"]


def test_list_append_incompatible_orders_are_reported_and_left_out(tmp_path):
    text = """{:process 0, :type :invoke, :f :txn, :value [[:append :x 1] [:append :x 2]]}
{:process 0, :type :ok, :f :txn, :value [[:append :x 1] [:append :x 2]]}
{:process 1, :type :invoke, :f :txn, :value [[:r :x nil]]}
{:process 1, :type :ok, :f :txn, :value [[:r :x [1 2]]]}
{:process 2, :type :invoke, :f :txn, :value [[:r :x nil]]}
{:process 2, :type :ok, :f :txn, :value [[:r :x [2]]]}
"""
    v = isolation.check(edn(tmp_path, text))
    assert v and v.info["incompatible"] == ["'x'"]


def test_info_transaction_counts_as_committed_only_when_its_append_was_read(tmp_path):
    text = """{:process 0, :type :invoke, :f :txn, :value [[:append :x 1]]}
{:process 0, :type :info, :f :txn, :value [[:append :x 1]]}
{:process 1, :type :invoke, :f :txn, :value [[:r :x nil]]}
{:process 1, :type :ok, :f :txn, :value [[:r :x [1]]]}
"""
    t = isolation.append_transactions(edn(tmp_path, text))
    assert t.status == {"T0": "committed", "T1": "committed"}
    t = isolation.append_transactions(edn(tmp_path, text.replace("[:r :x [1]]", "[:r :x []]")))
    assert t.status["T0"] == "unknown"


# ------------------------------------------------------------------ bank runs
def test_two_phase_commit_with_locks_is_serializable_under_faults():
    from dsalgo.soak.txn import _setting
    for seed in range(4):
        kw = _setting()
        kw["seed"] = seed
        run = txn.twopc.simulate(n=3, **kw)
        v = isolation.check(run)
        assert v and v.info["transactions"] > 50, v.violations


def test_no_locks_at_prepare_shows_lost_updates_and_overdrafts():
    v = isolation.check(txn.scenarios.no_locks_at_prepare())
    assert v.info["anomalies"]["G-single"] == 1
    assert not v.holds("serializability") and not v.holds("no_negative_balance")
    assert v.holds("total_balance")
    assert isolation.check(txn.scenarios.no_locks_at_prepare(bug=False))


def test_sagas_read_uncommitted_state_yet_stay_semantically_atomic():
    for form in ("orchestrated", "choreographed"):
        run = txn.saga.simulate(n=3, seed=1, duration=1.0, drain=1.0, initial_balance=20,
                                form=form)
        v = isolation.check(run)
        assert v.info["anomalies"]["G1a"] > 0 and not v.holds("serializability")
        assert txn.check(run)


def test_bad_input():
    with pytest.raises(TypeError, match="history must be a history DataFrame"):
        isolation.append_transactions([1, 2])
    with pytest.raises(ValueError, match="run must be a run of the twopc or saga family"):
        isolation.bank_transactions(sim.Run(params={"family": "raft"}))


# ------------------------------------------------------------------ the drawing
def test_anomaly_cycle_draws_each_edge_of_the_cycle_with_its_kind():
    import matplotlib.pyplot as plt

    from dsalgo import plot
    t = Transactions({"T1": C, "T2": C, "T3": C},
                     {"x": [("init", 0), ("T1", 1), ("T2", 2)],
                      "y": [("init", 0), ("T2", 1), ("T3", 2)],
                      "z": [("init", 0), ("T3", 1), ("T1", 2)]}, [])
    ax = plot.anomaly_cycle(anomalies(t))
    labels = sorted(x.get_text() for x in ax.texts if x.get_text())
    assert labels == ["T1", "T2", "T3", "ww x", "ww y", "ww z"]
    assert ax.get_title() == "G0: T1 → T2 → T3 → T1"
    aborted = Transactions({"T1": "aborted", "T2": C}, {"x": [("init", 0), ("T1", 1)]},
                           [("T2", "x", 1, 2)])
    ax = plot.anomaly_cycle(anomalies(aborted))
    assert ax.get_title() == "G1a: T1 → T2"
    with pytest.raises(ValueError, match="index must be a row number in \\[0, 1\\)"):
        plot.anomaly_cycle(anomalies(aborted), index=3)
    with pytest.raises(TypeError, match="anomalies must be the table"):
        plot.anomaly_cycle([1])
    plt.close("all")


def test_compare_counts_anomalies_per_protocol_under_faults():
    t = isolation.compare(seeds=range(2))
    by = t.groupby("variant", sort=False)
    assert list(by.groups) == list(isolation.VARIANTS)
    assert by["serializable"].all().tolist() == [True, False, False, False]
    assert by["atomic"].all().all()
    counts = by[list(isolation.ANOMALIES)].sum()
    assert counts.loc["2PC (locks at prepare)"].sum() == 0
    assert counts.loc["2PC without locks", "G-single"] > 0
    assert counts.loc[["saga (orchestrated)", "saga (choreographed)"], "G1a"].gt(0).all()
