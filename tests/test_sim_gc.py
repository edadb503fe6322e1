"""The garbage collector during Simulation.run: young generations only, the thresholds put
back as found (also on error), nothing reachable lost, cyclic garbage still reclaimed."""

import gc
import weakref
from typing import ClassVar

import pytest

from dsalgo import sim
from dsalgo.sim import engine


class Cycle:
    def __init__(self):
        self.me = self


class Keeper(sim.Node):
    """Holds a cycle in its state, drops another, and notes the collector's thresholds."""

    seen: ClassVar[dict] = {}

    def on_start(self, ctx):
        self.kept = Cycle()
        self.kept.payload = {"log": [1, 2, 3]}
        dropped = Cycle()
        Keeper.seen["dropped"] = weakref.ref(dropped)
        Keeper.seen["kept"] = weakref.ref(self.kept)
        del dropped
        ctx.set_timer("churn", 0.1)
        ctx.set_timer("look", 0.2)

    def on_timer(self, ctx, name):
        if name == "churn":   # live tracked objects enough for several young collections
            self.lists = [[i] for i in range(20_000)]
        else:
            Keeper.seen["threshold"] = gc.get_threshold()
            Keeper.seen["dropped_during_run"] = Keeper.seen["dropped"]() is None


@pytest.fixture
def thresholds():
    old = gc.get_threshold()
    gc.set_threshold(500, 7, 9)
    yield (500, 7, 9)
    gc.set_threshold(*old)


def test_only_young_collections_run_inside_the_loop_and_thresholds_come_back(thresholds):
    s = sim.Simulation(seed=0)
    s.add_node("n1", Keeper)
    s.run(until=1.0)
    assert Keeper.seen["threshold"] == (500, 7, engine._NEVER)
    assert gc.get_threshold() == thresholds
    # the young generations still reclaimed a dropped cycle during the run
    assert Keeper.seen["dropped_during_run"]


def test_nothing_reachable_is_lost(thresholds):
    s = sim.Simulation(seed=0)
    s.add_node("n1", Keeper)
    s.run(until=1.0)
    gc.collect()
    kept = Keeper.seen["kept"]()
    assert kept is not None and kept.me is kept and kept.payload == {"log": [1, 2, 3]}
    assert s.node("n1").kept is kept and len(s.node("n1").lists) == 20_000


def test_thresholds_come_back_when_a_handler_raises(thresholds):
    class Boom(sim.Node):
        def on_start(self, ctx):
            raise RuntimeError("boom")

    s = sim.Simulation(seed=0)
    s.add_node("n1", Boom)
    with pytest.raises(RuntimeError, match="boom"):
        s.run(until=1.0)
    assert gc.get_threshold() == thresholds


def test_a_disabled_collector_stays_disabled():
    was = gc.isenabled()
    gc.disable()
    try:
        s = sim.Simulation(seed=0)
        s.add_node("n1", Keeper)
        s.run(until=1.0)
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


# ---------------------------------------------------------------- Simulation.close


class Chatty(sim.Node):
    def on_start(self, ctx):
        ctx.disk["mine"] = [ctx.id]
        ctx.set_timer("t", 0.01)
        for peer in ("a", "b", "c"):
            if peer != ctx.id:
                ctx.send(peer, 0)

    def on_message(self, ctx, src, msg):
        if msg < 20:
            ctx.send(src, msg + 1)

    def on_timer(self, ctx, name):
        ctx.set_timer("t", 0.01)


def _chatty(latency=None):
    s = sim.Simulation(seed=3, network=sim.Network(latency=latency or sim.Constant(0.001)))
    for i in "abc":
        s.add_node(i, Chatty)
    return s


@pytest.mark.parametrize("latency", [sim.Constant(0.001), sim.Exponential(mean=0.001)])
def test_a_closed_simulation_is_freed_without_the_collector(latency):
    gc.collect()
    gc.disable()
    try:
        for close in (False, True):
            s = _chatty(latency)
            run = s.run(until=0.5)
            node = weakref.ref(s.node("a"))
            if close:
                s.close()
            del s
            assert (node() is None) == close   # without close(), it waits in a cycle
            assert (gc.collect() == 0) == close
            assert len(run.messages) > 100       # the run is untouched
    finally:
        gc.enable()


@pytest.mark.parametrize("lossy", [False, True])
def test_close_leaves_no_cycle_after_a_link_changed_mid_run(lossy):
    # set_link replaces the link; the old one, still drawing from its counter, was its own
    # stream (a cycle) and is no longer among the links close() unhooks
    gc.collect()
    gc.disable()
    try:
        s = _chatty()
        if lossy:
            s.network.drop_rate = 0.1
        s.run(until=0.1)
        s.set_link("a", "b", latency=sim.Constant(0.002))
        s.run(until=0.3)
        s.close()
        del s
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_closed_simulation_answers_like_a_missing_attribute_and_refuses_changes():
    import copy
    s = _chatty()
    s.close()
    assert isinstance(s, sim.Simulation)
    assert not hasattr(s, "run") and getattr(s, "now", "gone") == "gone"
    with pytest.raises(sim.SimulationClosed):
        s.seed = 2
    with pytest.raises(TypeError, match="cannot be copied"):
        copy.deepcopy(s)
    assert issubclass(sim.SimulationClosed, ValueError)


def test_close_keeps_what_you_hold_and_the_runs_tables():
    s, twin = _chatty(), _chatty()
    run = s.run(until=0.3)
    node, disk = s.node("a"), s._states["a"].disk
    s.close()
    s.close()                                            # a second close does nothing
    assert disk == {"mine": ["a"]} and isinstance(node, Chatty)
    same = twin.run(until=0.3)
    for name in ("messages", "events", "history", "faults"):
        assert getattr(run, name).equals(getattr(same, name))
    with pytest.raises(ValueError, match="was closed"):
        s.run(until=1.0)
    with pytest.raises(ValueError, match="was closed"):
        s.add_node("d", Chatty)


def test_close_inside_run_is_refused():
    box = {}

    class Closer(sim.Node):
        def on_start(self, ctx):
            box["s"].close()

    s = box["s"] = sim.Simulation(seed=1)
    s.add_node("a", Closer)
    with pytest.raises(ValueError, match="inside run"):
        s.run(until=1.0)


def test_every_familys_simulate_leaves_no_cycles_for_the_collector(monkeypatch):
    from dsalgo import zk
    from dsalgo.families import FAMILIES
    families = [*FAMILIES.values(), zk]
    for fam in families:
        fam.simulate(seed=0)     # the first call imports and caches what it needs
    gc.collect()
    gc.disable()
    try:
        for fam in families:
            fam.simulate(seed=1)
            assert gc.collect() == 0, fam.__name__
        # and it did happen: without close() each run leaves its cycles
        monkeypatch.setattr(sim.Simulation, "close", lambda self: None)
        for fam in families:
            fam.simulate(seed=1)
            assert gc.collect() > 0, fam.__name__
    finally:
        gc.enable()
