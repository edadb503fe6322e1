"""A Raft server: leader election, log replication and the key-value service.

The paper is the spec: Ongaro & Ousterhout, "In Search of an Understandable Consensus
Algorithm (Extended Version)", 2014.  Figure 2 is the checklist this module follows rule
by rule; the extensions come from Ongaro's thesis ("Consensus: Bridging Theory and
Practice", Stanford, 2014).

What it implements
------------------
- §5.2 leader election: randomized election timeouts drawn from a range, one vote per
  term persisted *before* answering, candidates step down on a higher term;
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

Safety properties (§5.2–5.4, Figure 3), checked from the run tables by
:func:`dsalgo.raft.check`: Election Safety, Leader Append-Only, Log Matching, Leader
Completeness, State Machine Safety.

What it simplifies
------------------
The membership is fixed (no joint consensus, §6), there are no snapshots (§7): a
restarted server replays its whole log.  ``current_term``, ``voted_for`` and the log live
in ``ctx.disk`` and are "written" at the instant they change: the simulator has no slow
disk, so "persist before responding" holds by construction.  Everything else (role,
commit index, state machine) is volatile and lost on a crash.

Teaching bugs (``RaftConfig.bugs``), each a one-line departure from Figure 2:
``commit_prior_term`` (count replicas of entries from earlier terms: Figure 8),
``no_up_to_date_check`` (vote for any candidate), ``forget_vote_on_restart`` (keep
``voted_for`` in memory only) and ``no_truncate_on_conflict`` (keep a conflicting entry
and report success).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsalgo import sim

from .kv import KVStore
from .messages import (
    AppendEntries,
    AppendEntriesReply,
    ClientReply,
    ClientRequest,
    Entry,
    RequestVote,
    RequestVoteReply,
    TimeoutNow,
    chain_digest,
)

__all__ = [
    "BUGS",
    "CANDIDATE",
    "FOLLOWER",
    "LEADER",
    "READS",
    "RaftConfig",
    "RaftNode",
    "majority",
]

FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"
BUGS = ("commit_prior_term", "no_up_to_date_check", "forget_vote_on_restart",
        "no_truncate_on_conflict")
READS = ("log", "read_index", "local")


def majority(n: int) -> int:
    """The size of the smallest majority of ``n`` servers: ``n // 2 + 1``.

    Examples
    --------
    >>> [majority(n) for n in (1, 2, 3, 4, 5)]
    [1, 2, 2, 3, 3]
    """
    return n // 2 + 1


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


class RaftNode(sim.Node):
    """One Raft server; build it with a :class:`RaftConfig` shared by the cluster.

    Protocol events in ``run.events`` (every one carries ``term``, the server's current
    term): ``role`` (``role``), ``vote`` (``candidate``), ``leader_elected``
    (``last_log_index``), ``follow`` (``leader``: the first time a server learns the
    leader of a term), ``append`` / ``truncate`` / ``commit`` / ``apply`` (``log_index``,
    and for all but truncate ``entry_term`` and ``digest``; ``apply`` adds ``op_id``).

    Examples
    --------
    A lone server elects itself when its election timer fires:

    >>> from dsalgo import sim
    >>> node = RaftNode(RaftConfig(servers=("n1",), noop=False))
    >>> ctx = sim.RecordingContext("n1")
    >>> node.on_start(ctx)
    >>> [e.kind for e in ctx.fire(node, "election") if isinstance(e, sim.Emit)]
    ['role', 'role', 'leader_elected']
    >>> node.role, ctx.disk["current_term"], ctx.disk["voted_for"]
    ('leader', 1, 'n1')
    """

    def __init__(self, config: RaftConfig):
        self.config = config

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
        self.peers = [s for s in cfg.servers if s != ctx.id]
        self.vote_memory = disk["voted_for"]  # only used with forget_vote_on_restart
        if "forget_vote_on_restart" in cfg.bugs:
            self.vote_memory = None  # BUG: the vote was never made durable
        self.role = FOLLOWER
        self.leader_id = None
        self.commit_index = 0
        self.last_applied = 0
        self.store = KVStore()
        self.votes: set = set()
        self.answered: set = set()
        self.prevotes: set | None = None
        self.last_contact = float("-inf")  # local time a current leader was last heard
        self.next_index: dict = {}
        self.match_index: dict = {}
        self.acked_seq: dict = {}
        self.heard: set = set()
        self.seq = 0
        self.term_start = 0
        self.pending: dict = {}  # log index -> (client, op_id) awaiting apply (leader only)
        self.reads: list = []     # ReadIndex reads awaiting confirmation (leader only)
        ctx.emit("role", role=FOLLOWER, term=self.current_term)
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

    # ------------------------------------------------------------ elections (§5.2)
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
        if len(self.prevotes) >= cfg.majority:
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
        ctx.set_timer("election", cfg.election_timeout)
        if len(self.votes) >= cfg.majority:
            self._become_leader(ctx)
            return
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
        if msg.term > self.current_term:
            self._become_follower(ctx, msg.term)
        up_to_date = "no_up_to_date_check" in cfg.bugs or self._log_ok(msg)
        # Safety: one vote per term, durable before the reply leaves (voted_for is on
        # disk), and only for an up-to-date log, so every elected leader holds every
        # committed entry (Leader Completeness, §5.4.3)
        grant = (msg.term == self.current_term and self.voted_for in (None, msg.candidate_id)
                 and up_to_date)
        if grant:
            self._vote(msg.candidate_id)
            ctx.emit("vote", term=self.current_term, candidate=msg.candidate_id)
            ctx.set_timer("election", cfg.election_timeout)
        ctx.send(src, RequestVoteReply(self.current_term, grant))

    def _on_request_vote_reply(self, ctx, src, msg: RequestVoteReply):
        if msg.prevote:
            if (self.prevotes is not None and self.role != LEADER and msg.vote_granted
                    and msg.term == self.current_term + 1):
                self.prevotes.add(src)
                if len(self.prevotes) >= self.config.majority:
                    self._start_election(ctx)
            elif not msg.vote_granted and msg.term > self.current_term:
                self._become_follower(ctx, msg.term)
            return
        if msg.term > self.current_term:
            self._become_follower(ctx, msg.term)
            return
        if self.role != CANDIDATE or msg.term != self.current_term:
            return
        self.answered.add(src)
        if msg.vote_granted:
            self.votes.add(src)
            if len(self.votes) >= self.config.majority:
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
        self._advance_commit(ctx)  # a one-server cluster commits alone

    def _on_check_quorum(self, ctx):
        # CheckQuorum (thesis §6.2): a leader cut off from a majority steps down after an
        # election timeout instead of leading (and serving local reads) forever
        if len(self.heard) + 1 < self.config.majority:
            self.role = FOLLOWER
            self.leader_id = None
            self._stop_leading(ctx)
            ctx.emit("role", role=FOLLOWER, term=self.current_term)
            ctx.set_timer("election", self.config.election_timeout)
            return
        self.heard = set()
        ctx.set_timer("check_quorum", self.config.election_timeout[1])

    # ------------------------------------------------------------ replication (§5.3)
    def _append(self, ctx, entry):
        """Append ``entry`` at the end of our log, digest recomputed over our own prefix."""
        e = Entry(entry.term, entry.command,
                  chain_digest(self.log[-1].digest, entry.term, entry.command))
        self.log.append(e)
        ctx.emit("append", term=self.current_term, log_index=len(self.log) - 1,
                 entry_term=e.term, digest=e.digest)

    def _broadcast(self, ctx):
        self.seq += 1
        for p in self.peers:
            self._send_append(ctx, p)

    def _send_append(self, ctx, peer):
        ni = self.next_index[peer]
        prev = ni - 1
        entries = tuple(self.log[ni:ni + self.config.max_entries])
        ctx.send(peer, AppendEntries(self.current_term, ctx.id, prev, self.log[prev].term,
                                     entries, self.commit_index, self.seq))

    def _on_append_entries(self, ctx, src, msg: AppendEntries):
        cfg = self.config
        term = self.current_term
        if msg.term < term or (msg.term == term and self.role == LEADER):
            ctx.send(src, AppendEntriesReply(term, False, seq=msg.seq))
            return
        self._become_follower(ctx, msg.term)
        term = self.current_term
        if self.leader_id != msg.leader_id:
            self.leader_id = msg.leader_id
            ctx.emit("follow", term=term, leader=msg.leader_id)
        self.last_contact = ctx.now
        ctx.set_timer("election", cfg.election_timeout)
        log = self.log
        prev = msg.prev_log_index
        if prev > len(log) - 1:
            ctx.send(src, AppendEntriesReply(term, False, conflict_index=len(log), seq=msg.seq))
            return
        if log[prev].term != msg.prev_log_term:
            # fast back-off: name the conflicting term and the first index we hold of it
            ct = log[prev].term
            first = prev
            while first > 1 and log[first - 1].term == ct:
                first -= 1
            ctx.send(src, AppendEntriesReply(term, False, conflict_index=first,
                                             conflict_term=ct, seq=msg.seq))
            return
        index = prev
        for e in msg.entries:
            index += 1
            if index < len(log):
                if log[index].term == e.term:
                    continue  # already have it (a duplicate or reordered AppendEntries)
                if "no_truncate_on_conflict" in cfg.bugs:
                    continue  # BUG: keeps an entry the leader does not have
                # an existing entry conflicts with a new one: delete it and all that
                # follow it (§5.3), the only way a follower's log ever shrinks
                del log[index:]
                ctx.emit("truncate", term=term, log_index=index)
            self._append(ctx, e)
        match = prev + len(msg.entries)
        if msg.leader_commit > self.commit_index:
            # only up to the last entry this message vouched for (Figure 2, rule 5)
            new = min(msg.leader_commit, match)
            if new > self.commit_index:
                self._commit(ctx, new)
        ctx.send(src, AppendEntriesReply(term, True, match_index=match, seq=msg.seq))

    def _on_append_entries_reply(self, ctx, src, msg: AppendEntriesReply):
        if msg.term > self.current_term:
            self._become_follower(ctx, msg.term)
            return
        if self.role != LEADER or msg.term != self.current_term:
            return
        self.heard.add(src)
        self.acked_seq[src] = max(self.acked_seq[src], msg.seq)
        if msg.success:
            if msg.match_index > self.match_index[src]:
                self.match_index[src] = msg.match_index
                self._advance_commit(ctx)
            if self.next_index[src] <= msg.match_index:
                self.next_index[src] = msg.match_index + 1
            self._serve_reads(ctx)
            return
        if msg.conflict_index == 0:
            return  # refused for another reason than the consistency check
        nxt = msg.conflict_index
        if msg.conflict_term is not None:
            # skip the follower's whole conflicting term in one step (end of §5.3)
            i = min(self.next_index[src] - 1, self.last_log_index)
            while i > 0 and self.log[i].term > msg.conflict_term:
                i -= 1
            if i > 0 and self.log[i].term == msg.conflict_term:
                nxt = i + 1
        self.next_index[src] = max(self.match_index[src] + 1, min(nxt, self.last_log_index + 1))
        self._send_append(ctx, src)

    def _advance_commit(self, ctx):
        matches = sorted([self.last_log_index, *self.match_index.values()], reverse=True)
        n = matches[self.config.majority - 1]  # held by a majority
        if n <= self.commit_index:
            return
        # Safety (§5.4.2, Figure 8): count replicas only for an entry of the leader's own
        # term.  A prior-term entry on a majority can still be overwritten by a leader
        # elected with a log whose last term is newer; it is committed indirectly when
        # an entry of the current term after it is.
        if self.log[n].term == self.current_term or "commit_prior_term" in self.config.bugs:
            self._commit(ctx, n)

    # ------------------------------------------------------------ commit and apply
    def _commit(self, ctx, index):
        self.commit_index = index
        e = self.log[index]
        term = self.current_term
        ctx.emit("commit", term=term, log_index=index, entry_term=e.term, digest=e.digest)
        store = self.store
        while self.last_applied < index:
            self.last_applied += 1
            i = self.last_applied
            e = self.log[i]
            out = store.apply(e.command)
            cmd = e.command
            ctx.emit("apply", term=term, log_index=i, entry_term=e.term, digest=e.digest,
                     op_id=None if cmd is None else cmd[1])
            waiting = self.pending.pop(i, None)
            if waiting is not None and out is not None and cmd[1] == waiting[1]:
                ctx.send(waiting[0], ClientReply(waiting[1], out[0], out[1]))
        self._serve_reads(ctx)

    # ------------------------------------------------------------ clients (§8)
    def _on_client_request(self, ctx, src, msg: ClientRequest):
        cfg = self.config
        if self.role != LEADER:
            ctx.send(src, ClientReply(msg.op_id, "redirect", leader_hint=self.leader_id))
            return
        done = self.store.cached(msg.process, msg.op_id)
        if done is not None:  # a retry of a command already applied: answer, don't re-apply
            ctx.send(src, ClientReply(msg.op_id, done[0], done[1]))
            return
        if msg.f == "get" and cfg.reads == "local":
            # UNSAFE by design: no check that we still lead, so a deposed leader that has
            # not heard of its successor answers from a stale state machine
            ctx.send(src, ClientReply(msg.op_id, "ok", self.store.get(msg.key)))
            return
        if msg.f == "get" and cfg.reads == "read_index":
            # ReadIndex (thesis §6.4): the read is safe at max(commit index, first index of
            # our term) once a heartbeat round sent after it arrived is acknowledged by a
            # majority (we still lead) and the state machine has applied that far
            read_index = max(self.commit_index, self.term_start)
            self._broadcast(ctx)
            self.reads.append((read_index, self.seq, src, msg.op_id, msg.key))
            self._serve_reads(ctx)
            return
        command = (msg.process, msg.op_id, msg.f, msg.key, msg.value)
        self._append(ctx, Entry(self.current_term, command, 0))
        self.pending[self.last_log_index] = (src, msg.op_id)
        for p in self.peers:
            self._send_append(ctx, p)
        self._advance_commit(ctx)

    def _serve_reads(self, ctx):
        if not self.reads or self.role != LEADER:
            return
        need = self.config.majority
        keep = []
        for read in self.reads:
            read_index, seq, client, op_id, key = read
            acks = 1 + sum(1 for p in self.peers if self.acked_seq[p] >= seq)
            if acks >= need and self.last_applied >= read_index:
                ctx.send(client, ClientReply(op_id, "ok", self.store.get(key)))
            else:
                keep.append(read)
        self.reads = keep


_DISPATCH = {
    RequestVote: RaftNode._on_request_vote,
    RequestVoteReply: RaftNode._on_request_vote_reply,
    AppendEntries: RaftNode._on_append_entries,
    AppendEntriesReply: RaftNode._on_append_entries_reply,
    TimeoutNow: RaftNode._on_timeout_now,
    ClientRequest: RaftNode._on_client_request,
}
