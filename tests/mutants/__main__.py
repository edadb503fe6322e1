"""``python tests/mutants [NAME ...] [--runs N] [--budget B] [--diff D] [--processes P]
[--memory-gb G] [--json FILE]``.

For every mutant (or those named), in a fresh interpreter of its own (``--processes`` at a
time, each limited to ``--memory-gb`` of address space, so a mutant that runs away is
reported and nothing else is lost):

1. a *differential run*: ``--diff`` scenarios drawn as ``explore.search`` draws them, run
   with and without the mutant; a mutant whose tables are identical in all of them (and
   that search does not catch) is reported as ``equivalent`` -- it changes nothing these
   runs show;
2. the family's soaks, ``--runs`` seeds each (0 skips them);
3. ``explore.search`` with ``--budget`` (runs, or seconds if it has a point); a catch
   counts only if the original kernel does not break the same property in the same
   scenario.

Prints one line per mutant as soon as it is judged and, at the end, per family, the mutants, those that change behaviour and
how many of those the soaks and the search caught.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mutants import BY_NAME, EQUIVALENT, MUTANTS, applied


def _digest(scenario) -> str:
    """A fingerprint of a scenario's run: its history and events, or the exception it
    raised."""
    import hashlib
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = scenario.run(record_messages=False)
        text = run.history.to_csv() + run.events.to_csv()
    except Exception as e:  # noqa: BLE001 - a mutant that raises changed behaviour
        text = f"raised {type(e).__name__}: {e}"
    return hashlib.sha256(text.encode()).hexdigest()


def judge(name: str, runs: int, budget, diff: int = 12) -> dict:
    """Run one mutant.

    1. *Differential run*: ``diff`` scenarios drawn as ``explore.search`` draws them, run
       with and without the mutant; if every table is identical the mutant changed
       nothing there (``changed`` False: equivalent as far as these runs show).
    2. The family's soaks (``runs`` seeds each; 0 skips them).
    3. ``explore.search`` with ``budget``.  A catch counts only if the same scenario
       replayed on the original kernel does not break the same property (judged as the
       search judges).

    A mutant whose snippet no longer matches the kernel is "stale", not caught.
    """
    from dsalgo import explore
    from dsalgo.explore.search import sample
    from dsalgo.families import family
    from dsalgo.soak import by_family, soak
    from mutants import _mutated
    m = BY_NAME[name]
    t0 = time.perf_counter()
    out = {"name": name, "family": m.family, "soak": None, "search": None, "why": "",
           "changed": None, "planted": name in family(m.family).BUGS}
    try:
        _mutated(m)
    except (LookupError, SyntaxError, OSError) as e:
        out.update(soak="stale", search="stale", why=str(e)[:100], seconds=0.0)
        return out
    scenarios = sample(m.family, diff, seed=0)
    clean = [_digest(s) for s in scenarios]
    res = None
    with applied(m):
        mutated = [_digest(s) for s in scenarios]
        out["changed"] = clean != mutated
        if runs:
            soaks = [s for s in by_family().get(m.family, []) if not s.endswith("-explore")]
            failed = 0
            for s in soaks:
                try:
                    r = soak(s, runs)
                except Exception as e:  # noqa: BLE001 - the mutated kernel raised
                    failed += 1
                    out["why"] = out["why"] or f"soak {s} raised {type(e).__name__}"[:100]
                    continue
                failed += r.runs - r.passed
                if r.failures and not out["why"]:
                    out["why"] = str(r.failures[0][1])[:100]
            out["soak"] = failed > 0 if soaks else None
        res = explore.search(m.family, budget=budget, seed=0)
    out["search"] = res.found
    out["runs"] = res.runs
    if res.found:
        from dsalgo.explore.search import _judged
        try:
            clean_run = explore.replay(res.scenario)
            v = family(m.family).check(clean_run)
            # judged as the search judges (progress not on a network that never heals):
            # the original breaking the same property means the run shows no mutant
            clean_bad = res.property in set(_judged(res.scenario, v)["property"])
        except Exception:  # noqa: BLE001 - the original raised on the same run
            clean_bad = res.property == "exception"
        if clean_bad:
            out["search"] = False
            out["why"] = (out["why"] or "") + (f" [search's failing run fails without "
                                               f"the mutant too: {res.property}]")
        else:
            out["changed"] = True        # a judged difference is a change of behaviour
            out["why"] = f"{res.property} after {res.runs} runs: {res.detail}"[:110]
    out["seconds"] = time.perf_counter() - t0
    return out


def _one(name: str, runs: int, budget: str, diff: int, memory_gb: float,
         timeout: float) -> dict:
    """Judge one mutant in a fresh interpreter (so a mutant that exhausts memory or
    crashes the interpreter is reported as such and takes nothing else down)."""
    import json
    import subprocess
    cmd = [sys.executable, os.path.abspath(__file__), "--one", name, "--runs", str(runs),
           "--budget", budget, "--diff", str(diff), "--memory-gb", str(memory_gb)]
    t0 = time.perf_counter()
    m = BY_NAME[name]
    base = {"name": name, "family": m.family, "soak": None, "search": None,
            "changed": True, "planted": False}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return base | {"search": False, "seconds": time.perf_counter() - t0,
                       "why": f"did not finish in {timeout:.0f} s (killed)"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode == 0 and lines:
        return json.loads(lines[-1])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return base | {"search": False, "seconds": time.perf_counter() - t0,
                   "why": f"judge process exited {proc.returncode}: {tail}"[:110]}


def _kind(r: dict) -> str:
    if r["search"] == "stale":
        return "stale"
    missed = r["search"] is not True and r["soak"] is not True
    if r["changed"] is False and missed:
        return "equivalent"       # no run shows a difference and no check failed
    if r["name"] in EQUIVALENT and missed:
        return "argued"           # runs differ, but in nothing a checker judges (reason given)
    return "changes"


def _line(r: dict) -> str:
    mark = lambda v: "-" if v is None else (v if isinstance(v, str) else
                                            ("caught" if v else "MISSED"))
    eq = f"  [argued: {EQUIVALENT[r['name']]}]" if r["name"] in EQUIVALENT else ""
    planted = " (now a planted bug)" if r.get("planted") else ""
    return (f"{r['family']:10} {r['name']:28} {_kind(r):10} soak {mark(r['soak']):7} "
            f"search {mark(r['search']):7} {r['seconds']:6.1f}s  {r['why']}{planted}{eq}")


def summary(results: list) -> str:
    """The per-family table: mutants, those that change behaviour a checker can judge,
    and how many of those the soaks (the family's checker under the soak settings) and
    the search caught.  Mutants no run told apart from the original, and those argued in
    ``EQUIVALENT`` to change only what no checker judges (and missed), are not counted
    as changing."""
    fams: dict = {}
    for r in results:
        kind = _kind(r)
        f = fams.setdefault(r["family"], [0, 0, 0, 0])
        f[0] += 1
        f[1] += kind == "changes"
        f[2] += r["soak"] is True and kind == "changes"
        f[3] += r["search"] is True
    out = ["family      mutants  changing  checker(soak)  explore.search"]
    tot = [0, 0, 0, 0]
    for fam, (n, c, s_, e) in fams.items():
        out.append(f"{fam:10} {n:8} {c:9} {s_:8}/{c:<4} {e:8}/{c:<4}")
        tot = [x + y for x, y in zip(tot, (n, c, s_, e), strict=True)]
    out.append(f"{'all':10} {tot[0]:8} {tot[1]:9} {tot[2]:8}/{tot[1]:<4} "
               f"{tot[3]:8}/{tot[1]:<4}  (search: {100 * tot[3] / max(tot[1], 1):.0f} % "
               f"of the mutants that change behaviour)")
    return "\n".join(out)


def main(argv=None) -> int:
    import json
    from concurrent.futures import ThreadPoolExecutor, as_completed
    p = argparse.ArgumentParser(prog="python tests/mutants")
    p.add_argument("names", nargs="*", help="mutants (default: all)")
    p.add_argument("--runs", type=int, default=50,
                   help="seeds per soak (default 50; 0 skips the soaks)")
    p.add_argument("--budget", default="120.0",
                   help="explore.search budget: runs, or seconds with a point (default 120.0)")
    p.add_argument("--diff", type=int, default=12,
                   help="scenarios of the differential run (default 12)")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                   help="mutants judged at once, each in its own interpreter")
    p.add_argument("--memory-gb", type=float, default=4.0,
                   help="address-space limit of each judge process (default 4 GB): a "
                        "mutant that runs away is reported, not the machine exhausted")
    p.add_argument("--json", metavar="FILE", help="also write the results to FILE")
    p.add_argument("--one", metavar="NAME", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.runs < 0 or a.diff < 0 or a.processes < 1 or a.memory_gb <= 0:
        p.error("--runs and --diff must be >= 0, --processes >= 1, --memory-gb > 0")
    try:
        budget = float(a.budget) if "." in a.budget else int(a.budget)
    except ValueError:
        p.error(f"--budget must be a number of runs (int) or seconds (float); got "
                f"{a.budget!r}")
    if a.one:                                   # the judge process of _one
        import resource
        limit = int(a.memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            r = judge(a.one, a.runs, budget, a.diff)
        except MemoryError:
            r = {"name": a.one, "family": BY_NAME[a.one].family, "soak": None,
                 "search": False, "changed": True, "planted": False, "seconds": 0.0,
                 "why": f"ran out of its {a.memory_gb:g} GB (runaway run, not judged)"}
        print(json.dumps(r, default=str), flush=True)
        return 0
    names = a.names or [m.name for m in MUTANTS]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        p.error(f"unknown mutants {unknown}; choose from {', '.join(BY_NAME)}")
    # the search's share of a judge's time is its budget; soaks and the differential run
    # come on top, so the kill timeout leaves them room
    timeout = (budget if isinstance(budget, float) else 600.0) * 3 + 600.0
    print(f"{len(names)} mutants, {a.processes} at a time; search budget {budget!r}, "
          f"soaks {a.runs} seeds each, differential run {a.diff} scenarios", flush=True)
    results = []
    with ThreadPoolExecutor(a.processes) as pool:
        futs = [pool.submit(_one, n, a.runs, a.budget, a.diff, a.memory_gb, timeout)
                for n in names]
        for fut in as_completed(futs):
            r = fut.result()
            results.append(r)
            print(_line(r), flush=True)
    order = {n: i for i, n in enumerate(names)}
    results.sort(key=lambda r: order[r["name"]])
    print()
    print(summary(results), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
