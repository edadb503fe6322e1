"""Whole-run properties of the locks over many seeds, each paired with "it did happen"."""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from dsalgo import locks, sim
from dsalgo.soak import soak

SETTINGS = {"max_examples": 15, "deadline": None, "database": None, "derandomize": True}


def test_redlock_mutual_exclusion_without_faults():
    seen = Counter()

    @settings(**SETTINGS)
    @given(seed=st.integers(0, 2**31), n=st.sampled_from([1, 3, 5]),
           clients=st.integers(2, 4), drift_factor=st.sampled_from([0.0, 0.01, 0.1]),
           fifo=st.booleans())
    def prop(seed, n, clients, drift_factor, fifo):
        run = locks.redlock.simulate(n=n, clients=clients, drift_factor=drift_factor,
                                     seed=seed, duration=1.0,
                                     network=sim.Network(fifo=fifo))
        v = locks.check(run)
        assert v, str(v)
        seen["contended"] += v.info["contended"] > 0
        seen["handover"] += v.info["handovers"] > 0

    prop()
    assert seen["contended"] > 0 and seen["handover"] > 0


def test_zookeeper_mutual_exclusion_without_faults():
    seen = Counter()

    @settings(**SETTINGS)
    @given(seed=st.integers(0, 2**31), n=st.sampled_from([1, 3, 5]),
           clients=st.integers(2, 5), bugs=st.sampled_from([(), ("herd",)]),
           drop_rate=st.sampled_from([0.0, 0.02]))
    def prop(seed, n, clients, bugs, drop_rate):
        run = locks.zookeeper.simulate(n=n, clients=clients, bugs=bugs, seed=seed,
                                       duration=1.5, network=sim.Network(drop_rate=drop_rate))
        v = locks.check(run)
        assert v, str(v)
        seen["contended"] += v.info["contended"] > 0
        seen["handover"] += v.info["handovers"] > 0
        seen["session_lost"] += (run.events["kind"] == "session_lost").any()

    prop()
    assert seen["contended"] > 0 and seen["handover"] > 0 and seen["session_lost"] > 0


def test_zookeeper_survives_crashes_of_clients_and_followers():
    seen = Counter()

    @settings(**SETTINGS)
    @given(seed=st.integers(0, 2**31))
    def prop(seed):
        nemesis = sim.Nemesis(crash=1.5, mean_duration=0.4,
                              targets=["n2", "n3", "c1", "c2", "c3"], end=2.0)
        run = locks.zookeeper.simulate(n=3, clients=3, seed=seed, duration=3.0,
                                       faults=[nemesis], session_timeout=0.5)
        v = locks.check(run)
        assert v, str(v)
        ev = run.events["kind"].astype(str)
        seen["session_expired"] += (ev == "session_expired").any()
        seen["handover"] += v.info["handovers"] > 0

    prop()
    assert seen["session_expired"] > 0 and seen["handover"] > 0


def test_zookeeper_stalls_without_a_quorum_and_recovers_with_one():
    faults = [sim.Crash("n2", at=1.0), sim.Crash("n3", at=1.0),
              sim.Restart("n2", at=2.0), sim.Restart("n3", at=2.2)]
    run = locks.zookeeper.simulate(n=3, clients=3, seed=1, duration=4.0, faults=faults)
    assert locks.check(run)
    iv = locks.holding_intervals(run)
    # no new holder while only the leader is up (a write needs 2 of 3), then progress again
    assert not ((iv["t_acquire"] > 1.1) & (iv["t_acquire"] < 2.0)).any()
    assert (iv["t_acquire"] > 2.0).sum() > 3


def test_fencing_keeps_storage_safe_under_pauses_that_break_mutual_exclusion():
    seen = Counter()

    @settings(**SETTINGS)
    @given(seed=st.integers(0, 2**31), pause=st.floats(0.6, 2.0))
    def prop(seed, pause):
        faults = [sim.Pause(c, at=0.3 + 0.4 * i, duration=pause)
                  for i, c in enumerate(["c1", "c2", "c3"])]
        run = locks.zookeeper.simulate(clients=3, seed=seed, duration=4.0, faults=faults,
                                       session_timeout=0.5, critical_section=0.1)
        v = locks.check(run)
        assert v.holds("storage_safety"), str(v)
        seen["mutual_exclusion_broken"] += not v.holds("mutual_exclusion")
        seen["write_rejected"] += v.info["writes_rejected"] > 0

    prop()
    assert seen["mutual_exclusion_broken"] > 0 and seen["write_rejected"] > 0


def test_redlock_extension_keeps_long_critical_sections_exclusive():
    seen = Counter()
    for seed in range(5):
        kw = {"n": 5, "clients": 3, "ttl": 0.3, "critical_section": 0.8, "seed": seed, "duration": 3.0}
        v = locks.check(locks.redlock.simulate(extend=True, **kw))
        assert v, str(v)
        seen["written"] += v.info["writes_accepted"] > 0
        # without extension the same sections outlast every validity: nothing is written
        seen["unextended_written"] += locks.check(
            locks.redlock.simulate(**kw)).info["writes_accepted"]
        # extension does not help a paused holder
        paused = locks.redlock.simulate(extend=True, faults=[sim.Pause("c1", at=0.2,
                                                                       duration=1.0)], **kw)
        seen["paused_broken"] += not locks.check(paused).holds("mutual_exclusion")
    assert seen["written"] == 5 and seen["unextended_written"] == 0
    assert seen["paused_broken"] > 0


def test_redlock_with_fsync_survives_server_crashes_and_without_it_does_not():
    broken = Counter()
    servers = [f"n{i}" for i in range(1, 6)]
    for seed in range(6):
        nemesis = sim.Nemesis(crash=4.0, mean_duration=0.05, targets=servers, end=2.0)
        kw = {"n": 5, "clients": 3, "seed": seed, "duration": 2.0, "faults": [nemesis],
                  "critical_section": 0.6}
        assert locks.check(locks.redlock.simulate(persistence="fsync", **kw))
        # the Redis docs' delayed restart: stay down for longer than the TTL
        assert locks.check(locks.redlock.simulate(restart_delay=1.1, **kw))
        broken["none"] += not locks.check(locks.redlock.simulate(persistence="none", **kw))
    assert broken["none"] > 0


def test_redlock_drift_allowance_covers_slow_clients_within_it():
    seen = Counter()
    for seed in range(6):
        # a client clock 1 % slow is within drift_factor=0.01 ...
        ok = locks.redlock.simulate(n=3, clients=2, seed=seed, duration=3.0, ttl=0.5,
                                    critical_section=2.0,
                                    faults=[sim.ClockDrift("c1", rate=-0.01),
                                            sim.ClockDrift("c2", rate=-0.01)])
        assert locks.check(ok)
        # ... a clock 10 % slow is not
        bad = locks.redlock.simulate(n=3, clients=2, seed=seed, duration=3.0, ttl=0.5,
                                     critical_section=2.0,
                                     faults=[sim.ClockDrift("c1", rate=-0.1),
                                             sim.ClockDrift("c2", rate=-0.1)])
        seen["broken"] += not locks.check(bad).holds("mutual_exclusion")
    assert seen["broken"] > 0


def test_a_slow_clock_must_be_well_beyond_the_drift_allowance_to_break_redlock():
    # The widget's docstring claim: 3 % slow (three times the 1 % allowance) still keeps
    # mutual exclusion in its scenario; 10 % slow breaks it.
    def holds(drift):
        run = locks.scenarios.redlock_pause(0.0, ttl=1.0, drift=drift, critical_section=3.0)
        return locks.check(run).holds("mutual_exclusion")

    assert holds(-0.03) and not holds(-0.10)


def test_same_seed_same_tables():
    for make in (lambda s: locks.redlock.simulate(clients=3, seed=s, duration=1.0),
                 lambda s: locks.zookeeper.simulate(clients=3, seed=s, duration=1.0),
                 lambda s: locks.scenarios.redlock_pause(seed=s)):
        a, b, c = make(5), make(5), make(6)
        for t in ("messages", "events", "history", "faults"):
            assert getattr(a, t).equals(getattr(b, t)), t
        assert not a.messages.equals(c.messages)


def test_history_has_one_incr_per_critical_section():
    run = locks.zookeeper.simulate(clients=3, seed=1, duration=1.0)
    h, v = run.history, locks.check(run)
    assert set(h["f"]) == {"incr"} and (h["status"] == "ok").sum() == v.info["writes_accepted"]
    ok = h[h["status"] == "ok"].sort_values("t_complete")
    assert ok["result"].tolist() == list(range(1, len(ok) + 1))  # no update lost


def test_scenarios_show_what_breaks_and_what_fencing_prevents():
    sc = locks.scenarios
    v = locks.check(sc.redlock_pause())
    assert not v.holds("mutual_exclusion") and not v.holds("storage_safety")
    first = v.violations.iloc[0]
    assert first["nodes"] == ("c1", "c2") and first["t_end"] > first["t_start"]
    v = locks.check(sc.redlock_clock_jump())
    assert not v.holds("mutual_exclusion") and v.violations.iloc[0]["nodes"] == ("c1", "c2")
    v = locks.check(sc.redlock_write_delay())
    assert v.holds("mutual_exclusion") and not v.holds("storage_safety")
    for scenario in (sc.zookeeper_session_expiry, sc.zookeeper_write_delay):
        fenced, open_ = locks.check(scenario()), locks.check(scenario(bugs={"no_fencing"}))
        assert fenced.holds("storage_safety") and fenced.info["writes_rejected"] == 1
        assert not open_.holds("storage_safety")
    assert not locks.check(sc.zookeeper_session_expiry()).holds("mutual_exclusion")


def test_soak_samples_pass():
    for name in ("locks-redlock", "locks-redlock-crash", "locks-zookeeper",
                 "locks-zookeeper-fencing"):
        result = soak(name, runs=6)
        assert result.passed == result.runs, result.report()
        if name in ("locks-redlock", "locks-zookeeper"):
            assert result.ok, result.report()   # contended and handed over, too
