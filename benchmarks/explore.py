"""B-explore — how robustly ``dsalgo.explore.search`` finds the hard Raft bugs.

``commit_prior_term`` (Figure 8) and ``forget_vote_on_restart`` need several faults at the
right moments; this measures, for each bug, with the search's default knobs and with
``noop=False``, on how many seeds the search finds a violation within a run budget, and
the runs and wall seconds to the first violation (medians over the seeds that found it).
Serial backend, one process, as ``tests/mutants`` calls it.

Run: ``python benchmarks/explore.py [--seeds 6] [--budget 3000] [--bugs a,b]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

from dsalgo import explore

BUGS = ("commit_prior_term", "forget_vote_on_restart")
SETTINGS = {"default knobs": None, "noop off": {"noop": False}}


def measure(bug: str, knobs, seeds, budget) -> dict:
    rows = []
    for seed in seeds:
        t0 = time.perf_counter()
        res = explore.search("raft", bugs={bug}, budget=budget, seed=seed, knobs=knobs)
        rows.append({"seed": seed, "found": res.found, "runs": res.runs,
                     "seconds": res.seconds, "property": res.property,
                     "wall": time.perf_counter() - t0})
        print(f"  {bug} knobs={knobs} seed={seed}: "
              f"{'found ' + str(res.property) if res.found else 'not found'} "
              f"after {res.runs} runs, {res.seconds:.1f} s", flush=True)
    hit = [r for r in rows if r["found"]]
    return {"found": len(hit), "seeds": len(rows),
            "runs": statistics.median(r["runs"] for r in hit) if hit else None,
            "seconds": statistics.median(r["seconds"] for r in hit) if hit else None,
            "all_runs": sum(r["runs"] for r in rows),
            "all_seconds": sum(r["wall"] for r in rows)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=6)
    p.add_argument("--first", type=int, default=0, help="first seed")
    p.add_argument("--budget", default="3000",
                   help="runs per search, or seconds with a point")
    p.add_argument("--bugs", default=",".join(BUGS))
    p.add_argument("--settings", default=",".join(SETTINGS))
    a = p.parse_args(argv)
    budget = float(a.budget) if "." in a.budget else int(a.budget)
    seeds = range(a.first, a.first + a.seeds)
    print(f"python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}, "
          f"budget {budget!r} per search, seeds {seeds.start}..{seeds.stop - 1}")
    table = []
    for bug in a.bugs.split(","):
        for name in a.settings.split(","):
            m = measure(bug, SETTINGS[name], seeds, budget)
            table.append((bug, name, m))
    print("\n| bug | knobs | seeds found | median runs | median seconds |")
    print("|---|---|---|---|---|")
    for bug, name, m in table:
        runs = "—" if m["runs"] is None else f"{m['runs']:g}"
        secs = "—" if m["seconds"] is None else f"{m['seconds']:.1f}"
        print(f"| {bug} | {name} | {m['found']}/{m['seeds']} | {runs} | {secs} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
