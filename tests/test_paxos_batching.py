"""Multi-Paxos batching (max_batch): one accept round carries the commands that reached a
busy leader; safety holds under crashes with batching on; the leader-as-a-single-server
model (raft.throughput.leader_model, the same work per command) predicts Multi-Paxos
below the knee; bad input is refused."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsalgo import paxos, sim
from dsalgo.raft import throughput

CPU, WIRE = sim.Constant(0.0002), sim.Constant(0.0005)


def loaded(max_batch, rho=0.9, n=3, seed=2, **kw):
    s_mean, _ = throughput.leader_service(n, CPU)
    return paxos.simulate(n, seed=seed, duration=1.5, clients=10, mode="open",
                          rate=rho / s_mean / 10, keys=1000, cpu=CPU, retry_interval=1.0,
                          network=sim.Network(latency=WIRE), max_batch=max_batch, **kw)


def test_batching_sends_fewer_rounds_than_commands_and_stays_safe():
    plain, batched = loaded(None), loaded(8)
    decided = (batched.events["kind"] == "decided").sum()
    m = batched.messages
    rounds = (m["type"] == "AcceptBatch").sum() / 2          # n - 1 = 2 copies a round
    assert (m["type"] == "AcceptBatch").any() and (m["type"] == "DecidedBatch").any()
    assert rounds < decided / 2 / 2   # it did batch: more than two commands a round
    # the largest round is at most max_batch commands
    batch_sizes = batched.events[batched.events["kind"] == "accepted"].groupby(
        ["node", "time"]).size()
    assert batch_sizes.max() <= 8
    # without batching: one Accept per command and follower, no batch messages
    assert not plain.messages["type"].isin(["AcceptBatch", "DecidedBatch"]).any()
    for run in (plain, batched):
        assert paxos.check(run).safety
    ok = {k: (r.history["status"] == "ok").sum() for k, r in (("p", plain), ("b", batched))}
    assert ok["b"] >= 0.95 * ok["p"] > 500


def test_batching_lifts_the_leaders_capacity():
    """At 1.5x the capacity of a round per command, the batching leader keeps up and its
    latency stays near the unloaded one; without batching the queue grows."""
    s_plain, _ = throughput.leader_service(3, CPU)
    rate = 1.5 / s_plain
    got = {}
    for b in (None, 16):
        run = paxos.simulate(3, seed=1, duration=2.0, clients=10, mode="open",
                             rate=rate / 10, keys=1000, cpu=CPU, retry_interval=1.0,
                             network=sim.Network(latency=WIRE), max_batch=b,
                             record_messages=False)
        got[b] = throughput.measured(run, warmup=0.8)
    assert got[16]["throughput"] == pytest.approx(rate, rel=0.05)
    assert got[16]["p99"] < 0.02
    assert got[None]["throughput"] < 0.8 * rate


def batched_crashy(seed):
    return paxos.simulate(3, seed=seed, duration=2.0, clients=4, mode="open", rate=60.0,
                          keys=10, max_batch=4, window=2, cpu=sim.Exponential(0.0002),
                          storage=sim.Storage(sync=sim.Constant(0.005)),
                          faults=[sim.Nemesis(crash=3.0, mean_duration=0.05)],
                          network=sim.Network(latency=sim.Exponential(0.002)),
                          election_timeout=(0.05, 0.1), heartbeat_interval=0.02)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000))
def test_batched_multi_paxos_is_safe_under_a_crash_nemesis_with_storage(seed):
    run = batched_crashy(seed)
    v = paxos.check(run, time_limit=120.0)   # a busy machine must not make it unknown
    assert v.status == "ok", v.violations
    assert (run.messages["type"] == "AcceptBatch").any()         # it did batch


def test_the_nemesis_of_the_safety_property_did_crash_nodes_mid_batch():
    run = batched_crashy(2)
    assert (run.events["kind"] == "crash").sum() >= 3
    assert (run.history["status"] == "ok").sum() > 100


def test_reply_before_sync_is_caught_with_batching_on():
    def run(seed, bugs=()):
        return paxos.simulate(3, seed=seed, duration=4.0, clients=3, max_batch=4, bugs=bugs,
                              storage=sim.Storage(sync=sim.Constant(0.01)),
                              faults=[sim.Nemesis(crash=3.0, mean_duration=0.05)],
                              network=sim.Network(latency=sim.Exponential(0.002)),
                              election_timeout=(0.05, 0.1), heartbeat_interval=0.02)

    # a crash must strike inside a sync window after a counted reply: search for a seed
    caught = next((s for s in range(40)
                   if not paxos.check(run(s, {"reply_before_sync"})).safety), None)
    assert caught is not None
    assert paxos.check(run(caught)).safety       # the correct kernel survives those crashes


def test_same_seed_same_tables_with_batching():
    a, b = loaded(4, seed=5), loaded(4, seed=5)
    for t in ("messages", "events", "history"):
        assert getattr(a, t).equals(getattr(b, t)), t
    assert a.params["max_batch"] == 4


@pytest.mark.parametrize("n, rho", [(3, 0.3), (3, 0.6), (5, 0.5)])
def test_the_leader_model_predicts_multi_paxos_below_the_knee(n, rho):
    s_mean, _ = throughput.leader_service(n, CPU)
    offered = rho / s_mean
    predicted = throughput.leader_model(n, offered, cpu=CPU, wire=WIRE).iloc[0]
    run = paxos.simulate(n, seed=3, duration=3.0, clients=20, mode="open",
                         rate=offered / 20, keys=1000, cpu=CPU, retry_interval=1.0,
                         network=sim.Network(latency=WIRE), record_messages=False)
    got = throughput.measured(run)
    assert got["throughput"] == pytest.approx(predicted["throughput"], rel=0.05)
    assert got["latency"] == pytest.approx(predicted["latency"], rel=0.15)


@pytest.mark.parametrize("value, exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError),
                                        ("4", TypeError)])
def test_bad_max_batch_is_refused_naming_it(value, exc):
    with pytest.raises(exc, match="max_batch"):
        paxos.simulate(3, max_batch=value)
