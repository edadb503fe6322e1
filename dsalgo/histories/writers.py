"""Writing histories and message logs out for other tools: Porcupine and ShiViz.

- **Porcupine** (Athalye, github.com/anishathalye/porcupine) checks a ``[]Operation`` of
  ``{ClientId, Input, Call, Output, Return}`` (``model.go``), times as integers.
  :func:`to_porcupine_json` writes exactly that list as JSON, so a Go test can
  ``json.Unmarshal`` it into ``[]porcupine.Operation`` with ``Input``/``Output`` as maps:
  ``Input = {"op", "key", "value"}``, ``Output = {"value", "status", "unknown"}``.  Times
  become integer nanoseconds.  As in Porcupine's own Jepsen parser, an operation with an
  unknown outcome gets ``Return`` after every other event and ``Output.unknown = true``.
- **ShiViz** (Beschastnikh et al., "Debugging distributed systems", CACM 2016) draws
  space-time diagrams from logs where each event carries a vector clock.
  :func:`to_shiviz` computes the vector clocks of ``run.messages`` (a send ticks the
  sender's clock; a delivery merges the message's clock into the receiver's and ticks it,
  Fidge/Mattern) and writes the log with its parsing regular expression on the first line,
  the format ShiViz accepts as a file.  It simplifies: only message sends and deliveries
  become events (timers and protocol events do not), and a dropped message is a send with
  no delivery.

Writes go to a temporary file that is renamed into place, so a failure leaves no partial
file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile

import pandas as pd

__all__ = ["SHIVIZ_REGEX", "to_porcupine_json", "to_shiviz"]

#: The parsing regular expression written on the first line of a ShiViz log.
SHIVIZ_REGEX = r"(?<host>\S*) (?<clock>{.*})\n(?<event>.*)"


def _atomic_write(path, text: str) -> None:
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _plain(v):
    """A JSON-friendly value (numpy scalars, tuples, NaN)."""
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _need(df, name, columns, what):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame ({what}); got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing columns {missing}; {what} has {columns}")


def to_porcupine_json(history, path) -> None:
    """Write a history table as Porcupine ``[]Operation`` JSON.

    Parameters
    ----------
    history : DataFrame
        The history table (``op_id, process, f, key, value, result, t_invoke, t_complete,
        status``).
    path : str or path-like
        The file to write.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from dsalgo.histories import history_table
    >>> h = history_table([(0, "c1", "put", "x", 1, None, 0.0, 0.5, "ok"),
    ...                    (1, "c2", "get", "x", None, 1, 0.2, float("nan"), "info")])
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.json"
    >>> to_porcupine_json(h, p)
    >>> ops = json.loads(p.read_text())
    >>> ops[0]["ClientId"], ops[0]["Call"], ops[0]["Return"], ops[1]["Output"]["unknown"]
    (0, 0, 500000000, True)
    """
    cols = ["op_id", "process", "f", "key", "value", "result", "t_invoke", "t_complete",
            "status"]
    _need(history, "history", cols, "a history table")
    clients = {p: i for i, p in enumerate(pd.unique(history["process"]))}
    ns = [round(float(t) * 1e9) for t in history["t_invoke"]]
    done = [None if pd.isna(t) else round(float(t) * 1e9) for t in history["t_complete"]]
    last = max([*ns, *(d for d in done if d is not None)], default=0) + 1
    ops = []
    for i, row in enumerate(history.itertuples(index=False)):
        unknown = row.status == "info" or done[i] is None
        ops.append({
            "ClientId": clients[row.process],
            "Input": {"op": str(row.f), "key": _plain(row.key), "value": _plain(row.value)},
            "Call": ns[i],
            "Output": {"value": _plain(row.result), "status": str(row.status),
                       "unknown": bool(unknown)},
            "Return": last if unknown else done[i],
            "op_id": int(row.op_id),
        })
    _atomic_write(path, json.dumps(ops, indent=1) + "\n")


def to_shiviz(run, path) -> None:
    """Write ``run.messages`` as a ShiViz log with vector clocks.

    Parameters
    ----------
    run : Run or DataFrame
        A run (its ``messages`` table is used) or a messages table (``msg_id, src, dst,
        type, t_send, t_deliver, status``).
    path : str or path-like
        The file to write: the regular expression, a blank line, then two lines per event.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> msgs = pd.DataFrame({"msg_id": [0, 1], "src": ["n1", "n2"], "dst": ["n2", "n1"],
    ...                      "type": ["Ping", "Pong"], "t_send": [0.0, 0.2],
    ...                      "t_deliver": [0.1, 0.3], "status": ["delivered"] * 2})
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "run.shiviz"
    >>> to_shiviz(msgs, p)
    >>> print(p.read_text().splitlines()[2:6])
    ['n1 {"n1": 1}', 'send Ping to n2 (msg 0) t=0s', 'n2 {"n1": 1, "n2": 1}', 'recv Ping from n1 (msg 0) t=0.1s']
    """
    messages = getattr(run, "messages", run)
    cols = ["msg_id", "src", "dst", "type", "t_send", "t_deliver", "status"]
    _need(messages, "run.messages", cols, "a messages table")
    events = []
    for m in messages.itertuples(index=False):
        events.append((float(m.t_send), 1, int(m.msg_id), m))
        if m.status == "delivered" and not pd.isna(m.t_deliver):
            events.append((float(m.t_deliver), 0, int(m.msg_id), m))
    # at equal times a delivery comes first: a node's send at the instant it handles a
    # message is (likely) caused by it; a zero-latency message's send is pulled forward
    events.sort(key=lambda e: e[:3])
    clocks: dict = {}
    sent: dict = {}
    lines = [SHIVIZ_REGEX, ""]

    def record(host, text):
        lines.append(f"{host} {json.dumps(dict(sorted(clocks[host].items())))}")
        lines.append(text)

    def send(t, msg_id, m):
        host = str(m.src)
        clock = clocks.setdefault(host, {})
        clock[host] = clock.get(host, 0) + 1
        sent[msg_id] = dict(clock)
        fate = "" if m.status == "delivered" else " [dropped]"
        record(host, f"send {m.type} to {m.dst} (msg {msg_id}) t={t:g}s{fate}")

    for t, is_send, msg_id, m in events:
        if is_send:
            if msg_id not in sent:
                send(t, msg_id, m)
            continue
        if msg_id not in sent:
            send(float(m.t_send), msg_id, m)
        host = str(m.dst)
        clock = clocks.setdefault(host, {})
        for h, c in sent[msg_id].items():
            clock[h] = max(clock.get(h, 0), c)
        clock[host] = clock.get(host, 0) + 1
        record(host, f"recv {m.type} from {m.src} (msg {msg_id}) t={t:g}s")
    _atomic_write(path, "\n".join(lines) + "\n")
