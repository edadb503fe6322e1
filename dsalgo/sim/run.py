"""The result of a simulation: four tidy tables, how it was made, and Parquet round trips.

Tables (one row per thing, typed even when empty):

- ``messages``: one row per message copy sent (``status`` delivered / dropped / in_flight;
  ``reason`` loss / partition / node_down for drops, duplicate for a duplicated copy;
  ``t_handle`` when the destination began handling it: ``t_deliver`` unless the node has
  a processing model, where the difference is the queueing delay);
- ``events``: one row per engine or protocol event, the event's own fields as columns;
- ``history``: one row per client operation, an interval from ``t_invoke`` to
  ``t_complete`` (NaN while the outcome is unknown, ``status`` info);
- ``faults``: one row per fault interval.

A run from the simulator keeps its raw columns (typed arrays and lists, copied when the run
ends) and builds each table the first time it is read, so a run whose tables are never
read costs no DataFrame.  The frames are the same as if they were built at once; set
``dsalgo.sim.run.BUILD_EAGERLY = True`` to build every table when the run ends.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Run", "load_run", "MESSAGE_COLUMNS", "EVENT_COLUMNS", "HISTORY_COLUMNS",
           "FAULT_COLUMNS"]

MESSAGE_COLUMNS = ["msg_id", "src", "dst", "type", "t_send", "t_deliver", "t_handle", "status",
                   "reason"]
EVENT_COLUMNS = ["seq", "time", "node", "kind"]
HISTORY_COLUMNS = ["op_id", "process", "f", "key", "value", "result", "t_invoke", "t_complete",
                   "status"]
FAULT_COLUMNS = ["kind", "target", "t_start", "t_end", "detail"]

#: build every table when a run ends instead of when it is first read (same frames)
BUILD_EAGERLY = False

_INT, _FLOAT, _CAT, _OBJ = "int64", "float64", "category", "object"
_SCHEMAS = {
    "messages": dict(zip(MESSAGE_COLUMNS, [_INT, _CAT, _CAT, _CAT, _FLOAT, _FLOAT, _FLOAT, _CAT,
                                           _CAT])),
    "events": dict(zip(EVENT_COLUMNS, [_INT, _FLOAT, _CAT, _CAT])),
    "history": dict(zip(HISTORY_COLUMNS, [_INT, _CAT, _CAT, _OBJ, _OBJ, _OBJ, _FLOAT, _FLOAT,
                                          _CAT])),
    "faults": dict(zip(FAULT_COLUMNS, [_CAT, _CAT, _FLOAT, _FLOAT, _OBJ])),
}
TABLES = tuple(_SCHEMAS)
_FORMAT = "dsalgo-run/1"


def empty_table(name: str) -> pd.DataFrame:
    """An empty table with the columns and dtypes of ``name``."""
    return pd.DataFrame({c: pd.Series([], dtype=d) for c, d in _SCHEMAS[name].items()})


def _categorical(values, none=None) -> pd.Categorical:
    """``pd.Categorical(values)``, the same object, built faster for the tables' usual
    columns (a few distinct strings, perhaps ``None``): sorted categories, each value's
    code through a dict.  ``none``: what ``None`` stands for (missing, code -1, if None).
    Anything else (another type among the values, more than 127 of them) goes to pandas."""
    distinct = set(values)
    has_none = None in distinct
    if has_none:
        distinct.discard(None)
        if none is not None:
            distinct.add(none)
    if not distinct or len(distinct) > 127 or any(type(v) is not str for v in distinct):
        if has_none and none is not None:
            values = [none if v is None else v for v in values]
        return pd.Categorical(values)
    cats = sorted(distinct)
    n = len(values)
    if len(cats) == 1 and not has_none:
        codes = np.zeros(n, dtype=np.int8)
    else:
        index = {c: i for i, c in enumerate(cats)}
        if has_none:
            index[None] = -1 if none is None else index[none]
        codes = np.fromiter(map(index.__getitem__, values), dtype=np.int8, count=n)
    return pd.Categorical.from_codes(codes, categories=pd.Index(cats))


def _column(values, dtype):
    if dtype == _CAT:
        return _categorical(values)
    if dtype == _INT:
        return np.fromiter(values, dtype=np.int64, count=len(values))
    if dtype == _FLOAT:
        return np.array(values, dtype=np.float64)
    return _objects(values)


def _objects(values) -> np.ndarray:
    # element-wise (fromiter takes each item whole): np.array of a sequence of equal-length
    # lists would make a 2-D array
    return np.fromiter(values, dtype=object, count=len(values))


def _frame(name: str, rows) -> pd.DataFrame:
    schema = _SCHEMAS[name]
    if not rows:
        return empty_table(name)
    cols = list(zip(*rows))
    return pd.DataFrame({c: _column(cols[i], d) for i, (c, d) in enumerate(schema.items())})


_STATUS = ["delivered", "dropped", "in_flight"]
_REASON = ["loss", "partition", "node_down", "duplicate"]
# fate code (see engine) -> (status code, reason code); -1 is a missing reason
_FATE_STATUS = np.array([2, 0, 1, 1, 1], dtype=np.int8)
_FATE_REASON = np.array([-1, -1, 0, 1, 2], dtype=np.int8)


# a packed message row code (see dsalgo.sim.wire): src | dst << 20 | type << 40 | fate << 60
_CODE_MASK, _DST_SHIFT, _TYPE_SHIFT, _FATE_SHIFT = (1 << 20) - 1, 20, 40, 60


def _messages_frame(codes, t_send, t_deliver, duplicates, in_flight, node_ids,
                    type_names, cpu_nodes=(), handled_rows=(), handled_t=()) -> pd.DataFrame:
    """The messages table from the wire's columns: packed ``codes`` (int64), ``t_send`` and
    ``t_deliver`` (float64), the row indices of duplicate copies and of copies still in
    flight, the codes of nodes with a processing model, and the rows whose service began
    at such a node with when it began.

    ``t_handle`` is ``t_deliver`` for a message to a node without a processing model
    (handling takes no time there); at a node with one it is when service began, NaN if
    it never did (still queued, or lost in a crash)."""
    n = len(codes)
    if not n:
        return empty_table("messages")
    fate = ((codes >> _FATE_SHIFT) & 0b111).astype(np.int8)
    if len(in_flight):
        fate[in_flight] = 0
    reason = _FATE_REASON[fate]
    if len(duplicates):
        dup = np.asarray(duplicates, dtype=np.int64)
        reason[dup[reason[dup] == -1]] = 3
    nodes = pd.Index(node_ids, dtype=object)
    t_deliver = t_deliver.copy()
    t_deliver[fate != 1] = np.nan
    t_handle = t_deliver.copy()
    if len(cpu_nodes):
        t_handle[np.isin((codes >> _DST_SHIFT) & _CODE_MASK, cpu_nodes)] = np.nan
        t_handle[handled_rows] = handled_t
        t_handle[fate != 1] = np.nan
    return pd.DataFrame({
        "msg_id": np.arange(n, dtype=np.int64),
        "src": pd.Categorical.from_codes(codes & _CODE_MASK, categories=nodes),
        "dst": pd.Categorical.from_codes((codes >> _DST_SHIFT) & _CODE_MASK, categories=nodes),
        "type": pd.Categorical.from_codes((codes >> _TYPE_SHIFT) & _CODE_MASK,
                                          categories=pd.Index(type_names, dtype=object)),
        "t_send": t_send,
        "t_deliver": t_deliver,
        "t_handle": t_handle,
        "status": pd.Categorical.from_codes(_FATE_STATUS[fate], categories=_STATUS),
        "reason": pd.Categorical.from_codes(reason, categories=_REASON),
    })


def _events_frame(time, node, kind, fields) -> pd.DataFrame:
    """The events table from its columns: times (float64) and lists of nodes, kinds and
    field dicts."""
    n = len(time)
    if not n:
        return empty_table("events")
    base = pd.DataFrame({
        "seq": np.arange(n, dtype=np.int64),
        "time": time,
        "node": _categorical(node),
        "kind": _categorical(kind),
    })
    if any(fields):
        extra = pd.DataFrame.from_records(fields)
        extra = extra.drop(columns=[c for c in extra.columns if c in base.columns])
        base = pd.concat([base, extra], axis=1)
    return base


def _history_frame(process, f, key, value, result, t_invoke, t_complete,
                   status) -> pd.DataFrame:
    """The history table from its columns (``status`` None: still open, recorded as info)."""
    n = len(f)
    if not n:
        return empty_table("history")
    return pd.DataFrame({
        "op_id": np.arange(n, dtype=np.int64),
        "process": _categorical(process),
        "f": _categorical(f),
        "key": _objects(key),
        "value": _objects(value),
        "result": _objects(result),
        "t_invoke": t_invoke,
        "t_complete": t_complete,
        "status": _categorical(status, none="info"),
    })


_BUILDERS = {"messages": _messages_frame, "events": _events_frame,
             "history": _history_frame, "faults": _frame}


class _Lazy:
    """A table still to be built: ``_BUILDERS[name](*args)`` (picklable, unlike a closure)."""

    __slots__ = ("args", "name", "rows")

    def __init__(self, name, rows, *args):
        self.name, self.rows, self.args = name, rows, args

    def build(self) -> pd.DataFrame:
        return _BUILDERS[self.name](*self.args)

    def __getstate__(self):
        return self.name, self.rows, self.args

    def __setstate__(self, state):
        self.name, self.rows, self.args = state


class _Table:
    """A run table attribute: built on first read when the run holds raw columns."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, run, owner=None):
        if run is None:
            return self
        table = run._tables[self.name]
        if type(table) is _Lazy:
            table = run._tables[self.name] = table.build()
        return table

    def __set__(self, run, value):
        run._tables[self.name] = value


class Run:
    """What a simulation produced: ``messages``, ``events``, ``history``, ``faults``.

    Attributes
    ----------
    messages, events, history, faults : pandas.DataFrame
        The run tables (see the module docstring for their columns).
    params : dict
        The parameters the run was made with.
    seed : int
        The seed it was made with.
    nodes : list of str
        The node ids, in the order they were added.
    until : float
        The real time the run reached, seconds.
    """

    messages = _Table()
    events = _Table()
    history = _Table()
    faults = _Table()

    def __init__(self, messages=None, events=None, history=None, faults=None, *, params=None,
                 seed=0, nodes=(), until=0.0):
        self._tables = {}
        for name, table in zip(TABLES, (messages, events, history, faults)):
            self._tables[name] = empty_table(name) if table is None else table
        self.params = dict(params or {})
        self.seed = int(seed)
        self.nodes = list(nodes)
        self.until = float(until)

    @classmethod
    def from_columns(cls, *, messages, events, history, faults, params, seed, nodes, until):
        """A run from the simulator's raw columns, each table built when first read.

        ``messages``, ``events`` and ``history`` are the argument tuples of
        ``_messages_frame``, ``_events_frame`` and ``_history_frame``, ``faults`` a list of
        rows; the caller hands over copies nothing else will change.
        """
        tables = [_Lazy("messages", len(messages[0]), *messages),
                  _Lazy("events", len(events[0]), *events),
                  _Lazy("history", len(history[1]), *history),
                  _Lazy("faults", len(faults), "faults", faults)]
        if BUILD_EAGERLY:
            tables = [t.build() for t in tables]
        return cls(*tables, params=params, seed=seed, nodes=nodes, until=until)

    def _rows(self, name: str) -> int:
        """Rows in table ``name``, without building it."""
        table = self._tables[name]
        return table.rows if type(table) is _Lazy else len(table)

    # -------------------------------------------------------------- summary
    def summary(self) -> pd.Series:
        """Counts, time span and messages dropped by reason, as a Series.

        Examples
        --------
        >>> from dsalgo import sim
        >>> s = sim.Simulation(seed=0); s.add_node("n1", sim.Node)
        >>> s.run(until=1.0).summary()["messages"]
        0
        """
        m = self.messages
        h = self.history
        out = {
            "nodes": len(self.nodes),
            "until": self.until,
            "messages": len(m),
            "delivered": int((m["status"] == "delivered").sum()),
            "dropped": int((m["status"] == "dropped").sum()),
        }
        for reason in ("loss", "partition", "node_down"):
            dropped = (m["status"] == "dropped") & (m["reason"] == reason)
            out[f"dropped_{reason}"] = int(dropped.sum())
        out["duplicates"] = int((m["reason"] == "duplicate").sum())
        out["in_flight"] = int((m["status"] == "in_flight").sum())
        out["events"] = len(self.events)
        out["operations"] = len(h)
        for s in ("ok", "fail", "info"):
            out[f"ops_{s}"] = int((h["status"] == s).sum())
        out["faults"] = len(self.faults)
        return pd.Series(out, name="summary", dtype=object)

    def __repr__(self):
        n = self._rows
        return (f"<Run seed={self.seed} until={self.until:g}s nodes={len(self.nodes)} "
                f"messages={n('messages')} events={n('events')} "
                f"ops={n('history')} faults={n('faults')}>")

    def __eq__(self, other):
        if not isinstance(other, Run):
            return NotImplemented
        return (self.seed == other.seed and self.nodes == other.nodes
                and self.until == other.until
                and _encode_value(self.params) == _encode_value(other.params)
                and all(getattr(self, t).equals(getattr(other, t)) for t in TABLES))

    __hash__ = None

    # -------------------------------------------------------------- persistence
    def save(self, path) -> Path:
        """Write the run to the folder ``path`` as Parquet (one file per table) plus metadata.

        The write goes to a temporary folder first and is moved into place only when
        complete, so a failed save leaves no partial output.  An existing run folder at
        ``path`` is replaced.

        Examples
        --------
        >>> import tempfile, os
        >>> from dsalgo import sim
        >>> s = sim.Simulation(seed=0); s.add_node("n1", sim.Node)
        >>> run = s.run(until=1.0)
        >>> d = tempfile.mkdtemp()
        >>> sim.load_run(run.save(os.path.join(d, "run"))) == run
        True
        """
        path = Path(path)
        if path.exists() and not (path / "meta.json").is_file() and (
                not path.is_dir() or any(path.iterdir())):
            raise ValueError(f"path {str(path)!r} exists and is not a saved run; "
                             f"give a new folder or one written by Run.save")
        parent = path.parent
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=parent))
        try:
            meta = {"format": _FORMAT, "seed": self.seed, "nodes": self.nodes,
                    "until": self.until, "params": _encode_value(self.params, lenient=True),
                    "tables": {}}
            for name in TABLES:
                df, info = _encode_frame(getattr(self, name), name)
                df.to_parquet(tmp / f"{name}.parquet", index=False)
                meta["tables"][name] = info
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
            if path.exists():
                trash = parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
                os.replace(path, trash)
                os.replace(tmp, path)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path


def load_run(path) -> Run:
    """Read a run written by :meth:`Run.save`; the tables come back with the same dtypes.

    Examples
    --------
    >>> from dsalgo import sim
    >>> sim.load_run("no/such/folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no saved run at 'no/such/folder' (meta.json is missing)
    """
    path = Path(path)
    meta_path = path / "meta.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"no saved run at {str(path)!r} (meta.json is missing)")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{meta_path}: line {e.lineno}: not valid JSON ({e.msg})") from None
    if meta.get("format") != _FORMAT:
        raise ValueError(f"{meta_path}: format {meta.get('format')!r} is not {_FORMAT!r}")
    tables = {}
    for name in TABLES:
        df = pd.read_parquet(path / f"{name}.parquet")
        tables[name] = _decode_frame(df, meta["tables"][name])
    return Run(**tables, params=_decode_value(meta["params"]), seed=meta["seed"],
               nodes=meta["nodes"], until=meta["until"])


# ---------------------------------------------------------------------- encoding
# Object columns hold arbitrary Python values (ints, lists for cas, tuples for ballots).
# Parquet wants one type per column, so each cell is written as tagged JSON that
# restores tuples, sets, dicts with non-string keys and non-finite floats exactly.

def _encode_value(v, lenient=False):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else {"__f": repr(v)}
    if isinstance(v, tuple):
        return {"__t": [_encode_value(x, lenient) for x in v]}
    if isinstance(v, list):
        return [_encode_value(x, lenient) for x in v]
    if isinstance(v, (set, frozenset)):
        items = sorted((_encode_value(x, lenient) for x in v), key=json.dumps)
        return {"__fs" if isinstance(v, frozenset) else "__s": items}
    if isinstance(v, dict):
        return {"__d": [[_encode_value(k, lenient), _encode_value(x, lenient)]
                        for k, x in v.items()]}
    if lenient:
        return {"__repr": repr(v)}
    raise TypeError(f"cannot save a value of type {type(v).__name__} ({v!r:.60}); run tables "
                    f"may hold None, bool, int, float, str, and tuples, lists, sets and dicts "
                    f"of those")


def _decode_value(v):
    if isinstance(v, list):
        return [_decode_value(x) for x in v]
    if isinstance(v, dict):
        if "__t" in v:
            return tuple(_decode_value(x) for x in v["__t"])
        if "__f" in v:
            return float(v["__f"])
        if "__s" in v:
            return {_decode_value(x) for x in v["__s"]}
        if "__fs" in v:
            return frozenset(_decode_value(x) for x in v["__fs"])
        if "__d" in v:
            return {_hashable(_decode_value(k)): _decode_value(x) for k, x in v["__d"]}
        if "__repr" in v:
            return v["__repr"]
    return v


def _hashable(k):
    return tuple(k) if isinstance(k, list) else k


def _encode_frame(df: pd.DataFrame, name: str):
    out = {}
    info = {"columns": list(df.columns), "json": [], "categories": {}}
    for c in df.columns:
        col = df[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            cats = col.cat.categories
            info["categories"][c] = {"dtype": str(cats.dtype),
                                     "values": [_encode_value(x) for x in cats]}
            out[c] = col.cat.codes.astype("int32")
        elif col.dtype == object:
            try:
                out[c] = [json.dumps(_encode_value(x)) for x in col]
            except TypeError as e:
                raise TypeError(f"{name}.{c}: {e}") from None
            info["json"].append(c)
        else:
            out[c] = col.to_numpy()
    frame = pd.DataFrame(out, columns=list(df.columns), index=pd.RangeIndex(len(df)))
    for c in info["json"]:
        frame[c] = frame[c].astype(object)
    return frame, info


def _decode_frame(df: pd.DataFrame, info) -> pd.DataFrame:
    out = {}
    for c in info["columns"]:
        col = df[c]
        if c in info["categories"]:
            spec = info["categories"][c]
            cats = pd.Index([_decode_value(x) for x in spec["values"]], dtype=spec["dtype"])
            out[c] = pd.Categorical.from_codes(col.to_numpy(), categories=cats)
        elif c in info["json"]:
            out[c] = _objects([_decode_value(json.loads(x)) for x in col])
        else:
            out[c] = col.to_numpy()
    return pd.DataFrame(out, columns=info["columns"], index=pd.RangeIndex(len(df)))
