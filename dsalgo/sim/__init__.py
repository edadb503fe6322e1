"""Deterministic discrete-event simulation of message-passing nodes with fault injection.

See :class:`Simulation` for the entry point, and :class:`Cluster` for the builder every
algorithm family's ``simulate`` uses.  Same seed, same tables, in any process.

Layers (each module imports only those before it): :mod:`~dsalgo.sim.node` (the
:class:`Node` interface) ← :mod:`~dsalgo.sim._core` (heap, clock, recorders) ←
:mod:`~dsalgo.sim.wire` (the message path) ← :mod:`~dsalgo.sim.context` (what a node may
do) ← :mod:`~dsalgo.sim.engine` (:class:`Simulation`) ← :mod:`~dsalgo.sim.cluster` and
:mod:`~dsalgo.sim.config` (what kernels build on).  :mod:`~dsalgo.sim.resources` (the
optional processing-time and storage models, :class:`Storage`) sits beside the wire.

Examples
--------
>>> from dsalgo import sim
>>> net = sim.Network(latency=sim.Exponential(mean=0.005))
>>> s = sim.Simulation(seed=7, network=net)
>>> s.add_node("n1", sim.Node)
>>> s.add_faults([sim.Crash("n1", at=1.0), sim.Restart("n1", at=2.0)])
>>> run = s.run(until=10.0)
>>> run.faults[["kind", "target", "t_start", "t_end"]].to_dict("records")
[{'kind': 'crash', 'target': 'n1', 't_start': 1.0, 't_end': 2.0}]
"""

from .arith import majority
from .clients import Client, KVWorkload, Workload
from .cluster import Cluster, KVWorkloadConfig, server_ids
from .config import Config, checks, knob, split_knobs
from .context import Context
from .engine import EventLimitExceeded, Simulation, SimulationClosed
from .faults import (
    ClockDrift,
    ClockJump,
    Crash,
    CrashPoint,
    DelayedDuplicate,
    Fault,
    Heal,
    Nemesis,
    Partition,
    Pause,
    Restart,
)
from .kv import Command, KVStore
from .latency import Constant, Empirical, Exponential, Latency, LogNormal, Uniform
from .network import Network
from .node import Node
from .resources import Storage
from .run import Run, empty_table, load_run
from .testing import CancelTimer, Complete, Emit, Invoke, RecordingContext, Send, SetTimer

__all__ = [
    "CancelTimer",
    "Client",
    "ClockDrift",
    "ClockJump",
    "Cluster",
    "Command",
    "Complete",
    "Config",
    "Constant",
    "Context",
    "Crash",
    "CrashPoint",
    "DelayedDuplicate",
    "Emit",
    "Empirical",
    "EventLimitExceeded",
    "Exponential",
    "Fault",
    "Heal",
    "Invoke",
    "KVStore",
    "KVWorkload",
    "KVWorkloadConfig",
    "Latency",
    "LogNormal",
    "Nemesis",
    "Network",
    "Node",
    "Partition",
    "Pause",
    "RecordingContext",
    "Restart",
    "Run",
    "Send",
    "SetTimer",
    "Simulation",
    "SimulationClosed",
    "Storage",
    "Uniform",
    "Workload",
    "checks",
    "empty_table",
    "knob",
    "load_run",
    "majority",
    "server_ids",
    "split_knobs",
]

