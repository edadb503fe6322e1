"""``python -m dsalgo.soak [NAME ...] [--runs N] [--processes P]``: run soaks, print results.

A NAME is a soak or a family of :data:`dsalgo.families.FAMILIES` (all of its soaks); the
families that have no soak are named at the end.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import by_family, registry, soak


def main(argv=None) -> int:
    reg = registry()
    families = by_family(reg)
    p = argparse.ArgumentParser(
        prog="python -m dsalgo.soak",
        description="Run many seeded faulty runs of each algorithm, check every one, and "
                    "print how many passed and what happened in them.")
    p.add_argument("names", nargs="*",
                   help=f"soaks to run, or families (all their soaks); default: all of "
                        f"{', '.join(reg)}")
    p.add_argument("--runs", type=int, default=None, help="runs per soak (default: each soak's own, 1,000+)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                   help="worker processes (default: all cores)")
    a = p.parse_args(argv)
    names = []
    for n in a.names or list(reg):
        for name in ([n] if n in reg else families.get(n) or [n]):
            if name not in names:
                names.append(name)
    unknown = [n for n in names if n not in reg]
    if unknown:
        p.error(f"unknown soak(s) {', '.join(unknown)}; choose from {', '.join(reg)} or a "
                f"family with soaks ({', '.join(f for f, s in families.items() if s)})")
    failed = 0
    for name in names:
        r = soak(name, a.runs, seed=a.seed, processes=a.processes, progress=sys.stderr.isatty())
        print(r.report(), flush=True)
        failed += not r.ok
    total = len(names)
    print(f"soak: {total - failed} soaks passed, {failed} failed")
    missing = [f for f, soaks in families.items() if not soaks]
    if missing and not a.names:
        print(f"families with no soak: {', '.join(missing)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
