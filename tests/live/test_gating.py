"""The deterministic findings on real servers (part of make test; under 3 minutes in all).

- Redis and etcd with no fault: the key-value/cas history is linearizable;
- Redis without persistence, killed -9 between a put and a get: the acknowledged put is
  lost (not linearizable); with ``appendfsync always`` it survives;
- a lock holder paused past its TTL (RedLock) or session timeout (ZooKeeper): both
  clients believe they hold the lock; without fencing an update is lost, with the
  ZooKeeper lock's fencing token the store refuses the stale write.
"""

import math

import pytest
from conftest import need

from dsalgo import check, live, locks, sim

LIN = "linearizability"


def test_redis_without_faults_is_linearizable(tmp_path):
    need("redis")
    with live.redis() as c:
        run = live.kv_workload(c, clients=4, ops=400, seed=1, time_limit=20)
    assert len(run.history) == 400
    assert set(run.history["status"]) <= {"ok", "fail"}
    assert check.linearizable(run.history, run.params["model"]).holds(LIN)
    again = sim.load_run(run.save(tmp_path / "run"))
    assert again == run and again.params["system"] == "redis"


def test_etcd_without_faults_is_linearizable():
    need("etcd")
    with live.etcd(n=3) as c:
        run = live.kv_workload(c, clients=4, ops=300, seed=2, time_limit=30)
    h = run.history
    assert (h["status"] == "ok").sum() > 250
    assert set(h["process"]) == {"c1", "c2", "c3", "c4"}
    assert check.linearizable(h, "kv").holds(LIN)


@pytest.mark.parametrize("appendfsync,survives", [(None, False), ("always", True)])
def test_redis_killed_between_a_put_and_a_get(appendfsync, survives):
    need("redis")
    with live.redis(appendfsync=appendfsync) as c:
        run = live.put_crash_get(c, value=17)
    h = run.history
    assert h["f"].tolist() == ["put", "get"] and h["status"].tolist() == ["ok", "ok"]
    assert h["result"].iloc[1] == (17 if survives else None)
    assert run.faults["kind"].tolist() == ["crash"]
    assert h["t_invoke"].iloc[1] > run.faults["t_end"].iloc[0]
    verdict = check.linearizable(h, "kv")
    assert verdict.holds(LIN) is survives


def test_redlock_holder_paused_past_its_ttl():
    need("redis")
    with live.redis(n=3) as c:
        run = live.lock_pause(c, ttl=0.5)
    v = locks.check(run)
    assert not v.holds("mutual_exclusion")
    assert not v.holds("storage_safety")      # RedLock has no token: the update is lost
    assert v.info["writes_accepted"] == 2 and v.info["writes_rejected"] == 0
    pause = run.faults.iloc[0]
    assert pause["kind"] == "pause" and pause["t_end"] - pause["t_start"] >= 1.0
    with live.redis(n=3) as c, pytest.raises(ValueError, match="RedLock grants none"):
        live.lock_pause(c, fencing=True)


@pytest.mark.parametrize("fencing", [True, False])
def test_zookeeper_lock_holder_paused_past_its_session_timeout(fencing):
    need("zookeeper")
    with live.zookeeper(n=3) as c:
        run = live.lock_pause(c, session_timeout=1.0, fencing=fencing)
    v = locks.check(run)
    assert not v.holds("mutual_exclusion")    # c1 still believes while c2 holds
    assert v.holds("storage_safety") is fencing
    assert v.info["writes_rejected"] == (1 if fencing else 0)
    assert "expire" in set(run.events["kind"].astype(str))   # c1 learnt it, afterwards
    iv = locks.holding_intervals(run)
    c2 = iv[iv["client"] == "c2"].iloc[0]
    assert c2["t_acquire"] > run.faults["t_start"].iloc[0] + 0.9 and not math.isnan(
        c2["t_end"])
