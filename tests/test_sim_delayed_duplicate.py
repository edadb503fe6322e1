"""sim.DelayedDuplicate: old messages delivered again, late; and the Nemesis rate of it."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsalgo import sim


class Ticker(sim.Node):
    """Every 0.25 s, n1 sends a numbered Ping to n2 and a Pong to n3; arrivals are logged."""

    def __init__(self):
        self.n = 0

    def on_start(self, ctx):
        if ctx.id == "n1":
            ctx.set_timer("tick", 0.25)

    def on_timer(self, ctx, name):
        self.n += 1
        ctx.send("n2", {"type": "Ping", "n": self.n})
        ctx.send("n3", {"type": "Pong", "n": self.n})
        ctx.set_timer("tick", 0.25)

    def on_message(self, ctx, src, msg):
        ctx.emit("got", type=msg["type"], n=msg["n"])


def make(seed=0, latency=None, **net):
    s = sim.Simulation(seed=seed, network=sim.Network(
        latency=latency or sim.Constant(0.01), **net))
    for n in ("n1", "n2", "n3"):
        s.add_node(n, Ticker)
    return s


def got(run):
    ev = run.events
    return ev.loc[ev["kind"] == "got", ["time", "node", "type", "n"]]


def test_the_next_matching_message_arrives_again_after_the_delay():
    s = make()
    s.add_faults(sim.DelayedDuplicate(at=0.6, delay=1.5, kinds="Ping"))
    run = s.run(until=3.0)
    g = got(run)
    # the Ping sent at t=0.75 (n=3) arrives at 0.76 and once more at 0.75 + 1.5
    late = g[(g["type"] == "Ping") & (g["n"] == 3)]
    assert late["time"].tolist() == [pytest.approx(0.76), pytest.approx(2.25)]
    assert (g.groupby(["type", "n"]).size() > 1).sum() == 1   # nothing else twice
    f = run.faults
    assert f.to_dict("records") == [{"kind": "delayed_duplicate", "target": "n1 -> n2",
                                     "t_start": 0.75, "t_end": 2.25, "detail": "Ping +1.5s"}]
    m = run.messages
    dup = m[m["reason"] == "duplicate"]
    assert len(dup) == 1 and dup.iloc[0]["t_deliver"] == 2.25 and dup.iloc[0]["type"] == "Ping"
    ev = run.events[run.events["kind"] == "delayed_duplicate"]
    assert ev[["src", "dst", "type", "deliver_at"]].to_dict("records") == [
        {"src": "n1", "dst": "n2", "type": "Ping", "deliver_at": 2.25}]


def test_filters_count_and_until():
    s = make()
    s.add_faults([sim.DelayedDuplicate(at=0.1, delay=0.05, dst=["n3"], count=3),
                  sim.DelayedDuplicate(at=0.1, delay=0.05, src="n2", until=2.0)])
    run = s.run(until=3.0)
    f = run.faults
    assert f["target"].tolist() == ["n1 -> n3"] * 3          # n2 never sends: lapses
    assert f["t_start"].tolist() == [0.25, 0.5, 0.75]
    g = got(run)
    twice = g.groupby(["node", "n"]).size()
    assert twice[twice > 1].index.tolist() == [("n3", 1), ("n3", 2), ("n3", 3)]


def test_until_stops_catching():
    s = make()
    s.add_faults(sim.DelayedDuplicate(at=0.3, delay=0.1, kinds="Nothing", until=0.4))
    s.add_faults(sim.DelayedDuplicate(at=0.3, delay=0.1, until=0.4))
    run = s.run(until=2.0)
    assert len(run.faults) == 0 and not (run.messages["reason"] == "duplicate").any()
    # once lapsed, links are back on the fast path
    assert all(link.plain for link in s._wire.links.values())


def test_a_fault_that_catches_nothing_changes_no_table():
    base = make(seed=3, latency=sim.Exponential(mean=0.02)).run(until=3.0)
    s = make(seed=3, latency=sim.Exponential(mean=0.02))
    s.add_faults(sim.DelayedDuplicate(at=0.0, delay=1.0, kinds="Nothing"))
    run = s.run(until=3.0)
    pd.testing.assert_frame_equal(base.messages, run.messages)
    pd.testing.assert_frame_equal(base.events, run.events)


def test_loss_and_duplication_draws_are_unchanged_by_a_catch():
    """A caught message is copied after the link's own draws, so the link's loss and
    duplication decisions stay those of the run without the fault."""
    kw = dict(latency=sim.Exponential(mean=0.02), drop_rate=0.2, duplicate_rate=0.2)
    base = make(seed=5, **kw).run(until=3.0).messages
    s = make(seed=5, **kw)
    s.add_faults(sim.DelayedDuplicate(at=1.0, delay=0.5, kinds="Ping", count=2))
    m = s.run(until=3.0).messages
    caught = m.index[(m["t_deliver"] - m["t_send"]).round(9) == 0.5]
    assert len(caught) == 2
    pd.testing.assert_frame_equal(base.reset_index(drop=True),
                                  m.drop(caught).reset_index(drop=True).assign(
                                      msg_id=range(len(m) - 2)))


def test_a_copy_to_a_crashed_node_is_dropped():
    s = make()
    s.add_faults([sim.DelayedDuplicate(at=0.1, delay=1.0, kinds="Ping"),
                  sim.Crash("n2", at=1.0), sim.Restart("n2", at=2.0)])
    m = s.run(until=3.0).messages
    dup = m[m["t_send"].eq(0.25) & m["dst"].eq("n2")]
    assert dup["status"].tolist() == ["delivered", "dropped"]
    assert dup["reason"].tolist()[1] == "node_down"


def test_without_recording_the_copy_is_still_delivered():
    s = sim.Simulation(seed=0, network=sim.Network(latency=sim.Constant(0.01)),
                       record_messages=False)
    for n in ("n1", "n2", "n3"):
        s.add_node(n, Ticker)
    s.add_faults(sim.DelayedDuplicate(at=0.1, delay=1.0, kinds="Pong"))
    run = s.run(until=2.0)
    g = got(run)
    assert g[(g["type"] == "Pong") & (g["n"] == 1)]["time"].tolist() == [
        pytest.approx(0.26), pytest.approx(1.25)]


def test_a_latency_model_delay_is_drawn_per_copy_and_deterministic():
    def once(seed):
        s = make(seed=seed)
        s.add_faults(sim.DelayedDuplicate(at=0.0, delay=sim.Exponential(mean=0.5), count=4))
        return s.run(until=5.0).faults
    a, b = once(1), once(1)
    pd.testing.assert_frame_equal(a, b)
    delays = (a["t_end"] - a["t_start"]).round(9)
    assert len(set(delays)) == 4 and (delays > 0).all()
    assert not once(2).equals(a)


@pytest.mark.parametrize("kw, err, words", [
    (dict(at=0.0, delay=0), ValueError, "delay must be > 0"),
    (dict(at=0.0, delay="1"), TypeError, "delay must be a number of seconds > 0"),
    (dict(at=-1.0, delay=1.0), ValueError, "at must be >= 0"),
    (dict(at=0.0, delay=1.0, kinds=[]), ValueError, "kinds must name at least one"),
    (dict(at=0.0, delay=1.0, kinds=[3]), TypeError, "kinds must be a message type name"),
    (dict(at=0.0, delay=1.0, src=5), TypeError, "src must be a node id"),
    (dict(at=0.0, delay=1.0, dst=[]), ValueError, "dst must name at least one node"),
    (dict(at=0.0, delay=1.0, count=0), ValueError, "count must be an integer >= 1"),
    (dict(at=1.0, delay=1.0, until=1.0), ValueError, "until must be later than at=1.0"),
])
def test_bad_arguments_are_refused(kw, err, words):
    with pytest.raises(err, match=words):
        sim.DelayedDuplicate(**kw)


def test_unknown_nodes_are_refused_when_added():
    s = make()
    s.add_faults(sim.DelayedDuplicate(at=0.0, delay=1.0, src="n9"))
    with pytest.raises(ValueError, match="n9"):
        s.run(until=1.0)


def test_nemesis_rate_draws_delayed_duplicates_that_arrive_by_end():
    nem = sim.Nemesis(delayed_duplicate=4.0, mean_duration={"delayed_duplicate": 0.3},
                      duplicate_kinds=["Ping"], end=2.5)
    drawn = nem.schedule(7, ["n1", "n2", "n3"], 3.0)
    assert drawn and all(isinstance(f, sim.DelayedDuplicate) for f in drawn)
    assert all(f.kinds == ("Ping",) and f.at + f.delay <= f.until + f.delay <= 2.5 + 1e-9
               for f in drawn)
    assert drawn == nem.schedule(7, ["n1", "n2", "n3"], 3.0)
    s = make(seed=7)
    s.add_faults(nem)
    run = s.run(until=3.0)
    f = run.faults
    assert len(f) and (f["kind"] == "delayed_duplicate").all() and (f["t_end"] <= 2.5).all()
    with pytest.raises(TypeError, match="duplicate_kinds must be"):
        sim.Nemesis(delayed_duplicate=1.0, duplicate_kinds=[1])


def test_classic_nemesis_schedules_and_reprs_are_unchanged():
    nem = sim.Nemesis(crash=1.0, partition=0.5, pause=0.5, clock_jump=0.5, end=4.0)
    assert list(nem.rates()) == ["crash", "partition", "pause", "clock_jump"]
    assert "delayed_duplicate" not in repr(nem)
    with_zero = sim.Nemesis(crash=1.0, partition=0.5, pause=0.5, clock_jump=0.5, end=4.0,
                            delayed_duplicate=0.0, crash_point=0.0)
    assert nem.schedule(3, ["n1", "n2", "n3"], 5.0) == with_zero.schedule(3, ["n1", "n2", "n3"],
                                                                           5.0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), delay=st.floats(0.05, 1.0))
def test_every_copy_arrives_exactly_delay_after_its_original_was_sent(seed, delay):
    s = make(seed=seed, latency=sim.Exponential(mean=0.02))
    s.add_faults(sim.DelayedDuplicate(at=0.2, delay=delay, count=3))
    run = s.run(until=3.0)
    f, m = run.faults, run.messages
    assert len(f) == 3                                    # it did happen, three times
    dup = m[m["reason"] == "duplicate"]
    assert len(dup) == 3
    assert ((dup["t_deliver"] - dup["t_send"]) - delay).abs().max() < 1e-9
    assert sorted(dup["t_send"]) == sorted(f["t_start"])
    # each copy is handled: one more "got" than messages without copies
    assert len(got(run)) == (m["status"] == "delivered").sum()
