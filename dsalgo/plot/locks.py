"""Charts of lock runs: who believed they held the lock, and what reached the storage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .core import node_color, spacetime

__all__ = ["lock_timeline"]

_MS = 1000.0


def lock_timeline(run, *, ax=None, title=None, types=None, time_range=None, max_messages=600):
    """A space-time diagram of a lock run with each client's belief of holding the lock.

    Rows are the clients, the storage service and the lock servers.  On top of the
    messages (see :func:`dsalgo.plot.spacetime`) it draws one thick bar per time a client
    believed it held the lock, the writes that reached the storage (accepted or rejected
    by fencing), and red spans where two clients held it at once.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A run of :mod:`dsalgo.locks` (live or loaded).
    ax : matplotlib Axes, optional
    title : str, optional
        Chart title (default: the scenario or family named in ``run.params``).
    types : list of str, optional
        Message types to draw (default: all but session pings and replication).
    time_range : (float, float), optional
        Seconds to show.
    max_messages : int
        Draw at most this many messages (the earliest; the title says when some were left
        out).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from dsalgo import locks, plot
    >>> ax = plot.lock_timeline(locks.scenarios.redlock_clock_jump())
    >>> ax.get_title(), ax.get_xlabel()
    ('redlock_clock_jump: space-time diagram', 'time (ms)')
    """
    from ..locks import check, holding_intervals

    if not all(isinstance(getattr(run, t, None), pd.DataFrame) for t in ("events", "messages")):
        raise TypeError(f"run must be a dsalgo.sim.Run of a lock simulation; got {run!r}")
    clients = sorted((n for n in run.nodes if n.startswith("c")), key=lambda n: int(n[1:])
                     if n[1:].isdigit() else 0)
    servers = [n for n in run.nodes if n not in clients and n != "storage"]
    order = clients + (["storage"] if "storage" in run.nodes else []) + servers
    if types is None:
        all_types = set(run.messages["type"].astype(str))
        types = sorted(all_types - {"Ping", "Pong", "Proposal", "Ack"})
    ax = spacetime(run, ax=ax, nodes=order, types=types, time_range=time_range,
                   max_messages=max_messages)
    base_title = ax.get_title()
    shown = base_title[base_title.index(" (first"):] if " (first" in base_title else ""
    t1 = run.until if time_range is None else time_range[1]
    y = {n: i for i, n in enumerate(order)}
    colors = [node_color(c) for c in clients]
    iv = holding_intervals(run)
    for i, c in enumerate(clients):
        mine = iv[iv["client"] == c]
        for start, end in zip(mine["t_acquire"], mine["t_end"]):
            end = t1 if math.isnan(end) else end
            ax.plot([start * _MS, end * _MS], [y[c] - 0.22] * 2, lw=6, color=colors[i],
                    solid_capstyle="butt", alpha=0.9, zorder=4)
        ax.plot([], [], lw=6, color=colors[i], label=f"{c} believes it holds the lock")
    ev = run.events
    if "storage" in y and len(ev):
        w = ev[ev["kind"].astype(str) == "write"]
        if "accepted" not in w.columns:  # no write reached the storage
            w = w.assign(accepted=False).iloc[:0]
        for accepted, marker, color, label in ((True, "o", "tab:green", "write accepted"),
                                               (False, "X", "tab:red", "write rejected")):
            part = w[w["accepted"].astype(bool) == accepted]
            if len(part):
                ax.scatter(part["time"] * _MS, np.full(len(part), y["storage"] + 0.22),
                           marker=marker, s=70, color=color, edgecolor="k", zorder=6,
                           label=label)
    v = check(run)
    overlaps = v.violations[v.violations["property"] == "mutual_exclusion"]
    for k, (a, b) in enumerate(zip(overlaps["t_start"], overlaps["t_end"])):
        b = t1 if math.isnan(b) else b
        ax.axvspan(a * _MS, b * _MS, facecolor=(1, 0, 0, 0.12), edgecolor="red", hatch="//",
                   lw=0, zorder=0,
                   label="two clients hold the lock" if k == 0 else None)
    lost = v.violations[v.violations["property"] == "storage_safety"]
    for k, t in enumerate(lost["time"]):
        ax.axvline(t * _MS, color="red", ls=":", lw=1.5,
                   label="storage safety violated" if k == 0 else None)
    if title is None:
        p = run.params
        title = p.get("scenario") or p.get("family") or p.get("algorithm") or "lock run"
    ax.set_title(f"{title}: space-time diagram{shown}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax

