"""Soaks of the replicated ZooKeeper ensemble (:mod:`dsalgo.zk`): many seeded faulty runs.

- ``zk-ensemble-sync``: 3 servers, 4 key-value clients with ``sync`` + read, servers
  crashing, restarting and partitioned by a nemesis — one leader per epoch, the same
  transaction at each zxid on every server, no committed write lost, and a linearizable
  history in every run; leader changes and resumed sessions must happen.
- ``zk-ensemble-local``: the same with plain reads at the connected server — the
  ensemble's properties hold in every run, and the history is *not* linearizable in some
  (stale follower reads must happen).
- ``zk-ensemble-lock``: the lock recipe on the ensemble (``ensemble=True``) with server
  crashes and partitions (between servers) and client pauses — the ensemble's properties and the fenced
  storage's safety hold, and the lock is acquired again once the faults heal; mutual
  exclusion breaks in some runs (a paused holder), as it does on a real ensemble.
"""

from __future__ import annotations

from .. import sim
from ..check import Verdict
from ..locks import check as lock_check
from ..locks import zookeeper
from ..zk import check, simulate
from . import Soak

SERVERS = ["n1", "n2", "n3"]


def _nemesis(targets=SERVERS, end=3.0, **rates):
    rates = rates or {"crash": 0.7, "partition": 0.7}
    return sim.Nemesis(mean_duration=0.4, targets=targets, end=end, **rates)


def _counts(v: Verdict) -> dict:
    return {"leader_change": int((v.info.get("leader_changes") or 0) > 0),
            "session_resumed": int(v.info.get("sessions_resumed") or 0),
            "session_expired": v.info.get("sessions_expired") or 0}


def _kv(seed, reads):
    run = simulate(3, seed=seed, duration=4.0, clients=4, keys=2, reads=reads,
                   faults=[_nemesis()], record_messages=False, client_timeout=0.5)
    v = check(run, time_limit=10.0)
    out = _counts(v)
    out["ops_ok"] = int((run.history["status"] == "ok").sum())
    out["not_linearizable"] = int(v.info.get("linearizable") is False)
    return v, out


def _sync(seed):
    return _kv(seed, "sync")


def _local(seed):
    return _kv(seed, "local")


def _lock(seed):
    # servers crash and are cut off from each other; clients are paused (a partition
    # between a client and its server would drop a watch notification, which TCP does
    # not do without breaking the connection: the client would have to notice)
    faults = [_nemesis(crash=0.5, partition=0.5),
              _nemesis(targets=["c1", "c2", "c3"], pause=0.5)]
    run = zookeeper.simulate(3, seed=seed, duration=6.0, clients=3, ensemble=True,
                             faults=faults, session_timeout=0.5, record_messages=False)
    lv, ev = lock_check(run), check(run)
    out = _counts(ev)
    out["handover"] = lv.info["handovers"]
    out["write_rejected"] = lv.info["writes_rejected"]
    out["mutual_exclusion_broken"] = int(not lv.holds("mutual_exclusion"))
    out["progress_judged"] = int(bool((lv.info.get("recovery") or {}).get("judged")))
    judged = ["storage_safety", "lock_progress"]
    bad = [r for r in lv.violations.to_dict("records") if r["property"] in judged]
    bad += ev.violations.to_dict("records")
    return Verdict(judged + list(ev.properties), bad or None, info=lv.info,
                   kinds={"lock_progress": "progress"}), out


SOAKS = {
    "zk-ensemble-sync": Soak(_sync, runs=1000, family="zookeeper",
                             sometimes=("leader_change", "session_resumed"),
                             description="ZooKeeper ensemble, sync+read clients, server "
                                         "crashes and partitions: ensemble safety and "
                                         "linearizability"),
    "zk-ensemble-local": Soak(_local, runs=1000, family="zookeeper",
                              sometimes=("leader_change", "not_linearizable"),
                              description="ZooKeeper ensemble, plain follower reads: "
                                          "ensemble safety holds, stale reads happen"),
    "zk-ensemble-lock": Soak(_lock, runs=1000, family="zookeeper",
                             sometimes=("leader_change", "handover", "write_rejected",
                                        "mutual_exclusion_broken", "progress_judged"),
                             description="ZooKeeper lock recipe on the ensemble, server "
                                         "faults and client pauses: ensemble and storage "
                                         "safety, the lock recovers"),
}
