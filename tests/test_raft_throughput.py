"""The leader-as-a-single-server model against the simulation: throughput and mean commit
latency within 15 % below 80 % utilisation (processing time on, instant storage)."""

import numpy as np
import pytest

from dsalgo import raft, sim
from dsalgo.raft import throughput

CPU, WIRE = sim.Constant(0.0002), sim.Constant(0.0005)


@pytest.mark.parametrize("n, rho", [(3, 0.3), (3, 0.6), (5, 0.5)])
def test_the_model_agrees_with_the_simulation_below_the_knee(n, rho):
    s_mean, _ = throughput.leader_service(n, CPU)
    offered = rho / s_mean
    predicted = throughput.leader_model(n, offered, cpu=CPU, wire=WIRE).iloc[0]
    run = raft.simulate(n, seed=3, duration=3.0, clients=20, mode="open",
                        rate=offered / 20, keys=1000, cpu=CPU,
                        network=sim.Network(latency=WIRE))
    got = throughput.measured(run)
    assert predicted["utilisation"] == pytest.approx(rho)
    assert got["throughput"] == pytest.approx(predicted["throughput"], rel=0.05)
    assert got["latency"] == pytest.approx(predicted["latency"], rel=0.15)


def test_capacity_and_batching_arithmetic():
    one = throughput.leader_model(5, [100.0], cpu=CPU, wire=WIRE)
    assert one["capacity"][0] == pytest.approx(1 / (5 * 0.0002))
    batched = throughput.leader_model(5, [100.0], cpu=CPU, wire=WIRE, batch=10)
    assert batched["capacity"][0] == pytest.approx(10 / (15 * 0.0002))
    over = throughput.leader_model(3, [1e5], cpu=CPU, wire=WIRE)
    assert np.isnan(over["latency"][0]) and over["throughput"][0] == pytest.approx(1 / 0.0006)
    # variable service waits longer than constant service at the same mean
    var = throughput.leader_model(3, [1000.0], cpu=sim.Exponential(0.0002), wire=WIRE)
    const = throughput.leader_model(3, [1000.0], cpu=CPU, wire=WIRE)
    assert var["wait"][0] > const["wait"][0]


def test_bad_input():
    with pytest.raises(TypeError, match="cpu must be a latency model"):
        throughput.leader_model(3, [1.0], cpu=0.001, wire=WIRE)
    with pytest.raises(ValueError, match="offered must be positive"):
        throughput.leader_model(3, [0.0], cpu=CPU, wire=WIRE)
    with pytest.raises(ValueError, match="batch"):
        throughput.leader_service(3, CPU, batch=0)


def test_raft_and_multi_paxos_under_the_same_workload():
    t = throughput.same_workload(3, 300.0, cpu=CPU, storage=sim.Storage(sync=WIRE),
                                 network=sim.Network(latency=WIRE), duration=2.0,
                                 warmup=0.5, seeds=(0, 1))
    assert t["family"].tolist() == ["raft", "paxos", "raft", "paxos"]
    assert np.allclose(t["throughput"], 300.0, rtol=0.1), t
    assert (t["p50"] <= t["p99"]).all() and (t["latency"] > 4 * 0.0005).all()
    with pytest.raises(ValueError, match="families"):
        throughput.same_workload(families=("zab",))


def test_load_point_runs_either_family_beside_the_model():
    for family in ("raft", "paxos"):
        p = throughput.load_point(family, 3, 0.6, duration=2.0, warmup=0.8, seed=1)
        assert p["model_utilisation"] == pytest.approx(0.6)
        assert p["throughput"] == pytest.approx(p["model_throughput"], rel=0.07)
        assert p["latency"] == pytest.approx(p["model_latency"], rel=0.15)
        assert np.isnan(p["capacity_batched"])
    b = throughput.load_point("raft", 3, 1.3, max_batch=16, duration=2.0, warmup=0.8)
    assert np.isnan(b["model_latency"]) and b["capacity_batched"] > 1.3 * b["capacity"]
    assert b["throughput"] == pytest.approx(b["offered"], rel=0.07)   # batching keeps up
    with pytest.raises(ValueError, match="family"):
        throughput.load_point("zab")
    with pytest.raises(ValueError, match="utilisation"):
        throughput.load_point("raft", 3, 0.0)


def test_same_workload_takes_knobs_per_family():
    s_mean, _ = throughput.leader_service(3, CPU)
    storage = sim.Storage(sync=sim.Constant(0.002))
    kw = dict(cpu=CPU, storage=storage, network=sim.Network(latency=WIRE), duration=2.0,
              warmup=0.8, families=("paxos",))
    # one slot in flight, a round trip and two syncs each: far below the offered load
    default = throughput.same_workload(3, 0.7 / s_mean, **kw)
    one = throughput.same_workload(3, 0.7 / s_mean, knobs={"paxos": {"window": 1}}, **kw)
    assert one["throughput"][0] < 0.5 * default["throughput"][0]
    assert default["throughput"][0] == pytest.approx(0.7 / s_mean, rel=0.07)
    with pytest.raises(ValueError, match="knobs"):
        throughput.same_workload(knobs={"zab": {}})


def test_load_findings_top_point_is_a_mean_over_seeds_at_the_highest_offered_load():
    """Achieved throughput at the highest load offered, averaged over its seeds: a maximum
    taken column by column (over seeds and load points) reported more achieved than
    offered."""
    import pandas as pd

    from dsalgo.raft import throughput as T

    df = pd.DataFrame({"n": 3, "max_batch": 8.0, "model_utilisation": [1.1, 1.1, 1.3, 1.3],
                       "offered": [1100.0, 1100.0, 1300.0, 1300.0],
                       "throughput": [1080.0, 1120.0, 1210.0, 1250.0], "capacity": 1000.0,
                       "seed": [0, 1, 0, 1], "model_throughput": None, "latency": 0.01,
                       "model_latency": None})
    top = T.load_findings(df, agreement=pd.DataFrame(
        {"max_throughput_error": [0.0], "max_latency_error": [0.0]})).batched_top
    row = top.loc[3]
    assert row["offered"] == 1300.0 and row["throughput"] == 1230.0 and row["seeds"] == 2
    assert row["throughput"] <= row["offered"] and 0 < row["throughput_ci"] < 300
