"""The quorum soak passes on a sample of seeds, and catches deliberately broken math."""

import pytest

from dsalgo.quorum import reliability as qavail
from dsalgo.quorum import systems as qsys
from dsalgo.soak import soak
from dsalgo.soak.quorum import trial


def test_soak_sample_passes_and_interesting_things_happen():
    result = soak("quorum-systems", runs=40)
    assert result.ok, result.report()
    assert result.runs_with["invalid_system"] > 0 and result.runs_with["zones"] > 0


def _first_failure(prop, seeds=range(60)):
    for seed in seeds:
        verdict, _ = trial(seed)
        if not verdict:
            assert prop in set(verdict.violations["property"]), str(verdict)
            return verdict
    pytest.fail(f"no seed caught the broken {prop}")


def test_catches_an_is_valid_that_always_says_yes(monkeypatch):
    monkeypatch.setattr(qsys.QuorumSystem, "is_valid",
                        lambda self: qsys.Validity(True, overlap=self.overlap))
    _first_failure("intersection")


def test_catches_an_off_by_one_resilience(monkeypatch):
    monkeypatch.setattr(qsys.QuorumSystem, "read_resilience",
                        lambda self: self._reads.transversal())
    _first_failure("resilience")


def test_catches_availability_that_ignores_zones(monkeypatch):
    real = qavail._with_groups
    monkeypatch.setattr(qavail, "_with_groups",
                        lambda system, vec, op, parsed: real(system, vec, op, []))
    _first_failure("availability_exact")


def test_catches_the_folklore_availability_formula(monkeypatch):
    # "a quorum of size q is up with probability (1 - p)^q" ignores the choice of quorum
    def folklore(system, p_vec, op):
        q = min(len(x) for x in system.read_quorums(limit=10**6))
        a = float((1 - p_vec[:q]).prod())
        return a, 1 - a
    monkeypatch.setattr(qavail, "_heterogeneous", folklore)
    _first_failure("availability_exact")


def test_catches_a_load_that_is_not_optimal(monkeypatch):
    from dsalgo.quorum import lp as qload
    real = qload._solve

    def uniform_bad(system, read_fraction, node_capacity):
        sol = real(system, read_fraction, node_capacity)
        sol["objective"] *= 1.5 if system.kind != "explicit" else 1.0
        return sol
    monkeypatch.setattr(qload, "_solve", uniform_bad)
    _first_failure("load")
