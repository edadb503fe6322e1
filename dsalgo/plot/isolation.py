"""Charts of isolation anomalies: one dependency cycle drawn as a small graph.

Every function takes ``ax=None`` (a new figure when omitted) and returns the Axes.
"""

from __future__ import annotations

import math

import pandas as pd

from .core import _axes

__all__ = ["anomaly_cycle"]

#: Colour and line style of each dependency kind.
EDGE_STYLE = {"ww": ("tab:blue", "-"), "wr": ("tab:green", "-"), "rw": ("tab:red", "--")}


def anomaly_cycle(anomalies, *, index: int = 0, ax=None):
    """Draw one anomaly of :func:`dsalgo.txn.isolation.anomalies` as a directed cycle.

    The transactions of the cycle sit on a circle in the order the cycle visits them; each
    edge is an arrow labelled with its kind and key: ``ww`` (blue, T2 overwrote T1),
    ``wr`` (green, T2 read what T1 wrote), ``rw`` (red, dashed: an anti-dependency, T1
    read a version T2 then overwrote).  A G1a or G1b (no cycle) is drawn as the one
    ``wr`` edge from the writer to the reader.

    Parameters
    ----------
    anomalies : DataFrame or dsalgo.check.Verdict
        The table of :func:`~dsalgo.txn.isolation.anomalies`, or a verdict of
        :func:`~dsalgo.txn.isolation.check` (its ``info["table"]``).
    index : int
        Which row (anomaly) to draw.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from dsalgo import txn
    >>> v = txn.isolation.check(txn.scenarios.no_locks_at_prepare())
    >>> ax = anomaly_cycle(v)
    >>> ax.get_title()
    'G-single: t1 → t0 → t1'
    >>> sorted(t.get_text() for t in ax.texts if t.get_text())
    ['rw n1:0', 't0', 't1', 'ww n1:0']
    """
    table = getattr(anomalies, "info", {}).get("table") if not isinstance(
        anomalies, pd.DataFrame) else anomalies
    if not isinstance(table, pd.DataFrame) or not {"anomaly", "cycle", "txns"} <= set(
            table.columns):
        raise TypeError(f"anomalies must be the table of dsalgo.txn.isolation.anomalies or "
                        f"a verdict of dsalgo.txn.isolation.check; got "
                        f"{type(anomalies).__name__}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(table):
        raise ValueError(f"index must be a row number in [0, {len(table)}) of the anomaly "
                         f"table; got {index!r}")
    row = table.iloc[index]
    edges = list(row["cycle"]) or [(row["txns"][0], row["txns"][1], "wr", "")]
    order = []
    for a, b, _k, _key in edges:
        for t in (a, b):
            if t not in order:
                order.append(t)
    n = len(order)
    # counter-clockwise, so that every arc (bent to its right) bows outwards
    pos = {t: (math.cos(math.pi / 2 + 2 * math.pi * i / n),
               math.sin(math.pi / 2 + 2 * math.pi * i / n)) if n > 1 else (0.0, 0.0)
           for i, t in enumerate(order)}
    ax = _axes(ax, figsize=(4.5, 4.5))
    for a, b, kind, key in edges:
        color, style = EDGE_STYLE.get(kind, ("grey", ":"))
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color=color, linestyle=style, lw=1.8,
                                    shrinkA=18, shrinkB=18,
                                    connectionstyle="arc3,rad=0.25"))
        # the label sits beside the arc's middle, pushed outwards like the arc
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        dx, dy = x1 - x0, y1 - y0
        ax.text(mx + 0.3 * dy, my - 0.3 * dx, f"{kind} {key}".strip(), color=color,
                ha="center", va="center", fontsize=9)
    for t, (x, y) in pos.items():
        ax.text(x, y, str(t), ha="center", va="center", fontsize=11,
                bbox=dict(boxstyle="circle", fc="white", ec="black"))
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    path = " → ".join(str(a) for a, _b, _k, _key in edges) + f" → {edges[-1][1]}"
    ax.set_title(f"{row['anomaly']}: {path}")
    return ax
