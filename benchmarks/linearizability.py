"""B3 — linearizability checking on the Jepsen etcd histories.

The histories are Porcupine's test data (``../shared/corpus/porcupine/jepsen/``, MIT
licence), read from there and never copied into the project.  For every file: read it,
check it with :func:`dsalgo.check.linearizable` (cas-register model) and compare the
verdict with ``expected.json``.  Figures: total and worst-case wall time, and the count of
matching verdicts.

References, in the same process (the machines are shared and noisy, so the figures that
travel are ratios):

- **read**: parsing the logs alone, the floor any checker pays;
- **plain WGL**: the same memoised Wing–Gong–Lowe search without the greedy
  linearization of observers (reads and failed compares), with a per-file limit; files
  that hit it are counted and their time capped, and the ratio is then a lower bound.

Run: ``python benchmarks/linearizability.py [--corpus PATH] [--plain-limit SECONDS]``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

from dsalgo.check import linearizable
from dsalgo.check._wgl import search
from dsalgo.check.linearizable import _prepare
from dsalgo.check.models import get_model
from dsalgo.histories import read_jepsen_log

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "porcupine"


def plain_wgl(history, limit: float) -> tuple[bool | None, float]:
    """Plain memoised WGL on one history; (verdict or None on timeout, seconds)."""
    model = get_model("cas-register")
    start = time.perf_counter()
    parts, _ = _prepare(history, model)
    verdict = True
    for ops in parts.values():
        gen = search(ops, model, greedy=False)
        while True:
            try:
                next(gen)
            except StopIteration as done:
                verdict = verdict and done.value.linearizable
                break
            if time.perf_counter() - start > limit:
                return None, limit
    return verdict, time.perf_counter() - start


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--plain-limit", type=float, default=10.0,
                    help="seconds per file for the plain-WGL reference")
    args = ap.parse_args(argv)
    expected = json.loads((args.corpus / "expected.json").read_text())["files"]
    names = sorted(n for n in expected if n.startswith("jepsen/"))
    read_s, check_s, plain_s = {}, {}, {}
    matches = decided = plain_timeouts = plain_matches = 0
    for name in names:
        t0 = time.perf_counter()
        history = read_jepsen_log(args.corpus / name)
        t1 = time.perf_counter()
        verdict = linearizable(history, "cas-register", time_limit=60)
        t2 = time.perf_counter()
        read_s[name], check_s[name] = t1 - t0, t2 - t1
        want = expected[name]["linearizable"]
        plain, plain_s[name] = plain_wgl(history, args.plain_limit)
        if plain is None:
            plain_timeouts += 1
        if want is None:
            continue
        decided += 1
        matches += verdict.status == ("ok" if want else "violated")
        plain_matches += plain == want
    total_check, total_read = sum(check_s.values()), sum(read_s.values())
    worst = max(check_s, key=check_s.get)
    total_plain = sum(plain_s.values())
    print(f"B3 linearizability — {len(names)} Jepsen etcd histories "
          f"({platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()})")
    print(f"{'figure':<44}{'value':>14}")
    rows = [
        ("verdicts matching expected.json", f"{matches}/{decided}"),
        ("check: total wall time (s)", f"{total_check:.3f}"),
        ("check: worst file (s)", f"{check_s[worst]:.3f}"),
        ("check: worst file", worst.split('/')[-1]),
        ("check: median file (s)", f"{sorted(check_s.values())[len(names) // 2]:.4f}"),
        ("read (parse) total (s)", f"{total_read:.3f}"),
        ("ratio check / read", f"{total_check / total_read:.2f}"),
        (f"plain WGL total (s, capped {args.plain_limit:g} s/file)", f"{total_plain:.3f}"),
        ("plain WGL files over the cap", f"{plain_timeouts}"),
        ("plain WGL verdicts matching (decided)", f"{plain_matches}/{decided}"),
        ("ratio plain WGL / dsalgo" + (" (lower bound)" if plain_timeouts else ""),
         f"{total_plain / total_check:.1f}" if total_check else "nan"),
    ]
    for k, v in rows:
        print(f"{k:<44}{v:>14}")
    return 0 if matches == decided and not math.isnan(total_check) else 1


if __name__ == "__main__":
    raise SystemExit(main())
