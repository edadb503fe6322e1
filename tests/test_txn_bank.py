"""The bank workload and its client: transfers conserve money, reads merge every shard."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsalgo import sim
from dsalgo.sim import Complete, Send
from dsalgo.txn.bank import (
    Balances,
    BankClient,
    BankWorkload,
    Read,
    Transfer,
    TransferDone,
    shard_of,
)

SHARDS = ["n1", "n2", "n3", "n4"]


@settings(max_examples=50, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10**6), span=st.integers(2, 4), ordered=st.booleans())
def test_every_transfer_sums_to_zero_with_one_leg_per_shard(seed, span, ordered):
    w = BankWorkload(SHARDS, accounts=3, span=span, read_fraction=0.0, ordered=ordered)
    f, key, legs = w.next_op(random.Random(seed), 0, {})
    assert f == "transfer" and sum(d for _, d in legs) == 0
    shards = [shard_of(a) for a, _ in legs]
    assert len(set(shards)) == span == len(legs)
    source = [a for a, d in legs if d < 0]
    assert source == [key]                                  # one payer: the key
    if ordered:
        assert shards == sorted(shards)
    else:
        assert legs[0][0] == key


def test_read_fraction_one_only_reads():
    w = BankWorkload(SHARDS, read_fraction=1.0)
    rng = random.Random(0)
    assert {w.next_op(rng, i, {}) for i in range(20)} == {("read", None, None)}


def started_client(f="transfer"):
    w = BankWorkload(["n1", "n2"], accounts=1, read_fraction=1.0 if f == "read" else 0.0)
    c = BankClient(w, "tm", max_ops=1)
    ctx = sim.RecordingContext("c1")
    c.on_start(ctx)
    c.on_timer(ctx, "next:0")
    return c, ctx


def test_transfer_goes_to_the_coordinator_and_its_answer_is_recorded():
    c, ctx = started_client()
    assert isinstance(ctx.sent()[0].msg, Transfer) and ctx.sent()[0].dst == "tm"
    ctx.take()
    c.on_message(ctx, "tm", TransferDone(0, True))
    assert ctx.take()[1] == Complete(0, "ok", "committed")


def test_aborted_transfer_is_a_definite_failure():
    c, ctx = started_client()
    ctx.take()
    c.on_message(ctx, "tm", TransferDone(0, False))
    assert ctx.take()[1] == Complete(0, "fail", "aborted")


def test_read_completes_once_every_shard_answered_in_shard_order():
    c, ctx = started_client("read")
    assert ctx.take()[-3:] == [sim.SetTimer("op:0", 1.0), Send("n1", Read(0)),
                               Send("n2", Read(0))]
    c.on_message(ctx, "n2", Balances(0, "n2", {"n2:0": 7}))
    assert ctx.take() == []
    c.on_message(ctx, "n1", Balances(0, "n1", {"n1:0": 3}))
    done = [e for e in ctx.take() if isinstance(e, Complete)]
    assert done == [Complete(0, "ok", {"n1:0": 3, "n2:0": 7})]
    assert list(done[0].result) == ["n1:0", "n2:0"]
    c.on_message(ctx, "n1", Balances(0, "n1", {"n1:0": 3}))    # late duplicate: ignored
    assert ctx.take() == []


def test_unanswered_operation_stays_open_as_info():
    c, ctx = started_client("read")
    effects = ctx.fire(c, "op:0")
    assert Complete(0, "info", None) in effects


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"shards": ["n1"]}, ValueError, "shards must name at least 2 shards; got ['n1']"),
    ({"span": 1}, ValueError, "span must be an integer >= 2; got 1"),
    ({"max_amount": 0}, ValueError, "max_amount must be an integer >= 1; got 0"),
    ({"read_fraction": -0.5}, ValueError, "read_fraction must be in [0, 1]; got -0.5"),
])
def test_workload_bad_input(kwargs, exc, message):
    args = {"shards": SHARDS, **kwargs}
    with pytest.raises(exc) as e:
        BankWorkload(args.pop("shards"), **args)
    assert message in str(e.value)


def test_client_rejects_another_workload():
    with pytest.raises(TypeError, match="workload must be a BankWorkload; got"):
        BankClient(sim.KVWorkload(), "tm")
