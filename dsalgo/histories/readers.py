"""Reading Jepsen and Knossos histories into the project's history table.

Jepsen (Kingsbury) records a test as a sequence of events, one per line: an ``:invoke``
when a client process starts an operation and an ``:ok``, ``:fail`` or ``:info`` when it
ends (``:info``: the outcome is unknown, and Jepsen gives the process a fresh id).  Two
spellings are common and both are read here:

- **the log** (``jepsen.log``): ``INFO  jepsen.util - <process> :<type> :<f> <value>``, the
  format of the etcd histories Porcupine and Horn & Kroening's checker test against;
- **EDN histories** (``history.edn``, Knossos's input): one map per line,
  ``{:process 0, :type :invoke, :f :read, :key "k", :value nil}``, or one collection of
  maps for the whole file, ``[{…} {…} …]``, as Knossos stores its test data.

Each invoke is matched with the next completion of the same process and becomes one row
of the history table (``op_id, process, f, key, value, result, t_invoke, t_complete,
status``).  The Jepsen names are mapped to the project's (``read`` → ``get``, ``write`` →
``put``); ``value`` is the argument (what was written, ``[old, new]`` for a cas) and
``result`` what a read returned.  An operation never completed, or completed ``:info``, has
status ``info`` and no ``t_complete``.  For a ``txn`` (Knossos's multi-register:
``:value [[:read 0 nil] [:write 1 3]]``) ``value`` is the invocation's list and
``result`` the completion's, with the values the reads returned.

**Semantics.**  Each reader records the rules its source follows in
``table.attrs["semantics"]``, which :func:`dsalgo.check.linearizable` uses unless told
otherwise: ``"porcupine"`` for Jepsen logs (the etcd logs Porcupine checks: a failed cas
observed that the compare failed, a nil read saw nil), ``"knossos"`` for EDN histories
(Knossos's input: a failed operation did not happen, a nil read is unknown).

What it simplifies: the Porcupine logs carry no clock, so times are **line numbers** (a
logical clock in which only order matters; the checker only compares times).  An EDN map
with a ``:time`` field (Jepsen writes nanoseconds) uses it, in seconds.  Nemesis events and
log lines that are not operation events (not from ``jepsen.util``, or not of the form
``<process> :<type> …``) are skipped.

**Order of EDN events.**  Knossos orders operations by their place in the file, not by
``:time`` (its ``:time`` values, from several clients' clocks, can go back).  Here too the
file decides: when every event has a ``:time`` and the times never go back in file order,
they are used (in seconds, so plots show real durations); otherwise — some event lacks a
``:time``, or a later event has an earlier one — the times are the events' positions in
the file (line numbers, or the index of the event when several share a line), and
``table.attrs["clock"]`` says ``"file order"`` (else ``"time"``).  A malformed line raises ``ValueError``
naming the file, the line and what was expected.
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import re

import numpy as np
import pandas as pd

from .edn import EDNError, parse_edn, parse_edn_forms

__all__ = ["HISTORY_COLUMNS", "history_table", "read_edn", "read_jepsen_log"]

HISTORY_COLUMNS = ["op_id", "process", "f", "key", "value", "result", "t_invoke",
                   "t_complete", "status"]
_F_NAMES = {"read": "get", "write": "put"}
_TYPES = ("invoke", "ok", "fail", "info")
_LOG_LINE = re.compile(r"jepsen\.util\s*[-:]\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*?))?\s*$")


def _objects(values):
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return arr


def history_table(rows) -> pd.DataFrame:
    """A history table (the dtypes of ``run.history``) from rows in column order.

    Examples
    --------
    >>> h = history_table([(0, "c1", "put", "x", 1, None, 0.0, 0.5, "ok")])
    >>> h.dtypes["t_complete"], str(h.dtypes["status"])
    (dtype('float64'), 'category')
    """
    cols = list(zip(*rows)) if rows else [[] for _ in HISTORY_COLUMNS]
    return pd.DataFrame({
        "op_id": np.array(cols[0], dtype=np.int64),
        "process": pd.Categorical(cols[1]),
        "f": pd.Categorical(cols[2]),
        "key": pd.Series(_objects(cols[3]), dtype=object),   # as given: no string inference
        "value": pd.Series(_objects(cols[4]), dtype=object),
        "result": pd.Series(_objects(cols[5]), dtype=object),
        "t_invoke": np.array(cols[6], dtype=np.float64),
        "t_complete": np.array(cols[7], dtype=np.float64),
        "status": pd.Categorical(cols[8], categories=["ok", "fail", "info"]),
    })


class _Matcher:
    """Pairs invocations with completions, per process, in file order."""

    def __init__(self, path):
        self.path = path
        self.pending = {}                 # process -> row (list)
        self.rows = []

    def error(self, lineno, message):
        return ValueError(f"{self.path}, line {lineno}: {message}")

    def event(self, lineno, process, typ, f, key, value, t):
        if typ not in _TYPES:
            raise self.error(lineno, f"expected an event type :invoke, :ok, :fail or :info; "
                                     f"got :{typ}")
        f = _F_NAMES.get(f, f)
        if typ == "invoke":
            if process in self.pending:
                raise self.error(lineno, f"process {process} invokes {f} while its "
                                         f"operation from line {self.pending[process][-1]} "
                                         f"is still pending")
            arg = None if f == "get" else value
            row = [len(self.rows), process, f, key, arg, None, t, math.nan, "info", lineno]
            self.rows.append(row)
            self.pending[process] = row
            return
        row = self.pending.pop(process, None)
        if row is None:
            raise self.error(lineno, f"a :{typ} completion for process {process} with no "
                                     f"pending :invoke")
        if row[2] != f:
            raise self.error(lineno, f"a :{typ} :{f} completes process {process}'s :invoke "
                                     f":{row[2]} from line {row[-1]}; expected :{row[2]}")
        if t < row[6]:
            raise self.error(lineno, f"a :{typ} :{f} at time {t:g} s completes process "
                                     f"{process}'s :invoke from line {row[-1]} at the later "
                                     f"time {row[6]:g} s; expected times that never go back")
        if typ == "info":
            return                           # outcome unknown: stays open
        row[8] = typ
        row[7] = t
        if typ == "ok" and f in ("get", "txn"):
            row[5] = value                   # what the reads returned

    def table(self):
        return history_table([tuple(r[:9]) for r in self.rows])


def _freeze_value(v):
    if isinstance(v, list):
        return [_freeze_value(x) for x in v]
    return str(v) if isinstance(v, str) else v


def read_jepsen_log(path) -> pd.DataFrame:
    """Read a Jepsen log (``INFO jepsen.util - <process> :<type> :<f> <value>`` lines).

    Parameters
    ----------
    path : str or path-like
        The log file.  Lines that are not ``jepsen.util`` events, and nemesis events, are
        skipped.

    Returns
    -------
    DataFrame
        The history table; times are line numbers (the log has no clock).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "jepsen.log"
    >>> _ = p.write_text("INFO  jepsen.util - 0\\t:invoke\\t:write\\t3\\n"
    ...                  "INFO  jepsen.util - 1\\t:invoke\\t:read\\tnil\\n"
    ...                  "INFO  jepsen.util - 0\\t:ok\\t:write\\t3\\n"
    ...                  "INFO  jepsen.util - 1\\t:ok\\t:read\\t3\\n")
    >>> read_jepsen_log(p)[["process", "f", "value", "result", "t_invoke", "t_complete"]]
      process    f value result  t_invoke  t_complete
    0       0  put     3   None       1.0         3.0
    1       1  get  None      3       2.0         4.0
    """
    path = os.fspath(path)
    m_ = _Matcher(path)
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if "jepsen.util" not in line:
                continue
            m = _LOG_LINE.search(line)
            if m and not (m.group(1).isdigit() or m.group(1) == ":nemesis"
                          or m.group(2).startswith(":")):
                continue                # a jepsen.util message, not an operation event
            if not m:
                raise m_.error(lineno, f"expected '<process> :<type> :<f> <value>' after "
                                       f"'jepsen.util -'; got {line.strip()!r}")
            proc, typ, f, value = m.groups()
            if proc == ":nemesis":
                continue
            if not proc.isdigit() or not typ.startswith(":") or not f.startswith(":"):
                raise m_.error(lineno, f"expected an integer process, :type and :f; got "
                                       f"{proc!r} {typ!r} {f!r}")
            try:
                value = parse_edn(value or "nil")
            except EDNError as e:
                raise m_.error(lineno, f"expected an EDN value after :{f[1:]}; {e}") from None
            m_.event(lineno, int(proc), typ[1:], f[1:], None, _freeze_value(value),
                     float(lineno))
    table = m_.table()
    table.attrs["semantics"] = "porcupine"
    table.attrs["clock"] = "line"
    return table


def read_edn(path) -> pd.DataFrame:
    """Read an EDN history: a stream of ``{:process …, :type …, :f …, :value …}`` maps (one
    per line) or one vector or list of them (Knossos's files).

    Parameters
    ----------
    path : str or path-like
        The history file.  ``:key`` (optional) goes to the ``key`` column; ``:time``
        (nanoseconds, optional) gives the times when every event has one and they never go
        back in file order; otherwise the order of the file does (see the module essay).
        A malformed event raises ``ValueError`` naming the file and the line.

    Returns
    -------
    DataFrame
        The history table, with ``attrs["semantics"] == "knossos"`` and
        ``attrs["clock"]`` ``"time"`` or ``"file order"``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.edn"
    >>> _ = p.write_text('{:process 0, :type :invoke, :f :put, :key "a", :value "x"}\\n'
    ...                  '{:process 0, :type :ok, :f :put, :key "a", :value "x"}\\n')
    >>> read_edn(p)[["f", "key", "value", "status", "t_invoke", "t_complete"]]
         f key value status  t_invoke  t_complete
    0  put   a     x     ok       1.0         2.0
    >>> _ = p.write_text('[{:process 0, :type :invoke, :f :txn, :value [[:r 1 nil]], :time 9}'
    ...                  ' {:process 0, :type :ok, :f :txn, :value [[:r 1 3]], :time 5}]')
    >>> h = read_edn(p)
    >>> h.loc[0, "result"], h.attrs["clock"], h.attrs["semantics"], float(h.loc[0, "t_complete"])
    ([['r', 1, 3]], 'file order', 'knossos', 2.0)
    """
    path = os.fspath(path)
    m_ = _Matcher(path)
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    newlines = [i for i, c in enumerate(text) if c == "\n"] if "\n" in text else []

    def line_of(offset):
        return bisect.bisect_right(newlines, offset - 1) + 1

    try:
        forms, inner = parse_edn_forms(text)
    except EDNError as e:
        lineno = line_of(e.offset)
        col = e.offset - (newlines[lineno - 2] + 1 if lineno > 1 else 0)
        msg = str(e).replace(f"character {e.offset}", f"column {col}")
        raise m_.error(lineno, f"expected EDN maps; {msg}") from None
    events = []
    for offset, ev in (inner if inner is not None else forms):
        lineno = line_of(offset)
        if not isinstance(ev, dict):
            raise m_.error(lineno, f"expected an EDN map {{:process …, :type …, :f …}}; "
                                   f"got {type(ev).__name__}")
        missing = [k for k in ("process", "type", "f") if k not in ev]
        if missing:
            raise m_.error(lineno, f"expected keys :process, :type and :f; missing "
                                   f"{', '.join(':' + k for k in missing)}")
        if ev["process"] == "nemesis":
            continue
        t = ev.get("time")
        if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))
                              or not math.isfinite(t)):
            raise m_.error(lineno, f"expected :time to be a finite number of nanoseconds; "
                                   f"got {t!r}")
        events.append((lineno, ev, t))
    times = [t for _, _, t in events]
    use_time = bool(events) and all(t is not None for t in times) and all(
        a <= b for a, b in itertools.pairwise(times))
    lines = [ln for ln, _, _ in events]
    by_line = all(a < b for a, b in itertools.pairwise(lines))
    for i, (lineno, ev, t) in enumerate(events, start=1):
        when = t / 1e9 if use_time else float(lineno if by_line else i)
        m_.event(lineno, ev["process"], str(ev["type"]), str(ev["f"]),
                 _freeze_value(ev.get("key")), _freeze_value(ev.get("value")), when)
    table = m_.table()
    table.attrs["semantics"] = "knossos"
    table.attrs["clock"] = "time" if use_time else "file order"
    return table
