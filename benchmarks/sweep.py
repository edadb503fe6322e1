"""B4 — sweep scaling: the same Raft leader-failover sweep on three backends, one command.

The sweep: ``dsalgo.raft.failover_trials`` (Raft §9.3, one leader crash per trial) over a
grid of cluster sizes and election-timeout ranges, times ``--seeds`` seeds; every cell is
one call with ``--trials`` trials (about 0.12 s each on the 2-core VM).  With the
defaults that is 4 points x 50 seeds = 200 cells (4,000 simulated failovers).

It runs serially, on a process pool of ``--workers`` workers and on a Dask
``LocalCluster`` of ``--workers`` single-threaded worker processes, in this order, in one
process, and prints each backend's wall time and its speed-up over the serial run of the
same round (``--repeat`` rounds interleave the backends; medians are shown)
(``--workers`` cores: the ideal is ``--workers``).  The Dask cluster's start-up is timed
separately and not counted in its sweep time; the process pool starts inside its sweep.
It also checks that the three tables are equal (``wall_time`` aside).

A fourth line is the machine's own ceiling, measured in the same round: the bare function
mapped over the same cells by a ``multiprocessing`` pool, with no sweep machinery.  On a
shared or memory-bound machine two processes do not run twice as fast even with nothing
in between; the sweep backends are to be judged against that line as well as the ideal.

    python benchmarks/sweep.py                  # the B4 configuration
    python benchmarks/sweep.py --seeds 10       # a quicker look
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import pandas as pd


def _failover():
    try:
        from dsalgo.raft import failover_trials
    except ImportError:
        sys.exit("B4 needs dsalgo.raft.failover_trials, which is not installed here")
    return failover_trials


def _bare_cell(job):
    """The hardware reference: the raw function, no sweep machinery around it."""
    params, seed = job
    start = time.perf_counter()
    _failover()(**params, seed=seed)
    return {"n": params["n"], "election_timeout": params["election_timeout"], "seed": seed,
            "wall_time": time.perf_counter() - start}


def _bare_pool(grid, seeds, workers):
    from multiprocessing import get_context

    from dsalgo.sweep import full_grid

    jobs = [(p, s) for p in full_grid(grid) for s in seeds]
    with get_context("fork").Pool(workers) as pool:
        return pd.DataFrame(pool.map(_bare_cell, jobs, chunksize=1))


def _timed(label, call):
    start = time.perf_counter()
    table = call()
    return label, time.perf_counter() - start, table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=50, help="seeds per grid point (50)")
    parser.add_argument("--trials", type=int, default=50, help="failovers per cell (50)")
    parser.add_argument("--workers", type=int, default=2, help="parallel workers (2)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of all three backends, interleaved; medians shown (1)")
    args = parser.parse_args(argv)

    from dask.distributed import Client, LocalCluster

    from dsalgo.sweep import sweep

    fn = _failover()
    grid = {"n": [5, 7], "election_timeout": [(0.150, 0.300), (0.150, 0.200)],
            "trials": args.trials}
    seeds = range(args.seeds)
    cells = 4 * args.seeds
    print(f"B4 sweep scaling: {cells} cells (4 grid points x {args.seeds} seeds), "
          f"{args.trials} failover trials per cell, {args.workers} workers")
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")

    def run(backend, **kw):
        return sweep(fn, grid, seeds=seeds, backend=backend, progress=False, **kw)

    rounds = []
    start = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        startup = time.perf_counter() - start
        # rounds interleave the backends, so a load change on a shared machine hits all
        for _ in range(args.repeat):
            rounds.append([
                _timed("serial", lambda: run("serial")),
                _timed(f"bare Pool.map ({args.workers}), reference",
                       lambda: _bare_pool(grid, seeds, args.workers)),
                _timed(f"processes ({args.workers})",
                       lambda: run("processes", workers=args.workers)),
                _timed(f"dask LocalCluster ({args.workers})",
                       lambda: run("dask", client=client))])

    reference = rounds[0][0][2].drop(columns="wall_time")

    def cell_time(table):  # seconds inside fn per cell: grows when workers share a core
        return table.groupby(["n", "seed", "election_timeout"],
                             sort=False)["wall_time"].first().mean()

    rows = []
    for i, (label, _, _) in enumerate(rounds[0]):
        times = [r[i][1] for r in rounds]
        ups = [r[0][1] / r[i][1] for r in rounds]
        rows.append({"backend": label, "wall s (median)": round(statistics.median(times), 2),
                     "cells/s": round(cells / statistics.median(times), 1),
                     "speed-up (median)": round(statistics.median(ups), 2),
                     "per round": " ".join(f"{u:.2f}" for u in ups),
                     "cell s (mean)": round(statistics.median(cell_time(r[i][2])
                                                              for r in rounds), 3),
                     "equal table": "-" if "error" not in rounds[0][i][2] else all(
                         r[i][2].drop(columns="wall_time").equals(reference) for r in rounds)})
    print(pd.DataFrame(rows).to_string(index=False))
    print("cell s: time inside fn per cell; if it is higher in parallel than serially, "
          "the workers did not have a free core each (a loaded machine)")
    print(f"dask cluster start-up "
          f"{startup:.1f} s (not counted); ideal speed-up {args.workers:.1f}; "
          f"load average now {os.getloadavg()[0]:.1f}")
    return 0 if all(r["equal table"] in (True, "-") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
