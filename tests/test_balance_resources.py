"""balance.simulate takes the Cluster's cpu= and storage= for its backends; unset, the run
is the very run it was before."""

import pytest

from dsalgo import balance, sim


def test_defaults_leave_the_run_unchanged():
    a = balance.simulate(4, utilization=0.6, requests=400, seed=3)
    b = balance.simulate(4, utilization=0.6, requests=400, seed=3, cpu=None, storage=None)
    assert a.history.equals(b.history) and a.events.equals(b.events)
    assert a.params.get("cpu") is None and a.params.get("storage") is None


def test_processing_time_delays_every_backend_start():
    kw = dict(utilization=0.3, requests=300, seed=1,
              network=sim.Network(latency=sim.Constant(0.001)))
    plain = balance.simulate(4, **kw)
    slow = balance.simulate(4, cpu=sim.Constant(0.05), **kw)
    wait = lambda run: (run.history["t_start"] - run.history["t_invoke"]).mean()
    # every request costs its backend 50 ms of handling before its service can start
    assert wait(slow) >= wait(plain) + 0.05
    assert slow.params["cpu"] == "Constant(delay=0.05)"
    st = balance.simulate(4, storage=sim.Storage(sync=sim.Constant(0.004)), **kw)
    assert st.params["storage"] == "Storage(sync=Constant(delay=0.004))"


def test_bad_models_are_refused_naming_the_parameter():
    with pytest.raises(TypeError, match="cpu"):
        balance.simulate(4, requests=10, cpu=0.01)
    with pytest.raises(TypeError, match="storage"):
        balance.simulate(4, requests=10, storage=0.004)
