"""Raft's configuration: roles, bug and read-path names, the majority helper, and
:class:`RaftConfig`, the settings every server of one cluster shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..sim import majority  # the one quorum-size helper, re-exported here

__all__ = ["BUGS", "CANDIDATE", "FOLLOWER", "LEADER", "READS", "RaftConfig", "majority"]

FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"
BUGS = ("commit_prior_term", "no_up_to_date_check", "forget_vote_on_restart",
        "no_truncate_on_conflict")
READS = ("log", "read_index", "local")


@dataclass(frozen=True)
class RaftConfig:
    """What every server of one cluster is configured with (validated by
    :func:`dsalgo.raft.simulate`; the node trusts it).

    Examples
    --------
    >>> RaftConfig(servers=("n1", "n2", "n3")).majority
    2
    """

    servers: tuple = ("n1",)
    election_timeout: tuple = (0.150, 0.300)
    heartbeat_interval: float = 0.050
    prevote: bool = False
    check_quorum: bool = False
    reads: str = "log"
    noop: bool = True
    max_entries: int = 64
    bugs: frozenset = field(default_factory=frozenset)

    @property
    def majority(self) -> int:
        return majority(len(self.servers))
