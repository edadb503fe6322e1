"""Soaks of the distributed locks: many seeded, contended runs, each checked.

- ``locks-redlock``: RedLock, 5 servers, 3 clients, no faults — mutual exclusion and
  storage safety always hold; contention and handovers happen.
- ``locks-redlock-crash``: RedLock with crashing servers and clients, keys persisted
  (``fsync``) — safety still holds, since a restarted server remembers its keys.
- ``locks-zookeeper``: the ZooKeeper recipe, 3 servers, 3 clients, no faults.
- ``locks-zookeeper-fencing``: the recipe with client pauses and crashes and follower
  crashes.  Pauses do break mutual exclusion (that must happen in some runs); fencing
  keeps storage safety in every run, and the storage rejects stale writes.
"""

from __future__ import annotations

from .. import sim
from ..check import Verdict
from ..locks import check, redlock, zookeeper
from . import Soak

DURATION = 2.0


def _counts(v: Verdict) -> dict:
    return {"contended": v.info["contended"], "handover": v.info["handovers"],
            "expired": v.info["expired"], "write_rejected": v.info["writes_rejected"]}


def _redlock(seed):
    v = check(redlock.simulate(n=5, clients=3, seed=seed, duration=DURATION))
    return v, _counts(v)


def _redlock_crash(seed):
    targets = [f"n{i}" for i in range(1, 6)] + ["c1", "c2", "c3"]
    nemesis = sim.Nemesis(crash=1.0, mean_duration=0.3, targets=targets, end=DURATION)
    run = redlock.simulate(n=5, clients=3, seed=seed, duration=DURATION, faults=[nemesis],
                           persistence="fsync")
    v = check(run)
    out = _counts(v)
    out["server_crash"] = int(run.faults["target"].astype(str).str.startswith("n").sum())
    return v, out


def _zookeeper(seed):
    v = check(zookeeper.simulate(n=3, clients=3, seed=seed, duration=DURATION))
    return v, _counts(v)


def _zookeeper_fencing(seed):
    nemesis = sim.Nemesis(crash=0.5, pause=1.0, mean_duration={"crash": 0.5, "pause": 1.0},
                          targets=["n2", "n3", "c1", "c2", "c3"], end=3.0)
    run = zookeeper.simulate(n=3, clients=3, seed=seed, duration=4.0, faults=[nemesis],
                             session_timeout=0.5)
    v = check(run)
    out = _counts(v)
    out["mutual_exclusion_broken"] = int(not v.holds("mutual_exclusion"))
    # Only storage safety is promised under pauses: judge that, keep the rest as a count.
    storage = v.violations[v.violations["property"] == "storage_safety"]
    return Verdict(["storage_safety"], storage if len(storage) else None, info=v.info), out


SOAKS = {
    "locks-redlock": Soak(_redlock, runs=1000, sometimes=("contended", "handover"),
                          description="RedLock, 5 servers, 3 contending clients, no faults"),
    "locks-redlock-crash": Soak(_redlock_crash, runs=1000,
                                sometimes=("contended", "handover", "server_crash"),
                                description="RedLock with fsync'd keys; servers and clients "
                                            "crash and restart"),
    "locks-zookeeper": Soak(_zookeeper, runs=1000, sometimes=("contended", "handover"),
                            description="ZooKeeper lock recipe, 3 servers, 3 clients, "
                                        "no faults"),
    "locks-zookeeper-fencing": Soak(_zookeeper_fencing, runs=1000,
                                    sometimes=("handover", "expired", "write_rejected",
                                               "mutual_exclusion_broken"),
                                    description="ZooKeeper lock with fencing under client "
                                                "pauses and crashes: storage stays safe"),
}
