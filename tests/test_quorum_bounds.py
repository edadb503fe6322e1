"""Fault-tolerance bounds: n >= 2f + 1, n >= 3f + 1 and the quorum sizes they imply."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsalgo.quorum import bounds_table, max_faults, min_nodes, quorum_size


def test_known_values():
    assert [max_faults(n) for n in (1, 2, 3, 4, 5, 6, 7)] == [0, 0, 1, 1, 2, 2, 3]
    assert [max_faults(n, "byzantine") for n in (1, 3, 4, 6, 7, 10)] == [0, 0, 1, 1, 2, 3]
    assert [min_nodes(f) for f in (0, 1, 2, 3)] == [1, 3, 5, 7]
    assert [min_nodes(f, "byzantine") for f in (0, 1, 2, 3)] == [1, 4, 7, 10]
    assert [quorum_size(n) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 2, 3, 3, 4]
    # PBFT: n = 3f + 1 needs quorums of 2f + 1
    assert [quorum_size(3 * f + 1, "byzantine", f=f) for f in (1, 2, 3)] == [3, 5, 7]


def test_scalar_in_scalar_out_array_in_array_out():
    assert isinstance(max_faults(5), int)
    out = max_faults(np.arange(1, 11))
    assert isinstance(out, np.ndarray) and out.dtype == np.int64
    assert out.tolist() == [(n - 1) // 2 for n in range(1, 11)]
    assert quorum_size([[3, 4], [5, 6]]).tolist() == [[2, 3], [3, 4]]


@given(st.integers(min_value=1, max_value=10_000))
def test_crash_bound_is_tight(n):
    f, q = max_faults(n), quorum_size(n)
    assert min_nodes(f) <= n < min_nodes(f + 1)
    assert 2 * q > n                  # any two majorities meet
    assert q <= n - f                 # f crashes still leave a quorum
    assert not (q <= n - (f + 1) and 2 * q > n)   # and no size survives f + 1


@given(st.integers(min_value=1, max_value=10_000))
def test_byzantine_bound_is_tight(n):
    f = max_faults(n, "byzantine")
    q = quorum_size(n, "byzantine", f=f)
    assert min_nodes(f, "byzantine") <= n < min_nodes(f + 1, "byzantine")
    assert 2 * q - n >= f + 1         # two quorums share a correct node
    assert q <= n - f                 # f silent nodes still leave a quorum
    if f + 1 > n - 1:                 # no n-node quorums can even share f + 2 nodes
        with pytest.raises(ValueError, match="f must be at most n - 1"):
            quorum_size(n, "byzantine", f=f + 1)
        return
    q_next = quorum_size(n, "byzantine", f=f + 1)
    assert q_next > n - (f + 1)       # tolerating f + 1 would lose liveness


def test_vectorised_matches_scalar_loop():
    ns = np.arange(1, 2001)
    for model in ("crash", "byzantine"):
        assert max_faults(ns, model).tolist() == [max_faults(int(n), model) for n in ns]
        assert quorum_size(ns, model).tolist() == [quorum_size(int(n), model) for n in ns]


def test_bounds_table():
    df = bounds_table(range(1, 8))
    assert list(df.columns) == ["n", "crash_f", "crash_quorum", "byzantine_f", "byzantine_quorum"]
    row = df.set_index("n").loc[4]
    assert (row.crash_f, row.crash_quorum, row.byzantine_f, row.byzantine_quorum) == (1, 3, 1, 3)
    assert bounds_table([]).equals(bounds_table(np.zeros(0, dtype=int)))
    assert isinstance(bounds_table([3]), pd.DataFrame)


@pytest.mark.parametrize("call, exc", [
    (lambda: max_faults(0), ValueError),
    (lambda: max_faults(-3), ValueError),
    (lambda: max_faults(2.5), TypeError),
    (lambda: max_faults(True), TypeError),
    (lambda: max_faults("5"), TypeError),
    (lambda: max_faults([3, 0]), ValueError),
    (lambda: max_faults(np.array([3.0, 4.0])), TypeError),
    (lambda: max_faults(5, model="omission"), ValueError),
    (lambda: min_nodes(-1), ValueError),
    (lambda: quorum_size(5, "crash", f=1), ValueError),
    (lambda: quorum_size(5, "byzantine", f=-1), ValueError),
    (lambda: bounds_table(5), TypeError),
    (lambda: bounds_table([3, 0]), ValueError),
], ids=["n0", "n_negative", "n_float", "n_bool", "n_str", "array_with_0", "float_array",
        "bad_model", "f_negative", "f_with_crash", "byz_f_negative", "table_scalar",
        "table_zero"])
def test_bad_input(call, exc):
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    assert any(word in msg for word in ("n", "f", "model")) and "got" in msg


# ---------------------------------------------------------------- an f that no quorum can meet
def test_byzantine_quorum_size_rejects_an_f_no_quorum_can_meet():
    # before: quorum_size(3, "byzantine", f=5) answered 5, a quorum larger than the cluster
    with pytest.raises(ValueError, match=r"f must be at most n - 1 .* n=3 .* got f=5"):
        quorum_size(3, "byzantine", f=5)
    with pytest.raises(ValueError, match=r"n=7 .* got f=7"):
        quorum_size([4, 7], "byzantine", f=[1, 7])
    # safe but not live is still answered (the bound's tightness is shown with it)
    assert quorum_size(4, "byzantine", f=2) == 4
    assert quorum_size([4, 7], "byzantine", f=[1, 6]).tolist() == [3, 7]
