"""Per-link random streams: the bare C generator a plain link keeps draws exactly what the
full ``random.Random`` of the same (seed, link) draws, and a latency model that needs more
than ``random()`` gets a full generator that goes on with the same draws."""

import random

import pytest

from dsalgo import sim
from dsalgo.sim._rng import bare_stream, full_stream, stream


def test_the_bare_stream_draws_what_the_full_stream_draws():
    full, bare = stream(7, "link", "a", "b"), bare_stream(7, "link", "a", "b")
    assert [full.random() for _ in range(1000)] == [bare.random() for _ in range(1000)]
    assert bare_stream(7, "link", "a", "b").random() != bare_stream(7, "link", "b", "a").random()


def test_full_stream_goes_on_with_the_same_draws():
    full, bare = stream(3, "x"), bare_stream(3, "x")
    for _ in range(17):
        full.random(), bare.random()
    cont = full_stream(bare)
    assert isinstance(cont, random.Random)
    assert [full.lognormvariate(0, 1) for _ in range(50)] == \
        [cont.lognormvariate(0, 1) for _ in range(50)]
    assert full_stream(full) is full


class Gaussian(sim.Latency):
    """A latency model of the user's own that draws through a method beyond random()."""

    mean = 0.004

    def sample(self, rng):
        return abs(rng.gauss(0.004, 0.001))


class Echo(sim.Node):
    def on_start(self, ctx):
        if ctx.id == "a":
            for i in range(20):
                ctx.send("b", i)

    def on_message(self, ctx, src, msg):
        ctx.emit("got", value=msg)


@pytest.mark.parametrize("latency, full", [
    (sim.Exponential(mean=0.005), False), (sim.Constant(0.002), False),
    (sim.Uniform(0.001, 0.002), False), (sim.Empirical([0.001, 0.003]), False),
    (sim.LogNormal(median=0.003, sigma=0.5), True), (Gaussian(), True)])
def test_each_link_keeps_the_bare_generator_unless_its_latency_needs_more(latency, full):
    s = sim.Simulation(seed=2, network=sim.Network(latency=latency))
    s.add_node("a", Echo)
    s.add_node("b", Echo)
    run = s.run(until=1.0)
    assert (run.events["kind"] == "got").sum() == 20
    rng = s._wire.links[("a", "b")].rng
    assert isinstance(rng, random.Random) == full


def test_a_link_switched_to_a_richer_latency_mid_run_keeps_its_stream():
    def run(switch_to):
        s = sim.Simulation(seed=4, network=sim.Network(latency=sim.Uniform(0.001, 0.01)))
        s.add_node("a", Echo)
        s.add_node("b", Echo)
        s.run(until=0.001)                      # the link is built: 20 draws taken
        s.set_link("a", "b", latency=switch_to)
        s._states["a"].ctx.send("b", "late")
        s.run(until=1.0)
        return s._wire.links[("a", "b")].rng

    lognormal = sim.LogNormal(median=0.003, sigma=0.5)
    rng = run(lognormal)
    ref = stream(4, "link", "a", "b")
    for _ in range(20):                          # the 20 uniform draws
        ref.random()
    lognormal.sample(ref)                        # and the lognormal one
    assert isinstance(rng, random.Random) and rng.random() == ref.random()
