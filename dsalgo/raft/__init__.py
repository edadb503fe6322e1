"""Raft (Ongaro & Ousterhout, 2014): the complete algorithm, a key-value store on it, its
safety checker, scripted bug scenarios and the leader-failover study of §9.3.

- :func:`simulate` runs a cluster with clients and returns the run tables;
- :func:`check` verifies the five safety properties of Figure 3 from those tables;
- :func:`failover_trials` measures downtime after a leader crash (Figure 16);
- :mod:`dsalgo.raft.scenarios` replays Figure 8 and one scenario per teaching bug;
- :class:`RaftNode` and the messages (``RequestVote``, ``AppendEntries`` …) are the kernel.

Examples
--------
>>> from dsalgo import raft
>>> run = raft.simulate(n=3, seed=0, duration=1.0, clients=1)
>>> raft.check(run).status
'ok'
"""

from . import scenarios
from .checker import PROPERTIES, check
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
from .node import BUGS, READS, RaftConfig, RaftNode, majority

RequestVoteResponse = RequestVoteReply  # the name some texts use
AppendEntriesResponse = AppendEntriesReply

__all__ = [
                       "BUGS",
                       "PROPERTIES",
                       "READS",
                       "AppendEntries",
                       "AppendEntriesReply",
                       "AppendEntriesResponse",
                       "ClientReply",
                       "ClientRequest",
                       "Entry",
                       "KVStore",
                       "RaftClient",
                       "RaftConfig",
                       "RaftNode",
                       "RequestVote",
                       "RequestVoteReply",
                       "RequestVoteResponse",
                       "TimeoutNow",
                       "check",
                       "failover_trials",
                       "majority",
                       "scenarios",
                       "simulate",
]
