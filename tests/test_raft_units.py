"""Raft handlers one at a time: one message in, exact effects out (Style §4)."""

from dsalgo import sim
from dsalgo.raft import (
    AppendEntries,
    AppendEntriesReply,
    ClientReply,
    ClientRequest,
    Config,
    Entry,
    RaftNode,
    RequestVote,
    RequestVoteReply,
    TimeoutNow,
)
from dsalgo.raft.messages import chain_digest
from dsalgo.sim import CancelTimer, Emit, Send, SetTimer

ET = (0.150, 0.300)


def log_of(*terms):
    """A log (with the index-0 sentinel) whose entries have these terms."""
    log = [Entry(0, None, 0)]
    for i, t in enumerate(terms, start=1):
        cmd = ("c9", i, "put", "x", i)
        log.append(Entry(t, cmd, chain_digest(log[-1].digest, t, cmd)))
    return log


def start(id="n1", n=3, *, term=0, voted_for=None, terms=(), **knobs):
    knobs.setdefault("noop", False)
    node = RaftNode(sim.server_ids(n), Config(**knobs))
    disk = {"current_term": term, "voted_for": voted_for, "log": log_of(*terms)}
    ctx = sim.RecordingContext(id, disk=disk)
    node.on_start(ctx)
    assert ctx.take() == [Emit("role", {"role": "follower", "term": term}),
                          SetTimer("election", ET)]
    return node, ctx


def make_leader(n=3, *, term=1, terms=(), **knobs):
    """n1 becomes leader of term+1 through a real election."""
    node, ctx = start(n=n, term=term, terms=terms, **knobs)
    ctx.fire(node, "election")
    for peer in [f"n{i}" for i in range(2, n // 2 + 2)]:
        node.on_message(ctx, peer, RequestVoteReply(term + 1, True))
    assert node.role == "leader"
    ctx.take()
    return node, ctx


def test_election_timeout_starts_an_election_with_exact_effects():
    node, ctx = start(terms=(1, 1), term=1)
    rv = RequestVote(2, "n1", 2, 1)
    assert ctx.fire(node, "election") == [
        Emit("role", {"role": "candidate", "term": 2}),
        SetTimer("election", ET),
        Emit("vote", {"term": 2, "candidate": "n1"}),
        Send("n2", rv), Send("n3", rv),
        SetTimer("vote_retry", 0.05),
    ]
    assert ctx.disk["current_term"] == 2 and ctx.disk["voted_for"] == "n1"


def test_vote_granted_to_up_to_date_candidate_in_newer_term():
    node, ctx = start("n2", terms=(1,), term=1)
    node.on_message(ctx, "n1", RequestVote(2, "n1", 1, 1))
    assert ctx.take() == [
        Emit("role", {"role": "follower", "term": 2}),
        Emit("vote", {"term": 2, "candidate": "n1"}),
        SetTimer("election", ET),
        Send("n1", RequestVoteReply(2, True)),
    ]
    assert ctx.disk["voted_for"] == "n1"  # durable before the reply


def test_vote_refused_to_candidate_with_older_last_term():
    node, ctx = start("n2", terms=(1, 2), term=2)
    node.on_message(ctx, "n1", RequestVote(3, "n1", 5, 1))  # longer log, older last term
    assert ctx.take() == [Emit("role", {"role": "follower", "term": 3}),
                          Send("n1", RequestVoteReply(3, False))]
    assert ctx.disk["voted_for"] is None and ctx.disk["current_term"] == 3


def test_vote_refused_to_shorter_log_of_same_last_term():
    node, ctx = start("n2", terms=(1, 1), term=1)
    node.on_message(ctx, "n1", RequestVote(2, "n1", 1, 1))
    assert ctx.take()[-1] == Send("n1", RequestVoteReply(2, False))


def test_bug_no_up_to_date_check_grants_the_stale_candidate():
    node, ctx = start("n2", terms=(1, 2), term=2, bugs={"no_up_to_date_check"})
    node.on_message(ctx, "n1", RequestVote(3, "n1", 0, 0))
    assert ctx.take()[-1] == Send("n1", RequestVoteReply(3, True))


def test_one_vote_per_term():
    node, ctx = start("n3", term=4, voted_for="n1")
    node.on_message(ctx, "n2", RequestVote(4, "n2", 0, 0))
    assert ctx.take() == [Send("n2", RequestVoteReply(4, False))]
    node.on_message(ctx, "n1", RequestVote(4, "n1", 0, 0))  # a retry from the same candidate
    assert ctx.take()[-1] == Send("n1", RequestVoteReply(4, True))


def test_vote_survives_restart_unless_forgotten():
    _, ctx = start("n3", term=4, voted_for="n1")
    node = RaftNode(sim.server_ids(3), Config(noop=False))
    node.on_start(ctx)  # a restart: same disk
    ctx.take()
    node.on_message(ctx, "n2", RequestVote(4, "n2", 0, 0))
    assert ctx.take() == [Send("n2", RequestVoteReply(4, False))]
    buggy = RaftNode(sim.server_ids(3), Config(noop=False, bugs={"forget_vote_on_restart"}))
    buggy.on_start(ctx)
    ctx.take()
    buggy.on_message(ctx, "n2", RequestVote(4, "n2", 0, 0))
    assert ctx.take()[-1] == Send("n2", RequestVoteReply(4, True))


def test_stale_term_request_vote_is_refused_without_state_change():
    node, ctx = start("n2", term=5)
    node.on_message(ctx, "n1", RequestVote(3, "n1", 9, 9))
    assert ctx.take() == [Send("n1", RequestVoteReply(5, False))]


def test_majority_of_votes_makes_a_leader_that_heartbeats_at_once():
    node, ctx = start(terms=(1,), term=1)
    ctx.fire(node, "election")
    node.on_message(ctx, "n2", RequestVoteReply(2, True))
    hb = AppendEntries(2, "n1", 1, 1, (), 0, 1)
    assert ctx.take() == [
        CancelTimer("election"), CancelTimer("vote_retry"),
        Emit("role", {"role": "leader", "term": 2}),
        Emit("leader_elected", {"term": 2, "last_log_index": 1}),
        Send("n2", hb), Send("n3", hb),
        SetTimer("heartbeat", 0.05),
    ]


def test_new_leader_appends_a_noop_of_its_term():
    node, ctx = start(terms=(1,), term=1, noop=True)
    ctx.fire(node, "election")
    node.on_message(ctx, "n2", RequestVoteReply(2, True))
    effects = ctx.take()
    noop = node.log[2]
    assert noop.term == 2 and noop.command is None
    assert Emit("append", {"term": 2, "log_index": 2, "entry_term": 2,
                           "digest": noop.digest}) in effects
    assert Send("n2", AppendEntries(2, "n1", 1, 1, (noop,), 0, 1)) in effects


def test_higher_term_reply_makes_a_candidate_step_down():
    node, ctx = start(term=1)
    ctx.fire(node, "election")
    node.on_message(ctx, "n2", RequestVoteReply(7, False))
    assert ctx.take() == [CancelTimer("vote_retry"),
                          Emit("role", {"role": "follower", "term": 7})]
    assert node.role == "follower" and ctx.disk["current_term"] == 7


def test_append_entries_consistency_check_fails_on_missing_prev():
    node, ctx = start("n2", term=1, terms=(1,))
    node.on_message(ctx, "n1", AppendEntries(1, "n1", 3, 1, (), 0, 4))
    assert ctx.take() == [
        Emit("follow", {"term": 1, "leader": "n1"}),
        SetTimer("election", ET),
        Send("n1", AppendEntriesReply(1, False, conflict_index=2, seq=4)),
    ]


def test_append_entries_names_the_conflicting_term_for_fast_backoff():
    node, ctx = start("n2", term=3, terms=(1, 2, 2, 2))
    node.on_message(ctx, "n1", AppendEntries(3, "n1", 4, 3, (), 0, 1))
    assert ctx.take()[-1] == Send("n1", AppendEntriesReply(3, False, conflict_index=2,
                                                           conflict_term=2, seq=1))


def test_conflicting_entry_and_all_after_it_are_deleted():
    node, ctx = start("n2", term=3, terms=(1, 2, 2))
    new = log_of(1, 3)[2]
    node.on_message(ctx, "n1", AppendEntries(3, "n1", 1, 1, (new,), 2, 1))
    assert ctx.take() == [
        Emit("follow", {"term": 3, "leader": "n1"}),
        SetTimer("election", ET),
        Emit("truncate", {"term": 3, "log_index": 2}),
        Emit("append", {"term": 3, "log_index": 2, "entry_term": 3, "digest": new.digest}),
        Emit("commit", {"term": 3, "log_index": 2, "entry_term": 3, "digest": new.digest}),
        Emit("apply", {"term": 3, "log_index": 1, "entry_term": 1,
                       "digest": node.log[1].digest, "op_id": 1,
                       "process": node.log[1].command[0], "executed": True}),
        Emit("apply", {"term": 3, "log_index": 2, "entry_term": 3, "digest": new.digest,
                       "op_id": 2, "process": new.command[0], "executed": True}),
        Send("n1", AppendEntriesReply(3, True, match_index=2, seq=1)),
    ]
    assert [e.term for e in node.log[1:]] == [1, 3]


def test_bug_no_truncate_keeps_the_conflicting_entry_and_claims_success():
    node, ctx = start("n2", term=3, terms=(1, 2, 2), bugs={"no_truncate_on_conflict"})
    new = log_of(1, 3)[2]
    node.on_message(ctx, "n1", AppendEntries(3, "n1", 1, 1, (new,), 0, 1))
    assert ctx.take()[-1] == Send("n1", AppendEntriesReply(3, True, match_index=2, seq=1))
    assert [e.term for e in node.log[1:]] == [1, 2, 2]


def test_duplicate_append_entries_does_not_truncate_matching_entries():
    node, ctx = start("n2", term=2, terms=(1, 2, 2))
    old = log_of(1, 2)[2]
    node.on_message(ctx, "n1", AppendEntries(2, "n1", 1, 1, (old,), 0, 1))
    assert ctx.take()[-1] == Send("n1", AppendEntriesReply(2, True, match_index=2, seq=1))
    assert len(node.log) == 4  # the entry after it survives


def test_follower_commits_only_up_to_the_last_entry_vouched_for():
    node, ctx = start("n2", term=2, terms=(1, 1, 1))
    node.on_message(ctx, "n1", AppendEntries(2, "n1", 1, 1, (), 3, 1))
    assert node.commit_index == 1


def test_candidate_steps_down_on_append_entries_of_its_term():
    node, ctx = start(term=1)
    ctx.fire(node, "election")
    node.on_message(ctx, "n2", AppendEntries(2, "n2", 0, 0, (), 0, 1))
    assert ctx.take() == [
        CancelTimer("vote_retry"),
        Emit("role", {"role": "follower", "term": 2}),
        Emit("follow", {"term": 2, "leader": "n2"}),
        SetTimer("election", ET),
        Send("n2", AppendEntriesReply(2, True, match_index=0, seq=1)),
    ]


def test_leader_does_not_count_replicas_of_a_prior_term_entry():
    node, ctx = make_leader(term=2, terms=(1, 2))  # leads term 3; entry 2 is of term 2
    node.on_message(ctx, "n2", AppendEntriesReply(3, True, match_index=2, seq=1))
    assert ctx.take() == [] and node.commit_index == 0


def test_bug_commit_prior_term_counts_them():
    node, ctx = make_leader(term=2, terms=(1, 2), bugs={"commit_prior_term"})
    node.on_message(ctx, "n2", AppendEntriesReply(3, True, match_index=2, seq=1))
    assert [e.kind for e in ctx.take()] == ["commit", "apply", "apply"]
    assert node.commit_index == 2


def test_leader_commits_a_current_term_entry_and_its_prefix():
    node, ctx = make_leader(term=2, terms=(1, 2), noop=True)  # the no-op is index 3
    node.on_message(ctx, "n2", AppendEntriesReply(3, True, match_index=3, seq=1))
    assert [e.kind for e in ctx.take()] == ["commit", "apply", "apply", "apply"]
    assert node.commit_index == 3


def test_fast_backoff_skips_the_followers_conflicting_term():
    node, ctx = make_leader(term=3, terms=(1, 1, 3, 3))  # leads term 4, next_index 5
    node.on_message(ctx, "n2", AppendEntriesReply(4, False, conflict_index=2,
                                                  conflict_term=2, seq=1))
    # the leader has no entry of term 2: retry from the follower's first index of it
    assert ctx.take() == [Send("n2", AppendEntries(4, "n1", 1, 1, tuple(node.log[2:5]), 0, 1))]


def test_fast_backoff_to_the_leaders_last_entry_of_the_conflicting_term():
    node, ctx = make_leader(term=3, terms=(1, 1, 3, 3))
    node.on_message(ctx, "n2", AppendEntriesReply(4, False, conflict_index=1,
                                                  conflict_term=1, seq=1))
    assert ctx.take() == [Send("n2", AppendEntries(4, "n1", 2, 1, tuple(node.log[3:5]), 0, 1))]


def test_follower_redirects_clients_to_the_leader():
    node, ctx = start("n2", term=1)
    node.on_message(ctx, "n1", AppendEntries(1, "n1", 0, 0, (), 0, 1))
    ctx.take()
    node.on_message(ctx, "c1", ClientRequest("c1", 7, "get", 0))
    assert ctx.take() == [Send("c1", ClientReply(7, "redirect", leader_hint="n1"))]


def test_leader_appends_a_client_command_and_replicates_it():
    node, ctx = make_leader(term=1)
    node.on_message(ctx, "c1", ClientRequest("c1", 0, "put", "x", 5))
    entry = node.log[1]
    assert entry.command == ("c1", 0, "put", "x", 5)
    assert ctx.take() == [
        Emit("append", {"term": 2, "log_index": 1, "entry_term": 2, "digest": entry.digest}),
        Send("n2", AppendEntries(2, "n1", 0, 0, (entry,), 0, 1)),
        Send("n3", AppendEntries(2, "n1", 0, 0, (entry,), 0, 1)),
    ]
    node.on_message(ctx, "n3", AppendEntriesReply(2, True, match_index=1, seq=1))
    effects = ctx.take()
    assert effects[-1] == Send("c1", ClientReply(0, "ok", None))


def test_read_index_waits_for_a_heartbeat_round_then_answers():
    node, ctx = make_leader(term=1, noop=True, reads="read_index")
    node.on_message(ctx, "n2", AppendEntriesReply(2, True, match_index=1, seq=1))  # no-op
    ctx.take()
    node.on_message(ctx, "c1", ClientRequest("c1", 3, "get", "x"))
    sent = ctx.take()
    assert all(isinstance(e, Send) and e.msg.seq == 2 for e in sent)  # a new round
    node.on_message(ctx, "n3", AppendEntriesReply(2, True, match_index=1, seq=1))
    assert ctx.take() == []  # an old round's ack does not confirm the read
    node.on_message(ctx, "n3", AppendEntriesReply(2, True, match_index=1, seq=2))
    assert ctx.take() == [Send("c1", ClientReply(3, "ok", None))]


def test_local_read_answers_at_once_without_confirmation():
    node, ctx = make_leader(term=1, reads="local")
    node.on_message(ctx, "c1", ClientRequest("c1", 3, "get", "x"))
    assert ctx.take() == [Send("c1", ClientReply(3, "ok", None))]


def test_prevote_asks_without_bumping_the_term():
    node, ctx = start(term=4, terms=(4,), prevote=True)
    effects = ctx.fire(node, "election")
    pv = RequestVote(5, "n1", 1, 4, prevote=True)
    assert effects == [SetTimer("election", ET), Send("n2", pv), Send("n3", pv)]
    assert ctx.disk["current_term"] == 4
    node.on_message(ctx, "n2", RequestVoteReply(5, True, prevote=True))
    assert ctx.take()[0] == Emit("role", {"role": "candidate", "term": 5})


def test_prevote_refused_while_a_leader_is_heard():
    node, ctx = start("n2", term=4, prevote=True)
    node.on_message(ctx, "n1", AppendEntries(4, "n1", 0, 0, (), 0, 1))
    ctx.take()
    node.on_message(ctx, "n3", RequestVote(5, "n3", 0, 0, prevote=True))
    assert ctx.take() == [Send("n3", RequestVoteReply(4, False, prevote=True))]
    assert ctx.disk["current_term"] == 4  # a prevote changes nothing


def test_check_quorum_steps_down_a_leader_that_hears_no_majority():
    node, ctx = make_leader(term=1, check_quorum=True)
    assert ctx.fire(node, "check_quorum") == [
        CancelTimer("heartbeat"), CancelTimer("check_quorum"),
        Emit("role", {"role": "follower", "term": 2}), SetTimer("election", ET)]


def test_check_quorum_keeps_a_leader_that_hears_a_majority():
    node, ctx = make_leader(term=1, check_quorum=True)
    node.on_message(ctx, "n2", AppendEntriesReply(2, True, match_index=0, seq=1))
    ctx.take()
    assert ctx.fire(node, "check_quorum") == [SetTimer("check_quorum", 0.3)]
    assert node.role == "leader"


def test_timeout_now_starts_an_election_at_once():
    node, ctx = start("n2", term=1)
    node.on_message(ctx, "c1", TimeoutNow())
    assert ctx.take()[0] == Emit("role", {"role": "candidate", "term": 2})


def test_retry_of_an_applied_command_is_answered_from_the_session():
    node, ctx = make_leader(n=1, term=0)
    node.on_message(ctx, "c1", ClientRequest("c1", 0, "cas", "x", [None, 1]))
    assert ctx.take()[-1] == Send("c1", ClientReply(0, "ok", True))
    node.on_message(ctx, "c1", ClientRequest("c1", 0, "cas", "x", [None, 1]))
    assert ctx.take() == [Send("c1", ClientReply(0, "ok", True))]  # not appended again
    assert len(node.log) == 2
