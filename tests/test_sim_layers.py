"""The simulator core's shape: layers without an import cycle, no kernel knowledge, two send
paths that agree, fault targets by role, and determinism under any PYTHONHASHSEED."""

import ast
import dataclasses
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import assert_same_tables

from dsalgo import sim
from dsalgo.families import FAMILIES

SIM = Path(sim.__file__).resolve().parent
ROOT = SIM.parents[1]


# ---------------------------------------------------------------- imports
def _imports(path: Path) -> set[str]:
    """Absolute dotted names of every module ``path`` imports (also inside functions)."""
    package = "dsalgo.sim"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            out.add(base)
            if base == package:  # from . import x: x may be a module of the package
                out.update(f"{base}.{a.name}" for a in node.names)
    return out


def _graph() -> dict[str, set[str]]:
    modules = {p.stem for p in SIM.glob("*.py") if p.stem != "__init__"}
    return {m: {i.removeprefix("dsalgo.sim.") for i in _imports(SIM / f"{m}.py")
                if i.startswith("dsalgo.sim.") and i.removeprefix("dsalgo.sim.") in modules}
            for m in modules}


def test_the_import_graph_is_read_from_the_source():
    graph = _graph()
    assert {"engine", "node", "wire", "context", "_core"} <= set(graph)
    assert {"wire", "context", "node"} <= graph["engine"]


def test_the_simulator_core_has_no_import_cycle():
    graph = _graph()
    done, on_path = set(), []

    def visit(m):
        if m in on_path:
            cycle = on_path[on_path.index(m):] + [m]
            pytest.fail(f"import cycle in dsalgo.sim: {' -> '.join(cycle)}")
        if m in done:
            return
        on_path.append(m)
        for dep in sorted(graph[m]):
            visit(dep)
        on_path.pop()
        done.add(m)

    for m in sorted(graph):
        visit(m)


def test_the_simulator_imports_no_kernel():
    kernels = {FAMILIES.module_name(f).split(".")[1] for f in FAMILIES}
    assert {"raft", "paxos", "locks", "txn", "balance"} <= kernels
    for path in sorted(SIM.glob("*.py")):
        for name in _imports(path):
            parts = name.split(".")
            assert not (parts[0] == "dsalgo" and len(parts) > 1 and parts[1] in kernels), (
                f"{path.name} imports {name}: the simulator must know no kernel")


# ---------------------------------------------------------------- fast and slow paths
@dataclasses.dataclass(frozen=True)
class Ping:
    hops: int


class Gossip(sim.Node):
    """Each tick: a Ping to a random peer and a read that completes on the Pong."""

    PEERS = ("n1", "n2", "n3", "n4")

    def on_start(self, ctx):
        self.pending = {}
        ctx.set_timer("tick", ctx.rng.uniform(0.001, 0.02))

    def on_timer(self, ctx, name):
        dst = ctx.rng.choice([p for p in self.PEERS if p != ctx.id])
        op = ctx.invoke("read", key=dst)
        self.pending[op] = dst
        ctx.send(dst, Ping(op))
        ctx.set_timer("tick", ctx.rng.uniform(0.005, 0.03))

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Ping):
            ctx.send(src, {"type": "Pong", "op": msg.hops, "by": ctx.id})
            ctx.emit("pinged", src=src)
        elif msg["op"] in self.pending:
            del self.pending[msg["op"]]
            ctx.complete(msg["op"], "ok", msg["by"])


def _run(seed, network, faults, *, fast=True, record=True, until=2.0):
    s = sim.Simulation(seed=seed, network=network, record_messages=record, _fast_path=fast)
    for n in Gossip.PEERS:
        s.add_node(n, Gossip)
    s.add_faults(faults)
    return s.run(until=until)


LATENCIES = {
    "exponential": sim.Exponential(mean=0.005),
    "constant": sim.Constant(0.004),
    "uniform": sim.Uniform(0.001, 0.01),
    "lognormal": sim.LogNormal(median=0.003, sigma=0.5),
    "empirical": sim.Empirical([0.001, 0.002, 0.002, 0.004, 0.02]),
}

FAULTS = {
    "none": [],
    "crash": [sim.Crash("n2", at=0.4), sim.Restart("n2", at=0.9)],
    "pause": [sim.Pause("n3", at=0.3, duration=0.4)],
    "partition": [sim.Partition([["n1", "n2"], ["n3", "n4"]], at=0.5, until=1.2)],
    "nemesis": [sim.Nemesis(crash=1.0, partition=1.0, pause=1.0, mean_duration=0.2, end=1.8)],
}


@pytest.mark.parametrize("latency", list(LATENCIES))
@pytest.mark.parametrize("faults", list(FAULTS))
def test_the_fast_and_the_slow_send_path_give_identical_tables(latency, faults):
    network = sim.Network(latency=LATENCIES[latency])  # no loss, no duplicates: fast applies
    fast = _run(3, network, FAULTS[faults])
    slow = _run(3, network, FAULTS[faults], fast=False)
    assert len(fast.messages) > 200 and (fast.history["status"] == "ok").sum() > 50
    assert_same_tables(fast, slow)


def test_the_fast_path_is_taken_by_default_and_never_with_fast_path_off():
    def links(fast):
        s = sim.Simulation(seed=1, _fast_path=fast)
        for n in Gossip.PEERS:
            s.add_node(n, Gossip)
        s.run(until=0.5)
        return [link.plain for link in s._wire.links.values()]

    assert links(True) and all(links(True))
    assert links(False) and not any(links(False))


@pytest.mark.parametrize("network", [
    sim.Network(latency=sim.Uniform(0.001, 0.01), drop_rate=0.1),
    sim.Network(duplicate_rate=0.1),
    sim.Network(latency=sim.Exponential(mean=0.01), fifo=True),
], ids=["loss", "duplicates", "fifo"])
def test_links_with_loss_duplicates_or_fifo_agree_too(network):
    assert_same_tables(_run(5, network, FAULTS["partition"]),
                        _run(5, network, FAULTS["partition"], fast=False))


def test_a_link_changed_mid_run_agrees_on_both_paths():
    def run(fast):
        s = sim.Simulation(seed=2, _fast_path=fast)
        for n in Gossip.PEERS:
            s.add_node(n, Gossip)
        s.run(until=0.5)
        s.set_link("n1", "n2", latency=sim.Constant(0.05))
        return s.run(until=1.0)

    assert_same_tables(run(True), run(False))


@pytest.mark.parametrize("faults", ["crash", "pause", "partition", "nemesis"])
@pytest.mark.parametrize("latency", ["exponential", "lognormal"])
def test_without_recording_both_paths_agree_with_each_other_and_with_recording(faults,
                                                                                latency):
    network = sim.Network(latency=LATENCIES[latency])
    fast = _run(4, network, FAULTS[faults], record=False)
    slow = _run(4, network, FAULTS[faults], record=False, fast=False)
    recorded = _run(4, network, FAULTS[faults])
    assert fast.messages.empty and slow.messages.empty
    assert (fast.history["status"] == "ok").sum() > 50
    assert_same_tables(fast, slow, ("events", "history", "faults"))
    assert_same_tables(fast, recorded, ("events", "history", "faults"))


def test_the_fast_path_is_taken_without_recording_too():
    s = sim.Simulation(seed=1, record_messages=False)
    for n in Gossip.PEERS:
        s.add_node(n, Gossip)
    s.run(until=0.5)
    assert s._wire.links and all(link.plain for link in s._wire.links.values())
    assert len(s._wire.log) == 0


# ---------------------------------------------------------------- links never built
class Crowd(Gossip):
    """Gossip among 30 nodes: most links carry a few messages, some more than the
    counter's 8 draws, so unbuilt links, links built past the counter, and links built
    when a fault stops the unbuilt path all occur in one run."""

    PEERS = tuple(f"n{i}" for i in range(1, 31))


CROWD_FAULTS = {
    "none": [],
    "crash": [sim.Crash("n2", at=0.2), sim.Restart("n2", at=0.5)],
    "pause": [sim.Pause("n3", at=0.15, duration=0.3)],
    "partition": [sim.Partition([[f"n{i}" for i in range(1, 16)],
                                 [f"n{i}" for i in range(16, 31)]], at=0.25, until=0.6)],
    "duplicate": [sim.DelayedDuplicate(at=0.2, count=30, delay=0.05)],
    "nemesis": [sim.Nemesis(crash=3.0, partition=2.0, pause=3.0, mean_duration=0.1,
                            end=0.9)],
}


def _crowd(seed, network, faults, *, fast=True, record=True):
    s = sim.Simulation(seed=seed, network=network, record_messages=record, _fast_path=fast)
    for n in Crowd.PEERS:
        s.add_node(n, Crowd)
    s.add_faults(faults)
    return s, s.run(until=1.0)


@pytest.mark.parametrize("latency", ["exponential", "constant", "uniform"])
@pytest.mark.parametrize("faults", list(CROWD_FAULTS))
def test_links_sending_unbuilt_give_the_tables_of_built_links(latency, faults):
    network = sim.Network(latency=LATENCIES[latency])
    s, fast = _crowd(6, network, CROWD_FAULTS[faults])
    _, slow = _crowd(6, network, CROWD_FAULTS[faults], fast=False)
    assert_same_tables(fast, slow)
    assert len(fast.messages) > 1000 and (fast.history["status"] == "ok").sum() > 300
    _, quiet = _crowd(6, network, CROWD_FAULTS[faults], record=False)
    assert_same_tables(fast, quiet, ("events", "history", "faults"))
    used = {(a, b) for a, fr in s._wire.fresh.items() for b in fr} | set(s._wire.links)
    if latency == "exponential" and faults == "none":
        # it did happen: most links never built, some built past the counter
        assert len(s._wire.fresh) == 30 and sum(map(len, s._wire.fresh.values())) > 300
        assert s._wire.links and all(link.k >= 8 for link in s._wire.links.values())
        assert len(used) > 500
    if latency != "exponential":  # only exponential delays are drawn unbuilt
        assert not any(s._wire.fresh.values())


def test_an_unbuilt_link_draws_the_reference_stream_and_is_built_at_the_ninth_draw():
    mean = 0.005

    class Burst(sim.Node):
        def on_start(self, ctx):
            if ctx.id == "a":
                for i in range(12):
                    ctx.send("b", i)

    s = sim.Simulation(seed=8, network=sim.Network(latency=sim.Exponential(mean=mean)))
    s.add_node("a", Burst)
    s.add_node("b", Burst)
    m = s.run(until=1.0).messages
    wire = s._wire
    link = wire.links[("a", "b")]   # built at the ninth draw, which seeded its generator
    assert link.k == 8 and link.mt is not None
    assert wire.fresh["a"] == {}   # the count moved into the link when it was built
    from test_sim_rng import reference
    want = [-math.log(1.0 - u) * mean for u in reference(8, "a", "b", 12)]
    assert (m["t_deliver"] - m["t_send"]).tolist() == pytest.approx(want, rel=1e-12)


class Twice(sim.Node):
    """``a`` sends three messages to ``b`` at start and three more at 0.5 s."""

    def on_start(self, ctx):
        if ctx.id == "a":
            for i in range(3):
                ctx.send("b", i)
            ctx.set_timer("t", 0.5)

    def on_timer(self, ctx, name):
        for i in range(3):
            ctx.send("b", i)


def test_a_link_that_sent_unbuilt_keeps_its_stream_when_overridden_mid_run():
    def run(fast):
        s = sim.Simulation(seed=3, _fast_path=fast)
        s.add_node("a", Twice)
        s.add_node("b", Twice)
        s.call_at(0.2, lambda: s.set_link("a", "b",
                                          latency=sim.LogNormal(median=0.01, sigma=0.5)))
        return s.run(until=1.0)

    fast = run(True)
    assert_same_tables(fast, run(False))
    m = fast.messages
    # the override's draws go on from draw 3 of the link's stream, not from draw 0
    assert len(m) == 6 and (m["t_deliver"] - m["t_send"]).iloc[3:].nunique() == 3


@pytest.mark.parametrize("change", ["latency", "drop_rate", "set_link"])
def test_a_link_that_sent_unbuilt_keeps_its_settings_when_the_network_changes(change):
    """A link counts as built at its first message: like a built link, it keeps the
    settings it was built with when the network's defaults change between runs or an
    override is set on the network directly (``Simulation.set_link`` rebuilds it)."""
    def run(fast):
        net = sim.Network()
        s = sim.Simulation(seed=3, network=net, _fast_path=fast)
        s.add_node("a", Twice)
        s.add_node("b", Twice)
        s.run(until=0.3)
        if change == "latency":
            net.latency = sim.Constant(0.2)
        elif change == "drop_rate":
            net.drop_rate = 0.99
        else:
            net.set_link("a", "b", latency=sim.Constant(0.2))
        return s, s.run(until=1.0)

    s, fast = run(True)
    assert_same_tables(fast, run(False)[1])
    m = fast.messages
    assert (m["status"] == "delivered").all() and ((m["t_deliver"] - m["t_send"]) < 0.2).all()
    assert ("a", "b") in s._wire.links and not s._wire.fresh["a"]   # built when it changed


def test_an_unknown_destination_is_refused_on_the_unbuilt_path_too():
    class Stray(sim.Node):
        def on_start(self, ctx):
            ctx.send("ghost", 1)

    s = sim.Simulation(seed=1)
    s.add_node("a", Stray)
    with pytest.raises(ValueError, match="dst 'ghost' is not a node"):
        s.run(until=1.0)


# ---------------------------------------------------------------- nemesis targets by role
def test_nemesis_targets_nodes_by_role_not_by_name():
    s = sim.Simulation(seed=0)
    s.add_node("c1", sim.Node, role="server")     # named like a client, but a server
    s.add_node("x", sim.Node, role="client")      # named like nothing, but a client
    s.add_node("store", sim.Node, role="storage")
    s.add_faults(sim.Nemesis(crash=5.0, pause=5.0, mean_duration=0.1))
    run = s.run(until=20.0)
    hit = set(run.faults["target"])
    assert {"c1", "store"} <= hit
    assert "x" not in hit
    assert "x" not in set(run.events.loc[run.events["kind"].isin(["crash", "pause"]), "node"])


def test_nemesis_schedule_reads_roles():
    nem = sim.Nemesis(crash=5.0, mean_duration=0.1)
    drawn = nem.schedule(1, {"c1": "server", "x": "client", "n9": "server"}, 10.0)
    targets = {f.node for f in drawn if hasattr(f, "node")}
    assert targets == {"c1", "n9"}


# ---------------------------------------------------------------- PYTHONHASHSEED
PROBE = textwrap.dedent("""
    import json, sys
    from dsalgo import sim

    class Chatty(sim.Node):
        def on_start(self, ctx):
            ctx.set_timer("t", 0.01)
        def on_timer(self, ctx, name):
            for peer in ("n1", "n2", "n3", "n4"):
                if peer != ctx.id:
                    ctx.send(peer, "hello")
            ctx.set_timer("t", 0.05)
        def on_message(self, ctx, src, msg):
            ctx.emit("heard", src=src)

    form = sys.argv[1]
    if form == "sets":
        groups = [{"n1", "n2"}, {"n3", "n4"}]
    elif form == "frozensets":
        groups = frozenset({frozenset({"n3", "n4"}), frozenset({"n2", "n1"})})
    else:
        groups = {("n4", "n3"), ("n2", "n1")}
    s = sim.Simulation(seed=11)
    for n in ("n1", "n2", "n3", "n4"):
        s.add_node(n, Chatty)
    s.add_faults([sim.Partition(groups, at=0.2, until=0.6),
                  sim.Nemesis(partition=2.0, mean_duration=0.1, start=0.7, end=1.5)])
    run = s.run(until=2.0)
    print(json.dumps({t: getattr(run, t).astype(str).to_csv(index=False)
                      for t in ("faults", "events", "messages")}))
""")


@pytest.mark.slow
@pytest.mark.parametrize("form", ["sets", "frozensets", "set-of-tuples"])
def test_set_valued_partition_groups_are_the_same_under_any_hash_seed(form, tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    outs = {}
    for hash_seed in ("0", "1", "2", "123"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run([sys.executable, str(script), form], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=True)
        outs[hash_seed] = json.loads(proc.stdout)
    first = outs["0"]
    assert "n1,n2 | n3,n4" in first["faults"] and "partition" in first["events"]
    for hash_seed, out in outs.items():
        for table in first:
            assert out[table] == first[table], f"{table} differs under PYTHONHASHSEED={hash_seed}"


def test_partition_groups_given_as_sets_are_described_in_a_fixed_order():
    as_lists = sim.Partition([["n1", "n2"], ["n3", "n4"]], at=1.0)
    as_sets = sim.Partition([{"n2", "n1"}, {"n4", "n3"}], at=1.0)
    as_frozen = sim.Partition(frozenset({frozenset({"n4", "n3"}), frozenset({"n1", "n2"})}),
                              at=1.0)
    assert as_lists.groups == as_sets.groups == as_frozen.groups == (("n1", "n2"), ("n3", "n4"))
    assert as_frozen.describe() == "n1,n2 | n3,n4"


def test_a_node_named_like_a_client_without_a_role_is_a_client_with_a_warning():
    # the deprecation path of the name rule Nemesis used before roles existed
    s = sim.Simulation(seed=1)
    s.add_node("n1", sim.Node)
    with pytest.warns(DeprecationWarning, match="role='client'"):
        s.add_node("c1", sim.Node)
    assert s.roles() == {"n1": "server", "c1": "client"}
    run = s.run(until=0.1)
    assert run is not None


def test_nemesis_targets_given_as_a_set_draw_the_same_schedule_in_any_hash_order():
    a = sim.Nemesis(crash=3.0, targets={"n1", "n2", "n3", "n4"}, end=2.0)
    b = sim.Nemesis(crash=3.0, targets=["n1", "n2", "n3", "n4"], end=2.0)
    assert a.targets == ("n1", "n2", "n3", "n4")
    roles = {f"n{i}": "server" for i in range(1, 5)}
    assert a.schedule(7, roles, 5.0) == b.schedule(7, roles, 5.0)
