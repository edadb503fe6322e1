"""Probabilistic findings on real servers (``make live`` only: they may or may not show in
one run, so these tests assert what must hold and print what they saw).

Marked ``probabilistic``: ``make test`` deselects them; ``make live`` runs them with ``-s``.
"""

import numpy as np
import pytest
from conftest import need

from dsalgo import check, live, locks, raft, sim

pytestmark = pytest.mark.probabilistic
LIN = "linearizability"


def _say(title, run):
    v = check.linearizable(run.history, "kv")
    s = run.summary()
    print(f"\n{title}: {s['operations']} ops (ok {s['ops_ok']}, fail {s['ops_fail']}, "
          f"info {s['ops_info']}), faults {run.faults['kind'].tolist()}: "
          f"{'linearizable' if v.holds(LIN) else 'NOT linearizable: ' + str(v)[:300]}")
    return v


@pytest.mark.parametrize("reads", ["linearizable", "serializable"])
def test_etcd_reads_with_a_follower_killed_and_restarted(reads):
    """A restarted follower answers serializable reads from its old state until it catches
    up; linearizable reads go through the leader and stay linearizable."""
    need("etcd")
    with live.etcd(n=3) as c:
        run = live.kv_workload(c, clients=6, ops=1500, reads=reads, seed=3, time_limit=25, rate=100,
                               timeout=1.0, mix=(0.7, 0.2, 0.1),
                               nemesis=[live.Kill("follower", at=0.3, restart_after=0.5),
                                        live.Kill("follower", at=2.0, restart_after=0.5)])
    v = _say(f"etcd {reads} reads, follower kill -9 and restart", run)
    assert len(run.faults) == 2
    if reads == "linearizable":
        assert v.holds(LIN)


@pytest.mark.parametrize("reads", ["sync", "plain"])
def test_zookeeper_reads_with_a_follower_paused(reads):
    need("zookeeper")
    with live.zookeeper(n=3) as c:
        run = live.kv_workload(c, clients=6, ops=1500, reads=reads, seed=4, time_limit=25, rate=100,
                               timeout=1.0, mix=(0.7, 0.2, 0.1),
                               nemesis=[live.Pause("follower", at=0.3, duration=1.0)])
    v = _say(f"ZooKeeper {reads} reads, follower paused 1 s", run)
    if reads == "sync":
        assert v.holds(LIN)


def test_etcd_leader_killed_during_linearizable_work():
    need("etcd")
    with live.etcd(n=3) as c:
        run = live.kv_workload(c, clients=4, ops=800, seed=5, time_limit=25, rate=100,
                               nemesis=[live.Kill("leader", at=0.5, restart_after=1.0)])
    assert _say("etcd, leader kill -9 and restart", run).holds(LIN)
    assert run.faults["kind"].tolist() == ["crash"]


def test_etcd_failover_against_the_raft_model():
    need("etcd")
    with live.etcd(n=3, heartbeat_interval=0.1, election_timeout=1.0) as c:
        real = live.failover_trials(c, 6, seed=1)
    model = raft.failover_trials(200, n=3, election_timeout=(1.0, 2.0),
                                 heartbeat_interval=0.1, ineligible=0, seed=1)
    assert list(real.columns) == list(model.columns)
    assert real["converged"].all()
    assert (real["downtime"] >= 1.0 - 0.1).all()   # no election before the timeout
    print(f"\netcd failover downtime (s): real median {real['downtime'].median():.3f} "
          f"[{real['downtime'].min():.3f}, {real['downtime'].max():.3f}], elections "
          f"{real['elections'].tolist()}; model median {model['downtime'].median():.3f} "
          f"[{model['downtime'].min():.3f}, {model['downtime'].max():.3f}]")


def test_real_latencies_feed_the_simulator():
    need("etcd")
    with live.etcd(n=3) as c:
        run = live.kv_workload(c, clients=3, ops=300, seed=6)
    lat = live.latencies(run)
    emp = live.empirical(run, "put")
    assert len(emp.samples) == (lat["f"] == "put").sum()
    assert np.isclose(2 * emp.mean, lat.loc[lat["f"] == "put", "latency"].mean())
    model = raft.failover_trials(50, n=3, election_timeout=(1.0, 2.0),
                                 heartbeat_interval=0.1, ineligible=0, seed=2,
                                 network=sim.Network(latency=emp))
    assert model["converged"].all()
    print(f"\netcd put latency: median {lat.loc[lat['f'] == 'put', 'latency'].median()*1e3:.2f}"
          f" ms; simulated failover with it: median {model['downtime'].median():.3f} s")


def test_zookeeper_clock_skew_changes_nothing_for_the_fenced_lock():
    """libfaketime shifts the JVM's wall clock; ZooKeeper times sessions with the monotonic
    clock, so skew does not change the lock's behaviour (etcd, a Go binary, ignores
    LD_PRELOAD; Debian's redis-server aborts under libfaketime)."""
    need("zookeeper")
    with live.zookeeper(n=3, clock_skew={"n1": 30.0}) as c:
        run = live.lock_pause(c, session_timeout=1.0, fencing=True)
    v = locks.check(run)
    assert v.holds("storage_safety") and not v.holds("mutual_exclusion")
    skew = run.faults[run.faults["kind"] == "clock_skew"]
    assert skew["target"].tolist() == ["n1"] and "+30s" in skew["detail"].iloc[0]
