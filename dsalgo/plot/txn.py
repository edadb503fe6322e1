"""Charts of distributed transactions: how long 2PC blocks when its coordinator is down.

Every function takes ``ax=None`` (a new figure when omitted) and returns the Axes.  Times
are seconds in the tables and milliseconds on the axes.
"""

from __future__ import annotations

import pandas as pd

from .core import series_color

__all__ = ["blocking_time"]


def blocking_time(data: pd.DataFrame, *, x: str = "recovery_time", y: str = "blocked",
                  hue: str | None = "termination", ci: float = 0.95, ax=None):
    """Blocking time of prepared participants against the coordinator's recovery time.

    Draws the mean of ``y`` per ``x`` (one line per ``hue``) with a confidence band
    across rows, and the diagonal *blocked for the whole outage*: a participant that is
    prepared when the coordinator crashes and cannot learn the outcome elsewhere stays on
    it (two-phase commit blocks).

    Parameters
    ----------
    data : DataFrame
        Tidy rows, one per blocked participant (or per run), seconds in ``x`` and ``y``.
    x, y : str
        Columns: coordinator recovery time and blocking time, seconds.
    hue : str, optional
        Column with one line per value (e.g. ``"termination"``).
    ci : float
        Confidence level of the band (Student t, see :func:`dsalgo.analysis.summarize`).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> df = pd.DataFrame({"recovery_time": [0.1, 0.1, 0.4, 0.4] * 2,
    ...                    "blocked": [0.11, 0.12, 0.41, 0.43, 0.02, 0.11, 0.05, 0.40],
    ...                    "termination": ["wait"] * 4 + ["cooperative"] * 4})
    >>> ax = blocking_time(df)
    >>> [line.get_label() for line in ax.get_lines()]
    ['cooperative', 'wait', 'blocked for the whole outage']
    """
    from ..analysis import summarize

    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame (one row per blocked participant); "
                        f"got {type(data).__name__}")
    for name, col in (("x", x), ("y", y)) + ((("hue", hue),) if hue is not None else ()):
        if col not in data.columns:
            raise ValueError(f"{name} must name a column of data ({', '.join(map(str, data.columns))}); "
                             f"got {col!r}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4))
    by = [x] if hue is None else [hue, x]
    s = summarize(data, by=by, metrics=[y], ci=ci)
    groups = [(y, s)] if hue is None else s.groupby(hue, sort=True)
    for label, part in groups:
        part = part.sort_values(x)
        (line,) = ax.plot(part[x] * 1e3, part["mean"] * 1e3, marker="o", label=str(label),
                          color=None if hue is None else series_color(label, hue))
        ax.fill_between(part[x] * 1e3, part["ci_low"] * 1e3, part["ci_high"] * 1e3,
                        color=line.get_color(), alpha=0.2, linewidth=0)
    hi = float(data[x].max()) * 1e3
    ax.plot([0, hi], [0, hi], linestyle="--", color="0.5", label="blocked for the whole outage")
    ax.set_xlabel("coordinator recovery time (ms)")
    ax.set_ylabel(f"blocking time, mean and {ci:.0%} CI (ms)")
    ax.set_title("2PC: how long a prepared participant holds its locks")
    ax.set_ylim(bottom=0)
    ax.legend(title=hue, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax
