"""dsalgo.paxos.latency_model: the order-statistic model of Multi-Paxos commit latency."""

import numpy as np
import pytest

from dsalgo.paxos.latency_model import commit_latency


def _monte_carlo(n, m, q2, samples=400_000, seed=0):
    rng = np.random.default_rng(seed)
    client = rng.exponential(m, samples) + rng.exponential(m, samples)
    if q2 == 1:
        return client.mean()
    rtt = rng.exponential(m, (samples, n - 1)) + rng.exponential(m, (samples, n - 1))
    return (client + np.sort(rtt, axis=1)[:, q2 - 2]).mean()


@pytest.mark.parametrize("n,m,q2", [(3, 0.001, 2), (5, 0.005, 3), (9, 0.020, 5), (8, 0.005, 3),
                                    (5, 0.005, 5), (5, 0.005, 1)])
def test_commit_latency_matches_a_monte_carlo_of_the_same_model(n, m, q2):
    assert commit_latency(n, m, q2=q2) == pytest.approx(_monte_carlo(n, m, q2), rel=5e-3)


def test_majority_is_the_default_and_two_followers_give_the_closed_form():
    assert commit_latency(7, 0.005) == commit_latency(7, 0.005, q2=4)
    # n = 3: the faster of two Gamma(2, m) round trips survives x with S(x)^2,
    # S(x) = e^(-x/m) (1 + x/m), and integrating S^2 over [0, inf) gives 5m/4
    m = 0.004
    expected = 2 * m + 5 * m / 4
    assert commit_latency(3, m) == pytest.approx(expected, rel=1e-7)


def test_latency_grows_with_q2_and_in_proportion_to_the_link_delay():
    by_q2 = [commit_latency(8, 0.005, q2=q) for q in range(1, 9)]
    assert by_q2 == sorted(by_q2)
    assert commit_latency(5, 0.020) == pytest.approx(4 * commit_latency(5, 0.005))
    assert commit_latency(5, 0.0) == 0.0


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="q2"):
        commit_latency(5, 0.005, q2=6)
    with pytest.raises(ValueError, match="mean_delay"):
        commit_latency(5, -0.001)
    with pytest.raises(TypeError, match="n must be an integer"):
        commit_latency(5.0, 0.005)
