"""balance as a family: the standard simulate signature, Config, BUGS, SCENARIOS, run.params,
the deprecated call forms, and runs saved in the old params dialect."""

import warnings

import numpy as np
import pytest

from dsalgo import balance as B
from dsalgo import sim
from dsalgo.families import FAMILIES, check_contract

SMALL = {"utilization": 0.7, "requests": 400, "seed": 3}


def test_balance_meets_the_family_contract():
    assert check_contract(FAMILIES["balance"]) == []
    assert set(B.SCENARIOS) == set(B.BUGS)
    for name in ("policy", "d", "vnodes", "epsilon", "weights", "speeds", "balancers",
                 "info_delay", "health_interval", "timeout", "allow_overload", "bugs"):
        assert name in B.Config.knobs()
    for name in ("utilization", "rate", "service", "requests", "keys", "key_skew"):
        assert name in B.WorkloadConfig.knobs()
    assert "info_delay : float = 0.0" in B.Config.describe()


def test_params_come_from_the_cluster_and_rebuild_the_config():
    run = B.simulate(5, policy="power_of_d", d=3, info_delay=0.5, **SMALL)
    p = run.params
    assert p["family"] == "balance" and p["n"] == 5 and "algorithm" not in p
    assert p["policy"] == "power_of_d" and p["d"] == 3 and p["hop"] == 0.0
    assert p["rate"] == pytest.approx(0.7 * 5) and p["utilization"] == 0.7
    assert p["workload"]["requests"] == 400 and p["workload"]["service"] == "Exponential(mean=1.0)"
    assert p["speeds"] == [1.0] * 5 and p["bugs"] == []
    cfg = B.Config.from_params(p)
    assert cfg.d == 3 and cfg.info_delay == 0.5 and cfg.speeds == (1.0,) * 5
    assert run.nodes == ["n1", "n2", "n3", "n4", "n5", "lb1", "c1"]


def test_defaults_keep_messages_off_and_record_them_on_request():
    assert len(B.simulate(2, **SMALL).messages) == 0
    run = B.simulate(2, record_messages=True, **SMALL)
    assert len(run.messages) == 3 * 400                 # c -> lb, lb -> n, n -> c


def test_rate_instead_of_utilization():
    run = B.simulate(4, rate=2.0, **{**SMALL, "utilization": None})
    assert run.params["rate"] == 2.0 and run.params["utilization"] == pytest.approx(0.5)


def test_requests_none_runs_until_duration():
    run = B.simulate(2, requests=None, duration=50.0, utilization=0.5, seed=1)
    h = run.history
    assert 30 < len(h) < 75 and h["t_invoke"].max() < 50.0       # about 1 per second
    assert run.params["duration"] == 50.0


def test_duration_caps_a_run_that_would_go_on():
    run = B.simulate(2, duration=100.0, **{**SMALL, "requests": 5000})
    assert run.history["t_invoke"].max() < 100.0 and run.params["duration"] == 100.0


def test_t_end_is_the_service_end_a_hop_before_the_answer():
    run = B.simulate(3, network=sim.Network(latency=sim.Constant(0.01)), **SMALL)
    h = run.history
    assert np.allclose(h["t_end"], h["t_complete"] - 0.01)
    assert np.allclose(h["t_enqueue"], h["t_invoke"] + 0.02)


def test_a_network_whose_delays_vary_is_measured_not_assumed():
    net = sim.Network(latency=sim.Exponential(mean=0.02))
    run = B.simulate(3, policy="least_outstanding", network=net, **SMALL)
    h = run.history
    assert run.params["hop"] is None and len(net._overrides) == 0      # the caller's net untouched
    assert (h["t_enqueue"] > h["t_invoke"]).all() and (h["t_start"] >= h["t_enqueue"]).all()
    assert (h["t_complete"] > h["t_end"]).all()
    gaps = (h["t_enqueue"] - h["t_invoke"]).round(9)
    assert gaps.nunique() > 100                                        # delays really vary
    assert B.check(run) and (B.waits(run) >= 0).all()
    assert B.server_loads(run)["requests"].sum() == 400
    cq = B.check(B.simulate(3, policy="central_queue", network=net, **SMALL))
    assert "network delays vary" in cq.info["skipped"]["work_conserving"]


def test_info_delay_adds_to_a_varying_network():
    net = sim.Network(latency=sim.Uniform(0.01, 0.02))
    run = B.simulate(2, policy="jsq", network=net, info_delay=1.0, **SMALL)
    assert B.check(run)


@pytest.mark.parametrize("bug, policy, prop", [
    ("ignore_cap", "consistent_hash_bounded", "bounded_load"),
    ("lifo_service", "random", "fifo"),
    ("no_drain_on_done", "central_queue", "work_conserving"),
])
def test_each_planted_bug_is_caught_and_absent_without_it(bug, policy, prop):
    kw = {"policy": policy, "utilization": 0.85, "requests": 600, "seed": 4, "key_skew": 1.2}
    good = B.check(B.simulate(3, **kw))
    bad = B.check(B.simulate(3, bugs={bug}, **kw))
    assert good, str(good)
    # the requests a balancer that drains only on arrivals holds after the last arrival
    # are never placed: that bug breaks request_progress too
    also = {"no_drain_on_done": {"request_progress"}}.get(bug, set())
    assert not bad.holds(prop) and set(bad.violations["property"]) == {prop} | also


def test_a_bug_for_another_policy_changes_nothing():
    a, b = B.simulate(3, **SMALL), B.simulate(3, bugs={"ignore_cap", "no_drain_on_done"}, **SMALL)
    assert a.history.equals(b.history)


def test_ignore_cap_applies_to_a_policy_object_too():
    kw = {"utilization": 0.85, "requests": 600, "seed": 4, "key_skew": 1.2}
    run = B.simulate(3, policy=B.BoundedConsistentHash(epsilon=0.25), bugs={"ignore_cap"}, **kw)
    assert not B.check(run).holds("bounded_load")


@pytest.mark.parametrize("name", sorted(B.SCENARIOS))
def test_scenarios_show_their_bug_step_by_step_and_are_deterministic(name):
    scenario = B.SCENARIOS[name]
    run, again, fixed = scenario(), scenario(), scenario(bug=False)
    assert run.history.equals(again.history) and run.messages.equals(again.messages)
    assert len(run.messages) > 0 and len(run.history) <= 50             # small enough to read
    assert name in run.params["bugs"]
    v = B.check(run)
    assert not v and len(v.violations)
    assert B.check(fixed), str(B.check(fixed))


# ----------------------------------------------------------------- deprecated call forms
def _same(old, new):
    assert old.history.equals(new.history) and old.events.equals(new.events)


@pytest.mark.parametrize("old, new", [
    (lambda: B.simulate("jsq", 3, 0.6, B.Bimodal(0.5, 1.5, 0.5), requests=300),
     lambda: B.simulate(3, policy="jsq", utilization=0.6, service=B.Bimodal(0.5, 1.5, 0.5),
                        requests=300)),
    (lambda: B.simulate("random", servers=[1, 2], requests=300),
     lambda: B.simulate(2, speeds=[1, 2], requests=300)),
    (lambda: B.simulate(policy="random", servers=3, requests=300),
     lambda: B.simulate(3, requests=300)),
    (lambda: B.simulate(2, hop=0.01, requests=300),
     lambda: B.simulate(2, network=sim.Network(latency=sim.Constant(0.01)), requests=300)),
    (lambda: B.simulate(2, until=50.0, requests=300),
     lambda: B.simulate(2, duration=50.0, requests=300)),
    (lambda: B.simulate(B.RoundRobin(), servers=2, requests=300),
     lambda: B.simulate(2, policy=B.RoundRobin(), requests=300)),
])
def test_old_call_forms_warn_and_give_the_same_run(old, new):
    with pytest.warns(DeprecationWarning, match="balance.simulate: .* is deprecated"):
        a = old()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        b = new()
    _same(a, b)


def test_one_warning_per_old_call_naming_every_old_form():
    with pytest.warns(DeprecationWarning) as record:
        B.simulate("random", servers=2, hop=0.0, until=100.0, requests=50)
    assert len(record) == 1
    text = str(record[0].message)
    for form in ("first positional", "servers=", "hop=", "until="):
        assert form in text


@pytest.mark.parametrize("call, exc, message", [
    (lambda: B.simulate(3, 0.5), TypeError, "takes one positional argument, n"),
    (lambda: B.simulate("random", 2, policy="jsq"), TypeError, "two values for 'policy'"),
    (lambda: B.simulate(3, servers=5), TypeError, "got n=3 and servers for 5 backends"),
    (lambda: B.simulate(hop=0.1, network=sim.Network()), TypeError,
     "got network= and hop=; give network only"),
    (lambda: B.simulate(until=5.0, duration=5.0), TypeError, "give duration only"),
    (lambda: B.simulate(until=-1), ValueError, "until must be > 0; got -1"),
    (lambda: B.simulate(hop=float("nan")), ValueError, "hop must be a number, not NaN"),
    (lambda: B.simulate(servers=[]), ValueError, "servers must be a count >= 1 or a non-empty"),
    (lambda: B.simulate(servers=[1.0, -2.0]), ValueError, "servers[1] must be > 0; got -2.0"),
    (lambda: B.simulate(servers="4"), TypeError, "servers must be a number of servers or a list"),
])
def test_old_forms_still_name_what_is_wrong(call, exc, message):
    import re
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(exc, match=re.escape(message)):
            call()


# ----------------------------------------------------------------- runs saved before
def _old_dialect(run):
    """The run as balance.simulate saved it before the family contract."""
    p = dict(run.params)
    old = {k: p[k] for k in ("policy", "rate", "d", "vnodes", "epsilon", "ring_seed",
                             "info_delay", "hop", "health_interval", "timeout")}
    old.update(servers=p["speeds"], utilization=p["utilization"], balancers=p["balancers"],
               service=p["workload"]["service"], service_mean=p["service_mean"],
               requests=p["workload"]["requests"], keys=p["workload"]["keys"],
               key_skew=p["workload"]["key_skew"])
    saved = sim.Run(history=run.history.drop(columns="t_end"), events=run.events,
                    messages=run.messages, faults=run.faults, params=old, seed=run.seed,
                    nodes=run.nodes)
    saved.history.loc[saved.history["t_start"].isna(), "t_enqueue"] = (
        saved.history["t_invoke"] + 2 * p["hop"])
    return saved


@pytest.mark.parametrize("policy", ["consistent_hash_bounded", "central_queue", "jsq"])
def test_runs_saved_in_the_old_dialect_check_and_measure_the_same(policy, tmp_path):
    run = B.simulate(4, policy=policy, network=sim.Network(latency=sim.Constant(0.0)),
                     key_skew=1.0, **{**SMALL, "utilization": 0.85})
    old = _old_dialect(run)
    old.save(tmp_path / "old")
    old = sim.load_run(tmp_path / "old")
    new_v, old_v = B.check(run), B.check(old)
    assert new_v.properties == old_v.properties and bool(new_v) and bool(old_v)
    assert new_v.info == old_v.info
    assert B.server_loads(old).round(9).equals(B.server_loads(run).round(9))
    assert B.waits(old).equals(B.waits(run))
