"""Closed forms of dsalgo.balance.theory against independent derivations."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsalgo import balance as B


def erlang_c_by_factorials(c, rho):
    """Textbook Erlang C: (a^c / c!) / (1 - rho) over sum_{k<c} a^k/k! + the same."""
    a = c * rho
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) / (1 - rho)
    return tail / (head + tail)


@pytest.mark.parametrize("c", [1, 2, 3, 5, 10, 40])
@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.95])
def test_erlang_c_matches_factorial_formula(c, rho):
    assert B.erlang_c(c, rho) == pytest.approx(erlang_c_by_factorials(c, rho), rel=1e-10)


def test_erlang_c_is_vectorised_and_broadcasts():
    got = B.erlang_c(np.array([[1], [4]]), np.array([0.3, 0.6, 0.9]))
    assert got.shape == (2, 3)
    assert got[0].tolist() == pytest.approx([0.3, 0.6, 0.9])
    assert got[1].tolist() == pytest.approx([erlang_c_by_factorials(4, r) for r in (0.3, 0.6, 0.9)])


def test_erlang_c_large_c_is_stable():
    # the factorial form overflows near c = 170; the recursion does not
    assert 0.0 < B.erlang_c(1000, 0.99) < 1.0


@settings(max_examples=60, deadline=None)
@given(c=st.integers(1, 50), r1=st.floats(0.01, 0.98), r2=st.floats(0.01, 0.98))
def test_erlang_c_increases_with_load_and_pooling_helps(c, r1, r2):
    lo, hi = sorted((r1, r2))
    assert B.erlang_c(c, lo) <= B.erlang_c(c, hi) + 1e-12
    assert B.erlang_c(c + 1, hi) <= B.erlang_c(c, hi) + 1e-12   # more servers, less waiting
    assert 0.0 < B.erlang_c(c, hi) <= hi + 1e-12                # C(c, rho) <= C(1, rho) = rho


def test_mm1_closed_forms():
    assert B.mm1_mean_response(0.75, 0.004) == pytest.approx(0.016)
    # response time is Exp(mu - lambda): median = ln 2 / (mu - lambda)
    assert B.mm1_response_quantile(0.5, 0.75, 0.004) == pytest.approx(math.log(2) * 0.016)
    assert B.mm1_queue_tail(np.arange(4), 0.5).tolist() == [1.0, 0.5, 0.25, 0.125]


def test_mmc_with_one_server_is_mm1():
    rho = np.array([0.2, 0.5, 0.9])
    assert B.mmc_mean_response(1, rho, 2.0) == pytest.approx(B.mm1_mean_response(rho, 2.0))
    assert B.mmc_response_quantile(0.999, 1, rho) == pytest.approx(
        B.mm1_response_quantile(0.999, rho), rel=1e-9)
    t = np.linspace(0, 20, 7)
    assert B.mmc_response_sf(t, 1, 0.5) == pytest.approx(np.exp(-0.5 * t))


def test_mmc_response_sf_against_monte_carlo():
    # T = W + S with W = 0 w.p. 1 - C, else Exp(c mu - lambda): sample it directly
    c, rho, n = 4, 0.8, 400_000
    rng = np.random.default_rng(7)
    C = B.erlang_c(c, rho)
    w = np.where(rng.random(n) < C, rng.exponential(1 / (c * (1 - rho)), n), 0.0)
    t = w + rng.exponential(1.0, n)
    for x in (0.5, 2.0, 5.0):
        p = (t > x).mean()
        half = 4 * math.sqrt(p * (1 - p) / n)       # 4 sigma: fails by chance < 1e-4
        assert abs(B.mmc_response_sf(x, c, rho) - p) < half


def test_mmc_theta_equal_mu_branch_is_continuous():
    # theta = c mu (1 - rho) = mu when c = 2, rho = 0.5
    near = B.mmc_response_sf(1.3, 2, 0.5 + 1e-7)
    assert B.mmc_response_sf(1.3, 2, 0.5) == pytest.approx(near, rel=1e-5)


def test_mmc_mean_wait_matches_integral_of_tail():
    # E[W] = integral P(W > t) dt = C / (c mu - lambda)
    c, rho = 3, 0.7
    assert B.mmc_mean_wait(c, rho, 0.5) == pytest.approx(B.erlang_c(c, rho) * 0.5 / (c * 0.3))


def test_supermarket_tail_and_mean_response():
    assert B.supermarket_tail(np.arange(5), 0.9).tolist() == pytest.approx(
        [1, 0.9, 0.9**3, 0.9**7, 0.9**15])
    assert B.supermarket_tail(np.arange(5), 0.9, d=1).tolist() == pytest.approx(0.9 ** np.arange(5))
    assert B.supermarket_tail(2, 0.5, d=3) == pytest.approx(0.5**4)        # (9 - 1) / 2
    assert B.supermarket_mean_response(0.7, d=1, service_mean=2.0) == pytest.approx(
        B.mm1_mean_response(0.7, 2.0))


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("rho", [0.5, 0.9, 0.99])
def test_supermarket_mean_response_is_littles_law_on_the_tail(d, rho):
    # mean jobs per queue = sum_{i>=1} s_i; Little: E[T] = E[N] / lambda_per_queue (mu = 1)
    n_mean = B.supermarket_tail(np.arange(1, 60), rho, d=d).sum()
    assert B.supermarket_mean_response(rho, d=d) == pytest.approx(n_mean / rho, rel=1e-9)


def test_expected_key_movement():
    assert B.expected_key_movement(np.array([1, 4, 9])).tolist() == pytest.approx([0.5, 0.2, 0.1])
    assert B.expected_key_movement(5, change="remove") == pytest.approx(0.2)


@pytest.mark.parametrize("call, message", [
    (lambda: B.erlang_c(4, 1.0), "rho must be in (0, 1); got 1.0"),
    (lambda: B.erlang_c(4, 0.0), "rho must be in (0, 1); got 0.0"),
    (lambda: B.erlang_c(0, 0.5), "c must be >= 1; got 0"),
    (lambda: B.erlang_c([2, -1], 0.5), "c must be >= 1; got -1"),
    (lambda: B.mm1_mean_response(0.5, service_mean=0.0), "service_mean must be > 0"),
    (lambda: B.mm1_response_quantile(1.0, 0.5), "q must be in [0, 1); got 1.0"),
    (lambda: B.mm1_queue_tail(-1, 0.5), "i must be >= 0"),
    (lambda: B.supermarket_tail(2, 0.5, d=0), "d must be >= 1; got 0"),
    (lambda: B.mmc_response_sf(-1.0, 2, 0.5), "t must be >= 0"),
    (lambda: B.erlang_c(4, float("nan")), "rho must not contain NaN"),
    (lambda: B.expected_key_movement(1, change="remove"), "n must be >= 2; got 1"),
    (lambda: B.expected_key_movement(3, change="grow"), "change must be one of 'add', 'remove'"),
])
def test_bad_values_raise_value_error(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: B.erlang_c(2.5, 0.5), "c must be an integer"),
    (lambda: B.erlang_c(2, "high"), "rho must be a number or an array of numbers"),
    (lambda: B.supermarket_tail(True, 0.5), "i must be a number or an array of numbers"),
])
def test_bad_types_raise_type_error(call, message):
    with pytest.raises(TypeError, match=message):
        call()


# ---------------------------------------------------------------- inputs found in review
@pytest.mark.parametrize("terms", [0, -3])
def test_supermarket_mean_response_rejects_non_positive_terms(terms):
    # before: terms=0 summed an empty series and answered a mean response time of 0 s
    with pytest.raises(ValueError, match=rf"terms must be an integer >= 1 .*got {terms}"):
        B.supermarket_mean_response(0.5, terms=terms)


@pytest.mark.parametrize("terms", [2.5, True, "8"])
def test_supermarket_mean_response_rejects_non_integer_terms(terms):
    with pytest.raises(ValueError, match="terms must be an integer >= 1"):
        B.supermarket_mean_response(0.5, terms=terms)


def test_supermarket_mean_response_one_term_is_one_service_time():
    assert float(B.supermarket_mean_response(0.9, terms=1, service_mean=2.0)) == 2.0


def test_batch_means_rejects_nan_instead_of_returning_nan():
    x = np.ones(100)
    x[37] = np.nan
    with pytest.raises(ValueError, match="values must be finite numbers; got nan at position 37"):
        B.batch_means(x)


def test_batch_means_rejects_a_table():
    with pytest.raises(ValueError, match=r"one-dimensional .* shape \(50, 2\)"):
        B.batch_means(np.ones((50, 2)))
