"""What clients observed, judged the same way for every replicated key-value family.

Two properties, shared by :func:`dsalgo.raft.check` and :func:`dsalgo.paxos.check`:

- **exactly_once**: no server executes one client command (``process, op_id``) twice in
  one life (between restarts; a restarted server rebuilds its state machine from the
  log).  It reads the replicas' ``apply`` events, each of which says whether the command
  took effect (``executed``) or was answered from the duplicate memory; a run whose
  ``apply`` events carry no ``executed`` field is not judged on it, and ``info`` says so.
- **linearizability** of ``run.history`` under the key-value model
  (:func:`dsalgo.check.linearizable` with ``"kv"``).

Examples
--------
>>> from dsalgo import paxos
>>> v = client_verdict(paxos.simulate(3, seed=1, duration=1.0, clients=2))
>>> bool(v), v.properties, v.info["duplicate_executions"]
(True, ['exactly_once', 'linearizability'], 0)
"""

from __future__ import annotations

import math

import pandas as pd

from .linearizable import linearizable
from .verdict import Verdict

__all__ = ["CLIENT_PROPERTIES", "client_verdict", "duplicate_executions"]

#: The properties of what clients observed.
CLIENT_PROPERTIES = ["exactly_once", "linearizability"]


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def duplicate_executions(events: pd.DataFrame) -> list[dict]:
    """Every second execution of one client command by one server in one life.

    Parameters
    ----------
    events : DataFrame
        ``run.events`` with ``apply`` events carrying ``process``, ``op_id`` and
        ``executed`` (and the ``crash``/``restart`` events that end a server's life).

    Returns
    -------
    list of dict
        Violation rows of ``exactly_once`` (``property, time, nodes, detail``).

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"seq": [0, 1, 2], "time": [0.1, 0.2, 0.3],
    ...                    "node": ["n1"] * 3, "kind": ["apply"] * 3,
    ...                    "process": ["c1"] * 3, "op_id": [7, 7, 8],
    ...                    "executed": [True, True, True]})
    >>> [r["detail"] for r in duplicate_executions(ev)]
    ['n1 executed op 7 of c1 twice (first at t=0.1s): a retried command was applied again']
    """
    ap = events[events["kind"].isin(["apply", "crash", "restart"])].sort_values(
        "seq", kind="stable")
    rows: list[dict] = []
    seen: dict = {}                                  # node -> {(process, op_id): time}
    for time, node, kind, process, op_id, executed in zip(
            ap["time"], ap["node"], ap["kind"], ap["process"], ap["op_id"], ap["executed"]):
        if kind != "apply":
            seen.pop(node, None)                     # a new life: the store is rebuilt
            continue
        if _missing(process) or executed is not True:
            continue
        key = (process, int(op_id))
        mine = seen.setdefault(node, {})
        if key in mine:
            rows.append({"property": "exactly_once", "time": float(time),
                         "nodes": (node, process),
                         "detail": f"{node} executed op {key[1]} of {process} twice "
                                   f"(first at t={mine[key]:.6g}s): a retried command "
                                   f"was applied again"})
        else:
            mine[key] = float(time)
    return rows


def client_verdict(run, *, time_limit: float | None = 20.0, read_note: str | None = None,
                   info: dict | None = None) -> Verdict:
    """Exactly-once application and linearizability of ``run.history``.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A run of a replicated key-value family (its ``events`` and ``history``).
    time_limit : float or None
        Seconds the linearizability search may take before the verdict is ``unknown``.
    read_note : str, optional
        Appended to every linearizability violation's detail (a family whose read mode is
        unsafe by design says so here).
    info : dict, optional
        Extra entries for the verdict's ``info``.

    Returns
    -------
    dsalgo.check.Verdict
        Properties ``exactly_once`` and ``linearizability``; ``info`` has
        ``duplicate_executions`` (None when not judged, with ``info["exactly_once"]``
        saying why), ``linearizability`` (ops, keys, undecided) and
        ``linearizability_explanations``.
    """
    ev = run.events
    rows: list[dict] = []
    info = dict(info or {})
    if all(c in ev.columns for c in ("executed", "process", "op_id")):
        dups = duplicate_executions(ev)
        rows += dups
        info["duplicate_executions"] = len(dups)
    else:
        info["duplicate_executions"] = None
        info["exactly_once"] = "not checked: apply events carry no executed field"
    lin = linearizable(run.history, "kv", time_limit=time_limit)
    info["linearizability"] = {k: lin.info.get(k) for k in ("ops", "keys", "undecided")}
    info["linearizability_explanations"] = lin.info.get("explanations", [])
    for r in lin.violations.itertuples(index=False):
        detail = r.detail if read_note is None else f"{r.detail} ({read_note})"
        rows.append({"property": "linearizability", "time": r.time, "nodes": r.nodes,
                     "detail": detail})
    status = "unknown" if lin.status == "unknown" and not rows else None
    if status:
        info["reason"] = lin.info.get("reason", "the linearizability search ran out of time")
    return Verdict(CLIENT_PROPERTIES, rows, status=status, info=info)
