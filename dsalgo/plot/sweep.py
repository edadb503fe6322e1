"""Charts of sweep results and of throughput over time.

- :func:`sweep_lines` — a metric's mean against a parameter, one line per ``hue`` value,
  with a confidence band across seeds;
- :func:`heatmap` — a metric's mean over two parameters;
- :func:`throughput` — completed operations per second in a sliding window of a history.

Each takes tidy tables and column names, draws on ``ax`` (a new figure when omitted) and
returns the Axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import check_number
from .core import _plain_log, series_color

__all__ = ["heatmap", "rate_lines", "load_sweep", "sweep_lines", "sweep_xy", "throughput"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots()
    return ax


def _need(df, name, column):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame; got {type(df).__name__}")
    if column not in df.columns:
        raise ValueError(f"{name} names column {column!r}, which is not in the table; "
                         f"columns: {', '.join(map(str, df.columns))}")


def sweep_lines(df: pd.DataFrame, x: str, y: str, hue: str | None = None, *, ci: float = 0.95,
                ax=None, hue_label: str | None = None, hue_format: str = "{}"):
    """Mean of ``y`` against ``x``, one line per ``hue`` value, with a CI band across seeds.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy results with several rows (seeds) per point, e.g. from ``dsalgo.sweep``.
    x, y : str
        Columns for the horizontal axis (numeric) and the metric.
    hue : str, optional
        Column whose values get one line each.
    ci : float
        Confidence level of the band (Student t, see :func:`dsalgo.analysis.summarize`).
    ax : matplotlib.axes.Axes, optional
    hue_label : str, optional
        A human title for the legend (e.g. ``"mean one-way latency"``); each line is then
        labelled by its value alone, formatted with ``hue_format``.  Without it the lines
        read ``hue=value``.
    hue_format : str
        Format of a hue value in the legend when ``hue_label`` is given, e.g. ``"{:g} ms"``.

    Returns
    -------
    matplotlib.axes.Axes
        The legend (if any) sits to the right of the axes, off the data.

    Examples
    --------
    >>> df = pd.DataFrame({"n": [3, 3, 5, 5] * 2, "loss": [0.0] * 4 + [0.1] * 4,
    ...                    "seed": [0, 1] * 4, "downtime": [1.0, 1.2, 0.8, 0.9, 2, 2.4, 1.5, 1.7]})
    >>> ax = sweep_lines(df, x="n", y="downtime", hue="loss")
    >>> [line.get_label() for line in ax.get_lines()]
    ['loss=0.0', 'loss=0.1']
    >>> ax = sweep_lines(df, x="n", y="downtime", hue="loss", hue_label="message loss",
    ...                  hue_format="{:.0%}")
    >>> [t.get_text() for t in ax.get_legend().get_texts()], ax.get_legend().get_title().get_text()
    (['0%', '10%'], 'message loss')
    """
    from ..analysis import summarize

    for name, col in (("x", x), ("y", y)) + ((("hue", hue),) if hue is not None else ()):
        _need(df, name, col)
    ax = _axes(ax)
    by = [x] if hue is None else [hue, x]
    summary = summarize(df, by=by, metrics=[y], ci=ci)
    groups = [(None, summary)] if hue is None else summary.groupby(hue, sort=True)
    for value, part in groups:
        part = part.sort_values(x)
        if hue is None:
            label = y
        elif hue_label is not None:
            label = hue_format.format(value)
        else:
            label = f"{hue}={value}"
        color = None if hue is None else series_color(value, hue)
        (line,) = ax.plot(part[x], part["mean"], marker="o", label=label, color=color)
        ax.fill_between(part[x], part["ci_low"], part["ci_high"], color=line.get_color(),
                        alpha=0.2, linewidth=0)
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (mean, {ci:.0%} CI)")
    if hue is not None:
        ax.legend(title=hue_label, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  fontsize="small", frameon=False)
    return ax


def _err(wide, metric, mean):
    """Error-bar lengths (below, above) of ``metric`` from a pivoted summary."""
    low = mean - wide[("ci_low", metric)].to_numpy()
    high = wide[("ci_high", metric)].to_numpy() - mean
    return np.nan_to_num(np.vstack([low, high]), nan=0.0)


def sweep_xy(df: pd.DataFrame, x: str, y: str, point: str, hue: str | None = None, *,
             ci: float = 0.95, ax=None, hue_label: str | None = None,
             hue_format: str = "{}", **line_kw):
    """Two measured metrics against each other, one line per ``hue`` value: at each
    ``point`` of the sweep the mean of ``x`` and of ``y`` over seeds, with confidence
    intervals as error bars in both directions.

    For curves whose abscissa is itself measured, e.g. latency against *achieved*
    throughput over a sweep of offered load (``point="offered"``).

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy results with several rows (seeds) per point.
    x, y : str
        The two metrics.
    point : str
        The swept column that identifies a point of a line.
    hue : str, optional
        Column whose values get one line each.
    ci : float
        Confidence level of the error bars (Student t, :func:`dsalgo.analysis.summarize`).
    ax : matplotlib.axes.Axes, optional
    hue_label, hue_format : str
        As in :func:`sweep_lines`.
    **line_kw
        Passed to ``Axes.errorbar`` (e.g. ``ls="--"``, ``color=…``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> df = pd.DataFrame({"rate": [1, 1, 2, 2], "seed": [0, 1, 0, 1],
    ...                    "tput": [0.9, 1.1, 1.8, 2.0], "lat": [1.0, 1.2, 2.0, 2.6]})
    >>> ax = sweep_xy(df, x="tput", y="lat", point="rate")
    >>> [round(float(v), 2) for v in ax.get_lines()[0].get_xdata()]
    [1.0, 1.9]
    """
    from ..analysis import summarize

    for name, col in (("x", x), ("y", y), ("point", point)) + (
            (("hue", hue),) if hue is not None else ()):
        _need(df, name, col)
    ax = _axes(ax)
    by = [point] if hue is None else [hue, point]
    summary = summarize(df, by=by, metrics=[x, y], ci=ci)
    wide = summary.pivot_table(index=by, columns="metric",
                               values=["mean", "ci_low", "ci_high"], sort=True,
                               dropna=False)
    groups = [(None, wide)] if hue is None else wide.groupby(level=0, sort=True)
    for value, part in groups:
        if hue is None:
            label = None
        elif hue_label is not None:
            label = hue_format.format(value)
        else:
            label = f"{hue}={value}"
        mx, my = part[("mean", x)].to_numpy(), part[("mean", y)].to_numpy()

        kw = {"marker": "o", "ms": 3, "capsize": 2, "label": label,
              **({} if hue is None else {"color": series_color(value, hue)}), **line_kw}
        ax.errorbar(mx, my, xerr=_err(part, x, mx), yerr=_err(part, y, my), **kw)
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (mean, {ci:.0%} CI)")
    if hue is not None:
        ax.legend(title=hue_label, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  fontsize="small", frameon=False)
    return ax


def load_sweep(df: pd.DataFrame, *, axes=None, hue: str = "n", ci: float = 0.95,
               title: str = ""):
    """An offered-load sweep of :func:`dsalgo.raft.throughput.load_point` rows on four
    panels: a row without batching and a row with it (``max_batch``); on the left
    achieved against offered throughput, on the right mean and 99th-percentile latency
    against achieved throughput (the "hockey stick"); means over seeds with ``ci``
    intervals, and the leader model dashed (its capacity, and without batching its mean
    latency below the knee).

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        The 2 × 2 panels (one row when the sweep has no batched or no unbatched points).

    Examples
    --------
    >>> from dsalgo.raft import throughput
    >>> rows = [{"n": 3, "max_batch": b, "utilisation": u, "seed": 0,
    ...          **throughput.load_point("raft", 3, u, max_batch=b, duration=1.2,
    ...                                  warmup=0.6)}
    ...         for b in (None, 8) for u in (0.3, 0.6)]
    >>> load_sweep(pd.DataFrame(rows)).shape
    (2, 2)
    """
    import matplotlib.pyplot as plt

    for col in ("max_batch", "utilisation", "offered", "throughput", "latency", "p99",
                "model_throughput", "model_latency", "capacity", hue):
        _need(df, "df", col)
    batched = df["max_batch"].notna()
    parts = [(label, part) for label, part in (("a round per command", df[~batched]),
                                                ("batching", df[batched])) if len(part)]
    if axes is None:
        _, axes = plt.subplots(len(parts), 2, figsize=(13, 4.2 * len(parts)), squeeze=False)
    axes = np.atleast_2d(axes)
    ms = 1000.0
    for (label, part), (a_tput, a_lat) in zip(parts, axes):
        part = part.assign(latency_ms=part["latency"] * ms, p99_ms=part["p99"] * ms)
        sizes = sorted(part[hue].unique())
        colors = {v: series_color(v, hue) for v in sizes}   # as on every chart
        for v in sizes:
            one = part[part[hue] == v]
            c = colors[v]
            sweep_xy(one, x="offered", y="throughput", point="utilisation", ax=a_tput,
                     ci=ci, color=c, label=f"{hue} = {v}")
            sweep_xy(one, x="throughput", y="latency_ms", point="utilisation", ax=a_lat,
                     ci=ci, color=c, label=f"{hue} = {v}, mean")
            sweep_xy(one, x="throughput", y="p99_ms", point="utilisation", ax=a_lat,
                     ci=ci, color=c, ls=":", alpha=0.7, label=f"{hue} = {v}, p99")
            model = one.groupby("utilisation", sort=True)[
                ["offered", "model_throughput", "model_latency", "capacity"]].first()
            cap = "capacity_batched" if label == "batching" else "capacity"
            a_tput.axhline(one[cap].iloc[0], color=c, ls="--", lw=1, alpha=0.6)
            if label != "batching":
                a_tput.plot(model["offered"], model["model_throughput"], color=c, ls="--",
                            lw=1)
                ok = model["model_latency"].notna()
                a_lat.plot(model.loc[ok, "model_throughput"],
                           model.loc[ok, "model_latency"] * ms, color=c, ls="--", lw=1.5,
                           label=f"{hue} = {v}, model (M/G/1)")
        a_tput.set(xlabel="offered load (commands/s)", ylabel="achieved (commands/s)",
                   title=f"{title}{label}:\nachieved against offered (dashed: model)")
        a_lat.set(xlabel="achieved throughput (commands/s)", yscale="log",
                  ylabel="commit latency (ms, log)",
                  title=f"{title}{label}:\nlatency against throughput")
        _plain_log(a_lat)   # 2, 5, 10, 20 on the ticks, not 2×10⁰
        for a in (a_tput, a_lat):
            a.grid(alpha=0.3)
        a_tput.legend(fontsize="small", frameon=False, loc="upper left")
        a_lat.legend(fontsize="x-small", frameon=False, loc="upper left",
                     bbox_to_anchor=(1.01, 1.0))
    return axes


def heatmap(df: pd.DataFrame, x: str, y: str, value: str, *, ax=None, cmap="viridis",
            annotate: bool = True):
    """Mean of ``value`` over seeds for every (``x``, ``y``) pair, as coloured cells.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy results.
    x, y : str
        Columns for the horizontal and vertical axes (any values; sorted).
    value : str
        The metric to colour by.
    ax : matplotlib.axes.Axes, optional
    cmap : str
        Matplotlib colour map.
    annotate : bool
        Write each cell's mean in it.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> df = pd.DataFrame({"n": [3, 5, 3, 5], "loss": [0.0, 0.0, 0.1, 0.1],
    ...                    "availability": [0.99, 0.999, 0.95, 0.99]})
    >>> ax = heatmap(df, x="n", y="loss", value="availability")
    >>> [t.get_text() for t in ax.get_xticklabels()], len(ax.texts)
    (['3', '5'], 4)
    """
    for name, col in (("x", x), ("y", y), ("value", value)):
        _need(df, name, col)
    if not pd.api.types.is_numeric_dtype(df[value]):
        raise TypeError(f"value column {value!r} must be numeric; it has dtype {df[value].dtype}")
    ax = _axes(ax)
    table = df.pivot_table(index=y, columns=x, values=value, aggfunc="mean", observed=True)
    mesh = ax.imshow(table.to_numpy(dtype=float), cmap=cmap, aspect="auto", origin="lower")
    ax.set_xticks(range(table.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v)
                                          for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v)
                                          for v in table.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.figure.colorbar(mesh, ax=ax, label=f"{value} (mean)")
    if annotate:
        lo, hi = np.nanmin(table.to_numpy()), np.nanmax(table.to_numpy())
        for (i, j), v in np.ndenumerate(table.to_numpy(dtype=float)):
            if not np.isnan(v):
                dark = hi > lo and (v - lo) / (hi - lo) < 0.5
                ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
    return ax


def throughput(history: pd.DataFrame, window: float, *, ax=None, status="ok"):
    """Completed operations per second over time, counted in windows of ``window`` s.

    Parameters
    ----------
    history : pandas.DataFrame
        A ``run.history`` table (columns ``t_complete`` and ``status`` at least).
    window : float
        Width of each counting window in seconds (> 0).
    ax : matplotlib.axes.Axes, optional
    status : str or None
        Count only operations with this status (``None``: every completed operation).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> h = pd.DataFrame({"t_complete": [0.1, 0.2, 0.3, 1.2, float("nan")],
    ...                   "status": ["ok", "ok", "fail", "ok", "info"]})
    >>> ax = throughput(h, window=0.5)
    >>> ax.get_lines()[0].get_ydata().tolist()
    [4.0, 0.0, 2.0, 2.0]
    """
    for col in ("t_complete", "status"):
        if not isinstance(history, pd.DataFrame) or col not in history.columns:
            raise ValueError(f"history must be a run.history table with column {col!r}")
    window = check_number("window", window, low=0.0, low_open=True)
    ax = _axes(ax)
    done = history[history["t_complete"].notna()]
    if status is not None:
        done = done[done["status"] == status]
    t = done["t_complete"].to_numpy(dtype=float)
    end = window * max(1, int(np.ceil(t.max() / window))) if len(t) else window
    edges = np.arange(0.0, end + window / 2, window)
    counts, _ = np.histogram(t, bins=edges)
    rates = counts / window
    # steps-post draws each value up to the next edge: repeat the last so it has a width
    ax.plot(edges, np.append(rates, rates[-1]), drawstyle="steps-post",
            label=f"{status or 'all'} ops/s")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"throughput (ops/s, {window:g} s window)")
    return ax


def rate_lines(table, x: str, hue: str | None = None, *, ax=None, xlabel=None,
               ylabel="fraction of runs", title=None, hue_label=None):
    """Rates with their confidence intervals as lines with error bars, legend off the data.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`dsalgo.analysis.proportions` (columns ``rate``, ``ci_low``, ``ci_high``,
        ``runs``) or any table with those columns.
    x : str
        Column on the horizontal axis.
    hue : str, optional
        Column with one line per value.
    ax : matplotlib Axes, optional
    xlabel, ylabel, title, hue_label : str, optional
        Human labels (``x`` and ``hue`` are used when omitted).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from dsalgo.analysis import proportions
    >>> df = pd.DataFrame({"pause": [0, 0, 1, 1], "lock": ["a", "b"] * 2, "bad": [0, 0, 1, 0]})
    >>> ax = rate_lines(proportions(df, ["pause", "lock"], "bad"), "pause", "lock")
    >>> len(ax.get_legend().get_texts())
    2
    """
    import matplotlib.pyplot as plt

    for col in (x, "rate", "ci_low", "ci_high", "runs") + ((hue,) if hue else ()):
        if col not in table.columns:
            raise ValueError(f"table must have a column {col!r}; it has {list(table.columns)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    groups = list(table.groupby(hue, sort=False)) if hue else [(None, table)]
    markers = "os^Dvx*P"
    # lines that coincide (often all at 0) stay visible: each hue is nudged sideways
    span = float(table[x].max() - table[x].min()) or 1.0
    for i, (name, g) in enumerate(groups):
        g = g.sort_values(x)
        dodge = (i - (len(groups) - 1) / 2) * 0.008 * span
        err = [(g["rate"] - g["ci_low"]).clip(lower=0), (g["ci_high"] - g["rate"]).clip(lower=0)]
        ax.errorbar(g[x] + dodge, g["rate"], yerr=err, marker=markers[i % len(markers)], ms=5,
                    capsize=3, lw=1.5, label=str(name) if name is not None else None,
                    color=None if name is None else series_color(name, hue))
    runs = table["runs"]
    ci_note = (f"{int(runs.min())} runs per point" if runs.min() == runs.max()
               else f"{int(runs.min())}–{int(runs.max())} runs per point")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(f"{ylabel}\n(95% Wilson interval, {ci_note})")
    if title:
        ax.set_title(title)
    if hue:
        ax.legend(title=hue_label or hue, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  frameon=False)
    return ax
