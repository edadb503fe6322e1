"""One message in, exact effects out: the Paxos roles driven by hand."""

import pytest

from dsalgo import quorum, sim
from dsalgo.paxos import (
    Accept,
    Accepted,
    Acceptor,
    Catchup,
    Decided,
    Heartbeat,
    MultiPaxosNode,
    Nack,
    PaxosClient,
    Prepare,
    Promise,
    Redirect,
    Reply,
    Request,
    SingleDecreeNode,
)
from dsalgo.sim import CancelTimer, Command, Complete, Emit, Send, SetTimer

IDS = ["n1", "n2", "n3"]
B1, B2 = (1, "n1"), (2, "n2")


# ---------------------------------------------------------------- acceptor
def test_acceptor_promises_a_higher_ballot_and_reports_what_it_accepted():
    disk = {}
    a = Acceptor(disk)
    assert a.on_prepare(Prepare(B1, 0)) == Promise(B1, ())
    assert a.on_accept(Accept(B1, 0, "x")) == Accepted(B1, 0)
    assert a.on_accept(Accept(B1, 3, "y")) == Accepted(B1, 3)
    assert a.on_prepare(Prepare(B2, 1)) == Promise(B2, ((3, B1, "y"),))
    assert disk["promised"] == B2 and disk["accepted"] == {0: (B1, "x"), 3: (B1, "y")}


def test_acceptor_refuses_lower_ballots_in_both_phases():
    a = Acceptor({})
    a.on_prepare(Prepare(B2, 0))
    assert a.on_prepare(Prepare(B1, 0)) == Nack(B1, B2)
    assert a.on_accept(Accept(B1, 0, "x")) == Nack(B1, B2)
    assert a.store["accepted"] == {}


def test_acceptor_answers_a_retransmitted_prepare_again():
    a = Acceptor({})
    assert a.on_prepare(Prepare(B1, 0)) == a.on_prepare(Prepare(B1, 0)) == Promise(B1, ())


def test_acceptor_state_survives_on_the_same_disk():
    disk = {}
    Acceptor(disk).on_accept(Accept(B2, 0, "x"))
    again = Acceptor(disk)
    assert again.promised == B2
    assert again.on_prepare(Prepare(B1, 0)) == Nack(B1, B2)


# ---------------------------------------------------------------- single decree
def proposer(value="v1", bugs=(), disk=None, ident="n1"):
    node = SingleDecreeNode(IDS, quorum.majority(3), value=value, bugs=bugs,
                            backoff=(0.0, 0.02), retry_timeout=0.1)
    ctx = sim.RecordingContext(ident, disk=disk)
    node.on_start(ctx)
    return node, ctx


def test_proposer_starts_phase_one_with_a_fresh_ballot():
    _node, ctx = proposer()
    assert ctx.take() == [Emit("propose", {"value": "v1"}), SetTimer("retry", 0.1),
                          Emit("promise", {"ballot": B1}),   # its own acceptor's promise
                          Send("n2", Prepare(B1, 0)), Send("n3", Prepare(B1, 0))]
    assert ctx.disk["round"] == 1 and ctx.disk["promised"] == B1


def test_proposer_with_a_quorum_of_empty_promises_proposes_its_own_value():
    node, ctx = proposer()
    ctx.take()
    node.on_message(ctx, "n2", Promise(B1, ()))
    # its own acceptor accepts first (no network hop) and records it for the checker
    assert ctx.take() == [SetTimer("retry", 0.1),
                          Emit("accepted", {"slot": 0, "ballot": B1, "value": "v1"}),
                          Send("n2", Accept(B1, 0, "v1")), Send("n3", Accept(B1, 0, "v1"))]


def test_proposer_adopts_the_value_of_the_highest_accepted_ballot():
    node, ctx = proposer()
    ctx.take()
    node.on_message(ctx, "n2", Promise(B1, ((0, (0, "n3"), "old"),)))
    node.on_message(ctx, "n3", Promise(B1, ()))      # quorum already reached: ignored
    effects = ctx.take()
    assert Send("n2", Accept(B1, 0, "old")) in effects
    assert not any(isinstance(e, Send) and e.msg.value == "v1" for e in effects)


def test_bug_ignore_accepted_value_proposes_its_own_value_anyway():
    node, ctx = proposer(bugs={"ignore_accepted_value"})
    ctx.take()
    node.on_message(ctx, "n2", Promise(B1, ((0, (0, "n3"), "old"),)))
    assert Send("n2", Accept(B1, 0, "v1")) in ctx.take()


def test_proposer_decides_on_a_phase_two_quorum_and_tells_the_learners():
    node, ctx = proposer()
    node.on_message(ctx, "n2", Promise(B1, ()))
    ctx.take()
    node.on_message(ctx, "n3", Accepted(B1, 0))
    assert ctx.take() == [Send("n2", Decided(0, "v1")), Send("n3", Decided(0, "v1")),
                          CancelTimer("retry"), Emit("decided", {"slot": 0, "value": "v1"})]
    node.on_message(ctx, "n2", Accepted(B1, 0))      # late vote: nothing more
    assert ctx.take() == []


def test_preempted_proposer_backs_off_for_a_random_time_then_uses_a_higher_round():
    node, ctx = proposer()
    ctx.take()
    node.on_message(ctx, "n2", Nack(B1, (5, "n3")))
    assert ctx.take() == [Emit("preempted", {"round": 1, "by_round": 5}),
                          SetTimer("retry", (0.0, 0.02))]
    effects = ctx.fire(node, "retry")
    assert Send("n2", Prepare((6, "n1"), 0)) in effects


def test_a_restarted_proposer_never_reuses_its_ballot():
    _node, ctx = proposer()
    _again, ctx2 = proposer(disk=ctx.disk)
    assert Send("n2", Prepare((2, "n1"), 0)) in ctx2.take()


def test_bug_duplicate_ballots_drops_the_proposer_from_the_ballot():
    _node, ctx = proposer(bugs={"duplicate_ballots"})
    assert Send("n2", Prepare((1, ""), 0)) in ctx.take()


def test_learner_records_a_second_different_value_for_the_checker():
    node, ctx = proposer(value=None, ident="n3")
    node.on_message(ctx, "n1", Decided(0, "a"))
    node.on_message(ctx, "n1", Decided(0, "a"))
    node.on_message(ctx, "n2", Decided(0, "b"))
    assert ctx.take() == [CancelTimer("retry"), Emit("decided", {"slot": 0, "value": "a"}),
                          Emit("decided", {"slot": 0, "value": "b"})]


# ---------------------------------------------------------------- multi-paxos
def leader(window=8, entries=(), bugs=()):
    """n1, elected leader of ballot (1, 'n1') with n2's promise carrying ``entries``."""
    node = MultiPaxosNode(IDS, quorum.majority(3), heartbeat_interval=0.05,
                          election_timeout=(0.15, 0.3), window=window, bugs=bugs)
    ctx = sim.RecordingContext("n1")
    node.on_start(ctx)
    ctx.fire(node, "election")
    node.on_message(ctx, "n2", Promise(B1, tuple(entries)))
    return node, ctx


def test_new_leader_announces_itself_with_heartbeats():
    _node, ctx = leader()
    assert ctx.take() == [CancelTimer("election"), Emit("leader", {"round": 1}),
                          Send("n2", Heartbeat(B1, 0)), Send("n3", Heartbeat(B1, 0)),
                          SetTimer("heartbeat", 0.05)]


def test_new_leader_re_proposes_accepted_values_and_fills_holes_with_noops():
    _node, ctx = leader(entries=[(1, (0, "n2"), Command("c1", 7, "put", 0, 7))])
    sends = [e for e in ctx.take() if isinstance(e, Send) and isinstance(e.msg, Accept)]
    assert sends == [Send("n2", Accept(B1, 0, None)), Send("n3", Accept(B1, 0, None)),
                     Send("n2", Accept(B1, 1, Command("c1", 7, "put", 0, 7))),
                     Send("n3", Accept(B1, 1, Command("c1", 7, "put", 0, 7)))]


def test_bug_ignore_accepted_value_overwrites_the_log_with_noops():
    _node, ctx = leader(entries=[(0, (0, "n2"), Command("c1", 7, "put", 0, 7))],
                       bugs={"ignore_accepted_value"})
    assert Send("n2", Accept(B1, 0, None)) in ctx.take()


def test_steady_state_is_one_accept_round_per_command():
    node, ctx = leader()
    ctx.take()
    node.on_message(ctx, "c1", Request(4, "put", "k", 4))
    # the leader's own acceptor records the op_id, as decided events do
    assert ctx.take() == [Emit("accepted", {"slot": 0, "ballot": B1, "value": 4}),
                          Send("n2", Accept(B1, 0, Command("c1", 4, "put", "k", 4))),
                          Send("n3", Accept(B1, 0, Command("c1", 4, "put", "k", 4)))]
    node.on_message(ctx, "n3", Accepted(B1, 0))
    assert ctx.take() == [Send("n2", Decided(0, Command("c1", 4, "put", "k", 4))),
                          Send("n3", Decided(0, Command("c1", 4, "put", "k", 4))),
                          Emit("decided", {"slot": 0, "value": 4}),
                          Emit("apply", {"slot": 0, "op_id": 4, "process": "c1",
                                         "executed": True}),
                          Send("c1", Reply(4, "ok", None))]


def test_pipeline_window_holds_back_commands_until_a_slot_is_decided():
    node, ctx = leader(window=1)
    ctx.take()
    node.on_message(ctx, "c1", Request(1, "put", "k", 1))
    node.on_message(ctx, "c2", Request(2, "get", "k", None))
    assert ctx.take() == [Emit("accepted", {"slot": 0, "ballot": B1, "value": 1}),
                          Send("n2", Accept(B1, 0, Command("c1", 1, "put", "k", 1))),
                          Send("n3", Accept(B1, 0, Command("c1", 1, "put", "k", 1)))]
    node.on_message(ctx, "n2", Accepted(B1, 0))
    accepts = [e.msg for e in ctx.take() if isinstance(e, Send) and isinstance(e.msg, Accept)]
    assert accepts == [Accept(B1, 1, Command("c2", 2, "get", "k", None))] * 2


def test_an_operation_is_executed_once_however_often_it_is_decided():
    node, ctx = leader()
    cmd = Command("c1", 4, "cas", "k", [None, 4])
    node.on_message(ctx, "n2", Decided(0, cmd))
    node.on_message(ctx, "n2", Decided(1, cmd))
    ctx.take()
    assert node.store.data == {"k": 4} and node.results == {4: ("ok", True)}
    node.on_message(ctx, "c1", Request(4, "cas", "k", [None, 4]))
    assert ctx.take() == [Send("c1", Reply(4, "ok", True))]


def test_follower_redirects_clients_to_the_leader_it_heard_from():
    node = MultiPaxosNode(IDS, quorum.majority(3))
    ctx = sim.RecordingContext("n2")
    node.on_start(ctx)
    node.on_message(ctx, "n1", Heartbeat(B1, 0))
    ctx.take()
    node.on_message(ctx, "c1", Request(3, "get", 0, None))
    assert ctx.take() == [Send("c1", Redirect(3, "n1"))]


def test_lagging_follower_asks_for_the_decisions_it_missed():
    node = MultiPaxosNode(IDS, quorum.majority(3))
    ctx = sim.RecordingContext("n2")
    node.on_start(ctx)
    ctx.take()
    node.on_message(ctx, "n1", Heartbeat(B1, 3))       # decisions may be on the wire
    assert ctx.take() == [SetTimer("election", (0.15, 0.3))]
    node.on_message(ctx, "n1", Decided(0, None))
    node.on_message(ctx, "n1", Heartbeat(B1, 5))       # a heartbeat later, still short of 3
    assert ctx.take() == [Emit("decided", {"slot": 0, "value": -1}),
                          SetTimer("election", (0.15, 0.3)), Send("n1", Catchup(1))]


def test_a_deposed_leader_hears_a_nack_on_its_heartbeat_and_steps_down():
    node = MultiPaxosNode(IDS, quorum.majority(3))
    ctx = sim.RecordingContext("n2")
    node.on_start(ctx)
    node.on_message(ctx, "n3", Prepare(B2, 0))
    ctx.take()
    node.on_message(ctx, "n1", Heartbeat(B1, 0))
    assert ctx.take() == [Send("n1", Nack(B1, B2))]
    old, octx = leader()
    octx.take()
    old.on_message(octx, "n2", Nack(B1, B2))
    assert octx.take() == [Emit("preempted", {"round": 1, "by_round": 2}),
                           CancelTimer("heartbeat"), SetTimer("election", (0.15, 0.3))]
    assert old.role == "follower" and old.leader == "n2"


# ---------------------------------------------------------------- client
def client():
    c = PaxosClient(IDS, sim.KVWorkload(keys=1, mix={"get": 1}), retry_interval=0.1)
    ctx = sim.RecordingContext("c1", seed=1)
    c.on_start(ctx)
    ctx.fire(c, "next:0")
    return c, ctx


def test_client_finishes_on_reply_and_remembers_the_leader():
    c, ctx = client()
    c.on_message(ctx, "n3", Reply(0, "ok", None))
    assert ctx.take() == [CancelTimer("retry:0"), CancelTimer("op:0"),
                          Complete(0, "ok", None), SetTimer("next:0", 0.0)]
    assert c.leader == "n3"


def test_client_retries_the_next_server_when_unanswered():
    c, ctx = client()
    first = c.leader
    effects = ctx.fire(c, "retry:0")
    nxt = IDS[(IDS.index(first) + 1) % 3]
    assert effects == [Send(nxt, Request(0, "get", 0, None)), SetTimer("retry:0", 0.1)]


def test_client_ignores_answers_to_operations_it_gave_up():
    c, ctx = client()
    ctx.fire(c, "op:0")
    c.on_message(ctx, "n1", Reply(0, "ok", None))
    assert ctx.take() == []


@pytest.mark.parametrize("msg", [Redirect(0, None)])
def test_client_without_a_leader_hint_waits_for_its_retry_timer(msg):
    c, ctx = client()
    c.on_message(ctx, "n1", msg)
    assert ctx.take() == []


# ---------------------------------------------------------------- a proposer that learns a rival decision
def _proposer_in_phase_two(bugs=()):
    ids = ["n1", "n2", "n3"]
    node = SingleDecreeNode(ids, quorum.majority(3), value="v1", bugs=bugs)
    ctx = sim.RecordingContext("n1")
    node.on_start(ctx)
    node.on_message(ctx, "n2", Promise(B1, ()))   # n1 + n2: a phase-1 quorum
    ctx.take()
    return node, ctx


def test_proposer_that_learned_another_value_still_records_its_own_chosen_value():
    # n1's Accept(v1) is out when it learns "other" from a rival's Decided; then its own
    # phase-2 quorum completes: two values were chosen (possible only in a broken
    # variant), and unless n1 records and announces it, paxos.check cannot see it.
    node, ctx = _proposer_in_phase_two()
    node.on_message(ctx, "n3", Decided(0, "other"))
    ctx.take()
    node.on_message(ctx, "n2", Accepted(B1, 0))
    effects = ctx.take()
    assert sim.Emit("decided", {"slot": 0, "value": "v1"}) in effects
    assert sim.Send("n2", Decided(0, "v1")) in effects


def test_proposer_that_learned_its_own_value_first_sends_nothing_more():
    # the correct-Paxos case: the rival decided the same value, so nothing is re-announced
    node, ctx = _proposer_in_phase_two()
    node.on_message(ctx, "n3", Decided(0, "v1"))
    ctx.take()
    node.on_message(ctx, "n2", Accepted(B1, 0))
    assert ctx.take() == []
