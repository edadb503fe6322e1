"""Two-phase commit, one message in and exact effects out (Style §4)."""

import pytest

from dsalgo import sim
from dsalgo.sim import CancelTimer, Emit, Send, SetTimer
from dsalgo.txn.bank import Balances, Read, Transfer, TransferDone
from dsalgo.txn.twopc import Abort, Ack, Commit, Coordinator, Inquire, Participant, Prepare, Vote

LEGS = (("n1:0", -5), ("n2:1", 5))


def started(node, id, disk=None):
    ctx = sim.RecordingContext(id, disk=disk)
    node.on_start(ctx)
    ctx.take()
    return ctx


# ------------------------------------------------------------------ coordinator
def test_begin_sends_prepare_to_each_participant_and_arms_vote_timeout():
    tm = Coordinator(vote_timeout=0.2)
    ctx = started(tm, "tm")
    tm.on_message(ctx, "c1", Transfer(7, LEGS))
    assert ctx.take() == [
        Emit("begin", {"txn": "t7", "participants": ("n1", "n2")}),
        Send("n1", Prepare("t7", (("n1:0", -5),), ("n1", "n2"))),
        Send("n2", Prepare("t7", (("n2:1", 5),), ("n1", "n2"))),
        SetTimer("vote:t7", 0.2),
    ]
    assert ctx.disk["log"] == {}                 # presumed abort: nothing logged at begin


def test_duplicate_request_is_not_run_twice():
    tm = Coordinator()
    ctx = started(tm, "tm")
    tm.on_message(ctx, "c1", Transfer(7, LEGS))
    ctx.take()
    tm.on_message(ctx, "c1", Transfer(7, LEGS))
    assert ctx.take() == []


def test_all_yes_votes_force_commit_record_then_send_commit():
    tm = Coordinator(resend_interval=0.3)
    ctx = started(tm, "tm")
    tm.on_message(ctx, "c1", Transfer(7, LEGS))
    tm.on_message(ctx, "n1", Vote("t7", True))
    ctx.take()
    assert ctx.disk["log"] == {}
    tm.on_message(ctx, "n2", Vote("t7", True))
    assert ctx.take() == [
        CancelTimer("vote:t7"),
        Emit("decide", {"txn": "t7", "outcome": "commit", "votes": ("n1", "n2")}),
        Send("n1", Commit("t7")), Send("n2", Commit("t7")),
        Send("c1", TransferDone(7, True)),
        SetTimer("resend", 0.3),
    ]
    assert ctx.disk["log"]["t7"] == {"participants": ("n1", "n2"), "acked": []}


def test_no_vote_aborts_without_logging_or_waiting_for_acks():
    tm = Coordinator()
    ctx = started(tm, "tm")
    tm.on_message(ctx, "c1", Transfer(7, LEGS))
    ctx.take()
    tm.on_message(ctx, "n2", Vote("t7", False))
    assert ctx.take() == [
        CancelTimer("vote:t7"),
        Emit("decide", {"txn": "t7", "outcome": "abort", "reason": "vote_no"}),
        Send("n1", Abort("t7")), Send("n2", Abort("t7")),
        Send("c1", TransferDone(7, False)),
    ]
    assert ctx.disk["log"] == {}
    tm.on_message(ctx, "n1", Vote("t7", True))   # a late yes: the presumption answers it
    assert ctx.take() == [Send("n1", Abort("t7"))]


def test_vote_timeout_aborts():
    tm = Coordinator(vote_timeout=0.1)
    ctx = started(tm, "tm")
    tm.on_message(ctx, "c1", Transfer(7, LEGS))
    tm.on_message(ctx, "n1", Vote("t7", True))
    effects = ctx.fire(tm, "vote:t7")
    assert effects[1] == Emit("decide", {"txn": "t7", "outcome": "abort",
                                         "reason": "vote_timeout"})


def test_inquiries_commit_if_logged_abort_if_unknown_silence_if_deciding():
    tm = Coordinator()
    ctx = started(tm, "tm")
    tm.on_message(ctx, "c1", Transfer(7, LEGS))
    ctx.take()
    tm.on_message(ctx, "n1", Inquire("t7"))
    assert ctx.take() == []                      # still collecting votes
    tm.on_message(ctx, "n1", Inquire("t99"))
    assert ctx.take() == [Send("n1", Abort("t99"))]          # no record: presumed abort
    tm.on_message(ctx, "n1", Vote("t7", True))
    tm.on_message(ctx, "n2", Vote("t7", True))
    ctx.take()
    tm.on_message(ctx, "n2", Inquire("t7"))
    assert ctx.take() == [Send("n2", Commit("t7"))]


def test_all_acks_write_end_and_forget():
    tm = Coordinator()
    ctx = started(tm, "tm")
    tm.on_message(ctx, "c1", Transfer(7, LEGS))
    tm.on_message(ctx, "n1", Vote("t7", True))
    tm.on_message(ctx, "n2", Vote("t7", True))
    ctx.take()
    tm.on_message(ctx, "n1", Ack("t7"))
    tm.on_message(ctx, "n1", Ack("t7"))          # a duplicate ack counts once
    assert ctx.take() == [] and "t7" in ctx.disk["log"]
    tm.on_message(ctx, "n2", Ack("t7"))
    assert ctx.take() == [Emit("end", {"txn": "t7"})]
    assert ctx.disk["log"] == {}


def test_recovery_resends_commit_to_unacked_participants_only():
    disk = {"log": {"t7": {"participants": ("n1", "n2"), "acked": ["n1"]}}, "requests": {}}
    tm = Coordinator(resend_interval=0.3)
    ctx = sim.RecordingContext("tm", disk=disk)
    tm.on_start(ctx)
    assert ctx.take() == [Emit("recover", {"committed": ("t7",)}),
                          Send("n2", Commit("t7")), SetTimer("resend", 0.3)]


def test_recovery_forgets_transactions_that_were_deciding():
    tm = Coordinator()
    ctx = started(tm, "tm")
    tm.on_message(ctx, "c1", Transfer(7, LEGS))
    tm.on_message(ctx, "n1", Vote("t7", True))
    tm2 = Coordinator()                          # crash: only the disk survives
    ctx2 = started(tm2, "tm", disk=ctx.disk)
    tm2.on_message(ctx2, "n2", Inquire("t7"))
    assert ctx2.take() == [Send("n2", Abort("t7"))]


def test_commit_without_all_votes_bug_commits_on_first_yes():
    tm = Coordinator(bugs={"commit_without_all_votes"})
    ctx = started(tm, "tm")
    tm.on_message(ctx, "c1", Transfer(7, LEGS))
    ctx.take()
    tm.on_message(ctx, "n1", Vote("t7", True))
    # the decision records the one vote tm had: the checker sees it was premature
    assert Emit("decide", {"txn": "t7", "outcome": "commit", "votes": ("n1",)}) in ctx.take()


# ------------------------------------------------------------------ participant
def prepared(p, txn="t1", legs=(("n1:0", -5),), parts=("n1", "n2"), disk=None):
    ctx = started(p, "n1", disk=disk)
    p.on_message(ctx, "tm", Prepare(txn, legs, parts))
    return ctx


def test_first_start_opens_accounts():
    ctx = sim.RecordingContext("n1")
    Participant(accounts=2, initial_balance=10).on_start(ctx)
    assert ctx.take() == [Emit("init", {"balances": {"n1:0": 10, "n1:1": 10}})]


def test_prepare_forces_record_then_votes_yes():
    p = Participant(accounts=1, inquire_interval=0.2)
    ctx = prepared(p)
    assert ctx.take() == [Emit("vote", {"txn": "t1", "yes": True, "read": {"n1:0": 100}}),
                          Send("tm", Vote("t1", True)), SetTimer("inquire:t1", 0.2)]
    assert ctx.disk["prepared"] == {"t1": {"legs": (("n1:0", -5),),
                                           "participants": ("n1", "n2")}}
    assert ctx.disk["balance"] == {"n1:0": 100}  # not applied before the outcome


@pytest.mark.parametrize("legs, reason", [((("n1:0", -500),), "insufficient_funds")])
def test_prepare_refused_when_funds_short(legs, reason):
    p = Participant(accounts=1)
    ctx = prepared(p, legs=legs)
    assert ctx.take() == [Emit("vote", {"txn": "t1", "yes": False, "reason": reason}),
                          Emit("abort", {"txn": "t1", "reason": reason}),
                          Send("tm", Vote("t1", False))]


def test_prepare_refused_on_locked_account():
    p = Participant(accounts=1)
    ctx = prepared(p)
    p.on_message(ctx, "tm", Prepare("t2", (("n1:0", 1),), ("n1", "n2")))
    assert ctx.take()[-1] == Send("tm", Vote("t2", False))


def test_vote_no_probability_one_always_refuses():
    p = Participant(accounts=1, vote_no=1.0)
    ctx = prepared(p)
    assert ctx.take()[-1] == Send("tm", Vote("t1", False))


def test_repeated_prepare_repeats_the_vote():
    p = Participant(accounts=1)
    ctx = prepared(p)
    ctx.take()
    p.on_message(ctx, "tm", Prepare("t1", (("n1:0", -5),), ("n1", "n2")))
    assert ctx.take() == [Send("tm", Vote("t1", True))]


def test_commit_applies_releases_and_acks():
    p = Participant(accounts=1)
    ctx = prepared(p)
    ctx.take()
    p.on_message(ctx, "tm", Commit("t1"))
    assert ctx.take() == [CancelTimer("inquire:t1"),
                          Emit("commit", {"txn": "t1", "balances": {"n1:0": 95}}),
                          Send("tm", Ack("t1"))]
    p.on_message(ctx, "tm", Commit("t1"))        # a resend: ack only
    assert ctx.take() == [Send("tm", Ack("t1"))]
    p.on_message(ctx, "tm", Abort("t1"))         # a stale abort is ignored
    assert ctx.take() == [] and ctx.disk["done"]["t1"] == "commit"


def test_abort_releases_locks_without_applying():
    p = Participant(accounts=1)
    ctx = prepared(p)
    ctx.take()
    p.on_message(ctx, "tm", Abort("t1"))
    assert ctx.take() == [CancelTimer("inquire:t1"),
                          Emit("abort", {"txn": "t1", "reason": "told"})]
    assert ctx.disk["balance"] == {"n1:0": 100}
    p.on_message(ctx, "tm", Prepare("t2", (("n1:0", 1),), ("n1", "n2")))
    assert ctx.take()[-2] == Send("tm", Vote("t2", True))   # the lock is free again


def test_prepared_participant_stays_blocked_across_a_crash():
    p = Participant(accounts=1, inquire_interval=0.2)
    ctx = prepared(p)
    p2 = Participant(accounts=1, inquire_interval=0.2)
    ctx2 = sim.RecordingContext("n1", disk=ctx.disk)
    p2.on_start(ctx2)
    assert ctx2.take() == [SetTimer("inquire:t1", 0.2), Emit("recover", {"in_doubt": ("t1",)})]
    p2.on_message(ctx2, "tm", Prepare("t2", (("n1:0", 1),), ("n1", "n2")))
    assert ctx2.take()[-1] == Send("tm", Vote("t2", False))   # still holds its lock
    assert ctx2.fire(p2, "inquire:t1") == [Send("tm", Inquire("t1")),
                                           SetTimer("inquire:t1", 0.2)]


def test_forgets_prepare_bug_loses_the_record_in_a_crash():
    p = Participant(accounts=1, bugs={"participant_forgets_prepare"})
    ctx = prepared(p)
    p2 = Participant(accounts=1, bugs={"participant_forgets_prepare"})
    ctx2 = sim.RecordingContext("n1", disk=ctx.disk)
    p2.on_start(ctx2)
    assert ctx2.take() == [Emit("recover", {"in_doubt": ()})]
    p2.on_message(ctx2, "tm", Commit("t1"))
    assert ctx2.take() == [Send("tm", Ack("t1"))]           # acks, applies nothing
    assert ctx2.disk["balance"] == {"n1:0": 100}


def test_cooperative_termination_asks_tm_and_peers():
    p = Participant(accounts=1, termination="cooperative", inquire_interval=0.2)
    ctx = prepared(p, parts=("n1", "n2", "n3"))
    assert ctx.fire(p, "inquire:t1") == [Send("tm", Inquire("t1")), Send("n2", Inquire("t1")),
                                         Send("n3", Inquire("t1")),
                                         SetTimer("inquire:t1", 0.2)]


def test_wait_termination_asks_only_tm():
    p = Participant(accounts=1, inquire_interval=0.2)
    ctx = prepared(p, parts=("n1", "n2", "n3"))
    assert ctx.fire(p, "inquire:t1") == [Send("tm", Inquire("t1")),
                                         SetTimer("inquire:t1", 0.2)]


def test_peer_that_has_not_voted_aborts_unilaterally_and_durably():
    p = Participant(accounts=1)
    ctx = started(p, "n2")
    p.on_message(ctx, "n1", Inquire("t1"))
    assert ctx.take() == [Emit("abort", {"txn": "t1", "reason": "peer_inquiry"}),
                          Send("n1", Abort("t1"))]
    p.on_message(ctx, "tm", Prepare("t1", (("n2:0", 5),), ("n1", "n2")))
    assert ctx.take() == [Send("tm", Vote("t1", False))]    # it keeps its word


def test_prepared_peer_is_as_uncertain_as_the_asker():
    p = Participant(accounts=1)
    ctx = prepared(p)
    ctx.take()
    p.on_message(ctx, "n2", Inquire("t1"))
    assert ctx.take() == []


def test_peer_that_knows_the_outcome_tells_it():
    p = Participant(accounts=1)
    ctx = prepared(p)
    p.on_message(ctx, "tm", Commit("t1"))
    ctx.take()
    p.on_message(ctx, "n2", Inquire("t1"))
    assert ctx.take() == [Send("n2", Commit("t1"))]


def test_abort_before_prepare_makes_the_late_prepare_vote_no():
    p = Participant(accounts=1)
    ctx = started(p, "n1")
    p.on_message(ctx, "tm", Abort("t1"))
    assert ctx.take() == [Emit("abort", {"txn": "t1", "reason": "abort_before_prepare"})]
    p.on_message(ctx, "tm", Prepare("t1", (("n1:0", 5),), ("n1", "n2")))
    assert ctx.take() == [Send("tm", Vote("t1", False))]


def test_reads_return_committed_balances():
    p = Participant(accounts=2)
    ctx = prepared(p)
    ctx.take()
    p.on_message(ctx, "c1", Read(3))
    assert ctx.take() == [Send("c1", Balances(3, "n1", {"n1:0": 100, "n1:1": 100}))]
