"""The lock checker: exact answers on hand-made tables, and it catches broken locks."""

import math

import pandas as pd
import pytest

from dsalgo import locks, sim
from dsalgo.locks import redlock, zookeeper
from dsalgo.locks.storage import StorageServer
from dsalgo.locks.zookeeper import LockRecipeClient


def run_of(rows):
    """A Run whose events are ``rows`` of (time, node, kind, fields)."""
    recs = [dict(seq=i, time=t, node=n, kind=k, **f) for i, (t, n, k, f) in enumerate(rows)]
    return sim.Run(events=pd.DataFrame(recs), until=10.0)


def acq(t, c, token=None):
    return (t, c, "acquire", {"lock": "L", "token": token})


def end(t, c, kind="release"):
    return (t, c, kind, {"lock": "L"})


def write(t, c, token, rv, accepted=True):
    return (t, "storage", "write", {"client": c, "key": "L", "token": token,
                                    "accepted": accepted, "read_version": rv})


def test_disjoint_and_touching_beliefs_are_mutually_exclusive():
    v = locks.check(run_of([acq(1, "c1"), end(2, "c1"), acq(2, "c2"), end(3, "c2", "expire"),
                            acq(3.5, "c1"), (4, "c1", "crash", {}), acq(4, "c2")]))
    assert v and v.info["acquisitions"] == 4 and v.info["handovers"] == 3


def test_overlap_is_reported_with_interval_and_both_clients():
    v = locks.check(run_of([acq(1, "c1"), acq(1.5, "c2"), end(2, "c1"), end(3, "c2")]))
    assert not v.holds("mutual_exclusion") and v.holds("storage_safety")
    row = v.violations.iloc[0]
    assert row["nodes"] == ("c1", "c2")
    assert (row["time"], row["t_start"], row["t_end"]) == (1.5, 1.5, 2.0)
    assert "c1 believed it held 'L' from 1s to 2s" in row["detail"]


def test_a_belief_open_at_the_end_of_the_run_lasts_to_the_end():
    v = locks.check(run_of([acq(1, "c1"), acq(5, "c2"), end(6, "c2")]))
    assert len(v.violations) == 1 and v.violations.loc[0, "t_end"] == 6.0
    iv = locks.holding_intervals(run_of([acq(1, "c1")]))
    assert iv.loc[0, "end"] == "open" and math.isnan(iv.loc[0, "t_end"])


def test_crash_ends_a_belief_and_server_events_are_ignored():
    v = locks.check(run_of([acq(1, "c1"), (1.2, "n1", "crash", {}), (1.5, "c1", "crash", {}),
                            acq(1.6, "c2")]))
    assert v


def test_stale_token_write_is_a_storage_violation():
    v = locks.check(run_of([write(1, "c2", 34, 0), write(2, "c1", 33, 1)]))
    assert not v.holds("storage_safety")
    assert "token 33 after c2's write with newer token 34" in v.violations.loc[0, "detail"]


def test_rejected_stale_write_is_fine():
    v = locks.check(run_of([write(1, "c2", 34, 0), write(2, "c1", 33, 0, accepted=False)]))
    assert v and v.info["writes_rejected"] == 1


def test_lost_update_is_a_storage_violation_naming_the_overwritten_writer():
    v = locks.check(run_of([write(1, "c1", None, 0), write(2, "c2", None, 0)]))
    assert not v.holds("storage_safety")
    assert v.violations.loc[0, "nodes"] == ("c2", "c1")
    assert "computed from version 0 but version 1" in v.violations.loc[0, "detail"]


def test_empty_run_holds_and_non_runs_are_refused():
    assert locks.check(sim.Run())
    with pytest.raises(TypeError, match="run must be a dsalgo.sim.Run"):
        locks.check("run")


def test_check_works_on_a_saved_and_loaded_run(tmp_path):
    run = locks.scenarios.redlock_clock_jump()
    loaded = sim.load_run(run.save(tmp_path / "r"))
    a, b = locks.check(run), locks.check(loaded)
    assert not a and a.violations[["property", "time", "detail"]].equals(
        b.violations[["property", "time", "detail"]])


# ------------------------------------------------------------ broken variants are caught
def test_catches_redlock_that_settles_for_one_server(monkeypatch):
    monkeypatch.setattr(redlock, "majority", lambda n: 1)
    caught = sum(not locks.check(redlock.simulate(n=5, clients=3, seed=s, duration=1.0))
                 for s in range(5))
    assert caught >= 1


def test_catches_recipe_off_by_one(monkeypatch):
    class OffByOne(LockRecipeClient):
        """Broken: also takes the lock when its znode is the second lowest."""

        def _children(self, ctx, children):
            mine = self.my_node.rsplit("/", 1)[1]
            if mine in children and sorted(children).index(mine) == 1:
                self.state = "hold"
                self.enter(ctx, int(mine[-10:]))
            else:
                super()._children(ctx, children)

    monkeypatch.setattr(zookeeper, "LockRecipeClient", OffByOne)
    caught = sum(not locks.check(zookeeper.simulate(clients=3, seed=s, duration=1.0))
                 for s in range(3))
    assert caught >= 1


def test_catches_storage_that_does_not_fence(monkeypatch):
    assert locks.check(locks.scenarios.zookeeper_session_expiry()).holds("storage_safety")
    monkeypatch.setattr(StorageServer, "_fenced", lambda self, key, token: False)
    v = locks.check(locks.scenarios.zookeeper_session_expiry())
    assert not v.holds("storage_safety")
    assert v.violations["detail"].str.contains("older|newer token").any()


def test_catches_a_client_that_ignores_its_validity(monkeypatch):
    class Oblivious(redlock.RedLockClient):
        """Broken: never looks at its validity, holds the lock until it is done."""

        def on_timer(self, ctx, name):
            if name != "validity":
                super().on_timer(ctx, name)

    run = redlock.simulate(n=3, clients=2, seed=0, duration=3.0, critical_section=1.0,
                           ttl=0.5)
    assert locks.check(run)   # the real client gives up in time (its write is abandoned)
    monkeypatch.setattr(redlock, "RedLockClient", Oblivious)
    run = redlock.simulate(n=3, clients=2, seed=0, duration=3.0, critical_section=1.0,
                           ttl=0.5)
    assert not locks.check(run).holds("mutual_exclusion")


# ------------------------------------------------------------ herd effect
def test_recipe_wakes_one_waiter_per_release_naive_wakes_them_all():
    kw = {"clients": 5, "seed": 3, "duration": 1.5}
    recipe = locks.herd(zookeeper.simulate(**kw))
    naive = locks.herd(zookeeper.simulate(bugs={"herd"}, **kw))
    assert (recipe["waiters"] == 4).all() and (naive["waiters"] == 4).all()
    assert len(recipe) > 5 and len(naive) > 5
    assert (recipe["notifications"] == 1).all()
    assert (naive["notifications"] > 1).any()
    assert naive["notifications"].mean() > recipe["notifications"].mean()
    assert naive["messages"].mean() > recipe["messages"].mean()


def test_herd_and_intervals_work_on_a_loaded_run(tmp_path):
    run = zookeeper.simulate(clients=3, bugs={"herd"}, seed=2, duration=0.6)
    loaded = sim.load_run(run.save(tmp_path / "zk"))
    assert locks.herd(loaded).equals(locks.herd(run))
    assert locks.holding_intervals(loaded).equals(locks.holding_intervals(run))
    assert locks.acquisition_waits(loaded).equals(locks.acquisition_waits(run))


# ------------------------------------------------------------ acquisition waits
def test_acquisition_waits_start_at_the_request_not_at_an_estimate():
    # A think range used to be replaced by its mean: a short draw gave negative waits.
    for make in (zookeeper.simulate, lambda **kw: redlock.simulate(n=3, **kw)):
        w = locks.acquisition_waits(make(clients=1, think=(0.0, 0.2), duration=2.0, seed=1))
        assert len(w) > 5 and (w["wait"] > 0).all()
    # A crashed client's downtime is not waiting: it wants the lock again from its restart.
    run = redlock.simulate(n=3, clients=1, duration=3.0, seed=1,
                           faults=[sim.Crash("c1", at=0.5), sim.Restart("c1", at=1.5)])
    w = locks.acquisition_waits(run)
    assert w["wait"].max() < 0.5 and 1.5 in set(w["t_request"])


def test_acquisition_waits_fall_back_to_belief_ends_without_request_events():
    run = redlock.simulate(n=3, clients=2, duration=1.0, seed=2)
    run.events = run.events[run.events["kind"] != "request"].reset_index(drop=True)
    w = locks.acquisition_waits(run)
    assert w.loc[0, "t_request"] == 0.0 and (w["wait"] >= 0).all()
