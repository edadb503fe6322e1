"""B5 — scale in nodes: 10 against 1,000.

At the large size every node sends ``--sends`` messages (default 50) at start, each to a
peer chosen uniformly from its own stream; at the small size each node sends as many as
makes the same total (5,000 each for 10 nodes), so both runs deliver 50,000 messages and
fixed costs weigh the same.  Exponential latency (mean 5 ms); full recording.  Figures, at
each size: start-up (building the simulation and adding the nodes, then a full collection,
so one that start-up's objects call for is not charged to the run), CPU per delivered
message (the run: sends, link set-up, deliveries, and building ``run.messages``), the
ratio of that cost at the large size to the small one (target <= 1.3), the bytes the
message recording holds per message (target <= 40), and the whole run's traced memory
per message (``tracemalloc``, so links and their random streams included).  "links" counts
the links used, "built" those that became a ``Link`` object (the rest sent unbuilt: see
:mod:`dsalgo.sim.wire`), "seeded" those that drew past their counter-based draws and
seeded a generator.

``--raw`` adds the pure-Python reference: a bare ``heapq`` loop doing the same workload
(one global generator, nodes as slots objects whose handler counts), with and without
keeping a count per link (a dict per source, as the simulator keeps them; what a stream
per link needs at least), and prints
its own large / small ratio: the part of the 1.3× budget that memory and the per-link
count take before any simulator does anything.

Run: ``python benchmarks/nodes.py [--nodes 10 1000] [--sends 50] [--rounds R] [--raw]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import time
import tracemalloc

from dsalgo import sim


class Sender(sim.Node):
    sends = 50
    peers: tuple = ()

    def on_start(self, ctx):
        choice, send = ctx.rng.choice, ctx.send
        for i in range(self.sends):
            send(choice(self.peers), i)


def one(n: int, sends: int, trace: bool = False) -> dict:
    Sender.sends = sends
    Sender.peers = tuple(f"n{i}" for i in range(n))
    gc.collect()  # the previous run's garbage is not this one's start-up
    if trace:
        tracemalloc.start()
    t0 = time.process_time()
    s = sim.Simulation(seed=1, network=sim.Network(latency=sim.Exponential(mean=0.005)))
    for p in Sender.peers:
        s.add_node(p, Sender)
    gc.collect()  # a full collection that start-up's objects call for is start-up's cost
    t1 = time.process_time()
    run = s.run(until=1.0)
    m = run.messages
    t2 = time.process_time()
    mem = tracemalloc.get_traced_memory()[0] if trace else 0
    if trace:
        tracemalloc.stop()
    log = s._wire.log
    recorded = sum(a.buffer_info()[1] * a.itemsize for a in (log.codes, log.t_send,
                                                             log.t_deliver, log.dup_rows))
    delivered = int((m["status"] == "delivered").sum())
    assert delivered == n * sends, delivered
    wire = s._wire
    seeded = sum(link.mt is not None for link in wire.links.values())
    unbuilt = sum(map(len, wire.fresh.values()))
    return {"start": t1 - t0, "per": (t2 - t1) / delivered,
            "links": len(wire.links) + unbuilt, "built": len(wire.links), "seeded": seeded,
            "recorded": recorded / len(m), "traced": mem / len(m)}


class _RawNode:
    __slots__ = ("got", "id")

    def __init__(self, i):
        self.id, self.got = i, 0

    def on_message(self, src, msg):
        self.got += 1


def raw(n: int, sends: int, per_link: bool) -> float:
    """CPU seconds per delivery of the bare heapq loop on B5's workload."""
    import heapq
    import random
    from itertools import count

    gc.collect()
    rng = random.Random(1)
    nodes = [_RawNode(i) for i in range(n)]
    heap, seq = [], count()
    t0 = time.process_time()
    for a in nodes:
        counts: dict = {}   # per source, destination -> draws (the simulator's own layout)
        for i in range(sends):
            b = nodes[rng.randrange(n)]
            if per_link:
                counts[b.id] = counts.get(b.id, 0) + 1
            heapq.heappush(heap, (rng.expovariate(200.0), next(seq), b, a.id, i))
    while heap:
        _, _, b, src, m = heapq.heappop(heap)
        b.on_message(src, m)
    return (time.process_time() - t0) / (n * sends)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, nargs=2, default=[10, 1000])
    p.add_argument("--sends", type=int, default=50, help="sends per node at the large size")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--raw", action="store_true",
                   help="also time the bare heapq loop on the same workload")
    a = p.parse_args(argv)
    small, large = a.nodes
    sends = {small: a.sends * large // small, large: a.sends}
    load0 = os.getloadavg()[0]
    res: dict = {}
    for _ in range(a.rounds):
        for n in a.nodes:
            res.setdefault(n, []).append(one(n, sends[n]))
    print(f"B5 scale in nodes: {large * a.sends:,} messages sent at start, full recording; "
          f"{platform.python_implementation()} {platform.python_version()}; medians of "
          f"{a.rounds} interleaved rounds of CPU time; load average {load0:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after")
    print(f"{'nodes':>7}{'sends/node':>11}{'links':>9}{'built':>8}{'seeded':>8}{'start s':>9}"
          f"{'us/delivery':>13}"
          f"{'x small':>9}{'B/msg recorded':>16}{'B/msg traced':>14}")
    base = statistics.median(r["per"] for r in res[small])
    for n in a.nodes:
        rs = res[n]
        per = statistics.median(r["per"] for r in rs)
        traced = one(n, sends[n], trace=True)["traced"]
        print(f"{n:>7,}{sends[n]:>11,}{rs[0]['links']:>9,}{rs[0]['built']:>8,}{rs[0]['seeded']:>8,}"
              f"{statistics.median(r['start'] for r in rs):>9.3f}{per * 1e6:>13.2f}"
              f"{per / base:>9.2f}{rs[0]['recorded']:>16.1f}{traced:>14.0f}")
    if a.raw:
        print("bare heapq loop, same workload (the pure-Python limit):")
        for per_link in (False, True):
            got: dict = {}
            for _ in range(a.rounds):
                for n in a.nodes:
                    got.setdefault(n, []).append(raw(n, sends[n], per_link))
            lo, hi = (statistics.median(got[n]) for n in a.nodes)
            what = "with a count per link" if per_link else "no per-link state"
            print(f"  {what:<24}{lo * 1e6:>8.2f} us at {small:,}{hi * 1e6:>8.2f} us at "
                  f"{large:,}   x small {hi / lo:.2f}")


if __name__ == "__main__":
    main()
