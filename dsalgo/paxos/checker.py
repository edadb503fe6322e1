"""``check``: the safety properties of a Paxos run, from its tables alone.

Works on any :class:`dsalgo.sim.Run` with the events the Paxos kernels emit -- a fresh one
or one loaded from disk -- and never looks inside the nodes.

* **agreement** -- at most one value is decided per slot (Lamport 2001, §2.1: "only a
  single value is chosen").  Every learner emits ``decided`` when it learns a value, and
  again if it ever hears a *different* value for the same slot, so two ``decided`` rows
  of one slot with different values are a violation.
* **validity** -- a decided value was proposed: single-decree, one of the values in a
  ``propose`` event; Multi-Paxos, the ``op_id`` of an operation some client invoked, or
  ``-1`` for a leader's no-op.
* **state_machine_safety** (Multi-Paxos) -- the decided log, replayed on a reference
  key-value store from slot 0 with each ``op_id`` taking effect at its first slot only,
  explains every completed operation: the status and result the client got equal those
  of the replay, and the log order respects real time (an operation that completed
  before another was invoked sits at an earlier slot).  Together this says the history
  is linearizable, with the log as the witness order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dsalgo.check import Verdict

__all__ = ["check"]


def _replay(kv: dict, f, key, value):
    """The reference store: the specification of put, get and cas."""
    if f == "put":
        kv[key] = value
        return "ok", None
    if f == "get":
        return "ok", kv.get(key)
    old, new = value
    if kv.get(key) == old:
        kv[key] = new
        return "ok", True
    return "fail", False


def check(run) -> Verdict:
    """Check agreement, validity and (Multi-Paxos) state-machine safety of a Paxos run.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A run of :func:`dsalgo.paxos.simulate` (or any run with the same events).

    Returns
    -------
    dsalgo.check.Verdict
        Truthy when every property holds; ``info`` counts slots decided and operations
        verified.

    Examples
    --------
    >>> from dsalgo import paxos
    >>> v = paxos.check(paxos.simulate(3, variant="single", seed=4))
    >>> bool(v), v.info["slots_decided"]
    (True, 1)

    Phase-1 and phase-2 quorums of two out of four need not meet: split the cluster and
    each half chooses its own value.

    >>> from dsalgo import sim
    >>> bad = paxos.simulate(4, variant="single", seed=2, q1=2, q2=2, unsafe=True,
    ...                      faults=[sim.Partition([["n1", "n3"], ["n2", "n4"]], at=0.0)])
    >>> print(paxos.check(bad))  # doctest: +ELLIPSIS
    1 violation of agreement (2 properties checked): agreement at t=0.0...s on n1, n2, n3, n4: slot 0 decided 'v...' (by n...) and 'v...' (by n...).
    """
    if not all(hasattr(run, t) for t in ("events", "history")):
        raise TypeError(f"run must be a dsalgo.sim.Run (with events and history tables); "
                        f"got {run!r} of type {type(run).__name__}")
    params = getattr(run, "params", {}) or {}
    variant = params.get("variant") or ("multi" if len(run.history) else "single")
    props = ["agreement", "validity"]
    if variant == "multi":
        props.append("state_machine_safety")
    ev = run.events
    if len(ev) and "slot" in ev.columns:
        dec = ev.loc[ev["kind"] == "decided", ["time", "node", "slot", "value"]]
        dec = dec.astype({"node": object}).assign(slot=dec["slot"].astype("int64"))
        if variant == "multi":   # op ids: the column is float when other events lack it
            dec = dec.assign(value=dec["value"].astype("int64"))
    else:
        dec = pd.DataFrame({"time": [], "node": [], "slot": [], "value": []})
    rows = []
    rows += _agreement(dec)
    rows += _validity(dec, ev, run.history, variant)
    info = {"slots_decided": int(dec["slot"].nunique()), "decisions": len(dec)}
    if variant == "multi":
        found, checked = _state_machine(dec, run.history)
        rows += found
        info["operations_checked"] = checked
    return Verdict(props, rows, info=info)


def _py(v):
    """A numpy scalar as the plain Python value, for readable messages."""
    return v.item() if hasattr(v, "item") else v


def _agreement(dec):
    distinct = dec.drop_duplicates(["slot", "value"])
    split = distinct[distinct.duplicated("slot", keep=False)]
    rows = []
    for slot, grp in split.groupby("slot", sort=True):
        first = grp.iloc[0]
        second = grp.iloc[1]
        at = dec[dec["slot"] == slot]
        by_first = sorted(set(at.loc[at["value"] == first["value"], "node"]))
        by_second = sorted(set(at.loc[at["value"] == second["value"], "node"]))
        rows.append({"property": "agreement", "time": float(second["time"]),
                     "nodes": tuple(sorted(set(by_first) | set(by_second))),
                     "detail": f"slot {slot} decided {_py(first['value'])!r} (by "
                               f"{', '.join(by_first)}) and {_py(second['value'])!r} (by "
                               f"{', '.join(by_second)})"})
    return rows


def _validity(dec, ev, history, variant):
    if variant == "single":
        proposed = set(ev.loc[ev["kind"] == "propose", "value"]) if len(ev) else set()
        what = "no proposer proposed it"
    else:
        proposed = set(history["op_id"].tolist()) | {-1}
        what = "no client invoked that op_id"
    bad = dec[~dec["value"].isin(proposed)].drop_duplicates(["slot", "value"])
    return [{"property": "validity", "time": float(r.time), "nodes": (r.node,),
             "detail": f"slot {r.slot} decided {_py(r.value)!r}, but {what}"}
            for r in bad.itertuples()]


def _state_machine(dec, history):
    """Replay the log; compare with what each client saw; check real-time order."""
    first = dec.sort_values("time", kind="stable").drop_duplicates("slot")
    log = dict(zip(first["slot"].tolist(), first["value"].tolist()))
    done = history[history["status"].isin(["ok", "fail"])]
    ops = {r.op_id: r for r in history.itertuples(index=False)}
    kv, effect = {}, {}            # op_id -> (status, result, slot) at its first slot
    slot = 0
    while slot in log:
        op_id = log[slot]
        if op_id != -1 and op_id not in effect and op_id in ops:
            r = ops[op_id]
            effect[op_id] = _replay(kv, r.f, r.key, r.value) + (slot,)
        slot += 1
    gap = slot
    rows = []
    slots = np.full(len(done), -1, dtype=np.int64)
    for i, r in enumerate(done.itertuples(index=False)):
        got = effect.get(r.op_id)
        if got is None:
            rows.append({"property": "state_machine_safety", "time": float(r.t_complete),
                         "nodes": (str(r.process),),
                         "detail": f"op {r.op_id} ({r.f} {r.key!r} {r.value!r}) completed "
                                   f"{r.status} but is not in the decided log before its "
                                   f"first gap (slot {gap})"})
            continue
        slots[i] = got[2]
        if (r.status, r.result) != got[:2]:
            rows.append({"property": "state_machine_safety", "time": float(r.t_complete),
                         "nodes": (str(r.process),),
                         "detail": f"op {r.op_id} ({r.f} {r.key!r} {r.value!r}) returned "
                                   f"{r.status} {r.result!r}, but the log gives {got[0]} "
                                   f"{got[1]!r} at slot {got[2]}"})
    # Real time: whatever completed before an operation was invoked must precede it.
    known = slots >= 0
    t_inv = done["t_invoke"].to_numpy()[known]
    t_done = done["t_complete"].to_numpy()[known]
    s = slots[known]
    ids = done["op_id"].to_numpy()[known]
    order = np.argsort(t_done, kind="stable")
    prefix_max = np.maximum.accumulate(s[order]) if len(s) else s
    arg = np.zeros(len(s), dtype=np.int64)
    if len(s):
        best = np.maximum.accumulate(np.where(s[order] == prefix_max, np.arange(len(s)), 0))
        k = np.searchsorted(t_done[order], t_inv, side="left")
        for j in np.flatnonzero((k > 0) & (prefix_max[np.maximum(k, 1) - 1] > s)):
            arg[j] = order[best[k[j] - 1]]
            a = arg[j]
            rows.append({"property": "state_machine_safety", "time": float(t_inv[j]),
                         "nodes": (), "detail": f"op {ids[a]} completed at t={t_done[a]:.6g}s "
                         f"in slot {s[a]}, before op {ids[j]} was invoked, yet op {ids[j]} "
                         f"sits earlier, in slot {s[j]}"})
    return rows, int(known.sum())
