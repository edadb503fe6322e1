"""Raft's configuration: roles, the teaching bugs and read paths, and :class:`Config`,
the knobs every server of one cluster shares (one field per knob, validated once)."""

from __future__ import annotations

import dataclasses

from ..sim import Config as _SimConfig
from ..sim import (
    checks,
    knob,
    majority,  # the one quorum-size helper, re-exported here
)

__all__ = ["BUGS", "CANDIDATE", "FOLLOWER", "LEADER", "READS", "Config", "majority"]

FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"

#: The teaching bugs: name -> the rule of the paper each one breaks.
BUGS = {
    "commit_prior_term": "A leader counts replicas to commit an entry of an earlier term "
                         "(Figure 8); §5.4.2 commits only entries of the leader's own term "
                         "that way.",
    "no_up_to_date_check": "A server votes for a candidate whose log is less up-to-date "
                           "than its own; §5.4.1 refuses such a vote.",
    "forget_vote_on_restart": "A server keeps voted_for in memory only, so it can vote "
                              "twice in one term after a restart; Figure 2 makes it "
                              "persistent state.",
    "no_truncate_on_conflict": "A follower keeps a conflicting entry and reports success; "
                               "§5.3 deletes it and all that follow it.",
    "dedup_off_by_one": "The state machine's duplicate detection compares op ids with < "
                        "instead of <=, so a retried command that reached the log twice is "
                        "applied twice; §8 applies each command once.",
    "no_election_retry": "A candidate stops its election timer while it waits for votes, "
                         "so after a split vote it waits forever; Figure 2 has a "
                         "candidate start a new election when the timeout elapses "
                         "(breaks progress, not safety).",
    "reply_before_sync": "A server grants a vote or acknowledges entries before its write "
                         "is durable (it asks for the sync but does not wait), so a crash "
                         "can take back a vote or an acknowledged entry; Figure 2 updates "
                         "persistent state on stable storage before responding to RPCs "
                         "(harmless when storage is instant).",
    "count_stale_votes": "A candidate counts a vote granted in an earlier term of its own "
                         "(a late reply) toward its current election; Figure 2 counts only "
                         "votes of the current term, so a leader may lack a majority.",
    "revote_for_newer_log": "A server that already voted in a term grants a second vote to "
                            "a candidate whose log is more up-to-date than its own; Figure 2 "
                            "grants at most one vote per term.",
    "read_index_without_quorum": "A leader answers a ReadIndex read once it has applied the "
                                 "read index, without a majority acknowledging a heartbeat "
                                 "sent after the read arrived; thesis §6.4 confirms "
                                 "leadership first, so a deposed leader serves stale reads.",
}

#: How ``get`` is served: as a log entry, by ReadIndex, or from the local state machine.
READS = ("log", "read_index", "local")


@dataclasses.dataclass(frozen=True)
class Config(_SimConfig):
    """The knobs of a Raft cluster (every server runs with the same config).

    Examples
    --------
    >>> Config(prevote=True).prevote
    True
    >>> Config(election_timeout=(0.1, 0.2), heartbeat_interval=0.2)
    Traceback (most recent call last):
    ...
    ValueError: heartbeat_interval must be shorter than the minimum election timeout 0.1; got 0.2
    >>> print(Config.describe().splitlines()[1])
        Range the randomized election timeout is drawn from, seconds (§5.2).
    """

    election_timeout: tuple = knob(
        (0.150, 0.300), "Range the randomized election timeout is drawn from, seconds (§5.2).",
        checks.interval(0.0, low_open=True))
    heartbeat_interval: float = knob(
        0.050, "Seconds between a leader's AppendEntries rounds (shorter than the minimum "
        "election timeout).", checks.positive)
    prevote: bool = knob(False, "PreVote: ask whether a majority would vote before "
                         "campaigning (thesis §9.6).", checks.boolean)
    check_quorum: bool = knob(False, "CheckQuorum: a leader that has not heard from a "
                              "majority within an election timeout steps down (thesis §6.2).",
                              checks.boolean)
    reads: str = knob("log", "How get is served: 'log' (a log entry), 'read_index' (a "
                      "heartbeat round confirms leadership, thesis §6.4) or 'local' (unsafe: "
                      "from the state machine of whoever believes it leads).",
                      checks.choice(*READS))
    noop: bool = knob(True, "A new leader appends a no-op entry of its term (§8).",
                      checks.boolean)
    max_entries: int = knob(64, "Most entries in one AppendEntries.", checks.integer(low=1))
    max_batch: int = knob(None, "Batching: a leader sends the commands that reach it while "
                          "it is busy in one AppendEntries round (and one sync), flushing at "
                          "the latest after this many (None: a round per command).",
                          checks.optional(checks.integer(low=1)))
    pipeline: int = knob(None, "Pipelining: most AppendEntries carrying entries a leader "
                         "keeps unanswered per follower (the next goes out when one is "
                         "answered, and each heartbeat starts afresh); None: no limit, a "
                         "round per command or batch.", checks.optional(checks.integer(low=1)))
    bugs: frozenset = knob(frozenset(), "Teaching bugs switched on (names of BUGS).",
                           checks.bugs(BUGS))

    def validate(self):
        # a follower must hear a heartbeat before its election timer can fire, or a healthy
        # leader is deposed over and over
        if self.heartbeat_interval >= self.election_timeout[0]:
            raise ValueError(f"heartbeat_interval must be shorter than the minimum election "
                             f"timeout {self.election_timeout[0]:g}; got "
                             f"{self.heartbeat_interval!r}")
