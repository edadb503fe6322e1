"""Processing time and storage: FIFO service, queueing delay in run.messages, group
commit, loss of unsynced writes on a crash, determinism with the models on, bad input."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dsalgo import sim
from dsalgo.sim.testing import run_digests


class Burst(sim.Node):
    """``src`` sends three messages at t=0 to ``dst``; ``dst`` records when it handles each."""

    def on_start(self, ctx):
        if ctx.id == "src":
            for i in range(3):
                ctx.send("dst", {"type": "Work", "i": i})
            ctx.send("dst", {"type": "Cheap", "i": 3})

    def on_message(self, ctx, src, msg):
        ctx.emit("handled", i=msg["i"])


def burst(cpu, until=1.0, faults=()):
    s = sim.Simulation(seed=3, network=sim.Network(latency=sim.Constant(0.001)))
    s.add_node("src", Burst)
    s.add_node("dst", Burst, cpu=cpu)
    s.add_faults(list(faults))
    return s.run(until=until)


def test_processing_is_fifo_and_queueing_delay_is_a_column():
    run = burst(sim.Constant(0.010))
    m = run.messages
    assert m["t_deliver"].tolist() == [0.001] * 4
    # served one at a time in arrival order; each handler runs when its service ends
    assert np.allclose(m["t_handle"], [0.001, 0.011, 0.021, 0.031])
    assert np.allclose(m["t_handle"] - m["t_deliver"], [0.0, 0.01, 0.02, 0.03])
    ev = run.events[run.events["kind"] == "handled"]
    assert ev["i"].tolist() == [0, 1, 2, 3]
    assert np.allclose(ev["time"], [0.011, 0.021, 0.031, 0.041])


def test_service_time_per_message_type_and_default():
    run = burst({"Work": sim.Constant(0.002), "*": sim.Constant(0.0)})
    ev = run.events[run.events["kind"] == "handled"]
    assert np.allclose(ev["time"], [0.003, 0.005, 0.007, 0.007])
    # no "*": a type without an entry takes no time
    run = burst({"Cheap": sim.Constant(0.5)})
    assert np.allclose(run.events.loc[run.events["kind"] == "handled", "time"],
                       [0.001, 0.001, 0.001, 0.501])


def test_a_paused_node_holds_its_queue_and_a_crash_loses_it():
    run = burst(sim.Constant(0.010), faults=[sim.Pause("dst", at=0.005, duration=0.1)])
    ev = run.events[run.events["kind"] == "handled"]
    # message 0 was in service (4 ms of 10 done) when the pause began: 6 ms after resume
    assert np.allclose(ev["time"], [0.111, 0.121, 0.131, 0.141])
    run = burst(sim.Constant(0.010), faults=[sim.Crash("dst", at=0.015)])
    assert run.events.loc[run.events["kind"] == "handled", "i"].tolist() == [0]
    m = run.messages
    assert m["reason"].astype(str).tolist()[2:] == ["node_down", "node_down"]
    assert m["t_handle"].isna().tolist() == [False, False, True, True]


class Ticker(sim.Node):
    def on_start(self, ctx):
        ctx.set_timer("tick", 0.01)
        if ctx.id == "b":
            ctx.set_timer("never", 0.02)

    def on_message(self, ctx, src, msg):
        ctx.cancel_timer("never")

    def on_timer(self, ctx, name):
        ctx.emit("fired", name=name)
        if name == "tick" and ctx.id == "a":
            ctx.send("b", "stop-never")


def test_timers_queue_too_and_a_cancel_withdraws_a_queued_firing():
    s = sim.Simulation(seed=0, network=sim.Network(latency=sim.Constant(0.001)))
    s.add_node("a", Ticker)
    s.add_node("b", Ticker, cpu={"timer:tick": sim.Constant(0.015), "*": sim.Constant(0.0)})
    run = s.run(until=1.0)
    fired = run.events[run.events["kind"] == "fired"]
    # b's tick fires at 0.01 and is handled at 0.025; "never" fired at 0.02 but waited
    # behind the tick, and the message handled before it cancelled it
    assert fired[["node", "name"]].astype(str).values.tolist() == [["a", "tick"], ["b", "tick"]]
    assert np.allclose(fired["time"], [0.01, 0.025])


class Writer(sim.Node):
    """Writes entry i at t = 0.001·i for i < 5 and asks for a sync after each."""

    def on_start(self, ctx):
        if "log" not in ctx.disk:
            ctx.disk["log"] = []
            ctx.set_timer("write", 0.001)
        ctx.emit("boot", log=list(ctx.disk["log"]))

    def on_timer(self, ctx, name):
        log = ctx.disk["log"]
        log.append(len(log))
        n = len(log)
        ctx.sync(then=lambda: ctx.emit("durable", upto=n))
        if len(log) < 5:
            ctx.set_timer("write", 0.001)


def writer(storage, faults=()):
    s = sim.Simulation(seed=1)
    s.add_node("n1", Writer, storage=storage)
    s.add_faults(list(faults))
    return s.run(until=1.0)


def test_group_commit_shares_one_sync_among_requests_made_while_one_is_in_flight():
    run = writer(sim.Storage(sync=sim.Constant(0.0025)))
    ev = run.events
    syncs = ev[ev["kind"] == "sync"]
    # requests at 1..5 ms: the first sync 1→3.5 ms; 2 and 3 ms share 3.5→6; 4 and 5 ms
    # share 6→8.5
    assert syncs["requests"].tolist() == [1, 2, 2]
    assert np.allclose(syncs["time"], [0.0035, 0.006, 0.0085])
    assert np.allclose(syncs["started"], [0.001, 0.0035, 0.006])
    durable = ev[ev["kind"] == "durable"]
    assert durable["upto"].tolist() == [1, 2, 3, 4, 5]
    assert np.allclose(durable["time"], [0.0035, 0.006, 0.006, 0.0085, 0.0085])


def test_without_a_storage_model_a_sync_is_instant_and_records_nothing():
    run = writer(None)
    ev = run.events
    assert "sync" not in set(ev["kind"])
    durable = ev[ev["kind"] == "durable"]
    assert np.allclose(durable["time"], [0.001, 0.002, 0.003, 0.004, 0.005])
    run = writer(None, faults=[sim.Crash("n1", at=0.0045), sim.Restart("n1", at=0.5)])
    assert run.events[run.events["kind"] == "boot"]["log"].tolist()[-1] == [0, 1, 2, 3]


def test_a_crash_loses_the_writes_no_completed_sync_covered():
    storage = sim.Storage(sync=sim.Constant(0.0025))
    # crash at 5.5 ms: entries 0..4 are written, but only the sync of entry 0 has
    # completed (at 3.5 ms); the one covering 1 and 2 would end at 6 ms
    run = writer(storage, faults=[sim.Crash("n1", at=0.0055), sim.Restart("n1", at=0.5)])
    boots = run.events[run.events["kind"] == "boot"]["log"].tolist()
    assert boots == [[], [0]]
    crash = run.events[run.events["kind"] == "crash"]
    assert crash["unsynced_lost"].tolist() == [True]
    # the continuations of the lost syncs never ran
    assert run.events[run.events["kind"] == "durable"]["upto"].tolist() == [1]
    # a crash after the last sync loses nothing
    run = writer(storage, faults=[sim.Crash("n1", at=0.009), sim.Restart("n1", at=0.5)])
    assert run.events[run.events["kind"] == "boot"]["log"].tolist()[-1] == [0, 1, 2, 3, 4]
    assert run.events.loc[run.events["kind"] == "crash", "unsynced_lost"].tolist() == [False]


def test_a_sync_snapshot_is_what_was_written_when_it_began():
    # entry 1 is written at 2 ms while the first sync (1→3.5 ms) is in flight: that sync
    # does not cover it, so a crash at 4 ms keeps only entry 0
    run = writer(sim.Storage(sync=sim.Constant(0.0025)),
                 faults=[sim.Crash("n1", at=0.004), sim.Restart("n1", at=0.5)])
    assert run.events[run.events["kind"] == "boot"]["log"].tolist() == [[], [0]]


class Chatty(sim.Node):
    PEERS = ("a", "b", "c")

    def on_start(self, ctx):
        ctx.set_timer("t", (0.0, 0.01))

    def on_timer(self, ctx, name):
        ctx.disk[ctx.rng.randrange(5)] = ctx.now
        ctx.sync(send=[(p, {"type": "Ping"}) for p in self.PEERS if p != ctx.id])
        ctx.set_timer("t", (0.0, 0.01))

    def on_message(self, ctx, src, msg):
        ctx.emit("got", src=src)


def models_run(seed):
    s = sim.Simulation(seed=seed, network=sim.Network(latency=sim.LogNormal(0.002, 0.5)))
    for p in Chatty.PEERS:
        s.add_node(p, Chatty, cpu={"Ping": sim.Exponential(0.001), "*": sim.Uniform(0, 1e-3)},
                   storage=sim.Storage(sync=sim.LogNormal(median=0.004, sigma=0.5)))
    s.add_faults([sim.Nemesis(crash=2.0, pause=2.0, mean_duration=0.05, start=0.1, end=0.8)])
    run = s.run(until=1.0)
    return run_digests(run, length=None)


def test_same_seed_same_tables_with_the_models_on():
    assert models_run(4) == models_run(4)
    assert models_run(4) != models_run(5)


def test_models_on_in_a_fresh_process_give_the_same_tables():
    root = Path(__file__).resolve().parent.parent
    code = "import test_sim_resources as t; print(t.models_run(4))"
    env = dict(os.environ, PYTHONHASHSEED="123", PYTHONPATH=str(root / "tests"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env, cwd=root)
    assert out.stdout.strip() == str(models_run(4))


def test_bad_input_names_the_parameter():
    s = sim.Simulation(seed=0)
    with pytest.raises(TypeError, match="cpu must be a latency model"):
        s.add_node("a", sim.Node, cpu=0.001)
    with pytest.raises(TypeError, match=r"cpu\['Ping'\] must be a latency model"):
        s.add_node("a", sim.Node, cpu={"Ping": -1})
    with pytest.raises(ValueError, match="delay"):
        sim.Constant(-0.001)
    with pytest.raises(TypeError, match="storage must be a dsalgo.sim.Storage"):
        s.add_node("a", sim.Node, storage=sim.Constant(0.004))
    with pytest.raises(TypeError, match="sync must be a latency model"):
        sim.Storage(sync=0.004)
    s.add_node("a", sim.Node, storage=sim.Storage(sync=sim.Constant(0.004)))
    s.run(until=0.1)
    ctx = s._states["a"].ctx
    with pytest.raises(RuntimeError, match="outside its handlers"):
        ctx.sync()


def test_bad_sync_arguments_inside_a_handler():
    class Bad(sim.Node):
        def __init__(self, kw):
            self.kw = kw

        def on_start(self, ctx):
            ctx.sync(**self.kw)

    for kw, match in [({"then": 3}, "then must be a callable"),
                      ({"send": "n1"}, "send must be a list of")]:
        s = sim.Simulation(seed=0)
        s.add_node("a", lambda kw=kw: Bad(kw))
        with pytest.raises(TypeError, match=match):
            s.run(until=0.1)


def test_open_loop_rate_must_be_positive_in_the_consensus_kernels():
    from dsalgo import paxos, raft
    for simulate in (raft.simulate, paxos.simulate):
        for rate in (0, -1.0):
            with pytest.raises(ValueError, match="rate must be > 0"):
                simulate(3, duration=0.1, clients=1, mode="open", rate=rate)


def test_cluster_records_the_models_and_spares_the_clients():
    c = sim.Cluster("toy", 2, sim.Config(), seed=1, cpu={"*": sim.Constant(1e-4)},
                    storage=sim.Storage(sync=sim.Constant(0.004)))
    c.add_servers(lambda sid: sim.Node())
    c.add_clients(1, lambda cid: sim.Node())
    run = c.run(duration=0.1)
    assert run.params["cpu"] == {"*": "Constant(delay=0.0001)"}
    assert run.params["storage"] == "Storage(sync=Constant(delay=0.004))"
    states = c.sim._states
    assert states["n1"].cpu is not None and states["n1"].storage is not None
    assert states["c1"].cpu is None and states["c1"].storage is None
    with pytest.raises(TypeError, match="cpu must be a latency model"):
        sim.Cluster("toy", 2, sim.Config(), cpu="fast")
