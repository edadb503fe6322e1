"""B6 — queueing simulation: M/M/c on balance.simulate, SimPy, ciw and a bare loop.

M/M/8 at rho = 0.8 (service mean 1 s), 50,000 customers per run, one run per seed (5 seeds),
the contenders interleaved seed by seed.  ``balance.simulate(c, policy="central_queue")``
runs every customer through a client, a balancer and a backend node on the simulator
(messages off, as its default; events and history recorded, the history built — the
events table is built when first read, and a second dsalgo row reads it too); SimPy holds a
``Resource(capacity=c)`` with one process per customer; ciw runs its own M/M/c network;
the bare loop is the shortest correct FIFO M/M/c in pure Python (a ``heapq`` of
server-free times, Lindley's recursion), the limit.  Figures: CPU µs per customer (median
over seeds); the same over SimPy's (the median over seeds of the ratio of the two runs on
that seed, paired because they ran back to back); and P(wait) and mean wait Wq (mean over
seeds ± standard error) against Erlang C, as a check that all compute the same system.
Target: dsalgo at least as fast as SimPy.
Each contender starts from a collected heap (``gc.collect()`` before it, outside the timing).

Run: ``python benchmarks/balance.py [--customers N] [--servers C] [--rho R] [--seeds S]``.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import math
import os
import platform
import random
import statistics
import time

from dsalgo import balance


def bare(n: int, c: int, rho: float, seed: int) -> tuple[float, list]:
    """The FIFO M/M/c limit: waits of ``n`` customers."""
    t0 = time.process_time()
    rng = random.Random(seed)
    lam = rho * c
    free = [0.0] * c            # when each server next falls idle
    t = 0.0
    waits = []
    for _ in range(n):
        t += rng.expovariate(lam)
        start = max(t, heapq.heappop(free))
        waits.append(start - t)
        heapq.heappush(free, start + rng.expovariate(1.0))
    return time.process_time() - t0, waits


def dsalgo(n: int, c: int, rho: float, seed: int) -> tuple[float, list]:
    t0 = time.process_time()
    run = balance.simulate(c, policy="central_queue", utilization=rho, requests=n, seed=seed)
    w = balance.waits(run)
    return time.process_time() - t0, w.tolist()


def dsalgo_events(n: int, c: int, rho: float, seed: int) -> tuple[float, list]:
    """As :func:`dsalgo`, and ``run.events`` (one row per service start) built too."""
    t0 = time.process_time()
    run = balance.simulate(c, policy="central_queue", utilization=rho, requests=n, seed=seed)
    w = balance.waits(run)
    assert len(run.events) >= n
    return time.process_time() - t0, w.tolist()


def simpy(n: int, c: int, rho: float, seed: int) -> tuple[float, list] | None:
    try:
        import simpy as sp
    except ImportError:
        return None
    t0 = time.process_time()
    env = sp.Environment()
    servers = sp.Resource(env, capacity=c)
    rng = random.Random(seed)
    waits = []

    def customer():
        arrive = env.now
        with servers.request() as req:
            yield req
            waits.append(env.now - arrive)
            yield env.timeout(rng.expovariate(1.0))

    def source():
        for _ in range(n):
            yield env.timeout(rng.expovariate(rho * c))
            env.process(customer())

    env.process(source())
    env.run()
    return time.process_time() - t0, waits


def ciw(n: int, c: int, rho: float, seed: int) -> tuple[float, list] | None:
    try:
        import ciw as cw
    except ImportError:
        return None
    t0 = time.process_time()
    net = cw.create_network(arrival_distributions=[cw.dists.Exponential(rate=rho * c)],
                            service_distributions=[cw.dists.Exponential(rate=1.0)],
                            number_of_servers=[c])
    cw.seed(seed)
    q = cw.Simulation(net)
    q.simulate_until_max_customers(n, method="Finish")
    waits = [r.waiting_time for r in q.get_all_records()]
    return time.process_time() - t0, waits


CONTENDERS = {"bare heapq loop": bare, "dsalgo balance.simulate": dsalgo,
              "dsalgo + run.events": dsalgo_events, "SimPy Resource": simpy, "ciw": ciw}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=50_000)
    ap.add_argument("--servers", type=int, default=8)
    ap.add_argument("--rho", type=float, default=0.8)
    ap.add_argument("--seeds", type=int, default=5)
    a = ap.parse_args(argv)
    n, c, rho = a.customers, a.servers, a.rho
    load0 = os.getloadavg()[0]
    per: dict = {k: [] for k in CONTENDERS}
    pw: dict = {k: [] for k in CONTENDERS}
    wq: dict = {k: [] for k in CONTENDERS}
    for seed in range(a.seeds):
        for name, fn in CONTENDERS.items():
            gc.collect()  # each contender starts from a collected heap, not the last one's garbage
            out = fn(n, c, rho, seed)
            if out is None:
                continue
            cpu, waits = out
            per[name].append(cpu / len(waits))
            pw[name].append(sum(w > 1e-12 for w in waits) / len(waits))
            wq[name].append(statistics.fmean(waits))
    p_theory = float(balance.erlang_c(c, rho))
    wq_theory = float(balance.theory.mmc_mean_wait(c, rho))

    def est(xs):
        se = statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else float("nan")
        return f"{statistics.fmean(xs):.4f} ± {se:.4f}"

    print(f"B6 M/M/{c} at rho={rho}: {n:,} customers x {a.seeds} seeds; "
          f"{platform.python_implementation()} {platform.python_version()}; CPU time, "
          f"contenders interleaved; load average {load0:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after")
    print(f"{'contender':<26}{'us/customer':>12}{'x SimPy':>9}{'P(wait)':>20}{'Wq':>20}")
    simpy_cpu = per["SimPy Resource"]
    for name in CONTENDERS:
        if not per[name]:
            print(f"{name:<26}  (not installed)")
            continue
        us = statistics.median(per[name]) * 1e6
        # paired: the median over seeds of this contender's time over SimPy's on that seed
        rel = (f"{statistics.median(a / b for a, b in zip(per[name], simpy_cpu)):.2f}"
               if simpy_cpu else "-")
        print(f"{name:<26}{us:>12.1f}{rel:>9}{est(pw[name]):>20}{est(wq[name]):>20}")
    print(f"{'Erlang C (theory)':<26}{'':>12}{'':>9}{p_theory:>20.4f}{wq_theory:>20.4f}")


if __name__ == "__main__":
    main()
