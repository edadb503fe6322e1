"""The sweep cache: completed cells on disk, so a sweep resumes where it stopped.

A cache is a folder (``data/sweeps/name.parquet`` is a fine name for one: pyarrow and
pandas read such a folder as one dataset).  It holds

- ``_sweep.json`` — the fingerprint: a hash of the function (qualified name, source,
  defaults) and of the grid points.  A sweep with a different function or grid refuses
  the folder instead of mixing old and new results;
- ``part-<time>-<pid>-<n>.parquet`` — completed cells, written as they finish.

Every file is written under a temporary name starting with a dot (which dataset readers
skip) and moved into place with ``os.replace``, so a sweep killed at any instant leaves
either the whole part or nothing.  Rows go through :func:`pyarrow.Table.from_pydict` and
back with ``to_pylist``, so ints stay ints and missing values stay missing on a resume.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import tempfile
import time
from pathlib import Path

__all__ = ["CellCache", "fingerprint"]

FORMAT = "dsalgo-sweep/1"
PREFIX = "_sweep_"  # internal column names; metrics may not start with it
_counter = 0


def _function_text(fn) -> tuple[str, str]:
    """(name, text) that changes whenever the function's code or defaults change."""
    parts = []
    while isinstance(fn, functools.partial):
        parts.append(f"partial(args={fn.args!r}, keywords={sorted(fn.keywords.items())!r})")
        fn = fn.func
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"
    try:
        source = inspect.getsource(fn if inspect.isroutine(fn) else type(fn))
    except (OSError, TypeError):  # built in, or defined at an interactive prompt
        code = getattr(fn, "__code__", None)
        source = repr(code.co_code) + repr(code.co_consts) if code is not None else name
    parts += [name, source, repr(getattr(fn, "__defaults__", None)),
              repr(getattr(fn, "__kwdefaults__", None))]
    return name, "\n".join(parts)


def fingerprint(fn, points) -> dict:
    """The identity of a sweep: hashes of ``fn`` and of the grid points.

    Only ``fn`` itself is hashed, not the helpers it calls: after changing a helper, use a
    new cache path.  Grid values are hashed by ``repr``, so they should be plain values.

    Examples
    --------
    >>> def f(x, seed):
    ...     return {"y": x + seed}
    >>> a = fingerprint(f, [{"x": 1}, {"x": 2}])
    >>> a == fingerprint(f, [{"x": 1}, {"x": 2}]), a == fingerprint(f, [{"x": 1}])
    (True, False)
    >>> a["function"]
    'dsalgo.sweep.cache.f'
    """
    name, text = _function_text(fn)
    grid = repr([list(p.items()) for p in points])
    return {"format": FORMAT, "function": name,
            "function_hash": hashlib.sha256(text.encode()).hexdigest(),
            "grid_hash": hashlib.sha256(grid.encode()).hexdigest(), "points": len(points)}


def _atomic(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class CellCache:
    """Completed cells of one sweep, in a folder.

    Parameters
    ----------
    path : str or Path
        The folder; created if missing.
    identity : dict
        :func:`fingerprint` of the sweep.

    Raises
    ------
    ValueError
        If the folder holds another sweep (a different function or grid), or a part file
        that cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> def f(x, seed):
    ...     return {"y": x}
    >>> store = CellCache(tempfile.mkdtemp(), fingerprint(f, [{"x": 1}]))
    >>> store.write([((0, 7), ([{"y": 1}], 0.01, None))])
    >>> store.load()
    {(0, 7): ([{'y': 1}], 0.01, None)}
    """

    def __init__(self, path, identity: dict):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"cache must be a folder (it is created if missing); "
                             f"{str(self.path)!r} is a file")
        self.path.mkdir(parents=True, exist_ok=True)
        meta = self.path / "_sweep.json"
        if meta.is_file():
            try:
                old = json.loads(meta.read_text())
            except json.JSONDecodeError as exc:
                raise ValueError(f"{meta}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
            self._compare(old, identity)
        else:
            _atomic(meta, lambda tmp: Path(tmp).write_text(json.dumps(identity, indent=1)))
        for stale in self.path.glob(".part-*.tmp"):  # left by a sweep killed mid-write
            if time.time() - stale.stat().st_mtime > 600:  # not one being written right now
                stale.unlink(missing_ok=True)

    def _compare(self, old: dict, new: dict) -> None:
        hint = "delete the folder or pass another cache path, so results are not mixed"
        if old.get("format") != FORMAT:
            raise ValueError(f"cache {str(self.path)!r} is not a dsalgo sweep cache "
                             f"(format {old.get('format')!r}); {hint}")
        if old.get("function_hash") != new["function_hash"]:
            raise ValueError(f"cache {str(self.path)!r} was made by a different function "
                             f"({old.get('function')}, now {new['function']}, or its code "
                             f"changed); {hint}")
        if old.get("grid_hash") != new["grid_hash"]:
            raise ValueError(f"cache {str(self.path)!r} was made with a different grid "
                             f"({old.get('points')} points, now {new['points']}); {hint}")

    def load(self) -> dict:
        """Completed cells: ``{(point, seed): (rows, wall_time, error)}``; later parts win."""
        import pyarrow.parquet as pq

        cells = {}
        for part in sorted(self.path.glob("part-*.parquet")):
            try:
                records = pq.read_table(part).to_pylist()
            except Exception as exc:  # noqa: BLE001 - arrow raises many types
                raise ValueError(f"cache part {part} cannot be read ({exc}); delete it to "
                                 f"recompute its cells") from None
            grouped = {}
            for rec in records:
                key = (rec[PREFIX + "point"], rec[PREFIX + "seed"])
                rows, _, _ = grouped.setdefault(key, ([], rec["wall_time"], rec["error"]))
                keys = json.loads(rec[PREFIX + "keys"])
                if keys is not None:  # None marks a cell that returned an empty table
                    rows.append({k: rec[k] for k in keys})
            cells.update(grouped)
        return cells

    def write(self, results: list) -> None:
        """Store ``[((point, seed), (rows, wall_time, error)), ...]`` as one part file."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        global _counter
        _counter += 1
        records = []
        for (point, seed), (rows, wall_time, error) in results:
            base = {PREFIX + "point": point, PREFIX + "seed": seed, "wall_time": wall_time,
                    "error": error}
            for row in rows or [None]:
                keys = json.dumps(list(row) if row is not None else None)
                records.append({**base, PREFIX + "keys": keys, **(row or {})})
        try:
            # column by column: from_pylist would take the schema from the first row only
            names = list({k: None for rec in records for k in rec})
            table = pa.Table.from_pydict({k: [rec.get(k) for rec in records] for k in names})
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            if len(results) == 1:
                raise
            for one in results:  # a column mixes types across cells: one file per cell
                self.write([one])
            return
        name = f"part-{time.time_ns():020d}-{os.getpid()}-{_counter:06d}.parquet"
        _atomic(self.path / name, lambda tmp: pq.write_table(table, tmp))
