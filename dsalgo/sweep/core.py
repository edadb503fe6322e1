"""``sweep()``: run a function over a grid of parameters and seeds, into one tidy table."""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import pandas as pd

from .._validate import check_bool, check_callable, check_choice, check_int
from .backends import BACKENDS, run_cells
from .cache import CellCache, fingerprint
from .design import full_grid

__all__ = ["sweep"]


def _points(grid) -> list[dict]:
    if isinstance(grid, Mapping):
        points = full_grid(dict(grid))
    elif isinstance(grid, (list, tuple)) and all(isinstance(p, Mapping) for p in grid):
        points = [dict(p) for p in grid]
        for p in points:
            for key in p:
                if not isinstance(key, str) or not key.isidentifier():
                    raise ValueError(f"grid points must map parameter names to values; "
                                     f"got key {key!r}")
    else:
        raise TypeError(f"grid must be a dict of parameter -> values (a full grid) or a list "
                        f"of dicts (one per point, e.g. from latin_hypercube); got {grid!r}")
    if not points:
        raise ValueError("grid must hold at least one point; got an empty list")
    if any("seed" in p for p in points):
        raise ValueError("grid must not contain 'seed': seeds are given by seeds=")
    return points


def _seeds(seeds) -> list[int]:
    if isinstance(seeds, (str, bytes, Mapping)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be an iterable of ints such as range(10); got {seeds!r}")
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"seeds must be an iterable of ints; got element {s!r}")
        out.append(int(s))
    if not out:
        raise ValueError("seeds must hold at least one seed; got an empty sequence")
    if len(set(out)) != len(out):
        raise ValueError(f"seeds must not repeat; got {out!r}")
    return out


def sweep(fn, grid, *, seeds=range(10), backend="serial", client=None, cache=None,
          progress=True, workers=None) -> pd.DataFrame:
    """Run ``fn(**params, seed=seed)`` for every point of ``grid`` and every seed.

    Parameters
    ----------
    fn : callable
        Returns a dict of metrics (numbers, strings, bools) or a DataFrame (one output
        row per DataFrame row).  For the ``processes`` and ``dask`` backends it must be
        picklable: a module-level function, not a lambda.
    grid : dict or list of dict
        A dict is a full grid (lists, ranges and arrays are axes, any other value, tuples
        included, is fixed; see :func:`full_grid`); a list of dicts is an explicit design
        such as :func:`latin_hypercube` or :func:`random_design` returns.
    seeds : iterable of int
        Seeds run at every point.
    backend : {"serial", "processes", "dask"}
        ``processes`` uses a process pool of ``workers`` (default: every core); ``dask``
        uses ``client``, or a ``LocalCluster`` of ``workers`` processes made for this call.
    client : dask.distributed.Client, optional
        The cluster to use with ``backend="dask"`` (e.g. ``Client("tcp://host:8786")``).
    cache : str or Path, optional
        A folder where each completed cell is saved as it finishes (see
        :class:`~dsalgo.sweep.cache.CellCache`).  Re-running the same sweep skips completed
        cells and computes again only missing and failed ones; a cache made by a
        different ``fn`` or grid raises ``ValueError`` instead of mixing results.
    progress : bool
        Show a ``tqdm.auto`` progress bar.
    workers : int, optional
        Worker processes for ``processes`` and a made-on-the-spot ``dask`` cluster.

    Returns
    -------
    pandas.DataFrame
        One row per (point, seed) — or per row of fn's DataFrame — in grid order then
        seed order: the parameters, ``seed``, the metrics, ``wall_time`` (seconds spent in
        ``fn``) and ``error`` (None, or the traceback of a cell that raised; its metrics
        are missing).  The table is the same on every backend and whether or not it was
        resumed from a cache, except ``wall_time``, the one column that measures the
        machine: compare tables with ``df.drop(columns="wall_time")``.

    Examples
    --------
    >>> def latency(n, loss, seed):
    ...     return {"quorum": n // 2 + 1, "loss_pct": 100 * loss + seed}
    >>> df = sweep(latency, {"n": [3, 5], "loss": 0.1}, seeds=range(2), progress=False)
    >>> df.drop(columns="wall_time")
       n  loss  seed  quorum  loss_pct error
    0  3   0.1     0       2      10.0  None
    1  3   0.1     1       2      11.0  None
    2  5   0.1     0       3      10.0  None
    3  5   0.1     1       3      11.0  None
    """
    check_callable("fn", fn)
    check_choice("backend", backend, BACKENDS)
    check_bool("progress", progress)
    if workers is not None:
        workers = check_int("workers", workers, low=1)
    if client is not None and backend != "dask":
        raise ValueError(f"client is only used with backend='dask'; got backend={backend!r}")
    if client is not None:
        from dask.distributed import Client
        if not isinstance(client, Client):
            raise TypeError(f"client must be a dask.distributed.Client; got {client!r}")
    points = _points(grid)
    seeds = _seeds(seeds)
    cells = [(p, s) for p in range(len(points)) for s in seeds]
    store = CellCache(cache, fingerprint(fn, points)) if cache is not None else None
    results = store.load() if store is not None else {}
    todo = [c for c in cells if c not in results or results[c][2] is not None]

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(cells), initial=len(cells) - len(todo), desc="sweep", unit="cell")
    try:
        for batch in run_cells(fn, points, todo, backend=backend, client=client,
                               workers=workers):
            if store is not None:
                store.write(batch)  # saved before anything else can go wrong
            results.update(batch)
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    return _table(points, cells, results)


def _table(points, cells, results) -> pd.DataFrame:
    params = list({k: None for p in points for k in p})
    records, metrics = [], {}
    for p, s in cells:
        rows, wall_time, error = results[(p, s)]
        for row in rows:
            metrics.update(dict.fromkeys(row))
            records.append({**points[p], "seed": s, **row, "wall_time": wall_time,
                            "error": error})
    columns = params + ["seed"] + list(metrics) + ["wall_time", "error"]
    return pd.DataFrame.from_records(records, columns=columns)
