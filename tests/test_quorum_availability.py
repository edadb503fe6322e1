"""Exact availability against closed forms, brute force and Monte Carlo."""

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binom

from dsalgo.quorum import (
    QuorumSystem,
    byzantine,
    flexible,
    grid,
    majority,
    monte_carlo_availability,
    threshold,
    wilson_interval,
)


def _log_tail(n, k, p_down):
    """P(at least k of n alive), summed term by term in log space (plain Python)."""
    a, d = math.log1p(-p_down), math.log(p_down)
    terms = [math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * a + (n - j) * d
             for j in range(k, n + 1)]
    top = max(terms)
    return math.exp(top) * sum(math.exp(t - top) for t in terms)


def _brute(qs, p_of, op, groups=()):
    """Sum over every node pattern and group pattern, in plain Python."""
    nodes = qs.nodes
    total = 0.0
    for gdown in itertools.product((False, True), repeat=len(groups)):
        gw = math.prod(q if d else 1 - q for d, (_, q) in zip(gdown, groups))
        forced = set().union(*[set(m) for d, (m, _) in zip(gdown, groups) if d])
        for alive_bits in itertools.product((False, True), repeat=len(nodes)):
            w = gw
            for x, up in zip(nodes, alive_bits):
                w *= (1 - p_of[x]) if up else p_of[x]
            alive = {x for x, up in zip(nodes, alive_bits) if up} - forced
            ok = {"read": qs.is_read_quorum(alive), "write": qs.is_write_quorum(alive),
                  "both": qs.is_read_quorum(alive) and qs.is_write_quorum(alive)}[op]
            total += w * ok
    return total


def test_majority_5_is_the_binomial_sum():
    p = 0.05
    expected = sum(math.comb(5, j) * (1 - p) ** j * p ** (5 - j) for j in (3, 4, 5))
    assert majority(5).availability(p) == pytest.approx(expected, rel=1e-14)
    assert majority(5).availability(p) == pytest.approx(binom.sf(2, 5, 0.95), rel=1e-14)
    assert majority(5).unavailability(p) == pytest.approx(1 - expected, rel=1e-12)


@pytest.mark.parametrize("p", [0.01, 0.1, 0.3, 0.45, 0.5, 0.55])
def test_majority_1001_matches_a_log_space_sum(p):
    assert majority(1001).availability(p) == pytest.approx(_log_tail(1001, 501, p), rel=1e-9)


def test_majority_1001_unavailability_keeps_its_precision():
    # P(at most 500 of 1001 alive) = P(at least 501 down): the same tail with p <-> 1 - p
    u = majority(1001).unavailability(0.3)
    assert 0 < u < 1e-30
    assert u == pytest.approx(_log_tail(1001, 501, 0.7), rel=1e-9)


def test_curves_keep_the_shape_of_p():
    ps = np.linspace(0, 1, 12).reshape(3, 4)
    out = majority(5).availability(ps)
    assert out.shape == (3, 4)
    assert out[0, 0] == 1.0 and out[-1, -1] == 0.0
    assert np.all(np.diff(out.ravel()) <= 1e-15)      # more failures, less availability
    loop = [majority(5).availability(float(p)) for p in ps.ravel()]
    np.testing.assert_allclose(out.ravel(), loop, rtol=1e-13)


SYSTEMS = {
    "majority3": majority(3), "majority4": majority(4), "majority5": majority(5),
    "threshold_r2_w4": threshold(5, read=2, write=4), "flexible_6_5_2": flexible(6, q1=5, q2=2),
    "byzantine_4_1": byzantine(4, 1), "grid2x3": grid(2, 3), "grid3x2": grid(3, 2),
    "crumbling_walls": QuorumSystem(reads=[["a", "b"], ["c", "d", "e"]]),
    "paths": QuorumSystem(reads=[["a", "b"], ["a", "c", "e"], ["d", "e"], ["d", "c", "b"]]),
}


@pytest.mark.parametrize("name", sorted(SYSTEMS))
@pytest.mark.parametrize("op", ["read", "write", "both"])
def test_exact_matches_brute_force_heterogeneous(name, op):
    qs = SYSTEMS[name]
    p_of = {x: 0.03 + 0.07 * i for i, x in enumerate(qs.nodes)}
    assert qs.availability(p_of, op) == pytest.approx(_brute(qs, p_of, op), abs=1e-13)
    assert qs.unavailability(p_of, op) == pytest.approx(1 - _brute(qs, p_of, op), abs=1e-13)
    homog = {x: 0.2 for x in qs.nodes}
    assert qs.availability(0.2, op) == pytest.approx(_brute(qs, homog, op), abs=1e-13)


def _zones(qs):
    nodes = list(qs.nodes)
    thirds = [nodes[0::3], nodes[1::3], nodes[2::3]]
    return {f"az{i + 1}": (z, 0.02 * (i + 1)) for i, z in enumerate(thirds) if z}


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_correlated_zones_match_brute_force(name):
    qs = SYSTEMS[name]
    zones = _zones(qs)
    p_of = {x: 0.05 for x in qs.nodes}
    got = qs.availability(0.05, "both", groups=zones)
    assert got == pytest.approx(_brute(qs, p_of, "both", list(zones.values())), abs=1e-13)


def test_zones_hurt_a_majority_placed_two_per_zone():
    # 6 nodes across 3 zones, 2 per zone: losing one zone leaves 4 of 6, still a majority;
    # with 2 zones of 3, losing one leaves 3 of 6, not a majority.
    qs = majority(6)
    three = {f"az{i}": ([f"n{2 * i - 1}", f"n{2 * i}"], 0.01) for i in (1, 2, 3)}
    two = {"az1": (["n1", "n2", "n3"], 0.01), "az2": (["n4", "n5", "n6"], 0.01)}
    assert qs.availability(0.0, groups=three) > qs.availability(0.0, groups=two)
    assert qs.availability(0.0, groups=two) == pytest.approx(0.99 ** 2)


MC_CASES = [
    ("majority5", majority(5), 0.1, None),
    ("majority4", majority(4), 0.15, None),
    ("majority101", majority(101), 0.45, None),
    ("threshold", threshold(7, read=3, write=5), 0.2, None),
    ("flexible", flexible(10, q1=8, q2=3), 0.1, None),
    ("byzantine", byzantine(7, 2), 0.15, None),
    ("grid3x3", grid(3, 3), 0.2, None),
    ("grid4x5", grid(4, 5), 0.3, None),
    ("paths", SYSTEMS["paths"], 0.2, None),
    ("hetero_majority7", majority(7), {f"n{i}": 0.02 * i for i in range(1, 8)}, None),
    ("hetero_grid", grid(2, 3), {f"n{i}": 0.05 * i for i in range(1, 7)}, None),
    ("zones_majority9", majority(9), 0.05,
     {"az1": (["n1", "n2", "n3"], 0.05), "az2": (["n4", "n5", "n6"], 0.1),
      "az3": (["n7", "n8", "n9"], 0.02)}),
    ("zones_grid", grid(3, 3), 0.05,
     {"rack1": (["n1", "n4", "n7"], 0.1), "rack2": (["n2", "n5", "n8"], 0.1)}),
]


@pytest.mark.parametrize("name, qs, p, groups", MC_CASES, ids=[c[0] for c in MC_CASES])
def test_exact_within_monte_carlo_interval(name, qs, p, groups):
    est = monte_carlo_availability(qs, p, "both", groups, samples=40_000, seed=11,
                                   confidence=0.999)
    exact = qs.availability(p, "both", groups=groups)
    assert est.low <= exact <= est.high, (name, exact, est)
    # "sometimes": the runs did see unavailable patterns, so the check was not vacuous
    assert 0 < est.successes < est.samples


def test_monte_carlo_is_deterministic_and_seeded():
    a = monte_carlo_availability(grid(3, 3), 0.3, samples=5000, seed=4)
    b = monte_carlo_availability(grid(3, 3), 0.3, samples=5000, seed=4)
    c = monte_carlo_availability(grid(3, 3), 0.3, samples=5000, seed=5)
    assert a == b and a != c


def test_monte_carlo_catches_a_wrong_formula():
    # the folklore "availability = (1 - p)^q for a quorum of size q" is far outside the CI
    est = monte_carlo_availability(majority(5), 0.1, samples=20_000, seed=0)
    assert not est.covers(0.9 ** 3)
    assert est.covers(majority(5).availability(0.1))


def test_wilson_interval_edges():
    e = wilson_interval(1000, 1000, 0.99)
    assert e.high == 1.0 and 0.99 < e.low < 1.0
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 4)


def test_large_explicit_system_points_to_monte_carlo():
    nodes = [f"x{i}" for i in range(22)]
    qs = QuorumSystem(reads=[nodes[:12], nodes[10:]], writes=[nodes[11:13], nodes[:11] + [nodes[21]]],
                      nodes=nodes)
    with pytest.raises(ValueError, match="monte_carlo_availability"):
        qs.availability(0.1)
    assert 0 < qs.monte_carlo_availability(0.1, samples=2000).estimate < 1


@pytest.mark.parametrize("call, exc, words", [
    (lambda: majority(5).availability(1.5), ValueError, "p must be"),
    (lambda: majority(5).availability(-0.1), ValueError, "p must be"),
    (lambda: majority(5).availability([0.1, 2.0]), ValueError, "[0, 1]"),
    (lambda: majority(5).availability(float("nan")), ValueError, "NaN"),
    (lambda: majority(5).availability("0.1"), TypeError, "p must be"),
    (lambda: majority(5).availability(True), TypeError, "p must be"),
    (lambda: majority(3).availability({"n1": 0.1, "n2": 0.1}), ValueError, "missing"),
    (lambda: majority(2).availability({"n1": 0.1, "n2": 0.1, "zz": 0.1}), ValueError, "unknown"),
    (lambda: majority(3).availability(0.1, op="quorum"), ValueError, "op"),
    (lambda: majority(3).availability(0.1, groups={"a": (["zz"], 0.1)}), ValueError, "unknown"),
    (lambda: majority(3).availability(0.1, groups={"a": (["n1"], 1.2)}), ValueError, "groups"),
    (lambda: majority(3).availability(0.1, groups={"a": ([], 0.1)}), ValueError, "at least one"),
    (lambda: majority(3).availability(0.1, groups={"a": "n1"}), TypeError, "pair"),
    (lambda: majority(3).availability(0.1, groups=[("n1", 0.1)]), TypeError, "mapping"),
    (lambda: majority(3).monte_carlo_availability([0.1, 0.2]), TypeError, "Monte Carlo"),
    (lambda: majority(3).monte_carlo_availability(0.1, samples=0), ValueError, "samples"),
    (lambda: majority(3).monte_carlo_availability(0.1, confidence=1.0), ValueError, "confidence"),
], ids=["p_gt_1", "p_neg", "array_gt_1", "p_nan", "p_str", "p_bool", "mapping_missing",
        "mapping_unknown", "bad_op", "group_unknown", "group_q", "group_empty", "group_spec",
        "groups_not_mapping", "mc_array", "mc_samples", "mc_confidence"])
def test_bad_input(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)


def test_tables_are_deterministic():
    from dsalgo.quorum import availability_table, load_table
    systems = {"m5": majority(5), "g": grid(2, 3)}
    a = availability_table(systems, [0.01, 0.1], groups=None)
    assert a.equals(availability_table(systems, [0.01, 0.1]))
    assert load_table(systems, [0.2, 0.8]).equals(load_table(systems, [0.2, 0.8]))
    assert list(a.columns) == ["system", "n", "p", "op", "availability", "unavailability", "nines"]


# -------------------------------- facts notebook 01 states (nines per two nodes, zone layouts)
NODES = [f"n{i}" for i in range(1, 10)]


@pytest.mark.parametrize("f", [1, 2, 3, 5])
@pytest.mark.parametrize("p", [1e-3, 1e-4])
def test_two_extra_nodes_multiply_unavailability_by_2p_2f3_over_f2(f, p):
    # notebook 01 section 2: not "one more nine per decade of p" but log10(1/p) less ~0.5
    n = 2 * f + 1
    ratio = majority(n + 2).unavailability(p) / majority(n).unavailability(p)
    factor = 2 * p * (2 * f + 3) / (f + 2)
    assert ratio == pytest.approx(factor, rel=20 * n * p)
    assert 10 * p / 3 - 1e-15 <= factor <= 4 * p
    gained = -math.log10(ratio)
    assert math.log10(1 / p) - 0.61 < gained < math.log10(1 / p) - 0.52


def test_nines_gained_per_two_nodes_at_p_001_is_about_one_and_a_half():
    nines = [-math.log10(majority(n).unavailability(0.01)) for n in (3, 5, 7)]
    steps = np.diff(nines)
    assert np.all((steps > 1.4) & (steps < 1.55))


def test_4_4_1_survives_every_single_zone_outage_but_not_one_more_node():
    # notebook 01 section 6 used to call 4-4-1 "like a 2-zone deployment"
    qs = majority(9)
    zones = [NODES[0:4], NODES[4:8], NODES[8:9]]
    for down in zones:
        alive = [x for x in NODES if x not in down]
        assert qs.is_write_quorum(alive)
        if len(down) == 4:
            assert not qs.is_write_quorum(alive[1:])
    q = 1e-4
    u = {name: qs.unavailability(0.001, groups={f"az{j}": (z, q) for j, z in enumerate(zs)})
         for name, zs in {"3-3-3": [NODES[0:3], NODES[3:6], NODES[6:9]],
                          "5-2-2": [NODES[0:5], NODES[5:7], NODES[7:9]],
                          "4-4-1": zones}.items()}
    assert u["3-3-3"] < u["4-4-1"] < u["5-2-2"]
    assert u["5-2-2"] > 0.9 * q                 # the big zone alone is fatal: ~q
    assert u["4-4-1"] < 0.02 * q                # no single zone is fatal


def test_zone_unavailabilities_quoted_in_notebook_01():
    qs = majority(9)
    layouts = {"3-3-3": [NODES[0:3], NODES[3:6], NODES[6:9]],
               "4-4-1": [NODES[0:4], NODES[4:8], NODES[8:9]]}
    u = {k: qs.unavailability(0.001, groups={f"az{j}": (z, 1e-4) for j, z in enumerate(v)})
         for k, v in layouts.items()}
    assert f"{u['3-3-3']:.1e}" == "3.4e-08"          # the text said 4e-8
    assert f"{u['4-4-1']:.1e}" == "1.0e-06"


def test_notebook_01_zone_prose_names_the_layouts_its_code_uses():
    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks"
                     / "01_quorum_math.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"]]
    i = next(k for k, s in enumerate(cells) if s.startswith("## 6. Correlated failures"))
    layouts = re.findall(r'"(\d-\d-\d)": \[', cells[i + 1])
    assert layouts == ["3-3-3", "5-2-2", "4-4-1"]
    for layout in layouts:
        assert layout in cells[i], f"section 6 prose does not describe layout {layout}"
    # the closing section is computed in the run (dsalgo.report.Conclusion), so it quotes
    # the RedLock race from the run's table, not typed-in percentages
    conclusions = cells[-1]
    assert "Conclusion(" in conclusions and '["both hold the lock"]' in conclusions
