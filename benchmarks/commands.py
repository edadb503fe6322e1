"""B2 curve — cost per committed command from 1,000 to 100,000 commands.

B2's workload (5 servers, 10 closed-loop clients, the default put/get/cas mix through the
log, LAN latency: exponential, mean 0.5 ms, no faults, full recording) on Raft and on
Multi-Paxos at growing command counts.  The timing is CPU time (``time.process_time``) of
``simulate`` plus building all four run tables, plus a full collection after the run is
dropped.  ``simulate`` closes the simulation it made (``Simulation.close``), so the
simulation is freed by reference counting when ``simulate`` returns; before, its objects
referred to one another (nodes, their contexts, the send closures) and waited for the
collector, and whoever ran next paid (the raw loop, measured after a 100k-command
Multi-Paxos run without it, ran 8x slower).  The collection is shown apart ("after"), so
a cycle that comes back shows there; the process's own objects are frozen out of it
(``gc.freeze`` before each run), so it walks the run's objects only.  The share of the
time spent in the garbage collector is measured with ``gc.callbacks``.  The figure to
read is how flat the cost per 1,000 committed commands stays (target: within 15 % from
1k to 100k, at most 0.12 s), together with B1's raw ``heapq`` loop measured in the same
process (after a collection) as the yardstick.

Run: ``python benchmarks/commands.py [--commands 1000 10000 100000] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import run_raw

from dsalgo import paxos, raft, sim

CLIENTS = 10
FAMILIES = {"Raft": raft, "Multi-Paxos": paxos}


class _GCTimer:
    """CPU seconds spent in garbage collections, through ``gc.callbacks``."""

    def __init__(self):
        self.total, self._t0 = 0.0, 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._t0 = time.process_time()
        else:
            self.total += time.process_time() - self._t0


def run_family(module, commands: int, gc_timer: _GCTimer) -> dict:
    gc.collect()
    gc.freeze()  # the process's own objects sit out the collections below: what they
    gc_timer.total = 0.0  # cost is the run's
    try:
        return _run_family(module, commands, gc_timer)
    finally:
        gc.unfreeze()


def _run_family(module, commands: int, gc_timer: _GCTimer) -> dict:
    t0 = time.process_time()
    # ~7,500 commands per simulated second: a horizon of commands / 2,000 s leaves room
    run = module.simulate(5, seed=1, duration=max(1.0, commands / 2000), clients=CLIENTS,
                          max_ops=commands // CLIENTS,
                          network=sim.Network(latency=sim.Exponential(mean=0.0005)),
                          record_messages=True)
    tables = run.messages, run.events, run.history, run.faults
    h = tables[2]
    committed = int(h["status"].isin(["ok", "fail"]).sum())
    messages, events = len(tables[0]), len(tables[1])
    del run, tables, h
    t1 = time.process_time()
    gc.collect()  # anything the finished simulation left in cycles: counted here
    t2 = time.process_time()
    assert committed == commands // CLIENTS * CLIENTS, f"only {committed} commands completed"
    return {"cpu": t2 - t0, "after": t2 - t1, "gc": gc_timer.total, "committed": committed,
            "messages": messages, "events": events}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--commands", type=int, nargs="+", default=[1_000, 10_000, 30_000, 100_000])
    p.add_argument("--rounds", type=int, default=1, help="interleaved rounds (medians)")
    a = p.parse_args(argv)
    timer = _GCTimer()
    gc.callbacks.append(timer)
    load0 = os.getloadavg()[0]
    res: dict = {}
    raw = []
    for _ in range(a.rounds):
        gc.collect()
        out = run_raw(200_000)
        raw.append(out[0] / out[1])
        for name, module in FAMILIES.items():
            for n in a.commands:
                res.setdefault((name, n), []).append(run_family(module, n, timer))
    raw_ns = statistics.median(raw) * 1e9
    print(f"B2 curve: {CLIENTS} closed-loop clients, LAN, full recording, all tables built; "
          f"{platform.python_implementation()} {platform.python_version()}; median of "
          f"{a.rounds} round(s); load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"raw heapq loop (B1): {raw_ns:,.0f} ns per delivery")
    print(f"{'':<13}{'commands':>9}{'CPU s / 1,000':>15}{'of which after':>16}{'GC share':>10}"
          f"{'messages':>11}{'events':>10}{'x raw/delivery':>16}")
    for name in FAMILIES:
        per = []
        for n in a.commands:
            rs = res[(name, n)]
            cpu = statistics.median(r["cpu"] for r in rs)
            gcs = statistics.median(r["gc"] / r["cpu"] for r in rs)
            r = rs[0]
            per_k = cpu / r["committed"] * 1000
            after_k = statistics.median(r["after"] for r in rs) / r["committed"] * 1000
            per.append(per_k)
            print(f"{name:<13}{n:>9,}{per_k:>15.3f}{after_k:>16.3f}{gcs:>10.1%}{r['messages']:>11,}"
                  f"{r['events']:>10,}{cpu / r['messages'] * 1e9 / raw_ns:>16.1f}")
        print(f"{name:<13}highest / lowest cost per command: {max(per) / min(per):.2f} "
              f"(target <= 1.15)")
    gc.callbacks.remove(timer)


if __name__ == "__main__":
    main()
