"""summarize() and the sweep charts: numbers right, bad input named."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dsalgo.analysis import summarize
from dsalgo.plot import heatmap, sweep_lines, throughput
from dsalgo.sweep import sweep


def failover(n, loss, seed):
    if seed == 3 and n == 5:
        raise RuntimeError("lost")
    return {"downtime": n * 0.1 + loss + seed * 0.01, "elections": n + seed}


@pytest.fixture(scope="module")
def results():
    return sweep(failover, {"n": [5, 3], "loss": [0.0, 0.2]}, seeds=range(4), progress=False)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_summary_matches_a_hand_computed_t_interval(results):
    s = summarize(results, by=["n", "loss"], metrics=["downtime", "elections"], ci=0.9)
    assert s[["n", "loss", "metric"]].values.tolist()[:4] == [
        [5, 0.0, "downtime"], [5, 0.0, "elections"], [5, 0.2, "downtime"],
        [5, 0.2, "elections"]]
    row = s[(s.n == 3) & (s.loss == 0.2) & (s.metric == "downtime")].iloc[0]
    vals = np.array([0.5, 0.51, 0.52, 0.53])
    half = stats.t.ppf(0.95, 3) * vals.std(ddof=1) / 2
    assert row.n_values == 4 and row["mean"] == pytest.approx(vals.mean())
    assert (row.ci_low, row.ci_high) == pytest.approx((vals.mean() - half, vals.mean() + half))
    failed = s[(s.n == 5) & (s.metric == "downtime")]
    assert failed.n_values.tolist() == [3, 3]  # the failed seed is not counted


def test_default_metrics_skip_seed_wall_time_and_by(results):
    assert summarize(results, by="n").metric.unique().tolist() == ["loss", "downtime",
                                                                    "elections"]


def test_a_single_value_has_no_interval():
    s = summarize(pd.DataFrame({"g": ["a"], "m": [1.0]}), by="g")
    assert s["mean"].tolist() == [1.0] and s[["std", "ci_low", "ci_high"]].isna().all(axis=None)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"by": "nope"}, ValueError, "by names column 'nope', which is not in the table"),
    ({"by": [1]}, TypeError, "by must be a column name or a list of them; got 1"),
    ({"by": "n", "metrics": ["error"]}, TypeError, "metric 'error' must be a numeric column"),
    ({"by": "n", "metrics": ["n"]}, ValueError, "metrics and by must not share columns"),
    ({"by": "n", "ci": 1.5}, ValueError, r"ci must be in \(0, 1\); got 1.5"),
])
def test_bad_summary_arguments(results, kwargs, error, message):
    with pytest.raises(error, match=message):
        summarize(results, **kwargs)


def test_summary_needs_a_dataframe():
    with pytest.raises(TypeError, match="df must be a pandas DataFrame; got dict"):
        summarize({"a": [1]}, by="a")


def test_sweep_lines_draw_means_and_bands(results):
    ax = sweep_lines(results, x="n", y="downtime", hue="loss")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["loss=0.0", "loss=0.2"]
    assert lines[0].get_xdata().tolist() == [3, 5]
    assert lines[0].get_ydata() == pytest.approx([0.315, 0.51])
    assert len(ax.collections) == 2  # one CI band per line
    _fig, given = plt.subplots()
    assert sweep_lines(results, x="loss", y="elections", ax=given) is given


def test_heatmap_cells_hold_the_means(results):
    ax = heatmap(results, x="n", y="loss", value="elections")
    assert sorted(t.get_text() for t in ax.texts) == ["4.5", "4.5", "6", "6"]
    with pytest.raises(ValueError, match="value names column 'latency'"):
        heatmap(results, x="n", y="loss", value="latency")
    with pytest.raises(TypeError, match="value column 'error' must be numeric"):
        heatmap(results, x="n", y="loss", value="error")


def test_throughput_counts_completed_ok_operations_per_window():
    h = pd.DataFrame({"t_complete": [0.05, 0.1, 0.15, 0.45, np.nan],
                      "status": ["ok", "ok", "fail", "ok", "info"]})
    assert throughput(h, 0.2).get_lines()[0].get_ydata().tolist() == [10.0, 0.0, 5.0, 5.0]
    assert throughput(h, 0.5, status=None).get_lines()[0].get_ydata().tolist() == [8.0, 8.0]
    with pytest.raises(ValueError, match="window must be > 0; got 0.0"):
        throughput(h, 0)
    with pytest.raises(ValueError, match="history must be a run.history table with column"):
        throughput(h.drop(columns="status"), 1.0)
