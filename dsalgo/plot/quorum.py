"""Charts for quorum math: availability in nines, load against read fraction, per-node
loads, and the quorum-intersection argument drawn.

Every function takes ``ax=None`` (a new figure when omitted) and returns the Axes; the
table-driven ones take the tidy tables of :mod:`dsalgo.quorum.tables` and column names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import check_choice, check_int
from .core import series_color

__all__ = ["availability_nines", "load_curves", "node_load_bars", "quorum_intersection"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    return ax


def _need(df, cols):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a DataFrame; got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"df lacks column(s) {missing}; it has {list(df.columns)}")


def availability_nines(df, x: str = "p", y: str = "nines", hue: str = "system", ax=None,
                       logx: bool = True):
    """Availability in nines (``-log10(1 - A)``) against per-node failure probability.

    Parameters
    ----------
    df : DataFrame
        Typically :func:`dsalgo.quorum.availability_table`.
    x, y, hue : str
        Column names: x values, nines, and the line grouping.
    ax : matplotlib Axes, optional
    logx : bool
        Log-scale the x axis (failure probabilities span decades).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from dsalgo.quorum import availability_table, majority
    >>> df = availability_table({"n=3": majority(3), "n=5": majority(5)}, [0.001, 0.01, 0.1])
    >>> ax = availability_nines(df)
    >>> ax.get_ylabel()
    'availability (nines: -log10 unavailability)'
    """
    _need(df, [x, y, hue])
    ax = _axes(ax)
    for label, part in df.groupby(hue, sort=False, observed=True):
        finite = part[np.isfinite(part[y])]
        ax.plot(finite[x], finite[y], marker="o", ms=3, label=str(label),
                color=series_color(label, hue))
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("per-node failure probability p" if x == "p" else x)
    ax.set_ylabel("availability (nines: -log10 unavailability)")
    ax.set_title("How many nines: availability of a live quorum")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title=hue, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              frameon=False)
    return ax


def load_curves(df, x: str = "read_fraction", y: str = "load", hue: str = "system", ax=None):
    """Load of the optimal strategy against the read fraction, one line per system.

    Parameters
    ----------
    df : DataFrame
        Typically :func:`dsalgo.quorum.load_table`.
    x, y, hue : str
        Column names.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from dsalgo.quorum import load_table, grid, majority
    >>> ax = load_curves(load_table({"grid": grid(3, 3), "majority": majority(9)}, [0, 0.5, 1]))
    >>> ax.get_xlabel()
    'read fraction'
    """
    _need(df, [x, y, hue])
    ax = _axes(ax)
    for label, part in df.groupby(hue, sort=False, observed=True):
        ax.plot(part[x], part[y], marker="o", ms=3, label=str(label),
                color=series_color(label, hue))
    ax.set_xlabel("read fraction" if x == "read_fraction" else x)
    ax.set_ylabel("load (busiest node's share of operations)" if y == "load" else y)
    ax.set_title("Load of the optimal strategy (lower is better)")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(title=hue, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              frameon=False)
    return ax


def node_load_bars(df, ax=None):
    """Per-node load under an optimal strategy, split into its read and write parts.

    Parameters
    ----------
    df : DataFrame
        From :meth:`QuorumSystem.node_loads` (``node, read_load, write_load, load``): each
        bar is the node's load, its lower part from reads and its upper part from writes
        (each weighted by the read fraction and divided by the capacity).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from dsalgo.quorum import grid
    >>> ax = node_load_bars(grid(2, 3).node_loads(0.25))
    >>> heights = [round(float(p.get_height()), 4) for p in ax.patches]
    >>> len(heights), heights[0], heights[6]   # 25 % reads of 1/2 and 75 % writes of 1/3
    (12, 0.125, 0.25)
    """
    _need(df, ["node", "read_load", "write_load", "load"])
    ax = _axes(ax)
    total = df["load"].to_numpy()
    reads, writes = df["read_load"].to_numpy(), df["write_load"].to_numpy()
    nodes = df["node"].astype(str)
    ax.bar(nodes, reads, label="reads")
    ax.bar(nodes, writes, bottom=reads, label="writes")
    ax.axhline(total.max(), color="k", lw=1, ls="--", label=f"system load {total.max():.3f}")
    ax.set_xlabel("node")
    ax.set_ylabel("load (share of operations, per unit capacity)")
    ax.set_title("Per-node load under the optimal strategy")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def quorum_intersection(n: int, model: str = "crash", f: int | None = None, ax=None):
    """Draw the quorum-intersection argument for ``n`` nodes.

    Two quorums of the minimum safe size are drawn at opposite ends of a row of nodes; they
    overlap in ``2q - n`` nodes.  For crash faults the overlap is one node (``2q > n``);
    for Byzantine faults ``f`` liars are placed in the overlap and one correct node is
    still left (``2q - n >= f + 1``).

    Parameters
    ----------
    n : int
        Number of nodes, ``>= 1``.
    model : {"crash", "byzantine"}
    f : int, optional
        Faults tolerated (default: the most ``n`` allows).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = quorum_intersection(7, "byzantine")
    >>> ax.get_title()
    'n = 7, f = 2 Byzantine: quorums of 5 overlap in 3 ≥ f + 1 = 3 nodes'
    >>> bool(ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1)  # beside the data
    True
    """
    from ..quorum import max_faults, quorum_size
    n = check_int("n", n, low=1)
    check_choice("model", model, ("crash", "byzantine"))
    f = max_faults(n, model) if f is None else check_int("f", f, low=0,
                                                          high=max_faults(n, model))
    q = quorum_size(n) if model == "crash" else quorum_size(n, "byzantine", f=f)
    overlap = 2 * q - n
    ax = _axes(ax)
    xs = np.arange(n)
    in_overlap = (xs >= n - q) & (xs < q)
    faulty = np.zeros(n, bool)
    if model == "byzantine":
        faulty[np.flatnonzero(in_overlap)[:f]] = True
    else:
        faulty[np.flatnonzero(~in_overlap)[:f]] = True   # crashed nodes outside quorum B
    colors = np.where(faulty, "tab:red", np.where(in_overlap, "tab:purple", "lightgray"))
    ax.scatter(xs, np.zeros(n), s=400, c=colors, edgecolors="k", zorder=3)
    for i in xs:
        ax.text(i, 0, f"n{i + 1}", ha="center", va="center", fontsize=8, zorder=4)
    ax.add_patch(_box(-0.45, q - 0.55, 0.35, "tab:blue", f"quorum A ({q})"))
    ax.add_patch(_box(n - q - 0.45, n - 0.55, -0.35, "tab:orange", f"quorum B ({q})"))

    def nodes(k):
        return f"{k} node{'' if k == 1 else 's'}"

    ax.plot([], [], "o", color="tab:purple", label=f"overlap: {nodes(overlap)}")
    ax.plot([], [], "o", color="tab:red",
            label=f"{f} faulty ({'lying' if model == 'byzantine' else 'crashed'})")
    ax.set_xlim(-1, n)
    ax.set_ylim(-0.9, 0.9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("nodes")
    # beside the row of nodes, never over it (the drawing fills the axes' width)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    if model == "crash":
        ax.set_title(f"n = {n}, f = {f} crash: majorities of {q} overlap in {nodes(overlap)}")
    else:
        ax.set_title(f"n = {n}, f = {f} Byzantine: quorums of {q} overlap in {overlap} "
                     f"≥ f + 1 = {f + 1} nodes")
    return ax


def _box(x0, x1, y, color, label):
    from matplotlib.patches import FancyBboxPatch
    height = 0.25
    y0 = y if y > 0 else y - height
    return FancyBboxPatch((x0, y0), x1 - x0, height, boxstyle="round,pad=0.02",
                          fc=color, alpha=0.35, ec=color, label=label)
