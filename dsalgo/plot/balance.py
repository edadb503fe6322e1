"""Charts of load balancing: tail latency against load, queue tails, key movement, spread.

Every function takes tidy long-form DataFrames (as :mod:`dsalgo.balance` metrics and
sweeps produce them) and ``ax=None``, and returns the Axes.  Latencies are seconds in the
tables; ``unit="ms"`` shows them in milliseconds.  Legends sit beside the axes, off the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import check_choice
from .core import _plain_log, series_color

__all__ = [
    "key_movement",
    "latency_vs_utilization",
    "load_spread",
    "queue_length_tail",
    "theory_check",
]

_SCALE = {"s": 1.0, "ms": 1e3}


_THEORY_STYLES = ["--", ":", "-.", (0, (5, 1)), (0, (1, 3))]
_MARKERS = ["o", "s", "^", "v", "D", "P", "X", "*", "h", "<", ">"]


def _axes(ax, figsize=(7, 4.5)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def _need(data, cols, name="data"):
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(data).__name__}")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"{name} must have the columns {', '.join(cols)}; missing "
                         f"{', '.join(missing)}")


def latency_vs_utilization(data, *, x="utilization", y="latency", hue="policy", ax=None,
                           unit="s", logy=True, theory=None, title=None):
    """Latency (e.g. p99) against utilisation, one line per policy.

    Parameters
    ----------
    data : pandas.DataFrame
        Long form with columns ``x``, ``y`` and ``hue``; optional ``low`` / ``high`` columns
        draw a confidence band.
    x, y, hue : str
        Column names.
    unit : {"s", "ms"}
        Unit of the latency axis.
    logy : bool
        Log-scale latency axis (tails span decades near saturation).
    theory : dict of str to (x values, y values), optional
        Reference curves (seconds) drawn dashed, e.g. ``{"M/M/1": (rho, p99)}``.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"utilization": [0.5, 0.9] * 2, "latency": [9.2, 46.1, 4.1, 9.8],
    ...                    "policy": ["random"] * 2 + ["jsq"] * 2})
    >>> ax = latency_vs_utilization(df, title="p99")
    >>> ax.get_ylabel(), [t.get_text() for t in ax.get_legend().get_texts()]
    ('latency (s)', ['random', 'jsq'])
    """
    _need(data, [x, y, hue])
    check_choice("unit", unit, _SCALE)
    k = _SCALE[unit]
    ax = _axes(ax)
    # distinct markers too: policies that decide alike (e.g. JSQ and least-outstanding with
    # one balancer and fresh reports) draw on top of each other and stay tellable apart
    for j, (name, g) in enumerate(data.groupby(hue, sort=False, observed=True)):
        g = g.sort_values(x)
        (line,) = ax.plot(g[x], g[y] * k, marker=_MARKERS[j % len(_MARKERS)], ms=5,
                          mfc="none" if j % 2 else None, color=series_color(name, hue),
                          label=str(name))
        if "low" in g and "high" in g:
            ax.fill_between(g[x], g["low"] * k, g["high"] * k, color=line.get_color(),
                            alpha=0.15, lw=0)
    styles = iter(_THEORY_STYLES)
    for label, (tx, ty) in (theory or {}).items():
        ax.plot(tx, np.asarray(ty) * k, ls=next(styles, "--"), color="0.2", lw=1.2,
                label=f"{label} (theory)")
    if logy:
        _plain_log(ax)
    ax.set_xlabel("utilization ρ" if x == "utilization" else x)
    ax.set_ylabel(f"{y} ({unit})")
    ax.set_title(title or f"{y} against {x}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(alpha=0.3, which="both")
    return ax


def queue_length_tail(data, *, hue=None, theory=None, ax=None, title=None):
    """Fraction of queues holding at least ``i`` requests (log scale), with theory curves.

    Parameters
    ----------
    data : pandas.DataFrame
        Columns ``i``, ``fraction`` (as :func:`dsalgo.balance.queue_tail` returns) and
        optionally ``hue`` for several runs.
    hue : str, optional
        Column telling runs apart.
    theory : dict of str to (i values, fractions), optional
        Reference curves drawn dashed, e.g. the supermarket model.
    title : str, optional

    Examples
    --------
    >>> import pandas as pd
    >>> from dsalgo import balance
    >>> i = list(range(5))
    >>> df = pd.DataFrame({"i": i, "fraction": balance.mm1_queue_tail(i, 0.9)})
    >>> ax = queue_length_tail(df, theory={"d = 2": (i, balance.supermarket_tail(i, 0.9))})
    >>> ax.get_yscale(), ax.get_xlabel()
    ('log', 'queue length i (requests)')
    """
    _need(data, ["i", "fraction"] + ([hue] if hue else []))
    ax = _axes(ax)
    groups = [(None, data)] if hue is None else data.groupby(hue, sort=False, observed=True)
    for name, g in groups:
        g = g[g["fraction"] > 0]
        ax.plot(g["i"], g["fraction"], marker="o", ms=4, label="simulated" if name is None
                else str(name), color=None if name is None else series_color(name, hue))
    styles = iter(_THEORY_STYLES)
    for label, (ti, tf) in (theory or {}).items():
        tf = np.asarray(tf, dtype=float)
        ti = np.asarray(ti)
        keep = tf > 0
        ax.plot(ti[keep], tf[keep], ls=next(styles, "--"), color="0.2", lw=1.2,
                label=f"{label} (theory)")
    ax.set_yscale("log")
    ax.set_xlabel("queue length i (requests)")
    ax.set_ylabel("fraction of queues with ≥ i")
    ax.set_title(title or "queue-length tail")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(alpha=0.3, which="both")
    return ax


def key_movement(data, *, x="n", y="moved", hue=None, theory=None, ax=None, title=None):
    """Fraction of keys that change backend, against cluster size.

    Parameters
    ----------
    data : pandas.DataFrame
        Columns ``x`` (backends before the change), ``y`` (fraction moved) and optionally
        ``hue``, ``low``, ``high`` (a confidence interval drawn as error bars).
    theory : dict of str to (x values, fractions), optional
        E.g. ``{"1/(n+1)": (n, balance.expected_key_movement(n))}``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"n": [2, 4, 8], "moved": [0.34, 0.2, 0.11]})
    >>> key_movement(df).get_ylabel()
    'fraction of keys moved'
    """
    _need(data, [x, y] + ([hue] if hue else []))
    ax = _axes(ax)
    groups = [(None, data)] if hue is None else data.groupby(hue, sort=False, observed=True)
    for name, g in groups:
        g = g.sort_values(x)
        err = None
        if "low" in g and "high" in g:
            err = np.vstack([g[y] - g["low"], g["high"] - g[y]])
        ax.errorbar(g[x], g[y], yerr=err, marker="o", ms=4, capsize=3,
                    label="simulated" if name is None else str(name),
                    color=None if name is None else series_color(name, hue))
    for label, (tx, ty) in (theory or {}).items():
        ax.plot(tx, ty, ls="--", color="0.2", lw=1.2, label=f"{label} (theory)")
    ax.set_xlabel("backends before the change" if x == "n" else x)
    ax.set_ylabel("fraction of keys moved")
    ax.set_title(title or "keys moved when the cluster changes")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(alpha=0.3)
    return ax


def load_spread(data, *, x="label", y="load", ax=None, title=None, ylabel=None):
    """Spread of per-backend load for several configurations (one strip + box each).

    Parameters
    ----------
    data : pandas.DataFrame
        Long form: one row per (configuration ``x``, backend) with its load ``y``
        (e.g. requests served relative to the mean).
    ylabel : str, optional
        Axis label (say the unit: requests, or load relative to the mean).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"label": ["a"] * 3 + ["b"] * 3, "load": [1, 1.2, 0.8, 1, 1, 1]})
    >>> ax = load_spread(df, ylabel="load / mean")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['a', 'b']
    """
    _need(data, [x, y])
    ax = _axes(ax)
    labels = list(pd.unique(data[x]))
    values = [data.loc[data[x] == lab, y].to_numpy(float) for lab in labels]
    ax.boxplot(values, positions=range(len(labels)), widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)
    for k, v in enumerate(values):
        ax.scatter(k + rng.uniform(-0.15, 0.15, len(v)), v, s=10, alpha=0.6, color="C0",
                   label="one backend" if k == 0 else None)
    ax.set_xticks(range(len(labels)), [str(lab) for lab in labels])
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("configuration")
    ax.set_ylabel(ylabel or y)
    ax.set_title(title or "load per backend")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(alpha=0.3, axis="y")
    return ax


def theory_check(data, *, x, measured="measured", theory="theory", hue=None, ax=None,
                 title=None, ylabel=None, xlabel=None):
    """Simulated values with confidence intervals against closed-form theory, on one chart.

    Parameters
    ----------
    data : pandas.DataFrame
        Columns ``x``, ``measured``, ``theory`` and optionally ``low``, ``high`` (the
        interval around ``measured``) and ``hue`` (one colour per quantity).
    x, measured, theory, hue : str
        Column names.
    ylabel, xlabel, title : str, optional

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"rho": [0.5, 0.7], "measured": [0.18, 0.42], "low": [0.16, 0.39],
    ...                    "high": [0.20, 0.45], "theory": [0.174, 0.429]})
    >>> ax = theory_check(df, x="rho", ylabel="P(wait)")
    >>> len(ax.get_legend().get_texts())
    2
    """
    _need(data, [x, measured, theory] + ([hue] if hue else []))
    ax = _axes(ax)
    groups = [(None, data)] if hue is None else data.groupby(hue, sort=False, observed=True)
    for name, g in groups:
        g = g.sort_values(x)
        err = None
        if "low" in g and "high" in g:
            err = np.vstack([g[measured] - g["low"], g["high"] - g[measured]])
        eb = ax.errorbar(g[x], g[measured], yerr=err, fmt="o", ms=5, capsize=3,
                         label="simulated" if name is None else f"{name}: simulated",
                         color=None if name is None else series_color(name, hue))
        ax.plot(g[x], g[theory], ls="--", color=eb[0].get_color(),
                label="theory" if name is None else f"{name}: theory")
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or measured)
    ax.set_title(title or "simulation against theory")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(alpha=0.3)
    return ax
