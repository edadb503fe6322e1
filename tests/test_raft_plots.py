"""Raft charts and the failover explorer widget (driven by changing its controls)."""

import numpy as np
import pandas as pd
import pytest

from dsalgo import plot, raft
from dsalgo.widgets import failover_explorer


def test_downtime_cdf_one_line_per_group_with_labels():
    df = pd.DataFrame({"downtime": [0.1, 0.2, 0.3, 0.4, np.nan],
                       "range": ["a", "a", "b", "b", "b"]})
    ax = plot.downtime_cdf(df, by="range")
    lines = ax.get_lines()
    assert len(lines) == 2
    assert lines[0].get_ydata().max() == 1.0
    assert lines[1].get_ydata().max() == pytest.approx(2 / 3)  # one trial never converged
    assert ax.get_xlabel() == "downtime (ms)" and ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "a", "b\n(1 of 3 > limit; converged 66.7%,\n95% CI 20.8%–93.9%)"]


def test_downtime_cdf_rejects_unknown_columns():
    with pytest.raises(ValueError, match="value must be a column of df; got 'latency'"):
        plot.downtime_cdf(pd.DataFrame({"downtime": [0.1]}), value="latency")
    with pytest.raises(ValueError, match="by must be a column of df; got 'n'"):
        plot.downtime_cdf(pd.DataFrame({"downtime": [0.1]}), by="n")


def test_raft_logs_draws_figure8_states():
    run = raft.scenarios.figure8(bug=False)
    ax = plot.raft_logs(run, at=1.85)       # (c): n1 has [1, 2, 4]
    labels = [(round(t.get_position()[0]), round(t.get_position()[1]), t.get_text())
              for t in ax.texts]
    assert (1, 0, "1") in labels and (2, 0, "2") in labels and (3, 0, "4") in labels
    assert (2, 4, "3") in labels             # n5 holds its term-3 entry
    end = plot.raft_logs(run)                # (d): index 2 is term 3 on all but crashed n1
    at2 = {round(t.get_position()[1]): t.get_text() for t in end.texts
           if round(t.get_position()[0]) == 2}
    assert at2 == {0: "2", 1: "3", 2: "3", 3: "3", 4: "3"}


def test_failover_explorer_redraws_on_change():
    w = failover_explorer(trials=20)
    first = w.image.value
    before = w.trials["downtime"].median()
    w.controls["election_timeout"].value = (20, 40)
    assert w.trials["downtime"].median() < before and w.image.value != first
    w.controls["n"].value = 3
    assert set(w.trials["leader"]) <= {"n2"}         # n3 is the ineligible one
    w.controls["loss"].value = 0.1
    assert "median downtime" in w.summary.value


def test_failover_explorer_rejects_bad_input():
    with pytest.raises(ValueError, match="n must be an integer <= 9; got 12"):
        failover_explorer(n=12)
    with pytest.raises(ValueError, match=r"latency must be in \[0.0005, 0.05\]; got 1.0"):
        failover_explorer(latency=1.0)


def test_failover_explorer_counts_trials_without_a_leader_in_its_percentiles():
    # 150-151 ms timeouts on the study network: most trials find no leader within 5 s,
    # so the median downtime is "> 5 s", not the median of the few that converged
    w = failover_explorer(election_timeout=(0.150, 0.151), trials=10)
    stuck = int((~w.trials["converged"]).sum())
    assert stuck > 5
    assert "median downtime > 5 s" in w.summary.value and "worst > 5 s" in w.summary.value
