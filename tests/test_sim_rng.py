"""Per-link random streams: the k-th draw of a link is a pure function of (seed, src, dst,
k) — hashed from a counter for the first ``COUNTER_DRAWS`` draws, then from a generator
seeded with the link's key — whatever the traffic elsewhere, the order links are built in
or the order nodes were added; a latency model that needs more than ``random()`` gets a
``random.Random`` that goes on with the same draws."""

import random

import numpy as np
import pytest

from dsalgo import sim
from dsalgo.sim._rng import (
    COUNTER_DRAWS,
    LinkStream,
    bare_stream,
    counter_random,
    full_stream,
    link_seed,
    stream,
)


def reference(seed, src, dst, n):
    """The first ``n`` draws of link ``src → dst``, from the documented derivation."""
    x = link_seed(seed, src, dst)
    later = random.Random(x)
    return [counter_random(x, k) if k < COUNTER_DRAWS else later.random() for k in range(n)]


def test_the_bare_stream_draws_what_the_full_stream_draws():
    full, bare = stream(7, "cpu", "a"), bare_stream(7, "cpu", "a")
    assert [full.random() for _ in range(1000)] == [bare.random() for _ in range(1000)]


def test_full_stream_goes_on_with_the_same_draws():
    full, bare = stream(3, "x"), bare_stream(3, "x")
    for _ in range(17):
        full.random(), bare.random()
    cont = full_stream(bare)
    assert isinstance(cont, random.Random)
    assert [full.lognormvariate(0, 1) for _ in range(50)] == \
        [cont.lognormvariate(0, 1) for _ in range(50)]
    assert full_stream(full) is full


def test_a_link_stream_is_the_counter_then_the_generator_and_resumes_anywhere():
    x = link_seed(5, "a", "b")
    ref = reference(5, "a", "b", 40)
    assert [LinkStream(x).random() for _ in range(1)] == ref[:1]
    s = LinkStream(x)
    assert [s.random() for _ in range(40)] == ref
    assert len(set(ref)) == 40 and all(0.0 <= u < 1.0 for u in ref)
    for k in (3, COUNTER_DRAWS):  # resumed inside the counter, and at the switch
        assert [LinkStream(x, k).random() for _ in range(1)] == ref[k:k + 1]
    g = random.Random(x)
    for _ in range(5):
        g.random()
    s = LinkStream(x, COUNTER_DRAWS + 5, g.getstate()[1])   # the C generator's state
    assert [s.random() for _ in range(10)] == ref[COUNTER_DRAWS + 5:COUNTER_DRAWS + 15]
    assert reference(5, "a", "b", 3) != reference(5, "b", "a", 3)
    assert reference(5, "a", "b", 3) != reference(6, "a", "b", 3)


def test_the_counter_draws_look_uniform_and_independent_across_links():
    # draw 0 of 20,000 links of one seed: uniform, and no link pair shares it
    u = np.array([counter_random(link_seed(1, f"n{i}", f"n{j}"), 0)
                  for i in range(200) for j in range(100)])
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    assert np.histogram(u, bins=10, range=(0, 1))[0].min() > 1850
    assert len(np.unique(u)) == len(u)


def test_getrandbits_and_choice_draw_from_the_link_stream():
    a, b = LinkStream(link_seed(2, "a", "b")), LinkStream(link_seed(2, "a", "b"))
    assert a.getrandbits(70) == b.getrandbits(70) < 2 ** 70 and a.k == 3
    assert [a.choice("abcdef") for _ in range(20)] == [b.choice("abcdef") for _ in range(20)]
    with pytest.raises(TypeError, match="re-seeded"):
        a.seed(1)
    with pytest.raises(ValueError, match="k must be"):
        a.getrandbits(-1)


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
def test_each_link_draws_bare_unless_its_latency_needs_more(latency, full):
    s = sim.Simulation(seed=2, network=sim.Network(latency=latency))
    s.add_node("a", Echo)
    s.add_node("b", Echo)
    run = s.run(until=1.0)
    assert (run.events["kind"] == "got").sum() == 20
    link = s._wire.links[("a", "b")]
    assert isinstance(link.rng, LinkStream) == full
    if not full and type(latency) is not sim.Constant:  # 20 draws: past the counter
        assert type(link.rng) is not LinkStream and link.rng is link.mt


def test_a_bare_link_draws_the_reference_stream_and_switches_to_its_generator():
    s = sim.Simulation(seed=8, network=sim.Network(latency=sim.Uniform(0.0, 1.0)))
    s.add_node("a", sim.Node)
    s.add_node("b", sim.Node)
    s.run(until=0.1)
    s._states["a"].ctx.send("b", "x")
    link = s._wire.links[("a", "b")]
    assert link.rng is link and link.k == 1
    assert [link.rand() for _ in range(30)] == reference(8, "a", "b", 31)[1:]
    assert link.rng is link.mt


@pytest.mark.parametrize("before", [3, 20])   # inside the counter, and past it
def test_a_link_switched_to_a_richer_latency_mid_run_keeps_its_stream(before):
    class Burst(sim.Node):
        def on_start(self, ctx):
            if ctx.id == "a":
                for i in range(before):
                    ctx.send("b", i)

    def run(switch_to):
        s = sim.Simulation(seed=4, network=sim.Network(latency=sim.Uniform(0.001, 0.01)))
        s.add_node("a", Burst)
        s.add_node("b", Burst)
        s.run(until=0.001)                      # the link is built: `before` draws taken
        s.set_link("a", "b", latency=switch_to)
        s._states["a"].ctx.send("b", "late")
        s.run(until=1.0)
        return s._wire.links[("a", "b")].rng

    lognormal = sim.LogNormal(median=0.003, sigma=0.5)
    rng = run(lognormal)
    ref = LinkStream(link_seed(4, "a", "b"))
    for _ in range(before):                      # the uniform draws
        ref.random()
    lognormal.sample(ref)                        # and the lognormal one
    assert isinstance(rng, LinkStream) and rng.random() == ref.random()


# ----------------------------------------------------------- determinism per (seed, link)
class Talk(sim.Node):
    """``a`` sends 30 messages to ``b``; the other nodes, if any, flood every node (``b``
    and ``a`` too) but never use the link ``a → b``."""

    def on_start(self, ctx):
        if ctx.id == "a":
            for i in range(30):
                ctx.send("b", i)
        elif ctx.id != "b":
            peers = ["a", "b", "c", "d", "e"]
            for _ in range(200):
                ctx.send(ctx.rng.choice(peers), "noise")


def _ab(order, drop):
    s = sim.Simulation(seed=11, network=sim.Network(latency=sim.Exponential(mean=0.01),
                                                    drop_rate=drop))
    for n in order:
        s.add_node(n, Talk)
    m = s.run(until=5.0).messages
    ab = m[(m["src"] == "a") & (m["dst"] == "b")]
    return len(m), list(zip(ab["status"], ab["t_send"], ab["t_deliver"].fillna(-1.0)))


@pytest.mark.parametrize("drop", [0.0, 0.2])
def test_a_links_draws_do_not_depend_on_traffic_elsewhere_or_the_order_of_nodes(drop):
    n_quiet, quiet = _ab(["a", "b"], drop)
    assert n_quiet == 30 and len(quiet) == 30
    n_noisy, noisy = _ab(["c", "a", "d", "b", "e"], drop)
    assert n_noisy == 30 + 3 * 200                      # the other links did draw
    assert noisy == quiet
    assert _ab(["e", "d", "c", "b", "a"], drop)[1] == quiet
