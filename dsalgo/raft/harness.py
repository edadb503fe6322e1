"""``simulate``: a Raft key-value cluster with clients on the simulator, as one call.

The harness composes three independent pieces (Style §6): the servers
(:class:`~dsalgo.raft.node.RaftNode`), the clients (:class:`~dsalgo.raft.kv.RaftClient`
running a :class:`dsalgo.sim.KVWorkload`) and whatever faults the caller passes.  It
validates every knob so that a bad one fails at the call, naming the parameter.
"""

from __future__ import annotations

from collections.abc import Iterable

from dsalgo import sim

from .._validate import check_bool, check_choice, check_int, check_number, check_range
from .kv import RaftClient
from .node import BUGS, READS, RaftConfig, RaftNode

__all__ = ["make_config", "server_ids", "simulate"]


def server_ids(n: int) -> list[str]:
    """The ids of ``n`` servers: ``n1 … nN``.

    Examples
    --------
    >>> server_ids(3)
    ['n1', 'n2', 'n3']
    """
    return [f"n{i}" for i in range(1, n + 1)]


def make_config(n, *, election_timeout=(0.150, 0.300), heartbeat_interval=0.050,
                prevote=False, check_quorum=False, reads="log", noop=True, max_entries=64,
                bugs=()) -> RaftConfig:
    """Validate the algorithm knobs and return the :class:`RaftConfig` for ``n`` servers.

    Raises ``ValueError``/``TypeError`` naming the parameter, the value given and what is
    accepted (see :func:`simulate` for the meaning of each knob).

    Examples
    --------
    >>> make_config(3, election_timeout=(0.1, 0.2), heartbeat_interval=0.02).servers
    ('n1', 'n2', 'n3')
    >>> make_config(3, heartbeat_interval=0.2)
    Traceback (most recent call last):
    ...
    ValueError: heartbeat_interval must be shorter than the minimum election timeout 0.15; got 0.2
    """
    n = check_int("n", n, low=1)
    lo, hi = check_range("election_timeout", election_timeout, low=0.0, low_open=True)
    hb = check_number("heartbeat_interval", heartbeat_interval, low=0.0, low_open=True)
    if hb >= lo:
        raise ValueError(f"heartbeat_interval must be shorter than the minimum election "
                         f"timeout {lo:g}; got {hb!r}")
    check_bool("prevote", prevote)
    check_bool("check_quorum", check_quorum)
    check_choice("reads", reads, READS)
    check_bool("noop", noop)
    max_entries = check_int("max_entries", max_entries, low=1)
    if isinstance(bugs, str) or not isinstance(bugs, Iterable):
        raise TypeError(f"bugs must be a collection of bug names ({', '.join(BUGS)}); "
                        f"got {bugs!r}")
    bugs = frozenset(bugs)
    for b in sorted(bugs, key=str):
        check_choice("bugs", b, BUGS)
    return RaftConfig(servers=tuple(server_ids(n)), election_timeout=(lo, hi),
                      heartbeat_interval=hb, prevote=prevote, check_quorum=check_quorum,
                      reads=reads, noop=noop, max_entries=max_entries, bugs=bugs)


def simulate(n: int = 5, *, seed: int = 0, duration: float = 10.0, network=None, faults=(),
             election_timeout=(0.150, 0.300), heartbeat_interval: float = 0.050,
             prevote: bool = False, check_quorum: bool = False, clients: int = 3,
             keys: int = 5, bugs=(), reads: str = "log", noop: bool = True,
             max_entries: int = 64, mix: dict | None = None, concurrency: int = 1,
             client_timeout: float = 1.0, retry_interval: float = 0.1, think: float = 0.0,
             max_ops: int | None = None, record_messages: bool = True,
             progress: bool = False) -> sim.Run:
    """Run a Raft-replicated key-value store with closed-loop clients and return the run.

    Parameters
    ----------
    n : int
        Number of servers, ``n1 … nN``.
    seed : int
        Same seed, same tables.
    duration : float
        Simulated seconds.
    network : dsalgo.sim.Network, optional
        The network (default: exponential latency, mean 5 ms, no loss).
    faults : iterable of dsalgo.sim faults
        Crashes, partitions, a :class:`~dsalgo.sim.Nemesis` …
    election_timeout : (float, float)
        Range the randomized election timeout is drawn from, seconds (§5.2).
    heartbeat_interval : float
        Seconds between a leader's ``AppendEntries`` rounds; must be shorter than the
        minimum election timeout.
    prevote, check_quorum : bool
        The thesis's PreVote (§9.6) and CheckQuorum (§6.2).
    clients : int
        Closed-loop clients ``c1 …`` issuing ``put``/``get``/``cas``.
    keys : int
        Number of keys (``0 … keys-1``).
    bugs : collection of str
        Teaching bugs: ``"commit_prior_term"``, ``"no_up_to_date_check"``,
        ``"forget_vote_on_restart"``, ``"no_truncate_on_conflict"``.
    reads : {"log", "read_index", "local"}
        How ``get`` is served: as a log entry, with ReadIndex (a heartbeat round confirms
        leadership), or ``"local"``: the server that believes it leads answers from its
        own state machine without confirming it (stale reads are possible by design).
    noop : bool
        A new leader appends a no-op entry of its term (§8).
    max_entries : int
        Most entries in one ``AppendEntries``.
    mix : dict, optional
        Weights of ``put``/``get``/``cas`` (default 45/45/10).
    concurrency, client_timeout, retry_interval, think, max_ops
        Client knobs: outstanding operations per client, seconds before an operation is
        given up as ``info``, seconds between resends, pause between operations, and a cap
        on operations per client.
    record_messages : bool
        Keep ``run.messages`` (turn off for speed).
    progress : bool
        Show a progress bar (``tqdm``) over simulated time while it runs.

    Returns
    -------
    dsalgo.sim.Run
        ``run.history`` follows the key-value conventions of :mod:`dsalgo.raft.kv`: ``f``
        put/get/cas, ``value`` the value written (``[old, new]`` for cas), ``result`` the
        value read (``None`` if absent) or ``True`` for an applied cas; a cas whose compare
        fails completes ``"fail"`` with no effect; ``"info"`` means the outcome is unknown.
        ``run.events`` holds the protocol events listed in :class:`RaftNode`.

    Examples
    --------
    >>> from dsalgo import raft
    >>> run = raft.simulate(n=3, seed=1, duration=2.0, clients=2)
    >>> bool(raft.check(run)), bool((run.events["kind"] == "leader_elected").any())
    (True, True)
    >>> bool(run.history["status"].isin(["ok", "fail", "info"]).all())
    True
    """
    config = make_config(n, election_timeout=election_timeout,
                         heartbeat_interval=heartbeat_interval, prevote=prevote,
                         check_quorum=check_quorum, reads=reads, noop=noop,
                         max_entries=max_entries, bugs=bugs)
    duration = check_number("duration", duration, low=0.0, low_open=True)
    clients = check_int("clients", clients, low=0)
    workload = sim.KVWorkload(keys=check_int("keys", keys, low=1), mix=mix)
    concurrency = check_int("concurrency", concurrency, low=1)
    client_timeout = check_number("client_timeout", client_timeout, low=0.0, low_open=True)
    retry_interval = check_number("retry_interval", retry_interval, low=0.0, low_open=True)
    check_bool("record_messages", record_messages)
    s = sim.Simulation(seed=seed, network=network, record_messages=record_messages)
    for sid in config.servers:
        s.add_node(sid, lambda: RaftNode(config))
    servers = list(config.servers)
    for i in range(1, clients + 1):
        s.add_node(f"c{i}", lambda: RaftClient(servers, workload, retry_interval=retry_interval,
                                               concurrency=concurrency, timeout=client_timeout,
                                               think=think, max_ops=max_ops))
    s.add_faults(faults)
    s.params = {
        "algorithm": "raft", "n": n, "duration": duration,
        "election_timeout": list(config.election_timeout),
        "heartbeat_interval": config.heartbeat_interval, "prevote": prevote,
        "check_quorum": check_quorum, "clients": clients, "keys": keys,
        "bugs": sorted(config.bugs), "reads": reads, "noop": noop, "max_entries": max_entries,
        "concurrency": concurrency, "client_timeout": client_timeout,
    }
    return s.run(until=duration, progress=progress)
