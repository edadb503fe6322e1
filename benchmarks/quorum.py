"""Quorum math: exact availability of a 1001-node majority and bounds over 10^6 sizes.

Every figure is a ratio against a reference computed in the same process, as
``BENCHMARKS.md`` asks:

* ``majority(1001).availability(p)`` against a plain-Python log-space binomial sum
  (``math.lgamma``) and against calling ``scipy.stats.binom.sf`` directly (the floor: what
  dsalgo's argument checks and dispatch cost on top of it); the values must agree;
* the same for a curve of 200 values of ``p`` (one vectorised call);
* heterogeneous ``p`` (1001 different probabilities: the Poisson-binomial recurrence)
  against a plain-Python version of the same recurrence;
* ``max_faults`` over an array of 10^6 cluster sizes against a Python list comprehension;
* the load LP of ``majority(1001)`` (2,002 variables): its time, and its value against the
  closed form.

Run: ``python benchmarks/quorum.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import numpy as np
from scipy import stats

from dsalgo import quorum

N = 1001
K = N // 2 + 1


def best(fn, repeat):
    """Best wall time of ``repeat`` calls (the least disturbed by other load) and the result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def log_space_tail(n, k, p_down):
    a, d = math.log1p(-p_down), math.log(p_down)
    terms = [math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * a + (n - j) * d
             for j in range(k, n + 1)]
    top = max(terms)
    return math.exp(top) * math.fsum(math.exp(t - top) for t in terms)


def poisson_binomial_python(alive):
    pmf = [1.0]
    for a in alive:
        nxt = [0.0] * (len(pmf) + 1)
        for j, v in enumerate(pmf):
            nxt[j] += v * (1 - a)
            nxt[j + 1] += v * a
        pmf = nxt
    return pmf


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args(argv)
    r = a.repeat
    qs = quorum.majority(N)
    rows = []

    p = 0.3
    t_ds, v_ds = best(lambda: qs.availability(p), r)
    t_py, v_py = best(lambda: log_space_tail(N, K, p), r)
    t_sp, v_sp = best(lambda: stats.binom.sf(K - 1, N, 1 - p), r)
    rows.append(("availability, one p", t_ds, "plain-Python log-space sum", t_py,
                 abs(v_ds - v_py) / v_py))
    rows.append(("availability, one p", t_ds, "scipy.stats.binom.sf alone", t_sp,
                 abs(v_ds - v_sp) / v_sp))

    ps = np.linspace(0.01, 0.6, 200)
    t_ds, v_ds = best(lambda: qs.availability(ps), r)
    t_py, v_py = best(lambda: [log_space_tail(N, K, float(x)) for x in ps], max(1, r // 2))
    rows.append(("availability, 200 p", t_ds, "plain-Python log-space sums", t_py,
                 float(np.max(np.abs(v_ds - np.array(v_py)) / np.array(v_py)))))

    rng = np.random.default_rng(0)
    p_of = dict(zip(qs.nodes, rng.uniform(0.01, 0.4, N)))
    t_ds, v_ds = best(lambda: qs.availability(p_of), r)
    alive = [1 - p_of[x] for x in qs.nodes]
    t_py, pmf = best(lambda: poisson_binomial_python(alive), 1)
    v_py = math.fsum(pmf[K:])
    rows.append(("availability, 1001 different p", t_ds, "plain-Python recurrence", t_py,
                 abs(v_ds - v_py) / v_py))

    ns = np.arange(1, 1_000_001)
    ns_list = ns.tolist()
    t_ds, v_ds = best(lambda: quorum.max_faults(ns), r)
    t_py, v_py = best(lambda: [(n - 1) // 2 for n in ns_list], r)
    rows.append(("max_faults, 10^6 n", t_ds, "Python list comprehension", t_py,
                 float(np.any(v_ds != np.array(v_py)))))

    t_lp, v_lp = best(lambda: qs.load(0.5), max(1, r // 2))
    v_cf = (0.5 * K + 0.5 * K) / N

    print(f"quorum math, {platform.python_implementation()} {platform.python_version()} on "
          f"{platform.machine()}, best of {r}")
    print(f"{'task':<32}{'dsalgo s':>11}  {'reference':<30}{'ref s':>11}{'ref/dsalgo':>12}"
          f"{'rel. diff':>11}")
    for task, t, ref, t_ref, diff in rows:
        print(f"{task:<32}{t:>11.6f}  {ref:<30}{t_ref:>11.6f}{t_ref / t:>11.1f}x{diff:>11.1e}")
    print(f"load LP of majority(1001) (2,002 variables): {t_lp:.3f} s; relative difference "
          f"from the closed form {(0.5 * K + 0.5 * K) / N:.6f}: {abs(v_lp - v_cf) / v_cf:.1e}")


if __name__ == "__main__":
    main()
