"""balance.check: every property holds on real runs, and each is caught when broken."""

import pytest

from dsalgo import balance as B
from dsalgo import sim
from dsalgo.balance import POLICIES


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_every_policy_passes_its_checks(policy):
    run = B.simulate(4, policy=policy, utilization=0.8, requests=1500, seed=7, key_skew=1.0)
    v = B.check(run)
    assert v, str(v)
    assert v.properties[:2] == ["causality", "fifo"]
    expected = {"consistent_hash_bounded": "bounded_load", "central_queue": "work_conserving"}
    if policy in expected:
        assert expected[policy] in v.properties


def test_checks_hold_with_hops_faults_and_several_balancers():
    run = B.simulate(4, policy="consistent_hash_bounded", utilization=0.7, requests=1500,
                     seed=3, balancers=2, network=sim.Network(latency=sim.Constant(0.01)),
                     info_delay=0.05, health_interval=1.0,
                     timeout=30.0, faults=[sim.Crash("n3", at=50.0), sim.Restart("n3", at=90.0)])
    v = B.check(run)
    assert v and v.properties == ["causality", "fifo"]
    assert "several balancers" in v.info["skipped"]["bounded_load"]
    assert v.info["answered"] < v.info["requests"]      # "sometimes": the crash lost requests


def test_bounded_load_sometimes_redirects_and_plain_hashing_would_break_the_cap():
    kw = {"n": 4, "utilization": 0.9, "requests": 2000, "seed": 2, "key_skew": 1.2}
    bounded = B.check(B.simulate(policy="consistent_hash_bounded", **kw))
    assert bounded.holds("bounded_load") and bounded.info["redirected"] > 50
    # relabel a plain consistent-hashing run as bounded: its hot backend exceeds the cap
    plain = B.simulate(policy="consistent_hash", **kw)
    plain.params = {**plain.params, "policy": "consistent_hash_bounded"}
    v = B.check(plain)
    assert not v.holds("bounded_load") and v.holds("fifo")


def test_fifo_violation_is_caught():
    run = B.simulate(2, policy="random", utilization=0.9, requests=400, seed=1)
    h = run.history
    waited = h[h["t_start"] > h["t_enqueue"]]
    a = waited.iloc[0]
    later = h[(h["backend"] == a["backend"]) & (h["t_enqueue"] > a["t_start"])].iloc[0]
    # swap the start times of a request and one that arrived after it on the same backend
    h.loc[a.name, "t_start"], h.loc[later.name, "t_start"] = later["t_start"], a["t_start"]
    v = B.check(run)
    assert not v.holds("fifo") and "fifo" in str(v)


def test_causality_violation_is_caught():
    run = B.simulate(2, policy="jsq", utilization=0.5, requests=200, seed=1)
    run.history.loc[10, "t_start"] = run.history.loc[10, "t_invoke"] - 1.0
    run.history.loc[20, "result"] = "n9"
    v = B.check(run)
    assert not v.holds("causality")
    assert (v.violations["property"] == "causality").sum() == 2


def test_work_conserving_violation_is_caught():
    run = B.simulate(3, policy="central_queue", utilization=0.3, requests=300, seed=1)
    h = run.history
    lone = h.index[(h["t_start"] == h["t_invoke"])][5]
    h.loc[lone, "t_start"] += 1e-3          # pretend it waited with idle backends about
    h.loc[lone, "t_enqueue"] += 1e-3
    v = B.check(run)
    assert not v.holds("work_conserving")


@pytest.mark.parametrize("run, exc, message", [
    ("run", TypeError, "run must be a Run from balance.simulate; got str"),
    (sim.Run(), ValueError, "run must come from balance.simulate"),
])
def test_bad_input(run, exc, message):
    with pytest.raises(exc, match=message):
        B.check(run)
