"""Raft leader election (§5.2, §5.4.1) with PreVote, CheckQuorum and TimeoutNow.

The election half of :class:`dsalgo.raft.node.RaftNode`, kept in its own module so each
half reads in one sitting.  Rules followed, from Figure 2 of Ongaro & Ousterhout (2014):
a follower that hears nothing for an election timeout becomes a candidate, increments
``current_term``, votes for itself and asks every peer for a vote (retrying peers that do
not answer, §5.1); a voter grants at most one vote per term, persisted before it answers,
and only to a candidate whose log is at least as up-to-date as its own (§5.4.1); a
candidate with votes from a majority leads.  Thesis extensions: PreVote (§9.6),
CheckQuorum (§6.2) and TimeoutNow (§3.10).
"""

from __future__ import annotations

from .config import CANDIDATE, FOLLOWER, LEADER
from .messages import Entry, RequestVote, RequestVoteReply, TimeoutNow

__all__ = ["Elections"]


class Elections:
    """Mixin: the election handlers of :class:`~dsalgo.raft.node.RaftNode`."""

    def _on_election_timeout(self, ctx):
        cfg = self.config
        if self.role == LEADER:
            return
        if not cfg.prevote:
            self._start_election(ctx)
            return
        # PreVote (thesis §9.6): ask first whether a majority would vote, without bumping
        # the term, so a server cut off from the cluster cannot disrupt it on return
        self.prevotes = {ctx.id}
        if self.role == CANDIDATE:
            ctx.cancel_timer("vote_retry")
        ctx.set_timer("election", cfg.election_timeout)
        if len(self.prevotes) >= self.majority:
            self._start_election(ctx)
            return
        rv = RequestVote(self.current_term + 1, ctx.id, self.last_log_index,
                         self.log[-1].term, prevote=True)
        ctx.broadcast(self.peers, rv)

    def _start_election(self, ctx):
        cfg = self.config
        self.prevotes = None
        self._set_term(self.current_term + 1)
        self._vote(ctx.id)
        self.role = CANDIDATE
        self.leader_id = None
        self.votes = {ctx.id}
        self.answered = set()
        ctx.emit("role", role=CANDIDATE, term=self.current_term)
        if "no_election_retry" in cfg.bugs:
            ctx.cancel_timer("election")  # BUG: a candidate is sure to win or hear a winner
        else:
            ctx.set_timer("election", cfg.election_timeout)  # a split vote: try again
        if len(self.votes) >= self.majority:
            ctx.emit("vote", term=self.current_term, candidate=ctx.id)
            self._become_leader(ctx)
            return
        # the new term and our own vote are durable before anyone is asked (Figure 2)
        term = self.current_term
        ctx.sync(then=lambda: self.current_term == term and self._own_vote_durable(ctx))

    def _own_vote_durable(self, ctx):
        """Our vote for ourselves is on disk (a ``vote`` event): now ask the others."""
        ctx.emit("vote", term=self.current_term, candidate=ctx.id)
        self._request_votes(ctx)

    def _request_votes(self, ctx):
        """Send RequestVote to every peer that has not answered, and retry in a heartbeat
        interval (§5.1: servers retry RPCs that get no response in a timely manner)."""
        if self.role != CANDIDATE:
            return
        rv = RequestVote(self.current_term, ctx.id, self.last_log_index, self.log[-1].term)
        for p in self.peers:
            if p not in self.answered:
                ctx.send(p, rv)
        ctx.set_timer("vote_retry", self.config.heartbeat_interval)

    def _log_ok(self, msg) -> bool:
        """§5.4.1: the candidate's log is at least as up-to-date as ours (last terms
        compared first, then lengths)."""
        my_term = self.log[-1].term
        return (msg.last_log_term > my_term
                or (msg.last_log_term == my_term and msg.last_log_index >= self.last_log_index))

    def _on_request_vote(self, ctx, src, msg: RequestVote):
        cfg = self.config
        if msg.prevote:
            # grant a prevote only to a candidate as current as us that we would vote for,
            # and only if no leader has been heard from within an election timeout
            quiet = (self.role != LEADER
                     and ctx.now - self.last_contact >= cfg.election_timeout[0])
            grant = msg.term > self.current_term and quiet and self._log_ok(msg)
            ctx.send(src, RequestVoteReply(msg.term if grant else self.current_term, grant,
                                           prevote=True))
            return
        wrote = msg.term > self.current_term
        if wrote:
            self._become_follower(ctx, msg.term)
        up_to_date = "no_up_to_date_check" in cfg.bugs or self._log_ok(msg)
        # Safety: one vote per term, durable before the reply leaves (voted_for is on
        # disk), and only for an up-to-date log, so every elected leader holds every
        # committed entry (Leader Completeness, §5.4.3)
        free = self.voted_for in (None, msg.candidate_id)
        if not free and "revote_for_newer_log" in cfg.bugs:
            # BUG: a second vote in this term, for a log more up-to-date than ours
            my_term = self.log[-1].term
            free = (msg.last_log_term > my_term or (msg.last_log_term == my_term and
                                                    msg.last_log_index > self.last_log_index))
        grant = msg.term == self.current_term and free and up_to_date
        voted = None
        if grant:
            self._vote(msg.candidate_id)
            # the ``vote`` event marks the vote as cast: when the reply granting it leaves
            # (at once without a storage model, else once the vote is durable)
            term, candidate = self.current_term, msg.candidate_id
            if self.instant or self.reply_early:
                ctx.emit("vote", term=term, candidate=candidate)
            else:
                def voted():
                    ctx.emit("vote", term=term, candidate=candidate)
            ctx.set_timer("election", cfg.election_timeout)
        self._reply(ctx, src, RequestVoteReply(self.current_term, grant), wrote or grant,
                    on_send=voted)

    def _on_request_vote_reply(self, ctx, src, msg: RequestVoteReply):
        if msg.prevote:
            if (self.prevotes is not None and self.role != LEADER and msg.vote_granted
                    and msg.term == self.current_term + 1):
                self.prevotes.add(src)
                if len(self.prevotes) >= self.majority:
                    self._start_election(ctx)
            elif not msg.vote_granted and msg.term > self.current_term:
                self._become_follower(ctx, msg.term)
            return
        if msg.term > self.current_term:
            self._become_follower(ctx, msg.term)
            return
        if "count_stale_votes" in self.config.bugs and self.role == CANDIDATE:
            # BUG: a grant of an earlier term of ours is taken for one of this term
            msg = RequestVoteReply(self.current_term, msg.vote_granted)
        if self.role != CANDIDATE or msg.term != self.current_term:
            return
        self.answered.add(src)
        if msg.vote_granted:
            self.votes.add(src)
            if len(self.votes) >= self.majority:
                self._become_leader(ctx)

    def _on_timeout_now(self, ctx, src, msg: TimeoutNow):
        if msg.term > self.current_term:
            self._become_follower(ctx, msg.term)
        if self.role == LEADER:
            self.role = FOLLOWER
            self._stop_leading(ctx)
        self._start_election(ctx)

    def _become_leader(self, ctx):
        cfg = self.config
        self.role = LEADER
        self.leader_id = ctx.id
        term = self.current_term
        ctx.cancel_timer("election")
        ctx.cancel_timer("vote_retry")
        ctx.emit("role", role=LEADER, term=term)
        ctx.emit("leader_elected", term=term, last_log_index=self.last_log_index)
        nxt = self.last_log_index + 1
        self.next_index = {p: nxt for p in self.peers}
        self.match_index = {p: 0 for p in self.peers}
        self.acked_seq = {p: 0 for p in self.peers}
        self.in_flight = {p: 0 for p in self.peers}  # rounds with entries unanswered
        self.sent_upto = {p: nxt - 1 for p in self.peers}  # last index sent (pipelining)
        self.heard = set()
        self.pending = {}
        self.reads = []
        self.term_start = nxt  # ReadIndex waits until an entry of this term is applied
        if cfg.noop:
            self._append(ctx, Entry(term, None, 0))  # §8: commit a blank entry at once
        self._broadcast(ctx)
        ctx.set_timer("heartbeat", cfg.heartbeat_interval)
        if cfg.check_quorum:
            ctx.set_timer("check_quorum", cfg.election_timeout[1])
        # counts itself once its log (the no-op included) is durable; then advances the
        # commit index (a one-server cluster commits alone)
        self._own_log_durable(ctx)

    def _on_check_quorum(self, ctx):
        # CheckQuorum (thesis §6.2): a leader cut off from a majority steps down after an
        # election timeout instead of leading (and serving local reads) forever
        if len(self.heard) + 1 < self.majority:
            self.role = FOLLOWER
            self.leader_id = None
            self._stop_leading(ctx)
            ctx.emit("role", role=FOLLOWER, term=self.current_term)
            ctx.set_timer("election", self.config.election_timeout)
            return
        self.heard = set()
        ctx.set_timer("check_quorum", self.config.election_timeout[1])
