"""``simulate``: build a Paxos cluster on the simulator, run it, return the tables.

One function for the family: ``variant="single"`` runs single-decree Paxos with
``proposers`` competing proposers; ``variant="multi"`` runs the Multi-Paxos key-value
store with ``clients`` workload clients.  Flexible Paxos is either variant with phase-1
and phase-2 quorums given by ``q1`` and ``q2``.  The knobs are the fields of
:class:`~dsalgo.paxos.config.Config` and :class:`~dsalgo.paxos.config.WorkloadConfig`;
the cluster itself comes from :class:`dsalgo.sim.Cluster`.
"""

from __future__ import annotations

import warnings

from dsalgo import sim

from .client import PaxosClient
from .config import Config, WorkloadConfig
from .multi import MultiPaxosNode
from .quorums import phase2_spec
from .single import SingleDecreeNode

__all__ = ["simulate"]

#: Keywords of earlier releases -> the knob that replaced them.
_RENAMED = {"client_mode": "mode"}


def simulate(n: int = 3, *, seed: int = 0, duration: float = 2.0, network=None, faults=(),
             bugs=(), record_messages: bool = True, progress: bool = False, cpu=None,
             storage=None, **knobs) -> sim.Run:
    """Run single-decree Paxos or the Multi-Paxos key-value store and return the run.

    Parameters
    ----------
    n : int
        Number of servers ``n1…nN`` (acceptors and learners; Multi-Paxos replicas).
    seed : int
        Same seed, same tables.
    duration : float
        Simulated seconds to run.
    network : dsalgo.sim.Network, optional
        Default: exponential latency with mean 5 ms, no loss.
    faults : iterable of dsalgo.sim faults
        Crashes, partitions, a ``Nemesis``, ...
    bugs : collection of str
        Deliberate defects to plant (see :data:`~dsalgo.paxos.BUGS`), to watch
        :func:`~dsalgo.paxos.check` catch them.
    record_messages : bool
        Keep ``run.messages`` (turn off for faster sweeps).
    progress : bool
        Show a progress bar (``tqdm``) over simulated time while it runs.
    cpu : latency model or dict, optional
        The servers' processing time per message and timer (see
        :meth:`dsalgo.sim.Simulation.add_node`); default: none.
    storage : dsalgo.sim.Storage, optional
        The servers' storage model: an acceptor answers a Prepare or an Accept
        (and a proposer uses a new round) only once the write is durable, and a crash
        loses what was not synced; default: writes durable at once.
    **knobs
        The fields of :class:`~dsalgo.paxos.Config` (``print(paxos.Config.describe())``):
        ``variant`` (``"single"`` or ``"multi"``, the default), ``proposers``, ``q1``,
        ``q2`` (sizes or quorum systems, see :func:`~dsalgo.paxos.resolve_quorums`),
        ``unsafe``, ``backoff``, ``retry_timeout``, ``heartbeat_interval``,
        ``election_timeout``, ``window``, ``max_batch`` (batching); and, for Multi-Paxos, the workload's fields of
        :class:`~dsalgo.paxos.WorkloadConfig`: ``clients``, ``keys``, ``mix``, ``mode``
        (``"closed"`` or ``"open"`` with ``rate`` operations/s per client),
        ``concurrency``, ``think``, ``client_timeout``, ``retry_interval``, ``max_ops``.
        ``client_mode`` is the deprecated name of ``mode``.

    Returns
    -------
    dsalgo.sim.Run
        ``run.params`` records the knobs (``{"family": "paxos", "n": …, **config,
        "workload": {…}}``), ``quorums`` and ``q2_spec``: the phase-2 quorums as plain data
        (:func:`~dsalgo.paxos.phase2_spec`), so :func:`dsalgo.paxos.check` can tell which
        values acceptor quorums chose from the saved tables alone.

    Raises
    ------
    TypeError
        For a keyword that is no knob (naming it and listing the knobs) or a value of the
        wrong type.
    ValueError
        For a value out of range, naming the parameter and what it accepts.

    Examples
    --------
    >>> from dsalgo import paxos
    >>> run = paxos.simulate(3, variant="single", seed=1, duration=1.0)
    >>> sorted(set(run.events.loc[run.events.kind == "decided", "value"]))
    ['v2']
    >>> run = paxos.simulate(5, seed=1, duration=1.0, clients=2)
    >>> bool(paxos.check(run)), bool((run.history.status == "ok").sum() > 50)
    (True, True)
    >>> run.params["family"], run.params["variant"], run.params["workload"]["clients"]
    ('paxos', 'multi', 2)
    """
    for old, new in _RENAMED.items():
        if old in knobs:
            if new in knobs:
                raise TypeError(f"give {new} or its deprecated name {old}, not both")
            warnings.warn(f"paxos.simulate({old}=...) is deprecated; use {new}=...",
                          DeprecationWarning, stacklevel=2)
            knobs[new] = knobs.pop(old)
    cfg, wl = sim.split_knobs(knobs, Config, WorkloadConfig)
    config = Config(bugs=bugs, **cfg)
    if config.variant == "single" and wl:  # accepted before; ignored, and said so
        warnings.warn(f"variant='single' has no clients, so workload parameters have no "
                      f"effect and are ignored (this will become an error); got "
                      f"{', '.join(sorted(wl))}", DeprecationWarning, stacklevel=2)
    load = WorkloadConfig(**wl)
    workload = load.workload()
    quorums = config.quorums(n)
    multi = config.variant == "multi"
    cluster = sim.Cluster("paxos", n, config, workload=load if multi else None, seed=seed,
                          network=network, record_messages=record_messages, cpu=cpu,
                          storage=storage)
    servers = cluster.servers
    if multi:
        cluster.add_servers(lambda sid: MultiPaxosNode(
            servers, quorums, heartbeat_interval=config.heartbeat_interval,
            election_timeout=config.election_timeout, window=config.window,
            max_batch=config.max_batch, bugs=config.bugs))
        cluster.add_clients(load.clients, lambda cid: PaxosClient(
            servers, workload, retry_interval=load.retry_interval, **load.client_options()))
    else:
        values = {sid: f"v{i}" for i, sid in enumerate(servers[:config.proposers], 1)}
        cluster.add_servers(lambda sid: SingleDecreeNode(
            servers, quorums, value=values.get(sid), backoff=config.backoff,
            retry_timeout=config.retry_timeout, bugs=config.bugs))
    cluster.params.update(quorums=repr(quorums), q2_spec=phase2_spec(quorums, servers))
    return cluster.run(duration, faults, progress=progress, close=True)
