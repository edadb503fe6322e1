"""Raft log replication, commitment and the client service (§5.3, §5.4.2, §8).

The replication half of :class:`dsalgo.raft.node.RaftNode`.  Rules followed, from
Figure 2 of Ongaro & Ousterhout (2014): the leader sends each follower the entries from
its ``next_index`` with the ``(prev_log_index, prev_log_term)`` they follow; a follower
accepts only if its log holds that entry (the consistency check, which by induction
gives Log Matching), deletes a conflicting entry and all that follow it, and commits up
to the last entry the message vouched for; on failure the leader backs ``next_index``
off past the follower's whole conflicting term.  The leader commits an entry once a
majority holds it *and* it is of the leader's own term (§5.4.2).  Committed commands are
applied in order to the key-value state machine; the leader answers the client.  Reads
take one of three paths (see the node module's essay).
"""

from __future__ import annotations

from dsalgo import sim

from .config import LEADER
from .messages import (
    AppendEntries,
    AppendEntriesReply,
    ClientReply,
    ClientRequest,
    Entry,
    chain_digest,
)

__all__ = ["Replication"]


class Replication:
    """Mixin: the replication, commit and client handlers of
    :class:`~dsalgo.raft.node.RaftNode`."""

    def _append(self, ctx, entry):
        """Append ``entry`` at the end of our log, digest recomputed over our own prefix."""
        e = Entry(entry.term, entry.command,
                  chain_digest(self.log[-1].digest, entry.term, entry.command))
        self.log.append(e)
        ctx.emit("append", term=self.current_term, log_index=len(self.log) - 1,
                 entry_term=e.term, digest=e.digest)

    def _broadcast(self, ctx):
        self.seq += 1
        if self.config.pipeline is not None:  # a heartbeat round retries what was lost
            for p in self.peers:
                self.in_flight[p] = 0
                self.sent_upto[p] = self.next_index[p] - 1
        for p in self.peers:
            self._send_append(ctx, p)

    def _send_append(self, ctx, peer):
        ni = self.next_index[peer]
        pipeline = self.config.pipeline
        if pipeline is not None:
            # pipelining: send what is not in flight yet, after what is
            start = max(ni, self.sent_upto[peer] + 1)
            if start <= self.last_log_index:
                if self.in_flight[peer] >= pipeline:
                    return  # the window is full: the entries go when a round is answered
                self.in_flight[peer] += 1
                ni = start
        prev = ni - 1
        entries = tuple(self.log[ni:ni + self.config.max_entries])
        if pipeline is not None and entries:
            self.sent_upto[peer] = prev + len(entries)
        ctx.send(peer, AppendEntries(self.current_term, ctx.id, prev, self.log[prev].term,
                                     entries, self.commit_index, self.seq))

    def _on_append_entries(self, ctx, src, msg: AppendEntries):
        cfg = self.config
        term = self.current_term
        if msg.term < term or (msg.term == term and self.role == LEADER):
            ctx.send(src, AppendEntriesReply(term, False, seq=msg.seq))
            return
        wrote = msg.term > term  # a new term: durable before any reply
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
            self._reply(ctx, src, AppendEntriesReply(term, False, conflict_index=len(log),
                                                     seq=msg.seq), wrote)
            return
        if log[prev].term != msg.prev_log_term:
            # fast back-off: name the conflicting term and the first index we hold of it
            ct = log[prev].term
            first = prev
            while first > 1 and log[first - 1].term == ct:
                first -= 1
            self._reply(ctx, src, AppendEntriesReply(term, False, conflict_index=first,
                                                     conflict_term=ct, seq=msg.seq), wrote)
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
                self.synced_index = min(self.synced_index, index - 1)
                ctx.emit("truncate", term=term, log_index=index)
            self._append(ctx, e)
            wrote = True
        match = prev + len(msg.entries)
        if msg.leader_commit > self.commit_index:
            # only up to the last entry this message vouched for (Figure 2, rule 5)
            new = min(msg.leader_commit, match)
            if new > self.commit_index:
                self._commit(ctx, new)
        reply = AppendEntriesReply(term, True, match_index=match, seq=msg.seq)
        if self.instant:  # no storage model: the log is durable as written
            self.synced_index = len(log) - 1
            ctx.send(src, reply)
            return
        # the entries vouched for may be ours already but not yet durable (written by an
        # earlier message whose sync is still in flight): wait for them too
        wrote = wrote or match > self.synced_index
        if wrote and not self.reply_early:
            # one sync makes the entries durable and then lets the reply go, as a follower
            # acknowledges after the fsync that covers them
            self._own_log_durable(ctx, reply=(src, reply))
            return
        if wrote:
            self._own_log_durable(ctx)
        self._reply(ctx, src, reply, wrote)

    def _on_append_entries_reply(self, ctx, src, msg: AppendEntriesReply):
        if msg.term > self.current_term:
            self._become_follower(ctx, msg.term)
            return
        if self.role != LEADER or msg.term != self.current_term:
            return
        self.heard.add(src)
        self.acked_seq[src] = max(self.acked_seq[src], msg.seq)
        pipelined = self.config.pipeline is not None
        if pipelined:
            self.in_flight[src] = max(0, self.in_flight[src] - 1)
        if msg.success:
            if msg.match_index > self.match_index[src]:
                self.match_index[src] = msg.match_index
                self._advance_commit(ctx)
            if self.next_index[src] <= msg.match_index:
                self.next_index[src] = msg.match_index + 1
            self._serve_reads(ctx)
            if pipelined and max(self.next_index[src],
                                 self.sent_upto[src] + 1) <= self.last_log_index:
                self._send_append(ctx, src)  # the window has room: the next round
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
        if pipelined:  # resend from the new next_index
            self.sent_upto[src] = self.next_index[src] - 1
        self._send_append(ctx, src)

    def _advance_commit(self, ctx):
        # ourselves: only as far as our log is durable
        matches = sorted([self.synced_index, *self.match_index.values()], reverse=True)
        n = matches[self.majority - 1]  # held by a majority
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
            before = store.executions
            out = store.apply(e.command)
            cmd = e.command
            ctx.emit("apply", term=term, log_index=i, entry_term=e.term, digest=e.digest,
                     op_id=None if cmd is None else cmd[1],
                     process=None if cmd is None else cmd[0],
                     executed=store.executions > before)
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
        command = sim.Command(msg.process, msg.op_id, msg.f, msg.key, msg.value)
        self._append(ctx, Entry(self.current_term, command, 0))
        self.pending[self.last_log_index] = (src, msg.op_id)
        if cfg.max_batch is None:
            for p in self.peers:
                self._send_append(ctx, p)
            self._own_log_durable(ctx)  # then counts itself and advances the commit index
            return
        # batching: a zero-delay flush timer queues behind the work already waiting at a
        # busy leader, so every command that arrived meanwhile goes out in its round
        self.batched += 1
        if self.batched >= cfg.max_batch:
            self._flush(ctx)
        elif not ctx.timer_set("flush"):
            ctx.set_timer("flush", 0.0)

    def _flush(self, ctx):
        """Send the batched entries in one round, and make them durable in one sync."""
        self.batched = 0
        ctx.cancel_timer("flush")
        if self.role != LEADER:
            return
        for p in self.peers:
            self._send_append(ctx, p)
        self._own_log_durable(ctx)

    def _serve_reads(self, ctx):
        if not self.reads or self.role != LEADER:
            return
        need = self.majority
        if "read_index_without_quorum" in self.config.bugs:
            need = 1  # BUG: our own say-so confirms that we still lead
        keep = []
        for read in self.reads:
            read_index, seq, client, op_id, key = read
            acks = 1 + sum(1 for p in self.peers if self.acked_seq[p] >= seq)
            if acks >= need and self.last_applied >= read_index:
                ctx.send(client, ClientReply(op_id, "ok", self.store.get(key)))
            else:
                keep.append(read)
        self.reads = keep
