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
