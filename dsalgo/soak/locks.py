"""Soaks of the distributed locks: many seeded, contended runs, each checked.

- ``locks-redlock``: RedLock, 5 servers, 3 clients, no faults — mutual exclusion and
  storage safety always hold; contention and handovers happen.
- ``locks-redlock-crash``: RedLock with crashing servers and clients, keys persisted
  (``fsync``) — safety still holds, since a restarted server remembers its keys.
- ``locks-zookeeper``: the ZooKeeper recipe, 3 servers, 3 clients, no faults.
- ``locks-zookeeper-fencing``: the recipe with client pauses and crashes and follower
  crashes.  Pauses do break mutual exclusion (that must happen in some runs); fencing
  keeps storage safety in every run, and the storage rejects stale writes.

Every soak judges ``lock_progress`` too (a waiting client acquires once the faults heal,
see :func:`dsalgo.locks.check`) and counts whether it was judged and whether a client
acquired after a fault (``recovered_after_fault``).  The faulty soaks run long enough
after their nemesis for it to be judged (grace: three leases and a critical section);
the two fault-free 2 s soaks are shorter than that grace with 1 s leases, so progress
is not judged there and they do not expect it.
"""

from __future__ import annotations

from .. import sim
from ..check import Verdict
from ..locks import check, redlock, zookeeper
from . import Soak

DURATION = 2.0


def _counts(v: Verdict, run=None) -> dict:
    r = v.info.get("recovery") or {}
    judged = bool(r.get("judged"))
    faulty = run is not None and len(run.faults) > 0
    return {"contended": v.info["contended"], "handover": v.info["handovers"],
            "expired": v.info["expired"], "write_rejected": v.info["writes_rejected"],
            # the progress side: judged at all, and a waiting client acquired after faults
            "progress_judged": int(judged),
            "recovered_after_fault": int(judged and faulty
                                         and r.get("t_acquire") is not None)}


def _redlock(seed):
    run = redlock.simulate(n=5, clients=3, seed=seed, duration=DURATION)
    v = check(run)
    return v, _counts(v, run)


def _redlock_crash(seed):
    targets = [f"n{i}" for i in range(1, 6)] + ["c1", "c2", "c3"]
    nemesis = sim.Nemesis(crash=1.0, mean_duration=0.3, targets=targets, end=DURATION)
    # ttl 0.5 s and two calm seconds after the nemesis, so that progress is judged
    # (a waiting client must acquire within 3 TTLs and a critical section of the heal)
    run = redlock.simulate(n=5, clients=3, seed=seed, duration=DURATION + 2.0,
                           faults=[nemesis], persistence="fsync", ttl=0.5)
    v = check(run)
    out = _counts(v, run)
    out["server_crash"] = int(run.faults["target"].astype(str).str.startswith("n").sum())
    return v, out


def _zookeeper(seed):
    run = zookeeper.simulate(n=3, clients=3, seed=seed, duration=DURATION)
    v = check(run)
    return v, _counts(v, run)


def _zookeeper_fencing(seed):
    nemesis = sim.Nemesis(crash=0.5, pause=1.0, mean_duration={"crash": 0.5, "pause": 1.0},
                          targets=["n2", "n3", "c1", "c2", "c3"], end=3.0)
    run = zookeeper.simulate(n=3, clients=3, seed=seed, duration=5.0, faults=[nemesis],
                             session_timeout=0.5)
    v = check(run)
    out = _counts(v, run)
    out["mutual_exclusion_broken"] = int(not v.holds("mutual_exclusion"))
    # Under pauses storage safety is the promise, and progress once the faults heal:
    # judge those, keep mutual exclusion as a count.
    judged = ["storage_safety", "lock_progress"]
    bad = v.violations[v.violations["property"].isin(judged)]
    return Verdict(judged, bad if len(bad) else None, info=v.info,
                   kinds={"lock_progress": "progress"}), out


SOAKS = {
    "locks-redlock": Soak(_redlock, runs=1000, sometimes=("contended", "handover"),
                          description="RedLock, 5 servers, 3 contending clients, no faults"),
    "locks-redlock-crash": Soak(_redlock_crash, runs=1000,
                                sometimes=("contended", "handover", "server_crash",
                                           "progress_judged", "recovered_after_fault"),
                                description="RedLock with fsync'd keys; servers and clients "
                                            "crash and restart"),
    "locks-zookeeper": Soak(_zookeeper, runs=1000, sometimes=("contended", "handover"),
                            description="ZooKeeper lock recipe, 3 servers, 3 clients, "
                                        "no faults"),
    "locks-zookeeper-fencing": Soak(_zookeeper_fencing, runs=1000,
                                    sometimes=("handover", "expired", "write_rejected",
                                               "mutual_exclusion_broken", "progress_judged",
                                               "recovered_after_fault"),
                                    description="ZooKeeper lock with fencing under client "
                                                "pauses and crashes: storage stays safe, "
                                                "the lock is acquired again once faults "
                                                "heal"),
}
