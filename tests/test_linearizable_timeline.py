"""dsalgo.plot.history_timeline: bars per process, culprits marked, faults shaded."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from dsalgo.check import linearizable
from dsalgo.histories import history_table
from dsalgo.plot import history_timeline

NaN = float("nan")


def _bad():
    return history_table([
        (0, "c1", "put", "x", 1, None, 0.000, 0.010, "ok"),
        (1, "c2", "get", "x", None, None, 0.012, 0.020, "ok"),       # stale: cannot be placed
        (2, "c3", "put", "x", 2, None, 0.015, NaN, "info"),
        (3, "c3", "cas", "y", [1, 2], None, 0.001, 0.004, "fail")])


def _edge_colors(ax):
    return [tuple(round(c, 3) for c in p.get_edgecolor()[:3]) for p in ax.patches]


def test_marks_the_operation_that_cannot_be_linearized():
    h = _bad()
    v = linearizable(h, "kv")
    faults = pd.DataFrame({"kind": ["partition"], "target": ["n1|n2"], "t_start": [0.005],
                           "t_end": [NaN]})
    ax = history_timeline(h, v, faults)
    assert ax.get_xlabel() == "time (ms)" and ax.get_ylabel() == "client process"
    assert "cannot be linearized" in ax.get_title()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c1", "c3", "c2"]
    bars = ax.patches[:4]                      # one bar per op, in table order
    assert tuple(bars[1].get_edgecolor()[:3]) == (1.0, 0.0, 0.0)           # red: blamed
    assert [round(b.get_x(), 6) for b in bars] == [0.0, 12.0, 15.0, 1.0]
    assert bars[2].get_x() + bars[2].get_width() > 20    # info runs to the right edge
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"cannot be linearized", "end of smallest bad prefix", "fault: partition",
            "outcome unknown (info)", "failed"} <= set(labels)
    assert any(line.get_linestyle() == "--" for line in ax.get_lines())
    plt.close("all")


def test_without_verdict_and_one_key_on_given_axes():
    fig, ax = plt.subplots()
    out = history_timeline(_bad(), ax=ax, key="y", unit="s")
    assert out is ax and ax.get_xlabel() == "time (s)"
    assert len(ax.patches) == 1 and "key 'y'" in ax.get_title()
    assert (1.0, 0.0, 0.0) not in _edge_colors(ax)
    plt.close(fig)


def test_bad_arguments():
    with pytest.raises(TypeError, match="history must be a pandas DataFrame.*got list"):
        history_timeline([])
    with pytest.raises(ValueError, match=r"history is missing columns \['status'\]"):
        history_timeline(_bad().drop(columns="status"))
    with pytest.raises(ValueError, match="unit must be one of 'ms', 's', 'logical'; got 'h'"):
        history_timeline(_bad(), unit="h")
    with pytest.raises(TypeError, match="faults must be a DataFrame like run.faults; got list"):
        history_timeline(_bad(), faults=[])
    with pytest.raises(TypeError, match="verdict must be a dsalgo.check.Verdict; got str"):
        history_timeline(_bad(), verdict="bad")
    plt.close("all")
