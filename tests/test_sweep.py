"""sweep(): table shape and order, errors kept per cell, designs, argument checks."""

import math

import numpy as np
import pandas as pd
import pytest

from dsalgo.sweep import Range, full_grid, latin_hypercube, random_design, sweep


def metrics(n, loss, seed):
    return {"quorum": n // 2 + 1, "score": n * 10 + loss + seed}


def fails_on_five(n, seed):
    if n == 5 and seed == 1:
        raise RuntimeError("cell exploded")
    return {"double": 2 * n}


def per_trial(n, seed):
    return pd.DataFrame({"trial": [0, 1], "downtime": [0.1 * n + seed, 0.2 * n + seed]})


def test_one_row_per_point_and_seed_in_grid_then_seed_order():
    df = sweep(metrics, {"n": [3, 5], "loss": [0.0, 0.5]}, seeds=[7, 2], progress=False)
    assert list(df.columns) == ["n", "loss", "seed", "quorum", "score", "wall_time", "error"]
    assert df[["n", "loss", "seed"]].values.tolist() == [
        [3, 0.0, 7], [3, 0.0, 2], [3, 0.5, 7], [3, 0.5, 2],
        [5, 0.0, 7], [5, 0.0, 2], [5, 0.5, 7], [5, 0.5, 2]]
    assert df.score.tolist() == [37.0, 32.0, 37.5, 32.5, 57.0, 52.0, 57.5, 52.5]
    assert df.error.isna().all() and (df.wall_time >= 0).all()


def test_a_failing_cell_keeps_its_traceback_and_the_others_complete():
    df = sweep(fails_on_five, {"n": [3, 5]}, seeds=range(3), progress=False)
    bad = df[df.error.notna()]
    assert bad[["n", "seed"]].values.tolist() == [[5, 1]]
    assert "RuntimeError: cell exploded" in bad.error.iloc[0]
    assert "Traceback" in bad.error.iloc[0] and math.isnan(bad.double.iloc[0])
    assert df.double.dropna().tolist() == [6, 6, 6, 10, 10]


def test_a_dataframe_result_gives_one_row_per_its_rows():
    df = sweep(per_trial, {"n": [3]}, seeds=[0, 1], progress=False)
    assert df[["n", "seed", "trial"]].values.tolist() == [[3, 0, 0], [3, 0, 1], [3, 1, 0],
                                                          [3, 1, 1]]
    assert df.downtime.round(6).tolist() == [0.3, 0.6, 1.3, 1.6]


def test_tuples_are_values_and_lists_are_axes():
    pts = full_grid({"election_timeout": (0.15, 0.3), "n": range(3, 6, 2)})
    assert pts == [{"election_timeout": (0.15, 0.3), "n": 3},
                   {"election_timeout": (0.15, 0.3), "n": 5}]
    assert full_grid({"x": np.array([1, 2])}) == [{"x": 1}, {"x": 2}]
    assert type(full_grid({"x": np.array([1])})[0]["x"]) is int


def test_explicit_design_runs_in_its_own_order():
    design = latin_hypercube({"n": (3, 9), "loss": Range(0.0, 0.5)}, 6, seed=3)
    df = sweep(metrics, design, seeds=[0], progress=False)
    assert df[["n", "loss"]].to_dict("records") == design


def test_latin_hypercube_uses_every_stratum_once():
    pts = latin_hypercube({"t": Range(0.01, 10.0, log=True), "p": [1, 2]}, 10, seed=5)
    strata = sorted(int(10 * math.log(p["t"] / 0.01) / math.log(1000)) for p in pts)
    assert strata == list(range(10))
    assert sorted(p["p"] for p in pts) == [1] * 5 + [2] * 5


def test_sampled_designs_are_reproducible_and_in_range():
    space = {"x": (0.0, 1.0), "k": (1, 3), "fixed": "a"}
    assert random_design(space, 20, seed=1) == random_design(space, 20, seed=1)
    assert random_design(space, 20, seed=1) != random_design(space, 20, seed=2)
    pts = random_design(space, 200, seed=0)
    assert {p["k"] for p in pts} == {1, 2, 3} and {p["fixed"] for p in pts} == {"a"}
    assert all(0.0 <= p["x"] <= 1.0 for p in pts)


def returns_a_list(seed):
    return {"values": [1, 2]}


def returns_a_clash(n, seed):
    return {"n": 1}


def returns_nonsense(seed):
    return 42


@pytest.mark.parametrize("fn, message", [
    (returns_a_list, "metric 'values' must be a number, string, bool or None"),
    (returns_a_clash, "metric 'n' clashes with a column the sweep adds"),
    (returns_nonsense, "fn must return a dict of metrics or a DataFrame; got 42"),
])
def test_bad_results_become_cell_errors(fn, message):
    grid = {"n": [1]} if fn is returns_a_clash else [{}]
    df = sweep(fn, grid, seeds=[0], progress=False)
    assert message in df.error.iloc[0]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"fn": 42}, TypeError, "fn must be callable; got 42"),
    ({"backend": "gpu"}, ValueError,
     "backend must be one of 'serial', 'processes', 'dask'; got 'gpu'"),
    ({"seeds": "abc"}, TypeError, "seeds must be an iterable of ints"),
    ({"seeds": []}, ValueError, "seeds must hold at least one seed"),
    ({"seeds": [1, 1]}, ValueError, r"seeds must not repeat; got \[1, 1\]"),
    ({"seeds": [0.5]}, TypeError, "seeds must be an iterable of ints; got element 0.5"),
    ({"grid": 5}, TypeError, "grid must be a dict of parameter -> values"),
    ({"grid": {"n": []}}, ValueError, r"grid\['n'\] is an empty list"),
    ({"grid": []}, ValueError, "grid must hold at least one point"),
    ({"grid": {"seed": [1]}}, ValueError, "grid must not contain 'seed'"),
    ({"grid": {"bad name": [1]}}, ValueError, "grid keys must be parameter names"),
    ({"workers": 0}, ValueError, "workers must be an integer >= 1; got 0"),
    ({"client": object()}, ValueError, "client is only used with backend='dask'"),
    ({"progress": "yes"}, TypeError, "progress must be True or False"),
])
def test_bad_arguments_name_parameter_value_and_accepted(kwargs, error, message):
    args = {"fn": metrics, "grid": {"n": [3], "loss": 0.0}, "seeds": [0], "progress": False}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        sweep(args.pop("fn"), args.pop("grid"), **args)


@pytest.mark.parametrize("space, samples, error, message", [
    ({"x": (0, 1)}, 0, ValueError, "samples must be an integer >= 1; got 0"),
    ({}, 3, TypeError, "space must be a non-empty dict"),
    ({"x": []}, 3, ValueError, r"space\['x'\] is an empty list of choices"),
])
def test_bad_design_arguments(space, samples, error, message):
    with pytest.raises(error, match=message):
        latin_hypercube(space, samples)


def test_bad_ranges():
    with pytest.raises(ValueError, match="Range needs low <= high; got low=2.0, high=1.0"):
        Range(2, 1)
    with pytest.raises(ValueError, match="a log Range needs low > 0; got low=0.0"):
        Range(0, 1, log=True)
    with pytest.raises(TypeError, match="low must be a real number; got 'a'"):
        Range("a", 1)


def test_progress_bar_counts_cells(capsys):
    sweep(metrics, {"n": [3, 5], "loss": 0.0}, seeds=range(3), progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "6/6" in err
