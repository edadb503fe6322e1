"""Soaks of the distributed locks: many seeded, contended runs, each checked.

- ``locks-redlock``: RedLock, 5 servers, 3 clients, no faults — mutual exclusion and
  storage safety always hold; contention and handovers happen.
- ``locks-redlock-crash``: RedLock with crashing servers and clients, keys persisted
  (``fsync``) — safety still holds, since a restarted server remembers its keys.
- ``locks-redlock-drift``: RedLock with every server's clock fast and every client's slow,
  each by 0.3–0.5 % (drift at the edge of what the docs' allowance, ``drift_factor`` 1 %
  of the TTL plus 2 ms, covers), two slow servers per run (their links to the clients
  about 15 ms each way, so an acquisition that needs one takes long), client–server
  partitions, and critical sections longer than the TTL (holders either lose the lock
  mid-section or, on odd seeds, extend it).  Mutual exclusion and storage safety must
  hold: this is the setting the algorithm's validity formula is for.  The planted bugs
  ``no_drift_allowance`` and ``no_elapsed_time`` break mutual exclusion here (see
  :func:`redlock_drift_run`).
- ``locks-redlock-jump``: RedLock under forward and backward clock jumps of the servers
  (up to ±1.5 TTL).  RedLock is *not* safe here, and that is its known flaw
  (Kleppmann 2016): a server whose clock jumps forward expires a key early and grants it
  again.  The soak encodes the expected outcome instead of hiding it: its property,
  ``overlaps_explained_by_clock_jumps``, holds when every overlap of beliefs follows a
  forward clock jump of a lock server while the older holder's keys were live, and every
  lost update happens in a run with such an overlap; ``broken_by_clock_jump`` counts the
  runs where the flaw showed (it must, sometimes).
- ``locks-zookeeper``: the ZooKeeper recipe, 3 servers, 3 clients, no faults.
- ``locks-zookeeper-fencing``: the recipe with client pauses and crashes and follower
  crashes.  Pauses do break mutual exclusion of beliefs (that must happen in some runs);
  fencing keeps storage safety in every run, the storage rejects stale writes, and
  ``fenced_exclusion`` holds: every overlap is excused by a pause or a session expiry of
  the older holder (the planted bug ``enter_on_watch`` makes unexcused ones).
- ``locks-zookeeper-drift``: the recipe with every clock drifting (±5 %), clock jumps
  (±1 s) of servers and clients, client–server partitions, client pauses, and critical
  sections longer than the session timeout.  Storage safety and ``fenced_exclusion``
  must hold in every run; overlaps excused by a session expiry must happen.

Every soak judges ``lock_progress`` too (a waiting client acquires once the faults heal,
see :func:`dsalgo.locks.check`) and counts whether it was judged and whether a client
acquired after a fault (``recovered_after_fault``).  The faulty soaks run long enough
after their nemesis for it to be judged (grace: three leases and a critical section);
the two fault-free 2 s soaks are shorter than that grace with 1 s leases, so progress
is not judged there and they do not expect it; nor is it in the drift soaks, whose clocks
drift to the end (a fault that never heals).
"""

from __future__ import annotations

import random

from .. import sim
from ..check import Verdict
from ..locks import check, overlaps, redlock, zookeeper
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
                                         and r.get("t_acquire") is not None),
            "overlap_excused": v.info["overlaps_excused"]}


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
    return _fenced_verdict(v), out


def _fenced_verdict(v: Verdict) -> Verdict:
    """Under pauses, expiries and partitions the promise of a fenced lock is storage
    safety, mutual exclusion except where fencing is needed (``fenced_exclusion``), and
    progress once the faults heal: judge those, keep raw overlaps of beliefs as a count."""
    judged = ["storage_safety", "fenced_exclusion", "lock_progress"]
    missing = [p for p in judged if p not in v.properties]
    if missing:
        raise ValueError(f"expected a fenced run; its verdict lacks {missing}")
    bad = v.violations[v.violations["property"].isin(judged)]
    return Verdict(judged, bad if len(bad) else None, info=v.info,
                   kinds={"lock_progress": "progress"})


# ------------------------------------------------------------ clocks, partitions, slowness
REDLOCK_SERVERS = [f"n{i}" for i in range(1, 6)]
CLIENTS = ["c1", "c2", "c3"]
#: RedLock drift soak: TTL, run length, clock drift range (fraction), slow-link median.
REDLOCK_DRIFT = {"ttl": 1.5, "duration": 8.0, "drift": (0.003, 0.005), "slow": 0.015}


def redlock_drift_run(seed: int, bugs=()) -> sim.Run:
    """One run of the ``locks-redlock-drift`` soak (``bugs``: names of redlock.BUGS).

    Server clocks run fast and client clocks slow, each by 0.3–0.5 %: a key expires
    early in real time and a holder's validity timer fires late, by up to 1 % of the TTL
    between them, which the docs' drift allowance (1 % of the TTL plus 2 ms) covers.  Two
    servers per run answer slowly (about 15 ms each way), so an acquisition that needs one
    of them takes long, which the validity's elapsed-time term covers.  Partitions cut
    random groups of servers and clients apart until a second before the end.  Critical
    sections last 1.2 TTL: holders lose the lock mid-section, or extend it (odd seeds).

    Examples
    --------
    >>> from dsalgo import locks
    >>> bool(locks.check(redlock_drift_run(1)))
    True
    >>> v = locks.check(redlock_drift_run(4, bugs={"no_drift_allowance"}))
    >>> v.holds("mutual_exclusion")
    False
    """
    rng = random.Random(seed)
    p = REDLOCK_DRIFT
    lo, hi = p["drift"]
    faults = [sim.ClockDrift(x, rate=rng.uniform(lo, hi)) for x in REDLOCK_SERVERS]
    faults += [sim.ClockDrift(x, rate=-rng.uniform(lo, hi)) for x in CLIENTS]
    faults.append(sim.Nemesis(partition=0.3, mean_duration=0.3,
                              targets=REDLOCK_SERVERS + CLIENTS, end=p["duration"] - 1.0))
    net = sim.Network(latency=sim.LogNormal(median=0.001, sigma=1.0))
    for server in rng.sample(REDLOCK_SERVERS, 2):
        for c in CLIENTS:
            net.set_link(c, server, latency=sim.LogNormal(median=p["slow"], sigma=0.5))
    return redlock.simulate(n=5, clients=3, seed=seed, duration=p["duration"], network=net,
                            faults=faults, bugs=bugs, ttl=p["ttl"],
                            critical_section=1.2 * p["ttl"], extend=bool(seed % 2))


def _redlock_drift(seed):
    run = redlock_drift_run(seed)
    v = check(run)
    out = _counts(v, run)
    ev = run.events
    out["extended"] = int((ev["kind"] == "extend").sum())
    out["lost_mid_section"] = int(((ev["kind"] == "expire")
                                   & (ev["reason"] == "validity")).sum()
                                  if "reason" in ev.columns else 0)
    out["partition"] = int((run.faults["kind"] == "partition").sum())
    return v, out


#: The property the clock-jump soak judges (RedLock's known flaw, stated).
JUMP_PROPERTY = "overlaps_explained_by_clock_jumps"


def redlock_jump_run(seed: int, bugs=()) -> sim.Run:
    """One run of the ``locks-redlock-jump`` soak: servers' clocks jump (±1.5 TTL).

    Examples
    --------
    Not every seed makes a jump strike while a key is held; the first that breaks mutual
    exclusion does so through a forward jump:

    >>> from dsalgo import locks
    >>> run = next(r for r in map(redlock_jump_run, range(40))
    ...            if not locks.check(r).holds("mutual_exclusion"))
    >>> unexplained, explained = jump_explained(run)
    >>> len(unexplained), explained >= 1
    (0, True)
    """
    ttl = 1.0
    nemesis = sim.Nemesis(clock_jump=1.5, clock_jump_scale=1.5 * ttl,
                          targets=REDLOCK_SERVERS, end=5.0)
    return redlock.simulate(n=5, clients=3, seed=seed, duration=6.0, faults=[nemesis],
                            bugs=bugs, ttl=ttl, critical_section=0.3)


def jump_explained(run) -> tuple[list, int]:
    """The overlaps of beliefs in a RedLock run that no clock jump explains, and how many
    a jump does explain.

    An overlap is explained when a lock server's clock jumped *forward* after the older
    holder began acquiring (at most one TTL before its ``acquire``) and before the
    overlap began: that server may have expired the older holder's key early and granted
    it again — RedLock's documented dependence on clocks.

    Returns
    -------
    (list of dict, int)
        The unexplained overlaps (rows of :func:`dsalgo.locks.overlaps`) and the count of
        explained ones.
    """
    ttl = float(run.params.get("ttl", 1.0))
    ev = run.events
    jumps = ev[(ev["kind"] == "clock_jump") & ev["node"].astype(str).str.startswith("n")]
    forward = jumps.loc[jumps["delta"] > 0, "time"].to_numpy(dtype=float) if len(jumps) else []
    unexplained, explained = [], 0
    for r in overlaps(run).to_dict("records"):
        lo = r["older_acquire"] - ttl
        if any(lo <= t <= r["t_start"] for t in forward):
            explained += 1
        else:
            unexplained.append(r)
    return unexplained, explained


def _redlock_jump(seed):
    run = redlock_jump_run(seed)
    v = check(run)
    unexplained, explained = jump_explained(run)
    rows = [{"property": JUMP_PROPERTY, "time": r["t_start"], "nodes": (r["older"], r["newer"]),
             "detail": f"{r['older']} and {r['newer']} both believed they held the lock "
                       f"from {r['t_start']:.6g}s, and no server's clock had jumped forward "
                       f"since {r['older']} began acquiring"} for r in unexplained]
    lost = v.violations[v.violations["property"] == "storage_safety"]
    if len(lost) and not explained:
        r = lost.iloc[0]
        rows.append({"property": JUMP_PROPERTY, "time": float(r["time"]), "nodes": r["nodes"],
                     "detail": f"a lost update in a run where no clock jump explains an "
                               f"overlap: {r['detail']}"})
    out = _counts(v, run)
    out["clock_jump_forward"] = int(((run.faults["kind"] == "clock_jump")
                                     & run.faults["detail"].str.startswith("delta=+")).sum())
    out["broken_by_clock_jump"] = int(explained > 0)
    out["lost_update"] = len(lost)
    judged = Verdict([JUMP_PROPERTY], rows or None, info={**v.info, "explained": explained})
    return judged, out


#: ZooKeeper drift soak: run length, session timeout, clock drift (±), jump scale.
ZOOKEEPER_DRIFT = {"duration": 6.0, "session_timeout": 0.5, "drift": 0.05, "jump": 1.0}


def zookeeper_drift_run(seed: int, bugs=()) -> sim.Run:
    """One run of the ``locks-zookeeper-drift`` soak (``bugs``: names of zookeeper.BUGS).

    Every clock drifts (uniform ±5 %), servers' and clients' clocks jump (±1 s),
    partitions cut random groups of servers and clients apart, clients pause, all until
    two seconds before the end; critical sections (0.6 s) are longer than the session
    timeout (0.5 s).

    Examples
    --------
    A seed on which ``enter_on_watch`` breaks fenced exclusion (not every seed brings
    the session expiry it needs), and the correct recipe on the very same faults:

    >>> from dsalgo import locks
    >>> seed = next(s for s in range(40) if not locks.check(
    ...     zookeeper_drift_run(s, bugs={"enter_on_watch"})).holds("fenced_exclusion"))
    >>> v = locks.check(zookeeper_drift_run(seed))
    >>> v.holds("fenced_exclusion"), v.holds("storage_safety")
    (True, True)
    """
    rng = random.Random(seed)
    p = ZOOKEEPER_DRIFT
    servers = ["n1", "n2", "n3"]
    faults = [sim.ClockDrift(x, rate=rng.uniform(-p["drift"], p["drift"]))
              for x in servers + CLIENTS]
    faults.append(sim.Nemesis(partition=0.6, pause=0.4, clock_jump=0.6,
                              clock_jump_scale=p["jump"],
                              mean_duration={"partition": 0.5, "pause": 0.5},
                              targets=servers + CLIENTS, end=p["duration"] - 2.0))
    return zookeeper.simulate(n=3, clients=3, seed=seed, duration=p["duration"],
                              faults=faults, session_timeout=p["session_timeout"],
                              critical_section=0.6, bugs=bugs)


def _zookeeper_drift(seed):
    run = zookeeper_drift_run(seed)
    v = check(run)
    out = _counts(v, run)
    out["excused_by_expiry"] = v.info["overlap_excuses"].get("lease_expired", 0)
    out["excused_by_pause"] = v.info["overlap_excuses"].get("pause", 0)
    f = run.faults
    out["clock_jump"] = int((f["kind"] == "clock_jump").sum())
    out["partition"] = int((f["kind"] == "partition").sum())
    return _fenced_verdict(v), out


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
                                               "mutual_exclusion_broken", "overlap_excused",
                                               "progress_judged", "recovered_after_fault"),
                                    description="ZooKeeper lock with fencing under client "
                                                "pauses and crashes: storage stays safe, "
                                                "every overlap is excused by a pause or an "
                                                "expiry, the lock is acquired again once "
                                                "faults heal"),
    "locks-redlock-drift": Soak(_redlock_drift, runs=1000,
                                sometimes=("contended", "handover", "expired", "extended",
                                           "lost_mid_section", "partition"),
                                description="RedLock with server clocks fast and client "
                                            "clocks slow (within the drift allowance), slow "
                                            "servers, client-server partitions, critical "
                                            "sections longer than the TTL: mutual exclusion "
                                            "and storage safety hold"),
    "locks-redlock-jump": Soak(_redlock_jump, runs=1000,
                               sometimes=("handover", "clock_jump_forward",
                                          "broken_by_clock_jump", "lost_update"),
                               description="RedLock under server clock jumps: NOT safe (its "
                                           "known flaw); every overlap must follow a forward "
                                           "jump of a server, and the flaw must show"),
    "locks-zookeeper-drift": Soak(_zookeeper_drift, runs=1000,
                                  sometimes=("handover", "expired", "write_rejected",
                                             "overlap_excused", "excused_by_expiry",
                                             "clock_jump", "partition"),
                                  description="ZooKeeper lock with fencing under clock drift "
                                              "and jumps, client-server partitions, pauses, "
                                              "critical sections longer than the session "
                                              "timeout: storage safety and fenced exclusion "
                                              "hold"),
}
