"""The cluster builder every algorithm family's ``simulate`` uses.

A family's ``simulate`` validates its knobs into its :class:`~dsalgo.sim.config.Config`,
then asks a :class:`Cluster` for servers ``n1…nN`` and clients ``c1…`` (each added with
its role, so a :class:`~dsalgo.sim.Nemesis` knows whom it may hit), hands it the faults
and runs it.  ``run.params`` is written here, the same way for every family::

    {"family": …, "n": …, "duration": …, **config.to_params(), "workload": {…}}

so a checker reads what it needs from it and a sweep can group runs by any knob.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from .._validate import check_bool, check_callable, check_int, check_number
from .config import Config, checks, knob
from .engine import Simulation
from .network import Network
from .resources import check_cpu, check_storage

__all__ = ["Cluster", "KVWorkloadConfig", "server_ids"]


def server_ids(n: int, prefix: str = "n") -> list[str]:
    """The ids of ``n`` servers: ``n1 … nN``.

    Examples
    --------
    >>> server_ids(3)
    ['n1', 'n2', 'n3']
    """
    return [f"{prefix}{i}" for i in range(1, n + 1)]


class Cluster:
    """Servers, clients, network and faults of one family's run, and its ``run.params``.

    Parameters
    ----------
    family : str
        The family's name in :data:`dsalgo.families.FAMILIES` (recorded in ``run.params``).
    n : int
        Number of servers ``n1 … nN``.
    config : Config
        The family's validated knobs.
    workload : Config or dict, optional
        The workload's knobs (recorded under ``run.params["workload"]``).
    seed : int
        Same seed, same tables.
    network : dsalgo.sim.Network, optional
        The network; ``None`` takes ``default_network`` (or ``Network()``).
    record_messages : bool
        Keep ``run.messages``.
    default_network : dsalgo.sim.Network, optional
        The family's default network.
    min_n : int
        The smallest ``n`` the family accepts.
    cpu : latency model or dict, optional
        The servers' processing-time model (see :meth:`Simulation.add_node`); recorded in
        ``run.params["cpu"]`` when given.
    storage : dsalgo.sim.Storage, optional
        The servers' storage model; recorded in ``run.params["storage"]`` when given.

    Examples
    --------
    >>> from dsalgo import sim
    >>> class Counter(sim.Node):
    ...     def on_start(self, ctx):
    ...         ctx.emit("up", role=ctx.role)
    >>> c = sim.Cluster("toy", 2, sim.Config(), seed=1)
    >>> c.add_servers(lambda sid: Counter())
    ['n1', 'n2']
    >>> c.add_clients(1, lambda cid: Counter())
    ['c1']
    >>> run = c.run(duration=1.0)
    >>> run.params["family"], run.params["n"], run.events["role"].tolist()
    ('toy', 2, ['server', 'server', 'client'])
    """

    def __init__(self, family: str, n: int, config: Config, *, workload=None, seed: int = 0,
                 network: Network | None = None, record_messages: bool = True,
                 default_network: Network | None = None, min_n: int = 1, cpu=None,
                 storage=None):
        if not isinstance(config, Config):
            raise TypeError(f"config must be a dsalgo.sim.Config; got {config!r}")
        self.family = family
        self.n = check_int("n", n, low=min_n)
        self.config = config
        check_bool("record_messages", record_messages)
        if network is None:
            network = default_network if default_network is not None else Network()
        self.cpu = check_cpu(cpu)
        self.storage = check_storage(storage)
        self.sim = Simulation(seed=seed, network=network, record_messages=record_messages)
        self.servers = server_ids(self.n)
        self.clients: list[str] = []
        if isinstance(workload, Config):
            workload = workload.to_params()
        elif workload is not None and not isinstance(workload, Mapping):
            raise TypeError(f"workload must be a Config or a dict; got {workload!r}")
        self.sim.params = {"family": family, "n": self.n, **config.to_params(),
                           "workload": dict(workload or {}), "network": repr(network)}
        if self.cpu is not None:
            self.sim.params["cpu"] = (repr(self.cpu) if not isinstance(self.cpu, dict) else
                                      {k: repr(v) for k, v in self.cpu.items()})
        if self.storage is not None:
            self.sim.params["storage"] = repr(self.storage)

    @property
    def params(self) -> dict:
        """What ``run.params`` will hold (add family-specific entries here)."""
        return self.sim.params

    def add_node(self, id: str, factory, *, role: str, disk: dict | None = None,
                 resources: bool | None = None) -> str:
        """Add one node with its role (see :meth:`Simulation.add_node`); returns its id.

        ``resources`` says whether the cluster's ``cpu`` and ``storage`` models apply to
        it (default: for every role but ``"client"``)."""
        if resources is None:
            resources = role != "client"
        self.sim.add_node(id, factory, role=role, disk=disk,
                          cpu=self.cpu if resources else None,
                          storage=self.storage if resources else None)
        return id

    def add_servers(self, make, *, role: str = "server") -> list[str]:
        """Add servers ``n1…nN``; ``make(sid)`` builds one (called at start and after each
        restart).  Returns their ids."""
        check_callable("make", make)
        for sid in self.servers:
            self.sim.add_node(sid, lambda sid=sid: make(sid), role=role, cpu=self.cpu,
                              storage=self.storage)
        return list(self.servers)

    def add_clients(self, count: int, make, *, prefix: str = "c") -> list[str]:
        """Add ``count`` clients ``c1…``; ``make(cid)`` builds one.  Returns their ids."""
        count = check_int("clients", count, low=0)
        check_callable("make", make)
        start = len(self.clients)
        ids = [f"{prefix}{i}" for i in range(start + 1, start + count + 1)]
        for cid in ids:
            self.sim.add_node(cid, lambda cid=cid: make(cid), role="client")
        self.clients += ids
        return ids

    def run(self, duration: float, faults=(), *, tail: float = 0.0, progress: bool = False,
            close: bool = False):
        """Schedule ``faults`` and run for ``duration + tail`` simulated seconds.

        ``duration`` is the family's run length as its users give it (``run.params
        ["duration"]``); ``tail`` is a quiet period after it that some families add (the
        transactions' drain, so in-doubt transactions resolve), recorded as
        ``run.params["tail"]`` when it is not zero.  ``close``: close the simulation once
        the run is made (:meth:`Simulation.close`), as the families' ``simulate``
        functions do with the cluster they made, so that it is freed when dropped, not at
        the next full collection; the cluster cannot run again.  Returns the Run.
        """
        duration = check_number("duration", duration, low=0.0, low_open=True)
        tail = check_number("tail", tail, low=0.0)
        check_bool("close", close)
        self.sim.params["duration"] = duration
        if tail:
            self.sim.params["tail"] = tail
        self.sim.add_faults(faults)
        run = self.sim.run(until=duration + tail, progress=progress)
        if close:
            self.sim.close()
        return run


@dataclasses.dataclass(frozen=True)
class KVWorkloadConfig(Config):
    """The key-value workload knobs shared by the replicated stores (Raft, Multi-Paxos).

    Examples
    --------
    >>> KVWorkloadConfig(clients=2, mode="open", rate=50.0).rate
    50.0
    >>> KVWorkloadConfig(mode="open")
    Traceback (most recent call last):
    ...
    ValueError: rate must be given (operations per second per client) when mode='open'
    """

    clients: int = knob(3, "Workload clients c1… issuing put/get/cas.", checks.integer(low=0))
    keys: int = knob(5, "Number of keys (0 … keys-1).", checks.integer(low=1))
    mix: dict = knob(None, "Weights of put/get/cas (default 45/45/10).", checks.mapping)
    mode: str = knob("closed", "'closed' (a fixed number outstanding) or 'open' (Poisson "
                     "arrivals at rate).", checks.choice("closed", "open"))
    rate: float = knob(None, "Open loop: operations per second per client.",
                       checks.optional(checks.positive))
    concurrency: int = knob(1, "Closed loop: outstanding operations per client.",
                            checks.integer(low=1))
    think: float = knob(0.0, "Closed loop: seconds between a completion and the next "
                        "invocation.", checks.non_negative)
    client_timeout: float = knob(1.0, "Seconds before an unanswered operation is given up "
                                 "as info.", checks.positive)
    retry_interval: float = knob(0.1, "Seconds between resends of an unanswered request.",
                                 checks.positive)
    max_ops: int = knob(None, "Operations each client issues before it stops (None: until "
                        "the run ends).", checks.optional(checks.integer(low=0)))

    def validate(self):
        if self.mode == "open" and self.rate is None:
            raise ValueError("rate must be given (operations per second per client) when "
                             "mode='open'")

    def workload(self):
        """The :class:`~dsalgo.sim.KVWorkload` these knobs describe."""
        from .clients import KVWorkload
        return KVWorkload(keys=self.keys, mix=self.mix)

    def client_options(self) -> dict:
        """Keyword arguments for a :class:`~dsalgo.sim.Client` subclass."""
        return {"mode": self.mode, "concurrency": self.concurrency, "rate": self.rate,
                "timeout": self.client_timeout, "think": self.think, "max_ops": self.max_ops}
