"""Review fixes for dsalgo.balance: bad input raises instead of giving a wrong number."""

import numpy as np
import pytest

from dsalgo import balance as B


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
