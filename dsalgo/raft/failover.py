"""The leader-failover experiment of §9.3 of the Raft paper (Figure 16).

Each trial starts from a stable cluster of ``n`` servers in term 1 led by ``n1``.  At
t = 0 the leader broadcasts a heartbeat (a real ``AppendEntries``, through the network)
and crashes at a moment drawn uniformly within its heartbeat interval, before it would
send the next one.  ``ineligible`` of the other servers hold a shorter log (their last
entry is one behind), so they can campaign but cannot win (§5.4.1), as in the paper's
worst case.  The downtime is the time from the crash until every live server has
received the first heartbeat of the new leader; ``elections`` counts the election
rounds (distinct candidate terms) it took.

How the stable cluster is set up: the persistent state of every server is written to
its disk before it starts (term 1, vote for ``n1``, log ``[1, 2]`` or ``[1]`` for the
ineligible), and the old leader is played by a stand-in node ``n1`` that sends exactly
the last heartbeat a leader of term 1 with that log would send, then crashes.  A
follower's election timer is re-armed when that heartbeat arrives, exactly as after any
heartbeat, so its timer runs from the last heartbeat it heard.  (If the network loses the
heartbeat, the follower's timer runs from t = 0 instead of from the heartbeat before,
which is slightly optimistic.)  Each trial stops as soon as its measurement is complete,
with message recording off.

The default setup (:func:`failover_setup`) splits the paper's broadcast time between the
wire, processing and vote persistence, as in a real cluster; see :func:`failover_trials`
for the numbers and the reasoning.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from dsalgo import sim

from .._validate import check_int, check_number
from .config import Config
from .messages import AppendEntries, Entry, chain_digest
from .node import RaftNode

__all__ = ["failover_network", "failover_setup", "failover_trials"]

#: What ``cpu=`` and ``storage=`` default to: the study's setup (:func:`failover_setup`).
PAPER = "paper"


def failover_network(wire_only: bool = False) -> sim.Network:
    """The network of the study.

    By default the wire of :func:`failover_setup`: one-way latency uniform on 0.5–1.5 ms
    (a LAN and an RPC stack).  With ``wire_only=True`` the network of earlier releases,
    which put the whole broadcast time on the wire: one-way latency uniform on
    5.5–8.5 ms, so a round to four followers and back takes about 15 ms.

    Examples
    --------
    >>> failover_network().latency
    Uniform(low=0.0005, high=0.0015)
    >>> failover_network(wire_only=True).latency
    Uniform(low=0.0055, high=0.0085)
    """
    if wire_only:
        return sim.Network(latency=sim.Uniform(low=0.0055, high=0.0085))
    return sim.Network(latency=sim.Uniform(low=0.0005, high=0.0015))


def failover_setup() -> dict:
    """The default ``network``, ``cpu`` and ``storage`` of :func:`failover_trials`.

    - **wire**: one-way latency uniform on 0.5–1.5 ms;
    - **processing**: 50 µs per message and timer;
    - **vote persistence**: a sync of log-normal latency, median 3 ms, σ = 0.9 (mean
      4.5 ms, 99th percentile about 25 ms), the shape measured for a real replicated
      store's durable write on loopback (an etcd put: p50 2.6 ms, p99 20 ms, dominated
      by the disk sync).

    Examples
    --------
    >>> s = failover_setup()
    >>> sorted(s), s["storage"]
    (['cpu', 'network', 'storage'], Storage(sync=LogNormal(median=0.003, sigma=0.9)))
    """
    return {"network": failover_network(), "cpu": sim.Constant(0.00005),
            "storage": sim.Storage(sync=sim.LogNormal(median=0.003, sigma=0.9))}


class _OldLeader(sim.Node):
    """Stands in for the leader of term 1: sends one heartbeat at t = 0 (then crashes)."""

    def __init__(self, followers, last_index, commit_index):
        self.followers = followers
        self.last_index = last_index
        self.commit_index = commit_index

    def on_start(self, ctx):
        ctx.broadcast(self.followers, AppendEntries(1, ctx.id, self.last_index, 1, (),
                                                    self.commit_index))


class _Seeded(RaftNode):
    """A Raft server whose disk holds ``initial`` state on first boot, and which falls
    silent once its trial's measurement is complete (so a batch of trials can share one
    simulation without finished clusters doing work)."""

    def __init__(self, servers, config, initial, trial, finished):
        super().__init__(servers, config)
        self.initial = initial
        self.trial = trial
        self.finished = finished

    def on_start(self, ctx):
        if "log" not in ctx.disk:
            ctx.disk.update(self.initial)
        super().on_start(ctx)

    def on_message(self, ctx, src, msg):
        if self.trial not in self.finished:
            super().on_message(ctx, src, msg)

    def on_timer(self, ctx, name):
        if self.trial not in self.finished:
            super().on_timer(ctx, name)


def _disk(log_length):
    log = [Entry(0, None, 0)]
    for i in range(1, log_length + 1):
        command = sim.Command("setup", i, "put", "setup", i)
        log.append(Entry(1, command, chain_digest(log[-1].digest, 1, command)))
    return {"current_term": 1, "voted_for": "n1", "log": log}


def _batch(seed, trial_ids, n, config, network, ineligible, max_time, cpu=None,
           storage=None) -> list[dict]:
    """Run the trials ``trial_ids`` side by side in one simulation (their clusters never
    talk to each other; trial ``i``'s servers are ``t{i}.n1 …``, and every random draw of
    a trial comes from streams named after its own nodes, so a trial's result does not
    depend on which batch it ran in).  Hence a bare :class:`dsalgo.sim.Simulation`, not a
    :class:`dsalgo.sim.Cluster`: one simulation holds many clusters here."""
    s = sim.Simulation(seed=seed, network=network, record_messages=False)
    finished: set = set()
    state = {}
    node_trial = {}
    for i in trial_ids:
        names = [f"t{i}.n{j}" for j in range(1, n + 1)]
        followers = names[1:]
        short = set(followers[len(followers) - ineligible:])
        t_crash = random.Random(f"raft-failover:{seed}:{i}").uniform(
            0.0, config.heartbeat_interval)
        s.add_node(names[0], lambda f=followers: _OldLeader(f, 2, 2))
        for f in followers:
            initial = _disk(1 if f in short else 2)
            s.add_node(f, lambda names=names, d=initial, i=i: _Seeded(names, config, d, i,
                                                                      finished),
                       cpu=cpu, storage=storage)
            node_trial[f] = i
        s.add_faults([sim.Crash(names[0], at=t_crash)])
        state[i] = {"t_crash": t_crash, "terms": set(), "followed": {}, "leaders": {},
                    "done": None}
    need = n - 2  # every live server but the new leader

    def observe(sim_, time, node, kind, fields):
        i = node_trial.get(node)
        if i is None or i in finished:
            return
        st = state[i]
        if kind == "role" and fields["role"] == "candidate" and time >= st["t_crash"]:
            st["terms"].add(fields["term"])
        elif kind == "leader_elected":
            st["leaders"][fields["term"]] = node.split(".")[1]
        elif kind == "follow" and fields["term"] > 1:
            got = st["followed"].setdefault(fields["term"], set())
            got.add(node)
            if len(got) == need:
                st["done"] = time
                finished.add(i)
                if len(finished) == len(trial_ids):
                    sim_.stop()

    s.add_observer(observe)
    s.run(until=max(st["t_crash"] for st in state.values()) + max_time)
    rows = []
    for i in trial_ids:
        st = state[i]
        done = st["done"]
        followed = st["followed"]
        term = max(followed, key=lambda t: len(followed[t])) if followed else None
        rows.append({"trial": i, "t_crash": st["t_crash"],
                     "downtime": np.nan if done is None else done - st["t_crash"],
                     "elections": len(st["terms"]),
                     "leader": st["leaders"].get(term), "term": term,
                     "converged": done is not None})
    return rows


def failover_trials(trials: int = 1000, *, n: int = 5, election_timeout=(0.150, 0.300),
                    heartbeat_interval: float | None = None, network=None, ineligible: int = 2,
                    seed: int = 0, prevote: bool = False, check_quorum: bool = False,
                    max_time: float = 10.0, batch: int = 250, cpu=PAPER,
                    storage=PAPER) -> pd.DataFrame:
    """Measure leader-failover downtime over ``trials`` crashes, as in §9.3 (Figure 16).

    **The default setup** (:func:`failover_setup`) models the paper's five servers with
    a broadcast time of about 15 ms, split the way a real cluster spends it: a vote
    round is the candidate persisting its new term and vote (a sync, median 3 ms, mean
    4.5 ms, long-tailed), the ``RequestVote`` on the wire (0.5–1.5 ms one way), 50 µs of
    processing, the voter persisting its vote (another sync) and the reply on the wire:
    about 11 ms on average from the candidate's timeout to a vote, and 15 ms or more one
    round in five, from the tail of the syncs.  Why not all on the wire: on loopback a
    durable write to a real store costs milliseconds, dominated by the sync, while the
    wire costs tens of microseconds; and the split matters, because what decides a split
    vote is whether a candidate's ``RequestVote`` reaches the others before their own
    timers fire -- the candidate's sync plus one wire trip against the randomness of the
    timeout (5 ms for 150–155 ms).  A long-tailed sync also spreads the candidates apart,
    which constant delays do not.  Notebook 03 puts the results beside the paper's and
    shows how they move with the split.

    Parameters
    ----------
    trials : int
        Number of trials (each a fresh cluster and its own seed).
    n : int
        Servers, at least 3 (``n1`` is the leader that crashes; the survivors must
        still form a majority).
    election_timeout : (float, float)
        Range of the randomized election timeout, seconds.
    heartbeat_interval : float, optional
        The leader's heartbeat interval; default half the minimum election timeout, as in
        the paper.  The crash moment is uniform on ``[0, heartbeat_interval)``.
    network : dsalgo.sim.Network, optional
        Default :func:`failover_network` (the wire of the default setup).
    ineligible : int
        How many of the ``n - 1`` survivors hold a shorter log: they campaign but cannot
        win (at most ``n - 2``: someone must be able to win).
    seed : int
        Seed of the whole experiment; trial ``i`` uses a seed derived from ``(seed, i)``.
    prevote, check_quorum : bool
        Run the servers with PreVote / CheckQuorum.
    max_time : float
        Give up a trial this many seconds after the crash (``downtime`` NaN,
        ``converged`` False).
    batch : int
        Trials run side by side in one simulation (a speed knob; results do not depend
        on it).
    cpu : latency model, dict or None
        The survivors' processing time per message and timer; default ``"paper"``, that
        of :func:`failover_setup`; None: none.
    storage : dsalgo.sim.Storage or None
        The survivors' storage model: a candidate asks for votes, and a voter answers,
        only once the new term and vote are durable, so a vote round costs a sync or two
        besides the wire; default ``"paper"``, that of :func:`failover_setup`; None:
        instant.  ``network=failover_network(wire_only=True), cpu=None, storage=None``
        is the setup of earlier releases, all of the broadcast time on the wire.

    Returns
    -------
    pandas.DataFrame
        One row per trial: ``trial, t_crash, downtime, elections, leader, term,
        converged`` (seconds; ``elections`` is the number of election rounds).

    Examples
    --------
    >>> from dsalgo import raft
    >>> df = raft.failover_trials(20, seed=1)
    >>> list(df.columns[:5]), bool(df["converged"].all())
    (['trial', 't_crash', 'downtime', 'elections', 'leader'], True)
    >>> bool((df["downtime"] >= 0.150 - 0.075).all())   # at least min timeout - heartbeat
    True
    """
    trials = check_int("trials", trials, low=1)
    n = check_int("n", n, low=3)
    lo = check_number("election_timeout[0]", election_timeout[0], low=0.0, low_open=True) \
        if isinstance(election_timeout, (tuple, list)) and len(election_timeout) == 2 else None
    if lo is None:
        raise TypeError(f"election_timeout must be a (low, high) pair of seconds; got "
                        f"{election_timeout!r}")
    hb = lo / 2 if heartbeat_interval is None else heartbeat_interval
    config = Config(election_timeout=election_timeout, heartbeat_interval=hb,
                    prevote=prevote, check_quorum=check_quorum)
    ineligible = check_int("ineligible", ineligible, low=0, high=n - 2)
    check_int("seed", seed)
    max_time = check_number("max_time", max_time, low=0.0, low_open=True)
    batch = check_int("batch", batch, low=1)
    setup = failover_setup()
    network = setup["network"] if network is None else network
    cpu = setup["cpu"] if isinstance(cpu, str) and cpu == PAPER else cpu
    storage = setup["storage"] if isinstance(storage, str) and storage == PAPER else storage
    if not isinstance(network, sim.Network):
        raise TypeError(f"network must be a dsalgo.sim.Network; got {network!r}")
    rows = []
    for b in range(0, trials, batch):
        rows += _batch(seed, range(b, min(trials, b + batch)), n, config, network, ineligible,
                       max_time, cpu, storage)
    df = pd.DataFrame(rows)
    df["elections"] = df["elections"].astype("int64")
    df["term"] = df["term"].astype("float64")
    return df
