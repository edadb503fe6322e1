"""Policies and cluster nodes, one message in, exact effects out."""

import random
from collections import Counter

import pytest

from dsalgo import sim
from dsalgo.balance import (
    POLICIES,
    Backend,
    Balancer,
    BoundedConsistentHash,
    CentralQueue,
    Client,
    ConsistentHash,
    Done,
    JoinShortestQueue,
    LeastOutstanding,
    Load,
    Ping,
    Pong,
    PowerOfD,
    Random,
    Request,
    Response,
    RoundRobin,
    View,
    WeightedRoundRobin,
    make_policy,
)
from dsalgo.sim import CancelTimer, Complete, Emit, Invoke, Send, SetTimer

# ------------------------------------------------------------------------ policies


def view(n=4, **kw):
    v = View([f"n{i}" for i in range(1, n + 1)], kw.pop("speeds", None))
    for attr, values in kw.items():
        getattr(v, attr).update(values)
    return v


def test_random_is_uniform_over_up_backends():
    v = view(4)
    v.up = ["n1", "n3"]
    rng = random.Random(1)
    counts = Counter(Random().choose(rng, None, v) for _ in range(4000))
    assert set(counts) == {"n1", "n3"}
    assert abs(counts["n1"] - 2000) < 4 * (4000 * 0.25) ** 0.5


def test_round_robin_skips_down_backends():
    p, v = RoundRobin(), view(3)
    p.reset(v)
    v.up = ["n1", "n3"]
    assert [p.choose(None, None, v) for _ in range(4)] == ["n1", "n3", "n1", "n3"]


def test_weighted_round_robin_gives_each_its_weight_interleaved():
    p, v = WeightedRoundRobin(weights=[5, 1, 1]), view(3)
    p.reset(v)
    picks = [p.choose(None, None, v) for _ in range(7)]
    assert Counter(picks) == {"n1": 5, "n2": 1, "n3": 1}
    assert picks == ["n1", "n1", "n2", "n1", "n3", "n1", "n1"]   # smooth: n1 never 5 in a row


def test_least_outstanding_and_jsq_break_ties_at_random():
    v = view(3, outstanding={"n1": 1, "n2": 0, "n3": 0}, reported={"n1": 0, "n2": 2, "n3": 0})
    rng = random.Random(0)
    assert {LeastOutstanding().choose(rng, None, v) for _ in range(50)} == {"n2", "n3"}
    assert {JoinShortestQueue().choose(rng, None, v) for _ in range(50)} == {"n1", "n3"}


def test_power_of_d_compares_d_distinct_samples():
    v = view(10, reported={f"n{i}": i for i in range(1, 11)})
    rng = random.Random(5)
    picks = Counter(PowerOfD(d=2).choose(rng, None, v) for _ in range(3000))
    # the pick is the smaller of two distinct uniform samples: P(n_k) = 2 (10 - k) / 90
    assert "n10" not in picks
    assert abs(picks["n1"] / 3000 - 18 / 90) < 0.03
    assert PowerOfD(d=10).choose(rng, None, v) == "n1"     # d = n is JSQ


def test_consistent_hash_sticks_to_key_and_fails_over():
    p, v = ConsistentHash(vnodes=32), view(4)
    p.reset(v)
    home = p.choose(None, "user7", v)
    assert all(p.choose(None, "user7", v) == home for _ in range(5))
    v.up = [b for b in v.up if b != home]
    assert p.choose(None, "user7", v) not in (home, None)


def test_bounded_consistent_hash_redirects_only_above_the_cap():
    p, v = BoundedConsistentHash(epsilon=1.0, vnodes=32), view(4)
    p.reset(v)
    home = p.choose(None, "k", v)
    v.outstanding[home] = 1            # cap = ceil(2 * 2 / 4) = 1: full
    assert p.choose(None, "k", v) != home
    v.outstanding.update({b: 1 for b in v.backends})   # cap = ceil(2 * 5 / 4) = 3: room
    assert p.choose(None, "k", v) == home


def test_central_queue_prefers_the_fastest_idle_backend():
    v = view(3, speeds={"n1": 1.0, "n2": 4.0, "n3": 2.0}, outstanding={"n2": 1})
    assert CentralQueue().choose(random.Random(0), None, v) == "n3"


def test_make_policy_knows_every_name():
    assert set(POLICIES) == {"random", "round_robin", "weighted_round_robin",
                             "least_outstanding", "jsq", "power_of_d", "consistent_hash",
                             "consistent_hash_bounded", "central_queue"}
    for name in POLICIES:
        assert make_policy(name).name == name


@pytest.mark.parametrize("call, exc, message", [
    (lambda: make_policy("fastest"), ValueError, "policy must be one of 'random'"),
    (lambda: make_policy(3), TypeError, "policy must be a policy name"),
    (lambda: PowerOfD(d=0), ValueError, "d must be an integer >= 1; got 0"),
    (lambda: BoundedConsistentHash(epsilon=-1), ValueError, "epsilon must be > 0; got -1"),
    (lambda: WeightedRoundRobin(weights=[1, 2]).reset(view(3)), ValueError,
     "weights must give one weight per backend \\(3\\); got 2"),
    (lambda: WeightedRoundRobin(weights=[1, 0, 2]).reset(view(3)), ValueError,
     "weights\\['n2'\\] must be > 0; got 0.0"),
    (lambda: WeightedRoundRobin(weights={"n1": 1}).reset(view(2)), ValueError,
     "missing n2"),
])
def test_policy_bad_input(call, exc, message):
    with pytest.raises(exc, match=message):
        call()

# ------------------------------------------------------------------------ backend


def test_backend_queues_fifo_and_reports_every_change():
    b = Backend(sim.Constant(1.0), speed=1.0, report_to=["lb1", "lb2"])
    ctx = sim.RecordingContext("n1")
    b.on_start(ctx)
    b.on_message(ctx, "lb1", Request(0, "a", "c1"))
    assert ctx.take() == [Emit("start", {"op": 0, "queued": 0.0, "service": 1.0}),
                          SetTimer("service", 1.0), Send("lb1", Load(1)), Send("lb2", Load(1))]
    ctx.now = 0.25
    b.on_message(ctx, "lb2", Request(1, "b", "c1"))
    assert ctx.take() == [Send("lb1", Load(2)), Send("lb2", Load(2))]   # waits: no new timer
    ctx.now = 1.0
    assert ctx.fire(b, "service") == [Send("c1", Response(0, "n1")),
                                      Emit("start", {"op": 1, "queued": 0.75, "service": 1.0}),
                                      SetTimer("service", 1.0), Send("lb1", Load(1)),
                                      Send("lb2", Load(1))]
    assert ctx.fire(b, "service") == [Send("c1", Response(1, "n1")), Send("lb1", Load(0)),
                                      Send("lb2", Load(0))]


def test_backend_answers_probes_at_once_even_when_busy():
    b, ctx = Backend(sim.Constant(5.0)), sim.RecordingContext("n2")
    b.on_start(ctx)
    b.on_message(ctx, "lb1", Request(0, None, "c1"))
    ctx.take()
    b.on_message(ctx, "lb1", Ping(3))
    assert ctx.take() == [Send("lb1", Pong(3))]


# ------------------------------------------------------------------------ balancer


def test_balancer_central_queue_holds_then_drains_on_done():
    lb, ctx = Balancer(CentralQueue(), ["n1", "n2"]), sim.RecordingContext("lb1")
    lb.on_start(ctx)
    reqs = [Request(i, None, "c1") for i in range(3)]
    for r in reqs:
        lb.on_message(ctx, "c1", r)
    sent = ctx.take()
    assert sorted(e.dst for e in sent) == ["n1", "n2"] and [e.msg for e in sent] == reqs[:2]
    first = sent[0].dst
    lb.on_message(ctx, first, Done(sent[0].msg.op_id, 0))
    assert ctx.take() == [Send(first, reqs[2])]
    lb.on_message(ctx, "n1", Load(7))                 # a report changes the view, nothing else
    assert ctx.take() == [] and lb.view.reported["n1"] == 7


def test_balancer_least_outstanding_counts_its_own_requests():
    lb, ctx = Balancer(LeastOutstanding(), ["n1", "n2"]), sim.RecordingContext("lb1")
    lb.on_start(ctx)
    for i in range(4):
        lb.on_message(ctx, "c1", Request(i, None, "c1"))
    assert lb.view.outstanding == {"n1": 2, "n2": 2}
    lb.on_message(ctx, "n2", Done(1, 1))
    assert lb.view.outstanding == {"n1": 2, "n2": 1}
    lb.on_message(ctx, "c1", Request(9, None, "c1"))
    assert ctx.take()[-1] == Send("n2", Request(9, None, "c1"))


def test_balancer_health_checks_take_a_silent_backend_out_and_back():
    lb = Balancer(RoundRobin(), ["n1", "n2"], health_interval=1.0)
    ctx = sim.RecordingContext("lb1")
    lb.on_start(ctx)
    assert ctx.take() == [Send("n1", Ping(1)), Send("n2", Ping(1)), SetTimer("health", 1.0)]
    lb.on_message(ctx, "n1", Pong(1))                       # n2 stays silent
    assert ctx.fire(lb, "health") == [Emit("backend_down", {"backend": "n2"}),
                                      Send("n1", Ping(2)), Send("n2", Ping(2)),
                                      SetTimer("health", 1.0)]
    for i in range(3):
        lb.on_message(ctx, "c1", Request(i, None, "c1"))
    assert {e.dst for e in ctx.take()} == {"n1"}
    lb.on_message(ctx, "n2", Pong(2))
    assert ctx.take() == [Emit("backend_up", {"backend": "n2"})]
    assert lb.view.up == ["n1", "n2"]


def test_balancer_holds_everything_while_no_backend_is_up():
    lb = Balancer(Random(), ["n1"], health_interval=1.0)
    ctx = sim.RecordingContext("lb1")
    lb.on_start(ctx)
    ctx.fire(lb, "health")                                  # n1 never answered
    lb.on_message(ctx, "c1", Request(0, None, "c1"))
    assert ctx.take() == []
    lb.on_message(ctx, "n1", Pong(2))
    assert ctx.take() == [Emit("backend_up", {"backend": "n1"}),
                          Send("n1", Request(0, None, "c1"))]


# ------------------------------------------------------------------------ client


def test_client_times_out_and_reports_drained():
    c = Client(rate=1.0, requests=2, balancers=["lb1"], keys=3, timeout=5.0)
    ctx = sim.RecordingContext("c1", seed=2)
    c.on_start(ctx)
    ctx.take()
    first = ctx.fire(c, "arrival")
    assert [type(e) for e in first] == [Invoke, Send, SetTimer, SetTimer]
    assert first[2] == SetTimer("t0", 5.0)
    second = ctx.fire(c, "arrival")
    assert [type(e) for e in second] == [Invoke, Send, SetTimer]     # no more arrivals
    c.on_message(ctx, "n1", Response(1, "n1"))
    assert ctx.take() == [CancelTimer("t1"), Complete(1, "ok", "n1")]
    assert ctx.fire(c, "t0") == [Complete(0, "info", None), Emit("drained", {})]


def test_client_draws_skewed_keys_from_cumulative_weights():
    c = Client(rate=1.0, requests=1, balancers=["lb1"], keys=3, key_cum_weights=[8, 9, 10])
    rng = random.Random(0)
    counts = Counter(c._key(rng) for _ in range(5000))
    assert abs(counts[0] / 5000 - 0.8) < 0.03 and set(counts) == {0, 1, 2}
