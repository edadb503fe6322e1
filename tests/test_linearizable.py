"""Unit tests of dsalgo.check.linearizable and the models: small hand-made histories."""

import math
import random

import pandas as pd
import pytest

from dsalgo.check import Verdict, linearizable
from dsalgo.check.models import KV, CASRegister, Model, Register, get_model
from dsalgo.histories import history_table

NaN = math.nan


def h(*ops):
    """ops: (process, f, key, value, result, t_invoke, t_complete, status)."""
    return history_table([(i, *op) for i, op in enumerate(ops)])


# ----------------------------------------------------------------- verdicts


def test_sequential_history_is_linearizable():
    v = linearizable(h(("c1", "put", "x", 1, None, 0, 1, "ok"),
                       ("c1", "get", "x", None, 1, 2, 3, "ok")), "kv")
    assert isinstance(v, Verdict) and v.status == "ok" and bool(v)
    assert v.info["witness"] == {"x": [0, 1]}


def test_stale_read_after_write_completed_is_caught():
    v = linearizable(h(("c1", "put", "x", 1, None, 0, 1, "ok"),
                       ("c2", "get", "x", None, None, 2, 3, "ok")), "kv")
    assert v.status == "violated"
    row = v.violations.iloc[0]
    assert row["property"] == "linearizability" and row["time"] == 3
    assert v.info["explanations"][0]["op_id"] == 1
    assert v.info["explanations"][0]["states"] == [1]
    assert "op 1 get → nil by c2 cannot" in row["detail"]
    assert row["detail"].endswith("(t=3, 2 operations); the linearizations of the operations "
                                  "before it leave the state in {1}; concurrent with it: 0 "
                                  "operations")


def test_a_history_without_a_clock_is_told_in_lines_not_seconds():
    """A log with no clock (its times are line numbers, ``attrs["clock"] == "line"``) gets
    its verdict in lines; with a clock, seconds as before."""
    stale = h(("c1", "put", "x", 1, None, 0, 1, "ok"), ("c2", "get", "x", None, None, 2, 3, "ok"))
    assert "at t=3s" in str(linearizable(stale, "kv"))
    stale.attrs["clock"] = "line"
    v = linearizable(stale, "kv")
    assert "at line 3 on" in str(v) and "(line 3, 2 operations)" in str(v)
    assert "t=" not in str(v) and v.info["clock"] == "line"
    stale.attrs["clock"] = "file order"
    assert "at position 3 in the file" in str(linearizable(stale, "kv"))


def test_concurrent_read_may_see_old_or_new_value():
    for seen in (None, 1):
        v = linearizable(h(("c1", "put", "x", 1, None, 0, 2, "ok"),
                           ("c2", "get", "x", None, seen, 1, 3, "ok")), "kv")
        assert bool(v), seen


def test_reads_must_agree_on_an_order():
    # two concurrent writes; one reader sees 1 then 2, the other 2 then 1: no single order
    v = linearizable(h(("c1", "put", "x", 1, None, 0, 10, "ok"),
                       ("c2", "put", "x", 2, None, 0, 10, "ok"),
                       ("c3", "get", "x", None, 1, 1, 2, "ok"),
                       ("c3", "get", "x", None, 2, 3, 4, "ok"),
                       ("c4", "get", "x", None, 2, 1, 2, "ok"),
                       ("c4", "get", "x", None, 1, 3, 4, "ok")), "kv")
    assert v.status == "violated"
    assert v.violations.iloc[0]["time"] == 4


def test_info_write_may_take_effect_late_or_never():
    base = [("c1", "put", "x", 1, None, 0, NaN, "info")]
    late = h(*base, ("c2", "get", "x", None, None, 5, 6, "ok"),
             ("c2", "get", "x", None, 1, 7, 8, "ok"))
    never = h(*base, ("c2", "get", "x", None, None, 5, 6, "ok"))
    assert bool(linearizable(late, "kv")) and bool(linearizable(never, "kv"))
    # ... but not before it was invoked
    early = h(("c2", "get", "x", None, 1, 0, 1, "ok"),
              ("c1", "put", "x", 1, None, 2, NaN, "info"))
    assert not linearizable(early, "kv")


def test_info_cas_may_apply_only_if_compare_holds():
    ops = [("c1", "put", None, 1, None, 0, 1, "ok"),
           ("c2", "cas", None, [1, 2], None, 2, NaN, "info")]
    assert bool(linearizable(h(*ops, ("c3", "get", None, None, 2, 3, 4, "ok"))))
    assert not linearizable(h(*ops, ("c3", "get", None, None, 3, 3, 4, "ok")))


def test_info_cas_that_fails_now_may_succeed_later():
    # the regression behind "observers only" in the greedy step: an info cas [1, 2] is a
    # no-op while the value is 0, but must still be free to apply after put(1)
    v = linearizable(h(("c1", "cas", None, [1, 2], None, 0, NaN, "info"),
                       ("c2", "get", None, None, None, 1, 2, "ok"),
                       ("c2", "put", None, 1, None, 3, 4, "ok"),
                       ("c2", "get", None, None, 2, 5, 6, "ok")))
    assert bool(v)


def test_failed_cas_means_the_compare_failed():
    put = ("c1", "put", None, 1, None, 0, 1, "ok")
    assert bool(linearizable(h(put, ("c2", "cas", None, [0, 5], None, 2, 3, "fail"))))
    assert not linearizable(h(put, ("c2", "cas", None, [1, 5], None, 2, 3, "fail")))
    assert not linearizable(h(put, ("c2", "cas", None, [0, 5], None, 2, 3, "ok")))


def test_failed_put_had_no_effect():
    v = linearizable(h(("c1", "put", "x", 1, None, 0, 1, "fail"),
                       ("c2", "get", "x", None, 1, 2, 3, "ok")), "kv")
    assert not v


def test_jepsen_names_are_accepted():
    v = linearizable(h(("0", "write", None, 3, None, 0, 1, "ok"),
                       ("1", "read", None, None, 3, 2, 3, "ok")), "register")
    assert bool(v)


def test_keys_are_checked_independently_and_each_bad_key_reported():
    v = linearizable(h(("c1", "put", "a", 1, None, 0, 1, "ok"),
                       ("c1", "put", "b", 1, None, 0, 1, "ok"),
                       ("c2", "get", "a", None, 1, 2, 3, "ok"),
                       ("c2", "get", "b", None, 7, 4, 5, "ok"),
                       ("c3", "get", "c", None, 9, 0, 9, "ok")), "kv", stop_at_first=False)
    assert v.info["keys"] == 3
    assert [e["key"] for e in v.info["explanations"]] == ["b", "c"]
    assert v.violations["time"].tolist() == [5.0, 9.0]


def test_stop_at_first_reports_one_key():
    ops = [("c2", "get", k, None, 7, 0, 1, "ok") for k in "abc"]
    v = linearizable(h(*ops), "kv", stop_at_first=True)
    assert v.status == "violated" and len(v.violations) == 1


def test_cas_register_ignores_keys():
    v = linearizable(h(("c1", "put", "a", 1, None, 0, 1, "ok"),
                       ("c2", "get", "b", None, 1, 2, 3, "ok")), "cas-register")
    assert bool(v)


def test_empty_history_is_linearizable():
    assert bool(linearizable(history_table([]), "kv"))


def test_time_limit_gives_unknown_verdict():
    # 20 concurrent writes of distinct values and a read that contradicts all of them at
    # the very end: exhausting every order takes seconds (about 2^20 write sets), a hundred
    # times the limit, so the verdict is "unknown" on any machine (12 writes took 0.06 s,
    # close enough to the limit to finish under a light load)
    n = 20
    ops = [(f"w{i}", "put", None, i, None, 0, 100, "ok") for i in range(n)]
    ops += [("r", "get", None, None, 99, 101, 102, "ok")]
    v = linearizable(h(*ops), time_limit=0.05)
    assert v.status == "unknown" and not v
    assert v.info["undecided"] == [None]
    assert "time limit" in str(v)


def test_custom_model():
    class Counter(Model):
        name, operations, read_only = "counter", ("add", "get"), ("get",)

        def init(self):
            return 0

        def step(self, state, f, value, result, status):
            if f == "add":
                return True, state + value
            return result == state, state

    ok = h(("c1", "add", None, 2, None, 0, 1, "ok"), ("c2", "add", None, 3, None, 0, 1, "ok"),
           ("c3", "get", None, None, 5, 2, 3, "ok"))
    assert bool(linearizable(ok, Counter()))
    bad = h(("c1", "add", None, 2, None, 0, 1, "ok"), ("c3", "get", None, None, 3, 2, 3, "ok"))
    assert not linearizable(bad, Counter)


def test_models_by_name():
    assert isinstance(get_model("register"), Register)
    assert isinstance(get_model("cas-register"), CASRegister)
    assert isinstance(get_model("kv"), KV)


# ----------------------------------------------------------------- bad input


def test_history_not_a_dataframe():
    with pytest.raises(TypeError, match="history must be a pandas DataFrame.*got list"):
        linearizable([1, 2])


def test_history_missing_columns():
    with pytest.raises(ValueError, match=r"history is missing columns \['t_complete'\]"):
        linearizable(h(("c1", "put", "x", 1, None, 0, 1, "ok")).drop(columns="t_complete"))


def test_kv_model_needs_key_column():
    with pytest.raises(ValueError, match=r"missing columns \['key'\]"):
        linearizable(h(("c1", "put", "x", 1, None, 0, 1, "ok")).drop(columns="key"), "kv")


def test_duplicate_op_ids():
    hist = h(("c1", "put", "x", 1, None, 0, 1, "ok"), ("c2", "get", "x", None, 1, 2, 3, "ok"))
    hist.loc[1, "op_id"] = 0
    with pytest.raises(ValueError, match=r"history has duplicate op_id values \[0\]; each "
                                         "operation needs its own op_id"):
        linearizable(hist, "kv")


def test_unknown_model_name():
    with pytest.raises(ValueError, match="model must be one of 'register', 'cas-register', "
                                         "'kv', 'multi-register'; got 'queue'"):
        linearizable(h(), "queue")


def test_model_of_wrong_type():
    with pytest.raises(TypeError, match="model must be a model name.*got 3 of type int"):
        linearizable(h(), 3)


def test_unknown_operation():
    with pytest.raises(ValueError, match="op_id=0: f='incr' is not an operation of model "
                                         "'kv'; accepted: get, put, cas, append"):
        linearizable(h(("c1", "incr", "x", 1, None, 0, 1, "ok")), "kv")


def test_unknown_status():
    bad = pd.DataFrame({"op_id": [0], "process": ["c1"], "f": ["get"], "key": ["x"],
                        "value": [None], "result": [None], "t_invoke": [0.0],
                        "t_complete": [1.0], "status": ["timeout"]})
    with pytest.raises(ValueError, match="op_id=0: status must be 'ok', 'fail' or 'info'; "
                                         "got 'timeout'"):
        linearizable(bad, "kv")


def test_completed_op_without_completion_time():
    with pytest.raises(ValueError, match="op_id=0: an operation with status 'ok' needs a "
                                         "finite t_complete; got nan"):
        linearizable(h(("c1", "put", "x", 1, None, 0, NaN, "ok")), "kv")


def test_completion_before_invocation():
    with pytest.raises(ValueError, match="op_id=0: t_complete=1.0 is before t_invoke=2.0"):
        linearizable(h(("c1", "put", "x", 1, None, 2, 1, "ok")), "kv")


def test_nonfinite_invocation_time():
    with pytest.raises(ValueError, match="op_id=0: t_invoke must be a finite time in seconds; "
                                         "got nan"):
        linearizable(h(("c1", "put", "x", 1, None, NaN, 1, "ok")), "kv")


def test_malformed_cas_value():
    with pytest.raises(ValueError, match=r"op_id=0: a cas value must be \[old, new\]; got 5"):
        linearizable(h(("c1", "cas", "x", 5, None, 0, 1, "ok")), "kv")


@pytest.mark.parametrize("limit, exc, msg", [
    (0, ValueError, "time_limit must be > 0; got 0.0"),
    ("1", TypeError, "time_limit must be a real number; got '1'"),
])
def test_bad_time_limit(limit, exc, msg):
    with pytest.raises(exc, match=msg):
        linearizable(h(), time_limit=limit)


def test_bad_stop_at_first():
    with pytest.raises(TypeError, match="stop_at_first must be True or False; got 1"):
        linearizable(h(), stop_at_first=1)


# -------------------------------------------------- bad times, time limits, map and set values
def test_non_numeric_time_names_the_row():
    h = pd.DataFrame({"op_id": [7], "f": ["get"], "value": [None], "result": [1],
                      "t_invoke": ["abc"], "t_complete": [1.0], "status": ["ok"]})
    with pytest.raises(ValueError, match=r"op_id=7: t_invoke and t_complete must be times"):
        linearizable(h)


def test_time_limit_is_unknown_not_ok():
    # a highly concurrent history that cannot be decided in a millisecond
    rng = random.Random(1)
    rows = [dict(op_id=i, f="put", value=i, result=None, t_invoke=rng.random(),
                 t_complete=10 + rng.random(), status="ok") for i in range(40)]
    rows += [dict(op_id=100 + i, f="get", value=None, result=rng.randint(0, 39),
                  t_invoke=11.0 + i, t_complete=11.5 + i, status="ok") for i in range(30)]
    v = linearizable(pd.DataFrame(rows), "register", time_limit=1e-3)
    assert v.status in ("unknown", "violated")
    assert v.status != "ok" and not math.isnan(v.info["seconds"])


@pytest.mark.parametrize("written, read, expected", [
    ({"a": 1}, {"a": 1}, True), ({"a": 1}, {"a": 2}, False),
    ({1, 2}, {2, 1}, True), ({1, 2}, {1}, False),
    ({"a": [1, 2]}, {"a": (1, 2)}, True),
])
def test_map_and_set_values_are_checked_not_crashed_on(written, read, expected):
    # EDN histories carry maps and sets; before, the search died on "unhashable type"
    h = pd.DataFrame({"op_id": [0, 1], "f": ["put", "get"], "key": [0, 0],
                      "value": [written, None], "result": [None, read],
                      "t_invoke": [0.0, 2.0], "t_complete": [1.0, 3.0],
                      "status": ["ok", "ok"]})
    assert bool(linearizable(h, "kv")) is expected


# ------------------------------------------- preparation: column-wise = row by row


def _prepared_both_ways(table, model):
    import sys

    lin = sys.modules["dsalgo.check.linearizable"]
    m = get_model(model).with_semantics("porcupine")
    locs = lin._locs(table)
    keys = (lin._column(table, m.partition_by, locs) if m.partition_by
            else [None] * len(table))
    cols = [lin._column(table, c, locs) for c in ("op_id", "f", "value", "result",
                                                  "t_invoke", "t_complete", "status")] + [keys]
    fast = lin._prepare_fast(m, *cols)        # (parts, rows, times, in_order) or None
    return (fast and fast[:2]), lambda: lin._prepare_rows(m, *cols), m, cols


@pytest.mark.parametrize("model", ["cas-register", "kv"])
def test_column_wise_preparation_matches_the_row_by_row_one(model):
    rng = random.Random(7)
    rows = []
    for _ in range(300):
        f = rng.choice(["get", "put", "cas", "read", "write"])
        value = (None if f in ("get", "read") else
                 [rng.randint(0, 3), rng.randint(0, 3)] if f == "cas" else rng.randint(0, 3))
        t0 = float(rng.randint(0, 400))
        status = rng.choice(["ok", "ok", "fail", "info"])
        rows.append((f"c{rng.randint(0, 4)}", f, rng.choice("xyz"), value,
                     rng.choice([None, 0, 1, 2]), t0, t0 + rng.randint(0, 9), status))
    fast, slow, _m, _cols = _prepared_both_ways(h(*rows), model)
    assert fast is not None and fast == slow()
    # cas values became tuples
    assert all(type(op[3]) is tuple for part in fast[0].values() for op in part
               if op[2] == "cas")


def test_column_wise_preparation_hands_unusual_rows_to_the_row_by_row_one():
    nested = h(("c1", "put", "x", [1, [2, 3]], None, 0.0, 1.0, "ok"))
    fast, slow, _m, _c = _prepared_both_ways(nested, "cas-register")
    assert fast == slow() and fast[0][None][0][3] == (1, (2, 3))
    bad_time = h(("c1", "put", "x", 1, None, 2.0, 1.0, "ok"))
    assert _prepared_both_ways(bad_time, "cas-register")[0] is None
    with pytest.raises(ValueError, match="t_complete=1.0 is before t_invoke=2.0"):
        linearizable(bad_time)
    bad_cas = h(("c1", "cas", "x", [1, 2, 3], None, 0.0, 1.0, "ok"))
    assert _prepared_both_ways(bad_cas, "cas-register")[0] is None
    with pytest.raises(ValueError, match="a cas value must be"):
        linearizable(bad_cas)


def test_an_empty_table_is_linearizable_and_still_needs_its_columns():
    assert linearizable(h()).status == "ok"
    with pytest.raises(ValueError, match="missing columns"):
        linearizable(h().drop(columns=["status"]))


# ------------------------------------------- the collector: off during the search only


class _GCWatch(Model):
    """A register that records whether the collector was on at each step, and can fail."""
    name, operations, read_only = "gc-watch", ("put", "get"), ("get",)

    def __init__(self, fail=False):
        self.seen, self.fail = [], fail

    def init(self):
        return None

    def step(self, state, f, value, result, status):
        import gc

        self.seen.append(gc.isenabled())
        if self.fail:
            raise RuntimeError("model failed")
        return (True, value) if f == "put" else (result == state, state)

    def with_semantics(self, semantics):
        return self                      # keep the one instance that records


@pytest.mark.parametrize("enabled", [True, False], ids=["gc_on", "gc_off"])
def test_the_callers_collector_state_is_restored(enabled):
    import gc

    concurrent = h(("c1", "put", None, 1, None, 0.0, 2.0, "ok"),
                   ("c2", "get", None, None, 1, 1.0, 3.0, "ok"))
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        watch = _GCWatch()
        assert bool(linearizable(concurrent, watch))
        assert watch.seen and not any(watch.seen)   # it did happen: off during the search
        assert gc.isenabled() is enabled
        failing = _GCWatch(fail=True)
        with pytest.raises(RuntimeError, match="model failed"):
            linearizable(concurrent, failing)
        assert failing.seen == [False] and gc.isenabled() is enabled   # also on an error
    finally:
        (gc.enable if was else gc.disable)()


# ------------------------------------------- what is remembered or skipped between calls


def test_which_operations_are_kept_follows_each_model_instance():
    # whether an (f, status) is kept is remembered across calls for the built-in models:
    # it must follow the instance's read_only and semantics, and an instance's own keep
    table = h(("c1", "put", "x", 1, None, 0.0, 1.0, "ok"),
              ("c2", "get", "x", None, None, 2.0, 3.0, "info"),
              ("c3", "cas", "x", [5, 6], None, 4.0, 5.0, "fail"))
    assert linearizable(table, "kv").info["ops"] == 2           # the info get is dropped
    writer = KV()
    writer.read_only = ()                                       # a get may change the state
    assert linearizable(table, writer).info["ops"] == 3
    assert linearizable(table, "kv").info["ops"] == 2
    assert linearizable(table, "kv", semantics="knossos").info["ops"] == 1   # fails dropped
    only_ok = KV()
    only_ok.keep = lambda f, status: status == "ok"
    assert linearizable(table, only_ok).info["ops"] == 1


def test_a_models_copy_for_other_semantics_keeps_its_attributes():
    class Slotted(KV):
        __slots__ = ("extra",)

    class Copied(KV):
        copies = 0

        def __copy__(self):
            type(self).copies += 1
            other = Copied(initial=self.initial)
            other.__dict__.update(self.__dict__)
            return other

    s = Slotted(initial="a")
    s.extra = 5
    t = s.with_semantics("knossos")
    assert (t.extra, t.initial, t.semantics, s.semantics) == (5, "a", "knossos", None)
    c = Copied(initial="b").with_semantics("knossos")
    assert (Copied.copies, c.initial, c.semantics) == (1, "b", "knossos")
    k = KV(initial="c")
    k.note = "kept"
    m = k.with_semantics("knossos")
    assert type(m) is KV and vars(m) == {"initial": "c", "note": "kept", "semantics": "knossos"}


def test_a_one_client_table_gives_the_verdict_of_the_same_rows_shuffled():
    # rows in call order, each returning before the next is invoked: the search is told
    # that no partition needs an overlap check; shuffled, it checks for itself
    rng = random.Random(3)
    for trial in range(40):
        rows, state = [], {}
        for i in range(rng.randint(1, 12)):
            key = rng.choice("xyz")
            f = rng.choice(["put", "get", "cas"])
            value = (rng.randint(0, 2) if f == "put" else
                     [rng.randint(0, 2), rng.randint(0, 2)] if f == "cas" else None)
            result = state.get(key) if rng.random() < 0.8 else rng.randint(0, 2)
            status = "ok" if f != "cas" or rng.random() < 0.5 else "fail"
            if f == "put":
                state[key] = value
            rows.append(("c1", f, key, value, result if f == "get" else None,
                         2.0 * i, 2.0 * i + 1, status))
        ordered = h(*rows)
        shuffled = ordered.sample(frac=1.0, random_state=trial).reset_index(drop=True)
        for stop in (True, False):
            a = linearizable(ordered, "kv", stop_at_first=stop)
            b = linearizable(shuffled, "kv", stop_at_first=stop)
            assert a.status == b.status
            assert a.info["explanations"] == b.info["explanations"]
            assert a.info["witness"] == b.info["witness"]
            assert a.info["undecided"] == b.info["undecided"]


def test_the_verdict_is_the_one_the_public_constructor_makes():
    bad = h(("c1", "put", "x", 1, None, 0.0, 1.0, "ok"),
            ("c2", "get", "x", None, 2, 2.0, 3.0, "ok"),
            ("c3", "get", "y", None, 5, 2.0, 3.0, "ok"))
    for table, stop in ((bad, True), (bad, False), (bad.iloc[:1], True)):
        v = linearizable(table, "kv", stop_at_first=stop)
        rows = list(v._rows)
        w = Verdict(["linearizability"], rows, status="unknown" if v.status == "unknown"
                    else None, info=v.info)
        assert vars(v) == vars(w)
        assert v.violations.equals(w.violations) and str(v) == str(w)
