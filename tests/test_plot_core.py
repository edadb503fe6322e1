"""The generic charts: they draw what the tables say, with titles, labels and legends."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from dsalgo import plot, sim


class Ping(sim.Node):
    def on_start(self, ctx):
        ctx.set_timer("t", 0.05)

    def on_timer(self, ctx, name):
        ctx.send("n2" if ctx.id == "n1" else "n1", ("ping", ctx.id))
        ctx.set_timer("t", 0.05)


@pytest.fixture(scope="module")
def run():
    s = sim.Simulation(seed=1, network=sim.Network(latency=sim.Constant(0.01), drop_rate=0.1))
    for n in ("n1", "n2", "n3"):
        s.add_node(n, Ping)
    s.add_faults([sim.Crash("n2", at=0.5), sim.Restart("n2", at=0.7),
                  sim.Pause("n1", at=0.2, duration=0.1),
                  sim.Partition([["n1"], ["n2", "n3"]], at=0.8, until=0.9)])
    return s.run(until=1.0)


def test_spacetime_draws_every_message_as_an_arrow_or_stub(run):
    ax = plot.spacetime(run)
    delivered = (run.messages["status"] == "delivered").sum()
    arrows = [c for c in ax.texts if getattr(c, "arrow_patch", None) is not None]
    assert len(arrows) == delivered
    labels = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"tuple", "dropped", "crashed", "paused", "partitioned"} <= labels
    assert ax.get_xlabel() == "time (ms)" and ax.get_title().startswith("Space-time")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["n1", "n2", "n3"]
    plt.close("all")


def test_spacetime_caps_the_number_of_messages_and_says_so(run):
    ax = plot.spacetime(run, max_messages=5)
    assert "first 5 of" in ax.get_title()
    plt.close("all")


def test_latencies_of_messages_and_history():
    m = pd.DataFrame({"t_send": [0.0, 1.0, 2.0], "t_deliver": [0.5, np.nan, 2.25],
                      "status": ["delivered", "dropped", "delivered"], "type": ["A", "A", "B"]})
    assert plot.latencies(m)["latency"].tolist() == [0.5, 0.25]
    with pytest.raises(ValueError, match="t_send/t_deliver"):
        plot.latencies(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="by must be a column"):
        plot.latencies(m, by="nope")
    with pytest.raises(TypeError, match="table must be"):
        plot.latencies([1, 2])


def test_latency_cdf_and_hist_label_their_axes(run):
    ax = plot.latency_cdf(run.messages, by="type")
    assert ax.get_xlabel() == "latency (ms)" and ax.get_legend() is not None
    line = ax.get_lines()[0]
    assert line.get_ydata()[-1] == pytest.approx(1.0)
    ax = plot.latency_hist(run.messages, log=True)
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "count"
    plt.close("all")


def test_a_node_keeps_its_colour_across_diagrams(run):
    first = plot.spacetime(run)
    second = plot.spacetime(run, nodes=["n3", "n1"])
    colour = {t.get_text(): t.get_color() for t in first.get_yticklabels()}
    again = {t.get_text(): t.get_color() for t in second.get_yticklabels()}
    assert again["n1"] == colour["n1"] and again["n3"] == colour["n3"]
    assert len({tuple(c) for c in colour.values()}) == 3       # three nodes, three colours
    plt.close("all")


def test_sweep_lines_human_legend_sits_off_the_data():
    df = pd.DataFrame({"n": [3, 3, 5, 5] * 2, "latency_mean_ms": [1] * 4 + [20] * 4,
                       "seed": [0, 1] * 4, "y": [1.0, 1.2, 0.8, 0.9, 2, 2.4, 1.5, 1.7]})
    ax = plot.sweep_lines(df, x="n", y="y", hue="latency_mean_ms",
                          hue_label="mean one-way latency", hue_format="{} ms")
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["1 ms", "20 ms"]
    assert legend.get_title().get_text() == "mean one-way latency"
    ax.figure.canvas.draw()
    box = legend.get_window_extent()
    assert box.x0 >= ax.get_window_extent().x1           # entirely right of the axes
    plt.close("all")


def test_a_series_keeps_its_colour_across_charts_that_show_different_series():
    """One colour per policy (algorithm, timeout range, ...) across a notebook: a chart that
    shows only some of the series still gives each the colour it had before."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from dsalgo import plot

    df = pd.DataFrame({"x": [1, 2] * 6, "seed": [0, 0, 1, 1] * 3,
                       "y": range(12), "algo": ["a"] * 4 + ["b"] * 4 + ["c"] * 4})
    first = plot.sweep_lines(df, x="x", y="y", hue="algo")
    second = plot.sweep_lines(df[df["algo"] != "a"], x="x", y="y", hue="algo")
    colour = {ln.get_label(): ln.get_color() for ln in first.get_lines()}
    again = {ln.get_label(): ln.get_color() for ln in second.get_lines()}
    assert set(again) == {"algo=b", "algo=c"}
    assert all(again[k] == colour[k] for k in again)
    assert len(set(colour.values())) == 3
    # each group hands out its own palette from the start
    fresh = plot.series_color("only", "a group of its own")
    assert fresh == plot.series_color(next(iter(colour)).split("=")[1] + "?", "yet another")
    plt.close("all")
