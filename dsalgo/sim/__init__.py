"""Deterministic discrete-event simulation of message-passing nodes with fault injection.

See :class:`Simulation` for the entry point.  Same seed, same tables, in any process.

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
from .engine import Context, Node, Simulation
from .faults import ClockDrift, ClockJump, Crash, Fault, Heal, Nemesis, Partition, Pause, Restart
from .latency import Constant, Empirical, Exponential, Latency, LogNormal, Uniform
from .network import Network
from .run import Run, empty_table, load_run
from .testing import CancelTimer, Complete, Emit, Invoke, RecordingContext, Send, SetTimer

__all__ = [
    "Simulation", "Node", "Context", "Network", "Run", "load_run", "empty_table",
    "Latency", "Constant", "Uniform", "Exponential", "LogNormal", "Empirical",
    "Fault", "Crash", "Restart", "Partition", "Heal", "ClockJump", "ClockDrift", "Pause",
    "Nemesis",
    "Client", "Workload", "KVWorkload", "majority",
    "RecordingContext", "Send", "SetTimer", "CancelTimer", "Emit", "Invoke", "Complete",
]
