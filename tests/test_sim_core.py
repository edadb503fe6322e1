"""The simulator core: determinism, run tables and persistence, clients, recording context."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dsalgo import sim
from dsalgo.families import FAMILIES

ROOT = Path(__file__).resolve().parents[1]


class Gossip(sim.Node):
    """Random gossip with timers drawn from ranges and random peers."""

    def on_start(self, ctx):
        self.seen = 0
        ctx.set_timer("gossip", (0.01, 0.05))

    def on_timer(self, ctx, name):
        ctx.send(ctx.rng.choice(["n1", "n2", "n3", "n4"]), {"type": "Rumor", "x": ctx.rng.random()})
        ctx.set_timer("gossip", (0.01, 0.05))

    def on_message(self, ctx, src, msg):
        self.seen += 1
        ctx.emit("heard", src=src, x=msg["x"], ballot=(self.seen, ctx.id))


class KVServer(sim.Node):
    def on_start(self, ctx):
        self.data = {}

    def on_message(self, ctx, src, msg):
        op_id, f, key, value = msg
        if f == "put":
            self.data[key] = value
            ctx.send(src, (op_id, "ok", None))
        elif f == "get":
            ctx.send(src, (op_id, "ok", self.data.get(key)))
        else:
            old, new = value
            if self.data.get(key) == old:
                self.data[key] = new
                ctx.send(src, (op_id, "ok", True))
            else:
                ctx.send(src, (op_id, "fail", False))


class KVClient(sim.Client):
    server = "n1"

    def submit(self, ctx, op_id, f, key, value):
        ctx.send(self.server, (op_id, f, key, value))

    def on_message(self, ctx, src, msg):
        op_id, status, result = msg
        self.finish(ctx, op_id, status, result)


class KVClient5(KVClient):
    server = "n5"


def make_run(seed, until=3.0):
    net = sim.Network(latency=sim.Exponential(mean=0.01), drop_rate=0.05, duplicate_rate=0.02)
    s = sim.Simulation(seed=seed, network=net)
    for n in ["n1", "n2", "n3", "n4"]:
        s.add_node(n, Gossip)
    s.add_node("n5", KVServer)
    for c in ["c1", "c2"]:
        s.add_node(c, lambda: KVClient5(sim.KVWorkload(keys=3), timeout=0.2, concurrency=2),
                   role="client")
    s.add_faults([sim.Nemesis(crash=1.0, partition=1.0, pause=1.0, clock_jump=1.0,
                              mean_duration=0.2, targets=["n1", "n2", "n3", "n4"])])
    s.params = {"what": "gossip", "seed": seed}
    return s.run(until=until)


TABLES = ["messages", "events", "history", "faults"]


def test_same_seed_same_tables_different_seed_different_tables():
    a, b, c = make_run(11), make_run(11), make_run(12)
    for t in TABLES:
        assert getattr(a, t).equals(getattr(b, t)), t
    assert a == b
    assert not a.messages.equals(c.messages)
    assert not a.faults.equals(c.faults)
    assert len(a.history) > 10 and len(a.faults) > 0 and len(a.events) > 10


def test_same_tables_across_processes_with_different_hash_seeds(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / 'tests')!r})
        from test_sim_core import make_run
        make_run(11).save(sys.argv[1])
    """)
    for hs in ("1", "987"):
        env = dict(os.environ, PYTHONHASHSEED=hs, PYTHONPATH=str(ROOT))
        subprocess.run([sys.executable, "-c", script, str(tmp_path / hs)], check=True, env=env,
                       cwd=ROOT)
    a, b = sim.load_run(tmp_path / "1"), sim.load_run(tmp_path / "987")
    here = make_run(11)
    assert a == b == here


def test_tables_have_contract_columns_and_dtypes():
    run = make_run(3)
    assert list(run.messages.columns) == ["msg_id", "src", "dst", "type", "t_send", "t_deliver",
                                          "t_handle", "status", "reason"]
    # no processing model: handling takes no time, t_handle is t_deliver (NaN alike)
    m = run.messages
    assert m["t_handle"].dtype == np.float64
    assert m["t_handle"].equals(m["t_deliver"])
    assert list(run.events.columns[:4]) == ["seq", "time", "node", "kind"]
    assert list(run.history.columns) == ["op_id", "process", "f", "key", "value", "result",
                                         "t_invoke", "t_complete", "status"]
    assert list(run.faults.columns[:4]) == ["kind", "target", "t_start", "t_end"]
    for col in ("src", "dst", "type", "status"):
        assert isinstance(run.messages[col].dtype, pd.CategoricalDtype)
    assert isinstance(run.events["kind"].dtype, pd.CategoricalDtype)
    assert set(run.messages["status"].cat.categories) == {"delivered", "dropped", "in_flight"}
    assert set(run.messages["type"]) >= {"Rumor", "tuple"}
    m = run.messages
    assert m.loc[m["status"] != "delivered", "t_deliver"].isna().all()
    assert set(run.history["status"]) <= {"ok", "fail", "info"}
    h = run.history
    assert h.loc[h["status"] == "info", "t_complete"].isna().all()
    assert (h.loc[h["status"] != "info", "t_complete"] >= h.loc[h["status"] != "info", "t_invoke"]).all()


def test_empty_tables_are_typed():
    s = sim.Simulation(seed=0)
    s.add_node("n1", sim.Node)
    run = s.run(until=1.0)
    for t in TABLES:
        df = getattr(run, t)
        assert len(df) == 0
        assert df.equals(sim.empty_table(t))
    assert run.messages["t_send"].dtype == np.float64
    assert isinstance(run.messages["status"].dtype, pd.CategoricalDtype)


def test_save_and_load_round_trip_exactly(tmp_path):
    run = make_run(5)
    path = run.save(tmp_path / "run")
    back = sim.load_run(path)
    for t in TABLES:
        a, b = getattr(run, t), getattr(back, t)
        assert a.equals(b), t
        assert list(a.dtypes) == list(b.dtypes), t
    assert back.params == run.params and back.seed == 5 and back.nodes == run.nodes
    # tuples (ballots) and lists (cas values) come back as they were
    assert isinstance(back.events["ballot"].dropna().iloc[0], tuple)
    cas = back.history[back.history["f"] == "cas"]
    assert all(isinstance(v, list) for v in cas["value"])
    # saving over an existing run replaces it
    make_run(6).save(path)
    assert sim.load_run(path).seed == 6


def test_failed_save_leaves_no_partial_output(tmp_path):
    run = make_run(5)
    run.history.loc[0, "result"] = object()  # not storable
    with pytest.raises(TypeError, match="history.result"):
        run.save(tmp_path / "bad")
    assert list(tmp_path.iterdir()) == []


def test_load_run_names_the_bad_file(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "meta.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"meta.json: line 1"):
        sim.load_run(tmp_path / "r")


def test_summary_counts():
    run = make_run(7)
    s = run.summary()
    m = run.messages
    assert s["messages"] == len(m)
    assert s["delivered"] + s["dropped"] + s["in_flight"] == len(m)
    assert s["dropped"] == s["dropped_loss"] + s["dropped_partition"] + s["dropped_node_down"]
    assert s["operations"] == s["ops_ok"] + s["ops_fail"] + s["ops_info"]
    assert s["dropped_loss"] > 0 and s["duplicates"] > 0


def test_closed_loop_client_keeps_concurrency_outstanding():
    s = sim.Simulation(seed=1, network=sim.Network(latency=sim.Constant(0.01)))
    s.add_node("n1", KVServer)
    s.add_node("c1", lambda: KVClient(sim.KVWorkload(keys=2), concurrency=3), role="client")
    h = s.run(until=1.0).history
    assert set(h["process"]) == {"c1/0", "c1/1", "c1/2"}
    for _, g in h.groupby("process", observed=True):
        # each slot is sequential: the next op starts when the last completed (think=0)
        done = g.dropna(subset=["t_complete"])
        assert np.allclose(done["t_invoke"].to_numpy()[1:], done["t_complete"].to_numpy()[:-1])
    assert len(h) == pytest.approx(3 * 1.0 / 0.02, abs=4)  # one op per 20 ms round trip


def test_open_loop_client_issues_at_the_poisson_rate():
    s = sim.Simulation(seed=2, network=sim.Network(latency=sim.Constant(0.001)))
    s.add_node("n1", KVServer)
    s.add_node("c1", lambda: KVClient(sim.KVWorkload(), mode="open", rate=200.0),
               role="client")
    h = s.run(until=20.0).history
    expected = 200 * 20
    assert abs(len(h) - expected) < 4 * np.sqrt(expected)
    gaps = np.diff(h["t_invoke"].to_numpy())
    assert gaps.mean() == pytest.approx(1 / 200, rel=0.05)
    assert gaps.std() == pytest.approx(1 / 200, rel=0.1)  # exponential: sd == mean


def test_unanswered_operations_become_info_with_open_interval():
    s = sim.Simulation(seed=2, network=sim.Network(latency=sim.Constant(0.01)))
    s.add_node("n1", KVServer)
    s.add_node("c1", lambda: KVClient(sim.KVWorkload(), timeout=0.1), role="client")
    s.add_faults([sim.Crash("n1", at=0.5)])
    h = s.run(until=1.0).history
    info = h[h["status"] == "info"]
    assert len(info) >= 1 and info["t_complete"].isna().all()
    assert (h.loc[h["t_invoke"] < 0.48, "status"] != "info").all()
    # cas that found another value is a "fail" with no effect
    assert set(h["status"]) <= {"ok", "fail", "info"}


def test_recording_context_gives_exact_effects():
    class Node(sim.Node):
        def on_message(self, ctx, src, msg):
            ctx.disk["last"] = msg
            ctx.send(src, ("ack", msg))
            ctx.cancel_timer("t")
            ctx.set_timer("t", (0.1, 0.2))
            ctx.emit("handled", msg=msg)

    ctx = sim.RecordingContext("n1", disk={})
    Node().on_message(ctx, "n2", 7)
    assert ctx.take() == [sim.Send("n2", ("ack", 7)), sim.CancelTimer("t"),
                          sim.SetTimer("t", (0.1, 0.2)), sim.Emit("handled", {"msg": 7})]
    assert ctx.disk == {"last": 7} and ctx.timer_set("t")
    with pytest.raises(ValueError, match="timer 'nope' is not set"):
        ctx.fire(Node(), "nope")


def test_client_on_recording_context():
    c = KVClient(sim.KVWorkload(keys=1, mix={"put": 1}))
    ctx = sim.RecordingContext("c1")
    c.on_start(ctx)
    assert ctx.take() == [sim.SetTimer("next:0", 0.0)]
    effects = ctx.fire(c, "next:0")
    assert effects == [sim.Invoke(0, "put", 0, 0), sim.SetTimer("op:0", 1.0),
                       sim.Send("n1", (0, "put", 0, 0))]
    c.on_message(ctx, "n1", (0, "ok", None))
    assert ctx.take() == [sim.CancelTimer("op:0"), sim.Complete(0, "ok", None),
                          sim.SetTimer("next:0", 0.0)]


def test_progress_bar_run_gives_the_same_tables():
    def run(progress):
        s = sim.Simulation(seed=4)
        for n in ["n1", "n2", "n3", "n4"]:
            s.add_node(n, Gossip)
        return s.run(until=2.0, progress=progress)

    assert run(True) == run(False)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_family_simulate_takes_progress_and_gives_the_same_run(name):
    simulate = FAMILIES[name].simulate
    kwargs = {"n": 3, "duration": 0.5}
    assert simulate(seed=3, progress=True, **kwargs) == simulate(seed=3, **kwargs)
    with pytest.raises(TypeError, match="progress must be True or False"):
        simulate(seed=3, progress="yes", **kwargs)


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_a_simulation_refuses_to_be_copied_or_pickled(how):
    # its send paths are closures over its own heap and columns: a copy would send into
    # the original (deepcopy keeps functions as they are) or fail half-way
    import copy
    import pickle
    s = sim.Simulation(seed=1)
    s.add_node("a", sim.Node)
    s.run(until=0.1)
    do = {"copy": copy.copy, "deepcopy": copy.deepcopy, "pickle": pickle.dumps}[how]
    with pytest.raises(TypeError, match="cannot be copied or pickled.*same seed"):
        do(s)
    assert pickle.loads(pickle.dumps(s.run(until=0.2))).until == 0.2   # its Run pickles
