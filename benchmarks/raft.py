"""B2 — Raft throughput.

A 5-server Raft key-value store, 10,000 client commands from 10 closed-loop clients (1,000
each; the default put/get/cas mix, every command through the log), LAN latency (exponential,
mean 0.5 ms), no faults, full recording (the timing includes building the run tables).
Figures: simulated events per CPU second (an event here is a message delivery, the unit
B1's raw loop counts; timer firings, a few per cent more, are not counted) and CPU seconds
per 1,000 committed commands, each next to B1's raw ``heapq`` loop measured in the same
process, as a ratio.

With ``--models`` it also runs the B2 variant with the resource models on: every server
has a processing time per message and timer (exponential, mean 20 µs) and a storage model
(syncs log-normal, median 1 ms, sigma 0.5), so votes and entries wait for group-committed
syncs and work queues at busy servers.  Its events per CPU second count the same message
deliveries, beside the B2 figure measured in the same process.

Run: ``python benchmarks/raft.py [--commands N] [--repeat R] [--models]``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import run_raw

from dsalgo import raft, sim

CLIENTS = 10
RAW_DELIVERIES = 200_000


def run_raft(commands: int) -> dict:
    """One B2 run; returns CPU seconds, deliveries, committed commands."""
    t0 = time.process_time()
    # ~7,500 commands per simulated second here: a horizon of commands / 2,000 s leaves room
    # for all of them with little idle heartbeat time after the last
    run = raft.simulate(5, seed=1, duration=max(1.0, commands / 2000), clients=CLIENTS,
                        max_ops=commands // CLIENTS,
                        network=sim.Network(latency=sim.Exponential(mean=0.0005)),
                        record_messages=True)
    h, _, _ = run.history, run.messages, run.events  # tables are built when first read
    wall = time.process_time() - t0
    delivered = int((run.messages["status"] == "delivered").sum())
    committed = int(h["status"].isin(["ok", "fail"]).sum())
    assert raft.check(run), "B2 run failed the safety check"
    assert committed == commands // CLIENTS * CLIENTS, f"only {committed} commands completed"
    return {"wall": wall, "events": delivered, "committed": committed,
            "messages": len(run.messages), "sim_seconds": float(h["t_complete"].max())}


#: the B2 variant's resource models
CPU = sim.Exponential(20e-6)
STORAGE = sim.Storage(sync=sim.LogNormal(median=0.001, sigma=0.5))


def run_raft_models(commands: int) -> dict:
    """One run of the B2 variant with processing time and storage; as :func:`run_raft`."""
    t0 = time.process_time()
    run = raft.simulate(5, seed=1, duration=max(2.0, commands / 500), clients=CLIENTS,
                        max_ops=commands // CLIENTS,
                        network=sim.Network(latency=sim.Exponential(mean=0.0005)),
                        record_messages=True, cpu=CPU, storage=STORAGE)
    h, _, ev = run.history, run.messages, run.events
    wall = time.process_time() - t0
    delivered = int((run.messages["status"] == "delivered").sum())
    committed = int(h["status"].isin(["ok", "fail"]).sum())
    assert raft.check(run), "B2 (models) run failed the safety check"
    assert committed == commands // CLIENTS * CLIENTS, f"only {committed} commands completed"
    return {"wall": wall, "events": delivered, "committed": committed,
            "syncs": int((ev["kind"] == "sync").sum()),
            "sim_seconds": float(h["t_complete"].max())}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--commands", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=3, help="best of N for each contender")
    p.add_argument("--models", action="store_true",
                   help="also run the B2 variant with processing time and storage on")
    a = p.parse_args(argv)
    raw = min((run_raw(RAW_DELIVERIES) for _ in range(a.repeat)), key=lambda r: r[0])
    best = min((run_raft(a.commands) for _ in range(a.repeat)), key=lambda r: r["wall"])
    raw_rate = raw[1] / raw[0]
    rate = best["events"] / best["wall"]
    per_1000 = best["wall"] / best["committed"] * 1000
    raw_per_1000 = best["events"] / best["committed"] * 1000 / raw_rate
    print(f"B2 Raft throughput: 5 servers, {CLIENTS} closed-loop clients, {a.commands:,} "
          f"commands, LAN (exp. mean 0.5 ms), full recording; {platform.python_implementation()} "
          f"{platform.python_version()}, best of {a.repeat}")
    print(f"committed commands     {best['committed']:>12,}   (in {best['sim_seconds']:.2f} "
          f"simulated s; {best['messages']:,} messages recorded)")
    print(f"simulated events       {best['events']:>12,}   (message deliveries)")
    print(f"{'':<22}{'events/s':>14}{'CPU s / 1,000 commands':>26}")
    print(f"{'dsalgo Raft':<22}{rate:>14,.0f}{per_1000:>26.3f}")
    print(f"{'raw heapq loop (B1)':<22}{raw_rate:>14,.0f}{raw_per_1000:>26.3f}")
    print(f"raw loop / dsalgo Raft events-per-second ratio: {raw_rate / rate:.1f}x "
          f"(the cost of the Raft handlers, the simulator and full recording together)")
    if a.models:
        m = min((run_raft_models(a.commands) for _ in range(a.repeat)),
                key=lambda r: r["wall"])
        m_rate = m["events"] / m["wall"]
        print(f"B2 with models (cpu {CPU!r}, {STORAGE!r}): {m['committed']:,} commands in "
              f"{m['sim_seconds']:.2f} simulated s, {m['events']:,} deliveries, "
              f"{m['syncs']:,} syncs")
        print(f"{'dsalgo Raft + models':<22}{m_rate:>14,.0f}"
              f"{m['wall'] / m['committed'] * 1000:>26.3f}")
        print(f"B2 / B2 with models, events per second: {rate / m_rate:.2f}x")


if __name__ == "__main__":
    main()
