"""What a Paxos run cost: time to decide, commit latency, throughput, leadership churn.

Each function reads the run tables only (so it works on loaded runs) and returns plain
numbers or a one-row dict, ready to be collected into a tidy DataFrame by a sweep.
"""

from __future__ import annotations

import math

import numpy as np

from dsalgo._validate import check_number

__all__ = ["decision_time", "summary"]


def decision_time(run) -> float:
    """Seconds from the start until some node first learned a decided value (NaN if none).

    Examples
    --------
    >>> from dsalgo import paxos, sim
    >>> run = paxos.simulate(3, variant="single", proposers=1,
    ...                      network=sim.Network(latency=sim.Constant(0.01)))
    >>> round(decision_time(run), 6)     # two round trips of 20 ms
    0.04
    """
    ev = run.events
    if not len(ev):
        return math.nan
    t = ev.loc[ev["kind"] == "decided", "time"]
    return float(t.min()) if len(t) else math.nan


def summary(run, *, after: float = 0.0) -> dict:
    """Throughput, commit latency and churn of a Multi-Paxos run, counting from ``after``.

    Parameters
    ----------
    run : dsalgo.sim.Run
    after : float
        Ignore operations invoked before this time (a warm-up: the first election).

    Returns
    -------
    dict
        ``ops_ok`` (operations acknowledged), ``throughput`` (acknowledged per second of
        the measured window), ``latency_p50`` and ``latency_p99`` (seconds, acknowledged
        operations), ``leaders`` (leaderships won), ``preempted`` (ballots preempted),
        ``messages_per_op`` (message copies sent in the window per acknowledged op; NaN
        when the run did not record its messages, ``record_messages=False``).

    Examples
    --------
    >>> from dsalgo import paxos, sim
    >>> run = paxos.simulate(3, seed=1, duration=1.0, network=sim.Network(latency=sim.Constant(0.005)))
    >>> s = summary(run, after=0.5)
    >>> round(s["latency_p50"], 6), s["leaders"]      # four 5 ms hops
    (0.02, 1)
    """
    after = check_number("after", after, low=0.0)
    if after >= run.until:
        raise ValueError(f"after must be before the end of the run ({run.until!r} s); "
                         f"got {after!r}")
    h = run.history
    window = max(run.until - after, 1e-12)
    h = h[h["t_invoke"] >= after]
    ok = h[h["status"] == "ok"]
    lat = (ok["t_complete"] - ok["t_invoke"]).to_numpy()
    kinds = run.events["kind"].value_counts() if len(run.events) else {}
    msgs = run.messages
    sent = int((msgs["t_send"] >= after).sum()) if len(msgs) else 0
    return {
        "ops_ok": len(ok),
        "throughput": len(ok) / window,
        "latency_p50": float(np.percentile(lat, 50)) if len(lat) else math.nan,
        "latency_p99": float(np.percentile(lat, 99)) if len(lat) else math.nan,
        "leaders": int(kinds.get("leader", 0)),
        "preempted": int(kinds.get("preempted", 0)),
        # no message at all behind acknowledged operations means none were recorded
        "messages_per_op": sent / len(ok) if len(ok) and len(msgs) else math.nan,
    }
