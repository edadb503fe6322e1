"""B4 — sweep scaling: the same Raft leader-failover sweep on three backends, one command.

The sweep: ``dsalgo.raft.failover_trials`` (Raft §9.3, one leader crash per trial) over a
grid of cluster sizes and election-timeout ranges, times ``--seeds`` seeds; every cell is
one call with ``--trials`` trials (about 0.1 s each on a laptop-class core).  With the
defaults that is 4 points x 50 seeds = 200 cells (4,000 simulated failovers).

It runs serially, on a process pool of ``--workers`` workers and on a Dask
``LocalCluster`` of ``--workers`` single-threaded worker processes, in this order, in one
process, and prints each backend's wall time and its speed-up over the serial run of the
same round (``--repeat`` rounds interleave the backends; medians are shown)
(``--workers`` cores: the ideal is ``--workers``).  The Dask cluster's start-up is timed
separately and not counted in its sweep time; the process pool starts inside its sweep.
It also checks that the three tables are equal (``wall_time`` aside).

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


def _timed(label, call):
    start = time.perf_counter()
    table = call()
    return label, time.perf_counter() - start, table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=50, help="seeds per grid point (50)")
    parser.add_argument("--trials", type=int, default=20, help="failovers per cell (20)")
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
                _timed(f"processes ({args.workers})",
                       lambda: run("processes", workers=args.workers)),
                _timed(f"dask LocalCluster ({args.workers})",
                       lambda: run("dask", client=client))])

    reference = rounds[0][0][2].drop(columns="wall_time")
    cell_time = rounds[0][0][2].groupby(["n", "seed", "election_timeout"],
                                        sort=False)["wall_time"].first().mean()
    rows = []
    for i, (label, _, _) in enumerate(rounds[0]):
        times = [r[i][1] for r in rounds]
        ups = [r[0][1] / r[i][1] for r in rounds]
        rows.append({"backend": label, "wall s (median)": round(statistics.median(times), 2),
                     "cells/s": round(cells / statistics.median(times), 1),
                     "speed-up (median)": round(statistics.median(ups), 2),
                     "per round": " ".join(f"{u:.2f}" for u in ups),
                     "equal table": all(r[i][2].drop(columns="wall_time").equals(reference)
                                        for r in rounds)})
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"mean cell time (serial): {cell_time:.3f} s; dask cluster start-up "
          f"{startup:.1f} s (not counted); ideal speed-up {args.workers:.1f}; "
          f"load average now {os.getloadavg()[0]:.1f}")
    return 0 if all(r["equal table"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
