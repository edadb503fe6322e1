"""A sync serves the requests already due at the instant it begins, in every family.

A request made while no sync is in flight is served by a sync that begins at that very
instant, once the events already due then have run, so a handler that asks twice (or two
messages delivered together) pay for one sync, not two.  (An event scheduled for that
instant afterwards, a zero-delay timer or a zero service time, finds the sync begun and
waits for the next: these runs have neither processing model nor batching.)  When a
sync began at the first request, a second request in the same handler waited for the
next sync, and what it sent left a whole sync late: Raft's followers, 2PC's participants, a new ZooKeeper leader and
a new Multi-Paxos leader looked slower than their algorithms are.
"""

import inspect

import pytest

from dsalgo import sim
from dsalgo.families import FAMILIES
from dsalgo.sim.context import Context

# the knobs under which a family's nodes write to disk (the balancer's backends never sync)
KNOBS = {"redlock": {"persistence": "fsync"}, "zookeeper": {"ensemble": True}}
WITH_STORAGE = [f for f in FAMILIES if f != "balance"
                and "storage" in inspect.signature(FAMILIES[f].simulate).parameters]
# crashes and restarts (new terms, elections, truncations, in-doubt transactions, boots)
FAULTS = {"no faults": (), "crashes": (sim.Nemesis(crash=4.0, mean_duration=0.1),)}


@pytest.fixture
def requests(monkeypatch):
    """(node, time, whether a sync was in flight) of every ``ctx.sync`` request."""
    seen = []
    original = Context.sync

    def sync(self, then=None, *, send=()):
        if self._st.storage is not None:
            seen.append((self.id, self._clock.now, self._st.syncing))
        return original(self, then, send=send)

    monkeypatch.setattr(Context, "sync", sync)
    return seen


def test_the_families_with_a_storage_model_are_all_but_the_balancer():
    assert set(WITH_STORAGE) == set(FAMILIES) - {"balance"}


@pytest.mark.parametrize("family", WITH_STORAGE)
@pytest.mark.parametrize("faults", list(FAULTS))
@pytest.mark.parametrize("seed", [0, 1])
def test_every_request_is_served_by_the_first_sync_that_can_serve_it(
        family, faults, seed, requests):
    run = FAMILIES[family].simulate(
        3, seed=seed, duration=1.5, storage=sim.Storage(sync=sim.Exponential(0.002)),
        network=sim.Network(latency=sim.Exponential(0.001)), faults=FAULTS[faults],
        **KNOBS.get(family, {}))
    ev = run.events
    syncs = ev[ev["kind"] == "sync"]
    assert len(syncs) > 10                                        # it did sync, and often
    assert not FAULTS[faults] or (ev["kind"] == "crash").any()    # and the faults struck
    began = set(zip(syncs["node"].astype(str), syncs["started"]))
    crashed = set(zip(ev.loc[ev["kind"] == "crash", "node"].astype(str),
                      ev.loc[ev["kind"] == "crash", "time"]))
    end = ev["time"].max()
    idle = [(node, t) for node, t, busy in requests if not busy]
    # (unless the node crashed before such a sync could begin, or the run ended first)
    late = [(node, t) for node, t in idle if (node, t) not in began
            and not any(c == node and t <= ct <= t + 0.05 for c, ct in crashed)
            and t < end - 0.05]
    assert not late, f"{family}: requests not served by a sync begun at their instant: {late[:5]}"
    # and none waits behind a sync that began at its own instant (it would wait for the next)
    stacked = [(node, t) for node, t, busy in requests if busy and (node, t) in began]
    assert not stacked, f"{family}: requests stacked behind their instant's sync: {stacked[:5]}"


class _AsksTwice(sim.Node):
    """Writes, asks for a sync, writes again and asks again, all in one handler; a second
    message at the same instant does the same."""

    def on_start(self, ctx):
        ctx.emit("boot", keys=len(ctx.disk))
        if ctx.id == "a":
            ctx.send("b", "go")
            ctx.send("b", "go")

    def on_message(self, ctx, src, msg):
        ctx.disk[f"x{len(ctx.disk)}"] = 1
        ctx.sync(then=lambda: ctx.emit("durable", what="first"))
        ctx.disk[f"x{len(ctx.disk)}"] = 2
        ctx.sync(then=lambda: ctx.emit("durable", what="second"))


def test_the_requests_of_one_handler_and_one_instant_share_one_sync():
    s = sim.Simulation(seed=0, network=sim.Network(latency=sim.Constant(0.001)))
    s.add_node("a", _AsksTwice)
    s.add_node("b", _AsksTwice, storage=sim.Storage(sync=sim.Constant(0.004)))
    # b crashes after the sync and comes back: what it finds on disk is what was durable
    s.add_faults([sim.Crash("b", at=0.0055), sim.Restart("b", at=0.5)])
    ev = s.run(until=1.0).events
    syncs = ev[ev["kind"] == "sync"]
    assert syncs[["time", "requests"]].to_dict("records") == [{"time": 0.005, "requests": 4.0}]
    durable = ev[ev["kind"] == "durable"]
    assert list(durable["time"]) == [0.005] * 4     # none waited for a second sync
    boots = ev[(ev["kind"] == "boot") & (ev["node"] == "b")]["keys"].tolist()
    assert boots == [0, 4]          # the writes after the first request were covered too
