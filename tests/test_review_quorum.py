"""Review checks behind the corrected prose of notebook 01 (sections 2 and 6, conclusions).

Each test pins a fact the notebook now states, computed with dsalgo.quorum, so the text
and the library cannot drift apart again.
"""

import math

import numpy as np
import pytest
from scipy import stats

from dsalgo import quorum

NODES = [f"n{i}" for i in range(1, 10)]


@pytest.mark.parametrize("f", [1, 2, 3, 5])
@pytest.mark.parametrize("p", [1e-3, 1e-4])
def test_two_extra_nodes_multiply_unavailability_by_2p_2f3_over_f2(f, p):
    # notebook 01 section 2: not "one more nine per decade of p" but log10(1/p) less ~0.5
    n = 2 * f + 1
    ratio = quorum.majority(n + 2).unavailability(p) / quorum.majority(n).unavailability(p)
    factor = 2 * p * (2 * f + 3) / (f + 2)
    assert ratio == pytest.approx(factor, rel=20 * n * p)
    assert 10 * p / 3 - 1e-15 <= factor <= 4 * p
    gained = -math.log10(ratio)
    assert math.log10(1 / p) - 0.61 < gained < math.log10(1 / p) - 0.52


def test_nines_gained_per_two_nodes_at_p_001_is_about_one_and_a_half():
    nines = [-math.log10(quorum.majority(n).unavailability(0.01)) for n in (3, 5, 7)]
    steps = np.diff(nines)
    assert np.all((steps > 1.4) & (steps < 1.55))


def test_4_4_1_survives_every_single_zone_outage_but_not_one_more_node():
    # notebook 01 section 6 used to call 4-4-1 "like a 2-zone deployment"
    qs = quorum.majority(9)
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


def test_redlock_ceil_n_over_3_at_n4_is_the_37_percent_case():
    # both clients hold L = 2 of 4 locks exactly when the servers split 2-2: C(4,2)/16
    assert math.ceil(4 / 3) == 4 // 2 == 2
    assert stats.binom.pmf(2, 4, 0.5) == pytest.approx(0.375)
    assert not quorum.threshold(4, read=2, write=2, unsafe=True).is_valid()


def test_notebook_01_zone_prose_names_the_layouts_its_code_uses():
    import json
    import re
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks"
                     / "01_quorum_math.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"]]
    i = next(k for k, s in enumerate(cells) if s.startswith("## 6. Correlated failures"))
    layouts = re.findall(r'"(\d-\d-\d)": \[', cells[i + 1])
    assert layouts == ["3-3-3", "5-2-2", "4-4-1"]
    for layout in layouts:
        assert layout in cells[i], f"section 6 prose does not describe layout {layout}"
    conclusions = cells[-1]
    assert "in 37–78 %" in conclusions       # ceil(N/3) at N = 4 double-grants 37 %


def test_byzantine_quorum_size_rejects_an_f_no_quorum_can_meet():
    # before: quorum_size(3, "byzantine", f=5) answered 5, a quorum larger than the cluster
    with pytest.raises(ValueError, match=r"f must be at most n - 1 .* n=3 .* got f=5"):
        quorum.quorum_size(3, "byzantine", f=5)
    with pytest.raises(ValueError, match=r"n=7 .* got f=7"):
        quorum.quorum_size([4, 7], "byzantine", f=[1, 7])
    # safe but not live is still answered (the bound's tightness is shown with it)
    assert quorum.quorum_size(4, "byzantine", f=2) == 4
    assert quorum.quorum_size([4, 7], "byzantine", f=[1, 6]).tolist() == [3, 7]


def test_zone_unavailabilities_quoted_in_notebook_01():
    qs = quorum.majority(9)
    layouts = {"3-3-3": [NODES[0:3], NODES[3:6], NODES[6:9]],
               "4-4-1": [NODES[0:4], NODES[4:8], NODES[8:9]]}
    u = {k: qs.unavailability(0.001, groups={f"az{j}": (z, 1e-4) for j, z in enumerate(v)})
         for k, v in layouts.items()}
    assert f"{u['3-3-3']:.1e}" == "3.4e-08"          # the text said 4e-8
    assert f"{u['4-4-1']:.1e}" == "1.0e-06"
