"""Load-balancing charts: every one has a title, labelled axes with units, and a legend."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from dsalgo import balance as B
from dsalgo import plot


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_latency_vs_utilization_draws_policies_theory_and_bands():
    rho = np.array([0.5, 0.7, 0.9])
    df = pd.DataFrame({"utilization": np.tile(rho, 2), "latency": [1, 2, 5, 0.5, 1, 2],
                       "low": [0.9, 1.8, 4, 0.4, 0.9, 1.8], "high": [1.1, 2.2, 6, .6, 1.1, 2.2],
                       "policy": ["random"] * 3 + ["jsq"] * 3})
    ax = plot.latency_vs_utilization(df, unit="ms", theory={"M/M/1": (rho, B.mm1_mean_response(rho))})
    assert ax.get_ylabel() == "latency (ms)" and ax.get_xlabel() == "utilization ρ"
    assert ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["random", "jsq", "M/M/1 (theory)"]
    assert ax.lines[0].get_ydata().tolist() == [1000, 2000, 5000]
    assert len(ax.collections) == 2                   # one band per policy


def test_queue_length_tail_skips_zeros_on_a_log_axis():
    df = pd.DataFrame({"i": [0, 1, 2, 3], "fraction": [1.0, 0.5, 0.1, 0.0], "run": "a"})
    ax = plot.queue_length_tail(df, hue="run", theory={"M/M/1": ([0, 1, 2], [1, 0.5, 0.25])})
    assert ax.lines[0].get_xdata().tolist() == [0, 1, 2]
    assert ax.get_yscale() == "log" and ax.get_legend() is not None


def test_key_movement_and_theory_check_and_load_spread():
    df = pd.DataFrame({"n": [2, 4], "moved": [0.3, 0.2], "low": [0.25, 0.18], "high": [0.35, 0.22]})
    ax = plot.key_movement(df, theory={"1/(n+1)": ([2, 4], [1 / 3, 1 / 5])})
    assert ax.get_xlabel() == "backends before the change"
    tc = pd.DataFrame({"rho": [0.5, 0.7], "measured": [1, 2], "theory": [1.1, 2.1], "q": "P"})
    ax = plot.theory_check(tc, x="rho", hue="q", ylabel="probability")
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"P: simulated", "P: theory"}
    ls = pd.DataFrame({"label": ["a", "a", "b"], "load": [0.9, 1.1, 1.0]})
    assert plot.load_spread(ls, ylabel="load / mean").get_ylabel() == "load / mean"


@pytest.mark.parametrize("call, exc, message", [
    (lambda: plot.latency_vs_utilization([1, 2]), TypeError, "data must be a pandas DataFrame"),
    (lambda: plot.latency_vs_utilization(pd.DataFrame({"utilization": [1]})), ValueError,
     "missing latency, policy"),
    (lambda: plot.latency_vs_utilization(pd.DataFrame({"utilization": [0.5], "latency": [1],
                                                       "policy": ["r"]}), unit="h"),
     ValueError, "unit must be one of 's', 'ms'; got 'h'"),
    (lambda: plot.queue_length_tail(pd.DataFrame({"i": [0]})), ValueError, "missing fraction"),
])
def test_bad_input(call, exc, message):
    with pytest.raises(exc, match=message):
        call()
