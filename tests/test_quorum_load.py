"""Load and capacity by linear programming, against published values and closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsalgo.quorum import QuorumSystem, byzantine, flexible, grid, majority, threshold

ROWS = [["a", "b", "c"], ["d", "e", "f"]]

# (description, system, read_fraction, node_capacity, expected load or None, expected capacity)
PUBLISHED = [
    # the must-show values
    ("majority(5), 50% reads", majority(5), 0.5, None, 0.6, None),
    ("3x3 grid, 50% reads", grid(3, 3), 0.5, None, 1 / 3, None),
    ("3x3 grid, all reads", grid(3, 3), 1.0, None, 1 / 3, None),
    ("3x3 grid, all writes", grid(3, 3), 0.0, None, 1 / 3, None),
    # quoracle README (Whittaker et al.'s library), 2x3 grid with reads = rows
    ("quoracle grid fr=0.25", QuorumSystem(reads=ROWS), 0.25, None, 3 / 8, 8 / 3),
    ("quoracle grid distribution", QuorumSystem(reads=ROWS), {0.1: 1, 0.75: 1}, None,
     0.4041666666, None),
    ("quoracle heterogeneous", QuorumSystem(reads=ROWS), 0.75,
     {"a": 1000, "b": 500, "c": 1000, "d": 500, "e": 1000, "f": 500}, 0.00075, 1333.3333333),
    ("quoracle rw capacity fr=1", QuorumSystem(reads=ROWS), 1.0,
     {"a": (10000, 1000), "b": (5000, 500), "c": (10000, 1000), "d": (5000, 500),
      "e": (10000, 1000), "f": (5000, 500)}, None, 10000.0),
    ("quoracle rw capacity fr=0.5", QuorumSystem(reads=ROWS), 0.5,
     {"a": (10000, 1000), "b": (5000, 500), "c": (10000, 1000), "d": (5000, 500),
      "e": (10000, 1000), "f": (5000, 500)}, None, 3913.0434782),
    ("quoracle rw capacity fr=0", QuorumSystem(reads=ROWS), 0.0,
     {"a": (10000, 1000), "b": (5000, 500), "c": (10000, 1000), "d": (5000, 500),
      "e": (10000, 1000), "f": (5000, 500)}, None, 2000.0),
    # Naor and Wool 1998: majority load ~ 1/2, FPP/grid load ~ 1/sqrt(n)
    ("majority(1001)", majority(1001), 0.5, None, 501 / 1001, None),
    ("grid 10x10 writes", grid(10, 10), 0.0, None, 0.1, None),
]


@pytest.mark.parametrize("desc, qs, fr, caps, load, cap", PUBLISHED, ids=[r[0] for r in PUBLISHED])
def test_published_values(desc, qs, fr, caps, load, cap):
    if load is not None:
        assert qs.load(fr, caps) == pytest.approx(load, abs=1e-6)
    if cap is not None:
        assert qs.capacity(fr, caps) == pytest.approx(cap, rel=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.data(), st.floats(0, 1))
def test_threshold_load_is_the_closed_form(n, data, fr):
    r = data.draw(st.integers(1, n))
    w = data.draw(st.integers(1, n))
    qs = threshold(n, read=r, write=w, unsafe=True)
    # every read touches r nodes and every write w: the average node load is
    # (fr r + fw w) / n, and the uniform strategy meets that average on every node
    assert qs.load(fr) == pytest.approx((fr * r + (1 - fr) * w) / n, abs=1e-7)


def test_structured_and_listed_lps_agree():
    for qs in (majority(5), threshold(6, read=2, write=5), flexible(5, q1=4, q2=2), grid(2, 3),
               grid(3, 2), byzantine(4, 1)):
        listed = QuorumSystem(reads=qs.read_quorums(), writes=qs.write_quorums(),
                              nodes=qs.nodes, unsafe=True)
        caps = {x: (1 + i, 2 + (i % 3)) for i, x in enumerate(qs.nodes)}
        for fr in (0.0, 0.3, 0.9, {0.2: 1, 0.8: 3}):
            assert qs.load(fr, caps) == pytest.approx(listed.load(fr, caps), abs=1e-7)


def test_load_lower_bound_and_node_loads():
    # sum of node loads = expected quorum size, so the busiest node carries at least the mean
    for qs in (grid(3, 4), QuorumSystem(reads=[["a", "b"], ["a", "c", "e"], ["d", "e"],
                                               ["d", "c", "b"]])):
        for fr in (0.1, 0.5, 0.9):
            df = qs.node_loads(fr)
            assert df["load"].max() == pytest.approx(qs.load(fr), abs=1e-7)
            rmin = min(len(q) for q in qs.read_quorums())
            wmin = min(len(q) for q in qs.write_quorums())
            assert qs.load(fr) >= (fr * rmin + (1 - fr) * wmin) / qs.n - 1e-9
            assert df["read_probability"].sum() >= rmin - 1e-7


def test_a_bad_strategy_is_worse_than_the_lp():
    # always reading the first row of the 2x3 grid loads a, b, c with every read
    qs = QuorumSystem(reads=ROWS)
    naive = 0.25 * 1 + 0.75 * (1 / 3)
    assert qs.load(0.25) < naive


def test_flexible_trade_off():
    # with n = 10 and q1 + q2 = 11, shrinking q2 lowers write load and raises read load
    loads = [flexible(10, q1=11 - q2, q2=q2).load(0.0) for q2 in range(1, 11)]
    assert np.all(np.diff(loads) > 0)
    assert flexible(10, q1=10, q2=1).load(1.0) == pytest.approx(1.0)


@pytest.mark.parametrize("call, exc, words", [
    (lambda: majority(3).load(1.5), ValueError, "read_fraction"),
    (lambda: majority(3).load("half"), TypeError, "read_fraction"),
    (lambda: majority(3).load({}), ValueError, "at least one"),
    (lambda: majority(3).load({0.5: -1}), ValueError, "weight"),
    (lambda: majority(3).load({0.5: 0}), ValueError, "all be zero"),
    (lambda: majority(3).load({1.2: 1}), ValueError, "read_fraction"),
    (lambda: majority(3).capacity(0.5, node_capacity=0), ValueError, "node_capacity"),
    (lambda: majority(3).capacity(0.5, node_capacity="fast"), TypeError, "node_capacity"),
    (lambda: majority(2).capacity(0.5, {"n1": 1}), ValueError, "missing"),
    (lambda: majority(1).capacity(0.5, {"n1": 1, "x": 2}), ValueError, "unknown"),
    (lambda: majority(1).capacity(0.5, {"n1": (1, 2, 3)}), ValueError, "pair"),
    (lambda: majority(1).capacity(0.5, {"n1": (1, -2)}), ValueError, "node_capacity"),
    (lambda: majority(3).node_loads({0.5: 1}), TypeError, "one number"),
], ids=["fr_gt_1", "fr_str", "dist_empty", "dist_neg", "dist_zero", "dist_key", "cap0",
        "cap_str", "cap_missing", "cap_unknown", "cap_triple", "cap_negative", "node_loads_dist"])
def test_bad_input(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)


def test_load_is_deterministic():
    a = grid(3, 4).node_loads(0.3)
    b = grid(3, 4).node_loads(0.3)
    assert a.equals(b)
