"""dsalgo.histories.generate: linearizable-by-construction histories and their concurrency."""

import random

import numpy as np
import pandas as pd
import pytest

from dsalgo.check import linearizable
from dsalgo.histories import history_table
from dsalgo.histories.generate import max_concurrency, stretched_register_history


def _notebook_07_original(n_ops, spread, seed):
    # the generator as notebook 07 first wrote it: the package version must match it draw
    # for draw, so the notebook's cost tables keep their numbers
    rng = random.Random(seed)
    value, t, rows = None, 0.0, []
    for i in range(n_ops):
        t += rng.expovariate(1.0)
        f = rng.choices(["put", "get", "cas"], [4, 4, 2])[0]
        arg, result, status = None, None, "ok"
        if f == "put":
            arg = value = i + 1
        elif f == "get":
            result = value
        else:
            old = value if rng.random() < 0.6 else rng.randint(1, i + 1)
            arg = [old, i + 1]
            if old == value:
                value = i + 1
            else:
                status = "fail"
        rows.append((i, f"p{i}", f, 0, arg, result, t - rng.uniform(0, spread),
                     t + rng.uniform(0, spread), status))
    return history_table(rows)


def _sweep_concurrency(h):
    ev = sorted([(t, 1) for t in h["t_invoke"]] + [(t, -1) for t in h["t_complete"]],
                key=lambda x: (x[0], -x[1]))
    return max(np.cumsum([d for _, d in ev]))


@pytest.mark.parametrize("n_ops,spread,seed", [(50, 1.0, 0), (200, 4.0, 1), (30, 0.0, 3)])
def test_same_history_as_the_notebook_generator(n_ops, spread, seed):
    ours = stretched_register_history(n_ops, spread, seed)
    pd.testing.assert_frame_equal(ours, _notebook_07_original(n_ops, spread, seed))
    assert max_concurrency(ours) == _sweep_concurrency(ours)


@pytest.mark.parametrize("seed", range(6))
def test_histories_are_linearizable_and_overlap_more_with_a_larger_spread(seed):
    narrow = stretched_register_history(120, 0.2, seed)
    wide = stretched_register_history(120, 6.0, seed)
    assert linearizable(narrow, "cas-register").status == "ok"
    assert linearizable(wide, "cas-register", time_limit=20).status == "ok"
    assert max_concurrency(narrow) < max_concurrency(wide)


def test_every_op_kind_occurs_and_some_cas_fail():
    h = stretched_register_history(300, 1.0, 0)
    assert set(h["f"]) == {"put", "get", "cas"}
    assert (h["status"] == "fail").any() and (h["status"] == "info").sum() == 0
    assert set(stretched_register_history(50, 1.0, 0, mix=(0, 1, 0))["f"]) == {"get"}


def test_max_concurrency_treats_open_operations_as_in_progress_to_the_end():
    h = history_table([(0, "a", "put", 0, 1, None, 0.0, np.nan, "info"),
                       (1, "b", "get", 0, None, 1, 5.0, 6.0, "ok"),
                       (2, "c", "get", 0, None, 1, 7.0, 8.0, "ok")])
    assert max_concurrency(h) == 2
    assert max_concurrency(history_table([])) == 0


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="spread"):
        stretched_register_history(10, -1.0)
    with pytest.raises(ValueError, match="mix"):
        stretched_register_history(10, 1.0, mix=(0, 0, 0))
    with pytest.raises(TypeError, match="history must be a history table"):
        max_concurrency([1, 2])
