"""The knobs of the Paxos family: one frozen, self-validating :class:`Config`.

Every knob is one field; :func:`dsalgo.paxos.simulate` takes them as keywords, checks them
here once, and ``run.params`` records them (:meth:`Config.to_params`).  The knobs that
depend on the cluster size -- ``proposers <= n`` and quorum sizes ``<= n`` -- are checked
by :meth:`Config.quorums`, which is given ``n``.  The key-value workload of Multi-Paxos
has knobs of its own (:class:`WorkloadConfig`).

Examples
--------
>>> Config(variant="single", proposers=3).proposers
3
>>> print(Config.describe().splitlines()[0])
variant : str = 'multi'
"""

from __future__ import annotations

import dataclasses

from dsalgo import sim
from dsalgo._validate import check_int
from dsalgo.sim import checks, knob

from .quorums import Quorums, _size, resolve_quorums

__all__ = ["BUGS", "VARIANTS", "Config", "WorkloadConfig"]

#: The deliberate defects ``bugs=`` accepts, each with the rule it breaks.
BUGS = {
    "acceptor_forgets_promise": "An acceptor keeps its promise and accepted proposals in "
                                "volatile memory, so after a restart it accepts a ballot "
                                "below one it promised (acceptor state must be durable).",
    "ignore_accepted_value": "A proposer with a phase-1 quorum proposes its own value (a "
                             "Multi-Paxos leader: a no-op) instead of the value of the "
                             "highest ballot accepted in the quorum (P2c).",
    "duplicate_ballots": "Proposers number ballots from one shared set, so two of them can "
                         "run the same ballot with different values (ballots must be "
                         "unique to their proposer).",
    "dedup_at_leader_only": "Replicas trust the leader to filter retried requests and "
                            "execute every decided command: a retry that reaches a new "
                            "leader while its first copy is still accepted at the old "
                            "ballot is decided at two slots and executed twice (each "
                            "operation must take effect once, at its first slot).",
    "no_accept_retransmit": "The leader sends each Accept once and never re-sends it: a "
                            "slot whose Accepts or replies are lost is never decided, and "
                            "since replicas apply in slot order nothing after it takes "
                            "effect (a leader must retry until a quorum answers; breaks "
                            "progress, not safety).",
    "reply_before_sync": "An acceptor sends its promise or its accepted reply "
                         "before the write is durable (it asks for the sync but does not "
                         "wait), so a crash can take back a promise or an acceptance a "
                         "proposer counted (both must be on stable storage before the "
                         "reply; harmless when storage is instant).",
    "accept_below_promise": "An acceptor compares an Accept with the highest ballot it "
                            "has accepted instead of the ballot it promised, so after "
                            "promising a higher ballot it still accepts a lower one "
                            "(acceptor ballots must never decrease).",
    "reply_before_write": "An acceptor sends its promise or its accepted reply first and "
                          "writes its state after, in the same handler: a crash between "
                          "the two (a crash point inside the handler) takes back what it "
                          "answered (the write must come before the reply; harmless when "
                          "handlers are atomic).",
    "stale_votes": "Single-decree: a proposer keeps counting the Accepted votes of its "
                   "earlier ballots, so a mix of votes from two ballots can make it decide "
                   "a value no phase-2 quorum accepted in one ballot.",
}

VARIANTS = ("single", "multi")


def _quorum(name, q):
    """``None``, a quorum size ``>= 1`` (its upper bound ``n`` is checked by
    :meth:`Config.quorums`) or a quorum system."""
    return _size(name, q, None)


@dataclasses.dataclass(frozen=True)
class Config(sim.Config):
    """The Paxos family's knobs (see :meth:`describe`).

    Examples
    --------
    >>> Config(heartbeat_interval=0.2)
    Traceback (most recent call last):
    ...
    ValueError: heartbeat_interval must be shorter than the smallest election timeout 0.15 (or followers depose a live leader); got 0.2
    >>> Config(q2=2).to_params()["q2"], Config(bugs=["duplicate_ballots"]).to_params()["bugs"]
    (2, ['duplicate_ballots'])
    """

    variant: str = knob("multi", "'single': single-decree Paxos with competing proposers; "
                        "'multi': the Multi-Paxos key-value store.", checks.choice(*VARIANTS))
    proposers: int = knob(2, "Single-decree: the first `proposers` servers each propose "
                          "their own value 'v1', 'v2', ... (at most n).",
                          checks.integer(low=1))
    q1: object = knob(None, "Phase-1 quorums: a size or a quorum system (its read quorums); "
                      "default the smallest that meets q2, or majorities.", _quorum)
    q2: object = knob(None, "Phase-2 quorums: a size or a quorum system (its write "
                      "quorums); default the smallest that meets q1, or majorities.",
                      _quorum)
    unsafe: bool = knob(False, "Accept phase-1 and phase-2 quorums that need not intersect "
                        "(to watch Paxos break).", checks.boolean)
    backoff: tuple = knob((0.0, 0.02), "Single-decree: range of the random wait after a "
                          "proposer is preempted, seconds.", checks.interval())
    retry_timeout: float = knob(0.1, "Single-decree: seconds a proposer waits for a quorum "
                                "before trying a higher ballot.", checks.positive)
    heartbeat_interval: float = knob(0.05, "Multi-Paxos: seconds between leader "
                                     "heartbeats.", checks.positive)
    election_timeout: tuple = knob((0.15, 0.3), "Multi-Paxos: range of the silence after "
                                   "which a follower takes over, seconds.",
                                   checks.interval(low=0.0, low_open=True))
    window: int = knob(8, "Multi-Paxos: most slots in flight at the leader (with "
                       "max_batch: most rounds).", checks.integer(low=1))
    max_batch: int = knob(None, "Multi-Paxos batching: a leader sends the commands that "
                          "reach it while it is busy in one accept round (one sync per "
                          "acceptor), at most this many (None: a round per command).",
                          checks.optional(checks.integer(low=1)))
    bugs: frozenset = knob(frozenset(), "Deliberate defects to plant (see BUGS).",
                           checks.bugs(BUGS))

    def validate(self):
        if self.variant == "multi" and self.heartbeat_interval >= self.election_timeout[0]:
            raise ValueError(f"heartbeat_interval must be shorter than the smallest election "
                             f"timeout {self.election_timeout[0]!r} (or followers depose a "
                             f"live leader); got {self.heartbeat_interval!r}")

    def quorums(self, n: int) -> Quorums:
        """The phase-1/phase-2 :class:`~dsalgo.paxos.quorums.Quorums` over ``n`` servers,
        after checking the knobs bounded by ``n`` (``proposers``, quorum sizes).

        Examples
        --------
        >>> Config(q2=2).quorums(5)
        Quorums(<QuorumSystem flexible(n=5, q1=4, q2=2): reads = any 4 of 5, writes = any 2 of 5 over 5 nodes>)
        >>> Config(variant="single", proposers=4).quorums(3)
        Traceback (most recent call last):
        ...
        ValueError: proposers must be an integer <= 3; got 4
        """
        n = check_int("n", n, low=1)
        check_int("proposers", self.proposers, high=n)
        return resolve_quorums(n, self.q1, self.q2, unsafe=self.unsafe)


@dataclasses.dataclass(frozen=True)
class WorkloadConfig(sim.KVWorkloadConfig):
    """The Multi-Paxos store's workload: :class:`dsalgo.sim.KVWorkloadConfig` over three
    keys (so that ``cas`` operations contend).

    Examples
    --------
    >>> WorkloadConfig().keys, WorkloadConfig(mode="open", rate=20).rate
    (3, 20.0)
    """

    keys: int = knob(3, "Number of keys (0 … keys-1).", checks.integer(low=1))
