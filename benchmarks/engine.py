"""B1 — engine: ping-relay.

Five nodes; each delivery makes the receiver send a new Ping to a uniformly chosen node;
exponential latency with mean 10 ms; no loss; about 200,000 deliveries with full recording
(dsalgo runs to the simulated time at which 5 pings relayed every 10 ms make that many; the
timing includes building ``run.messages``).  References in the same process: the bare
``heapq`` loop (the pure-Python limit), SimPy written idiomatically (a process per node
reading a ``Store``, a process per message in flight) and SimPy written lean (one
``timeout`` per message with a callback, no process at all).

The message is a plain slots dataclass, as the raw loop and SimPy carry a tuple; the same
run with a frozen dataclass message is shown beside it (building a frozen dataclass costs
about twice a plain one).  Figures are CPU time (``time.process_time``), medians over
interleaved rounds (each contender starting from a collected heap: ``gc.collect()`` before
it, outside the timing), and with ``--callgrind`` the instructions per delivery counted under
valgrind (each contender run at N and at 0 deliveries in a fresh process, the difference
divided by N), a cross-check that machine noise cannot move.

Run: ``python benchmarks/engine.py [--deliveries N] [--rounds R] [--callgrind]``.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from dsalgo import sim

NODES = [f"n{i}" for i in range(1, 6)]
MEAN = 0.010


@dataclass(slots=True)
class Ping:
    hops: int


@dataclass(frozen=True, slots=True)
class FrozenPing:
    hops: int


def _dsalgo(deliveries: int, ping) -> tuple[float, int]:
    class Relay(sim.Node):
        def on_start(self, ctx):
            ctx.send(ctx.id, ping(0))

        def on_message(self, ctx, src, msg):
            ctx.send(ctx.rng.choice(NODES), ping(msg.hops + 1))

    s = sim.Simulation(seed=1, network=sim.Network(latency=sim.Exponential(mean=MEAN)))
    for n in NODES:
        s.add_node(n, Relay)
    t0 = time.process_time()
    # approximate horizon: 5 pings in flight, each hop ~10 ms → 500 deliveries per second
    horizon = deliveries / (len(NODES) / MEAN)
    run = s.run(until=horizon)
    msgs = run.messages
    elapsed = time.process_time() - t0
    return elapsed, int((msgs["status"] == "delivered").sum())


def run_dsalgo(deliveries: int) -> tuple[float, int]:
    return _dsalgo(deliveries, Ping)


def run_dsalgo_frozen(deliveries: int) -> tuple[float, int]:
    return _dsalgo(deliveries, FrozenPing)


def run_raw(deliveries: int) -> tuple[float, int]:
    t0 = time.process_time()
    rng = random.Random(1)
    heap = []
    seq = 0
    log = []
    rate = 1 / MEAN
    for n in NODES:
        heapq.heappush(heap, (rng.expovariate(rate), seq, n, n, 0))
        seq += 1
    count = 0
    while count < deliveries:
        t, _, src, dst, hops = heapq.heappop(heap)
        log.append((t, src, dst, hops))
        count += 1
        nxt = rng.choice(NODES)
        seq += 1
        heapq.heappush(heap, (t + rng.expovariate(rate), seq, dst, nxt, hops + 1))
    return time.process_time() - t0, count


def run_simpy(deliveries: int) -> tuple[float, int] | None:
    try:
        import simpy
    except ImportError:
        return None
    t0 = time.process_time()
    env = simpy.Environment()
    rng = random.Random(1)
    stores = {n: simpy.Store(env) for n in NODES}
    log = []
    stop = env.event()

    def carry(dst, msg):
        yield env.timeout(rng.expovariate(1 / MEAN))
        yield stores[dst].put(msg)

    def node(name):
        env.process(carry(name, (name, 0)))
        while True:
            src, hops = yield stores[name].get()
            log.append((env.now, src, name, hops))
            if len(log) >= deliveries:
                if not stop.triggered:
                    stop.succeed()
                return
            env.process(carry(rng.choice(NODES), (name, hops + 1)))

    for n in NODES:
        env.process(node(n))
    env.run(until=stop)
    return time.process_time() - t0, len(log)


def run_simpy_lean(deliveries: int) -> tuple[float, int] | None:
    """SimPy at its leanest: one timeout event per message, delivered by a callback."""
    try:
        import simpy
    except ImportError:
        return None
    t0 = time.process_time()
    env = simpy.Environment()
    rng = random.Random(1)
    rate = 1 / MEAN
    log = []
    stop = env.event()

    def deliver(ev):
        src, dst, hops = ev.value
        log.append((env.now, src, dst, hops))
        if len(log) >= deliveries:
            if not stop.triggered:
                stop.succeed()
            return
        env.timeout(rng.expovariate(rate), (dst, rng.choice(NODES), hops + 1)).callbacks.append(
            deliver)

    for n in NODES:
        env.timeout(rng.expovariate(rate), (n, n, 0)).callbacks.append(deliver)
    env.run(until=stop)
    return time.process_time() - t0, len(log)


CONTENDERS = {
    "raw heapq loop": run_raw,
    "dsalgo": run_dsalgo,
    "dsalgo, frozen msg": run_dsalgo_frozen,
    "SimPy idiomatic": run_simpy,
    "SimPy lean": run_simpy_lean,
}


def instructions(name: str, deliveries: int) -> float | None:
    """Instructions per delivery of contender ``name`` under callgrind (None without it)."""
    if shutil.which("valgrind") is None:
        return None

    def count(n):
        code = (f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
                f"import engine; n = {n}; n and engine.CONTENDERS[{name!r}](n)")
        out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                              sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stderr
        return int(re.search(r"Collected : (\d+)", out).group(1))

    return (count(deliveries) - count(0)) / deliveries


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--deliveries", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=7, help="interleaved rounds (medians)")
    p.add_argument("--callgrind", action="store_true",
                   help="also count instructions per delivery under valgrind (slow)")
    p.add_argument("--callgrind-deliveries", type=int, default=50_000)
    a = p.parse_args(argv)
    times: dict[str, list] = {k: [] for k in CONTENDERS}
    counts: dict[str, int] = {}
    load0 = os.getloadavg()[0]
    for _ in range(a.rounds):
        for name, fn in CONTENDERS.items():
            gc.collect()  # each contender starts from a collected heap, not the last one's garbage
            out = fn(a.deliveries)
            if out is not None:
                times[name].append(out[0] / out[1])
                counts[name] = out[1]
    per = {k: statistics.median(v) for k, v in times.items() if v}
    print(f"B1 ping-relay, {a.deliveries:,} deliveries, {platform.python_implementation()} "
          f"{platform.python_version()}, median of {a.rounds} interleaved rounds of CPU time; "
          f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"{'contender':<20}{'ns/delivery':>12}{'deliveries/s':>14}{'x raw':>8}"
          f"{'ratio range':>14}")
    raw = times["raw heapq loop"]
    for name, v in per.items():
        ratios = [x / r for x, r in zip(times[name], raw)]
        print(f"{name:<20}{v * 1e9:>12,.0f}{1 / v:>14,.0f}{v / per['raw heapq loop']:>8.2f}"
              f"{min(ratios):>8.2f}–{max(ratios):.2f}")
    print(f"dsalgo / raw loop:        {per['dsalgo'] / per['raw heapq loop']:.2f}x "
          f"(target <= 1.8, goal 1.5)")
    for simpy in ("SimPy idiomatic", "SimPy lean"):
        if simpy in per:
            print(f"{simpy} / dsalgo: {per[simpy] / per['dsalgo']:>6.2f}x"
                  + (" (target >= 3)" if simpy == "SimPy idiomatic" else ""))
    if a.callgrind:
        n = a.callgrind_deliveries
        ins = {k: instructions(k, n) for k in ("raw heapq loop", "dsalgo", "SimPy lean")}
        if ins["dsalgo"] is None:
            print("callgrind: valgrind is not installed")
        else:
            print(f"instructions per delivery (callgrind, {n:,} deliveries): "
                  + ", ".join(f"{k} {v:,.0f}" for k, v in ins.items() if v is not None))
            print(f"dsalgo / raw loop, instructions: {ins['dsalgo'] / ins['raw heapq loop']:.2f}x")


if __name__ == "__main__":
    main()
