"""Events due now (zero-delay messages) go through the scheduler's FIFO ``nowq`` instead of
the heap; the order must be exactly the heap's, ``(time, seq)``.

The reference is the general send path: a link with ``fifo=True`` sends through
``Wire.send``, which always uses the heap, and on a constant-latency network FIFO order
changes nothing (each delay is the same), so ``fifo=True`` and ``fifo=False`` must give the
same tables — one run through ``nowq``, the other through the heap alone.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest
from conftest import assert_same_tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsalgo import balance, sim
from dsalgo.locks import redlock
from dsalgo.locks import zookeeper as zklock
from dsalgo.sim.run import _categorical


def _zero(fifo: bool, **kw) -> sim.Network:
    return sim.Network(latency=sim.Constant(0.0), fifo=fifo, **kw)


class _Chatter(sim.Node):
    """Timers of delay 0 and chains of zero-delay messages, crossing at the same instant."""

    def __init__(self, ids, chain):
        self.ids, self.chain = ids, chain

    def on_start(self, ctx):
        ctx.set_timer("t", 0.0)

    def on_message(self, ctx, src, msg):
        ctx.emit("got", m=msg, src=src)
        if msg < self.chain and ctx.rng.random() < 0.9:
            ctx.send(ctx.rng.choice(self.ids), msg + 1)

    def on_timer(self, ctx, name):
        ctx.send(ctx.rng.choice(self.ids), 0)
        if ctx.rng.random() < 0.97:
            ctx.set_timer("t", ctx.rng.choice([0.0005, 0.002, (0.0, 0.004)]))


def _chatter_runs(seed: int, fifo: bool, stop_at: int | None, faults: bool):
    r = random.Random(seed)
    ids = [f"n{i}" for i in range(r.randint(2, 6))]
    net = _zero(fifo)
    if seed % 2:  # one link with a delay among the zero-delay ones (constant: FIFO anyway)
        net.set_link(ids[0], ids[1], latency=sim.Constant(0.001))
    s = sim.Simulation(seed=seed, network=net)
    chain = r.randint(1, 30)
    for i in ids:
        s.add_node(i, lambda: _Chatter(ids, chain))
    if faults:
        s.add_faults([sim.Nemesis(crash=2.0, partition=2.0, pause=2.0, clock_jump=1.0,
                                  end=0.08, max_crashed=1)])
    seen = [0]

    def stopper(sm, t, node, kind, fields):
        seen[0] += 1
        if seen[0] == stop_at:
            sm.stop()  # mid-instant: what is due now must wait for the next run()

    s.add_observer(stopper)
    return [s.run(until=u) for u in (0.01, 0.03, 0.1)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), stop_at=st.one_of(st.none(), st.integers(1, 400)),
       faults=st.booleans())
def test_zero_delay_runs_match_the_heap_only_path(seed, stop_at, faults):
    fast = _chatter_runs(seed, False, stop_at, faults)
    slow = _chatter_runs(seed, True, stop_at, faults)
    for a, b in zip(fast, slow):
        assert_same_tables(a, b)


def test_zero_delay_traffic_did_take_the_fast_path():
    """The property above compares something: zero-delay messages at the same instant as
    other events happen, and the FIFO is used (and empty after the run)."""
    s = sim.Simulation(seed=3, network=_zero(False))
    ids = ["n0", "n1", "n2"]
    for i in ids:
        s.add_node(i, lambda: _Chatter(ids, 20))
    used = []
    nowq = s._clock.nowq
    s.add_observer(lambda sm, t, node, kind, f: used.append(len(nowq)))
    run = s.run(until=0.05)
    assert max(used) > 0 and not nowq
    m = run.messages
    assert (m["t_deliver"] == m["t_send"]).mean() > 0.9
    assert m.duplicated(["t_send"]).sum() > 100  # many messages share an instant


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("simulate", [redlock.simulate, zklock.simulate],
                         ids=["redlock", "zklock"])
def test_kernels_on_a_zero_delay_network_match_the_heap_only_path(simulate, seed):
    faults = [sim.Nemesis(crash=0.5, partition=0.5, pause=0.5, end=2.0, max_crashed=1)]
    a = simulate(seed=seed, duration=2.5, network=_zero(False), faults=faults)
    b = simulate(seed=seed, duration=2.5, network=_zero(True), faults=faults)
    assert_same_tables(a, b)


@pytest.mark.parametrize("policy", ["central_queue", "jsq", "power_of_d"])
def test_balance_on_its_zero_delay_default_matches_the_heap_only_path(policy):
    a = balance.simulate(4, policy=policy, requests=400, seed=5, network=_zero(False))
    b = balance.simulate(4, policy=policy, requests=400, seed=5, network=_zero(True))
    assert_same_tables(a, b)
    assert_same_tables(a, balance.simulate(4, policy=policy, requests=400, seed=5))


def test_event_limit_lists_what_is_due_soonest_among_ties():
    """The livelock message counts the pending events in the order they are due, so it
    does not depend on how the heap happens to be laid out."""
    class Loop(sim.Node):
        def on_start(self, ctx):
            ctx.send("b" if ctx.id == "a" else "a", 0)
            ctx.set_timer("late", 5.0)

        def on_message(self, ctx, src, msg):
            ctx.send(src, msg + 1)

    s = sim.Simulation(seed=0, network=_zero(False), max_events=500)
    s.add_node("a", Loop)
    s.add_node("b", Loop)
    with pytest.raises(sim.EventLimitExceeded, match=r"Most common on the heap: int a->b x1, "
                                                     r"int b->a x1, timer late@a x1, "
                                                     r"timer late@b x1\."):
        s.run(until=1.0)


# ------------------------------------------------------------------ categorical columns
_values = st.lists(st.one_of(st.none(), st.sampled_from(["ok", "fail", "n1", "n10", "n2",
                                                         "é", "Z", ""])), max_size=60)


def _same_categorical(a, b):
    assert a.dtype == b.dtype
    assert a.categories.dtype == b.categories.dtype
    assert a.codes.dtype == b.codes.dtype
    assert list(a.categories) == list(b.categories)
    assert (a.codes == b.codes).all()


@given(_values)
def test_fast_categorical_is_pandas_categorical(values):
    _same_categorical(_categorical(values), pd.Categorical(values))
    filled = ["info" if v is None else v for v in values]
    _same_categorical(_categorical(values, none="info"), pd.Categorical(filled))


@pytest.mark.parametrize("values", [[1, 2, "a"], [str(i) for i in range(300)], [None, None],
                                    [], [float("nan"), "a"], ["x"] * 5])
def test_fast_categorical_hands_other_columns_to_pandas(values):
    _same_categorical(_categorical(values), pd.Categorical(values))


def test_nothing_waits_outside_the_heap_after_a_handler_raises():
    """An error out of a handler leaves every pending event on the heap (``nowq`` is the
    loop's own), so a simulation inspected after the error sees all of them."""
    class Boom(_Chatter):
        def on_message(self, ctx, src, msg):
            super().on_message(ctx, src, msg)
            if msg == 5:
                raise RuntimeError("boom")

    s = sim.Simulation(seed=1, network=_zero(False))
    ids = ["n0", "n1", "n2"]
    for i in ids:
        s.add_node(i, lambda: Boom(ids, 20))
    with pytest.raises(RuntimeError, match="boom"):
        s.run(until=1.0)
    assert not s._clock.nowq
    assert any(ev[0] == s.now and ev[2] == 0 for ev in s._clock.heap)  # due now, kept
