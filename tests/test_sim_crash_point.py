"""sim.CrashPoint: a crash inside a handler, between two of its effects."""

import itertools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsalgo import sim

NODES = ["n1", "n2", "n3", "n4"]


class Script(sim.Node):
    """n1 sends n2 a script at t=0; n2 performs it: ("send", dst) or ("write", key)."""

    def __init__(self, script=(), swallow=False):
        self.script = list(script)
        self.swallow = swallow

    def on_start(self, ctx):
        ctx.emit("boot", keys=",".join(sorted(ctx.disk)))
        if ctx.id == "n1" and not ctx.disk.get("started"):
            ctx.disk["started"] = True
            ctx.send("n2", ("run", tuple(self.script)))

    def on_message(self, ctx, src, msg):
        if msg[0] != "run":
            ctx.emit("got", src=src, what=msg[1])
            return
        for i, (op, arg) in enumerate(msg[1]):
            try:
                if op == "send":
                    ctx.send(arg, ("note", i))
                else:
                    ctx.disk[arg] = i
            except Exception:  # a kernel that swallows errors cannot swallow the crash
                if not self.swallow:
                    raise


def run_script(script, after, until=0.5, storage=None, cpu=None, swallow=False):
    s = sim.Simulation(seed=0, network=sim.Network(latency=sim.Constant(0.01)))
    for n in NODES:
        s.add_node(n, lambda: Script(script, swallow), storage=storage, cpu=cpu)
    s.add_faults(sim.CrashPoint("n2", at=0.0, after=after, until=until))
    return s, s.run(until=1.0)


def outcome(s, run):
    """(the notes n2 sent, the keys n2 wrote) as the world saw them."""
    ev = run.events
    notes = (sorted(ev.loc[ev["kind"] == "got", "what"].astype(int).tolist())
             if "what" in ev.columns else [])
    return notes, sorted(s._states["n2"].disk)


WRITE_THEN_REPLY = [("write", "promise"), ("send", "n1")]
REPLY_THEN_WRITE = [("send", "n1"), ("write", "promise")]


def test_write_then_reply_cut_after_one_effect_has_written_and_not_replied():
    s, run = run_script(WRITE_THEN_REPLY, after=1)
    assert outcome(s, run) == ([], ["promise"])
    f = run.faults.iloc[0]
    assert (f["kind"], f["target"], f["t_start"], f["t_end"]) == ("crash", "n2", 0.01, 0.5)
    assert f["detail"] == "crash point: after 1 effect, handling tuple from n1"
    crash = run.events[run.events["kind"] == "crash"].iloc[0]
    assert bool(crash["crash_point"]) and crash["after"] == 1
    assert crash["handling"] == "tuple from n1"


def test_reply_then_write_cut_after_one_effect_has_replied_and_not_written():
    s, run = run_script(REPLY_THEN_WRITE, after=1)
    assert outcome(s, run) == ([0], [])
    boots = run.events[(run.events["kind"] == "boot") & (run.events["node"] == "n2")]
    assert boots["time"].tolist() == [0.0, 0.5] and boots["keys"].tolist() == ["", ""]


def test_after_zero_undoes_a_write_and_sends_nothing():
    for script in (WRITE_THEN_REPLY, REPLY_THEN_WRITE, [("write", "a")]):
        s, run = run_script(script, after=0)
        assert outcome(s, run) == ([], []) and len(run.faults) == 1


def test_writes_between_two_sends_are_one_effect():
    script = [("send", "n1"), ("write", "a"), ("write", "b"), ("send", "n3"), ("write", "c")]
    cuts = {k: outcome(*run_script(script, after=k)) for k in range(4)}
    assert cuts == {0: ([], []), 1: ([0], []), 2: ([0], ["a", "b"]),
                    3: ([0, 3], ["a", "b"])}
    s, run = run_script(script, after=4)   # four effects: the handler is left alone
    assert outcome(s, run) == ([0, 3], ["a", "b", "c"]) and len(run.faults) == 0


def test_a_broadcast_is_cut_part_way():
    script = [("send", n) for n in ("n1", "n3", "n4")]
    s, run = run_script(script, after=2)
    assert outcome(s, run) == ([0, 1], [])


def test_it_strikes_the_first_handler_with_more_effects_than_after():
    """n2's start (no effects) and a one-effect handler are passed over."""
    class Receiver(sim.Node):
        def on_message(self, ctx, src, msg):
            ctx.emit("got", what=msg)

    class Three(sim.Node):
        def on_start(self, ctx):
            ctx.set_timer("t", 0.1)

        def on_timer(self, ctx, name):
            if name == "t":
                ctx.send("n1", "one")                # one effect: not enough
                ctx.set_timer("u", 0.1)
            else:
                ctx.send("n1", "first")
                ctx.send("n1", "second")

    s = sim.Simulation(seed=0, network=sim.Network(latency=sim.Constant(0.01)))
    s.add_node("n1", Receiver)
    s.add_node("n2", Three)
    s.add_faults(sim.CrashPoint("n2", at=0.0, after=1))
    run = s.run(until=1.0)
    ev = run.events
    assert ev.loc[ev["kind"] == "got", "what"].tolist() == ["one", "first"]
    assert run.faults["t_start"].tolist() == [pytest.approx(0.2)]
    assert run.faults["detail"].tolist() == ["crash point: after 1 effect, handling timer 'u'"]
    assert pd.isna(run.faults["t_end"]).all() and not s.is_up("n2")   # no until: stays down


def test_a_crash_point_that_lapses_leaves_the_node_as_it_was():
    s, run = run_script(WRITE_THEN_REPLY, after=5, until=0.5)
    assert len(run.faults) == 0 and outcome(s, run) == ([1], ["promise"])
    st_ = s._states["n2"]
    assert st_.cut is None and st_.on_message == st_.node.on_message


def test_an_unused_crash_point_changes_no_table():
    def go(fault):
        s = sim.Simulation(seed=4, network=sim.Network(latency=sim.Exponential(mean=0.02)))
        for n in NODES:
            s.add_node(n, lambda: Script([("send", "n1"), ("send", "n3")]))
        if fault:
            s.add_faults(sim.CrashPoint("n3", at=0.0, after=1, until=0.9))
        return s.run(until=1.0)
    a, b = go(False), go(True)
    pd.testing.assert_frame_equal(a.messages, b.messages)
    pd.testing.assert_frame_equal(a.events, b.events)


def test_a_kernel_that_swallows_exceptions_still_crashes():
    s, run = run_script(REPLY_THEN_WRITE, after=1, swallow=True)
    assert outcome(s, run) == ([0], []) and len(run.faults) == 1


def test_with_a_storage_model_only_sends_are_effects_and_continuations_are_handlers():
    class Durable(sim.Node):
        def on_start(self, ctx):
            if ctx.id == "n1":
                ctx.send("n2", "go")

        def on_message(self, ctx, src, msg):
            if msg == "go":
                ctx.disk["promise"] = 1                      # no effect: not durable yet
                ctx.sync(send=[("n1", "a"), ("n3", "b"), ("n4", "c")])
            else:
                ctx.emit("got", what=msg)

    s = sim.Simulation(seed=0, network=sim.Network(latency=sim.Constant(0.01)))
    for n in NODES:
        s.add_node(n, Durable, storage=sim.Storage(sync=sim.Constant(0.005)))
    s.add_faults(sim.CrashPoint("n2", at=0.0, after=1, until=0.5))
    run = s.run(until=1.0)
    assert run.events.loc[run.events["kind"] == "got", "what"].tolist() == ["a"]
    assert run.faults["detail"].tolist() == ["crash point: after 1 effect, handling sync"]
    assert s._states["n2"].disk == {"promise": 1}            # the sync had completed


def test_with_a_processing_model_the_handler_is_cut_too():
    s, run = run_script(REPLY_THEN_WRITE, after=1, cpu=sim.Constant(0.001))
    assert outcome(s, run) == ([0], [])
    assert run.faults["t_start"].tolist() == [pytest.approx(0.011)]


def test_on_start_after_a_restart_is_a_handler():
    class Starter(sim.Node):
        def on_start(self, ctx):
            ctx.send("n1", "hello")
            ctx.send("n1", "again")

        def on_message(self, ctx, src, msg):
            ctx.emit("got", what=msg, src=src)

    s = sim.Simulation(seed=0, network=sim.Network(latency=sim.Constant(0.01)))
    s.add_node("n1", Starter)
    s.add_node("n2", Starter)
    s.add_faults([sim.Crash("n2", at=0.1), sim.Restart("n2", at=0.2),
                  sim.CrashPoint("n2", at=0.15, after=1, until=0.4)])
    run = s.run(until=1.0)
    got = run.events[(run.events["kind"] == "got") & (run.events["src"] == "n2")]
    assert got["what"].tolist() == ["hello", "again", "hello", "hello", "again"]
    f = run.faults
    assert f[["t_start", "t_end"]].values.tolist() == [[0.1, 0.2], [0.2, 0.4]]
    assert f["detail"].tolist()[1] == "crash point: after 1 effect, handling start"


@pytest.mark.parametrize("kw, err, words", [
    (dict(node=3, at=0.0), TypeError, "node must be a node id"),
    (dict(node="n1", at=-1.0), ValueError, "at must be >= 0"),
    (dict(node="n1", at=0.0, after=-1), ValueError, "after must be an integer >= 0"),
    (dict(node="n1", at=0.0, after=1.5), TypeError, "after must be an integer"),
    (dict(node="n1", at=1.0, until=0.5), ValueError, "until must be later than at=1.0"),
])
def test_bad_arguments_are_refused(kw, err, words):
    with pytest.raises(err, match=words):
        sim.CrashPoint(**kw)


def test_nemesis_crash_points_are_drawn_by_seed_and_respect_max_crashed():
    nem = sim.Nemesis(crash=1.0, crash_point=3.0, crash_point_after=2, max_crashed=1,
                      mean_duration=0.2, end=4.0)
    drawn = nem.schedule(11, NODES, 5.0)
    points = [f for f in drawn if isinstance(f, sim.CrashPoint)]
    assert points and {f.after for f in points} == {1, 2}
    assert all(f.until <= 4.0 for f in points)
    assert drawn == nem.schedule(11, NODES, 5.0)
    # at most one node down (or armed) at once
    spans = sorted([(f.at, f.until) for f in points] +
                   [(c.at, r.at) for c, r in itertools.pairwise(drawn)
                    if isinstance(c, sim.Crash) and isinstance(r, sim.Restart)])
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    with pytest.raises(ValueError, match="crash_point_after must be an integer >= 1"):
        sim.Nemesis(crash_point=1.0, crash_point_after=0)


@settings(max_examples=60, deadline=None)
@given(script=st.lists(st.tuples(st.sampled_from(["send", "write"]),
                                 st.sampled_from(["n1", "n3", "n4"])), min_size=1, max_size=6),
       after=st.integers(0, 6))
def test_exactly_the_effects_before_the_cut_happen(script, after):
    script = [(op, dst if op == "send" else f"k{i}") for i, (op, dst) in enumerate(script)]
    # the effects as the simulator counts them: sends, and runs of writes between sends
    effects = []
    for i, (op, arg) in enumerate(script):
        if op == "send":
            effects.append([("send", i)])
        elif effects and effects[-1][0][0] == "write":
            effects[-1].append(("write", arg))
        else:
            effects.append([("write", arg)])
    s, run = run_script(script, after=after)
    struck = len(effects) > after
    done = [e for grp in (effects[:after] if struck else effects) for e in grp]
    assert outcome(s, run) == (sorted(i for op, i in done if op == "send"),
                               sorted(k for op, k in done if op == "write"))
    assert len(run.faults) == int(struck)


def test_an_event_never_reports_a_write_the_crash_takes_back():
    class WriteEmitSend(sim.Node):
        def on_start(self, ctx):
            if ctx.id == "n1":
                ctx.send("n2", "go")

        def on_message(self, ctx, src, msg):
            if msg == "go":
                ctx.disk["promise"] = 2
                ctx.emit("promised", ballot=2)      # written before: accounted here
                ctx.send(src, "ok")

    for after, expect in ((0, ([], {})), (1, ([2], {"promise": 2})),
                          (2, ([2], {"promise": 2}))):
        s = sim.Simulation(seed=0, network=sim.Network(latency=sim.Constant(0.01)))
        s.add_node("n1", WriteEmitSend)
        s.add_node("n2", WriteEmitSend)
        s.add_faults(sim.CrashPoint("n2", at=0.0, after=after))
        run = s.run(until=1.0)
        ev = run.events
        got = ev.loc[ev["kind"] == "promised", "ballot"].tolist() if "ballot" in ev else []
        assert (got, s._states["n2"].disk) == expect
        assert len(run.faults) == (after < 2)
