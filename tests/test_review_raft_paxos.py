"""Review of Paxos: kernel defects found in review, each pinned by a test that failed
before its fix.  (The Raft parts live in the Raft test files.)"""

from dsalgo import quorum, sim
from dsalgo.paxos.messages import Accepted, Decided, Promise
from dsalgo.paxos.single import SingleDecreeNode

B1 = (1, "n1")


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


# ---------------------------------------------------------------- paxos.summary
def test_summary_gives_nan_messages_per_op_when_messages_were_not_recorded():
    from dsalgo import paxos
    run = paxos.simulate(3, seed=1, duration=1.0, record_messages=False)
    s = paxos.summary(run, after=0.5)
    assert s["ops_ok"] > 0 and s["messages_per_op"] != s["messages_per_op"]   # NaN, not 0.0
    recorded = paxos.summary(paxos.simulate(3, seed=1, duration=1.0), after=0.5)
    assert recorded["messages_per_op"] > 0
