"""B-balance — the serving-cluster model against a bare M/M/c loop.

``balance.simulate(c, policy="central_queue", ...)`` runs every request through a client,
a balancer and a backend node on the simulator (four heap events and three messages per
request).  The reference, in the same process, is the shortest correct M/M/c simulation in
pure Python: a ``heapq`` of server-free times and one FIFO wait computed per arrival
(Lindley-style), with no nodes, messages or tables.  The benchmark prints requests per
wall second for each, their ratio, and the Erlang C waiting probability both measured, as
a check that the two compute the same thing.

Run: ``python benchmarks/balance.py [--requests N] [--servers C] [--rho R]``.
"""

from __future__ import annotations

import argparse
import heapq
import platform
import random
import time

from dsalgo import balance


def bare_mmc(requests: int, c: int, rho: float, seed: int = 0) -> tuple[float, float]:
    """Wall seconds and P(wait) of a minimal FIFO M/M/c simulation."""
    t0 = time.perf_counter()
    rng = random.Random(seed)
    lam = rho * c
    free = [0.0] * c            # when each server next falls idle
    t = 0.0
    waited = 0
    for _ in range(requests):
        t += rng.expovariate(lam)
        start = max(t, heapq.heappop(free))
        waited += start > t
        heapq.heappush(free, start + rng.expovariate(1.0))
    return time.perf_counter() - t0, waited / requests


def model(requests: int, c: int, rho: float, seed: int = 0) -> tuple[float, float]:
    t0 = time.perf_counter()
    run = balance.simulate(c, policy="central_queue", utilization=rho, requests=requests,
                           seed=seed)
    p = balance.wait_probability(run)
    return time.perf_counter() - t0, p


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=50_000)
    ap.add_argument("--servers", type=int, default=8)
    ap.add_argument("--rho", type=float, default=0.8)
    args = ap.parse_args(argv)
    n, c, rho = args.requests, args.servers, args.rho
    t_model, p_model = model(n, c, rho)
    t_bare, p_bare = bare_mmc(n, c, rho)
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"M/M/{c} at rho={rho}, {n} requests")
    print(f"{'':24}{'requests/s':>12}{'P(wait)':>10}")
    print(f"{'balance.simulate':24}{n / t_model:12,.0f}{p_model:10.4f}")
    print(f"{'bare heapq loop':24}{n / t_bare:12,.0f}{p_bare:10.4f}")
    print(f"{'Erlang C (theory)':24}{'':12}{float(balance.erlang_c(c, rho)):10.4f}")
    print(f"ratio model / bare loop: {t_model / t_bare:.1f}x the wall time")


if __name__ == "__main__":
    main()
