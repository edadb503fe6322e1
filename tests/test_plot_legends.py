"""Legends sit off the data: beside the axes, for the charts whose data fill the axes."""

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


rho = np.array([0.5, 0.7, 0.9])
CHARTS = {
    "latency_vs_utilization": lambda: plot.latency_vs_utilization(
        pd.DataFrame({"utilization": np.tile(rho, 2), "latency": [1, 2, 5, 0.5, 1, 2],
                      "policy": ["random"] * 3 + ["jsq"] * 3}),
        theory={"M/M/1": (rho, B.mm1_mean_response(rho))}),
    "queue_length_tail": lambda: plot.queue_length_tail(
        pd.DataFrame({"i": [0, 1, 2, 3], "fraction": [1, 0.5, 0.2, 0.05], "run": "sim"}),
        hue="run", theory={"d = 1": (np.arange(4), B.supermarket_tail(np.arange(4), 0.9))}),
    "key_movement": lambda: plot.key_movement(
        pd.DataFrame({"n": [2, 4, 8], "moved": [0.33, 0.2, 0.11], "low": [0.3, 0.18, 0.1],
                      "high": [0.36, 0.22, 0.12], "vnodes": "100"}), hue="vnodes",
        theory={"1/(n+1)": (np.arange(2, 9), B.expected_key_movement(np.arange(2, 9)))}),
    "load_spread": lambda: plot.load_spread(
        pd.DataFrame({"label": ["a"] * 3 + ["b"] * 3, "load": [1, 1.2, 0.8, 1, 1.5, 0.5]})),
    "theory_check": lambda: plot.theory_check(
        pd.DataFrame({"rho": rho, "measured": [2.0, 3.2, 9.5], "low": [1.9, 3.0, 8.5],
                      "high": [2.1, 3.4, 10.5], "theory": B.mm1_mean_response(rho)}), x="rho"),
    "blocking_time": lambda: plot.blocking_time(pd.DataFrame(
        {"recovery_time": [0.1, 0.1, 0.4, 0.4] * 2,
         "blocked": [0.11, 0.12, 0.41, 0.43, 0.02, 0.11, 0.05, 0.40],
         "termination": ["wait"] * 4 + ["cooperative"] * 4})),
    "quorum_intersection": lambda: plot.quorum_intersection(7, "byzantine"),
}


@pytest.mark.parametrize("name", CHARTS)
def test_legend_is_beside_the_axes(name):
    ax = CHARTS[name]()
    fig = ax.figure
    fig.tight_layout()
    fig.canvas.draw()
    legend = ax.get_legend()
    assert legend is not None and legend.get_texts()
    box, axes = legend.get_window_extent(), ax.get_window_extent()
    assert box.x0 >= axes.x1, f"{name}: the legend overlaps the axes (over the data)"
    assert box.x1 <= fig.bbox.x1 + 1, f"{name}: the legend is cut off at the figure's edge"
