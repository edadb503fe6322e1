"""Quorum latency: order statistics in closed form, Monte Carlo otherwise."""

import numpy as np
import pytest
from scipy import stats

from dsalgo.quorum import QuorumSystem, grid, majority, sample_latency, threshold


def test_exponential_mean_is_a_harmonic_sum():
    m = 0.01
    for n in (3, 5, 7, 9):
        k = n // 2 + 1
        expected = m * sum(1 / j for j in range(n - k + 1, n + 1))
        assert majority(n).latency(stats.expon(scale=m)) == pytest.approx(expected, rel=1e-8)


def test_closed_form_quantiles_match_monte_carlo():
    qs = threshold(7, read=2, write=6)
    dist = stats.lognorm(s=0.8, scale=0.005)
    for op in ("read", "write"):
        exact = qs.latency(dist, op, q=[0.5, 0.9, 0.99])
        draws = sample_latency(qs, dist, op, samples=200_000, seed=1)
        np.testing.assert_allclose(np.quantile(draws, [0.5, 0.9, 0.99]), exact, rtol=0.03)
        assert qs.latency(dist, op) == pytest.approx(draws.mean(), rel=0.01)
    assert qs.latency(dist, "read") < qs.latency(dist, "write")   # 2nd vs 6th reply


def test_grid_latency_against_hand_derivation():
    # U(0,1) replies, 2x2 grid.  Read: min over 2 rows of max of 2 -> E = 8/15.
    # Write: max over 2 rows of min of 2 -> E = 7/15.
    g = grid(2, 2)
    u = stats.uniform(0, 1)
    assert g.latency(u, "read", samples=200_000) == pytest.approx(8 / 15, abs=0.004)
    assert g.latency(u, "write", samples=200_000) == pytest.approx(7 / 15, abs=0.004)


def test_heterogeneous_nodes_use_monte_carlo_and_match_the_slow_node_story():
    # majority of 3 with one very slow node waits for the two fast ones
    fast, slow = stats.expon(scale=0.001), stats.expon(scale=1.0)
    qs = majority(3)
    t = qs.latency({"n1": fast, "n2": fast, "n3": slow}, samples=50_000)
    # max of two Exp(1 ms) (1.5 ms) unless the slow one beats one of them (rare)
    assert t == pytest.approx(0.0015, rel=0.05)


def test_explicit_system_latency_is_bounded_by_its_quorums():
    qs = QuorumSystem(reads=[["a", "b"], ["c", "d", "e"]])
    w = sample_latency(qs, stats.expon(scale=1.0), "read", samples=10_000, seed=3)
    assert (w > 0).all()
    assert sample_latency(qs, stats.expon(scale=1.0), "read", samples=10_000, seed=3).tolist() \
        == w.tolist()


@pytest.mark.parametrize("call, exc, words", [
    (lambda: majority(3).latency(stats.expon(), op="both"), ValueError, "op"),
    (lambda: majority(3).latency(0.01), TypeError, "response_time"),
    (lambda: majority(3).latency(stats.expon(), q=1.5), ValueError, "q"),
    (lambda: majority(3).latency(stats.expon(), q="median"), TypeError, "q"),
    (lambda: majority(2).latency({"n1": stats.expon()}), ValueError, "missing"),
    (lambda: majority(1).latency({"n1": stats.expon(), "x": stats.expon()}), ValueError,
     "unknown"),
    (lambda: majority(1).latency({"n1": 0.1}), TypeError, "response_time['n1']"),
    (lambda: sample_latency(majority(3), stats.expon(), samples=0), ValueError, "samples"),
], ids=["op_both", "not_a_dist", "q_gt_1", "q_str", "mapping_missing", "mapping_unknown",
        "mapping_value", "samples0"])
def test_bad_input(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)
