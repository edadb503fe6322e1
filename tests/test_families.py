"""Every family of the registry has the same surface (dsalgo.families): the contract, a
small run that holds, determinism, its bugs and its knobs."""

import json

import pytest
from conftest import assert_same_tables

from dsalgo.check import Verdict
from dsalgo.families import FAMILIES, STANDARD_PARAMETERS, check_contract, family
from dsalgo.soak import by_family, family_of, registry

NAMES = list(FAMILIES)
SMALL = {"n": 3, "seed": 1, "duration": 1.0}
# soaks of library code that is not a family of the registry
NOT_A_FAMILY = {"quorum-systems"}
# families whose soak is still to be written
NO_SOAK_YET: set = set()   # every family has at least one soak

_runs: dict = {}


def small_run(name):
    """One small run per family, shared by the tests of this module."""
    if name not in _runs:
        _runs[name] = FAMILIES[name].simulate(**SMALL)
    return _runs[name]


def test_the_registry_lists_every_family_once():
    assert NAMES == ["raft", "paxos", "redlock", "zookeeper", "twopc", "saga", "balance"]
    assert len({FAMILIES.module_name(n) for n in NAMES}) == len(NAMES)
    with pytest.raises(ValueError, match="family must be one of 'raft'"):
        family("quicksort")


@pytest.mark.parametrize("name", NAMES)
def test_the_module_meets_the_contract(name):
    assert check_contract(FAMILIES[name]) == []


@pytest.mark.parametrize("name", NAMES)
def test_a_small_run_records_its_family_and_holds(name):
    module = FAMILIES[name]
    run = small_run(name)
    assert run.params["family"] == name and run.params["n"] == SMALL["n"]
    assert "algorithm" not in run.params
    json.dumps(run.params)  # JSON-safe: it is saved with the run
    verdict = module.check(run)
    assert isinstance(verdict, Verdict)
    assert verdict, str(verdict)
    assert len(run.events) > 0  # something happened


@pytest.mark.parametrize("name", NAMES)
def test_run_params_rebuild_the_config(name):
    module = FAMILIES[name]
    run = small_run(name)
    config = module.Config.from_params(run.params)
    assert config == module.Config(**{k: v for k, v in run.params.items()
                                     if k in module.Config.knobs()})
    for knob in module.Config.knobs():
        assert knob in run.params, knob


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_tables(name):
    again = FAMILIES[name].simulate(**SMALL)
    first = small_run(name)
    assert_same_tables(first, again)
    assert first.params == again.params


@pytest.mark.parametrize("name", NAMES)
def test_bugs_are_named_with_the_rule_they_break(name):
    bugs = FAMILIES[name].BUGS
    assert bugs and all(isinstance(k, str) and k.isidentifier() for k in bugs)
    assert all(isinstance(v, str) and v and "\n" not in v for v in bugs.values())


@pytest.mark.parametrize("name", NAMES)
def test_an_unknown_bug_is_rejected_naming_the_known_ones(name):
    module = FAMILIES[name]
    with pytest.raises((ValueError, TypeError), match="no_such_bug") as exc:
        module.simulate(**SMALL, bugs=("no_such_bug",))
    assert next(iter(module.BUGS)) in str(exc.value)


@pytest.mark.parametrize("name", NAMES)
def test_an_unknown_knob_is_a_type_error_naming_it(name):
    with pytest.raises(TypeError, match="no_such_knob"):
        FAMILIES[name].simulate(**SMALL, no_such_knob=1)


@pytest.mark.parametrize("name", NAMES)
def test_every_knob_has_a_one_line_doc(name):
    knobs = FAMILIES[name].Config.knobs()
    assert "bugs" in knobs
    for knob, (_, doc) in knobs.items():
        assert doc and "\n" not in doc, knob
        assert knob not in STANDARD_PARAMETERS or knob == "bugs", (
            f"{knob} is a standard parameter of simulate, not a knob")


@pytest.mark.parametrize("name", NAMES)
def test_scenarios_are_callables_by_name(name):
    scenarios = FAMILIES[name].SCENARIOS
    assert all(isinstance(k, str) and callable(f) for k, f in scenarios.items())


# ---------------------------------------------------------------- the soak reads the registry
def test_every_soak_belongs_to_a_family_of_the_registry_or_is_known_not_to():
    for name, s in registry().items():
        assert family_of(name, s) in NAMES or name in NOT_A_FAMILY, name


def test_every_family_has_a_soak():
    missing = {f for f, soaks in by_family().items() if not soaks}
    assert missing == NO_SOAK_YET
