"""twopc and saga as families of the one contract: simulate's standard surface, Config,
run.params, the deprecated call forms, BUGS and the scenarios."""

import json
import warnings

import pytest

from dsalgo import sim, txn
from dsalgo.families import FAMILIES, check_contract
from dsalgo.txn import metrics, saga, scenarios, twopc
from dsalgo.txn.bank import WorkloadConfig

FAMILY = {"twopc": twopc, "saga": saga}


@pytest.mark.parametrize("name", ["twopc", "saga"])
def test_meets_the_family_contract(name):
    assert FAMILIES[name] is FAMILY[name]
    assert check_contract(FAMILIES[name]) == []
    assert FAMILY[name].check is txn.check
    assert set(FAMILY[name].Config().bugs) == set()
    assert FAMILY[name].Config(bugs=list(FAMILY[name].BUGS)).bugs == set(FAMILY[name].BUGS)


@pytest.mark.parametrize("name", ["twopc", "saga"])
def test_params_record_family_knobs_workload_and_the_load_period(name):
    run = FAMILY[name].simulate(n=2, seed=1, duration=0.4, drain=0.3, clients=3)
    p = run.params
    assert p["family"] == name and p["n"] == 2 and "algorithm" not in p
    assert p["duration"] == 0.4 and run.until == pytest.approx(0.7)
    assert p["workload"]["drain"] == 0.3 and p["workload"]["clients"] == 3
    json.dumps(p)
    assert FAMILY[name].Config.from_params(p) == FAMILY[name].Config()
    assert WorkloadConfig.from_params(p["workload"]) == WorkloadConfig(drain=0.3, clients=3)
    # the load is duration: no operation is invoked in the drain tail
    assert run.history["t_invoke"].max() < 0.4
    assert run.nodes[:3] == (["tm", "n1", "n2"] if name == "twopc" else ["orch", "n1", "n2"])


def test_choreographed_sagas_have_no_orchestrator():
    run = saga.simulate(n=3, seed=0, duration=0.3, drain=0.3, form="choreographed")
    assert run.nodes == ["n1", "n2", "n3", "c1", "c2"] and txn.check(run)


@pytest.mark.parametrize("name, old", [("twopc", "participants"), ("saga", "steps")])
def test_the_old_size_keyword_warns_and_gives_the_same_run(name, old):
    simulate = FAMILY[name].simulate
    with pytest.warns(DeprecationWarning, match=f"{old}= is deprecated; the size is n"):
        a = simulate(**{old: 4}, seed=2, duration=0.3, drain=0.3)
    assert a == simulate(n=4, seed=2, duration=0.3, drain=0.3) == simulate(
        4, seed=2, duration=0.3, drain=0.3)
    assert a.params["n"] == 4


def test_the_notebook_runs_give_the_tables_they_gave_before():
    # notebook 05's first two runs, in their call form: the counts these runs had before
    # simulate moved onto sim.Cluster (the tables are identical, not only their sizes);
    # re-derived when links moved to counter-based random streams
    net = sim.Network(latency=sim.Exponential(mean=0.002), drop_rate=0.05, duplicate_rate=0.05)
    chaos = [sim.Nemesis(crash=1.0, partition=0.5, mean_duration=0.3, end=2.0)]
    common = dict(seed=4, duration=2.0, drain=2.0, network=net, faults=chaos, clients=3,
                  concurrency=2, accounts=4, client_timeout=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # no deprecated form in these
        r = txn.twopc.simulate(3, **common)
        s = txn.saga.simulate(3, step_failure=0.1, **common)
    v, w = txn.check(r), txn.check(s)
    assert (len(r.messages), len(r.events), len(r.history), len(r.faults)) == (1857, 843, 173, 3)
    assert (v.info["committed"], v.info["aborted"]) == (26, 83)
    assert (len(s.messages), len(s.events), len(s.history), len(s.faults)) == (1162, 539, 157, 3)
    assert (w.info["sagas_done"], w.info["sagas_compensated"]) == (77, 24)
    # the nemesis hits the coordinator and the shards, never a client
    targets = set(r.faults["target"]) | set(s.faults["target"])
    assert targets and not any(str(t).startswith("c") for t in targets)


@pytest.mark.parametrize("name", ["twopc", "saga"])
def test_record_messages_false_keeps_every_other_table(name):
    kw = dict(n=3, seed=3, duration=0.3, drain=0.3)
    full = FAMILY[name].simulate(**kw)
    lean = FAMILY[name].simulate(record_messages=False, **kw)
    assert len(full.messages) > 0 and len(lean.messages) == 0
    assert lean.events.equals(full.events) and lean.history.equals(full.history)


@pytest.mark.parametrize("name", ["twopc", "saga"])
def test_open_loop_arrivals(name):
    run = FAMILY[name].simulate(n=3, seed=5, duration=1.0, drain=1.0, clients=2,
                                mode="open", rate=40.0)
    v = txn.check(run)
    assert v, str(v)
    assert 50 < len(run.history) < 110                   # about 2 clients × 40/s × 1 s
    assert run.params["workload"]["mode"] == "open"


def test_drain_zero_ends_with_the_load():
    run = twopc.simulate(n=2, seed=0, duration=0.3, drain=0)
    assert run.until == 0.3 and metrics.summary(run)["throughput"] > 0


# ------------------------------------------------------------------ scenarios
def test_every_bug_has_a_scenario_that_shows_it_and_passes_without_it():
    for family in (twopc, saga):
        for bug in family.BUGS:
            assert not txn.check(family.SCENARIOS[bug](bug=True))
            assert txn.check(family.SCENARIOS[bug](bug=False))


@pytest.mark.parametrize("name", ["twopc", "saga"])
def test_scenarios_are_deterministic(name):
    for make in FAMILY[name].SCENARIOS.values():
        assert make() == make()


def test_coordinator_crash_blocks_every_prepared_participant_for_the_outage():
    for termination in ("wait", "cooperative"):
        run = scenarios.coordinator_crash(termination=termination, down=0.3)
        b = metrics.blocking_times(run)
        assert list(b["node"]) == ["n1", "n2", "n3"] and (b["outcome"] == "abort").all()
        # prepared at 20 ms, tm down from 25 ms to 325 ms: nobody learns before it is back
        assert (b["t_prepared"] + b["blocked"] > 0.325).all()
        assert metrics.crashes_while_prepared(run) == 1 and txn.check(run)


def test_cooperative_termination_unblocks_when_one_participant_never_voted():
    coop = metrics.blocking_times(scenarios.cooperative_termination("cooperative"))
    wait = metrics.blocking_times(scenarios.cooperative_termination("wait"))
    assert list(coop["node"]) == list(wait["node"]) == ["n1", "n2"]
    assert (coop["blocked"] < 0.1).all() and (wait["blocked"] > 0.3).all()
    ev = scenarios.cooperative_termination().events
    assert ev.loc[(ev["node"] == "n3") & (ev["kind"] == "abort"), "reason"].tolist() == [
        "peer_inquiry"]


def test_commit_without_all_votes_loses_the_leg_of_the_participant_that_never_voted():
    v = txn.check(scenarios.commit_without_all_votes())
    assert set(v.violations["property"]) == {"commit_validity", "atomicity", "conservation"}
    assert "t0: tm decided commit but n2 never committed" in v.violations["detail"].tolist()


def test_failed_step_is_compensated_in_reverse_in_both_forms():
    for form in ("orchestrated", "choreographed"):
        run = scenarios.failed_step(form=form)
        ev = run.events[run.events["kind"].isin(["step", "compensate", "saga_end"])]
        assert [(k, None if s != s else int(s)) for k, s in zip(ev["kind"], ev["step"])] == [
            ("step", 0), ("step", 1), ("step", 2), ("compensate", 1), ("compensate", 0),
            ("saga_end", None)]
        assert ev["outcome"].dropna().tolist() == ["compensated"]
        v = txn.check(run)
        assert v and v.info["sagas_compensated"] == 1 and v.info["final_total"] == 0


def test_orchestrator_crash_resumes_the_saga_from_its_log():
    run = scenarios.orchestrator_crash()
    ev = run.events
    assert ev.loc[ev["kind"] == "recover", "sagas"].tolist() == [("s0",)]
    assert (ev["kind"] == "step").sum() == 3                 # step 0 not applied twice
    assert metrics.crashes_mid_saga(run) == 1 and txn.check(run).info["sagas_done"] == 1


def test_non_idempotent_retry_applies_the_resent_step_twice():
    v = txn.check(scenarios.non_idempotent_retry())
    assert "s0: step 0 applied 2 times" in v.violations["detail"].tolist()
    assert not v.holds("conservation")
