"""Raft with a storage model: votes, terms and entries are acknowledged only once durable;
reply_before_sync is caught under crashes with slow storage and harmless with instant
storage; processing time and storage leave the correct algorithm safe."""

import pytest

from dsalgo import paxos, raft, sim

STORAGE = sim.Storage(sync=sim.Constant(0.01))


def crashy(seed, **kw):
    return raft.simulate(3, seed=seed, duration=4.0, clients=3,
                         faults=[sim.Nemesis(crash=3.0, mean_duration=0.05)],
                         network=sim.Network(latency=sim.Exponential(0.002)),
                         election_timeout=(0.05, 0.1), heartbeat_interval=0.02, **kw)


def test_the_sync_scenario_separates_the_bug_only_with_slow_storage():
    assert raft.check(raft.scenarios.sync_scenario())
    v = raft.check(raft.scenarios.sync_scenario(bug=True))
    assert set(v.violations["property"]) >= {"election_safety"}
    assert raft.check(raft.scenarios.sync_scenario(bug=True, storage=False))


@pytest.mark.parametrize("seed", [1, 3])
def test_reply_before_sync_is_caught_under_a_crash_nemesis_with_storage(seed):
    bug = {"reply_before_sync"}
    assert not raft.check(crashy(seed, bugs=bug, storage=STORAGE)).safety
    # the same runs with instant storage: the bug changes nothing, nothing is caught
    assert raft.check(crashy(seed, bugs=bug)).safety


@pytest.mark.parametrize("seed", [0, 9])
def test_the_correct_algorithm_is_safe_with_storage_and_processing(seed):
    run = crashy(seed, storage=STORAGE, cpu=sim.Exponential(0.0002))
    assert raft.check(run)
    assert (run.events["kind"] == "sync").any()
    m = run.messages
    assert (m["t_handle"] > m["t_deliver"]).any()  # some work waited at a busy server
    assert run.params["storage"] == repr(STORAGE)


def test_without_models_reply_before_sync_gives_the_very_same_run():
    a = raft.simulate(3, seed=2, duration=1.0, clients=2)
    b = raft.simulate(3, seed=2, duration=1.0, clients=2, bugs={"reply_before_sync"})
    for t in ("messages", "history"):
        assert getattr(a, t).equals(getattr(b, t))
    assert a.events.equals(b.events)


def test_a_vote_waits_for_the_sync():
    run = raft.simulate(3, seed=0, duration=1.0, clients=0, storage=STORAGE,
                        network=sim.Network(latency=sim.Constant(0.001)))
    ev = run.events
    votes = ev[(ev["kind"] == "vote") & (ev["candidate"] != ev["node"])]
    m = run.messages
    replies = m[(m["type"] == "RequestVoteReply")]
    # the first granted vote's reply leaves one sync (10 ms) after the request arrived,
    # and the vote event is recorded as it leaves (a vote is cast once durable)
    first = votes.iloc[0]
    sent = replies[replies["src"] == first["node"]]["t_send"].min()
    asked = m[(m["type"] == "RequestVote") & (m["dst"] == first["node"])]["t_handle"].min()
    assert sent == pytest.approx(asked + 0.01) and sent == pytest.approx(first["time"])


def busy(max_batch, seed=1):
    return raft.simulate(3, seed=seed, duration=1.0, clients=40, mode="open", rate=60.0,
                         keys=1000, max_batch=max_batch, cpu=sim.Constant(0.0001),
                         storage=sim.Storage(sync=sim.Constant(0.0005)),
                         network=sim.Network(latency=sim.Exponential(0.0005)))


def test_batching_sends_fewer_rounds_and_commits_faster_at_a_busy_leader():
    one, batched = busy(None), busy(16)
    for run in (one, batched):
        assert raft.check(run).safety
    rounds = [int((r.messages["type"] == "AppendEntries").sum()) for r in (one, batched)]
    assert rounds[1] < rounds[0] / 2, rounds
    lat = [(r.history["t_complete"] - r.history["t_invoke"])[r.history["status"] == "ok"]
           .median() for r in (one, batched)]
    assert lat[1] < lat[0]
    assert batched.params["max_batch"] == 16 and one.params["max_batch"] is None


def test_max_batch_must_be_a_positive_int():
    with pytest.raises(ValueError, match="max_batch"):
        raft.simulate(3, duration=0.1, max_batch=0)


def test_pipeline_bounds_the_rounds_in_flight_and_stays_safe():
    runs = {p: raft.simulate(3, seed=2, duration=1.0, clients=10, keys=1000, pipeline=p,
                             cpu=sim.Constant(0.0001),
                             network=sim.Network(latency=sim.Exponential(0.002)))
            for p in (None, 1, 4)}
    sent = {p: int((r.messages["type"] == "AppendEntries").sum()) for p, r in runs.items()}
    ok = {p: int((r.history["status"] == "ok").sum()) for p, r in runs.items()}
    for p, run in runs.items():
        assert raft.check(run).safety, p
        assert ok[p] > 100, p
    assert sent[1] < sent[4]             # stop-and-wait sends fewer rounds
    assert sent[4] < sent[None]
    assert ok[1] < ok[4]                 # and commits less than a deeper pipeline
    with pytest.raises(ValueError, match="pipeline"):
        raft.simulate(3, duration=0.1, pipeline=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_batching_and_pipelining_stay_safe_under_crashes_with_storage(seed):
    run = crashy(seed, storage=STORAGE, cpu=sim.Exponential(0.0002), max_batch=8,
                 pipeline=2)
    assert raft.check(run).safety
    assert (run.history["status"] == "ok").sum() > 100


def test_a_follower_acknowledges_entries_after_one_sync_not_two():
    """An idle cluster with constant delays: a command's path is client → leader, one
    AppendEntries round whose followers each sync once, and the answer — 4 hops, 3 handler
    times and one sync, the Multi-Paxos path too.  (A follower that asked for its log's
    sync and then, separately, for its reply's waited for a second sync.)"""
    cpu, wire, sync = 0.0002, 0.0005, 0.001
    kw = dict(seed=1, duration=2.0, clients=1, mode="open", rate=20.0, cpu=sim.Constant(cpu),
              storage=sim.Storage(sync=sim.Constant(sync)),
              network=sim.Network(latency=sim.Constant(wire)))
    path = 4 * wire + 3 * cpu + sync
    for family in (raft, paxos):
        h = family.simulate(3, **kw).history
        h = h[(h["status"] == "ok") & (h["t_invoke"] > 1.0)]
        latency = (h["t_complete"] - h["t_invoke"]).median()
        assert len(h) >= 8 and latency == pytest.approx(path, abs=1e-9), family.__name__
