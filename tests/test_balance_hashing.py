"""Consistent hashing: key movement, virtual nodes, bounded loads."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from dsalgo import balance as B
from dsalgo.balance import ConsistentHashRing, key_movement

names = st.lists(st.integers(1, 60), min_size=1, max_size=12, unique=True).map(
    lambda xs: [f"n{x}" for x in xs])


@settings(max_examples=40, deadline=None)
@given(backends=names, newcomer=st.integers(61, 90), vnodes=st.integers(1, 40),
       seed=st.integers(0, 10))
def test_adding_a_backend_moves_keys_only_to_it(backends, newcomer, vnodes, seed):
    ring = ConsistentHashRing(backends, vnodes=vnodes, seed=seed)
    grown = ring.copy()
    grown.add(f"n{newcomer}")
    moved = 0
    for k in range(300):
        before, after = ring.lookup(k), grown.lookup(k)
        if before != after:
            assert after == f"n{newcomer}"   # the monotonicity property of Karger et al.
            moved += 1
    assert key_movement(ring, grown, range(300)) == moved / 300


@settings(max_examples=40, deadline=None)
@given(backends=names.filter(lambda b: len(b) >= 2), vnodes=st.integers(1, 40), data=st.data())
def test_removing_a_backend_moves_only_its_keys(backends, vnodes, data):
    gone = data.draw(st.sampled_from(backends))
    ring = ConsistentHashRing(backends, vnodes=vnodes)
    shrunk = ring.copy()
    shrunk.remove(gone)
    for k in range(300):
        if ring.lookup(k) != gone:
            assert shrunk.lookup(k) == ring.lookup(k)
        else:
            assert shrunk.lookup(k) != gone
            assert shrunk.lookup(k) == ring.lookup(k, exclude={gone})


def test_adding_moves_about_one_over_n_plus_one_of_keys():
    # average over 30 independent rings (seeds); a t interval over seeds must hold 1/(n+1)
    n, keys = 9, range(4000)
    fractions = []
    for seed in range(30):
        ring = ConsistentHashRing([f"n{i}" for i in range(1, n + 1)], vnodes=50, seed=seed)
        grown = ring.copy()
        grown.add(f"n{n + 1}")
        fractions.append(key_movement(ring, grown, keys))
    f = np.array(fractions)
    half = stats.t.ppf(0.995, len(f) - 1) * f.std(ddof=1) / math.sqrt(len(f))
    assert abs(f.mean() - B.expected_key_movement(n)) < half
    assert half < 0.01   # and the interval is tight enough to mean something


def test_removing_moves_about_one_over_n_of_keys():
    n, keys = 8, range(4000)
    fractions = []
    for seed in range(30):
        ring = ConsistentHashRing([f"n{i}" for i in range(1, n + 1)], vnodes=50, seed=seed)
        shrunk = ring.copy()
        shrunk.remove("n3")
        fractions.append(key_movement(ring, shrunk, keys))
    f = np.array(fractions)
    half = stats.t.ppf(0.995, len(f) - 1) * f.std(ddof=1) / math.sqrt(len(f))
    assert abs(f.mean() - B.expected_key_movement(n, change="remove")) < half


def test_more_virtual_nodes_spread_the_circle_more_evenly():
    spread = {}
    for v in (1, 200):
        shares = [max(ConsistentHashRing([f"n{i}" for i in range(1, 11)], vnodes=v,
                                         seed=s).shares().values()) * 10 for s in range(10)]
        spread[v] = np.mean(shares)          # max share over the fair share 1/10
    assert spread[200] < 1.3
    assert spread[1] > 2.0


def test_shares_sum_to_one_and_match_key_fractions():
    ring = ConsistentHashRing(["n1", "n2", "n3"], vnodes=20, seed=3)
    shares = ring.shares()
    assert sum(shares.values()) == pytest.approx(1.0)
    owners = [ring.lookup(k) for k in range(30000)]
    for b, share in shares.items():
        p = owners.count(b) / len(owners)
        assert abs(p - share) < 4 * math.sqrt(share * (1 - share) / len(owners))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 8), eps=st.floats(0.05, 2.0),
       ops=st.lists(st.tuples(st.booleans(), st.integers(0, 50)), min_size=1, max_size=120))
def test_bounded_loads_never_exceed_the_cap(n, eps, ops):
    ring = ConsistentHashRing([f"n{i}" for i in range(1, n + 1)], vnodes=8)
    loads = dict.fromkeys(ring.backends, 0)
    placed = []
    for insert, key in ops:
        if insert or not placed:
            b = ring.lookup_bounded(key, loads, eps)
            cap = ring.capacity(sum(loads.values()) + 1, eps)
            assert loads[b] < cap                        # room before placing
            loads[b] += 1
            placed.append(b)
            assert loads[b] <= cap                       # the cap holds where it placed
            # (not max(loads) <= cap: after departures the cap shrinks and nothing moves)
        else:
            loads[placed.pop(key % len(placed))] -= 1


def test_bounded_lookup_is_the_plain_owner_when_there_is_room():
    ring = ConsistentHashRing(["n1", "n2", "n3", "n4"], vnodes=16)
    for k in range(200):
        assert ring.lookup_bounded(k, {}, 0.1) == ring.lookup(k)


def test_bounded_loads_are_sometimes_redirected():
    # "sometimes": with a hot key the bounded ring really does send requests elsewhere
    ring = ConsistentHashRing(["n1", "n2", "n3", "n4"], vnodes=16)
    loads = dict.fromkeys(ring.backends, 0)
    for _ in range(40):
        loads[ring.lookup_bounded("hot", loads, 0.25)] += 1
    assert loads[ring.lookup("hot")] == ring.capacity(40, 0.25) == 13
    assert sum(v > 0 for v in loads.values()) >= 3


def test_exclude_skips_down_backends():
    ring = ConsistentHashRing(["n1", "n2", "n3"], vnodes=16)
    assert all(ring.lookup(k, exclude={"n1", "n2"}) == "n3" for k in range(50))
    assert all(ring.lookup_bounded(k, {}, 0.5, exclude={"n2"}) != "n2" for k in range(50))


def test_same_seed_same_ring_different_seed_different_ring():
    a = ConsistentHashRing(["n1", "n2", "n3"], seed=1)
    b = ConsistentHashRing(["n1", "n2", "n3"], seed=1)
    c = ConsistentHashRing(["n1", "n2", "n3"], seed=2)
    owners = lambda r: [r.lookup(k) for k in range(500)]
    assert owners(a) == owners(b) != owners(c)


@pytest.mark.parametrize("call, exc, message", [
    (lambda: ConsistentHashRing([]), ValueError, "backends must hold at least one backend id"),
    (lambda: ConsistentHashRing("n1"), TypeError, "backends must be a sequence of backend ids"),
    (lambda: ConsistentHashRing(["n1", "n1"]), ValueError, "backend 'n1' is already on the ring"),
    (lambda: ConsistentHashRing([1]), TypeError, "backend must be a backend id \\(str\\); got 1"),
    (lambda: ConsistentHashRing(["n1"], vnodes=0), ValueError, "vnodes must be an integer >= 1"),
    (lambda: ConsistentHashRing(["n1"]).remove("n1"), ValueError, "it is the only backend"),
    (lambda: ConsistentHashRing(["n1", "n2"]).remove("n9"), ValueError, "'n9' is not on the ring"),
    (lambda: ConsistentHashRing(["n1"]).lookup_bounded(1, {}, 0.0), ValueError,
     "epsilon must be > 0; got 0.0"),
    (lambda: ConsistentHashRing(["n1"]).lookup(1, exclude={"n1"}), ValueError,
     "exclude leaves no backend"),
    (lambda: key_movement(ConsistentHashRing(["n1"]), "ring", [1]), TypeError,
     "after must be a ConsistentHashRing"),
    (lambda: key_movement(ConsistentHashRing(["n1"]), ConsistentHashRing(["n1"]), []),
     ValueError, "keys must hold at least one key"),
])
def test_bad_input(call, exc, message):
    with pytest.raises(exc, match=message):
        call()
