"""Multi-Paxos throughput, next to B2's Raft and B1's raw loop in the same process.

The B2 workload on the Multi-Paxos store: 5 servers, 10,000 client commands from 10
closed-loop clients (1,000 each; the default put/get/cas mix, every command through the
log), LAN latency (exponential, mean 0.5 ms), no faults, full recording (the timing
includes building the run tables).  Figures: message deliveries per CPU second and CPU
seconds per 1,000 committed commands for Multi-Paxos, for Raft (B2's run) and for B1's raw
``heapq`` loop, all measured in this process; the ratios are what to compare across
machines.

Run: ``python benchmarks/paxos.py [--commands N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import run_raw
from raft import run_raft

from dsalgo import paxos, sim

CLIENTS = 10
RAW_DELIVERIES = 200_000


def run_paxos(commands: int) -> dict:
    """One run; returns CPU seconds, deliveries, committed commands, messages."""
    t0 = time.process_time()
    run = paxos.simulate(5, seed=1, duration=max(1.0, commands / 2000), clients=CLIENTS,
                         max_ops=commands // CLIENTS,
                         network=sim.Network(latency=sim.Exponential(mean=0.0005)))
    h, _, _ = run.history, run.messages, run.events  # tables are built when first read
    wall = time.process_time() - t0
    committed = int(h["status"].isin(["ok", "fail"]).sum())
    assert paxos.check(run), "the Multi-Paxos run failed its safety check"
    assert committed == commands // CLIENTS * CLIENTS, f"only {committed} commands completed"
    return {"wall": wall, "events": int((run.messages["status"] == "delivered").sum()),
            "committed": committed, "messages": len(run.messages),
            "sim_seconds": float(h["t_complete"].max())}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--commands", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=3, help="best of N for each contender")
    a = p.parse_args(argv)
    raw = min((run_raw(RAW_DELIVERIES) for _ in range(a.repeat)), key=lambda r: r[0])
    px = min((run_paxos(a.commands) for _ in range(a.repeat)), key=lambda r: r["wall"])
    rf = min((run_raft(a.commands) for _ in range(a.repeat)), key=lambda r: r["wall"])
    raw_rate = raw[1] / raw[0]
    print(f"Multi-Paxos throughput: 5 servers, {CLIENTS} closed-loop clients, {a.commands:,} "
          f"commands, LAN (exp. mean 0.5 ms), full recording; "
          f"{platform.python_implementation()} {platform.python_version()}, best of {a.repeat}")
    print(f"{'':<22}{'committed':>10}{'messages':>10}{'sim s':>7}{'events/s':>12}"
          f"{'CPU s / 1,000 cmds':>21}{'msgs / cmd':>11}")
    for name, r in (("dsalgo Multi-Paxos", px), ("dsalgo Raft (B2)", rf)):
        print(f"{name:<22}{r['committed']:>10,}{r['messages']:>10,}{r['sim_seconds']:>7.2f}"
              f"{r['events'] / r['wall']:>12,.0f}{r['wall'] / r['committed'] * 1000:>21.3f}"
              f"{r['messages'] / r['committed']:>11.2f}")
    print(f"{'raw heapq loop (B1)':<22}{'':>10}{'':>10}{'':>7}{raw_rate:>12,.0f}"
          f"{px['events'] / px['committed'] * 1000 / raw_rate:>21.3f}")
    print(f"raw loop / Multi-Paxos events-per-second ratio: {raw_rate / (px['events'] / px['wall']):.1f}x; "
          f"Multi-Paxos / Raft CPU time per command: "
          f"{(px['wall'] / px['committed']) / (rf['wall'] / rf['committed']):.2f}x")


if __name__ == "__main__":
    main()
