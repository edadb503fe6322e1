"""kv_workload's bounds, arguments and nemesis bookkeeping."""

import math

import pytest
from conftest import need

from dsalgo import live


def test_bad_arguments_name_the_parameter():
    need("redis")
    with live.redis() as c:
        with pytest.raises(ValueError, match="reads must be one of 'default' for redis; got 'x'"):
            live.kv_workload(c, reads="x")
        with pytest.raises(ValueError, match="mix must be three probabilities"):
            live.kv_workload(c, mix=(0.5, 0.5, 0.5))
        with pytest.raises(TypeError, match="nemesis must hold"):
            live.kv_workload(c, nemesis=["pause"])
    with pytest.raises(TypeError, match="cluster must be a live cluster"):
        live.kv_workload(object())


def test_the_load_is_bounded_in_count_and_time():
    need("redis")
    with live.redis() as c:
        run = live.kv_workload(c, clients=2, ops=50, seed=3)
        assert len(run.history) == 50
        slow = live.kv_workload(c, clients=2, ops=10_000, rate=20, time_limit=0.5, seed=3)
    assert 0 < len(slow.history) <= 2 * 20 * 0.5 + 2
    assert slow.until < 2.0


def test_a_pause_is_recorded_and_its_requests_time_out_as_info():
    need("redis")
    with live.redis() as c:
        run = live.kv_workload(c, clients=2, ops=200, rate=100, timeout=0.3, seed=4,
                               nemesis=[live.Pause("n1", at=0.2, duration=0.6)])
        assert not any(m.paused for m in c.members)
    f = run.faults.iloc[0]
    assert f["kind"] == "pause" and f["target"] == "n1"
    assert 0.55 <= f["t_end"] - f["t_start"] < 1.0
    info = run.history[run.history["status"] == "info"]
    assert len(info) >= 1 and info["t_complete"].map(math.isnan).all()
    assert ((info["t_invoke"] > f["t_start"] - 0.3) & (info["t_invoke"] < f["t_end"])).all()


def test_faults_the_load_never_reached_are_reported():
    need("redis")
    with live.redis() as c, pytest.warns(RuntimeWarning, match="before the nemesis applied"):
        run = live.kv_workload(c, ops=20, nemesis=[live.Pause("n1", at=30.0)])
    assert len(run.faults) == 0


def test_plots_and_sweeps_apply_to_live_runs(tmp_path):
    need("redis")
    import matplotlib

    matplotlib.use("Agg")
    from dsalgo import check, plot, sweep

    with live.redis(n=3) as c:
        def cell(clients, seed):
            run = live.kv_workload(c, clients=clients, ops=60, seed=seed)
            v = check.linearizable(run.history, "kv")
            return {"ops": len(run.history), "linearizable": v.holds("linearizability")}

        df = sweep(cell, {"clients": [1, 3]}, seeds=range(2), progress=False)
        run = live.kv_workload(c, clients=2, ops=40, rate=200, timeout=0.3, seed=1,
                               nemesis=[live.Pause("n1", at=0.05, duration=0.4)])
        lock_run = live.lock_pause(c, ttl=0.3)
    assert df["error"].isna().all() and df["linearizable"].all() and (df["ops"] == 60).all()
    ax = plot.history_timeline(run.history, check.linearizable(run.history, "kv"),
                               faults=run.faults)
    assert ax is not None
    assert plot.lock_timeline(lock_run) is not None
