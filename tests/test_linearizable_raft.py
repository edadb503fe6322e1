"""The checker on dsalgo.raft histories: safe read paths pass, the stale one is caught.

An integration test across the layers (the checker knows nothing of Raft): the leader is
isolated from the other servers for a second while clients can still reach it.  With
``reads="local"`` the deposed leader answers reads from its own state, so some read
returns a value a completed write had already overwritten; with reads through the log
every history must be linearizable.
"""

import pytest

from dsalgo import raft, sim
from dsalgo.check import linearizable

SERVERS = [f"n{i}" for i in range(1, 6)]
KNOBS = {"clients": 5, "keys": 1, "mix": {"get": 0.8, "put": 0.2}, "think": 0.02,
         "election_timeout": (0.05, 0.10), "heartbeat_interval": 0.015}


def isolated_leader_run(seed, reads):
    before = raft.simulate(n=5, seed=seed, duration=1.0, reads=reads, **KNOBS)
    elected = before.events[before.events["kind"] == "leader_elected"]
    old = elected.iloc[-1]["node"]
    faults = [sim.Partition([[old], [s for s in SERVERS if s != old]], at=1.0, until=2.0)]
    return raft.simulate(n=5, seed=seed, duration=2.5, faults=faults, reads=reads, **KNOBS)


@pytest.mark.parametrize("reads", ["log", "read_index"])
def test_safe_read_paths_are_linearizable(reads):
    for seed in range(2):
        run = isolated_leader_run(seed, reads)
        assert len(run.history) > 100
        v = linearizable(run.history, "kv", time_limit=30)
        assert v.status == "ok", (seed, str(v))


def test_local_reads_on_a_deposed_leader_are_caught():
    caught = 0
    for seed in range(2):
        run = isolated_leader_run(seed, "local")
        v = linearizable(run.history, "kv", time_limit=30)
        assert v.status in ("ok", "violated")
        if not v:
            caught += 1
            e = v.info["explanations"][0]
            blamed = run.history.set_index("op_id").loc[e["op_id"]]
            assert blamed["f"] == "get"                  # a read, not a write, is blamed
            assert 1.0 <= e["prefix_end"] <= 2.0 + 0.5    # during (or right after) the cut
    assert caught >= 1
