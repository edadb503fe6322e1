"""``simulate``: a Raft key-value cluster with clients on the simulator, as one call.

The harness composes three independent pieces (Style §6): the servers
(:class:`~dsalgo.raft.node.RaftNode`), the clients (:class:`~dsalgo.raft.kv.RaftClient`
running a :class:`dsalgo.sim.KVWorkload`) and whatever faults the caller passes.  The
knobs are the fields of :class:`~dsalgo.raft.config.Config` and of
:class:`dsalgo.sim.KVWorkloadConfig`, validated once; :class:`dsalgo.sim.Cluster` builds
the rest and writes ``run.params``.
"""

from __future__ import annotations

from dsalgo import sim

from .config import Config
from .kv import RaftClient
from .node import RaftNode

__all__ = ["build", "simulate"]


def simulate(n: int = 5, *, seed: int = 0, duration: float = 10.0, network=None, faults=(),
             bugs=(), record_messages: bool = True, progress: bool = False, cpu=None,
             storage=None, **knobs) -> sim.Run:
    """Run a Raft-replicated key-value store with clients and return the run.

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
    bugs : collection of str
        Teaching bugs switched on in every server, names of :data:`dsalgo.raft.BUGS`.
    record_messages : bool
        Keep ``run.messages`` (turn off for speed).
    progress : bool
        Show a progress bar (``tqdm``) over simulated time while it runs.
    cpu : latency model or dict, optional
        The servers' processing time per message and timer (see
        :meth:`dsalgo.sim.Simulation.add_node`); default: none.
    storage : dsalgo.sim.Storage, optional
        The servers' storage model: votes, terms and entries are acknowledged only once a
        sync makes them durable, and a crash loses what was not synced; default: writes
        durable at once.
    **knobs
        The algorithm's knobs, fields of :class:`dsalgo.raft.Config` (``election_timeout``,
        ``heartbeat_interval``, ``prevote``, ``check_quorum``, ``reads``, ``noop``,
        ``max_entries``, ``max_batch``, ``pipeline``; ``raft.Config.describe()`` explains
        each), and the workload's, fields of :class:`dsalgo.sim.KVWorkloadConfig`
        (``clients``, ``keys``, ``mix``, ``mode``, ``rate``, ``concurrency``, ``think``,
        ``client_timeout``, ``retry_interval``, ``max_ops``).  ``mode="open", rate=r`` gives open-loop clients
        with Poisson arrivals at ``r`` operations per second each.

    Returns
    -------
    dsalgo.sim.Run
        ``run.history`` follows the key-value conventions of :mod:`dsalgo.sim.kv`: ``f``
        put/get/cas, ``value`` the value written (``[old, new]`` for cas), ``result`` the
        value read (``None`` if absent) or ``True`` for an applied cas; a cas whose compare
        fails completes ``"fail"`` with no effect; ``"info"`` means the outcome is unknown.
        ``run.events`` holds the protocol events listed in :class:`RaftNode`;
        ``run.params`` the family, ``n``, every knob and the workload.

    Examples
    --------
    >>> from dsalgo import raft
    >>> run = raft.simulate(n=3, seed=1, duration=2.0, clients=2)
    >>> bool(raft.check(run)), bool((run.events["kind"] == "leader_elected").any())
    (True, True)
    >>> bool(run.history["status"].isin(["ok", "fail", "info"]).all())
    True
    >>> run.params["family"], run.params["prevote"], run.params["workload"]["clients"]
    ('raft', False, 2)
    >>> opened = raft.simulate(n=3, seed=1, duration=1.0, clients=1, mode="open", rate=50)
    >>> bool(raft.check(opened)), len(opened.history) > 20
    (True, True)
    """
    cluster = build(n, seed=seed, network=network, bugs=bugs,
                    record_messages=record_messages, cpu=cpu, storage=storage, **knobs)
    return cluster.run(duration, faults, progress=progress, close=True)


def build(n: int = 5, *, seed: int = 0, network=None, bugs=(), record_messages: bool = True,
          cpu=None, storage=None, **knobs) -> sim.Cluster:
    """The cluster :func:`simulate` runs, built but not run: for a harness that watches
    the run as it goes (``cluster.sim.add_observer``) before ``cluster.run(duration,
    faults)``.  The parameters are :func:`simulate`'s.

    Examples
    --------
    >>> from dsalgo import raft
    >>> cluster = raft.harness.build(3, seed=1, clients=1)
    >>> seen = []
    >>> cluster.sim.add_observer(lambda s, t, node, kind, f: kind == "leader_elected"
    ...                          and seen.append(node))
    >>> run = cluster.run(1.0)
    >>> seen == list(run.events.query("kind == 'leader_elected'")["node"])
    True
    """
    cfg, wl = sim.split_knobs(knobs, Config, sim.KVWorkloadConfig)
    config = Config(bugs=bugs, **cfg)
    workload_config = sim.KVWorkloadConfig(**wl)
    cluster = sim.Cluster("raft", n, config, workload=workload_config, seed=seed,
                          network=network, record_messages=record_messages, cpu=cpu,
                          storage=storage)
    servers = cluster.servers
    cluster.add_servers(lambda sid: RaftNode(servers, config))
    workload = workload_config.workload()
    options = workload_config.client_options()
    cluster.add_clients(workload_config.clients, lambda cid: RaftClient(
        servers, workload, retry_interval=workload_config.retry_interval, **options))
    return cluster
