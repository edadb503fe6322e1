"""An interactive explorer of quorum math: cluster size, failure probability, read mix."""

from __future__ import annotations

import math

import numpy as np

from .._validate import check_int, check_number, check_probability
from ._static import with_static_picture

__all__ = ["quorum_explorer"]


def _grid_shape(n: int) -> tuple[int, int]:
    """The most square ``rows x cols = n`` (a 1 x n grid when n is prime)."""
    rows = max(r for r in range(1, math.isqrt(n) + 1) if n % r == 0)
    return rows, n // rows


def quorum_explorer(n: int = 5, p: float = 0.01, read_fraction: float = 0.5):
    """A widget with sliders for ``n``, per-node failure probability ``p`` and read fraction.

    It shows the fault-tolerance bounds for ``n``, the availability of a majority (and of
    its neighbours ``n - 1`` and ``n + 1``, to show that even sizes buy nothing), and the
    load of a majority against the squarest grid of ``n`` nodes.  Every change redraws.

    Parameters
    ----------
    n : int
        Initial cluster size, 1 to 25.
    p : float
        Initial per-node failure probability, in ``[1e-5, 0.5]``.
    read_fraction : float
        Initial fraction of reads, in ``[0, 1]``.

    Returns
    -------
    ipywidgets.VBox
        With attributes ``controls`` (dict of the three sliders), ``summary`` (an HTML
        widget), ``image`` (the PNG it redraws), ``figure`` (the matplotlib Figure behind
        it) and ``refresh()``.

    Examples
    --------
    >>> w = quorum_explorer(n=5, p=0.01)
    >>> "f = 2" in w.summary.value
    True
    >>> w.controls["n"].value = 7
    >>> "f = 3" in w.summary.value
    True
    """
    import io

    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from .. import quorum
    from ..plot import quorum as qplot

    n = check_int("n", n, low=1, high=25)
    p = check_number("p", p, low=1e-5, high=0.5)
    read_fraction = check_probability("read_fraction", read_fraction)

    n_slider = widgets.IntSlider(value=n, min=1, max=25, description="n")
    p_slider = widgets.FloatLogSlider(value=p, base=10, min=-5, max=math.log10(0.5), step=0.05,
                                      description="p", readout_format=".1e")
    fr_slider = widgets.FloatSlider(value=read_fraction, min=0.0, max=1.0, step=0.05,
                                    description="read fraction")
    summary = widgets.HTML()
    image = widgets.Image(format="png")
    # a bare Figure (not pyplot) so that nothing is shown twice or leaks between redraws
    fig = Figure(figsize=(12, 4))
    ax_a, ax_l = fig.subplots(1, 2)
    # room beside each chart for its legend (dsalgo.plot puts legends off the data)
    fig.subplots_adjust(left=0.06, right=0.86, bottom=0.13, top=0.92, wspace=0.6)
    tables = {}   # n -> (availability table, load table): only n changes them

    def tables_for(size):
        if size not in tables:
            rows, cols = _grid_shape(size)
            sizes = {f"majority({k})": quorum.majority(k)
                     for k in (size - 1, size, size + 1) if k >= 1}
            ps = np.logspace(-5, math.log10(0.5), 40)
            frs = np.linspace(0, 1, 11)
            tables[size] = (quorum.availability_table(sizes, ps),
                            quorum.load_table({f"majority({size})": quorum.majority(size),
                                               f"grid {rows}x{cols}": quorum.grid(rows, cols)},
                                              frs))
        return tables[size]

    def refresh(*_):
        size, prob, fr = n_slider.value, p_slider.value, fr_slider.value
        maj = quorum.majority(size)
        rows, cols = _grid_shape(size)
        grd = quorum.grid(rows, cols)
        a = maj.availability(prob)
        u = maj.unavailability(prob)
        summary.value = (
            f"<b>n = {size}</b>: crash f = {quorum.max_faults(size)} "
            f"(majority {quorum.quorum_size(size)}), Byzantine f = "
            f"{quorum.max_faults(size, 'byzantine')}; at p = {prob:.2e} a majority is alive "
            f"with probability {a:.9f} ({-math.log10(u) if u > 0 else math.inf:.2f} nines); "
            f"load at read fraction {fr:.2f}: majority {maj.load(fr):.3f}, "
            f"{rows}x{cols} grid {grd.load(fr):.3f}")
        ax_a.clear()
        ax_l.clear()
        avail, loads = tables_for(size)
        qplot.availability_nines(avail, ax=ax_a)
        ax_a.axvline(prob, color="k", ls=":", lw=1)
        qplot.load_curves(loads, ax=ax_l)
        ax_l.axvline(fr, color="k", ls=":", lw=1)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        image.value = buf.getvalue()

    for s in (n_slider, p_slider, fr_slider):
        s.observe(refresh, names="value")
    refresh()
    box = widgets.VBox([widgets.HBox([n_slider, p_slider, fr_slider]), summary, image])
    box.controls = {"n": n_slider, "p": p_slider, "read_fraction": fr_slider}
    box.summary = summary
    box.image = image
    box.figure = fig
    box.refresh = refresh
    return with_static_picture(box)
