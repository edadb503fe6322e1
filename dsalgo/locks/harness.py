"""What the two lock families share: the holder loop's knobs, the workload, the cluster.

Both :mod:`~dsalgo.locks.redlock` and :mod:`~dsalgo.locks.zookeeper` run the same
experiment on a different lock service: servers ``n1…nN``, the storage service
(``storage``, :mod:`~dsalgo.locks.storage`) and clients ``c1…`` that each loop acquire →
read → work → write → release → think (:class:`~dsalgo.locks.worker.LockClient`).

- :class:`LoopConfig` holds the loop's knobs; each family's ``Config`` extends it with the
  knobs of its lock service (and its ``bugs``).
- :class:`LockWorkload` holds the workload's: how many clients, and when each starts.  The
  clients are closed loops by nature (a client wants the lock again only after it gave it
  up), so there is no open-loop mode.
- :func:`lock_cluster` builds the :class:`~dsalgo.sim.Cluster` of a run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from .. import sim
from .._validate import check_number
from ..sim import checks, knob
from .storage import STORAGE, StorageServer

__all__ = ["LockWorkload", "LoopConfig", "lock_cluster"]


def _lock_name(name, value):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str lock name; got {value!r}")
    return value


def _start_times(name, value):
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list of start times (seconds, one per client); "
                        f"got {value!r}")
    return tuple(check_number(f"{name}[{i}]", s, low=0.0) for i, s in enumerate(value))


@dataclasses.dataclass(frozen=True)
class LoopConfig(sim.Config):
    """The knobs of the holder loop every lock client runs (see
    :class:`~dsalgo.locks.worker.LockClient`)."""

    critical_section: float = knob(0.05, "Seconds of work between the read and the write.",
                                   checks.non_negative)
    think: tuple = knob(0.0, "Seconds between a release and the next attempt: a number or a "
                        "(low, high) range.", checks.interval(low=0.0))
    storage_timeout: float = knob(None, "Give up waiting for the storage after this many "
                                  "seconds and release (None: wait for ever).",
                                  checks.optional(checks.positive))
    key: str = knob("lock", "The lock's name (also the storage key it guards).", _lock_name)

    def loop_options(self) -> dict:
        """Keyword arguments for :class:`~dsalgo.locks.worker.LockClient`."""
        return {"key": self.key, "critical_section": self.critical_section,
                "think": self.think, "storage_timeout": self.storage_timeout}


@dataclasses.dataclass(frozen=True)
class LockWorkload(sim.Config):
    """The workload of a lock run: competing clients ``c1…`` and their start times.

    Examples
    --------
    >>> LockWorkload(clients=2, starts=[0.0, 0.05]).start("c2")
    0.05
    >>> LockWorkload(clients=3, starts=[0.0])
    Traceback (most recent call last):
    ...
    ValueError: starts must give one start time per client (clients=3); got 1
    """

    clients: int = knob(2, "Competing clients c1… (each a closed loop).",
                        checks.integer(low=1))
    starts: tuple = knob(None, "Local time of each client's first attempt, seconds (None: "
                         "all at 0).", _start_times)

    def validate(self):
        if self.starts is not None and len(self.starts) != self.clients:
            raise ValueError(f"starts must give one start time per client "
                             f"(clients={self.clients}); got {len(self.starts)}")

    def start(self, cid: str) -> float:
        """The start time of client ``cid`` (``c1…``)."""
        return 0.0 if self.starts is None else self.starts[int(cid[1:]) - 1]


def lock_cluster(family: str, n: int, config: LoopConfig, workload: LockWorkload, *,
                 server, client, **options) -> sim.Cluster:
    """The cluster of a lock run, not yet run: servers, the storage service, clients.

    Parameters
    ----------
    family : str
        ``"redlock"`` or ``"zookeeper"`` (recorded in ``run.params``).
    n : int
        Servers ``n1…nN`` of the lock service.
    config : LoopConfig
        The family's validated knobs.
    workload : LockWorkload
        Clients and start times.
    server : callable
        ``server(sid, servers)`` builds one lock server.
    client : callable
        ``client(servers, start=…)`` builds one lock client.
    **options
        ``seed``, ``network``, ``record_messages``, ``cpu`` and ``storage`` for
        :class:`~dsalgo.sim.Cluster`: the processing-time and storage models apply to the
        lock servers ``n1…`` only (not to the clients, nor to the protected storage
        service, which stays instant and durable so that its checks read as before).

    Returns
    -------
    dsalgo.sim.Cluster
        Run it with ``cluster.run(duration, faults)``; a scenario may first add observers
        to ``cluster.sim``.
    """
    cluster = sim.Cluster(family, n, config, workload=workload, **options)
    servers = cluster.servers
    cluster.add_servers(lambda sid: server(sid, servers))
    cluster.add_node(STORAGE, StorageServer, role="storage", resources=False)
    cluster.add_clients(workload.clients,
                        lambda cid: client(servers, start=workload.start(cid)))
    return cluster
