"""``python tests/mutants [NAME ...] [--runs N] [--budget B] [--processes P]``.

For every mutant (or those named): does the family's checker catch it under the soak
settings (``--runs`` seeds of each of the family's soaks), and does ``explore.search``
with its default budget (``--budget``: runs, or seconds if it has a point) find a
violation?  Prints one line per mutant and the scores per family.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mutants import BY_NAME, EQUIVALENT, MUTANTS, applied


def judge(name: str, runs: int, budget) -> dict:
    """Run one mutant: checker under the soak settings, then explore.search.

    A search catch counts only if the failing run passes without the mutant (the same
    scenario replayed on the original kernel); a mutant whose snippet no longer matches
    the kernel is "stale", not caught.
    """
    from dsalgo import explore
    from dsalgo.families import family
    from dsalgo.soak import by_family, soak
    from mutants import _mutated
    m = BY_NAME[name]
    t0 = time.perf_counter()
    out = {"name": name, "family": m.family, "soak": None, "search": None, "why": ""}
    try:
        _mutated(m)
    except (LookupError, SyntaxError, OSError) as e:
        out.update(soak="stale", search="stale", why=str(e)[:100], seconds=0.0)
        return out
    res = None
    try:
        with applied(m):
            soaks = [s for s in by_family().get(m.family, []) if not s.endswith("-explore")]
            failed = 0
            for s in soaks:
                r = soak(s, runs)
                failed += r.runs - r.passed
                if r.failures and not out["why"]:
                    out["why"] = str(r.failures[0][1])[:100]
            out["soak"] = failed > 0 if soaks else None
            res = explore.search(m.family, budget=budget, seed=0)
    except Exception as e:  # noqa: BLE001 - a crash of the mutated kernel is a catch
        out["soak"] = out["soak"] if out["soak"] is not None else True
        out["search"] = True if out["search"] is None else out["search"]
        out["why"] = f"crashed: {type(e).__name__}: {e}"[:100]
    if res is not None:
        out["search"] = res.found
        if res.found:
            clean = family(m.family).check(explore.replay(res.scenario))
            if clean.status == "violated":
                out["search"] = False
                out["why"] = (out["why"] or "") + (f" [search's failing run fails without "
                                                   f"the mutant too: {res.property}]")
            elif not out["why"]:
                out["why"] = f"{res.property}: {res.detail}"[:100]
    out["seconds"] = time.perf_counter() - t0
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python tests/mutants")
    p.add_argument("names", nargs="*", help="mutants (default: all)")
    p.add_argument("--runs", type=int, default=50, help="seeds per soak (default 50)")
    p.add_argument("--budget", default="200",
                   help="explore.search budget: runs, or seconds with a point (default 200)")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    a = p.parse_args(argv)
    budget = float(a.budget) if "." in a.budget else int(a.budget)
    names = a.names or [m.name for m in MUTANTS]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        p.error(f"unknown mutants {unknown}; choose from {', '.join(BY_NAME)}")
    with ProcessPoolExecutor(a.processes) as pool:
        results = list(pool.map(judge, names, [a.runs] * len(names), [budget] * len(names)))
    fams: dict = {}
    for r in results:
        mark = lambda v: "-" if v is None else (v if isinstance(v, str) else
                                                ("caught" if v else "MISSED"))
        eq = f"  [equivalent: {EQUIVALENT[r['name']]}]" if r["name"] in EQUIVALENT else ""
        print(f"{r['family']:10} {r['name']:28} soak {mark(r['soak']):7} search "
              f"{mark(r['search']):7} {r['seconds']:6.1f}s  {r['why']}{eq}", flush=True)
        f = fams.setdefault(r["family"], [0, 0, 0])
        f[0] += 1
        f[1] += r["soak"] is True
        f[2] += r["search"] is True
    print("\nfamily      mutants  checker(soak)  explore.search")
    tot = [0, 0, 0]
    for fam, (n, s, e) in fams.items():
        print(f"{fam:10} {n:8} {s:8}/{n:<4} {e:8}/{n:<4}")
        tot = [tot[0] + n, tot[1] + s, tot[2] + e]
    print(f"{'all':10} {tot[0]:8} {tot[1]:8}/{tot[0]:<4} {tot[2]:8}/{tot[0]:<4}"
          f"  (search: {100 * tot[2] / max(tot[0], 1):.0f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
