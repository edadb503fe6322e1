"""Measurements of transaction runs, as tidy tables: blocking, outcomes, latency.

Like the checker, these read only the run tables (``run.events``, ``run.history``,
``run.faults``), so they work on loaded runs too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["blocking_times", "crashes_while_prepared", "crashes_mid_saga", "transfers",
           "summary"]


def _check_run(run, tables=("events", "history", "faults")):
    """Refuse anything that is not a run with DataFrame tables (a clear TypeError)."""
    for name in tables:
        if not isinstance(getattr(run, name, None), pd.DataFrame):
            raise TypeError(f"run must be a dsalgo.sim.Run (with DataFrame tables "
                            f"{', '.join(tables)}); got {run!r}")


def _check_node(node):
    if not isinstance(node, str):
        raise TypeError(f"node must be a node id (str) such as 'tm' or 'orch'; got {node!r}")


def blocking_times(run) -> pd.DataFrame:
    """How long each prepared participant was blocked, holding its locks.

    A participant is blocked from its yes vote (it is prepared and may no longer decide
    alone) until it learns the outcome.  Rows whose participant never learnt it by the
    end of the run have ``t_decided`` NaN and ``blocked`` measured to ``run.until``.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A run of :func:`dsalgo.txn.twopc.simulate`.

    Returns
    -------
    DataFrame
        Columns ``txn, node, t_prepared, t_decided, outcome, blocked`` (seconds).

    Examples
    --------
    >>> from dsalgo import txn
    >>> run = txn.twopc.simulate(n=2, seed=0, duration=0.3, drain=0.3)
    >>> b = txn.metrics.blocking_times(run)
    >>> list(b.columns), bool((b["blocked"] > 0).all())
    (['txn', 'node', 't_prepared', 't_decided', 'outcome', 'blocked'], True)
    """
    _check_run(run, ("events",))
    ev = run.events
    cols = ["txn", "node", "t_prepared", "t_decided", "outcome", "blocked"]
    if "yes" not in ev.columns:
        return pd.DataFrame({c: pd.Series([], dtype="float64" if c.startswith("t_") or
                                          c == "blocked" else "object") for c in cols})
    votes = ev[(ev["kind"] == "vote") & (ev["yes"] == True)]      # noqa: E712 (object column)
    votes = votes[["txn", "node", "time"]].rename(columns={"time": "t_prepared"})
    out = ev[ev["kind"].isin(["commit", "abort"]) & (ev["node"] != "tm")]
    out = (out[["txn", "node", "time", "kind"]]
           .rename(columns={"time": "t_decided", "kind": "outcome"})
           .drop_duplicates(["txn", "node"]))
    for df in (votes, out):
        df["node"] = df["node"].astype(str)
    b = votes.merge(out, on=["txn", "node"], how="left")
    b["outcome"] = b["outcome"].astype(object).where(b["outcome"].notna(), None)
    b["blocked"] = b["t_decided"].fillna(run.until) - b["t_prepared"]
    return b[cols].reset_index(drop=True)


def crashes_while_prepared(run, node: str = "tm") -> int:
    """Crashes of ``node`` that happened while some participant was prepared (blocked).

    Examples
    --------
    >>> from dsalgo import sim, txn
    >>> run = txn.twopc.simulate(n=2, seed=0, duration=1.0, drain=1.0, clients=4,
    ...                          concurrency=2,
    ...                          faults=[sim.Crash("tm", at=0.5), sim.Restart("tm", at=0.7)])
    >>> txn.metrics.crashes_while_prepared(run)
    1
    """
    _check_run(run, ("events", "faults"))
    _check_node(node)
    f = run.faults
    starts = f.loc[(f["kind"] == "crash") & (f["target"] == node), "t_start"].to_numpy()
    if not len(starts):
        return 0
    b = blocking_times(run)
    lo = b["t_prepared"].to_numpy()
    hi = (b["t_prepared"] + b["blocked"]).to_numpy()
    return int(sum(bool(np.any((lo < t) & (t < hi))) for t in starts))


def crashes_mid_saga(run, node: str = "orch") -> int:
    """Crashes of ``node`` that happened while some saga had begun and not yet ended.

    Examples
    --------
    >>> from dsalgo import sim, txn
    >>> run = txn.saga.simulate(seed=0, duration=1.0, drain=1.0, clients=3, concurrency=2,
    ...                         faults=[sim.Crash("orch", at=0.5), sim.Restart("orch", at=0.7)])
    >>> txn.metrics.crashes_mid_saga(run)
    1
    """
    _check_run(run, ("events", "faults"))
    _check_node(node)
    f = run.faults
    starts = f.loc[(f["kind"] == "crash") & (f["target"] == node), "t_start"].to_numpy()
    ev = run.events
    if not len(starts) or "saga" not in ev.columns:
        return 0
    begin = ev[ev["kind"] == "saga_begin"].set_index("saga")["time"]
    end = ev[ev["kind"] == "saga_end"].drop_duplicates("saga").set_index("saga")["time"]
    hi = end.reindex(begin.index).fillna(run.until).to_numpy()
    lo = begin.to_numpy()
    return int(sum(bool(np.any((lo < t) & (t < hi))) for t in starts))


def transfers(run) -> pd.DataFrame:
    """One row per transfer: outcome and latency.

    Returns
    -------
    DataFrame
        Columns ``op_id, process, status, t_invoke, latency`` with ``status`` ok
        (committed / all steps done), fail (aborted / compensated) or info (no answer,
        ``latency`` NaN).

    Examples
    --------
    >>> from dsalgo import txn
    >>> t = txn.metrics.transfers(txn.saga.simulate(seed=0, duration=0.3, drain=0.3))
    >>> set(t["status"]) <= {"ok", "fail", "info"}, list(t.columns)
    (True, ['op_id', 'process', 'status', 't_invoke', 'latency'])
    """
    _check_run(run, ("history",))
    h = run.history
    t = h[h["f"] == "transfer"]
    return pd.DataFrame({"op_id": t["op_id"].to_numpy(), "process": t["process"].to_numpy(),
                         "status": t["status"].astype(str).to_numpy(),
                         "t_invoke": t["t_invoke"].to_numpy(),
                         "latency": (t["t_complete"] - t["t_invoke"]).to_numpy()})


def summary(run) -> dict:
    """Headline figures of a run, as one flat dict (a row of a sweep).

    Keys: ``throughput`` (transfers that took effect per second of load, i.e. over
    ``run.params["duration"]``: the load period, without the ``drain`` tail), ``latency_p50`` and ``latency_p95`` (seconds, transfers
    answered ok), ``abort_rate`` (share of answered transfers that had no effect),
    ``unknown_rate`` (share never answered), ``intermediate_read_rate`` (share of reads
    that saw money in flight), ``dirty_reads_per_saga`` (sagas only; NaN for 2PC) and
    ``ok`` (the checker's verdict).

    Examples
    --------
    >>> from dsalgo import txn
    >>> row = txn.metrics.summary(txn.twopc.simulate(seed=0, duration=0.5, drain=0.5))
    >>> row["ok"], row["throughput"] > 0, 0 <= row["abort_rate"] <= 1
    (True, True, True)
    """
    from .checker import check

    v = check(run)
    t = transfers(run)
    ok = t[t["status"] == "ok"]["latency"]
    answered = t["status"].isin(["ok", "fail"]).sum()
    reads = v.info.get("reads", 0)
    sagas = v.info.get("sagas")
    return {
        "throughput": len(ok) / run.params["duration"],
        "latency_p50": float(ok.median()) if len(ok) else float("nan"),
        "latency_p95": float(ok.quantile(0.95)) if len(ok) else float("nan"),
        "abort_rate": float((t["status"] == "fail").sum() / answered) if answered else float("nan"),
        "unknown_rate": float((t["status"] == "info").mean()) if len(t) else float("nan"),
        "intermediate_read_rate": v.info["intermediate_reads"] / reads if reads else float("nan"),
        "dirty_reads_per_saga": v.info["dirty_reads"] / sagas if sagas else float("nan"),
        "ok": bool(v),
    }
