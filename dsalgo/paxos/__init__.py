"""The Paxos family: single-decree Paxos, Multi-Paxos with a key-value store, Flexible Paxos.

Papers followed: Lamport, "Paxos Made Simple" (2001) for single-decree Paxos
(:mod:`~dsalgo.paxos.single`); van Renesse & Altinbuken, "Paxos Made Moderately Complex"
(2015) for Multi-Paxos (:mod:`~dsalgo.paxos.multi`); Howard, Malkhi & Spiegelman,
"Flexible Paxos" (2016) for phase-1/phase-2 quorums from any :mod:`dsalgo.quorum` system.

Layout: :mod:`~dsalgo.paxos.messages` (the paper's messages), :mod:`~dsalgo.paxos.acceptor`
(the durable role both kernels share), the two kernels, :mod:`~dsalgo.paxos.client` (the
key-value client), :mod:`~dsalgo.paxos.quorums` (phase-1/phase-2 quorums),
:mod:`~dsalgo.paxos.config` (:class:`Config`, :data:`BUGS`), :mod:`~dsalgo.paxos.harness`
(:func:`simulate`), :mod:`~dsalgo.paxos.checker` (:func:`check`),
:mod:`~dsalgo.paxos.scenarios` (:data:`SCENARIOS`: each bug, step by step) and
:mod:`~dsalgo.paxos.measures` (latency, throughput and time to decide, from the tables).

The family meets the contract of :mod:`dsalgo.families`.

Examples
--------
>>> from dsalgo import paxos, sim
>>> run = paxos.simulate(5, variant="multi", seed=3, duration=2.0,
...                      faults=[sim.Nemesis(crash=1.0, max_crashed=2, end=1.5)])
>>> bool(paxos.check(run))
True
>>> from dsalgo.families import check_contract
>>> check_contract(paxos)
[]
"""

from .acceptor import Acceptor
from .checker import PROGRESS, check, recovery_times
from .client import PaxosClient
from .config import BUGS, VARIANTS, Config, WorkloadConfig
from .harness import simulate
from .latency_model import commit_latency
from .measures import decision_time, summary
from .messages import (
                       Accept,
                       Accepted,
                       Catchup,
                       Decided,
                       Heartbeat,
                       Nack,
                       Prepare,
                       Promise,
                       Redirect,
                       Reply,
                       Request,
)
from .multi import MultiPaxosNode, apply_command
from .quorums import phase2_spec, resolve_quorums
from .scenarios import SCENARIOS
from .single import SingleDecreeNode

__all__ = [
    "commit_latency", "recovery_times", "PROGRESS",
    "BUGS", "SCENARIOS", "VARIANTS", "Accept", "Accepted", "Acceptor", "Catchup", "Config",
    "Decided", "Heartbeat", "MultiPaxosNode", "Nack", "PaxosClient", "Prepare", "Promise",
    "Redirect", "Reply", "Request", "SingleDecreeNode", "WorkloadConfig", "apply_command",
    "check", "decision_time", "phase2_spec", "resolve_quorums", "simulate", "summary",
]
