"""Raft (Ongaro & Ousterhout, 2014): the complete algorithm, a key-value store on it, its
safety checker, scripted bug scenarios and the leader-failover study of §9.3.

- :func:`simulate` runs a cluster with clients and returns the run tables; its knobs are
  the fields of :class:`Config`;
- :func:`check` verifies the five safety properties of Figure 3 from those tables;
- :data:`BUGS` names the teaching bugs and the rule each breaks; :data:`SCENARIOS` maps
  each to its scripted run (``SCENARIOS[bug](bug=True)`` shows it step by step,
  ``bug=False`` runs the same script under the correct rule);
- :func:`failover_trials` measures downtime after a leader crash (Figure 16);
- :mod:`dsalgo.raft.scenarios` replays Figure 8 and one scenario per teaching bug;
- :class:`RaftNode` and the messages (``RequestVote``, ``AppendEntries`` …) are the kernel.

Examples
--------
>>> from dsalgo import raft
>>> run = raft.simulate(n=3, seed=0, duration=1.0, clients=1)
>>> raft.check(run).status
'ok'
>>> raft.check(raft.SCENARIOS["commit_prior_term"](bug=True)).status
'violated'
"""

import warnings

from dsalgo.sim import KVWorkloadConfig as WorkloadConfig  # the workload knobs

from . import scenarios, throughput
from .checker import CLIENT_PROPERTIES, PROPERTIES, check, recovery_times
from .config import BUGS, READS, Config
from .failover import failover_trials
from .harness import simulate
from .kv import KVStore, RaftClient
from .messages import (
    AppendEntries,
    AppendEntriesReply,
    ClientReply,
    ClientRequest,
    Entry,
    RequestVote,
    RequestVoteReply,
    TimeoutNow,
)
from .node import RaftNode, majority
from .scenarios import SCENARIOS

RequestVoteResponse = RequestVoteReply  # the name some texts use
AppendEntriesResponse = AppendEntriesReply

__all__ = [
                       "WorkloadConfig",
                       "BUGS",
                       "PROPERTIES",
                       "READS",
                       "SCENARIOS",
                       "AppendEntries",
                       "AppendEntriesReply",
                       "AppendEntriesResponse",
                       "ClientReply",
                       "ClientRequest",
                       "Config",
                       "Entry",
                       "KVStore",
                       "RaftClient",
                       "RaftNode",
                       "RequestVote",
                       "RequestVoteReply",
                       "RequestVoteResponse",
                       "TimeoutNow",
                       "check",
                       "recovery_times",
                       "CLIENT_PROPERTIES",
                       "failover_trials",
                       "majority",
                       "scenarios",
                       "throughput",
                       "simulate",
]


def __getattr__(name):
    if name == "RaftConfig":  # the per-cluster settings before Config took the knobs
        warnings.warn("dsalgo.raft.RaftConfig is deprecated; use dsalgo.raft.Config (the "
                      "knobs) and give RaftNode the server list: RaftNode(servers, config)",
                      DeprecationWarning, stacklevel=2)
        return Config
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
