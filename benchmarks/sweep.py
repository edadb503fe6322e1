"""B4 — sweep scaling: one Raft leader-failover sweep on every backend, each in a fresh process.

The sweep: ``dsalgo.raft.failover_trials`` (Raft §9.3, one leader crash per trial) over a
grid of 2 cluster sizes x 2 election-timeout ranges, times ``--seeds`` seeds; every cell is
one call with ``--trials`` trials.  With the defaults that is 200 cells.

Every contender runs in a fresh Python process of its own (``--contender NAME``), started
by this one, so none shares a process, a heap or a core with another's scheduler:

- ``serial``: the baseline;
- ``processes``: the ``processes`` backend on ``--workers`` workers (its pool starts
  inside the sweep; its start-up is also timed apart, as a pool running one no-op per
  worker);
- ``dask local``: a Dask ``LocalCluster`` of ``--workers`` single-threaded worker processes,
  built in the contender's process;
- ``dask distributed``: a ``dask scheduler`` and ``dask worker`` processes started from the
  command line (``--dask-workers`` worker processes, one thread each), the sweep pointed
  at the scheduler's address, as a sweep that outgrows one machine would be
  (``--scheduler tcp://host:8786`` uses an existing scheduler instead);
- ``bare pool``: the bare function mapped over the same cells by a ``multiprocessing``
  pool, no sweep machinery: the machine's own ceiling.

For each: the start-up (cluster or pool), the sweep, and their sum, which is what the
speed-up over ``serial`` counts; the process's whole wall time (interpreter and imports
included) is shown beside.  Tables are checked equal to the serial one (``wall_time``
aside).

**Ratios within one run.**  The machine's load moves between contenders, and absolute
times move with it; a speed-up is therefore taken *within a round* (the contender's
counted time against the serial sweep of the same round) and the figure reported is the
**median over ``--rounds`` interleaved rounds** of these paired ratios, with their range.
The order of the contenders rotates from round to round, so none is always first or last
after the serial baseline.  The load average is printed each round.  Repeating rounds
"until stable" (as this benchmark once did) never ends on a shared, busy machine; the
median of paired ratios does not need it, and the range shows how far to trust it.

    python benchmarks/sweep.py                  # the B4 configuration
    python benchmarks/sweep.py --seeds 10       # a quicker look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

GRID_TIMEOUTS = [(0.150, 0.300), (0.150, 0.200)]


def _failover():
    from dsalgo.raft import failover_trials
    return failover_trials


def _grid(trials):
    return {"n": [5, 7], "election_timeout": GRID_TIMEOUTS, "trials": trials}


def _bare_cell(job):
    params, seed = job
    start = time.perf_counter()
    _failover()(**params, seed=seed)
    return {"n": params["n"], "election_timeout": params["election_timeout"], "seed": seed,
            "wall_time": time.perf_counter() - start}


def _noop(_):
    return os.getpid()


def contender(name: str, a) -> dict:
    """Run one contender in this process; returns its timings and writes its table."""
    from dsalgo.sweep import full_grid, sweep

    fn = _failover()
    grid, seeds = _grid(a.trials), range(a.seeds)
    startup, extra = 0.0, {}
    t0 = time.perf_counter()
    if name == "serial":
        table = sweep(fn, grid, seeds=seeds, backend="serial", progress=False)
    elif name == "processes":
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(a.workers) as pool:   # start-up alone, not counted twice
            list(pool.map(_noop, range(a.workers)))
        extra["startup_apart"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        table = sweep(fn, grid, seeds=seeds, backend="processes", workers=a.workers,
                      progress=False)
    elif name == "bare pool":
        from multiprocessing import get_context
        with get_context("fork").Pool(a.workers) as pool:
            startup = time.perf_counter() - t0
            jobs = [(p, s) for p in full_grid(grid) for s in seeds]
            table = pd.DataFrame(pool.map(_bare_cell, jobs, chunksize=1))
    else:
        from dask.distributed import Client, LocalCluster
        if name == "dask local":
            cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        else:
            cluster = None
            client = Client(a.scheduler)
            client.wait_for_workers(1)
        startup = time.perf_counter() - t0
        extra["dask_workers"] = len(client.scheduler_info()["workers"])
        t1 = time.perf_counter()
        table = sweep(fn, grid, seeds=seeds, backend="dask", client=client, progress=False)
        sweep_s = time.perf_counter() - t1
        client.close()
        if cluster is not None:
            cluster.close()
        table.drop(columns="wall_time").to_pickle(a.out)
        return {"startup": startup, "sweep": sweep_s, **extra}
    sweep_s = time.perf_counter() - t0 - startup
    table.drop(columns="wall_time").to_pickle(a.out)
    return {"startup": startup, "sweep": sweep_s, **extra}


def _start_distributed(n_workers: int, folder: Path):
    """A ``dask scheduler`` and ``n_workers`` single-threaded worker processes; returns
    (processes, address, seconds until every worker had joined)."""
    exe = Path(sys.executable).with_name("dask")
    dask = [str(exe)] if exe.exists() else [shutil.which("dask") or "dask"]
    file = folder / "scheduler.json"
    t0 = time.perf_counter()
    log = open(folder / "dask.log", "w")  # noqa: SIM115 - lives as long as the processes
    procs = [subprocess.Popen(dask + ["scheduler", "--scheduler-file", str(file), "--port", "0",
                                      "--no-dashboard"], stdout=log, stderr=log)]
    while not file.exists():
        time.sleep(0.05)
    procs.append(subprocess.Popen(dask + ["worker", "--scheduler-file", str(file), "--nworkers",
                                          str(n_workers), "--nthreads", "1", "--no-dashboard"],
                                  stdout=log, stderr=log))
    from dask.distributed import Client
    with Client(scheduler_file=str(file)) as client:
        client.wait_for_workers(n_workers)
        address = client.scheduler.address
    return procs, address, time.perf_counter() - t0


def _speedup(round_: dict, name: str) -> float:
    """The serial sweep of one round over a contender's counted time in the same round."""
    x = round_[name]
    return round_["serial"]["sweep"] / (x["startup"] + x["sweep"])


def _run_contender(name, a, folder) -> dict:
    out = folder / f"{name.replace(' ', '_')}.pkl"
    cmd = [sys.executable, __file__, "--contender", name, "--out", str(out), "--seeds",
           str(a.seeds), "--trials", str(a.trials), "--workers", str(a.workers)]
    if a.scheduler:
        cmd += ["--scheduler", a.scheduler]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(f"contender {name!r} failed:\n{done.stderr[-3000:]}")
    res = json.loads(done.stdout.strip().splitlines()[-1])
    res["process"] = wall
    res["table"] = pd.read_pickle(out)
    return res


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=50, help="seeds per grid point (50)")
    parser.add_argument("--trials", type=int, default=50, help="failovers per cell (50)")
    parser.add_argument("--workers", type=int, default=2, help="parallel workers (2)")
    parser.add_argument("--dask-workers", type=int, default=3,
                        help="worker processes of the command-line dask cluster (3)")
    parser.add_argument("--scheduler", help="address of a running dask scheduler to use")
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved rounds; the median paired speed-up is reported (5)")
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    a = parser.parse_args(argv)
    if a.contender:
        print(json.dumps(contender(a.contender, a)))
        return 0

    cells = 4 * a.seeds
    print(f"B4 sweep scaling: {cells} cells (4 grid points x {a.seeds} seeds), {a.trials} "
          f"failover trials per cell, {a.workers} workers; each contender in a fresh process")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    folder = Path(tempfile.mkdtemp(prefix="b4-"))
    procs, dist_startup = [], None
    try:
        if not a.scheduler:
            procs, a.scheduler, dist_startup = _start_distributed(a.dask_workers, folder)
            print(f"dask distributed: scheduler and {a.dask_workers} worker processes started "
                  f"in {dist_startup:.1f} s (counted in that contender's start-up)")
        names = ["serial", "processes", "dask local", "dask distributed", "bare pool"]
        rounds: list[dict] = []
        for r in range(a.rounds):
            load = os.getloadavg()[0]
            order = names[r % len(names):] + names[:r % len(names)]   # rotated each round
            rounds.append({n: _run_contender(n, a, folder) for n in order})
            if dist_startup is not None:
                rounds[-1]["dask distributed"]["startup"] += dist_startup
            x = rounds[-1]
            print(f"round {r + 1} ({' > '.join(order)}): load average {load:.2f} -> "
                  f"{os.getloadavg()[0]:.2f}; speed-ups " + ", ".join(
                      f"{n} {_speedup(x, n):.2f}" for n in names[1:]))
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    ref = rounds[0]["serial"]["table"]
    rows = []
    for n in names:
        med = {k: statistics.median(x[n][k] for x in rounds)
               for k in ("startup", "sweep", "process")}
        ups = [_speedup(x, n) for x in rounds]
        alone = [x["serial"]["sweep"] / x[n]["sweep"] for x in rounds]
        rows.append({"contender": n, "start-up s": round(med["startup"], 2),
                     "sweep s": round(med["sweep"], 2),
                     "counted s": round(med["startup"] + med["sweep"], 2),
                     "speed-up": round(statistics.median(ups), 2),
                     "range": f"{min(ups):.2f}-{max(ups):.2f}",
                     "speed-up, sweep alone": round(statistics.median(alone), 2),
                     "process s": round(med["process"], 2),
                     # the bare pool returns only its own columns: nothing to compare
                     "equal table": "-" if n == "bare pool" else
                     all(x[n]["table"].equals(ref) for x in rounds)})
    print(f"medians over {len(rounds)} rounds; a speed-up is the serial sweep of a round over "
          f"the contender's start-up + sweep in the same round, and its median over rounds")
    print(pd.DataFrame(rows).to_string(index=False))
    apart = statistics.median(x["processes"]["startup_apart"] for x in rounds)
    print(f"process pool start-up measured apart: {apart:.2f} s (inside its sweep time); "
          f"ideal speed-up {a.workers:.1f}; load average now {os.getloadavg()[0]:.2f}")
    return 0 if all(r["equal table"] in (True, "-") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
