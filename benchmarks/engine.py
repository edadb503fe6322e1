"""B1 — engine: ping-relay.

Five nodes; each delivery makes the receiver send a new Ping to a uniformly chosen node;
exponential latency with mean 10 ms; no loss; about 200,000 deliveries with full recording
(dsalgo runs to the simulated time at which 5 pings relayed every 10 ms make that many; the
timing includes building ``run.messages``).  References in the same
process: the bare ``heapq`` loop (the pure-Python limit) and idiomatic SimPy.

Run: ``python benchmarks/engine.py [--deliveries N]``.
"""

from __future__ import annotations

import argparse
import heapq
import platform
import random
import time
from dataclasses import dataclass

from dsalgo import sim

NODES = [f"n{i}" for i in range(1, 6)]
MEAN = 0.010


@dataclass(frozen=True, slots=True)
class Ping:
    hops: int


def run_dsalgo(deliveries: int) -> tuple[float, int]:
    class Relay(sim.Node):
        def on_start(self, ctx):
            self.count = 0
            ctx.send(ctx.id, Ping(0))

        def on_message(self, ctx, src, msg):
            ctx.send(ctx.rng.choice(NODES), Ping(msg.hops + 1))

    s = sim.Simulation(seed=1, network=sim.Network(latency=sim.Exponential(mean=MEAN)))
    for n in NODES:
        s.add_node(n, Relay)
    t0 = time.perf_counter()
    # approximate horizon: 5 pings in flight, each hop ~10 ms → 500 deliveries per second
    horizon = deliveries / (len(NODES) / MEAN)
    run = s.run(until=horizon)
    msgs = run.messages
    elapsed = time.perf_counter() - t0
    return elapsed, int((msgs["status"] == "delivered").sum())


def run_raw(deliveries: int) -> tuple[float, int]:
    t0 = time.perf_counter()
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
    return time.perf_counter() - t0, count


def run_simpy(deliveries: int) -> tuple[float, int] | None:
    try:
        import simpy
    except ImportError:
        return None
    t0 = time.perf_counter()
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
    return time.perf_counter() - t0, len(log)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--deliveries", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3, help="best of N for each contender")
    a = p.parse_args(argv)
    res = {}
    for name, fn in (("raw heapq loop", run_raw), ("dsalgo", run_dsalgo), ("SimPy", run_simpy)):
        best = None
        for _ in range(a.repeat):
            out = fn(a.deliveries)
            if out is None:
                break
            if best is None or out[0] < best[0]:
                best = out
        if best is not None:
            res[name] = best
    print(f"B1 ping-relay, {a.deliveries:,} deliveries, {platform.python_implementation()} "
          f"{platform.python_version()}, best of {a.repeat}")
    print(f"{'contender':<16}{'wall s':>10}{'deliveries':>12}{'deliveries/s':>15}")
    for name, (t, n) in res.items():
        print(f"{name:<16}{t:>10.3f}{n:>12,}{n / t:>15,.0f}")
    rate = {k: n / t for k, (t, n) in res.items()}
    print(f"dsalgo / raw loop time ratio: {rate['raw heapq loop'] / rate['dsalgo']:.2f}x (target <= 2)")
    if "SimPy" in rate:
        print(f"dsalgo / SimPy speed-up:      {rate['dsalgo'] / rate['SimPy']:.2f}x (target >= 3)")


if __name__ == "__main__":
    main()
