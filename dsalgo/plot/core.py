"""Charts of any run: the space-time (Lamport) diagram and latency distributions.

Every function takes ``ax=None`` (a new figure when omitted) and returns the Axes.  Times
are seconds in the tables and milliseconds on the axes, where people read them best.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["spacetime", "latency_hist", "latency_cdf", "latencies", "message_color",
           "message_family", "node_color"]

_FAULT_STYLE = {
    "crash": dict(color="0.35", alpha=0.35, label="crashed"),
    "pause": dict(color="tab:orange", alpha=0.35, label="paused"),
}


def _axes(ax, figsize=(10, 4)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def spacetime(run, *, ax=None, nodes=None, types=None, time_range=None, max_messages=600,
              events=None, show_dropped=True):
    """Draw a space-time (Lamport) diagram of ``run.messages``.

    One horizontal line per node, time to the right; each delivered message is an arrow
    from (send time, sender) to (delivery time, receiver), coloured by message type; a
    dropped message is a dashed stub ending in a cross.  Crashes and pauses are shaded on
    the node's line, partitions across the whole chart.

    Parameters
    ----------
    run : Run
        A simulation result (or anything with ``messages``, ``faults``, ``events`` and
        ``nodes``).
    ax : matplotlib Axes, optional
    nodes : list of str, optional
        Which nodes to draw, top to bottom (default: every node in the run).
    types : list of str, optional
        Only these message types.
    time_range : (float, float), optional
        Seconds to show; default the whole run.
    max_messages : int
        Draw at most this many messages (the earliest in the window), so that a long run
        stays readable; the title says when some were left out.
    events : list of str, optional
        Event kinds from ``run.events`` to mark with a labelled dot (e.g. ``["leader_elected"]``).
    show_dropped : bool
        Draw dropped messages.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from dsalgo import sim, plot
    >>> class Ping(sim.Node):
    ...     def on_start(self, ctx):
    ...         ctx.send("n2" if ctx.id == "n1" else "n1", "ping")
    >>> s = sim.Simulation(seed=0)
    >>> for n in ("n1", "n2"): s.add_node(n, Ping)
    >>> ax = plot.spacetime(s.run(until=1.0))
    >>> ax.get_xlabel()
    'time (ms)'
    """
    ax = _axes(ax)
    m = run.messages
    order = list(nodes) if nodes is not None else list(run.nodes) or sorted(
        set(m["src"]) | set(m["dst"]))
    y = {n: i for i, n in enumerate(order)}
    t0, t1 = time_range if time_range is not None else (0.0, max(run.until, 1e-9))
    sel = m[m["src"].isin(order) & m["dst"].isin(order) & (m["t_send"] >= t0) & (m["t_send"] <= t1)]
    if types is not None:
        sel = sel[sel["type"].isin(types)]
    if not show_dropped:
        sel = sel[sel["status"] == "delivered"]
    total = len(sel)
    sel = sel.head(max_messages)
    ms = 1000.0
    for i in y.values():
        ax.axhline(i, color="0.8", lw=1, zorder=0)
    _shade_faults(ax, run.faults, y, t0, t1)
    kinds = [str(k) for k in pd.unique(sel["type"].astype(str))]
    # one colour per message type for the whole process (every diagram of a notebook);
    # more than ten types: one colour per family (a request and its replies)
    grouped = len(kinds) > GROUP_ABOVE
    color = {k: message_color(message_family(k) if grouped else k) for k in kinds}
    labelled = set()
    for k in kinds:
        part = sel[sel["type"].astype(str) == k]
        ok = part[part["status"] == "delivered"]
        xs, ys = ok["t_send"].to_numpy() * ms, ok["src"].map(y).to_numpy(dtype=float)
        xe, ye = ok["t_deliver"].to_numpy() * ms, ok["dst"].map(y).to_numpy(dtype=float)
        for a, b, c, d in zip(xs, ys, xe, ye):
            ax.annotate("", xy=(c, d), xytext=(a, b),
                        arrowprops=dict(arrowstyle="-|>", color=color[k], lw=0.9, alpha=0.85,
                                        shrinkA=0, shrinkB=0))
        label = message_family(k) + " (family)" if grouped else k
        if label not in labelled:
            labelled.add(label)
            ax.plot([], [], color=color[k], label=label)
        lost = part[part["status"] != "delivered"]
        if len(lost):
            xs = lost["t_send"].to_numpy() * ms
            ys = lost["src"].map(y).to_numpy(dtype=float)
            yd = lost["dst"].map(y).to_numpy(dtype=float)
            stub = (t1 - t0) * ms * 0.01
            for a, b, d in zip(xs, ys, yd):
                mid_y = b + (d - b) * 0.35
                ax.plot([a, a + stub], [b, mid_y], ls="--", color=color[k], lw=0.9, alpha=0.8)
                ax.plot([a + stub], [mid_y], marker="x", color=color[k], ms=5)
    if len(sel) and (sel["status"] != "delivered").any():
        ax.plot([], [], ls="--", marker="x", color="0.3", label="dropped")
    if events:
        ev = run.events[run.events["kind"].isin(events) & run.events["node"].isin(order)]
        ev = ev[(ev["time"] >= t0) & (ev["time"] <= t1)]
        for kind, grp in ev.groupby("kind", observed=True):
            ax.scatter(grp["time"] * ms, grp["node"].map(y).astype(float), s=60, marker="*",
                       zorder=5, label=str(kind), edgecolor="k", linewidth=0.5)
    ax.set_yticks(range(len(order)), order)
    # each node's name in its own colour, the same in every diagram of the process
    for tick, name in zip(ax.get_yticklabels(), order):
        tick.set_color(node_color(name))
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlim(t0 * ms, t1 * ms)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("node")
    shown = f" (first {len(sel)} of {total} messages)" if total > len(sel) else ""
    ax.set_title(f"Space-time diagram{shown}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax


def _colors(k):
    import matplotlib.pyplot as plt

    base = plt.get_cmap("tab10").colors
    return [base[i % len(base)] for i in range(k)]


GROUP_ABOVE = 10     # message types shown one colour each up to this many in a diagram
_REPLY = ("Reply", "Response", "Resp", "Ok", "OK", "Ack", "Nack", "Result", "Fail", "Failed",
          "Rejected", "Done", "Granted", "Denied", "Vote", "Votes", "Accepted", "Promise")
_ASSIGNED: dict = {}


def message_family(name: str) -> str:
    """The family of a message type: its name without a reply-like suffix.

    ``AppendEntriesReply`` and ``AppendEntries`` are one family; ``RequestVote`` and
    ``RequestVoteReply`` another.  Used to group the legend of a diagram with many types.

    Examples
    --------
    >>> [message_family(t) for t in ("AppendEntries", "AppendEntriesReply", "LockOk", "Ping")]
    ['AppendEntries', 'AppendEntries', 'Lock', 'Ping']
    """
    name = str(name)
    for suffix in sorted(_REPLY, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def message_color(name: str):
    """The colour of message type (or family) ``name``: the same in every diagram of a process.

    Colours are handed out in order of first use from a palette of twenty distinct colours
    (the ten of ``tab10``, then their light variants), so the diagrams of one notebook agree.

    Examples
    --------
    >>> message_color("Ping") == message_color("Ping")
    True
    """
    import matplotlib.pyplot as plt

    name = str(name)
    if name not in _ASSIGNED:
        tab20 = plt.get_cmap("tab20").colors
        palette = tab20[0::2] + tab20[1::2]
        _ASSIGNED[name] = palette[len(_ASSIGNED) % len(palette)]
    return _ASSIGNED[name]


_NODE_ASSIGNED: dict = {}


def node_color(name: str):
    """The colour of node ``name``: the same in every diagram of a process.

    Handed out in order of first use from the dark ``Dark2`` palette (kept apart from the
    message-type colours), so a node reads the same on a notebook's space-time diagrams,
    lock timelines and per-node charts.

    Examples
    --------
    >>> node_color("n1") == node_color("n1"), node_color("n1") == node_color("n2")
    (True, False)
    """
    import matplotlib.pyplot as plt

    name = str(name)
    if name not in _NODE_ASSIGNED:
        base = plt.get_cmap("Dark2").colors
        _NODE_ASSIGNED[name] = base[len(_NODE_ASSIGNED) % len(base)]
    return _NODE_ASSIGNED[name]


def _plain_log(ax):
    """Log scale with plain numbers (2, 5, 10, 20) rather than 2x10^0 on the ticks."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    ax.set_yscale("log")
    fmt = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(fmt)
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


_SERIES_ASSIGNED: dict = {}


def series_color(value, group: str | None = None):
    """The colour of the series ``value`` of ``group`` (e.g. policy ``"jsq"``, algorithm
    ``"saga"``, timeout range ``"150–300 ms"``): the same on every chart of a process.

    The charts that draw one line per ``hue`` or ``by`` value take their colours from here,
    keyed by the column's name and the value, so a policy keeps its colour from one chart of
    a notebook to the next even when a chart shows only some of the policies.  Each group's
    values get ``tab10``'s colours in order of first use (then ``tab20``'s light ones).
    Node colours (:func:`node_color`) and message colours (:func:`message_color`) are
    separate palettes.

    Parameters
    ----------
    value : object
        The series (compared as text).
    group : str, optional
        What the value is of, usually the column's name; values of different groups are
        coloured independently.

    Returns
    -------
    tuple of float
        An RGB colour.

    Examples
    --------
    >>> a = series_color("jsq", "policy"); b = series_color("random", "policy")
    >>> a == series_color("jsq", "policy"), a == b
    (True, False)
    """
    import matplotlib.pyplot as plt

    assigned = _SERIES_ASSIGNED.setdefault(None if group is None else str(group), {})
    if isinstance(value, float) and value.is_integer():
        value = int(value)      # 3 and 3.0 (an int column made float) are one series
    key = str(value)
    if key not in assigned:
        tab20 = plt.get_cmap("tab20").colors
        palette = plt.get_cmap("tab10").colors + tab20[1::2]
        assigned[key] = palette[len(assigned) % len(palette)]
    return assigned[key]


def _shade_faults(ax, faults, y, t0, t1):
    ms = 1000.0
    labelled = set()
    for f in faults.itertuples(index=False):
        start = max(f.t_start, t0)
        end = t1 if pd.isna(f.t_end) else min(f.t_end, t1)
        if end < start:
            continue
        kind = str(f.kind)
        if kind in _FAULT_STYLE and f.target in y:
            style = dict(_FAULT_STYLE[kind])
            label = style.pop("label")
            i = y[f.target]
            ax.fill_between([start * ms, end * ms], i - 0.3, i + 0.3, lw=0,
                            label=None if label in labelled else label, **style)
            labelled.add(label)
        elif kind == "partition":
            ax.axvspan(start * ms, end * ms, color="tab:red", alpha=0.08, lw=0,
                       label=None if "partitioned" in labelled else "partitioned")
            labelled.add("partitioned")
        elif kind == "clock_jump" and f.target in y:
            ax.plot([start * ms], [y[f.target]], marker="|", ms=18, color="tab:purple",
                    label=None if "clock jump" in labelled else "clock jump")
            labelled.add("clock jump")


def latencies(table: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Latency in seconds of each delivered message or completed operation.

    For ``run.messages``: ``t_deliver - t_send`` of delivered copies.  For ``run.history``:
    ``t_complete - t_invoke`` of operations with status ok.  Returns a tidy frame with a
    ``latency`` column (seconds) and the ``by`` column if given.

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"t_invoke": [0.0, 1.0], "t_complete": [0.5, 1.25],
    ...                   "status": ["ok", "ok"], "f": ["get", "put"]})
    >>> latencies(h, by="f")["latency"].tolist()
    [0.5, 0.25]
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be run.messages or run.history (a DataFrame); got {type(table).__name__}")
    if {"t_send", "t_deliver"} <= set(table.columns):
        ok = table[table["status"] == "delivered"]
        lat = ok["t_deliver"] - ok["t_send"]
    elif {"t_invoke", "t_complete"} <= set(table.columns):
        ok = table[table["status"] == "ok"] if "status" in table.columns else table
        lat = ok["t_complete"] - ok["t_invoke"]
    else:
        raise ValueError("table must have t_send/t_deliver (run.messages) or t_invoke/t_complete "
                         f"(run.history) columns; got {list(table.columns)}")
    out = pd.DataFrame({"latency": lat.to_numpy(dtype=float)})
    if by is not None:
        if by not in table.columns:
            raise ValueError(f"by must be a column of the table; got {by!r}, columns are "
                             f"{list(table.columns)}")
        out[by] = ok[by].astype(str).to_numpy()
    return out


def latency_hist(table: pd.DataFrame, *, by: str | None = None, bins: int = 50, ax=None,
                 log: bool = False):
    """Histogram of latencies (ms) of ``run.messages`` or ``run.history``, one per ``by`` group.

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"t_invoke": [0.0, 1.0, 2.0], "t_complete": [0.01, 1.02, 2.03],
    ...                   "status": ["ok"] * 3})
    >>> latency_hist(h).get_xlabel()
    'latency (ms)'
    """
    ax = _axes(ax, (7, 4))
    lat = latencies(table, by)
    groups = [("all", lat)] if by is None else list(lat.groupby(by))
    data = lat["latency"].to_numpy() * 1000
    edges = (np.geomspace(max(data[data > 0].min(), 1e-6), data.max(), bins + 1)
             if log and len(data) and (data > 0).any() else bins)
    for name, g in groups:
        ax.hist(g["latency"].to_numpy() * 1000, bins=edges, alpha=0.6 if by else 0.9,
                label=f"{name} (n={len(g)})")
    if log:
        ax.set_xscale("log")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("count")
    ax.set_title(_title(table, "Latency histogram"))
    ax.legend(title=by, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              frameon=False)
    return ax


def latency_cdf(table: pd.DataFrame, *, by: str | None = None, ax=None, log: bool = False,
                percentiles=(50, 99)):
    """Empirical CDF of latencies (ms), one curve per ``by`` group, with percentiles marked.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"t_send": [0.0, 0.0], "t_deliver": [0.001, 0.003],
    ...                   "status": ["delivered", "delivered"], "type": ["A", "B"]})
    >>> latency_cdf(m, by="type").get_ylabel()
    'fraction ≤ latency'
    """
    ax = _axes(ax, (7, 4))
    lat = latencies(table, by)
    groups = [("all", lat)] if by is None else list(lat.groupby(by))
    for name, g in groups:
        x = np.sort(g["latency"].to_numpy()) * 1000
        if not len(x):
            continue
        yv = np.arange(1, len(x) + 1) / len(x)
        # the percentile values go in the legend, so labels never overlap on the chart
        values = {p: np.percentile(x, p) for p in percentiles}
        marks = ", ".join(f"p{p} {v:.3g} ms" for p, v in values.items())
        color = (None if by is None else message_color(name) if by == "type"
                 else series_color(name, by))
        line, = ax.step(x, yv, where="post", label=f"{name} (n={len(x)}; {marks})",
                        color=color)
        for p, v in values.items():
            ax.plot([v], [p / 100], marker="o", color=line.get_color(), ms=4)
    for p in percentiles:
        ax.axhline(p / 100, color="0.7", lw=0.6, ls=":", zorder=0)
        ax.annotate(f"p{p}", (0, p / 100), xycoords=("axes fraction", "data"),
                    xytext=(2, 2), textcoords="offset points", fontsize="x-small", color="0.4")
    if log:
        ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("fraction ≤ latency")
    ax.set_title(_title(table, "Latency CDF"))
    ax.legend(title=by, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              frameon=False)
    return ax


def _title(table, what):
    kind = "message delivery" if "t_send" in table.columns else "operation"
    return f"{what} ({kind})"
