"""Review checks for dsalgo.check.linearizable: soundness against brute force, bad input."""

import itertools
import math
import random

import pandas as pd
import pytest

from dsalgo.check import linearizable
from dsalgo.check.models import KV, CASRegister


def _brute_force(rows, model):
    """Linearizable by definition: some subset of the info ops plus every ok/fail op that
    the model keeps, in some order that respects real time, is legal sequentially."""
    kept = [r for r in rows if model.keep(r["f"], r["status"])]
    must = [r for r in kept if r["status"] != "info"]
    info = [r for r in kept if r["status"] == "info"]
    for k in range(len(info) + 1):
        for extra in itertools.combinations(info, k):
            ops = must + list(extra)
            for perm in itertools.permutations(ops):
                pos = {id(o): i for i, o in enumerate(perm)}
                if any(a["status"] != "info" and a["t_complete"] < b["t_invoke"]
                       and pos[id(a)] > pos[id(b)] for a in ops for b in ops):
                    continue
                state, legal = model.init(), True
                for o in perm:
                    v = tuple(o["value"]) if isinstance(o["value"], list) else o["value"]
                    legal, state = model.step(state, o["f"], v, o["result"], o["status"])
                    if not legal:
                        break
                if legal:
                    return True
    return False


def _random_history(rng, n_ops, kv):
    rows = []
    for i in range(n_ops):
        t0 = rng.randint(0, 8)
        t1 = t0 + rng.randint(0, 4)
        f = rng.choice(["get", "put", "cas", "append"] if kv else ["get", "put", "cas"])
        status = rng.choice(["ok", "ok", "ok", "info", "fail"])
        vals = ["", "a", "b"] if kv else [0, 1, 2]
        value = result = None
        if f in ("put", "append"):
            value = rng.choice(vals[1:] if f == "append" else vals)
        elif f == "cas":
            value = [rng.choice(vals), rng.choice(vals)]
        else:
            result = rng.choice(vals + (["ab", "ba"] if kv else []))
        rows.append(dict(op_id=i, process=f"p{i}", f=f, key=0, value=value, result=result,
                         t_invoke=float(t0), t_complete=float(t1), status=status))
    return rows


@pytest.mark.parametrize("kv", [False, True])
def test_verdict_equals_brute_force_on_random_small_histories(kv):
    rng = random.Random(20261126 + kv)
    model = KV(initial="") if kv else CASRegister(initial=0)
    verdicts = []
    for _ in range(400):
        rows = _random_history(rng, rng.randint(1, 5), kv)
        expected = _brute_force(rows, model)
        got = linearizable(pd.DataFrame(rows), model)
        assert bool(got) == expected, pd.DataFrame(rows).to_string()
        assert got.status == ("ok" if expected else "violated")
        verdicts.append(expected)
    # a sometimes for the always: both verdicts occur often
    assert 50 < sum(verdicts) < 350


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
