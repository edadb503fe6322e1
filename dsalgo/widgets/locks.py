"""An interactive explorer of RedLock's timing assumptions: TTL, a GC pause, clock drift."""

from __future__ import annotations

from .._validate import check_number
from ._static import with_static_picture

__all__ = ["locks_explorer"]


def locks_explorer(ttl: float = 1.0, pause: float = 1.5, drift: float = 0.0,
                   critical_section: float = 0.1, seed: int = 0):
    """A widget that reruns the RedLock pause scenario whenever a slider moves.

    Two clients contend for a RedLock on five servers (5 ms links).  ``c1`` acquires
    first; it is paused for ``pause`` seconds halfway through its critical section, and
    its clock runs at ``1 + drift`` times real time.  The chart is
    :func:`dsalgo.plot.lock_timeline` of the run; the summary is :func:`dsalgo.locks.check`
    in words.  A pause longer than about the TTL breaks mutual exclusion.  So can a slow
    clock, with a critical section that uses the whole validity, but only well beyond
    the drift allowance (1 % of the TTL + 2 ms): ``c1``'s validity, stretched in real
    time by its slow clock, must outlast the servers' TTL by more than the allowance,
    the time its own acquisition took, *and* the time ``c2`` needs to be granted the
    expired key.  With a TTL of 1 s and a critical section longer than it, a clock 3 %
    slow still keeps mutual exclusion; one 10 % slow breaks it.

    Parameters
    ----------
    ttl : float
        Initial lock TTL, seconds, in [0.2, 3].
    pause : float
        Initial pause of ``c1``, seconds, in [0, 5] (0: no pause).
    drift : float
        Initial clock drift rate of ``c1``, in [-0.2, 0.2] (−0.05: 5 % slow).
    critical_section : float
        Initial work time of each holder, seconds, in [0.01, 3].
    seed : int
        Seed of the runs.

    Returns
    -------
    ipywidgets.VBox
        With attributes ``controls`` (dict of sliders ``ttl``, ``pause``, ``drift``,
        ``critical_section``), ``summary`` (HTML), ``image`` (the PNG it redraws),
        ``figure``, ``run`` (the latest run), ``verdict`` and ``refresh()``.

    Examples
    --------
    >>> w = locks_explorer(ttl=1.0, pause=0.0)
    >>> w.verdict.holds("mutual_exclusion")
    True
    >>> w.controls["pause"].value = 2.0
    >>> w.verdict.holds("mutual_exclusion"), "c1, c2" in w.summary.value
    (False, True)
    """
    import html
    import io

    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from .. import locks
    from ..plot import lock_timeline

    ttl = check_number("ttl", ttl, low=0.2, high=3.0)
    pause = check_number("pause", pause, low=0.0, high=5.0)
    drift = check_number("drift", drift, low=-0.2, high=0.2)
    critical_section = check_number("critical_section", critical_section, low=0.01, high=3.0)

    opts = {"continuous_update": False, "style": {"description_width": "initial"}}
    sliders = {
        "ttl": widgets.FloatSlider(value=ttl, min=0.2, max=3.0, step=0.1,
                                   description="TTL (s)", **opts),
        "pause": widgets.FloatSlider(value=pause, min=0.0, max=5.0, step=0.1,
                                     description="c1 pause (s)", **opts),
        "drift": widgets.FloatSlider(value=drift, min=-0.2, max=0.2, step=0.005,
                                     readout_format=".3f", description="c1 clock drift",
                                     **opts),
        "critical_section": widgets.FloatSlider(value=critical_section, min=0.01, max=3.0,
                                                step=0.01, description="critical section (s)",
                                                **opts),
    }
    summary = widgets.HTML()
    image = widgets.Image(format="png")
    fig = Figure(figsize=(12, 4.5))  # a bare Figure: nothing shown twice between redraws
    ax = fig.subplots()
    fig.subplots_adjust(left=0.06, right=0.74, bottom=0.12, top=0.91)  # room for the legend
    box = widgets.VBox([widgets.HBox(list(sliders.values())[:2]),
                        widgets.HBox(list(sliders.values())[2:]), summary, image])

    def refresh(*_):
        v = {k: s.value for k, s in sliders.items()}
        run = locks.scenarios.redlock_pause(v["pause"], ttl=v["ttl"], drift=v["drift"],
                                            critical_section=v["critical_section"], seed=seed)
        verdict = locks.check(run)
        i = verdict.info
        summary.value = (f"<b>{'✔' if verdict else '✘'}</b> {html.escape(str(verdict))}<br>"
                         f"{i['acquisitions']} acquisitions, {i['handovers']} handovers, "
                         f"{i['expired']} expired by validity, {i['writes_accepted']} writes "
                         f"accepted, {i['writes_rejected']} rejected.")
        ax.clear()
        lock_timeline(run, ax=ax, max_messages=300, title=f"RedLock, TTL {v['ttl']:g} s, c1 paused "
                                        f"{v['pause']:g} s, c1 drift {v['drift']:+.3f}")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        image.value = buf.getvalue()
        box.run, box.verdict = run, verdict

    for s in sliders.values():
        s.observe(refresh, names="value")
    box.controls = sliders
    box.summary = summary
    box.image = image
    box.figure = fig
    box.refresh = refresh
    refresh()
    return with_static_picture(box)
