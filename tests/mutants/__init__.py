"""Mutants: small variants of the kernels, beyond the planted ``BUGS``, for mutation testing.

Each mutant is a one-line change of one kernel method, applied at run time as a monkeypatch
(:func:`applied`): the method's source with one snippet replaced, compiled in the method's
own module, set on its class (and in any dispatch table of the family's modules that held
the original).  Nothing in the package is edited.  Each names the rule of the algorithm it
breaks.  ``EQUIVALENT`` maps the mutants no checker can judge to the reason.

``python tests/mutants`` (``make mutants``) runs every mutant: the share the family's
checker catches under the soak settings, and the share ``explore.search`` catches with its
default budget.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import sys
import textwrap


@dataclasses.dataclass(frozen=True)
class Mutant:
    family: str
    name: str
    target: str          # "module:Class.method"
    old: str             # the snippet replaced (must occur once in the method)
    new: str
    rule: str            # the rule of the algorithm the change breaks

    def resolve(self):
        mod_name, qual = self.target.split(":")
        mod = importlib.import_module(mod_name)
        cls_name, meth = qual.split(".")
        return mod, getattr(mod, cls_name), meth


def _mutated(m: Mutant):
    _mod, cls, meth = m.resolve()
    func = cls.__dict__[meth]
    src = textwrap.dedent(inspect.getsource(func))
    if src.count(m.old) != 1:
        raise LookupError(f"mutant {m.name}: snippet {m.old!r} occurs {src.count(m.old)} "
                          f"times in {m.target} (the kernel changed: update the mutant)")
    code = compile(src.replace(m.old, m.new), f"<mutant {m.name}>", "exec")
    ns: dict = {}
    exec(code, func.__globals__, ns)
    return cls, meth, func, ns[meth]


@contextlib.contextmanager
def applied(m: Mutant):
    """Apply ``m`` for the duration of the block."""
    cls, meth, old, new = _mutated(m)
    pkg = m.target.split(":")[0].rsplit(".", 1)[0]
    tables = []
    for name, mod in list(sys.modules.items()):
        if mod is None or not (name == pkg or name.startswith(pkg + ".")):
            continue
        for value in list(vars(mod).values()):
            if isinstance(value, dict):
                keys = [k for k, v in value.items() if v is old]
                if keys:
                    tables.append((value, keys))
    setattr(cls, meth, new)
    for table, keys in tables:
        for k in keys:
            table[k] = new
    try:
        yield m
    finally:
        setattr(cls, meth, old)
        for table, keys in tables:
            for k in keys:
                table[k] = old


R = "dsalgo.raft"
P = "dsalgo.paxos"
L = "dsalgo.locks"
T = "dsalgo.txn"
B = "dsalgo.balance"

MUTANTS = [
    # ---------------------------------------------------------------- raft
    Mutant("raft", "commit_quorum_off_by_one", f"{R}.replication:Replication._advance_commit",
           "matches[self.majority - 1]", "matches[self.majority - 2]",
           "§5.3: an entry is committed once a majority holds it (here: one server fewer)."),
    Mutant("raft", "vote_twice_per_term", f"{R}.election:Elections._on_request_vote",
           "self.voted_for in (None, msg.candidate_id)", "True",
           "§5.2: at most one vote per term."),
    Mutant("raft", "accept_stale_leader", f"{R}.replication:Replication._on_append_entries",
           "if msg.term < term or (msg.term == term and self.role == LEADER):",
           "if msg.term == term and self.role == LEADER:",
           "§5.1: a server refuses AppendEntries of an older term (here: a deposed "
           "leader's entries are taken)."),
    Mutant("raft", "truncate_without_conflict",
           f"{R}.replication:Replication._on_append_entries",
           "if log[index].term == e.term:", "if False:",
           "§5.3: a follower deletes entries only from a conflict on (same index, other "
           "term); a late copy of an AppendEntries must not cut entries it acknowledged."),
    Mutant("raft", "up_to_date_by_length_only", f"{R}.election:Elections._log_ok",
           "return (msg.last_log_term > my_term", "return (False",
           "§5.4.1: a log with a later last term is more up-to-date (here: only lengths of "
           "logs with the same last term count, later terms are refused; with one of three "
           "servers down, the two left refuse each other for ever when their last terms "
           "differ: leader_and_commit)."),
    Mutant("raft", "no_consistency_check", f"{R}.replication:Replication._on_append_entries",
           "if log[prev].term != msg.prev_log_term:", "if False:",
           "§5.3: a follower refuses entries unless it holds (prev_log_index, prev_log_term)."),
    Mutant("raft", "commit_beyond_match", f"{R}.replication:Replication._on_append_entries",
           "new = min(msg.leader_commit, match)", "new = msg.leader_commit",
           "Figure 2 rule 5: commit up to min(leaderCommit, index of last new entry)."),
    Mutant("raft", "leader_ignores_higher_term",
           f"{R}.replication:Replication._on_append_entries_reply",
           "if msg.term > self.current_term:", "if False:",
           "§5.1: a server that sees a higher term becomes a follower (here not on an "
           "AppendEntries reply: a deposed leader that the new leader cannot reach keeps "
           "leading its old term; with PreVote and without CheckQuorum it refuses every "
           "pre-vote, and a cluster that needs its vote never elects again)."),
    # ---------------------------------------------------------------- paxos
    Mutant("paxos", "lowest_ballot_value", f"{P}.single:SingleDecreeNode._on_promise",
           "if b > best_ballot:", "if best_ballot == ZERO_BALLOT or b < best_ballot:",
           "P2c: propose the value of the *highest* ballot accepted in the quorum."),
    Mutant("paxos", "promise_lower_ballot", f"{P}.acceptor:Acceptor.on_prepare",
           "if msg.ballot >= store[\"promised\"]:", "if True:",
           "P1b: promise only ballots at least as high as any promised."),
    Mutant("paxos", "accept_keeps_old_promise", f"{P}.acceptor:Acceptor.on_accept",
           "self._write(max(promised, msg.ballot), msg.slot, (msg.ballot, msg.value))",
           "self._write(promised, msg.slot, (msg.ballot, msg.value))",
           "P2b/P1b: accepting ballot b is also a promise of b; the acceptor must not "
           "promise a lower ballot afterwards (here: the promise stays where it was)."),
    Mutant("paxos", "promise_forgets_accepted", f"{P}.acceptor:Acceptor.on_prepare",
           "return Promise(msg.ballot, entries)", "return Promise(msg.ballot, ())",
           "P1b: a promise reports the highest-ballot proposal the acceptor accepted."),
    Mutant("paxos", "decide_on_one_vote", f"{P}.single:SingleDecreeNode._on_accepted",
           "if self.quorums.is_write_quorum(self.voters):", "if self.voters:",
           "A value is chosen when a write quorum accepted it (here: one acceptor)."),
    Mutant("paxos", "same_round_after_nack", f"{P}.single:SingleDecreeNode._on_nack",
           "self.seen_round = max(self.seen_round, msg.promised[0])", "pass",
           "A preempted proposer retries with a higher round than it was refused for "
           "(liveness)."),
    # ---------------------------------------------------------------- redlock
    Mutant("redlock", "minority_enough", f"{L}.redlock:RedLockClient._decide",
           "if len(self.granted) >= need and validity > 0:",
           "if len(self.granted) >= need - 1 and validity > 0:",
           "RedLock step 3: the lock is held only with a majority of servers."),
    Mutant("redlock", "ignore_validity", f"{L}.redlock:RedLockClient._decide",
           "if len(self.granted) >= need and validity > 0:",
           "if len(self.granted) >= need:",
           "RedLock step 3: the lock is held only while the validity time is positive."),
    Mutant("redlock", "double_validity", f"{L}.redlock:RedLockClient._validity",
           "return self.ttl - elapsed - drift", "return 2 * self.ttl - elapsed - drift",
           "Validity is at most the keys' TTL minus elapsed time and drift."),
    Mutant("redlock", "extension_on_minority", f"{L}.redlock:RedLockClient._decide_extension",
           "if len(self.granted) >= majority(len(self.servers)) and validity > 0:",
           "if validity > 0:",
           "An extension holds only if a majority extended the keys."),
    # ---------------------------------------------------------------- zookeeper
    Mutant("zookeeper", "lost_early_watch", f"{L}.zookeeper:LockRecipeClient.on_message",
           "self.recheck = True", "pass",
           "Lock recipe: a watch that fires before the answer that set it still means "
           "'list the children again' (here it is lost and the client may wait for ever)."),
    Mutant("zookeeper", "children_in_listing_order", f"{L}.zookeeper:LockRecipeClient._children",
           "ordered = sorted(children)", "ordered = list(children)",
           "Lock recipe: rank by sequence number (here: by the order the server lists the "
           "children in)."),
    Mutant("zookeeper", "highest_holds", f"{L}.zookeeper:LockRecipeClient._children",
           "if i == 0:", "if i == len(ordered) - 1:",
           "Lock recipe: the client with the lowest sequence number holds the lock."),
    Mutant("zookeeper", "hold_if_exists_fails", f"{L}.zookeeper:LockRecipeClient.on_message",
           "if msg.exists:", "if True:",
           "Lock recipe: when the next-lower znode is gone, list the children again "
           "(here: wait forever on a vanished node)."),
    Mutant("zookeeper", "ignore_vanished_znode", f"{L}.zookeeper:LockRecipeClient._children",
           "if mine not in children:", "if False:",
           "A client whose znode vanished (session expired) lost the lock; it must not "
           "rank itself among the children."),
    # ---------------------------------------------------------------- twopc
    Mutant("twopc", "commit_on_vote_timeout", f"{T}.twopc:Coordinator.on_timer",
           "self._abort(ctx, txn, \"vote_timeout\")", "self._commit(ctx, txn)",
           "2PC: a missing vote means abort; commit needs every yes vote."),
    Mutant("twopc", "commit_on_no_vote", f"{T}.twopc:Coordinator._vote",
           "self._abort(ctx, msg.txn, \"vote_no\")", "self._commit(ctx, msg.txn)",
           "2PC: one no vote aborts the transaction."),
    Mutant("twopc", "skip_funds_check", f"{T}.twopc:Participant._prepare",
           "elif any(bal[a] + d < 0 for a, d in msg.legs):", "elif False:",
           "A participant votes yes only if it can apply its legs (no negative balance)."),
    Mutant("twopc", "release_locks_at_vote", f"{T}.twopc:Participant._prepare",
           "            self.locks[a] = txn", "            pass",
           "A prepared participant holds its locks until the outcome (isolation)."),
    # ---------------------------------------------------------------- saga
    Mutant("saga", "forward_only_recovery", f"{T}.saga:Orchestrator.on_message",
           "\"state\": \"back\", \"at\": msg.step - 1}",
           "\"state\": \"back\", \"at\": -1}",
           "A failed saga compensates every step it completed (here: none)."),
    Mutant("saga", "compensate_twice_delta", f"{T}.local:SagaShard.run_compensation",
           "new = self.apply(ctx, [(account, delta)])",
           "new = self.apply(ctx, [(account, 2 * delta)])",
           "A compensation undoes exactly its step."),
    Mutant("saga", "step_skips_funds_check", f"{T}.local:SagaShard.run_step",
           "if bal[account] + delta < 0:", "if False:",
           "A step that would overdraw fails (no negative balance)."),
    # ---------------------------------------------------------------- balance
    Mutant("balance", "forget_outstanding", f"{B}.cluster:Balancer.on_message",
           "out[src] = n - 1", "out[src] = 0",
           "The balancer's view counts every request in flight to a backend."),
    Mutant("balance", "never_mark_up", f"{B}.cluster:Balancer.on_message",
           "if src not in view.up:", "if False:",
           "A backend that answers health probes again is back in rotation."),
    Mutant("balance", "never_mark_down", f"{B}.cluster:Balancer.on_timer",
           "if b not in self.heard and b in view.up:", "if False:",
           "A backend that misses a health probe is taken out of rotation."),
    Mutant("balance", "drain_forgets_held", f"{B}.cluster:Balancer.on_message",
           "        held.append(msg)\n", "",
           "Requests that find no backend are held until one comes back, not lost."),
]

#: Mutants no checker can judge, with the reason (missed by checker and search in
#: ``make mutants``, and argued here to change no judged property).
EQUIVALENT: dict = {
    "same_round_after_nack": "a preempted proposer still moves to a round above its own "
                             "last one, and an acceptor refuses any stale ballot, so only "
                             "the number of retries changes; the checker judges safety, "
                             "not how many rounds a decision takes",
    "ignore_validity": "an attempt is decided at the latest when server_timeout runs out "
                       "on the client's clock, and redlock.Config requires server_timeout "
                       "< ttl - drift allowance, so validity is positive whenever a "
                       "majority granted; only a paused client or one whose clock jumps "
                       "(outside the fault model, as for every lease) decides later. "
                       "tests/test_locks_kernels.py's majority-too-late test, which "
                       "skips the timer, does tell it apart",
    "ignore_vanished_znode": "the service answers GetChildren only for an open session "
                             "that is not being closed, and a session's ephemeral znodes "
                             "are deleted only by its close, so every listing a client "
                             "receives holds its own znode (a vanished znode reaches the "
                             "client as SessionExpired instead); the test guards against a "
                             "service without that guarantee",
}

BY_NAME = {m.name: m for m in MUTANTS}
