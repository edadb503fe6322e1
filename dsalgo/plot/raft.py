"""Raft charts: the downtime CDFs of the failover study (Figure 16) and server logs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import wilson
from .core import series_color

__all__ = ["downtime_cdf", "raft_logs"]


def _axes(ax, figsize=(8, 4)):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figsize)
    return ax


def downtime_cdf(df: pd.DataFrame, *, by: str | None = None, value: str = "downtime",
                 ax=None, title: str | None = None, log_x: bool = False):
    """Empirical CDF of leader-failover downtime, one line per group, as in Figure 16.

    A trial that never converged (NaN downtime) counts as longer than every measured one,
    so its line stops below 1, at the converged share, drawn there with its 95% Wilson
    interval (also quoted in the legend, which sits to the right of the axes).

    Parameters
    ----------
    df : DataFrame
        Rows of :func:`dsalgo.raft.failover_trials` (seconds), with a ``by`` column to group.
    by : str, optional
        Column naming the group of each row (e.g. the election-timeout range).
    value : str
        The column to draw (seconds; drawn in ms).
    ax : matplotlib Axes, optional
    title : str, optional
    log_x : bool
        Logarithmic time axis.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from dsalgo import plot
    >>> df = pd.DataFrame({"downtime": [0.2, 0.3, float("nan")], "range": ["a", "a", "a"]})
    >>> ax = plot.downtime_cdf(df, by="range")
    >>> ax.get_lines()[0].get_ydata().max().round(3), ax.get_xlabel()
    (np.float64(0.667), 'downtime (ms)')
    """
    if value not in df.columns:
        raise ValueError(f"value must be a column of df; got {value!r} (columns: "
                         f"{', '.join(map(str, df.columns))})")
    if by is not None and by not in df.columns:
        raise ValueError(f"by must be a column of df; got {by!r}")
    ax = _axes(ax)
    groups = [(None, df)] if by is None else list(df.groupby(by, sort=False, observed=True))
    for name, g in groups:
        x = np.sort(g[value].to_numpy(dtype=float))
        total = len(x)
        x = x[~np.isnan(x)] * 1000.0
        if total == 0:
            continue
        y = np.arange(1, len(x) + 1) / total
        label = value if name is None else str(name)
        if len(x) < total:
            low, high = wilson(len(x), total)
            # one decimal: a few failures in a thousand must not round away to "100%"
            label += (f"\n({total - len(x)} of {total} > limit; converged {len(x) / total:.1%},"
                      f"\n95% CI {low:.1%}–{high:.1%})")
        (line,) = ax.step(x, y, where="post", label=label,
                          color=None if name is None else series_color(name, by))
        if len(x) < total and len(x):
            # where the line stops: the converged share, with its Wilson interval
            ax.vlines([x[-1]], low, high, color=line.get_color(), lw=1.5)
            ax.hlines([low, high], x[-1] / 1.04, x[-1] * 1.04, color=line.get_color(), lw=1.5)
    ax.set_xlabel(f"{value} (ms)")
    ax.set_ylabel("cumulative fraction of trials")
    ax.set_ylim(0, 1.02)
    if log_x:
        from matplotlib.ticker import FuncFormatter

        ax.set_xscale("log")
        # plain numbers (200, not 2×10²), minor labels only at 2 and 5 so they never collide
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
    ax.set_title(title or f"CDF of {value}")
    ax.grid(alpha=0.3)
    ax.legend(title=by, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False)
    return ax


def raft_logs(run, *, at: float | None = None, ax=None, title: str | None = None):
    """Draw every server's log at time ``at`` (default: the end), one row per server, one
    cell per entry coloured and labelled by its term, as in Figures 6–8 of the paper.
    Committed entries (as far as some server had committed them by then) are outlined.

    Parameters
    ----------
    run : Run
        A Raft run (only ``run.events`` is used: ``append``, ``truncate``, ``commit``).
    at : float, optional
        Time in seconds.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from dsalgo import raft, plot
    >>> ax = plot.raft_logs(raft.scenarios.figure8(), at=1.5)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['n1', 'n2', 'n3', 'n4', 'n5']
    """
    from matplotlib.patches import Rectangle

    ev = run.events
    t = run.until if at is None else at
    servers = sorted({str(n) for n in ev.loc[ev["kind"] == "append", "node"]},
                     key=lambda s: (len(s), s)) or [n for n in run.nodes if n.startswith("n")]
    logs = {s: [] for s in servers}
    committed: dict = {}  # server -> the commit index it knows (volatile: 0 after a crash)
    sel = ev[(ev["time"] <= t) & ev["kind"].isin(["append", "truncate", "commit", "crash"])]
    for row in sel.itertuples(index=False):
        node = str(row.node)
        if row.kind == "crash":
            committed[node] = 0
            continue
        i = int(row.log_index)
        if row.kind == "append":
            log = logs.setdefault(node, [])
            del log[i - 1:]
            log.append(int(row.entry_term))
        elif row.kind == "truncate":
            del logs.setdefault(node, [])[i - 1:]
        else:
            committed[node] = max(committed.get(node, 0), i)
    ax = _axes(ax, figsize=(8, 0.5 + 0.45 * len(servers)))
    import matplotlib.pyplot as plt
    cmap = plt.get_cmap("tab10")
    width = max([len(v) for v in logs.values()] + [1])
    for r, s in enumerate(servers):
        known = committed.get(s, 0)
        for i, term in enumerate(logs.get(s, [])):
            ax.add_patch(Rectangle((i + 1 - 0.45, r - 0.4), 0.9, 0.8, color=cmap(term % 10),
                                   alpha=0.6, lw=2 if i < known else 0,
                                   ec="black" if i < known else None))
            ax.text(i + 1, r, str(term), ha="center", va="center")
    ax.set_xlim(0.4, width + 0.6)
    ax.set_ylim(len(servers) - 0.5, -0.5)
    ax.set_xticks(range(1, width + 1))
    ax.set_yticks(range(len(servers)), servers)
    ax.set_xlabel("log index")
    ax.set_ylabel("server")
    ax.set_title(title or f"server logs at t = {t * 1000:.0f} ms")
    from matplotlib.patches import Patch
    terms = sorted({x for v in logs.values() for x in v})
    ax.legend(handles=[Patch(color=cmap(x % 10), alpha=0.6, label=f"term {x}") for x in terms],
              loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small",
              title="entry term\n(outlined: known\ncommitted there)", title_fontsize="small")
    return ax
