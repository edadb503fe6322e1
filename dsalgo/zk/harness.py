"""``simulate`` and ``check`` of the ensemble, its knobs, bugs, and the failover measurement."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from .. import sim
from .._validate import check_int, check_number
from ..check import Verdict, linearizable
from ..raft import Config as RaftConfig
from ..raft import check as raft_check
from ..sim import checks, knob
from .client import READS, KVClient
from .server import EnsembleServer

__all__ = ["BUGS", "PROPERTIES", "Config", "check", "ensemble_server", "failover_trials",
           "leader_changes", "simulate"]

#: Planted bugs: name -> the rule it breaks.  The first three are the Raft kernel's own
#: (:data:`dsalgo.raft.BUGS`), passed to the broadcast; the others are ZooKeeper's.
BUGS = {
    "forget_vote_on_restart": "A server forgets its vote when it restarts, so it can vote "
                              "twice in one epoch and two leaders share it (Zab's new-epoch "
                              "acknowledgement, like Raft's vote, is durable).",
    "no_up_to_date_check": "A server votes for a candidate whose history is behind its own, "
                           "so a leader can be elected without a committed write, which is "
                           "then lost (Zab elects the server with the highest zxid).",
    "no_truncate_on_conflict": "A follower keeps a transaction the new leader does not have "
                               "(Zab's recovery truncates it), so two servers apply different "
                               "transactions at one zxid.",
    "sync_served_locally": "A server answers sync at once from its own state instead of "
                           "sending it through the leader, so sync-then-read is as stale as "
                           "a plain read.",
    "ephemeral_survives_expiry": "Closing a session keeps its ephemeral znodes (they must go "
                                 "with their session).",
}
_RAFT_BUGS = ("forget_vote_on_restart", "no_up_to_date_check", "no_truncate_on_conflict")

#: The ensemble's safety properties, and what the Raft checker's names map to.
PROPERTIES = ("one_leader_per_epoch", "zxid_order", "no_lost_commit", "linearizability")
_FROM_RAFT = {"election_safety": "one_leader_per_epoch",
              "leader_vote_majority": "one_leader_per_epoch",
              "one_vote_per_term": "one_leader_per_epoch",
              "leader_append_only": "zxid_order", "log_matching": "zxid_order",
              "state_machine_safety": "zxid_order", "leader_completeness": "no_lost_commit"}


@dataclasses.dataclass(frozen=True)
class Config(sim.Config):
    """The ensemble's knobs.

    Examples
    --------
    >>> Config(reads="sync").reads
    'sync'
    >>> Config(reads="linear")
    Traceback (most recent call last):
    ...
    ValueError: reads must be one of 'local', 'sync'; got 'linear'
    """

    reads: str = knob("local", "How get is served: 'local' (the connected server's state, "
                      "may be stale) or 'sync' (sync first, then read).", checks.choice(*READS))
    session_timeout: float = knob(1.0, "Session timeout each client asks for, seconds.",
                                  checks.positive)
    tick: float = knob(0.05, "Seconds between a follower's session report to the leader and "
                       "the leader's expiry checks.", checks.positive)
    election_timeout: tuple = knob((0.15, 0.3), "Range of the randomized election timeout, "
                                   "seconds.", checks.interval(0.0, low_open=True))
    heartbeat_interval: float = knob(0.05, "Seconds between the leader's heartbeats.",
                                     checks.positive)
    bugs: frozenset = knob(frozenset(), "Planted bugs, names of zk.BUGS.", checks.bugs(BUGS))

    def raft(self) -> RaftConfig:
        """The broadcast's configuration: PreVote and CheckQuorum on (a ZooKeeper follower
        that still hears its leader does not start an election, and a leader that loses
        its quorum gives up), a no-op per new epoch (Zab's NEWLEADER)."""
        return RaftConfig(election_timeout=self.election_timeout,
                          heartbeat_interval=self.heartbeat_interval, prevote=True,
                          check_quorum=True, noop=True,
                          bugs=self.bugs & frozenset(_RAFT_BUGS))


def ensemble_server(servers, config: Config | None = None) -> EnsembleServer:
    """A server of the ensemble ``servers`` with the knobs of ``config`` (also what
    :mod:`dsalgo.locks.zookeeper` runs with ``ensemble=True``).

    Examples
    --------
    >>> ensemble_server(["n1", "n2", "n3"]).config.check_quorum
    True
    """
    config = Config() if config is None else config
    return EnsembleServer(servers, config.raft(), tick=config.tick, bugs=config.bugs)


def _cluster(n=3, *, seed=0, network=None, bugs=(), record_messages=True, **knobs):
    cfg, wl = sim.split_knobs(knobs, Config, sim.KVWorkloadConfig)
    wl.setdefault("mix", {"put": 1, "get": 1})
    if "cas" in (wl["mix"] or {}):
        raise ValueError(f"mix must weigh only 'put' and 'get' (the ensemble's key-value "
                         f"client offers no cas); got {wl['mix']!r}")
    config = Config(bugs=bugs, **cfg)
    workload_config = sim.KVWorkloadConfig(**wl)
    if workload_config.concurrency != 1:
        raise ValueError(f"concurrency must be 1 (a session answers in order, one request "
                         f"at a time); got {workload_config.concurrency!r}")
    if workload_config.mode != "closed":
        raise ValueError(f"mode must be 'closed' (the servers keep a session's order only "
                         f"for one request at a time); got {workload_config.mode!r}")
    cluster = sim.Cluster("zk", n, config, workload=workload_config, seed=seed,
                          network=network, record_messages=record_messages,
                          default_network=sim.Network(latency=sim.Exponential(mean=0.005)))
    servers = cluster.servers
    cluster.add_servers(lambda sid: ensemble_server(servers, config))
    workload = workload_config.workload()
    options = workload_config.client_options()
    cluster.add_clients(workload_config.clients, lambda cid: KVClient(
        servers, workload, first=int(cid[1:]) - 1, reads=config.reads,
        session_timeout=config.session_timeout, **options))
    return cluster


def simulate(n=3, *, seed=0, duration=3.0, network=None, faults=(), bugs=(),
             record_messages=True, progress=False, **knobs) -> sim.Run:
    """Run a ZooKeeper ensemble of ``n`` servers with key-value clients.

    Client ``c{i}`` connects to server ``n{i}`` first (wrapping round), so reads are
    served by followers too.  Each key is a znode; ``put`` writes it through the leader,
    ``get`` reads it at the connected server (``reads="local"``) or after a ``sync``
    (``reads="sync"``).

    Parameters
    ----------
    n : int
        Servers ``n1…nN``.
    seed : int
        Same seed, same tables.
    duration : float
        Simulated seconds.
    network : dsalgo.sim.Network, optional
        Default: exponential latency, mean 5 ms.
    faults : iterable of dsalgo.sim faults
        Crashes, partitions, pauses, a :class:`~dsalgo.sim.Nemesis` …
    bugs : collection of str
        Names of :data:`BUGS`.
    record_messages : bool
        Keep ``run.messages``.
    progress : bool
        Show a progress bar.
    **knobs
        Fields of :class:`Config` (``reads``, ``session_timeout``, ``tick``,
        ``election_timeout``, ``heartbeat_interval``) and of
        :class:`dsalgo.sim.KVWorkloadConfig` (``clients``, ``keys``, ``mix`` — put and get
        only, default even —, ``think``, ``client_timeout``, ``max_ops``; closed loop
        only, one operation at a time per client).

    Returns
    -------
    dsalgo.sim.Run
        ``run.history`` of put/get operations; ``run.events`` Raft's events (``leader_elected``,
        ``append``, ``commit``, ``apply`` …, the log index being the zxid's counter) and
        the service's (``session_opened``, ``session_expired``, client ``connected``,
        ``connection_loss``).

    Examples
    --------
    >>> from dsalgo import zk
    >>> run = zk.simulate(3, seed=1, duration=1.0, clients=3)
    >>> bool(zk.check(run)), run.params["family"], run.params["reads"]
    (True, 'zk', 'local')
    >>> int((run.history["status"] == "ok").sum()) > 50
    True
    """
    cluster = _cluster(n, seed=seed, network=network, bugs=bugs,
                       record_messages=record_messages, **knobs)
    return cluster.run(duration, faults, progress=progress, close=True)


def check(run, *, time_limit: float | None = 20.0) -> Verdict:
    """The ensemble's safety properties, from the run's tables.

    - ``one_leader_per_epoch``: at most one leader per epoch (Raft's election safety, and
      each leader elected by a majority of votes of its epoch);
    - ``zxid_order``: every server applies the same transaction at each zxid, so committed
      writes are applied in the same order everywhere (log matching, state machine safety,
      a leader's log only growing);
    - ``no_lost_commit``: a transaction committed in one epoch is in the log of every
      later epoch's leader (leader completeness), so no committed write is lost across a
      leader change;
    - ``linearizability`` of ``run.history`` (key-value model) when ``reads="sync"``.
      With ``reads="local"`` ZooKeeper does not promise it: the verdict does not judge it
      and ``info["linearizable"]`` says whether the history happened to be.

    The first three apply to any run of ensemble servers: a lock run of
    ``dsalgo.locks.zookeeper.simulate(ensemble=True)`` too (its history, critical sections
    on the storage, is the lock checker's business).

    Examples
    --------
    >>> from dsalgo import zk
    >>> v = zk.check(zk.simulate(3, seed=2, duration=1.0, reads="sync"))
    >>> print(v)
    All 4 properties hold: one_leader_per_epoch, zxid_order, no_lost_commit, linearizability.
    """
    if not isinstance(getattr(run, "events", None), pd.DataFrame):
        raise TypeError(f"run must be a dsalgo.sim.Run of the ensemble; got {run!r}")
    base = raft_check(run.events)
    rows, props = [], list(PROPERTIES[:3])
    for row in base.violations.to_dict("records"):
        name = _FROM_RAFT.get(row["property"], row["property"])
        if name not in props:
            props.append(name)
        rows.append({**row, "property": name,
                     "detail": f"{row['detail']} (raft's {row['property']})"})
    info = {k: base.info.get(k) for k in ("leaders_elected", "leader_changes",
                                          "max_commit_index", "applied")}
    reads = run.params.get("reads", "local")
    status = None
    if len(run.history) and run.params.get("family") == "zk":  # (a lock run's are incr)
        lin = linearizable(run.history, "kv", time_limit=time_limit)
        info["linearizable"] = None if lin.status == "unknown" else bool(lin)
        if reads == "sync":
            props.append("linearizability")
            if lin.status == "unknown":
                status = "unknown"
            for row in lin.violations.to_dict("records"):
                rows.append({**row, "property": "linearizability"})
    ev = run.events
    kinds = ev["kind"].astype(str) if len(ev) else pd.Series([], dtype=object)
    info["sessions_expired"] = int((kinds == "session_expired").sum())
    if "resumed" in ev.columns:
        conn = ev[kinds == "connected"]
        info["sessions_resumed"], info["reconnections"] = _resumptions(conn)
    return Verdict(props, rows or None, status=status, info=info)


def _resumptions(conn: pd.DataFrame) -> tuple[int, int]:
    """Of ``connected`` events: the distinct sessions resumed on another server, and the
    reconnections that resumed one (a session may reconnect more than once, first to a
    server that has no leader yet)."""
    back = conn[conn["resumed"].astype(bool)]
    return int(back["session"].nunique()), len(back)


# ---------------------------------------------------------------- failover
def leader_changes(run) -> pd.DataFrame:
    """One row per leader elected after the first: how long the ensemble had no leader.

    ``lost`` is when the previous leader was lost: the start of the last fault that hit it
    (a crash, a pause, a partition) before the election, else its stepping down (a
    ``role`` event); ``failover`` = ``elected - lost``.

    Returns
    -------
    DataFrame
        ``epoch, leader, previous, lost, elected, failover``.

    Examples
    --------
    >>> from dsalgo import sim, zk
    >>> run = zk.simulate(3, seed=3, duration=2.0, faults=[sim.Crash("n1", at=1.0)])
    >>> list(zk.leader_changes(run).columns)
    ['epoch', 'leader', 'previous', 'lost', 'elected', 'failover']
    """
    ev = run.events
    cols = ["epoch", "leader", "previous", "lost", "elected", "failover"]
    if not len(ev):
        return pd.DataFrame(columns=cols)
    kinds = ev["kind"].astype(str)
    elected = ev[kinds == "leader_elected"].sort_values("seq")
    stepped = ev[(kinds == "role") & (ev.get("role", pd.Series(index=ev.index)) != "leader")]
    faults = run.faults
    rows, prev = [], None
    for t, node, term in zip(elected["time"], elected["node"].astype(str), elected["term"]):
        if prev is not None and node != prev[0]:
            hit = faults[(faults["target"].astype(str).str.contains(prev[0], regex=False))
                         & (faults["t_start"] <= t) & (faults["t_start"] >= prev[1])]
            if len(hit):
                lost = float(hit["t_start"].max())
            else:
                down = stepped[(stepped["node"].astype(str) == prev[0])
                               & (stepped["time"] >= prev[1]) & (stepped["time"] <= t)]
                lost = float(down["time"].min()) if len(down) else math.nan
            rows.append([int(term), node, prev[0], lost, float(t), float(t) - lost])
        prev = (node, float(t))
    return pd.DataFrame(rows, columns=cols)


def failover_trials(trials: int = 10, n: int = 3, *, seed: int = 0, warmup: float = 0.5,
                    after: float = 2.0, crash: bool = True, **knobs) -> pd.DataFrame:
    """Crash (or cut off) the leader once a run is under way; measure the failover.

    Each trial runs the key-value workload until ``warmup`` seconds after the first leader
    is elected, then crashes the leader (``crash=False``: cuts it off from the others and
    its clients) and runs ``after`` seconds more.

    Returns
    -------
    DataFrame
        One row per trial: ``seed, leader, t_fault, new_leader, failover`` (seconds from
        the fault to the next leader's election), ``recovery`` (to the first write
        completed after the fault), ``sessions`` (open at the fault), ``resumed``
        (distinct sessions a client resumed on another server after the fault),
        ``reconnections`` (the reconnections that resumed a session: one session may
        reconnect more than once, e.g. first to a server that has no leader yet),
        ``expired`` (sessions the new leader closed).

    Examples
    --------
    >>> from dsalgo import zk
    >>> t = zk.failover_trials(2, seed=0, clients=3)
    >>> list(t.columns)[:5], bool((t["failover"] > 0).all())
    (['seed', 'leader', 't_fault', 'new_leader', 'failover'], True)
    """
    trials = check_int("trials", trials, low=1)
    warmup = check_number("warmup", warmup, low=0.0)
    after = check_number("after", after, low=0.0, low_open=True)
    rows = []
    for s in range(seed, seed + trials):
        cluster = _cluster(n, seed=s, record_messages=False, **knobs)
        seen = []

        def watch(simulation, time, node, kind, fields, seen=seen):
            if not seen and kind == "leader_elected":
                seen.append((time, node))
                simulation.stop()

        cluster.sim.add_observer(watch)
        cluster.run(warmup + after + 5.0)
        if not seen:
            raise RuntimeError(f"seed {s}: no leader was elected")
        t0, leader = seen[0]
        at = t0 + warmup
        if crash:
            fault = [sim.Crash(leader, at=at)]
        else:
            others = [x for x in cluster.servers + cluster.clients if x != leader]
            fault = [sim.Partition([[leader], others], at=at)]
        run = cluster.run(at + after, fault)
        ev = run.events
        kinds = ev["kind"].astype(str)
        new = ev[(kinds == "leader_elected") & (ev["time"] > at)].sort_values("seq")
        h = run.history
        writes = h[(h["f"] == "put") & (h["status"] == "ok") & (h["t_invoke"] >= at)]
        opened = ev[(kinds == "session_opened") & (ev["time"] <= at)]
        expired = ev[(kinds == "session_expired") & (ev["time"] > at)]
        conn = ev[(kinds == "connected") & (ev["time"] > at)]
        resumed, reconnections = _resumptions(conn)
        rows.append({"seed": s, "leader": leader, "t_fault": at,
                     "new_leader": str(new["node"].iloc[0]) if len(new) else None,
                     "failover": float(new["time"].iloc[0]) - at if len(new) else math.nan,
                     "recovery": float(writes["t_complete"].min()) - at if len(writes)
                     else math.nan,
                     "sessions": int(opened["session"].nunique()),
                     "resumed": resumed, "reconnections": reconnections,
                     "expired": len(expired)})
    return pd.DataFrame(rows)
