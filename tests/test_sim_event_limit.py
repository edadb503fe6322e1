"""The livelock guard: a run that schedules more events than ``max_events`` raises
:class:`dsalgo.sim.EventLimitExceeded` instead of running on while simulated time crawls."""

import os
import sys

import pytest

from dsalgo import explore, sim
from dsalgo.sim.testing import table_digest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class Multiplier(sim.Node):
    """Every message begets two: the number in flight doubles each hop (what a duplicated
    request that is answered by an immediate resend does without end)."""

    def on_start(self, ctx):
        if ctx.id == "a":
            ctx.send("b", "x")

    def on_message(self, ctx, src, msg):
        ctx.send(src, msg)
        ctx.send(src, msg)


class Pinger(sim.Node):
    def on_start(self, ctx):
        ctx.set_timer("tick", 0.01)

    def on_timer(self, ctx, name):
        ctx.send("b" if ctx.id == "a" else "a", "ping")
        ctx.set_timer("tick", 0.01)

    def on_message(self, ctx, src, msg):
        ctx.emit("got", src=src)


def _sim(node, **kw):
    s = sim.Simulation(seed=1, network=sim.Network(latency=sim.Constant(0.01)), **kw)
    s.add_node("a", node)
    s.add_node("b", node)
    return s


def test_a_run_whose_messages_multiply_stops_at_max_events_and_says_why():
    s = _sim(Multiplier, max_events=5_000)
    with pytest.raises(sim.EventLimitExceeded) as info:
        s.run(until=10.0)
    e = info.value
    assert e.limit == 5_000 and e.events == 5_001 and e.until == 10.0
    assert 0.0 < e.time < 0.2            # 2**12 copies by 0.12 s: it never got far
    assert e.pending[0][0] in ("str a->b", "str b->a") and e.pending[0][1] > 1000
    text = str(e)
    assert "max_events=5,000" in text and "as given" in text and "livelock" in text


def test_the_default_limit_grows_with_nodes_and_simulated_time(monkeypatch):
    monkeypatch.setattr(sim.Simulation, "EVENTS_BASE", 1_000)
    monkeypatch.setattr(sim.Simulation, "EVENTS_PER_NODE_SECOND", 500)
    s = _sim(Multiplier)
    with pytest.raises(sim.EventLimitExceeded) as info:
        s.run(until=2.0)
    assert info.value.limit == 1_000 + 500 * 2 * 2
    assert "the default, 1,000 + 500 x 2 nodes x 2 s" in str(info.value)
    # a steady run of the same length stays well below it (about 800 events)
    run = _sim(Pinger).run(until=2.0)
    assert (run.events["kind"] == "got").sum() > 300


def test_the_limit_counts_from_the_start_over_continued_runs():
    s = _sim(Pinger, max_events=600)
    s.run(until=1.0)                      # about 400 events (two ticks, two pings per 10 ms)
    with pytest.raises(sim.EventLimitExceeded):
        s.run(until=2.0)


def test_a_run_below_the_limit_is_unchanged_by_it():
    runs = [_sim(Pinger, max_events=m).run(until=2.0) for m in (None, 10**9)]
    assert table_digest(runs[0].events) == table_digest(runs[1].events)
    assert table_digest(runs[0].messages) == table_digest(runs[1].messages)


@pytest.mark.parametrize("bad,err", [(0, ValueError), (-5, ValueError), ("many", TypeError),
                                     (1.5, TypeError)])
def test_max_events_must_be_a_positive_int(bad, err):
    with pytest.raises(err, match="max_events"):
        sim.Simulation(max_events=bad)


def test_search_reports_a_runaway_run_as_an_exception_of_the_kernel(monkeypatch):
    """The Raft mutant that truncates on every overlapping AppendEntries sends a follower
    into an endless refuse-and-resend exchange with its leader, and each duplicated copy
    starts another: without the guard this scenario did not end in 10 minutes.  With a
    tight default it is a failure the search records (the pseudo-property
    ``exception``), and the original kernel runs it well inside the same limit."""
    from mutants import BY_NAME, applied

    from dsalgo.explore.search import _evaluate
    monkeypatch.setattr(sim.Simulation, "EVENTS_BASE", 20_000)
    monkeypatch.setattr(sim.Simulation, "EVENTS_PER_NODE_SECOND", 10_000)
    scen = explore.Scenario(
        "raft", 3, seed=745587655, duration=3.0,
        knobs={"clients": 2, "max_entries": 64, "noop": True},
        faults=({"kind": "duplication", "rate": 0.021572},
                {"kind": "slow_link", "src": "n2", "dst": "n1", "mean": 0.31324},
                {"kind": "slow_link", "src": "c2", "dst": "c1", "mean": 0.31324}))
    _feats, props, first, _anchors = _evaluate(scen)
    assert props == ()                    # the original kernel: no violation, no raise
    with applied(BY_NAME["truncate_without_conflict"]):
        _feats, props, first, _anchors = _evaluate(scen)
    assert props == ("exception",)
    assert first["detail"].startswith("EventLimitExceeded: the run scheduled more than "
                                      "max_events=170,000")
