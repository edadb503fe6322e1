"""The messages of the Paxos family, named and shaped as in the papers.

A *ballot* is a pair ``(round, proposer)``: rounds are integers and ties break by the
proposer's id, so two proposers never share a ballot (Lamport, "Paxos Made Simple", §2.2:
"different proposers choose their numbers from disjoint sets").  Python compares tuples
lexicographically, so ballots are ordered with ``<`` directly.  ``ZERO_BALLOT`` is below
every real ballot (rounds start at 1).

Single-decree Paxos is the one-slot case of the same messages: it uses ``slot = 0``.

Every message is a small dataclass; the simulator records its class name in
``run.messages.type`` (``"Prepare"``, ``"Promise"``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "NOOP",
    "ZERO_BALLOT",
    "Accept",
    "AcceptBatch",
    "Accepted",
    "AcceptedBatch",
    "Catchup",
    "Decided",
    "DecidedBatch",
    "Heartbeat",
    "Nack",
    "Prepare",
    "Promise",
    "Redirect",
    "Reply",
    "Request",
]

#: Below every ballot a proposer can choose (rounds start at 1).
ZERO_BALLOT = (0, "")

#: The no-op command a new Multi-Paxos leader proposes to fill a hole in the log.
NOOP = None


@dataclass(slots=True)
class Prepare:
    """Phase 1a: "promise me to ignore ballots below ``ballot``; tell me what you accepted
    at slots ``>= slot``"."""
    ballot: tuple
    slot: int = 0


@dataclass(slots=True)
class Promise:
    """Phase 1b: the acceptor promised ``ballot``; ``accepted`` lists its accepted proposals
    as ``(slot, accepted_ballot, value)`` triples, one per slot at or above the asked one."""
    ballot: tuple
    accepted: tuple = ()


@dataclass(slots=True)
class Accept:
    """Phase 2a: "accept ``value`` at ``slot`` in ``ballot``"."""
    ballot: tuple
    slot: int
    value: object


@dataclass(slots=True)
class Accepted:
    """Phase 2b: the acceptor accepted the proposal of ``ballot`` at ``slot``."""
    ballot: tuple
    slot: int


@dataclass(slots=True)
class Decided:
    """To the learners: ``value`` is chosen at ``slot``."""
    slot: int
    value: object


@dataclass(slots=True)
class AcceptBatch:
    """Multi-Paxos batching (``max_batch``): one phase-2a round for the consecutive slots
    ``slot, slot + 1, …``: "accept ``values[i]`` at ``slot + i`` in ``ballot``"."""
    ballot: tuple
    slot: int
    values: tuple


@dataclass(slots=True)
class AcceptedBatch:
    """Phase 2b for a whole :class:`AcceptBatch`: the acceptor accepted the ``count``
    proposals of ``ballot`` from ``slot`` on."""
    ballot: tuple
    slot: int
    count: int


@dataclass(slots=True)
class DecidedBatch:
    """To the learners: ``values[i]`` is chosen at ``slot + i``."""
    slot: int
    values: tuple


@dataclass(slots=True)
class Nack:
    """The acceptor refused ``ballot`` because it has promised the higher ``promised``
    (the "preempted" message of van Renesse & Altinbuken)."""
    ballot: tuple
    promised: tuple


@dataclass(slots=True)
class Heartbeat:
    """Multi-Paxos: the leader of ``ballot`` is alive and has applied every slot below
    ``commit``."""
    ballot: tuple
    commit: int


@dataclass(slots=True)
class Catchup:
    """Multi-Paxos: a lagging replica asks the leader for the decisions from ``slot`` on."""
    slot: int


@dataclass(slots=True)
class Request:
    """Client to server: run operation ``op_id``: ``f`` on ``key`` with ``value``."""
    op_id: int
    f: str
    key: object
    value: object


@dataclass(slots=True)
class Reply:
    """Server to client: operation ``op_id`` ended with ``status`` and ``result``."""
    op_id: int
    status: str
    result: object


@dataclass(slots=True)
class Redirect:
    """Server to client: I am not the leader; ``leader`` may be (``None``: unknown)."""
    op_id: int
    leader: str | None
