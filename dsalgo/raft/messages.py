"""Raft's messages, named and shaped as in Figure 2 of the paper.

Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm (Extended
Version)", 2014, Figure 2: ``RequestVote`` and ``AppendEntries`` with their replies.
Additions, each marked where it is defined:

- ``prevote`` on ``RequestVote`` / ``RequestVoteReply``: the PreVote phase of Ongaro's
  thesis (2014), §9.6;
- ``conflict_index`` / ``conflict_term`` on ``AppendEntriesReply``: the fast back-off
  sketched at the end of §5.3;
- ``seq`` on ``AppendEntries`` / ``AppendEntriesReply``: the heartbeat round a reply
  answers, which ReadIndex (thesis §6.4) needs to confirm leadership;
- ``TimeoutNow``: the thesis's leadership-transfer message (§3.10), which tells a server
  to start an election at once; scripted runs use it to choose who campaigns when;
- ``ClientRequest`` / ``ClientReply``: the client interaction of §8 (a request id per
  client process, so that a retried command is applied once).

A log entry is an :class:`Entry` ``(term, command, digest)``; ``digest`` chains a CRC-32
over every ``(term, command)`` up to and including this entry, so two entries with equal
digests head identical logs.  It is bookkeeping for the checker (Log Matching from the
tables alone), recomputed by every server over its own log, never trusted from the wire.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "AppendEntries",
    "AppendEntriesReply",
    "ClientReply",
    "ClientRequest",
    "Entry",
    "RequestVote",
    "RequestVoteReply",
    "TimeoutNow",
    "chain_digest",
]


class Entry(NamedTuple):
    """One log entry: the leader's ``term`` when it was created, the state-machine
    ``command`` (a :class:`dsalgo.sim.Command`; ``None`` for a leader's no-op) and the chained ``digest`` of the log up to
    here."""

    term: int
    command: Any
    digest: int


def chain_digest(prev_digest: int, term: int, command) -> int:
    """The digest of a log whose previous entry has ``prev_digest`` and whose new last
    entry is ``(term, command)`` (CRC-32, deterministic in every process).

    Examples
    --------
    >>> a = chain_digest(0, 1, ("c1", 0, "put", 0, 0))
    >>> a == chain_digest(0, 1, ("c1", 0, "put", 0, 0)), a == chain_digest(0, 2, None)
    (True, False)
    >>> from dsalgo import sim
    >>> a == chain_digest(0, 1, sim.Command("c1", 0, "put", 0, 0))
    True
    """
    if command is not None:
        # digest the command's fields, not its type: a dsalgo.sim.Command and a plain
        # tuple with the same fields give the same digest
        command = tuple(command)
    return zlib.crc32(repr((term, command)).encode(), prev_digest)


@dataclass(frozen=True, slots=True)
class RequestVote:
    """Invoked by candidates to gather votes (§5.2).  With ``prevote`` it only asks whether
    the receiver *would* vote in ``term`` (thesis §9.6): nobody changes state."""

    term: int
    candidate_id: str
    last_log_index: int
    last_log_term: int
    prevote: bool = False


@dataclass(frozen=True, slots=True)
class RequestVoteReply:
    """``term``: the receiver's current term, for the candidate to update itself."""

    term: int
    vote_granted: bool
    prevote: bool = False


@dataclass(frozen=True, slots=True)
class AppendEntries:
    """Invoked by the leader to replicate log entries (§5.3); also the heartbeat (§5.2)."""

    term: int
    leader_id: str
    prev_log_index: int
    prev_log_term: int
    entries: tuple
    leader_commit: int
    seq: int = 0


@dataclass(frozen=True, slots=True)
class AppendEntriesReply:
    """``match_index``: the last index known to match the leader's log when ``success``;
    on failure ``conflict_index`` (and ``conflict_term`` when the follower has an entry
    at ``prev_log_index`` of another term) say where to retry from."""

    term: int
    success: bool
    match_index: int = 0
    conflict_index: int = 0
    conflict_term: int | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class TimeoutNow:
    """Start an election now, as if the election timeout had elapsed (thesis §3.10)."""

    term: int = 0


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """A client command.  ``(process, op_id)`` identifies it: a retry carries the same
    pair, and the state machine applies it once (§8)."""

    process: str
    op_id: int
    f: str
    key: Any
    value: Any = None


@dataclass(frozen=True, slots=True)
class ClientReply:
    """``status``: ``"ok"``, ``"fail"`` (a cas whose compare failed) or ``"redirect"``
    (not the leader; ``leader_hint`` names the leader it knows, if any)."""

    op_id: int
    status: str
    result: Any = None
    leader_hint: str | None = None
