"""Where cells run: in this process, in a process pool, or on a Dask cluster.

Each backend takes the cells still to compute and yields *batches* of finished cells as
they complete, so the caller can save them at once.  A cell is computed by
:func:`run_cell`, which never raises for an error of ``fn``: the traceback is returned
and becomes the row's ``error``.
"""

from __future__ import annotations

import numbers
import os
import pickle
import threading
import time
import traceback
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

import numpy as np
import pandas as pd

from .cache import PREFIX

__all__ = ["BACKENDS", "run_cell", "run_cells"]

BACKENDS = ("serial", "processes", "dask")
RESERVED = ("seed", "wall_time", "error")


def _scalar(name, value):
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if value is None or isinstance(value, (bool, str, numbers.Integral)):
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"metric {name!r} must be a number, string, bool or None; got "
                    f"{value!r} of type {type(value).__name__}")


def _rows(out, params) -> list[dict]:
    if isinstance(out, pd.DataFrame):
        rows = out.to_dict("records")
    elif isinstance(out, pd.Series):
        rows = [out.to_dict()]
    elif isinstance(out, Mapping):
        rows = [dict(out)]
    else:
        raise TypeError(f"fn must return a dict of metrics or a DataFrame; got "
                        f"{out!r} of type {type(out).__name__}")
    for row in rows:
        for key in list(row):
            if not isinstance(key, str):
                raise TypeError(f"metric names must be strings; got {key!r}")
            if key in RESERVED or key in params or key.startswith(PREFIX):
                raise ValueError(f"metric {key!r} clashes with a column the sweep adds "
                                 f"(parameters, {', '.join(RESERVED)}); rename it")
            row[key] = _scalar(key, row[key])
    return rows


def run_cell(fn, params: dict, seed: int):
    """Call ``fn(**params, seed=seed)``; return ``(rows, wall_time, error)``.

    Examples
    --------
    >>> rows, wall, err = run_cell(lambda x, seed: {"y": x * seed}, {"x": 3}, 2)
    >>> rows, err
    ([{'y': 6}], None)
    >>> rows, wall, err = run_cell(lambda x, seed: 1 / x, {"x": 0}, 0)
    >>> rows, err.splitlines()[-1]
    ([{}], 'ZeroDivisionError: division by zero')
    """
    start = time.perf_counter()
    try:
        rows, error = _rows(fn(**params, seed=seed), params), None
    except Exception:  # noqa: BLE001 - any failure of fn is data: the row keeps it
        rows, error = [{}], traceback.format_exc()
    return rows, time.perf_counter() - start, error


def _serial(fn, points, todo):
    for point, seed in todo:
        yield [((point, seed), run_cell(fn, points[point], seed))]


def _watch_parent(parent: int) -> None:
    """Pool initializer: exit when the sweep process dies (SIGKILL leaves pool workers
    orphaned, blocked on a queue nobody will ever write to)."""
    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="dsalgo-sweep-parent-watch", daemon=True).start()


def _processes(fn, points, todo, workers):
    try:
        pickle.dumps(fn)
    except Exception as exc:  # noqa: BLE001 - pickling raises many types
        raise TypeError(f"fn must be picklable for backend='processes' (a module-level "
                        f"function, not a lambda or a nested function); got {fn!r}: "
                        f"{exc}") from None
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_watch_parent,
                               initargs=(os.getpid(),))
    finished = False
    try:
        pending = {pool.submit(run_cell, fn, points[p], s): (p, s) for p, s in todo}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            yield [(pending.pop(f), f.result()) for f in done]
        finished = True
    finally:  # interrupted or failed: drop queued cells rather than wait for them
        pool.shutdown(wait=finished, cancel_futures=not finished)


def _dask(fn, points, todo, client, workers):
    from dask.distributed import Client, LocalCluster, as_completed

    own = None
    if client is None:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = own = Client(cluster)
    try:
        keys = {}
        futures = []
        for p, s in todo:
            f = client.submit(run_cell, fn, points[p], s, pure=False)
            keys[f.key] = (p, s)
            futures.append(f)
        for batch in as_completed(futures).batches():
            yield [(keys[f.key], f.result()) for f in batch]
    finally:
        if own is not None:
            cluster = own.cluster
            own.close()
            cluster.close()


def run_cells(fn, points, todo, *, backend="serial", client=None, workers=None):
    """Compute ``todo`` (a list of ``(point, seed)``); yield lists of finished cells."""
    if not todo:
        return iter(())
    if backend == "serial":
        return _serial(fn, points, todo)
    if backend == "processes":
        return _processes(fn, points, todo, workers or os.cpu_count() or 1)
    return _dask(fn, points, todo, client, workers)

