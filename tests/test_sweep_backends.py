"""The same sweep gives equal tables on the serial, processes and dask backends."""

import sys

import pandas as pd
import pytest

from dsalgo.sweep import latin_hypercube, sweep


def cell(n, loss, seed):
    if n == 7 and seed == 2:
        raise ValueError("no quorum")
    rows = [{"trial": t, "downtime": round(n * loss + seed + t / 10, 6), "ok": t % 2 == 0}
            for t in range(2)]
    return pd.DataFrame(rows)


GRID = {"n": [3, 5, 7], "loss": [0.0, 0.1]}


def _without_wall_time(df):
    return df.drop(columns="wall_time")


def _same(a, b):
    pd.testing.assert_frame_equal(_without_wall_time(a), _without_wall_time(b))


@pytest.fixture(scope="module")
def serial():
    df = sweep(cell, GRID, seeds=range(3), progress=False)
    assert df.error.notna().sum() == 2  # the failing cells are part of every comparison
    return df


def test_processes_equal_serial(serial, tmp_path):
    _same(serial, sweep(cell, GRID, seeds=range(3), backend="processes", workers=2,
                        progress=False))
    # with a cache too, and resumed from it on another backend
    cached = sweep(cell, GRID, seeds=range(3), backend="processes", workers=2,
                   cache=tmp_path / "c", progress=False)
    _same(serial, cached)
    _same(serial, sweep(cell, GRID, seeds=range(3), cache=tmp_path / "c", progress=False))


def test_dask_local_cluster_equals_serial(serial):
    distributed = pytest.importorskip("dask.distributed")
    import cloudpickle

    # the workers are fresh processes that cannot import this test module: ship it by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            got = sweep(cell, GRID, seeds=range(3), backend="dask", client=client,
                        progress=False)
            design = latin_hypercube({"n": [3, 5], "loss": (0.0, 0.2)}, 4, seed=1)
            on_dask = sweep(cell, design, seeds=[0, 1], backend="dask", client=client,
                            progress=False)
        # no client: a LocalCluster is made for the call and closed after it
        small = {"n": [3], "loss": [0.0, 0.1]}
        made = sweep(cell, small, seeds=[0], backend="dask", workers=1, progress=False)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    _same(serial, got)
    _same(sweep(cell, design, seeds=[0, 1], progress=False), on_dask)
    _same(sweep(cell, small, seeds=[0], progress=False), made)


def test_dask_rejects_a_non_client():
    pytest.importorskip("dask.distributed")
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client; got 'tcp"):
        sweep(cell, GRID, seeds=[0], backend="dask", client="tcp://localhost:8786",
              progress=False)


def test_processes_need_a_picklable_function():
    with pytest.raises(TypeError, match="fn must be picklable for backend='processes'"):
        sweep(lambda n, seed: {"x": n}, {"n": [1]}, seeds=[0], backend="processes",
              progress=False)
