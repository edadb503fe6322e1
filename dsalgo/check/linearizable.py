"""Linearizability of a history table: could the operations have taken effect one at a time?

Herlihy & Wing (1990) call a history linearizable when every operation can be given a
single instant between its invocation and its completion such that, taken in that order,
the operations obey the object's sequential specification.  This module checks that on the
project's history table (``op_id, process, f, key, value, result, t_invoke, t_complete,
status``) — from a simulation or from a real system through :mod:`dsalgo.histories` — and
needs nothing else: not the simulator, not the algorithm that produced it.

What it follows:

- the search is Wing & Gong (1993) with Lowe's (2017) memoisation of
  (linearized set, state) configurations, in :mod:`dsalgo.check._wgl`;
- Horn & Kroening (2015), *Faster linearizability checking via P-compositionality*: for a
  model whose keys are independent (``partition_by="key"``) each key is checked on its own,
  which turns one exponential search into several small ones;
- Porcupine (Athalye) and Knossos (Kingsbury) for the treatment of outcomes: ``ok``
  operations took effect with the result recorded; ``info`` operations (no answer) may
  take effect at any point after their invocation, or not at all; ``fail`` operations took
  no effect (a failed ``cas`` still says the compare failed).  Models are small objects in
  :mod:`dsalgo.check.models`.

What it simplifies: the check is exact but exponential in the worst case, so it takes a
``time_limit`` and answers ``"unknown"`` when it runs out, naming the keys it could not
decide; independent keys are interleaved, so one hard key does not starve the others.
Real-time order comes from the two time columns only (an operation that completes at the
same instant another is invoked counts as concurrent with it).

For a history that is not linearizable, the verdict names, per key, the smallest prefix
of the history that cannot be linearized: the completion of one operation after which no
order works, that operation, the operations concurrent with it and the states every
linearization of the earlier operations could have left behind.
"""

from __future__ import annotations

import math
import time

import pandas as pd

from .._validate import check_number
from ._wgl import search
from .models import ALIASES, Model, freeze, get_model
from .verdict import Verdict

__all__ = ["linearizable"]

_REQUIRED = ["op_id", "f", "value", "result", "t_invoke", "t_complete", "status"]
_PROPERTY = "linearizability"


def _prepare(history, model: Model):
    """Validate the table and split it into independent partitions of search ops."""
    if not isinstance(history, pd.DataFrame):
        raise TypeError(f"history must be a pandas DataFrame with columns {_REQUIRED}; got "
                        f"{type(history).__name__}")
    missing = [c for c in _REQUIRED if c not in history.columns]
    if model.partition_by and model.partition_by not in history.columns:
        missing.append(model.partition_by)
    if missing:
        raise ValueError(f"history is missing columns {missing}; a history table has "
                         f"{_REQUIRED + ['process', 'key']}")
    dup = history["op_id"][history["op_id"].duplicated()]
    if len(dup):
        raise ValueError(f"history has duplicate op_id values {sorted(set(dup))[:5]}; each "
                         f"operation needs its own op_id")
    parts: dict = {}
    rows: dict = {}
    keys = history[model.partition_by] if model.partition_by else [None] * len(history)
    cols = zip(history["op_id"], history["f"], history["value"], history["result"],
               history["t_invoke"], history["t_complete"], history["status"], keys)
    for op_id, f, value, result, t_inv, t_comp, status, key in cols:
        status = str(status)
        if status not in ("ok", "fail", "info"):
            raise ValueError(f"history row op_id={op_id!r}: status must be 'ok', 'fail' or "
                             f"'info'; got {status!r}")
        f = ALIASES.get(str(f), str(f))
        if f not in model.operations:
            raise ValueError(f"history row op_id={op_id!r}: f={f!r} is not an operation of "
                             f"model {model.name!r}; accepted: {', '.join(model.operations)} "
                             f"(and the aliases {', '.join(ALIASES)})")
        try:
            t_inv = float(t_inv)
            t_comp = float(t_comp) if t_comp is not None else math.nan
        except (TypeError, ValueError):
            raise ValueError(f"history row op_id={op_id!r}: t_invoke and t_complete must be "
                             f"times in seconds; got {t_inv!r} and {t_comp!r}") from None
        if not math.isfinite(t_inv):
            raise ValueError(f"history row op_id={op_id!r}: t_invoke must be a finite time in "
                             f"seconds; got {t_inv!r}")
        if status == "info":
            t_comp = math.inf            # may take effect at any time after its invocation
        elif not math.isfinite(t_comp):
            raise ValueError(f"history row op_id={op_id!r}: an operation with status "
                             f"{status!r} needs a finite t_complete; got {t_comp!r} (use "
                             f"status 'info' for an operation whose outcome is unknown)")
        elif t_comp < t_inv:
            raise ValueError(f"history row op_id={op_id!r}: t_complete={t_comp!r} is before "
                             f"t_invoke={t_inv!r}")
        value = freeze(value)
        if f == "cas" and not (isinstance(value, tuple) and len(value) == 2):
            raise ValueError(f"history row op_id={op_id!r}: a cas value must be [old, new]; "
                             f"got {value!r}")
        if not model.keep(f, status):
            continue
        key = freeze(key)
        parts.setdefault(key, []).append((t_inv, t_comp, f, value, freeze(result), status))
        rows.setdefault(key, []).append(op_id)
    return parts, rows


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _describe_op(op_id, op, process):
    _t_call, _t_ret, f, value, result, status = op
    arg = "" if value is None else _short(repr(value))
    if status == "info":
        out = " (outcome unknown)"
    elif status == "fail":
        out = " failed"
    else:
        out = "" if f in ("put", "append") or (f == "cas") else f" -> {_short(repr(result))}"
    who = f" by {process}" if process is not None else ""
    return f"op {op_id} {f}({arg}){out}{who}"


def _explain(key, ops, op_ids, res, model, processes, partition_by):
    """One violation row and its explanation dict for a non-linearizable partition."""
    b = res.blocked
    t_call, t_end = ops[b][0], ops[b][1]
    involved = [op_ids[i] for i, op in enumerate(ops)
                if i != b and op[0] <= t_end and op[1] >= t_call]
    prefix_ops = sum(1 for op in ops if op[0] <= t_end)
    states = ", ".join(_short(model.describe(s)) for s in res.states[:3])
    if len(res.states) > 3:
        states += ", …"
    where = f"{partition_by} {key!r}: " if partition_by else ""
    blocked_id = op_ids[b]
    detail = (f"{where}{_describe_op(blocked_id, ops[b], processes.get(blocked_id))} cannot "
              f"be linearized; the smallest non-linearizable prefix ends at its completion "
              f"(t={t_end:g}, {prefix_ops} operations); the linearizations of the operations "
              f"before it leave the state in {{{states}}}; concurrent with it: "
              f"{len(involved)} operation(s)")
    nodes = tuple(sorted({str(processes[i]) for i in [blocked_id, *involved]
                          if processes.get(i) is not None}))
    row = {"property": _PROPERTY, "time": t_end, "nodes": nodes, "detail": detail}
    info = {"key": key, "op_id": blocked_id, "prefix_end": t_end, "prefix_ops": prefix_ops,
            "involved": involved, "states": list(res.states)}
    return row, info


def linearizable(history, model="cas-register", *, time_limit: float | None = 60.0,
                 stop_at_first: bool = False) -> Verdict:
    """Check that a history is linearizable under a sequential model.

    Parameters
    ----------
    history : DataFrame
        The history table (``op_id, f, value, result, t_invoke, t_complete, status`` and,
        for key-value models, ``key``; ``process`` is used in explanations if present).
    model : str or Model
        ``"register"``, ``"cas-register"`` (the default; one object, ``key`` ignored),
        ``"kv"`` (an independent cas-register per key, plus ``append``) or a
        :class:`~dsalgo.check.models.Model` instance, e.g. ``KV(initial="")``.
    time_limit : float or None
        Seconds of search before giving up with an ``"unknown"`` verdict; None for no
        limit.
    stop_at_first : bool
        Stop as soon as one key is shown not linearizable instead of deciding every key
        (faster on large bad histories; the explanation then covers that key only).

    Returns
    -------
    Verdict
        Property ``linearizability``: one violation row per key that cannot be linearized
        (``time`` = end of its smallest non-linearizable prefix, ``nodes`` = processes of
        the operations involved).  ``verdict.info`` holds ``explanations`` (one dict per
        violation: ``key, op_id, prefix_end, prefix_ops, involved, states``),
        ``undecided`` (keys the time limit cut short), ``witness`` (a linearization order
        of op ids per key, when linearizable), ``ops``, ``keys``, ``seconds``.

    Notes
    -----
    The search is exponential in the number of operations that overlap in time, not in the
    length of the history (see notebook 07).  A non-linearizable key must be searched
    exhaustively before it can be reported, which on a large, highly concurrent key can
    take longer than any time limit; with ``stop_at_first=True`` the first key shown bad
    decides the verdict, as in Porcupine.

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"op_id": [0, 1, 2], "process": ["c1", "c2", "c3"],
    ...                   "f": ["put", "get", "get"], "key": [0, 0, 0],
    ...                   "value": [1, None, None], "result": [None, 1, None],
    ...                   "t_invoke": [0.0, 0.5, 2.0], "t_complete": [1.0, 1.5, 3.0],
    ...                   "status": ["ok", "ok", "ok"]})
    >>> bool(linearizable(h, "kv"))
    False
    >>> v = linearizable(h, "kv")
    >>> v.info["explanations"][0]["op_id"], v.violations["time"].tolist()
    (2, [3.0])
    >>> bool(linearizable(h.iloc[:2], "kv"))
    True
    """
    model = get_model(model)
    if time_limit is not None:
        time_limit = check_number("time_limit", time_limit, low=0.0, low_open=True)
    if not isinstance(stop_at_first, bool):
        raise TypeError(f"stop_at_first must be True or False; got {stop_at_first!r}")
    parts, op_ids = _prepare(history, model)
    processes = (dict(zip(history["op_id"], history["process"]))
                 if "process" in history.columns else {})
    start = time.perf_counter()
    deadline = math.inf if time_limit is None else start + time_limit
    # smallest partitions first: they finish fast, and round-robin keeps hard ones fair
    order = sorted(parts, key=lambda k: (len(parts[k]), repr(k)))
    running = {k: search(parts[k], model) for k in order}
    results = {}
    timed_out = False
    while running and not timed_out:
        for key in list(running):
            try:
                next(running[key])
            except StopIteration as done:
                results[key] = done.value
                del running[key]
                if stop_at_first and not done.value.linearizable:
                    running.clear()
                    break
            if time.perf_counter() > deadline:
                timed_out = True
                break
    elapsed = time.perf_counter() - start
    rows, explanations, witness = [], [], {}
    for key in order:
        res = results.get(key)
        if res is None:
            continue
        if res.linearizable:
            witness[key] = [op_ids[key][i] for i in res.linearization]
        else:
            row, info = _explain(key, parts[key], op_ids[key], res, model, processes,
                                 model.partition_by)
            rows.append(row)
            explanations.append(info)
    explanations.sort(key=lambda x: x["prefix_end"])
    undecided = [k for k in order if k not in results]
    info = {"model": model.name, "ops": sum(map(len, parts.values())), "keys": len(parts),
            "seconds": elapsed, "explanations": explanations, "undecided": undecided,
            "witness": witness,
            "configs": sum(r.configs for r in results.values())}
    status = None
    if undecided and not rows:
        status = "unknown"
        info["reason"] = (f"the {time_limit:g} s time limit ran out before "
                          f"{len(undecided)} of {len(parts)} key(s) were decided")
    return Verdict([_PROPERTY], rows, status=status, info=info)
