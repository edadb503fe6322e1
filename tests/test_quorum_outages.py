"""dsalgo.quorum.outages: replicas down over time from a faults table, and the birth–death law."""

import numpy as np
import pandas as pd
import pytest

from dsalgo.quorum.outages import down_at, stationary_up_fraction, unchanged_between

FAULTS = pd.DataFrame({"kind": ["crash", "crash", "pause", "crash"],
                       "node": ["n1", "n2", "n3", "n1"],
                       "t_start": [1.0, 1.5, 0.0, 4.0], "t_end": [2.0, 3.0, 10.0, np.nan]})


def test_down_at_counts_half_open_crash_intervals_and_ignores_other_faults():
    times = np.arange(0.0, 6.0, 0.25)
    brute = [sum(1 for _, f in FAULTS[FAULTS.kind == "crash"].iterrows()
                 if f.t_start <= t and (np.isnan(f.t_end) or t < f.t_end)) for t in times]
    assert down_at(FAULTS, times).tolist() == brute
    assert down_at(FAULTS, [1.0, 2.0, 3.0, 99.0]).tolist() == [1, 1, 0, 1]


def test_unchanged_between_is_false_exactly_when_an_edge_lies_in_the_half_open_interval():
    edges = [1.0, 1.5, 2.0, 3.0, 4.0]
    rng = np.random.default_rng(0)
    t0 = rng.uniform(0, 5, 200)
    t1 = t0 + rng.uniform(0, 1, 200)
    want = [not any(a < e <= b for e in edges) for a, b in zip(t0, t1)]
    assert unchanged_between(FAULTS, t0, t1).tolist() == want
    assert unchanged_between(FAULTS, 0.5, [1.0, 0.9]).tolist() == [False, True]


def _generator_solution(n, lam, mu):
    # the birth-death chain on 0..n solved as a linear system, independent of the formula
    q = np.zeros((n + 1, n + 1))
    for j in range(n):
        q[j, j + 1] = lam
    for j in range(1, n + 1):
        q[j, j - 1] = j / mu
    q -= np.diag(q.sum(axis=1))
    a = np.vstack([q.T, np.ones(n + 1)])
    b = np.zeros(n + 2)
    b[-1] = 1
    return np.linalg.lstsq(a, b, rcond=None)[0]


@pytest.mark.parametrize("n,lam,mu", [(3, 0.9, 1.0), (5, 1.5, 1.0), (7, 4.0, 0.5), (4, 0.2, 3.0)])
def test_stationary_up_fraction_matches_the_chain_solved_numerically(n, lam, mu):
    pi = _generator_solution(n, lam, mu)
    allowed_down = n - (n // 2 + 1)
    assert stationary_up_fraction(n, lam, mu) == pytest.approx(pi[: allowed_down + 1].sum())


def test_stationary_up_fraction_falls_with_the_load():
    fractions = [stationary_up_fraction(5, lam, 1.0) for lam in (0.1, 1.0, 3.0, 10.0)]
    assert fractions == sorted(fractions, reverse=True)
    assert stationary_up_fraction(1, 0.0, 1.0) == 1.0


def test_bad_input_names_the_parameter():
    with pytest.raises(TypeError, match="faults must be a run's faults table"):
        down_at([1, 2], [0.0])
    with pytest.raises(ValueError, match=r"missing \['t_end'\]"):
        down_at(FAULTS.drop(columns="t_end"), [0.0])
    with pytest.raises(ValueError, match="crash_rate"):
        stationary_up_fraction(3, -1.0, 1.0)
    with pytest.raises(TypeError, match="n must be an integer"):
        stationary_up_fraction(3.5, 1.0, 1.0)
