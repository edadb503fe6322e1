"""An interactive explorer of Raft leader failover: cluster size, timeouts, network."""

from __future__ import annotations

from .._validate import check_int, check_number, check_range
from ._static import with_static_picture

__all__ = ["failover_explorer"]


def failover_explorer(n: int = 5, election_timeout=(0.150, 0.300), latency: float = 0.007,
                      loss: float = 0.0, trials: int = 100, seed: int = 0):
    """A widget that reruns :func:`dsalgo.raft.failover_trials` whenever a control moves.

    Each trial crashes the leader of a stable cluster within its heartbeat interval (half
    the minimum election timeout) and measures the downtime until every live server has
    heard the new leader.  The left chart is the downtime CDF, the right one how many
    election rounds the trials needed.

    Parameters
    ----------
    n : int
        Initial cluster size, 3 to 9.
    election_timeout : (float, float)
        Initial election-timeout range, seconds, within [0.010, 0.500].
    latency : float
        Initial mean one-way latency, seconds, in [0.0005, 0.050]; each message's delay
        is uniform on [0.7, 1.3] × latency.
    loss : float
        Initial message-loss probability, in [0, 0.3].
    trials : int
        Trials per redraw (10 to 1,000).
    seed : int
        Seed of the trials.

    Returns
    -------
    ipywidgets.VBox
        With attributes ``controls`` (dict: ``n``, ``election_timeout`` in ms, ``latency``
        in ms, ``loss``), ``summary`` (HTML), ``image`` (PNG), ``figure``, ``trials`` (the
        latest DataFrame) and ``refresh()``.

    Examples
    --------
    >>> w = failover_explorer(trials=20)
    >>> median = w.trials["downtime"].median()
    >>> w.controls["election_timeout"].value = (20, 40)     # ms
    >>> bool(w.trials["downtime"].median() < median), "median" in w.summary.value
    (True, True)
    """
    import io

    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from .. import raft, sim
    from ..plot import downtime_cdf

    n = check_int("n", n, low=3, high=9)
    lo, hi = check_range("election_timeout", election_timeout, low=0.0, low_open=True)
    check_number("election_timeout[0]", lo, low=0.010, high=0.500)
    check_number("election_timeout[1]", hi, low=0.010, high=0.500)
    latency = check_number("latency", latency, low=0.0005, high=0.050)
    loss = check_number("loss", loss, low=0.0, high=0.3)
    trials = check_int("trials", trials, low=10, high=1000)

    opts = {"continuous_update": False, "style": {"description_width": "initial"}}
    controls = {
        "n": widgets.IntSlider(value=n, min=3, max=9, description="servers n", **opts),
        "election_timeout": widgets.IntRangeSlider(
            value=(round(lo * 1000), round(hi * 1000)), min=10, max=500,
            description="election timeout (ms)", **opts),
        "latency": widgets.FloatSlider(value=latency * 1000, min=0.5, max=50.0, step=0.5,
                                       description="one-way latency (ms)", **opts),
        "loss": widgets.FloatSlider(value=loss, min=0.0, max=0.3, step=0.01,
                                    description="loss", **opts),
    }
    summary = widgets.HTML()
    image = widgets.Image(format="png")
    fig = Figure(figsize=(12, 4))  # a bare Figure: nothing shown twice between redraws
    ax_cdf, ax_rounds = fig.subplots(1, 2)
    box = widgets.VBox([widgets.HBox([controls["n"], controls["election_timeout"]]),
                        widgets.HBox([controls["latency"], controls["loss"]]), summary, image])

    def refresh(*_):
        v = {k: c.value for k, c in controls.items()}
        lo_ms, hi_ms = v["election_timeout"]
        mean = v["latency"] / 1000
        net = sim.Network(latency=sim.Uniform(low=0.7 * mean, high=1.3 * mean),
                          drop_rate=v["loss"])
        df = raft.failover_trials(trials, n=v["n"], election_timeout=(lo_ms / 1000,
                                                                      hi_ms / 1000),
                                  network=net, ineligible=min(2, v["n"] - 2), seed=seed,
                                  max_time=5.0, cpu=None, storage=None)  # all on the wire
        df["timeouts"] = f"{lo_ms}–{hi_ms} ms"
        # a trial without a leader after max_time lasted longer than every measured one:
        # it must count in the percentiles (as in the CDF), not be dropped as NaN
        d = (df["downtime"] * 1000).fillna(float("inf"))

        def ms(q):
            x = d.quantile(q, interpolation="higher")
            return "> 5 s" if x == float("inf") else f"{x:.0f} ms"

        summary.value = (f"{trials} trials, n = {v['n']}: median downtime "
                         f"{ms(0.5)}, 95th percentile {ms(0.95)}, "
                         f"worst {ms(1.0)}; mean election rounds "
                         f"{df['elections'].mean():.2f}; "
                         f"{(~df['converged']).sum()} trials without a leader after 5 s.")
        ax_cdf.clear()
        ax_rounds.clear()
        downtime_cdf(df, by="timeouts", ax=ax_cdf, title="leader-failover downtime")
        counts = df["elections"].value_counts().sort_index()
        ax_rounds.bar(counts.index, counts.values, label="trials")
        ax_rounds.set_xticks(list(counts.index))
        ax_rounds.set_xlabel("election rounds (candidate terms) until a leader")
        ax_rounds.set_ylabel("trials")
        ax_rounds.set_title("rounds needed")
        ax_rounds.legend()
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        image.value = buf.getvalue()
        box.trials = df

    for c in controls.values():
        c.observe(refresh, names="value")
    box.controls = controls
    box.summary = summary
    box.image = image
    box.figure = fig
    box.refresh = refresh
    refresh()
    return with_static_picture(box)
