"""The transaction charts."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from dsalgo import plot, txn


def test_blocking_time_draws_one_line_per_termination_and_the_diagonal():
    df = pd.DataFrame({"recovery_time": [0.1, 0.1, 0.3, 0.3],
                       "blocked": [0.1, 0.12, 0.3, 0.31], "termination": ["wait"] * 4})
    ax = plot.blocking_time(df)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["wait", "blocked for the whole outage"]
    assert list(lines[0].get_xdata()) == pytest.approx([100, 300])
    assert list(lines[0].get_ydata()) == pytest.approx([110, 305])
    assert "ms" in ax.get_xlabel() and "ms" in ax.get_ylabel() and ax.get_title()
    plt.close("all")


def test_blocking_time_names_a_missing_column():
    with pytest.raises(ValueError, match="y must name a column of data .*got 'blocking'"):
        plot.blocking_time(pd.DataFrame({"recovery_time": [0.1], "termination": ["wait"]}),
                           y="blocking")


def test_run_summary_counts_what_the_history_says():
    run = txn.saga.simulate(seed=1, duration=0.5, drain=0.5)
    row = txn.metrics.summary(run)
    t = txn.metrics.transfers(run)
    assert row["throughput"] == (t["status"] == "ok").sum() / 0.5
    assert row["ok"] and row["dirty_reads_per_saga"] >= 0
