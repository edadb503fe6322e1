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

- the rules for failed operations and nil reads are named (``semantics="porcupine"`` or
  ``"knossos"``, see :mod:`dsalgo.check.models`); by default the history's reader decides
  (``history.attrs["semantics"]``: Jepsen logs follow Porcupine's etcd rules, EDN
  histories Knossos's), else ``"porcupine"``.  The verdict says which it used.

What it simplifies: the check is exact but exponential in the worst case, so it takes
hard limits and answers ``"unknown"`` when one runs out, naming the keys it could not
decide and what it explored: ``time_limit`` bounds the whole call (the search stops early
enough to leave time to free what it stored), ``max_configs`` bounds the configurations
stored at once (about 100–300 bytes each: the default 5 million stay under
1.5 GB), so memory stays bounded too.  Independent keys
are interleaved, so one hard key does not starve the others.  By default the first key
shown not linearizable decides (as in Porcupine); ``stop_at_first=False`` explains every
key, within the same limits.
Real-time order comes from the two time columns only (an operation that completes at the
same instant another is invoked counts as concurrent with it).

For a history that is not linearizable, the verdict names, per key, the smallest prefix
of the history that cannot be linearized: the completion of one operation after which no
order works, that operation, the operations concurrent with it and the states every
linearization of the earlier operations could have left behind.
"""

from __future__ import annotations

import gc
import itertools
import math
import operator
import time

import numpy as np
import pandas as pd

from .._validate import check_choice, check_int, check_number
from ._wgl import Result, search
from .models import ALIASES, KV, MODELS, SEMANTICS, CASRegister, Model, Register, freeze, get_model
from .verdict import Verdict, log_position

__all__ = ["linearizable"]

_REQUIRED = ["op_id", "f", "value", "result", "t_invoke", "t_complete", "status"]
_PROPERTY = "linearizability"
_FREE_S_PER_CONFIG = 2.5e-7     # cost of freeing one stored configuration (measured, loaded)
_ARROW = "\u2192"
_STATUSES = frozenset(("ok", "fail", "info"))
_ATOMIC = frozenset((int, str, bool, type(None)))     # freeze() leaves these as they are
_ATOMIC_OR_LIST = _ATOMIC | {list}
_FLOAT64 = np.dtype("float64")
_FINITE = math.isfinite
_LE = operator.le
_LT = operator.lt
_CONFIGS = operator.attrgetter("configs")
_INF = math.inf
_STR_ONLY = {str}
_UNSTARTED = (0, 0)               # the progress of a search not started


#: Built-in models by name: {None: the default instance, semantics: its copy}; they hold
#: no state, so one instance per name and semantics serves every call.
_NAMED = {name: {None: cls()} for name, cls in MODELS.items()}
_CATEGORIES: dict = {}                 # id(dtype) -> (dtype, its categories as a list)
_LOCS: dict = {}                       # id(columns) -> (columns, {name: position})


def _categories(dtype) -> np.ndarray:
    """The categories of a categorical dtype as an object array ending in None (code -1),
    cached.

    A ``CategoricalDtype`` is immutable (changing a column's categories gives it a new
    dtype), so the array is cached on the dtype's identity: checking the same table again
    does not convert its categories again (from Arrow strings that costs more than the
    rest of a small column).
    """
    hit = _CATEGORIES.get(id(dtype))
    if hit is not None and hit[0] is dtype:
        return hit[1]
    cats = np.empty(len(dtype.categories) + 1, dtype=object)
    for i, c in enumerate(dtype.categories.tolist()):   # one by one: a tuple stays whole
        cats[i] = c
    if len(_CATEGORIES) >= 256:
        _CATEGORIES.clear()
    _CATEGORIES[id(dtype)] = (dtype, cats)
    return cats


def _locs(history) -> dict:
    """Column name -> position (None for a name that is not unique), cached.

    An ``Index`` is immutable (adding or renaming a column gives the frame a new one), so
    the map is cached on the column index's identity, like :func:`_categories`.
    """
    columns = history.columns
    hit = _LOCS.get(id(columns))
    if hit is not None and hit[0] is columns:
        return hit[1]
    locs: dict = {}
    for i, c in enumerate(columns):
        locs[c] = None if c in locs else i
    if len(_LOCS) >= 256:
        _LOCS.clear()
    _LOCS[id(columns)] = (columns, locs)
    return locs


def _array(history, name, locs):
    """One column's array, without the per-access cost of ``history[name]`` (``locs``:
    :func:`_locs` of the table)."""
    loc = locs.get(name)
    if loc is not None:
        try:
            return history._get_column_array(loc)
        except (AttributeError, TypeError):
            pass
    return history[name].array


def _column(history, name, locs) -> list:
    """One column as a Python list (a categorical one decoded by a C-level take)."""
    return _tolist(_array(history, name, locs))


def _codes(arr) -> np.ndarray:
    """A categorical array's codes, without the read-only view ``arr.codes`` makes on
    each access (the array is only read)."""
    codes = getattr(arr, "_codes", None)
    return codes if type(codes) is np.ndarray else arr.codes


def _tolist(arr) -> list:
    if isinstance(arr, pd.Categorical):
        return _categories(arr.dtype).take(_codes(arr)).tolist()
    return arr.tolist()


def _semantics_of(semantics, model, history):
    if semantics is not None:
        return check_choice("semantics", semantics, SEMANTICS)
    if model.semantics is not None:
        return model.semantics
    attr = history.attrs.get("semantics") if isinstance(history, pd.DataFrame) else None
    if attr is not None:
        if attr not in SEMANTICS:
            raise ValueError(f"history.attrs['semantics'] must be one of "
                             f"{', '.join(map(repr, SEMANTICS))}; got {attr!r}")
        return attr
    return "porcupine"


def _prepare(history, model: Model):
    """Validate the table and split it into independent partitions of search ops.

    Returns ``(partitions, their op ids, the op_id column as a list, times, in_order)``:
    ``times`` maps some partitions to the call times of their ops followed by their
    return times (what the search sorts; given when they are at hand); ``in_order`` is
    True when every operation returns before the next row is invoked, so that no two
    operations of any partition overlap and each is listed in call order."""
    if not isinstance(history, pd.DataFrame):
        raise TypeError(f"history must be a pandas DataFrame with columns {_REQUIRED}; got "
                        f"{type(history).__name__}")
    columns = _locs(history)
    missing = [c for c in _REQUIRED if c not in columns]
    if model.partition_by and model.partition_by not in columns:
        missing.append(model.partition_by)
    if missing:
        raise ValueError(f"history is missing columns {missing}; a history table has "
                         f"{_REQUIRED + ['process', 'key']}")
    op_col = _column(history, "op_id", columns)
    if not op_col:
        return {}, {}, [], {}, False
    if len(set(op_col)) != len(op_col):
        seen, dup = set(), set()
        for o in op_col:
            (dup if o in seen else seen).add(o)
        raise ValueError(f"history has duplicate op_id values {sorted(dup)[:5]}; each "
                         f"operation needs its own op_id")
    keys = (_column(history, model.partition_by, columns) if model.partition_by
            else [None] * len(op_col))
    t_inv, t_comp = _array(history, "t_invoke", columns), _array(history, "t_complete", columns)
    cols = (op_col, _column(history, "f", columns), _column(history, "value", columns),
            _column(history, "result", columns), t_inv.tolist(), t_comp.tolist(),
            _column(history, "status", columns), keys)
    fast = (_prepare_fast(model, *cols) if t_inv.dtype == _FLOAT64 == t_comp.dtype
            and type(t_inv) is np.ndarray is type(t_comp) else None)
    if fast is None:
        return (*_prepare_rows(model, *cols), op_col, {}, False)
    parts, rows, times, in_order = fast
    return parts, rows, op_col, times, in_order


_BUILT_IN = frozenset((Register, CASRegister, KV))
_KEEPS: dict = {}      # (class, its keep, semantics, read_only) -> {(f, status): kept}


def _known_keep(model) -> dict:
    """Whether to keep an operation, by ``(f, status)``, as far as known: a dict shared by
    every call on a built-in model with the same semantics and ``read_only`` (their
    :meth:`~dsalgo.check.models.Model.keep` depends on nothing else), a new one for
    any other model (whose ``keep`` may depend on anything)."""
    cls, read_only = type(model), model.read_only
    if cls not in _BUILT_IN or type(read_only) is not tuple or "keep" in model.__dict__:
        return {}
    key = (cls, cls.keep, Model.keep, model.semantics, read_only)   # a patched keep too
    known = _KEEPS.get(key)
    if known is None:
        if len(_KEEPS) >= 256:
            _KEEPS.clear()
        known = _KEEPS[key] = {}
    return known


def _frozen(column: list) -> list:
    """:func:`~dsalgo.check.models.freeze` applied to a column, with a shortcut for flat
    lists (a cas's ``[old, new]``): ``tuple(v)`` is ``freeze(v)`` when every item is an
    int, str, bool or None, which one check over all of them confirms."""
    atomic = _ATOMIC
    types = set(map(type, column))
    if atomic.issuperset(types):
        return column                    # nothing to freeze (the common case)
    if _ATOMIC_OR_LIST.issuperset(types):
        lists = [v for v in column if type(v) is list]
        if atomic.issuperset(map(type, itertools.chain.from_iterable(lists))):
            return [tuple(v) if type(v) is list else v for v in column]
    return [v if type(v) in atomic else freeze(v) for v in column]


def _prepare_fast(model, op_col, f_col, values, results, t_inv, t_comp, statuses, keys):
    """:func:`_prepare_rows` column by column, for a well-formed table with float times.

    Returns ``(parts, rows, times, in_order)`` (see :func:`_prepare`), or None as soon
    as anything is unusual (a status or ``f`` to convert or reject, a time to reject, a
    malformed cas): the row-by-row version then gives the same answer, or the error
    naming the row.
    """
    if not _STATUSES.issuperset(statuses):
        return None
    fs = set(f_col)
    if not (set(map(type, fs)) == _STR_ONLY and fs.isdisjoint(ALIASES)
            and fs.issubset(model.operations)):      # else some f to rename or reject
        names = {}
        for f in fs:
            name = ALIASES.get(f, f) if type(f) is str else None
            if name not in model.operations:
                return None
            names[f] = name
        f_col = [names[f] for f in f_col]
        fs = set(names.values())
    n_info = statuses.count("info")
    if n_info:                           # an info op may take effect at any later time
        t_comp = t_comp.copy()
        i = -1
        for _ in range(n_info):
            i = statuses.index("info", i + 1)
            t_comp[i] = _INF
    if not (all(map(_FINITE, t_inv)) and all(map(_LE, t_inv, t_comp))
            and t_comp.count(_INF) == n_info):
        return None
    atomic = _ATOMIC
    values = _frozen(values)
    results = _frozen(results)
    if "cas" in fs:
        cas = [v for f, v in zip(f_col, values) if f == "cas"]
        if not ({tuple}.issuperset(map(type, cas)) and {2}.issuperset(map(len, cas))):
            return None
    knossos = model.semantics == "knossos"
    if knossos:
        read_only = model.read_only
        statuses = ["info" if s == "ok" and r is None and f in read_only else s
                    for f, r, s in zip(f_col, results, statuses)]
    known = _known_keep(model)
    keep = {}
    for pair in set(zip(f_col, statuses)):
        kept = known.get(pair)
        if kept is None:
            kept = known[pair] = bool(model.keep(*pair)) and not (knossos and pair[1] == "fail")
        keep[pair] = kept
    ops = zip(t_inv, t_comp, f_col, values, results, statuses)
    if not model.partition_by:
        if all(keep.values()):
            return (({None: list(ops)}, {None: op_col}, {None: t_inv + t_comp}, False)
                    if op_col else ({}, {}, {}, False))
        kept = [(op, i) for op, i in zip(ops, op_col) if keep[op[2], op[5]]]
        if not kept:
            return {}, {}, {}, False
        part, ids = map(list, zip(*kept))
        return {None: part}, {None: ids}, {}, False
    if not atomic.issuperset(map(type, keys)):
        keys = [k if type(k) in atomic else freeze(k) for k in keys]
    rows_kept = zip(keys, ops, op_col)
    if not all(keep.values()):
        rows_kept = itertools.compress(rows_kept, [keep[pair] for pair in zip(f_col, statuses)])
    parts: dict = {}                     # key -> its ops, keys in order of appearance
    rows: dict = {}                      # key -> their op ids
    for key, op, op_id in rows_kept:
        part = parts.get(key)
        if part is None:
            parts[key] = [op]
            rows[key] = [op_id]
        else:
            part.append(op)
            rows[key].append(op_id)
    # every row returns before the next is invoked (one client): so in every partition
    in_order = not n_info and all(map(_LT, t_comp, itertools.islice(t_inv, 1, None)))
    return parts, rows, {}, in_order


def _prepare_rows(model, op_col, f_col, values, results, t_inv_col, t_comp_col, statuses,
                  keys):
    """The table's rows as search ops, one row at a time, naming the first bad row."""
    knossos = model.semantics == "knossos"
    read_only = model.read_only
    parts: dict = {}
    rows: dict = {}
    cols = zip(op_col, f_col, values, results, t_inv_col, t_comp_col, statuses, keys)
    names: dict = {}                     # f as given -> model name (validated once)
    keep: dict = {}                      # (f, status) -> model.keep
    finite = math.isfinite
    for op_id, f, value, result, t_inv, t_comp, status, key in cols:
        if status not in _STATUSES:
            status = str(status)
            if status not in _STATUSES:
                raise ValueError(f"history row op_id={op_id!r}: status must be 'ok', 'fail' "
                                 f"or 'info'; got {status!r}")
        name = names.get(f)
        if name is None:
            name = ALIASES.get(str(f), str(f))
            if name not in model.operations:
                raise ValueError(f"history row op_id={op_id!r}: f={name!r} is not an "
                                 f"operation of model {model.name!r}; accepted: "
                                 f"{', '.join(model.operations)} (and the aliases "
                                 f"{', '.join(ALIASES)})")
            names[f] = name
        f = name
        if type(t_inv) is not float or type(t_comp) is not float:
            try:
                t_inv = float(t_inv)
                t_comp = float(t_comp) if t_comp is not None else math.nan
            except (TypeError, ValueError):
                raise ValueError(f"history row op_id={op_id!r}: t_invoke and t_complete must "
                                 f"be times in seconds; got {t_inv!r} and {t_comp!r}") from None
        if not finite(t_inv):
            raise ValueError(f"history row op_id={op_id!r}: t_invoke must be a finite time in "
                             f"seconds; got {t_inv!r}")
        if status == "info":
            t_comp = math.inf            # may take effect at any time after its invocation
        elif not finite(t_comp):
            raise ValueError(f"history row op_id={op_id!r}: an operation with status "
                             f"{status!r} needs a finite t_complete; got {t_comp!r} (use "
                             f"status 'info' for an operation whose outcome is unknown)")
        elif t_comp < t_inv:
            raise ValueError(f"history row op_id={op_id!r}: t_complete={t_comp!r} is before "
                             f"t_invoke={t_inv!r}")
        if type(value) not in _ATOMIC:
            value = freeze(value)
        if f == "cas" and not (type(value) is tuple and len(value) == 2):
            raise ValueError(f"history row op_id={op_id!r}: a cas value must be [old, new]; "
                             f"got {value!r}")
        if type(result) not in _ATOMIC:
            result = freeze(result)
        if knossos:
            if status == "fail":
                continue                 # Knossos: a failed operation did not happen
            if status == "ok" and result is None and f in read_only:
                status = "info"          # Knossos: a nil read is a read of unknown value
        kept = keep.get((f, status))
        if kept is None:
            kept = keep[f, status] = model.keep(f, status)
        if not kept:
            continue
        if type(key) not in _ATOMIC:
            key = freeze(key)
        part = parts.get(key)
        if part is None:
            part, ids = parts[key], rows[key] = [], []
        else:
            ids = rows[key]
        part.append((t_inv, t_comp, f, value, result, status))
        ids.append(op_id)
    return parts, rows


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _value(v):
    if isinstance(v, tuple) and len(v) == 3 and isinstance(v[0], str):   # a txn micro-op
        return f"{v[0]} {v[1]!s} {_value(v[2])}"
    if isinstance(v, tuple):
        return "[" + ", ".join(map(_value, v)) + "]"
    return "nil" if v is None else repr(v)


def _describe_op(op_id, op, process):
    """``op 4 cas 0→1 ok by c2``: an operation as a person would write it."""
    _t_call, _t_ret, f, value, result, status = op
    if status == "info":
        out = "outcome unknown"
    elif status == "fail":
        out = "failed"
    else:
        out = "ok"
    if f == "cas" and isinstance(value, tuple) and len(value) == 2:
        what = f"cas {_short(_value(value[0]), 18)}{_ARROW}{_short(_value(value[1]), 18)} {out}"
    elif f == "get":
        what = ("get, outcome unknown" if status == "info" else
                f"get {out}" if status == "fail" else f"get {_ARROW} {_short(_value(result))}")
    elif f == "txn":
        micro = result if status == "ok" and result is not None else value
        what = f"txn [{_short('; '.join(map(_value, micro or ())), 60)}] {out}"
    elif value is None:
        what = f"{f} {out}"
    else:
        what = f"{f} {_short(_value(value))} {out}"
    who = f" by {process}" if process is not None else ""
    return f"op {op_id} {what}{who}"


def _processes(history, op_col, ids, rows=None) -> dict:
    """The ``process`` of the operations ``ids`` (those an explanation names); ``op_col``
    is the table's ``op_id`` column as a list, ``rows`` the ids' rows if known."""
    locs = _locs(history)
    if "process" not in locs:
        return {}
    if rows is None:
        if len(ids) * len(op_col) > 1_000_000:    # many to find: one pass over the table
            wanted = set(ids)
            return {i: p for i, p in zip(op_col, _column(history, "process", locs)) if i in wanted}
        rows = [op_col.index(i) for i in ids]     # a few: C-speed scans
    arr = _array(history, "process", locs)
    if isinstance(arr, pd.Categorical):
        cats, codes = _categories(arr.dtype), _codes(arr)
        procs = [cats[codes[r]] for r in rows]
    else:
        procs = arr.take(rows).tolist()           # a numpy or pandas extension array
    return dict(zip(ids, procs))


def _explain(key, ops, op_ids, res, model, processes, partition_by, clock=None):
    """One violation row and its explanation dict for a non-linearizable partition;
    ``processes(indices)`` gives ``{op id: process}`` for ops of the partition."""
    b = res.blocked
    t_call, t_end = ops[b][0], ops[b][1]
    prefix = [i for i, op in enumerate(ops) if op[0] <= t_end]    # invoked by t_end
    near = [i for i in prefix if ops[i][1] >= t_call and i != b]  # overlapping [t_call, t_end]
    involved = [op_ids[i] for i in near]
    prefix_ops = len(prefix)
    states = ", ".join(_short(model.describe(s)) for s in res.states[:3])
    if len(res.states) > 3:
        states += ", …"
    where = f"{partition_by} {key!r}: " if partition_by else ""
    blocked_id = op_ids[b]
    processes = processes([b, *near])
    detail = (f"{where}{_describe_op(blocked_id, ops[b], processes.get(blocked_id))} cannot "
              f"be linearized; the smallest non-linearizable prefix ends at its completion "
              f"({log_position(t_end, clock) or f't={t_end:g}'}, "
              f"{_plural(prefix_ops, 'operation')}); the linearizations of the "
              f"operations before it leave the state in {{{states}}}; concurrent with it: "
              f"{_plural(len(involved), 'operation')}")
    nodes = tuple(sorted({str(processes[i]) for i in [blocked_id, *involved]
                          if processes.get(i) is not None}))
    row = {"property": _PROPERTY, "time": t_end, "nodes": nodes, "detail": detail}
    info = {"key": key, "op_id": blocked_id, "prefix_end": t_end, "prefix_ops": prefix_ops,
            "involved": involved, "states": list(res.states)}
    return row, info


def linearizable(history, model="cas-register", *, semantics: str | None = None,
                 time_limit: float | None = 60.0, stop_at_first: bool = True,
                 max_configs: int | None = 5_000_000) -> Verdict:
    """Check that a history is linearizable under a sequential model.

    Parameters
    ----------
    history : DataFrame
        The history table (``op_id, f, value, result, t_invoke, t_complete, status`` and,
        for key-value models, ``key``; ``process`` is used in explanations if present).
    model : str or Model
        ``"register"``, ``"cas-register"`` (the default; one object, ``key`` ignored),
        ``"kv"`` (an independent cas-register per key, plus ``append``),
        ``"multi-register"`` (``txn`` operations over several registers) or a
        :class:`~dsalgo.check.models.Model` instance, e.g. ``KV(initial="")``.
    semantics : {"porcupine", "knossos"} or None
        The rules for failed operations and nil reads (:data:`~dsalgo.check.models.SEMANTICS`):
        ``"porcupine"``, a failed cas observed that the compare failed and a nil read saw
        nil; ``"knossos"``, a failed operation did not happen and a nil read is unknown.
        None: the model's own :attr:`~dsalgo.check.models.Model.semantics`, else the
        history's ``attrs["semantics"]`` (set by :mod:`dsalgo.histories` readers), else
        ``"porcupine"``.
    time_limit : float or None
        Seconds the whole call may take (search and cleanup) before it answers
        ``"unknown"``; None for no limit.
    stop_at_first : bool
        Stop as soon as one key is shown not linearizable (the default, as Porcupine
        does); False decides and explains every key, within the limits.
    max_configs : int or None
        Most search configurations stored at once (the memory bound: about 100–300 bytes
        each); reaching it answers ``"unknown"`` for the keys not yet decided.  None for no
        bound.

    Returns
    -------
    Verdict
        Property ``linearizability``: one violation row per key shown not linearizable
        (``time`` = end of its smallest non-linearizable prefix, ``nodes`` = processes of
        the operations involved).  ``verdict.info`` holds ``semantics``, ``explanations``
        (one dict per violation: ``key, op_id, prefix_end, prefix_ops, involved,
        states``), ``undecided`` (keys a limit cut short) and ``explored`` (per undecided
        key, the configurations stored and search steps taken), ``witness`` (a
        linearization order of op ids per key, when linearizable), ``ops``, ``keys``,
        ``configs``, ``seconds``; when keys are undecided, ``reason``.

    Notes
    -----
    The search is exponential in the number of operations that overlap in time, not in the
    length of the history (see notebook 07).  A non-linearizable key must be searched
    exhaustively before it can be reported, which on a large, highly concurrent key can
    take longer than any limit; the limits then make the answer ``"unknown"`` rather than
    a hang.

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"op_id": [0, 1, 2], "process": ["c1", "c2", "c3"],
    ...                   "f": ["put", "get", "get"], "key": [0, 0, 0],
    ...                   "value": [1, None, None], "result": [None, 1, None],
    ...                   "t_invoke": [0.0, 0.5, 2.0], "t_complete": [1.0, 1.5, 3.0],
    ...                   "status": ["ok", "ok", "ok"]})
    >>> v = linearizable(h, "kv")
    >>> bool(v), v.info["semantics"], v.info["explanations"][0]["op_id"]
    (False, 'porcupine', 2)
    >>> print(v.violations["detail"][0].split(" cannot")[0])
    key 0: op 2 get → nil by c3
    >>> bool(linearizable(h, "kv", semantics="knossos"))   # a nil read is unknown there
    True
    >>> bool(linearizable(h.iloc[:2], "kv"))
    True
    """
    start = time.perf_counter()
    gc_was = gc.isenabled()
    gc.disable()        # the search stores many tuples, and a small history's
    try:                # temporaries die before the call ends: no collector passes
        return _linearizable(history, model, semantics, time_limit, stop_at_first,
                             max_configs, start)
    finally:
        if gc_was:
            gc.enable()


def _linearizable(history, model, semantics, time_limit, stop_at_first, max_configs, start):
    named = _NAMED.get(model) if type(model) is str else None
    if named is None:
        model = get_model(model)
    # the plain cases first: the checks below cost more than a small history's search
    if time_limit is not None and not (type(time_limit) is float and 0.0 < time_limit < _INF):
        time_limit = check_number("time_limit", time_limit, low=0.0, low_open=True)
    if max_configs is not None and not (type(max_configs) is int and max_configs >= 1):
        max_configs = check_int("max_configs", max_configs, low=1)
    if not isinstance(stop_at_first, bool):
        raise TypeError(f"stop_at_first must be True or False; got {stop_at_first!r}")
    clock = getattr(history, "attrs", {}).get("clock")   # a log without a clock: line numbers
    if named is not None:
        sem = _semantics_of(semantics, named[None], history)
        model = named.get(sem)
        if model is None:                # one instance per built-in name and semantics
            model = named[sem] = named[None].with_semantics(sem)
    else:
        sem = _semantics_of(semantics, model, history)
        model = model.with_semantics(sem)
    parts, op_ids, op_col, times, in_order = _prepare(history, model)
    deadline = math.inf if time_limit is None else start + time_limit
    # smallest partitions first: they finish fast, and round-robin keeps hard ones fair
    order = sorted(parts, key=lambda k: (len(parts[k]), repr(k))) if len(parts) > 1 \
        else list(parts)
    progress = {}                      # key -> [configs stored, steps] once its search starts
    running = dict.fromkeys(order)      # the searches, started when the round reaches them
    results = {}
    limit = None
    while running and limit is None:
        for key in list(running):
            run = running[key]
            if run is None:
                run = running[key] = search(parts[key], model,
                                            progress=progress.setdefault(key, [0, 0]),
                                            times=times.get(key), in_order=in_order)
            if type(run) is Result:      # decided without a search (no overlap)
                result = run
            else:
                try:
                    next(run)
                    result = None
                except StopIteration as done:
                    result = done.value
            if result is not None:
                results[key] = result
                del running[key]
                if stop_at_first and not result.linearizable:
                    limit = "stop"
                    break
                continue
            stored = sum(progress[k][0] for k in running if k in progress)
            if max_configs is not None and stored >= max_configs:
                limit = "memory"
                break
            # leave time to free what is stored: the limit bounds the whole call
            if time.perf_counter() + stored * _FREE_S_PER_CONFIG > deadline:
                limit = "time"
                break
    explored = {k: {"configs": p[0], "steps": p[1]}
                for k in running for p in (progress.get(k, _UNSTARTED),)}
    running.clear()                  # frees the caches of the keys cut short
    rows, explanations, witness = [], [], {}
    for key in order:
        res = results.get(key)
        if res is None:
            continue
        if res.linearizable:
            witness[key] = list(map(op_ids[key].__getitem__, res.linearization))
        else:
            ids = op_ids[key]
            row, info = _explain(key, parts[key], ids, res, model,
                                 lambda idx, ids=ids: _processes(   # all rows kept: known
                                     history, op_col, [ids[i] for i in idx],
                                     idx if ids is op_col else None),
                                 model.partition_by, clock)
            rows.append(row)
            explanations.append(info)
    explanations.sort(key=lambda x: x["prefix_end"])
    undecided = [k for k in order if k not in results]
    left = sum(e["configs"] for e in explored.values()) if explored else 0
    info = {"model": model.name, "semantics": sem, "ops": sum(map(len, parts.values())),
            **({"clock": clock} if clock in ("line", "file order") else {}),
            "keys": len(parts), "explanations": explanations, "undecided": undecided,
            "explored": explored, "witness": witness,
            "configs": sum(map(_CONFIGS, results.values())) + left}
    status = None
    if undecided:
        what = (f"{len(undecided)} of {len(parts)} key(s) undecided after storing "
                f"{left:,} configurations in "
                f"{sum(e['steps'] for e in explored.values()):,} steps")
        if limit == "memory":
            info["reason"] = (f"the bound of {max_configs:,} stored configurations "
                              f"(max_configs) was reached: {what}")
        elif limit == "time":
            info["reason"] = f"the {time_limit:g} s time limit ran out: {what}"
        else:
            info["reason"] = f"stopped at the first key shown not linearizable: {what}"
        if not rows:
            status = "unknown"
    info["seconds"] = time.perf_counter() - start
    return Verdict._from_rows([_PROPERTY], rows, status, info)
