"""Quorum charts and the interactive explorer."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from dsalgo.plot import quorum as qplot
from dsalgo.quorum import availability_table, grid, load_table, majority
from dsalgo.widgets.quorum import quorum_explorer


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_nines_draws_one_line_per_system_with_labels():
    df = availability_table({"n=3": majority(3), "n=5": majority(5)}, np.logspace(-4, -1, 8))
    ax = qplot.availability_nines(df)
    assert len(ax.get_lines()) == 2
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["n=3", "n=5"]
    # the line for 5 nodes lies above the one for 3 nodes at every p
    y3, y5 = (line.get_ydata() for line in ax.get_lines())
    assert np.all(np.asarray(y5) > np.asarray(y3))


def test_nines_drops_infinite_points():
    df = availability_table({"n=3": majority(3)}, [0.0, 0.1])
    ax = qplot.availability_nines(df)
    assert len(ax.get_lines()[0].get_xdata()) == 1


def test_load_curves_and_node_bars():
    ax = qplot.load_curves(load_table({"grid": grid(3, 3), "maj": majority(9)}, [0, 0.5, 1]))
    assert len(ax.get_lines()) == 2 and ax.get_legend() is not None
    _, axes = plt.subplots(1, 2)
    out = qplot.node_load_bars(grid(2, 3).node_loads(0.25), ax=axes[1])
    assert out is axes[1] and len(out.patches) == 12
    # the split weights each part by its share of operations: a read (25 %) contacts a
    # node with probability 1/2, a write (75 %) with 1/3, so 0.125 from reads, 0.25 writes
    heights = [p.get_height() for p in out.patches]
    assert heights[:6] == pytest.approx([0.125] * 6) and heights[6:] == pytest.approx([0.25] * 6)


@pytest.mark.parametrize("n, model, overlap", [(5, "crash", 1), (4, "crash", 2),
                                              (4, "byzantine", 2), (10, "byzantine", 4)])
def test_intersection_drawing_states_the_overlap(n, model, overlap):
    ax = qplot.quorum_intersection(n, model)
    assert f"overlap in {overlap}" in ax.get_title()


@pytest.mark.parametrize("call, exc", [
    (lambda: qplot.availability_nines("not a frame"), TypeError),
    (lambda: qplot.availability_nines(load_table({"g": grid(2, 2)}, [0.5])), ValueError),
    (lambda: qplot.quorum_intersection(0), ValueError),
    (lambda: qplot.quorum_intersection(5, model="omission"), ValueError),
    (lambda: qplot.quorum_intersection(4, "byzantine", f=2), ValueError),
    (lambda: availability_table([majority(3)], [0.1]), TypeError),
    (lambda: availability_table({"a": 3}, [0.1]), TypeError),
    (lambda: availability_table({"a": majority(3)}, []), ValueError),
    (lambda: load_table({"a": majority(3)}, 0.5), TypeError),
], ids=["df_type", "df_columns", "n0", "model", "f_too_big", "systems_list", "system_type",
        "p_empty", "fractions_scalar"])
def test_bad_input(call, exc):
    with pytest.raises(exc):
        call()


def test_explorer_redraws_when_controls_change():
    w = quorum_explorer(n=5, p=0.01, read_fraction=0.5)
    first_summary, first_image = w.summary.value, w.image.value
    assert "crash f = 2" in first_summary and first_image[:4] == b"\x89PNG"
    w.controls["n"].value = 9
    assert "crash f = 4" in w.summary.value and w.image.value != first_image
    before = w.image.value
    w.controls["p"].value = 0.1
    assert "p = 1.00e-01" in w.summary.value and w.image.value != before
    w.controls["read_fraction"].value = 1.0
    assert "read fraction 1.00" in w.summary.value
    legend = [t.get_text() for t in w.figure.axes[0].get_legend().get_texts()]
    assert legend == ["majority(8)", "majority(9)", "majority(10)"]


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"n": 30}, {"p": 0.9}, {"read_fraction": -0.1}])
def test_explorer_bad_input(kwargs):
    with pytest.raises(ValueError):
        quorum_explorer(**kwargs)


@pytest.mark.parametrize("n, model", [(5, "crash"), (4, "byzantine"), (10, "byzantine")])
def test_intersection_legend_sits_beside_the_data(n, model):
    fig, ax = plt.subplots(figsize=(8, 2.5))
    qplot.quorum_intersection(n, model, ax=ax)
    fig.tight_layout()
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    boxes = [a.get_window_extent() for a in ax.patches]
    nodes = ax.transData.transform(ax.collections[0].get_offsets())
    assert len(boxes) == 2 and len(nodes) == n
    assert not any(legend.overlaps(box) for box in boxes)
    assert not any(legend.contains(x, y) for x, y in nodes)
    assert legend.x0 >= ax.get_window_extent().x1      # outside the axes, not on the nodes
    assert fig.get_window_extent().contains(legend.x1 - 1, legend.y1 - 1)  # and not cut off
