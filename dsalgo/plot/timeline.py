"""The history timeline: operations as intervals per process, the culprits of a verdict marked.

This is the picture Knossos and Porcupine draw to explain a linearizability failure
(Porcupine's HTML visualisation, Knossos's ``linear.svg``): one lane per client process,
time to the right, each operation a bar from invocation to completion labelled with what
it did.  An operation whose outcome is unknown (``info``) fades out to the right edge: it
may take effect any time after its invocation.  Given a :class:`~dsalgo.check.Verdict`
from :func:`dsalgo.check.linearizable`, the operation that ends the smallest
non-linearizable prefix is outlined in red, the operations concurrent with it in orange,
and a dashed line marks the end of that prefix.  Fault intervals from ``run.faults`` are
shaded across the lanes.  It simplifies: one chart, no interactive linearization
playback; with many operations, labels are left out.
"""

from __future__ import annotations

import math

import pandas as pd

from .._validate import check_choice

__all__ = ["history_timeline"]

_COLORS = {"get": "tab:blue", "put": "tab:green", "cas": "tab:purple", "append": "tab:brown",
           "read": "tab:blue", "write": "tab:green"}
_FAULT_COLORS = {"crash": "0.5", "partition": "tab:red", "pause": "tab:orange",
                 "clock_jump": "tab:olive", "clock_drift": "tab:olive"}
_SCALE = {"ms": (1e3, "time (ms)"), "s": (1.0, "time (s)"), "logical": (1.0, "time (log line)")}
_COLUMNS = ["op_id", "process", "f", "value", "result", "t_invoke", "t_complete", "status"]


def _label(f, value, result, status):
    if f in ("get", "read"):
        return f"get → {result!r}" if status == "ok" else f"get ({status})"
    arg = value if not isinstance(value, (list, tuple)) else "→".join(map(repr, value))
    text = f"{f} {arg}" if f != "cas" else f"cas {arg}"
    return text if status == "ok" else f"{text} ({status})"


def history_timeline(history, verdict=None, faults=None, ax=None, *, key=None, unit="ms",
                     labels=None):
    """Draw operations as bars per process; mark what a verdict blames; shade faults.

    Parameters
    ----------
    history : DataFrame
        A history table (``op_id, process, f, value, result, t_invoke, t_complete,
        status`` and ``key`` if ``key`` is given).
    verdict : Verdict, optional
        From :func:`dsalgo.check.linearizable`; its ``info["explanations"]`` say which
        operations to mark.
    faults : DataFrame, optional
        ``run.faults`` (``kind, target, t_start, t_end``); each interval is shaded.
    ax : matplotlib Axes, optional
    key : object, optional
        Draw only the operations on this key.
    unit : {"ms", "s", "logical"}
        Time axis unit; ``"logical"`` for histories whose times are log line numbers.
    labels : bool, optional
        Write each operation's text on its bar (default: when there are at most 60).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from dsalgo.check import linearizable
    >>> from dsalgo.histories import history_table
    >>> h = history_table([(0, "c1", "put", "x", 1, None, 0.0, 0.010, "ok"),
    ...                    (1, "c2", "get", "x", None, None, 0.012, 0.020, "ok")])
    >>> ax = history_timeline(h, linearizable(h, "kv"))
    >>> ax.get_xlabel(), [t.get_text() for t in ax.get_yticklabels()]
    ('time (ms)', ['c1', 'c2'])
    """
    if not isinstance(history, pd.DataFrame):
        raise TypeError(f"history must be a pandas DataFrame (a history table); got "
                        f"{type(history).__name__}")
    missing = [c for c in _COLUMNS + (["key"] if key is not None else [])
               if c not in history.columns]
    if missing:
        raise ValueError(f"history is missing columns {missing}; a history table has "
                         f"{_COLUMNS + ['key']}")
    check_choice("unit", unit, _SCALE)
    if faults is not None and not isinstance(faults, pd.DataFrame):
        raise TypeError(f"faults must be a DataFrame like run.faults; got "
                        f"{type(faults).__name__}")
    if verdict is not None and not hasattr(verdict, "violations"):
        raise TypeError(f"verdict must be a dsalgo.check.Verdict; got {type(verdict).__name__}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(10, 4))
    from matplotlib.patches import Patch

    scale, xlabel = _SCALE[unit]
    h = history if key is None else history[history["key"] == key]
    procs = list(dict.fromkeys(h.sort_values("t_invoke", kind="stable")["process"]))
    lane = {p: i for i, p in enumerate(procs)}
    ends = h["t_complete"].dropna()
    t_max = max([*h["t_invoke"], *ends], default=1.0)
    t_min = min(h["t_invoke"], default=0.0)
    if faults is not None and len(faults):
        t_max = max(t_max, faults["t_start"].max())
    right = (t_max + 0.03 * max(t_max - t_min, 1e-9)) * scale
    blamed, involved, prefix_ends = set(), set(), []
    if verdict is not None:
        for e in verdict.info.get("explanations", []):
            if key is None or e["key"] == key:
                blamed.add(e["op_id"])
                involved.update(e["involved"])
                prefix_ends.append(e["prefix_end"])
    show_labels = len(h) <= 60 if labels is None else bool(labels)
    for op in h.itertuples(index=False):
        y = lane[op.process]
        x0 = op.t_invoke * scale
        unknown = op.status == "info" or (isinstance(op.t_complete, float)
                                          and math.isnan(op.t_complete))
        x1 = right if unknown else op.t_complete * scale
        edge, lw = ("red", 2.5) if op.op_id in blamed else \
            (("darkorange", 1.8) if op.op_id in involved else ("black", 0.4))
        ax.barh(y, x1 - x0, left=x0, height=0.6, color=_COLORS.get(op.f, "0.6"),
                alpha=0.25 if unknown else (0.45 if op.status == "fail" else 0.8),
                hatch="//" if op.status == "fail" else None, edgecolor=edge, linewidth=lw)
        if show_labels:
            ax.text(x0, y, " " + _label(op.f, op.value, op.result, op.status), va="center",
                    ha="left", fontsize=7, clip_on=True)
    handles = [Patch(color=_COLORS[f], alpha=0.8, label=f)
               for f in ("get", "put", "cas", "append") if (h["f"] == f).any()]
    if (h["status"] == "info").any():
        handles.append(Patch(facecolor="0.6", alpha=0.25, label="outcome unknown (info)"))
    if (h["status"] == "fail").any():
        handles.append(Patch(facecolor="white", hatch="//", edgecolor="0.3", label="failed"))
    if blamed:
        handles.append(Patch(facecolor="none", edgecolor="red", linewidth=2.5,
                             label="cannot be linearized"))
        handles.append(Patch(facecolor="none", edgecolor="darkorange", linewidth=1.8,
                             label="concurrent with it"))
        for t in prefix_ends:
            ax.axvline(t * scale, color="red", linestyle="--", linewidth=1)
        handles.append(ax.plot([], [], color="red", linestyle="--",
                               label="end of smallest bad prefix")[0])
    if faults is not None and len(faults):
        seen = set()
        for f in faults.itertuples(index=False):
            end = right if pd.isna(f.t_end) else f.t_end * scale
            color = _FAULT_COLORS.get(str(f.kind), "0.7")
            ax.axvspan(f.t_start * scale, end, color=color, alpha=0.12, zorder=0)
            if f.kind not in seen:
                seen.add(f.kind)
                handles.append(Patch(color=color, alpha=0.2, label=f"fault: {f.kind}"))
    ax.set_yticks(range(len(procs)), [str(p) for p in procs])
    ax.set_ylim(len(procs) - 0.5, -0.5)
    ax.set_xlim(t_min * scale - 0.01 * (right - t_min * scale), right)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("client process")
    if verdict is None:
        title = f"History: {len(h)} operations by {len(procs)} processes"
    else:
        title = f"History ({len(h)} ops): {verdict.status}"
        if blamed:
            title += f" — {len(blamed)} operation(s) cannot be linearized"
    ax.set_title(title if key is None else f"{title} (key {key!r})")
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                  frameon=False)
    return ax
