"""Mutual exclusion in fenced runs (``fenced_exclusion``), and the lock soak profiles with
clock drift and jumps, client-server partitions and critical sections longer than a lease."""

from collections import Counter

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsalgo import locks, sim
from dsalgo.soak import soak
from dsalgo.soak.locks import (
    jump_explained,
    redlock_drift_run,
    redlock_jump_run,
    zookeeper_drift_run,
)

SETTINGS = {"max_examples": 25, "deadline": None, "database": None, "derandomize": True}


def _run(rows, **params):
    cols = ["time", "node", "kind", "lock", "token", "znode", "path", "reason", "duration"]
    ev = pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)
    ev.insert(0, "seq", range(len(ev)))
    return sim.Run(events=ev, params={"family": "zookeeper", **params}, until=5.0)


def acq(t, c, tok):
    return (t, c, "acquire", "lock", tok, f"/lock/lock-{tok:010d}", None, None, None)


def test_overlaps_are_excused_by_a_pause_or_an_expiry_of_the_older_grant_only():
    deleted = (1.5, "n1", "znode_deleted", None, None, None, "/lock/lock-0000000001",
               "session_expired", None)
    released = (1.5, "n1", "znode_deleted", None, None, None, "/lock/lock-0000000001",
                "release", None)
    paused = (1.2, "c1", "pause", None, None, None, None, None, 1.0)
    for extra, excuse in [((deleted,), "lease_expired"), ((paused,), "pause"),
                          ((released,), None), ((), None)]:
        run = _run(sorted([acq(1.0, "c1", 1), acq(2.0, "c2", 2), *extra]))
        table = locks.overlaps(run)
        assert table[["older", "newer", "excuse"]].values.tolist() == [["c1", "c2", excuse]]
        v = locks.check(run)
        assert "fenced_exclusion" in v.properties and not v.holds("mutual_exclusion")
        assert v.holds("fenced_exclusion") == (excuse is not None), str(v)
        assert v.info["overlaps_excused"] == int(excuse is not None)
        assert v.info["overlaps_unexcused"] == int(excuse is None)
        assert "overlap(s) of beliefs" in v.info["fenced_exclusion"]
    # the pause of the *newer* holder excuses nothing
    late_pause = (2.1, "c2", "pause", None, None, None, None, None, 0.5)
    v = locks.check(_run([acq(1.0, "c1", 1), acq(2.0, "c2", 2), late_pause]))
    assert not v.holds("fenced_exclusion")
    # the older grant is the lower token: c2 woke from a pause into a stale grant (token 1)
    # whose lock node the service had deleted before c1 acquired with token 2
    stale = _run([(0.2, "c2", "pause", None, None, None, None, None, 1.9),
                  (0.9, "n1", "znode_deleted", None, None, None, "/lock/lock-0000000001",
                   "session_expired", None), acq(1.5, "c1", 2), acq(2.1, "c2", 1)])
    row = locks.overlaps(stale).iloc[0]
    assert (row["older"], row["newer"], row["t_start"]) == ("c2", "c1", 2.1)
    assert locks.check(stale).holds("fenced_exclusion")


def test_unfenced_runs_are_not_judged_for_fenced_exclusion():
    v = locks.check(locks.scenarios.redlock_pause())
    assert "fenced_exclusion" not in v.properties and not v.info["fenced"]
    assert v.info["overlaps_excused"] == v.info["overlaps"] > 0   # counted all the same
    v = locks.check(locks.scenarios.zookeeper_session_expiry(bugs={"no_fencing"}))
    assert "fenced_exclusion" not in v.properties
    v = locks.check(locks.scenarios.zookeeper_session_expiry())
    assert v.info["fenced"] and v.holds("fenced_exclusion") and not v.holds("mutual_exclusion")


def test_fenced_exclusion_holds_for_the_recipe_under_pauses_and_partitions():
    seen = Counter()

    @settings(**SETTINGS)
    @given(seed=st.integers(0, 2**31), pause=st.floats(0.6, 1.5))
    def prop(seed, pause):
        nemesis = sim.Nemesis(pause=1.5, partition=0.5,
                              mean_duration={"pause": pause, "partition": 0.5},
                              targets=["c1", "c2", "c3", "n2", "n3"], end=2.5)
        run = locks.zookeeper.simulate(clients=3, seed=seed, duration=4.0, faults=[nemesis],
                                       session_timeout=0.5)
        v = locks.check(run)
        assert v.holds("fenced_exclusion") and v.holds("storage_safety"), str(v)
        seen["excused"] += v.info["overlaps_excused"]

    prop()
    assert seen["excused"] > 0                        # it did happen


@pytest.mark.parametrize("name", ["locks-zookeeper-fencing", "locks-zookeeper-drift"])
def test_enter_on_watch_is_caught_by_fenced_exclusion(name):
    run = {"locks-zookeeper-drift": zookeeper_drift_run}.get(name)
    caught = 0
    for seed in range(12):
        if run is None:
            nemesis = sim.Nemesis(crash=0.5, pause=1.0,
                                  mean_duration={"crash": 0.5, "pause": 1.0},
                                  targets=["n2", "n3", "c1", "c2", "c3"], end=3.0)
            r = locks.zookeeper.simulate(clients=3, seed=seed + 30, duration=5.0,
                                         faults=[nemesis], session_timeout=0.5,
                                         bugs={"enter_on_watch"})
        else:
            r = run(seed, bugs={"enter_on_watch"})
        caught += not locks.check(r).holds("fenced_exclusion")
    assert caught > 0


@pytest.mark.parametrize("bug", ["no_drift_allowance", "no_elapsed_time"])
def test_redlock_validity_bugs_are_caught_under_drift_and_slow_servers(bug):
    caught = [s for s in range(12)
              if not locks.check(redlock_drift_run(s, bugs={bug})).holds("mutual_exclusion")]
    assert caught, bug


def test_new_lock_soak_profiles_pass_a_sample():
    for name, runs, happened in (
            ("locks-redlock-drift", 8, ["expired", "extended", "partition", "handover"]),
            ("locks-zookeeper-drift", 12, ["overlap_excused", "excused_by_expiry",
                                           "clock_jump", "partition", "expired"]),
            ("locks-redlock-jump", 15, ["broken_by_clock_jump", "lost_update"])):
        result = soak(name, runs=runs)
        assert result.passed == result.runs, result.report()
        assert all(result.runs_with[k] for k in happened), result.report()


def test_the_jump_soak_fails_an_overlap_no_jump_explains():
    paused = locks.scenarios.redlock_pause()
    unexplained, explained = jump_explained(paused)
    assert len(unexplained) == len(locks.overlaps(paused)) > 0 and explained == 0
    # the jump soak breaks mutual exclusion on some seeds only (a forward jump must
    # strike while a key is held); on every seed up to the first two that do, each
    # overlap is explained by a forward jump
    broken = []
    for seed in range(40):
        run = redlock_jump_run(seed)
        unexplained, explained = jump_explained(run)
        assert unexplained == [], seed
        assert explained == len(locks.overlaps(run))
        if not locks.check(run).holds("mutual_exclusion"):
            assert explained >= 1
            broken.append(seed)
            if len(broken) == 2:
                break
    assert len(broken) == 2, broken
