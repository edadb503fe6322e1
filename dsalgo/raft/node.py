"""A Raft server: leader election, log replication and the key-value service.

The paper is the spec: Ongaro & Ousterhout, "In Search of an Understandable Consensus
Algorithm (Extended Version)", 2014.  Figure 2 is the checklist this module follows rule
by rule; the extensions come from Ongaro's thesis ("Consensus: Bridging Theory and
Practice", Stanford, 2014).

What it implements
------------------
- §5.2 leader election: randomized election timeouts drawn from a range, one vote per
  term persisted *before* answering, candidates step down on a higher term and resend
  ``RequestVote`` every heartbeat interval to peers that have not answered (§5.1);
- §5.3 log replication: ``AppendEntries`` with the consistency check on
  ``(prev_log_index, prev_log_term)``, deletion of a conflicting entry and all that follow
  it, and the fast ``next_index`` back-off by conflicting term;
- §5.4.1 the election restriction: a vote only for a candidate whose log is at least as
  up-to-date as the voter's;
- §5.4.2 commitment: a leader counts replicas only for entries *of its own term*; earlier
  entries are committed indirectly (the Figure 8 rule);
- §8 clients: redirect from followers, one application per request id (see :mod:`.kv`),
  a no-op entry at the start of each term (optional), and three read paths:
  ``"log"`` (reads are log entries), ``"read_index"`` (thesis §6.4: remember the commit
  index, confirm leadership with a heartbeat round acknowledged by a majority, answer
  once applied) and ``"local"`` (deliberately unsafe: whoever *believes* it leads answers
  from its own state machine; a deposed leader serves stale reads);
- thesis §9.6 PreVote and §6.2 CheckQuorum (a leader that has not heard from a majority
  within an election timeout steps down), each an option;
- thesis §3.10 ``TimeoutNow``: start an election at once.

The handlers live in two mixins, :mod:`.election` and :mod:`.replication`; this module
holds the server's state, its persistence and the message dispatch.

Safety properties (§5.2–5.4, Figure 3), checked from the run tables by
:func:`dsalgo.raft.check`: Election Safety, Leader Append-Only, Log Matching, Leader
Completeness, State Machine Safety; and, from the ``vote`` events, that every leader had
votes of its term from a majority and no server voted twice in a term.

What it simplifies
------------------
The membership is fixed (no joint consensus, §6), there are no snapshots (§7): a
restarted server replays its whole log.  ``current_term``, ``voted_for`` and the log live
in ``ctx.disk``; a reply that reports on them (a vote, an acknowledgement of entries, a
refusal after a term change), a candidate's RequestVote and the leader counting its own
log toward a majority wait for ``ctx.sync`` to make the write durable (Figure 2: "updated
on stable storage before responding to RPCs").  Without a storage model the sync is
instant and the order of effects is what it was before storage existed; with one
(``simulate(..., storage=sim.Storage(...))``) the wait is real, and a crash loses what was
not yet synced.  Everything else (role, commit index, state machine) is volatile and lost
on a crash.

Teaching bugs (``Config.bugs``, described in :data:`~dsalgo.raft.config.BUGS`), each a
one-line departure from Figure 2: ``commit_prior_term`` (count replicas of entries from
earlier terms: Figure 8), ``no_up_to_date_check`` (vote for any candidate),
``forget_vote_on_restart`` (keep ``voted_for`` in memory only) and
``no_truncate_on_conflict`` (keep a conflicting entry and report success),
``reply_before_sync`` (grant a vote or acknowledge entries before the write is durable),
``count_stale_votes`` (count a grant of an earlier term), ``revote_for_newer_log`` (vote a
second time in a term for a more up-to-date log) and ``read_index_without_quorum``
(answer a ReadIndex read without confirming leadership).
"""

from __future__ import annotations

from dsalgo import sim

from .config import BUGS, CANDIDATE, FOLLOWER, LEADER, READS, Config, majority
from .election import Elections
from .kv import RaftStore
from .messages import (
    AppendEntries,
    AppendEntriesReply,
    ClientRequest,
    Entry,
    RequestVote,
    RequestVoteReply,
    TimeoutNow,
)
from .replication import Replication

__all__ = ["BUGS", "CANDIDATE", "FOLLOWER", "LEADER", "READS", "RaftNode", "majority"]


class RaftNode(Elections, Replication, sim.Node):
    """One Raft server of the cluster ``servers``, running with the cluster's
    :class:`~dsalgo.raft.config.Config` (default ``Config()``).

    The state and the dispatch live here; the handlers in :mod:`.election` and
    :mod:`.replication`.

    Protocol events in ``run.events`` (every one carries ``term``, the server's current
    term): ``role`` (``role``), ``vote`` (``candidate``: recorded when the vote is cast,
    a candidate's own once durable, another's as the reply granting it leaves),
    ``leader_elected``
    (``last_log_index``), ``follow`` (``leader``: the first time a server learns the
    leader of a term), ``append`` / ``truncate`` / ``commit`` / ``apply`` (``log_index``,
    and for all but truncate ``entry_term`` and ``digest``; ``apply`` adds ``op_id``,
    ``process`` and ``executed``: whether the command took effect or was a duplicate).

    Examples
    --------
    A lone server elects itself when its election timer fires:

    >>> from dsalgo import sim
    >>> from dsalgo import raft
    >>> node = RaftNode(["n1"], raft.Config(noop=False))
    >>> ctx = sim.RecordingContext("n1")
    >>> node.on_start(ctx)
    >>> [e.kind for e in ctx.fire(node, "election") if isinstance(e, sim.Emit)]
    ['role', 'vote', 'role', 'leader_elected']
    >>> node.role, ctx.disk["current_term"], ctx.disk["voted_for"]
    ('leader', 1, 'n1')
    """

    def __init__(self, servers, config: Config | None = None):
        self.servers = tuple(servers)
        self.config = Config() if config is None else config
        self.majority = majority(len(self.servers))

    # ------------------------------------------------------------ state
    def on_start(self, ctx):
        cfg = self.config
        disk = ctx.disk
        if "log" not in disk:  # first boot: Figure 2's initial persistent state
            disk["current_term"] = 0
            disk["voted_for"] = None
            disk["log"] = [Entry(0, None, 0)]  # index 0: a sentinel, so indexes start at 1
        self.disk = disk
        self.log: list = disk["log"]
        self.peers = [s for s in self.servers if s != ctx.id]
        self.vote_memory = disk["voted_for"]  # only used with forget_vote_on_restart
        if "forget_vote_on_restart" in cfg.bugs:
            self.vote_memory = None  # BUG: the vote was never made durable
        self.role = FOLLOWER
        self.leader_id = None
        self.commit_index = 0
        self.last_applied = 0
        self.store = RaftStore(off_by_one="dedup_off_by_one" in cfg.bugs)
        self.votes: set = set()
        self.answered: set = set()
        self.prevotes: set | None = None
        self.last_contact = float("-inf")  # local time a current leader was last heard
        self.next_index: dict = {}
        self.match_index: dict = {}
        self.acked_seq: dict = {}
        self.in_flight: dict = {}
        self.sent_upto: dict = {}
        self.heard: set = set()
        self.seq = 0
        self.term_start = 0
        self.pending: dict = {}  # log index -> (client, op_id) awaiting apply (leader only)
        self.reads: list = []     # ReadIndex reads awaiting confirmation (leader only)
        self.synced_index = len(self.log) - 1  # our log is durable up to here
        self.batched = 0                       # commands appended since the last round
        self.reply_early = "reply_before_sync" in cfg.bugs
        self.instant = ctx.durable_at_once      # no storage model: syncs take no time
        ctx.emit("role", role=FOLLOWER, term=self.current_term)
        if not ctx.durable_at_once:
            # what a start recovers is what was synced: the log holds nothing from here
            # on, whatever it held before a crash (an event, so the checker knows)
            ctx.emit("truncate", term=self.current_term, log_index=len(self.log))
        ctx.set_timer("election", cfg.election_timeout)

    @property
    def current_term(self) -> int:
        return self.disk["current_term"]

    @property
    def voted_for(self):
        if "forget_vote_on_restart" in self.config.bugs:
            return self.vote_memory
        return self.disk["voted_for"]

    def _vote(self, candidate):
        self.disk["voted_for"] = candidate
        self.vote_memory = candidate

    def _reply(self, ctx, dst, msg, wrote: bool, on_send=None):
        """Send ``msg``, once the writes it reports on are durable if ``wrote``.

        A reply that waited is dropped if the term moved on meanwhile (the sender retries);
        without a storage model it leaves at once, as it always did.  ``on_send`` (no
        arguments) is called just before a reply that waited leaves.
        """
        if not wrote or self.instant:
            ctx.send(dst, msg)
        elif self.reply_early:
            ctx.send(dst, msg)  # BUG: acknowledged before it is durable
            ctx.sync()
        else:
            term = self.current_term

            def send():
                if self.current_term == term:
                    if on_send is not None:
                        on_send()
                    ctx.send(dst, msg)
            ctx.sync(then=send)

    def _own_log_durable(self, ctx, reply=None):
        """Ask for our log to be made durable; the leader counts itself in a majority only
        for the entries a completed sync covers.  ``reply``, a ``(dst, msg)`` pair, leaves
        when that sync completes (dropped if the term moved on meanwhile, as
        :meth:`_reply` drops one)."""
        if self.instant:  # no storage model: durable at once (no closure on the hot path)
            self.synced_index = len(self.log) - 1
            if self.role == LEADER:
                self._advance_commit(ctx)
            if reply is not None:
                ctx.send(*reply)
            return
        index, term = len(self.log) - 1, self.current_term

        def done():
            if self.current_term == term:
                # (a same-term truncation never reaches entries of this term, but the
                # index is kept inside the log all the same)
                covered = min(index, len(self.log) - 1)
                if covered > self.synced_index:
                    self.synced_index = covered
                if self.role == LEADER:
                    self._advance_commit(ctx)
                if reply is not None:
                    ctx.send(*reply)

        ctx.sync(then=done)

    @property
    def last_log_index(self) -> int:
        return len(self.log) - 1

    def _set_term(self, term):
        self.disk["current_term"] = term
        self._vote(None)

    def _become_follower(self, ctx, term):
        """Adopt ``term`` (if newer) and the follower role (§5.1: any RPC with a higher term
        makes a server a follower of that term)."""
        newer = term > self.current_term
        if newer:
            self._set_term(term)
            self.leader_id = None
        elif self.role == FOLLOWER:
            return
        was = self.role
        self.role = FOLLOWER
        self.prevotes = None
        if was == CANDIDATE:
            ctx.cancel_timer("vote_retry")
        elif was == LEADER:
            self.leader_id = None
            self._stop_leading(ctx)
        ctx.emit("role", role=FOLLOWER, term=term)
        if not ctx.timer_set("election"):
            ctx.set_timer("election", self.config.election_timeout)

    def _stop_leading(self, ctx):
        ctx.cancel_timer("heartbeat")
        ctx.cancel_timer("check_quorum")
        if self.config.max_batch is not None:
            ctx.cancel_timer("flush")
            self.batched = 0
        self.pending = {}
        self.reads = []  # clients retry elsewhere

    # ------------------------------------------------------------ dispatch
    def on_message(self, ctx, src, msg):
        handler = _DISPATCH.get(type(msg))
        if handler is not None:
            handler(self, ctx, src, msg)

    def on_timer(self, ctx, name):
        if name == "election":
            self._on_election_timeout(ctx)
        elif name == "heartbeat":
            self._broadcast(ctx)
            ctx.set_timer("heartbeat", self.config.heartbeat_interval)
        elif name == "check_quorum":
            self._on_check_quorum(ctx)
        elif name == "vote_retry":
            self._request_votes(ctx)
        elif name == "flush":
            self._flush(ctx)


_DISPATCH = {
    RequestVote: RaftNode._on_request_vote,
    RequestVoteReply: RaftNode._on_request_vote_reply,
    AppendEntries: RaftNode._on_append_entries,
    AppendEntriesReply: RaftNode._on_append_entries_reply,
    TimeoutNow: RaftNode._on_timeout_now,
    ClientRequest: RaftNode._on_client_request,
}
