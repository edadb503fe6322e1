"""balance.simulate: convergence to queueing theory, determinism, faults, bad input.

Convergence tests use fixed seeds and 99% batch-means confidence intervals (response times
are correlated, so a plain s/sqrt(n) interval would be too narrow); each run is small
enough to keep the file fast.
"""

import re

import numpy as np
import pytest

from dsalgo import balance as B
from dsalgo import sim

WARMUP = 100.0   # seconds of simulated start-up dropped (~ 100 service times)


@pytest.mark.parametrize("rho", [0.3, 0.5, 0.7])
def test_random_assignment_matches_mm1_per_server(rho):
    run = B.simulate(4, policy="random", utilization=rho, requests=20_000, seed=0)
    rt = B.response_times(run, warmup=WARMUP).to_numpy()
    mean, half = B.batch_means(rt, batches=20, level=0.99)
    assert abs(mean - B.mm1_mean_response(rho)) < half
    assert half < 0.2 * B.mm1_mean_response(rho)      # a tolerance that still means something
    # each server is busy a fraction rho of the time: P(N >= 1) = rho
    loads = B.server_loads(run, warmup=WARMUP)
    assert loads["utilization"].mean() == pytest.approx(rho, abs=0.03)


@pytest.mark.parametrize("rho", [0.5, 0.7, 0.85])
def test_central_queue_matches_erlang_c(rho):
    run = B.simulate(4, policy="central_queue", utilization=rho, requests=20_000, seed=0)
    w = B.waits(run, warmup=WARMUP).to_numpy()
    p, half_p = B.batch_means((w > 0).astype(float), batches=20, level=0.99)
    assert abs(p - B.erlang_c(4, rho)) < half_p
    mean_w, half_w = B.batch_means(w, batches=20, level=0.99)
    assert abs(mean_w - B.mmc_mean_wait(4, rho)) < half_w
    assert B.wait_probability(run, warmup=WARMUP) == pytest.approx(p, abs=1e-3)


def test_power_of_two_approaches_the_supermarket_tail():
    rho = 0.9
    run = B.simulate(100, policy="power_of_d", utilization=rho, requests=30_000, seed=0)
    tail = B.queue_tail(run, warmup=50.0).set_index("i")["fraction"]
    i = np.arange(1, 5)
    theory = B.supermarket_tail(i, rho, d=2)
    # n = 100 is finite (an O(1/n) gap) and the window is ~300 service times
    assert np.abs(tail.loc[i].to_numpy() - theory).max() < 0.03
    # and it is far from what random assignment (M/M/1, rho**i) would give
    assert tail.loc[4] < 0.5 * B.mm1_queue_tail(4, rho)


def test_power_of_two_mean_response_is_near_the_supermarket_limit():
    run = B.simulate(50, policy="power_of_d", utilization=0.8, requests=20_000, seed=1)
    mean, half = B.batch_means(B.response_times(run, warmup=50.0).to_numpy(), level=0.99)
    # finite n is a little worse than the limit; allow the CI plus 5 % for that
    assert abs(mean - B.supermarket_mean_response(0.8)) < half + 0.05 * mean


def test_same_seed_same_tables_different_seed_different_tables():
    kw = {"policy": "consistent_hash_bounded", "n": 5, "utilization": 0.8, "requests": 1500,
              "key_skew": 1.0, "balancers": 2}
    a, b, c = B.simulate(**kw, seed=3), B.simulate(**kw, seed=3), B.simulate(**kw, seed=4)
    assert a.history.equals(b.history) and a.events.equals(b.events)
    assert not a.history.equals(c.history)
    assert a.params == b.params and a.params["policy"] == "consistent_hash_bounded"


def test_history_columns_and_timing_identities():
    run = B.simulate(3, policy="random", utilization=0.6, requests=800, seed=2,
                     network=sim.Network(latency=sim.Constant(0.01)),
                     record_messages=True)
    h = run.history
    for col in ("op_id", "process", "f", "key", "value", "result", "t_invoke", "t_complete",
                "status", "t_enqueue", "t_start", "backend"):
        assert col in h.columns
    assert (h["status"] == "ok").all() and (h["result"] == h["backend"].astype(str)).all()
    assert np.allclose(h["t_enqueue"], h["t_invoke"] + 0.02)              # two hops
    assert (h["t_start"] >= h["t_enqueue"] - 1e-12).all()
    assert (h["t_complete"] > h["t_start"] + 0.01 - 1e-12).all()         # answer hop
    assert set(run.messages["type"]) == {"Request", "Response"}          # random needs no reports
    assert len(run.messages) == 3 * len(h)                                # c->lb, lb->n, n->c


@pytest.mark.parametrize("kwargs", [
    dict(policy="jsq", balancers=2, info_delay=0.3, faults=[sim.Crash("n2", at=40.0)],
         health_interval=1.0, timeout=30.0, bugs={"lifo_service"}),
    dict(policy="central_queue", faults=[sim.Crash("n1", at=30.0), sim.Restart("n1", at=90.0)],
         health_interval=2.0, timeout=40.0,
         network=sim.Network(latency=sim.Exponential(0.01), duplicate_rate=0.05)),
])
def test_service_columns_agree_with_the_start_events(kwargs):
    # the harness takes them from an observer; run.events must tell the same story
    run = B.simulate(4, utilization=0.7, requests=800, seed=3, **kwargs)
    h, ev = run.history, run.events
    starts = ev[ev["kind"] == "start"].drop_duplicates("op")
    op = starts["op"].to_numpy().astype(np.int64)
    assert len(op) > 0 and h["t_start"].notna().sum() == len(op)
    np.testing.assert_array_equal(h["t_start"].to_numpy()[op], starts["time"].to_numpy())
    np.testing.assert_array_equal(h["t_enqueue"].to_numpy()[op],
                                  (starts["time"] - starts["queued"]).to_numpy())
    ok = (h["status"] == "ok").to_numpy()[op]
    np.testing.assert_array_equal(h["t_end"].to_numpy()[op][ok],
                                  (starts["time"] + starts["service"]).to_numpy()[ok])
    assert list(h["backend"].astype(str).to_numpy()[op]) == list(starts["node"].astype(str))
    assert h["backend"].isna().sum() == len(h) - len(op)


def test_round_robin_is_exactly_even_and_weighted_follows_speeds():
    rr = B.simulate(4, policy="round_robin", utilization=0.5, requests=1000, seed=0)
    assert B.server_loads(rr)["requests"].tolist() == [250] * 4
    wrr = B.simulate(3, policy="weighted_round_robin", speeds=[1, 1, 2], utilization=0.5,
                     requests=1000, seed=0)
    assert B.server_loads(wrr)["requests"].tolist() == [250, 250, 500]


def test_stale_information_sometimes_makes_jsq_worse_than_random():
    kw = {"n": 10, "utilization": 0.8, "requests": 8000, "seed": 0}
    fresh = B.response_times(B.simulate(policy="jsq", **kw), warmup=50.0).mean()
    stale = B.response_times(B.simulate(policy="jsq", info_delay=8.0, **kw), warmup=50.0).mean()
    rand = B.response_times(B.simulate(policy="random", **kw), warmup=50.0).mean()
    two = B.response_times(B.simulate(policy="power_of_d", info_delay=8.0, **kw), warmup=50.0).mean()
    assert fresh < 0.5 * rand             # fresh JSQ is far better than random
    assert stale > rand                   # herding on 8-service-time-old reports: worse
    assert two < stale                    # two choices herd much less (Mitzenmacher 2000)


def test_heterogeneous_speeds_overload_slow_servers_under_random():
    kw = {"n": 4, "speeds": [1, 1, 2, 4], "utilization": 0.7, "requests": 4000, "seed": 0}
    rand = B.server_loads(B.simulate(policy="random", **kw), warmup=50.0)
    wrr = B.server_loads(B.simulate(policy="weighted_round_robin", **kw), warmup=50.0)
    assert rand["utilization"].iloc[0] > 0.97            # offered 8 * 0.7 / 4 = 1.4 > 1
    assert wrr["utilization"].max() < 0.85               # each gets 0.7 of its capacity


def test_crashed_backend_is_taken_out_and_comes_back():
    run = B.simulate(4, policy="least_outstanding", utilization=0.5, requests=3000, seed=0,
                     faults=[sim.Crash("n2", at=100.0), sim.Restart("n2", at=200.0)],
                     health_interval=1.0, timeout=60.0)
    h, ev = run.history, run.events
    kinds = ev["kind"].astype(str)
    down = ev.loc[kinds == "backend_down", "time"]
    up = ev.loc[kinds == "backend_up", "time"]
    assert len(down) == 1 and 100.0 < down.iloc[0] <= 102.0
    assert len(up) == 1 and 200.0 <= up.iloc[0] <= 201.0
    served = h[h["t_start"].between(102.0, 200.0)]
    assert (served["backend"] != "n2").all() and len(served) > 100
    assert (h[h["t_start"] > 202.0]["backend"] == "n2").any()
    assert set(h["status"]) <= {"ok", "info"} and (h["status"] == "ok").mean() > 0.99


def test_requests_to_a_dead_cluster_time_out_as_info():
    run = B.simulate(1, policy="random", utilization=0.5, requests=5, seed=0, timeout=1.0,
                     faults=[sim.Crash("n1", at=0.0)])
    h = run.history
    assert (h["status"] == "info").all() and h["t_complete"].isna().all()
    assert h["t_start"].isna().all() and h["backend"].isna().all()


def test_overload_runs_when_allowed_and_queues_grow():
    run = B.simulate(2, policy="jsq", utilization=1.3, requests=600, seed=0,
                     allow_overload=True)
    w = B.waits(run).to_numpy()
    assert w[-100:].mean() > 5 * w[:100].mean() and (run.history["status"] == "ok").all()


def test_user_policy_objects_are_copied_per_balancer():
    run = B.simulate(2, policy=B.RoundRobin(), utilization=0.5, requests=400, balancers=2)
    assert run.params["policy"] == "round_robin"
    assert B.server_loads(run)["requests"].sum() == 400


def test_bimodal_service_has_the_right_mean_and_a_heavier_tail():
    bim = B.Bimodal(fast=0.5, slow=10.5, p_slow=0.05)
    kw = {"n": 8, "utilization": 0.6, "requests": 6000, "seed": 0}
    run = B.simulate(policy="least_outstanding", service=bim, **kw)
    assert run.params["service_mean"] == 1.0
    busy = B.server_loads(run, warmup=50.0)["utilization"].mean()
    assert busy == pytest.approx(0.6, abs=0.05)
    exp = B.simulate(policy="least_outstanding", **kw)
    q = lambda r: B.latency_percentiles(r, q=[0.99], warmup=50.0)["latency"].iloc[0]
    assert q(run) > 1.5 * q(exp)


def _e(message):
    return re.escape(message)


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"utilization": 1.0}, ValueError, "utilization must be in (0, 1) for a stable cluster; got 1.0"),
    ({"utilization": 0.0}, ValueError, "utilization must be > 0; got 0.0"),
    ({"rate": 4.0}, ValueError, "rate gives utilization must be in (0, 1) for a stable cluster; got 1.0"),
    ({"rate": 1.0, "utilization": 0.5}, ValueError, "give utilization or rate, not both"),
    ({"utilization": -0.2, "allow_overload": True}, ValueError, "utilization must be > 0; got -0.2"),
    ({"utilization": "high"}, TypeError, "utilization must be a real number; got 'high'"),
    ({"n": 0}, ValueError, "n must be an integer >= 1; got 0"),
    ({"n": 2.5}, TypeError, "n must be an integer; got 2.5"),
    ({"speeds": []}, ValueError, "speeds must be a non-empty list of speeds"),
    ({"speeds": [1.0, 1.0, 1.0, -2.0]}, ValueError, "speeds[3] must be > 0; got -2.0"),
    ({"speeds": [1.0, 2.0]}, ValueError, "speeds must give one speed per backend (n=4); got 2"),
    ({"speeds": "fast"}, TypeError, "speeds must be a list of relative backend speeds"),
    ({"policy": "power_of_d", "n": 3, "d": 4}, ValueError,
     "d must be at most the number of servers (3); got 4"),
    ({"d": 0}, ValueError, "d must be an integer >= 1; got 0"),
    ({"policy": "fastest"}, ValueError, "policy must be one of 'random'"),
    ({"policy": None}, TypeError, "policy must be a policy name (str) or a Policy; got None"),
    ({"policy": "central_queue", "balancers": 2}, ValueError,
     "policy 'central_queue' keeps one shared queue and needs balancers=1; got balancers=2"),
    ({"service": 1.0}, TypeError, "service must be a service-time model"),
    ({"service": sim.Constant(0.0)}, ValueError, "service must have a mean service time > 0"),
    ({"requests": 0}, ValueError, "requests must be an integer >= 1; got 0"),
    ({"balancers": 0}, ValueError, "balancers must be an integer >= 1; got 0"),
    ({"policy": "consistent_hash_bounded", "epsilon": 0}, ValueError, "epsilon must be > 0; got 0"),
    ({"vnodes": 0}, ValueError, "vnodes must be an integer >= 1; got 0"),
    ({"keys": 0}, ValueError, "keys must be an integer >= 1; got 0"),
    ({"key_skew": -1}, ValueError, "key_skew must be >= 0; got -1"),
    ({"info_delay": -0.1}, ValueError, "info_delay must be >= 0; got -0.1"),
    ({"network": 0.01}, TypeError, "network must be a dsalgo.sim.Network; got 0.01"),
    ({"health_interval": 0.01, "network": sim.Network(latency=sim.Constant(0.01))}, ValueError,
     "health_interval must exceed a probe's round trip 2*hop + info_delay = 0.02 s; got 0.01"),
    ({"timeout": 0}, ValueError, "timeout must be > 0; got 0"),
    ({"policy": "weighted_round_robin", "weights": [1, 2]}, ValueError,
     "weights must give one weight per backend (4); got 2"),
    ({"allow_overload": "yes"}, TypeError, "allow_overload must be True or False; got 'yes'"),
    ({"faults": [sim.Crash("n9", at=1.0)]}, ValueError, "'n9' is not a node of this simulation"),
    ({"duration": -1}, ValueError, "duration must be > 0; got -1"),
    ({"requests": None}, ValueError, "duration must be given when requests=None"),
    ({"bugs": {"off_by_one"}}, ValueError, "bugs item must be one of 'ignore_cap'"),
    ({"bugs": "ignore_cap"}, TypeError, "bugs must be a collection of bug names"),
    ({"quantum": 3}, TypeError, "unknown parameter 'quantum'; accepted: policy, d"),
])
def test_bad_input_names_parameter_value_and_what_is_accepted(kwargs, exc, message):
    with pytest.raises(exc, match=_e(message)):
        B.simulate(**{"requests": 10, **kwargs})


def test_same_tables_in_another_process_whatever_the_hash_seed():
    import os
    import subprocess
    import sys

    code = ("from dsalgo import balance as B, sim; import pandas as pd; "
            "r = B.simulate(4, policy='consistent_hash_bounded', utilization=0.8, requests=600,"
            " seed=5, balancers=2, key_skew=1.0, health_interval=2.0, timeout=30.0,"
            " faults=[sim.Crash('n2', at=100.0), sim.Restart('n2', at=300.0)]); "
            "print(int(pd.util.hash_pandas_object(r.history.astype(str)).sum()))")
    out = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONHASHSEED": h}).stdout for h in ("1", "2")}
    assert len(out) == 1


def test_many_balancers_blind_least_outstanding_but_not_jsq():
    # each balancer counts only its own requests; backends report to every balancer
    kw = {"n": 10, "utilization": 0.85, "requests": 8000, "seed": 0}
    mean = lambda p, n: B.response_times(B.simulate(policy=p, balancers=n, **kw), warmup=50.0).mean()
    assert mean("least_outstanding", 4) > 1.3 * mean("least_outstanding", 1)
    assert mean("jsq", 4) < 1.1 * mean("jsq", 1)


def test_lognormal_service_keeps_the_offered_utilization():
    service = sim.LogNormal(median=0.5, sigma=1.0)
    run = B.simulate(6, policy="least_outstanding", utilization=0.6, requests=5000, seed=0,
                     service=service)
    assert run.params["rate"] == pytest.approx(0.6 * 6 / service.mean)
    assert B.server_loads(run, warmup=50.0)["utilization"].mean() == pytest.approx(0.6, abs=0.04)


def test_central_queue_sends_work_to_the_fastest_idle_backend():
    run = B.simulate(2, policy="central_queue", speeds=[1, 4], utilization=0.3, requests=3000, seed=0)
    share = B.server_loads(run)["share"].tolist()
    assert share[1] > 0.75                       # the 4x server takes most requests
