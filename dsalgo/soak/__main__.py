"""``python -m dsalgo.soak [NAME ...] [--runs N] [--processes P]``: run soaks, print results."""

from __future__ import annotations

import argparse
import os
import sys

from . import registry, soak


def main(argv=None) -> int:
    reg = registry()
    p = argparse.ArgumentParser(
        prog="python -m dsalgo.soak",
        description="Run many seeded faulty runs of each algorithm, check every one, and "
                    "print how many passed and what happened in them.")
    p.add_argument("names", nargs="*", help=f"soaks to run (default: all of {', '.join(reg)})")
    p.add_argument("--runs", type=int, default=None, help="runs per soak (default: each soak's own, 1,000+)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                   help="worker processes (default: all cores)")
    a = p.parse_args(argv)
    names = a.names or list(reg)
    unknown = [n for n in names if n not in reg]
    if unknown:
        p.error(f"unknown soak(s) {', '.join(unknown)}; choose from {', '.join(reg)}")
    failed = 0
    for name in names:
        r = soak(name, a.runs, seed=a.seed, processes=a.processes, progress=sys.stderr.isatty())
        print(r.report(), flush=True)
        failed += not r.ok
    total = len(names)
    print(f"soak: {total - failed} soaks passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
