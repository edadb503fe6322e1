"""The sweep cache: resume without recomputing, refuse a different sweep, survive SIGKILL."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from dsalgo.sweep import sweep

CALLS = []


def counted(x, seed):
    CALLS.append((x, seed))
    return {"y": x * 100 + seed, "label": f"x{x}", "flag": x > 1}


def counted_v2(x, seed):
    CALLS.append((x, seed))
    return {"y": x * 100 + seed + 1}


def sometimes_missing(x, seed):
    # int metric missing in some rows, and a cell that fails until a marker file exists
    if x == 2 and not Path(os.environ["DSALGO_TEST_MARKER"]).exists():
        raise RuntimeError("transient failure")
    return {"count": x + seed} if seed else {"count": x, "extra": None}


def _equal(a, b):
    pd.testing.assert_frame_equal(a.drop(columns="wall_time"), b.drop(columns="wall_time"))


def test_rerun_skips_completed_cells_and_gives_the_same_table(tmp_path):
    cache = tmp_path / "s.parquet"
    CALLS.clear()
    first = sweep(counted, {"x": [1, 2, 3]}, seeds=range(2), cache=cache, progress=False)
    assert len(CALLS) == 6
    CALLS.clear()
    again = sweep(counted, {"x": [1, 2, 3]}, seeds=range(2), cache=cache, progress=False)
    assert CALLS == []
    _equal(first, again)
    CALLS.clear()  # more seeds: only the new cells run
    more = sweep(counted, {"x": [1, 2, 3]}, seeds=range(3), cache=cache, progress=False)
    assert sorted(CALLS) == [(1, 2), (2, 2), (3, 2)]
    _equal(more, sweep(counted, {"x": [1, 2, 3]}, seeds=range(3), progress=False))
    assert pd.read_parquet(cache).shape[0] == 9  # the folder reads as one dataset


def test_types_and_missing_values_survive_the_cache(tmp_path, monkeypatch):
    marker = tmp_path / "fixed"
    monkeypatch.setenv("DSALGO_TEST_MARKER", str(marker))
    grid, cache = {"x": [1, 2, 3]}, tmp_path / "c"
    broken = sweep(sometimes_missing, grid, seeds=range(2), cache=cache, progress=False)
    assert broken.error.notna().sum() == 2
    marker.touch()  # the failure was transient: a rerun computes the failed cells again
    resumed = sweep(sometimes_missing, grid, seeds=range(2), cache=cache, progress=False)
    fresh = sweep(sometimes_missing, grid, seeds=range(2), progress=False)
    _equal(resumed, fresh)
    assert resumed["count"].dtype == "int64" and resumed.error.isna().all()


def test_a_changed_function_is_refused(tmp_path):
    sweep(counted, {"x": [1]}, seeds=[0], cache=tmp_path / "c", progress=False)
    with pytest.raises(ValueError, match="was made by a different function .*counted"):
        sweep(counted_v2, {"x": [1]}, seeds=[0], cache=tmp_path / "c", progress=False)


def test_a_changed_grid_is_refused(tmp_path):
    sweep(counted, {"x": [1]}, seeds=[0], cache=tmp_path / "c", progress=False)
    with pytest.raises(ValueError, match=r"made with a different grid \(1 points, now 2\)"):
        sweep(counted, {"x": [1, 2]}, seeds=[0], cache=tmp_path / "c", progress=False)


def test_cache_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f.parquet").write_text("x")
    with pytest.raises(ValueError, match="cache must be a folder .* is a file"):
        sweep(counted, {"x": [1]}, seeds=[0], cache=tmp_path / "f.parquet", progress=False)


def test_corrupt_fingerprint_names_the_file(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "_sweep.json").write_text("{\n  nope")
    with pytest.raises(ValueError, match=r"_sweep\.json: line 2: not valid JSON"):
        sweep(counted, {"x": [1]}, seeds=[0], cache=tmp_path / "c", progress=False)


SCRIPT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from dsalgo.sweep import sweep

    LOG, BLOCK = Path(sys.argv[1]), Path(sys.argv[2])

    def cell(x, seed):
        if (x, seed) == (3, 1) and BLOCK.exists():
            deadline = time.monotonic() + 60
            BLOCK.write_text("blocked")        # tell the test we are mid-cell, then hang
            while BLOCK.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        time.sleep(0.01)
        with open(LOG, "a") as fh:             # one line per completed computation
            fh.write(f"{x} {seed}\\n")
        return {"y": x * 10 + seed, "half": x / 2}

    if __name__ == "__main__":
        df = sweep(cell, {"x": list(range(6))}, seeds=range(3), cache=sys.argv[3],
                   backend=sys.argv[5], workers=2, progress=False)
        df.drop(columns="wall_time").to_pickle(sys.argv[4])
""")


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _saved_cells(cache) -> int:
    import pyarrow.parquet as pq

    cells = set()
    for part in cache.glob("part-*.parquet"):
        t = pq.read_table(part, columns=["_sweep_point", "_sweep_seed"]).to_pylist()
        cells.update((r["_sweep_point"], r["_sweep_seed"]) for r in t)
    return len(cells)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("backend, saved", [("serial", 10), ("processes", 17)])
def test_sigkill_part_way_then_rerun_computes_every_cell_exactly_once(tmp_path, backend, saved):
    # serial stops at cell (3, 1): cells (0, 0) ... (3, 0) are saved; with a pool the other
    # worker finishes the rest.  The kill comes once every logged cell is also saved, so
    # "exactly once" is exact, not a race.
    script, log, block = tmp_path / "job.py", tmp_path / "log.txt", tmp_path / "block"
    script.write_text(SCRIPT)
    block.write_text("armed")
    cmd = [sys.executable, str(script), str(log), str(block)]
    cache = tmp_path / "cache"
    proc = subprocess.Popen(cmd + [str(cache), str(tmp_path / "a.pkl"), backend])
    deadline = time.monotonic() + 60
    while not (block.read_text() == "blocked" and log.is_file()
               and len(log.read_text().splitlines()) == saved == _saved_cells(cache)):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    workers = _children(proc.pid)
    assert len(workers) >= 2 if backend == "processes" else not workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    while any(Path(f"/proc/{pid}").exists() for pid in workers):  # orphans exit by themselves
        assert time.monotonic() < deadline, "pool workers outlived their killed sweep"
        time.sleep(0.05)
    block.unlink()
    subprocess.run(cmd + [str(cache), str(tmp_path / "a.pkl"), backend], check=True)
    lines = log.read_text().split("\n")[:-1]
    assert sorted(lines) == sorted(f"{x} {s}" for x in range(6) for s in range(3))
    log.unlink()
    subprocess.run(cmd + [str(tmp_path / "fresh"), str(tmp_path / "b.pkl"), "serial"],
                   check=True)
    pd.testing.assert_frame_equal(pd.read_pickle(tmp_path / "a.pkl"),
                                  pd.read_pickle(tmp_path / "b.pkl"))


def test_a_part_whose_first_cell_failed_keeps_the_columns_of_the_others(tmp_path):
    from dsalgo.sweep.cache import CellCache, fingerprint

    store = CellCache(tmp_path / "c", fingerprint(counted, [{"x": 1}]))
    batch = [((0, 0), ([{}], 0.1, "Traceback: boom")),
             ((0, 1), ([{"trial": 0, "d": 1.5}, {"trial": 1, "d": None}], 0.2, None)),
             ((0, 2), ([], 0.3, None))]
    store.write(batch)
    assert store.load() == dict(batch)


def test_a_failed_write_leaves_no_partial_file_and_the_rerun_completes(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    real, calls = pq.write_table, []

    def disk_full_on_third_write(table, where, **kw):
        calls.append(where)
        if len(calls) == 3:
            Path(where).write_bytes(b"PAR1 half a file")
            raise OSError(28, "No space left on device")
        return real(table, where, **kw)

    monkeypatch.setattr(pq, "write_table", disk_full_on_third_write)
    cache = tmp_path / "c"
    with pytest.raises(OSError, match="No space left"):
        sweep(counted, {"x": [1, 2]}, seeds=range(2), cache=cache, progress=False)
    assert sorted(p.name.split("-")[0] for p in cache.iterdir()) == ["_sweep.json", "part",
                                                                    "part"]
    monkeypatch.setattr(pq, "write_table", real)
    CALLS.clear()
    resumed = sweep(counted, {"x": [1, 2]}, seeds=range(2), cache=cache, progress=False)
    assert CALLS == [(2, 0), (2, 1)]  # the cell whose save failed is computed again
    _equal(resumed, sweep(counted, {"x": [1, 2]}, seeds=range(2), progress=False))
