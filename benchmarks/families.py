"""B5 — every family: what one checked run costs, per delivered message, family by family.

For each family in :data:`dsalgo.families.FAMILIES` (the registry, so a new family is
measured without touching this file): ``simulate(n=3, seed)`` with the family's defaults
(its own default duration or request count), then ``check(run)``.  Reported per family: CPU seconds of simulate and
of check, messages delivered and events recorded, and the cost per delivered message as a
ratio to the bare ``heapq`` loop's cost per delivery measured in the same process, rounds
interleaved (the median of ``--rounds`` rounds).  Every run must pass its checker.

Run: ``python benchmarks/families.py [--rounds 5] [--seeds 3]``.
"""

from __future__ import annotations

import argparse
import heapq
import os
import platform
import random
import statistics
import time

from dsalgo.families import FAMILIES

N = 3


def raw_per_delivery(deliveries: int = 100_000) -> float:
    """CPU seconds per delivery of the bare heap loop (the pure-Python limit)."""
    t0 = time.process_time()
    rng, heap, seq, log = random.Random(1), [], 0, []
    for i in range(5):
        heapq.heappush(heap, (rng.expovariate(100.0), i, i, 0))
    seq = 5
    while len(log) < deliveries:
        t, _, dst, hops = heapq.heappop(heap)
        log.append((t, dst, hops))
        seq += 1
        heapq.heappush(heap, (t + rng.expovariate(100.0), seq, rng.randrange(5), hops + 1))
    return (time.process_time() - t0) / deliveries


def one_family(name: str, seeds: int) -> dict:
    fam = FAMILIES[name]
    sim_s = check_s = 0.0
    delivered = events = 0
    for seed in range(seeds):
        t0 = time.process_time()
        run = fam.simulate(n=N, seed=seed, record_messages=True)
        run.messages, run.events, run.history, run.faults  # noqa: B018 - built on first read
        t1 = time.process_time()
        verdict = fam.check(run)
        t2 = time.process_time()
        if not verdict:
            raise SystemExit(f"{name} seed {seed}: the checker failed: {verdict}")
        sim_s += t1 - t0
        check_s += t2 - t1
        delivered += int((run.messages["status"] == "delivered").sum())
        events += len(run.events)
    return {"simulate_s": sim_s, "check_s": check_s, "delivered": delivered,
            "events": events, "sim_seconds": float(run.until)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median kept)")
    p.add_argument("--seeds", type=int, default=3, help="runs per family per round")
    a = p.parse_args(argv)
    names = list(FAMILIES)
    rows = {n: [] for n in names}
    raws = []
    for _ in range(a.rounds):                     # interleave: each round measures all
        raws.append(raw_per_delivery())
        for n in names:
            rows[n].append(one_family(n, a.seeds))
    raw = statistics.median(raws)
    print(f"B5 every family, n={N}, default durations, {a.seeds} seeds x {a.rounds} rounds, "
          f"{platform.python_implementation()} {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"raw heapq loop: {raw * 1e6:.2f} µs per delivery (median of rounds)")
    print(f"{'family':<10}{'sim s':>8}{'simulate s':>11}{'check s':>9}{'delivered':>11}{'events':>9}"
          f"{'µs/delivery':>13}{'x raw':>8}")
    for n in names:
        med = {k: statistics.median(r[k] for r in rows[n]) for k in rows[n][0]}
        per = med["simulate_s"] / max(med["delivered"], 1)
        print(f"{n:<10}{med['sim_seconds']:>8.1f}{med['simulate_s']:>11.3f}{med['check_s']:>9.3f}"
              f"{int(med['delivered']):>11,}{int(med['events']):>9,}{per * 1e6:>13.2f}"
              f"{per / raw:>8.1f}")


if __name__ == "__main__":
    main()
