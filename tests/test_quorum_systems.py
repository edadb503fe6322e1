"""Quorum systems as values: the pinned interface, validity, resilience."""

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from dsalgo.quorum import QuorumSystem, byzantine, flexible, grid, majority, threshold


# -- pinned interface (Paxos is written against it) ------------------------------------------
def test_pinned_interface_majority():
    qs = majority(5)
    assert qs.nodes == ("n1", "n2", "n3", "n4", "n5")
    assert qs.is_read_quorum(["n1", "n2", "n3"]) is True
    assert qs.is_write_quorum({"n2", "n4", "n5"}) is True
    assert qs.is_read_quorum(("n1", "n2")) is False
    assert qs.is_write_quorum(iter(["n1", "n2", "n3", "n4"])) is True   # supersets count
    assert bool(qs.is_valid()) and qs.is_valid().pair is None
    assert majority(3, names=["a", "b", "c"]).nodes == ("a", "b", "c")


def test_flexible_maps_phase1_to_reads_and_phase2_to_writes():
    fp = flexible(10, q1=8, q2=3)
    assert fp.is_read_quorum([f"n{i}" for i in range(1, 9)])
    assert not fp.is_read_quorum([f"n{i}" for i in range(1, 8)])
    assert fp.is_write_quorum({"n1", "n5", "n9"}) and not fp.is_write_quorum({"n1", "n5"})
    assert fp.is_phase1_quorum([f"n{i}" for i in range(3, 11)])
    assert fp.is_phase2_quorum({"n8", "n9", "n10"})
    assert fp.is_valid()
    # two phase-2 quorums need not meet: {n1,n2,n3} and {n4,n5,n6} are both write quorums
    assert fp.is_write_quorum({"n1", "n2", "n3"}) and fp.is_write_quorum({"n4", "n5", "n6"})


def test_unknown_ids_are_ignored_by_membership():
    assert majority(3).is_write_quorum({"n1", "n2", "c1"})
    assert not majority(3).is_write_quorum({"n1", "c1", "c2"})


def test_grid_structure():
    g = grid(3, 3)
    assert g.is_read_quorum({"n4", "n5", "n6"}) and not g.is_read_quorum({"n1", "n5", "n9"})
    assert g.is_write_quorum({"n1", "n5", "n9"}) and not g.is_write_quorum({"n1", "n2", "n3"})
    assert len(g.read_quorums()) == 3 and len(g.write_quorums()) == 27
    assert g.is_valid()


def test_quoracle_readme_grid():
    # quoracle README: reads = a*b*c + d*e*f; writes are one node from each row
    qs = QuorumSystem(reads=[["a", "b", "c"], ["d", "e", "f"]])
    assert qs.is_read_quorum({"a", "b", "c"}) and qs.is_read_quorum({"a", "b", "c", "d"})
    assert not qs.is_read_quorum({"a", "b", "d"})
    assert qs.is_write_quorum({"a", "d"}) and not qs.is_write_quorum({"a", "b"})
    assert (qs.read_resilience(), qs.write_resilience(), qs.resilience()) == (1, 2, 1)
    expected = {frozenset(p) for p in itertools.product("abc", "def")}
    assert set(qs.write_quorums()) == expected
    same = QuorumSystem(writes=[list(p) for p in itertools.product("abc", "def")])
    assert set(same.read_quorums()) == {frozenset("abc"), frozenset("def")}


@pytest.mark.parametrize("qs, res", [
    (majority(1), 0), (majority(2), 0), (majority(3), 1), (majority(4), 1), (majority(5), 2),
    (majority(7), 3), (grid(3, 3), 2), (grid(2, 3), 1), (threshold(5, read=2, write=4), 1),
    (flexible(6, q1=5, q2=2), 1), (byzantine(4, 1), 1), (byzantine(7, 2), 2),
    (majority(1001), 500),
], ids=lambda x: repr(x) if isinstance(x, int) else None)
def test_resilience_values(qs, res):
    assert qs.resilience() == res


def test_invalid_systems_report_the_pair():
    bad = threshold(5, read=2, write=3, unsafe=True)
    v = bad.is_valid()
    assert not v and v.pair == (frozenset({"n1", "n2"}), frozenset({"n3", "n4", "n5"}))
    assert "share 0 node(s)" in str(v)
    fp = flexible(4, q1=2, q2=2, unsafe=True).is_valid()
    assert not fp and not (fp.read_quorum & fp.write_quorum)
    explicit = QuorumSystem(reads=[["a", "b"], ["c"]], writes=[["a", "c"], ["b", "d"]],
                            unsafe=True).is_valid()
    assert not explicit and not (explicit.read_quorum & explicit.write_quorum)
    with pytest.raises(ValueError, match=r"read quorum \{a, b, c\} and write quorum \{d, e, f\}"):
        QuorumSystem(reads=[["a", "b", "c"]], writes=[["d", "e", "f"]])


def test_byzantine_overlap_is_checked():
    assert byzantine(4, 1).overlap == 2 and byzantine(4, 1).is_valid()
    # a majority of 5 is a valid crash system, but two majorities may share one (lying) node
    crash = majority(5)
    as_byz = QuorumSystem._build(crash.nodes, crash._reads, crash._writes, kind="test",
                                 params={}, overlap=2, unsafe=True)
    v = as_byz.is_valid()
    assert not v and len(v.read_quorum & v.write_quorum) == 1 and v.overlap == 2


def _brute_valid(reads, writes):
    return all(r & w for r in reads for w in writes)


def _brute_resilience(nodes, quorums):
    for f in range(len(nodes) + 1):
        for dead in itertools.combinations(nodes, f):
            alive = set(nodes) - set(dead)
            if not any(q <= alive for q in quorums):
                return f - 1
    return len(nodes)


def _random_system(rng, n):
    nodes = [f"n{i}" for i in range(1, n + 1)]
    reads = [frozenset(rng.sample(nodes, rng.randint(1, n))) for _ in range(rng.randint(1, 4))]
    writes = [frozenset(rng.sample(nodes, rng.randint(1, n))) for _ in range(rng.randint(1, 4))]
    return nodes, reads, writes


def test_validity_and_resilience_agree_with_brute_force_on_random_systems():
    seen_valid = seen_invalid = 0
    for seed in range(400):
        rng = random.Random(seed)
        nodes, reads, writes = _random_system(rng, rng.randint(1, 6))
        qs = QuorumSystem(reads=reads, writes=writes, nodes=nodes, unsafe=True)
        v = qs.is_valid()
        assert bool(v) == _brute_valid(reads, writes), seed
        if v:
            seen_valid += 1
        else:
            seen_invalid += 1
            assert not (v.read_quorum & v.write_quorum)
            assert qs.is_read_quorum(v.read_quorum) and qs.is_write_quorum(v.write_quorum)
        assert qs.read_resilience() == _brute_resilience(nodes, reads), seed
        assert qs.write_resilience() == _brute_resilience(nodes, writes), seed
        for size in range(len(nodes) + 1):
            for s in itertools.combinations(nodes, size):
                assert qs.is_read_quorum(s) == any(r <= set(s) for r in reads)
    assert seen_valid > 20 and seen_invalid > 20      # both outcomes happened


@pytest.mark.parametrize("n", range(1, 8))
def test_counting_systems_agree_with_their_listing(n):
    for r in range(1, n + 1):
        for w in range(1, n + 1):
            qs = threshold(n, read=r, write=w, unsafe=True)
            listed = QuorumSystem(reads=qs.read_quorums(), writes=qs.write_quorums(),
                                  nodes=qs.nodes, unsafe=True)
            assert bool(qs.is_valid()) == bool(listed.is_valid()) == (r + w > n)
            assert qs.resilience() == listed.resilience() == n - max(r, w)


def test_grid_agrees_with_its_listing():
    g = grid(2, 3)
    listed = QuorumSystem(reads=g.read_quorums(), writes=g.write_quorums())
    assert (g.read_resilience(), g.write_resilience()) == (listed.read_resilience(),
                                                           listed.write_resilience())
    assert set(g.write_quorums()) == set(listed.write_quorums())


def test_read_quorums_refuses_to_list_huge_families():
    with pytest.raises(ValueError, match="limit"):
        majority(41).read_quorums()
    assert len(majority(5).read_quorums()) == 10


def test_repr_names_the_kind():
    assert "majority" in repr(majority(3)) and "grid" in repr(grid(2, 2))


@pytest.mark.parametrize("call, exc, words", [
    (lambda: majority(0), ValueError, "n"),
    (lambda: majority(2.5), TypeError, "n"),
    (lambda: majority(3, names=["a", "b"]), ValueError, "names"),
    (lambda: majority(3, names=["a", "a", "b"]), ValueError, "duplicates"),
    (lambda: majority(3, names="abc"), TypeError, "names"),
    (lambda: threshold(5, read=0, write=5), ValueError, "read"),
    (lambda: threshold(5, read=2, write=6), ValueError, "write"),
    (lambda: threshold(5, read=2, write=3), ValueError, "read + write"),
    (lambda: threshold(5, read=2, write=3, unsafe="yes"), TypeError, "unsafe"),
    (lambda: flexible(5, q1=2, q2=3), ValueError, "q1 + q2"),
    (lambda: flexible(5, q1=6, q2=3), ValueError, "q1"),
    (lambda: flexible(0, q1=1, q2=1), ValueError, "n"),
    (lambda: grid(0, 3), ValueError, "rows"),
    (lambda: grid(2, 1.0), TypeError, "cols"),
    (lambda: byzantine(3, 1), ValueError, "3f + 1"),
    (lambda: byzantine(4, -1), ValueError, "f"),
    (lambda: QuorumSystem(), TypeError, "reads"),
    (lambda: QuorumSystem(reads=[[]], writes=[["a"]]), ValueError, "empty"),
    (lambda: QuorumSystem(reads=[], writes=[["a"]]), ValueError, "at least one"),
    (lambda: QuorumSystem(reads="abc", writes=[["a"]]), TypeError, "reads"),
    (lambda: QuorumSystem(reads=["ab"], writes=[["a"]]), TypeError, "reads[0]"),
    (lambda: QuorumSystem(reads=[["a", "z"]], writes=[["a"]], nodes=["a", "b"]), ValueError,
     "unknown nodes"),
    (lambda: QuorumSystem(reads=[["a"]], writes=[["b"]]), ValueError, "share"),
    (lambda: majority(3).is_read_quorum("n1"), TypeError, "ids"),
    (lambda: majority(3).read_quorums(limit=0), ValueError, "limit"),
    (lambda: QuorumSystem(reads=[[f"x{i}"] for i in range(25)]), ValueError, "at most 20"),
], ids=["n0", "n_float", "names_len", "names_dup", "names_str", "read0", "write_gt_n",
        "threshold_unsafe", "unsafe_not_bool", "flexible_unsafe", "q1_gt_n", "flexible_n0",
        "grid_rows0", "grid_cols_float", "byz_n_lt_3f1", "byz_f_neg", "no_quorums",
        "empty_quorum", "no_reads", "reads_str", "quorum_str", "unknown_node",
        "non_intersecting", "ids_str", "limit0", "derive_too_big"])
def test_bad_input(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)


@st.composite
def _systems(draw):
    n = draw(st.integers(1, 6))
    nodes = [f"n{i}" for i in range(1, n + 1)]
    subsets = st.sets(st.sampled_from(nodes), min_size=1)
    reads = draw(st.lists(subsets, min_size=1, max_size=4))
    writes = draw(st.lists(subsets, min_size=1, max_size=4))
    return nodes, [frozenset(r) for r in reads], [frozenset(w) for w in writes]


@settings(max_examples=150, deadline=None)
@given(_systems())
def test_validity_property(system):
    nodes, reads, writes = system
    qs = QuorumSystem(reads=reads, writes=writes, nodes=nodes, unsafe=True)
    v = qs.is_valid()
    assert bool(v) == _brute_valid(reads, writes)
    if not v:   # the reported pair is a real read quorum and write quorum that do not meet
        assert qs.is_read_quorum(v.read_quorum) and qs.is_write_quorum(v.write_quorum)
        assert not v.read_quorum & v.write_quorum
    else:       # and a valid system really has no such pair among all subsets
        for a in itertools.chain.from_iterable(itertools.combinations(nodes, k)
                                               for k in range(len(nodes) + 1)):
            rest = set(nodes) - set(a)
            assert not (qs.is_read_quorum(a) and qs.is_write_quorum(rest))


# ------------------------------------ RedLock's ceil(n/3) at n = 4 is an invalid quorum system
def test_redlock_ceil_n_over_3_at_n4_is_the_37_percent_case():
    # both clients hold L = 2 of 4 locks exactly when the servers split 2-2: C(4,2)/16
    assert math.ceil(4 / 3) == 4 // 2 == 2
    assert binom.pmf(2, 4, 0.5) == pytest.approx(0.375)
    assert not threshold(4, read=2, write=2, unsafe=True).is_valid()
