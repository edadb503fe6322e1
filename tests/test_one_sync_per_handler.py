"""Every kernel asks for at most one sync per handler.

A second ``ctx.sync`` request in the handler that made the first comes while the first
one's sync is in flight, so it waits for the next sync: what it sends leaves a whole
sync late, and the family looks slower than the algorithm is (Raft's followers and 2PC's
participants did).  A handler is told apart by the sequence number of the event that
runs it (two handlers of one node may run at one instant).
"""

import inspect
import sys
from collections import Counter

import pytest

from dsalgo import sim
from dsalgo.families import FAMILIES
from dsalgo.sim.context import Context

# the knobs under which a family's nodes write to disk (the balancer's backends never sync)
KNOBS = {"redlock": {"persistence": "fsync"}, "zookeeper": {"ensemble": True}}
WITH_STORAGE = [f for f in FAMILIES if f != "balance"
                and "storage" in inspect.signature(FAMILIES[f].simulate).parameters]


def _event():
    """The sequence number of the event whose handler runs now (the event loop's own)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_name != "_events":
        frame = frame.f_back
    assert frame is not None, "ctx.sync called outside the event loop"
    return frame.f_locals["s"]


@pytest.fixture
def requests(monkeypatch):
    seen = Counter()
    original = Context.sync

    def sync(self, then=None, *, send=()):
        seen[self.id, _event()] += 1
        return original(self, then, send=send)

    monkeypatch.setattr(Context, "sync", sync)
    return seen


def test_the_families_with_a_storage_model_are_the_expected_ones():
    assert set(WITH_STORAGE) == set(FAMILIES) - {"balance"}


# Known and left as it is: a new ZooKeeper leader asks for its no-op's sync, and then, in
# the same handler, for the sync of the session it takes over (its open is appended after
# the first sync began, so it cannot share it), so that session waits one sync more at a
# leader change.  Fixing it needs the simulator to let one handler's requests share a sync.
ZK_TAKEOVER = pytest.mark.xfail(strict=True, reason="a new zookeeper leader's takeover "
                                "handler asks for two syncs (see above)")


@pytest.mark.parametrize("family", [pytest.param(f, marks=ZK_TAKEOVER) if f == "zookeeper"
                                    else f for f in WITH_STORAGE])
@pytest.mark.parametrize("seed", [0, 1])
def test_no_handler_asks_for_two_syncs(family, seed, requests):
    run = FAMILIES[family].simulate(
        3, seed=seed, duration=1.5, storage=sim.Storage(sync=sim.Exponential(0.002)),
        network=sim.Network(latency=sim.Exponential(0.001)), **KNOBS.get(family, {}))
    assert (run.events["kind"] == "sync").sum() > 10          # it did sync, and often
    twice = {k: v for k, v in requests.items() if v > 1}
    assert not twice, f"{family}: a handler asked for more than one sync: {twice}"
