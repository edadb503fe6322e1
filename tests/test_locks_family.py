"""RedLock and the ZooKeeper lock as families: the contract, the knobs, the planted bugs."""

import warnings

import pytest

from dsalgo import locks, sim
from dsalgo.families import FAMILIES, check_contract
from dsalgo.locks import redlock, zookeeper

FIVE_MS = sim.Network(latency=sim.Constant(0.005))


@pytest.mark.parametrize("name", ["redlock", "zookeeper"])
def test_each_lock_family_meets_the_contract(name):
    family = FAMILIES[name]
    assert check_contract(family) == []
    assert family.check is locks.check
    assert family.Config(bugs=list(family.BUGS)).bugs == set(family.BUGS)
    assert all("\n" not in text and text.endswith(".") for text in family.BUGS.values())
    assert all(callable(f) for f in family.SCENARIOS.values())
    assert set(family.SCENARIOS) <= set(locks.scenarios.SCENARIOS)


def test_every_scenario_is_listed_by_exactly_one_family():
    listed = list(redlock.SCENARIOS) + list(zookeeper.SCENARIOS)
    assert sorted(listed) == sorted(locks.scenarios.SCENARIOS)


@pytest.mark.parametrize("family, n", [(redlock, 5), (zookeeper, 3)])
def test_run_params_record_the_family_its_knobs_and_the_workload(family, n):
    run = family.simulate(seed=1, duration=0.3, clients=3, think=(0.0, 0.1))
    p = run.params
    assert p["family"] == family.__name__.rsplit(".", 1)[1] and p["n"] == n
    assert "algorithm" not in p and p["duration"] == 0.3
    assert p["workload"] == {"clients": 3, "starts": None}
    assert p["think"] == [0.0, 0.1] and p["bugs"] == []
    config = family.Config.from_params(p)
    assert config == family.Config(think=(0.0, 0.1))
    nodes = set(run.messages["src"].astype(str))
    assert nodes == {f"n{i}" for i in range(1, n + 1)} | {"storage", "c1", "c2", "c3"}


def test_a_knob_of_neither_config_is_refused_by_name():
    with pytest.raises(TypeError, match=r"unknown parameter 'tll'; accepted: "):
        redlock.simulate(tll=2.0)
    with pytest.raises(TypeError, match=r"unknown parameter 'ttl'"):
        zookeeper.simulate(ttl=2.0)
    with pytest.raises(ValueError, match=r"bugs item must be one of 'no_fencing', 'herd'"):
        zookeeper.simulate(bugs={"no_drift_allowance"})
    with pytest.raises(ValueError, match=r"starts must give one start time per client"):
        redlock.simulate(clients=3, starts=[0.0, 0.1])


@pytest.mark.parametrize("family", [redlock, zookeeper])
def test_record_messages_false_keeps_the_other_tables_identical(family):
    full = family.simulate(seed=2, duration=0.5, clients=3)
    lean = family.simulate(seed=2, duration=0.5, clients=3, record_messages=False)
    assert len(full.messages) > 0 and len(lean.messages) == 0
    for t in ("events", "history", "faults"):
        assert getattr(full, t).equals(getattr(lean, t)), t
    if family is zookeeper:
        with pytest.raises(ValueError, match="record_messages=True"):
            locks.herd(lean)


# ------------------------------------------------------------ deprecated keywords
@pytest.mark.parametrize("old, bugs", [({"fencing": False}, {"no_fencing"}),
                                       ({"recipe": "naive"}, {"herd"}),
                                       ({"fencing": True, "recipe": "recipe"}, set())])
def test_old_zookeeper_keywords_warn_and_map_onto_bugs(old, bugs):
    kw = {"clients": 3, "seed": 1, "duration": 0.5}
    with pytest.warns(DeprecationWarning, match=r"zookeeper.simulate\((fencing|recipe)=") as w:
        run = zookeeper.simulate(**old, **kw)
    assert all(r.filename == __file__ for r in w)  # the warning points at the caller
    assert set(run.params["bugs"]) == bugs
    new = zookeeper.simulate(bugs=bugs, **kw)
    assert run.events.equals(new.events) and run.messages.equals(new.messages)


def test_old_keyword_contradicting_bugs_is_refused():
    with pytest.raises(ValueError, match=r"fencing=True contradicts bugs=\['no_fencing'\]"), \
            pytest.warns(DeprecationWarning):
        zookeeper.simulate(fencing=True, bugs={"no_fencing"})


def test_zookeeper_scenarios_take_bugs_and_still_the_old_fencing_keyword():
    for scenario in zookeeper.SCENARIOS.values():
        with pytest.warns(DeprecationWarning, match=r"\(fencing=\.\.\.\) is deprecated"):
            old = scenario(fencing=False)
        new = scenario(bugs={"no_fencing"})
        assert old.events.equals(new.events)
        assert not locks.check(new).holds("storage_safety")
        with pytest.raises(TypeError, match="unexpected keyword argument 'fencin'"):
            scenario(fencin=False)


def test_new_call_forms_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zookeeper.simulate(seed=1, duration=0.3, bugs={"herd"})
        redlock.simulate(seed=1, duration=0.3, bugs=["no_elapsed_time"])
        locks.scenarios.zookeeper_write_delay(bugs={"no_fencing"})


# ------------------------------------------------------------ planted bugs are caught
def test_no_drift_allowance_breaks_mutual_exclusion_for_a_clock_within_the_allowance():
    # c1's clock runs 0.5 % slow, half the allowance (1 % of the TTL + 2 ms): its validity,
    # stretched in real time, outlasts the servers' keys only without the allowance, and c2
    # (retrying at once) is granted the expired keys while c1 still believes it holds them.
    kw = dict(n=3, clients=2, ttl=5.0, critical_section=6.0, retry_delay=0.0,
              starts=[0.0, 0.02], network=FIVE_MS, duration=6.0, record_messages=False,
              faults=[sim.ClockDrift("c1", rate=-0.005)])
    assert locks.check(redlock.simulate(**kw))
    v = locks.check(redlock.simulate(bugs={"no_drift_allowance"}, **kw))
    assert list(v.violations["property"]) == ["mutual_exclusion"]
    assert v.violations.loc[0, "nodes"] == ("c1", "c2")


def test_no_elapsed_time_breaks_mutual_exclusion_after_a_slow_acquisition():
    # c1's links to n2 and n3 take 200 ms each way: it gets its majority after 400 ms, when
    # n1's key has 600 ms left.  Counting the validity from the answer instead of from
    # before the first SET, c1 believes it holds the lock until 1.388 s; the keys expire at
    # 1.005 s and 1.2 s and c2 is granted them at 1.22 s.
    net = sim.Network(latency=sim.Constant(0.005))
    for server in ("n2", "n3"):
        net.set_link("c1", server, latency=0.2)
    kw = dict(n=3, clients=2, ttl=1.0, server_timeout=0.5, critical_section=1.5,
              starts=[0.0, 0.5], network=net, duration=3.0)
    assert locks.check(redlock.simulate(**kw))
    v = locks.check(redlock.simulate(bugs={"no_elapsed_time"}, **kw))
    assert list(v.violations["property"]) == ["mutual_exclusion"]
    row = v.violations.iloc[0]
    assert row["nodes"] == ("c1", "c2") and row["t_end"] == pytest.approx(1.388)


def test_unconditional_release_frees_the_holders_lock_at_every_seed():
    # a refused attempt unlocks every server (step 4): with a plain DEL it deletes the
    # holder's keys, and the next attempt is granted them while the holder works
    for seed in range(4):
        kw = dict(n=3, clients=2, seed=seed, duration=1.0)
        assert locks.check(redlock.simulate(**kw))
        v = locks.check(redlock.simulate(bugs={"unconditional_release"}, **kw))
        assert not v.holds("mutual_exclusion")


def test_no_fencing_loses_the_update_fencing_would_have_rejected():
    for scenario in zookeeper.SCENARIOS.values():
        fenced = locks.check(scenario())
        assert fenced.holds("storage_safety") and fenced.info["writes_rejected"] == 1
        unfenced = locks.check(scenario(bugs={"no_fencing"}))
        assert not unfenced.holds("storage_safety") and unfenced.info["writes_rejected"] == 0


def test_herd_wakes_every_waiter_but_stays_safe():
    kw = dict(clients=4, seed=1, duration=1.0)
    recipe, naive = zookeeper.simulate(**kw), zookeeper.simulate(bugs={"herd"}, **kw)
    assert locks.check(recipe) and locks.check(naive)
    assert locks.herd(recipe)["notifications"].max() == 1
    assert locks.herd(naive)["notifications"].mean() > 2


def test_redlock_scenarios_take_bugs():
    v = locks.check(locks.scenarios.redlock_pause(0.0, bugs={"unconditional_release"}))
    assert not v.holds("mutual_exclusion")
    assert locks.scenarios.redlock_pause(0.0).params["bugs"] == []


# ------------------------------------------------------------ saved runs of before
def test_checker_accepts_a_run_saved_with_the_old_params(tmp_path):
    run = redlock.simulate(n=3, clients=2, seed=1, duration=1.0, think=0.1)
    run.params = {"algorithm": "redlock", "n": 3, "clients": 2, "think": [0.1, 0.1],
                  "ttl": 1.0}
    run.events = run.events[run.events["kind"] != "request"].reset_index(drop=True)
    loaded = sim.load_run(run.save(tmp_path / "old"))
    assert locks.check(loaded)
    w = locks.acquisition_waits(loaded)
    assert (w["wait"] >= 0).all() and len(w) > 3
