"""Every bad input to the simulator gives a clear ValueError/TypeError naming what is wrong."""

import pytest

from dsalgo import sim


def two_nodes(**kw):
    s = sim.Simulation(seed=0, **kw)
    s.add_node("n1", sim.Node)
    s.add_node("n2", sim.Node)
    return s


def run_with(faults):
    s = two_nodes()
    s.add_faults(faults)
    s.run(until=5.0)


def past_fault():
    s = two_nodes()
    s.run(until=2.0)
    s.add_faults([sim.Crash("n1", at=1.0)])


class Sender(sim.Node):
    def __init__(self, dst=None, delay=None):
        self.dst, self.delay = dst, delay

    def on_start(self, ctx):
        if self.dst:
            ctx.send(self.dst, "hi")
        if self.delay is not None:
            ctx.set_timer("t", self.delay)


def node_doing(**kw):
    s = sim.Simulation(seed=0)
    s.add_node("n1", lambda: Sender(**kw))
    s.run(until=1.0)


def factory_returning(obj):
    s = sim.Simulation(seed=0)
    s.add_node("n1", lambda: obj)
    s.run(until=1.0)


def no_nodes():
    sim.Simulation(seed=0).run(until=1.0)


CASES = [
    ("negative latency", lambda: sim.Constant(-0.1), ValueError, r"delay must be >= 0; got -0.1"),
    ("reversed uniform", lambda: sim.Uniform(0.2, 0.1), ValueError, r"low <= high"),
    ("zero exponential mean", lambda: sim.Exponential(mean=0), ValueError, r"mean must be > 0"),
    ("negative lognormal median", lambda: sim.LogNormal(median=-1, sigma=1), ValueError, "median"),
    ("empty empirical", lambda: sim.Empirical([]), ValueError, "at least one delay"),
    ("negative empirical sample", lambda: sim.Empirical([0.1, -1]), ValueError, r"samples\[1\]"),
    ("drop rate 1.5", lambda: sim.Network(drop_rate=1.5), ValueError,
     r"drop_rate must be in \[0, 1\]; got 1.5"),
    ("negative duplicate rate", lambda: sim.Network(duplicate_rate=-0.1), ValueError,
     "duplicate_rate"),
    ("latency of the wrong type", lambda: sim.Network(latency="fast"), TypeError,
     "latency must be a latency model"),
    ("negative latency number", lambda: sim.Network(latency=-1), ValueError, "latency must be"),
    ("fifo not a bool", lambda: sim.Network(fifo="yes"), TypeError, "fifo must be True or False"),
    ("seed not an int", lambda: sim.Simulation(seed=1.5), TypeError, "seed must be an integer"),
    ("network of the wrong type", lambda: sim.Simulation(network="lan"), TypeError,
     "network must be a dsalgo.sim.Network"),
    ("non-callable factory", lambda: sim.Simulation().add_node("n1", 42), TypeError,
     "factory must be callable; got 42"),
    ("node id not a string", lambda: sim.Simulation().add_node(3, sim.Node), TypeError,
     "id must be a non-empty str"),
    ("duplicate node id", lambda: two_nodes().add_node("n1", sim.Node), ValueError,
     "'n1' is already a node"),
    ("until zero", lambda: two_nodes().run(until=0), ValueError, "until must be > 0; got 0"),
    ("until negative", lambda: two_nodes().run(until=-3), ValueError, "until must be > 0"),
    ("no nodes", no_nodes, ValueError, "no nodes"),
    ("unknown node in a fault", lambda: run_with([sim.Crash("n9", at=1.0)]), ValueError,
     r"'n9' is not a node of this simulation; nodes are n1, n2"),
    ("fault time in the past", past_fault, ValueError, "in the past"),
    ("restart of a live node", lambda: run_with([sim.Restart("n1", at=1.0)]), ValueError,
     "restarts 'n1', which is up"),
    ("crash of a crashed node", lambda: run_with([sim.Crash("n1", at=1.0), sim.Crash("n1", at=2.0)]),
     ValueError, "already down"),
    ("overlapping pauses", lambda: run_with([sim.Pause("n1", at=1.0, duration=1.0),
                                             sim.Pause("n1", at=1.5, duration=1.0)]),
     ValueError, "overlaps an earlier pause"),
    ("negative fault time", lambda: sim.Crash("n1", at=-1), ValueError, "at must be >= 0"),
    ("fault node not a string", lambda: sim.Crash(1, at=1.0), TypeError, "node must be a node id"),
    ("partition with one group", lambda: sim.Partition([["n1", "n2"]], at=1.0), ValueError,
     "at least two groups"),
    ("partition with overlapping groups", lambda: sim.Partition([["n1"], ["n1", "n2"]], at=1.0),
     ValueError, "disjoint"),
    ("partition ending before it starts", lambda: sim.Partition([["n1"], ["n2"]], at=2.0, until=1.0),
     ValueError, "until must be later than at"),
    ("zero pause", lambda: sim.Pause("n1", at=1.0, duration=0), ValueError, "duration must be > 0"),
    ("clock drift rate -1", lambda: sim.ClockDrift("n1", rate=-1.0), ValueError, "rate must be > -1"),
    ("nan clock jump", lambda: sim.ClockJump("n1", at=1.0, delta=float("nan")), ValueError,
     "delta must be a number, not NaN"),
    ("negative nemesis rate", lambda: sim.Nemesis(crash=-1), ValueError, "crash must be >= 0"),
    ("nemesis end before start", lambda: sim.Nemesis(crash=1, start=5, end=2), ValueError,
     "end must be later than start"),
    ("faults not faults", lambda: two_nodes().add_faults(["crash n1"]), TypeError,
     "faults must hold dsalgo.sim fault objects"),
    ("send to an unknown node", lambda: node_doing(dst="n7"), ValueError,
     "dst 'n7' is not a node"),
    ("negative timer delay", lambda: node_doing(delay=-1.0), ValueError, "delay must be >= 0"),
    ("reversed timer range", lambda: node_doing(delay=(0.3, 0.1)), ValueError,
     r"\(low, high\) range with low <= high"),
    ("factory returning a non-node", lambda: factory_returning("n1"), TypeError,
     "must return a dsalgo.sim.Node"),
    ("client mode", lambda: sim.Client(sim.KVWorkload(), mode="sideways"), ValueError,
     "mode must be one of 'closed', 'open'; got 'sideways'"),
    ("open loop without a rate", lambda: sim.Client(sim.KVWorkload(), mode="open"), ValueError,
     "rate must be given"),
    ("workload with no keys", lambda: sim.KVWorkload(keys=0), ValueError,
     "keys must be an integer >= 1; got 0"),
    ("workload with an unknown op", lambda: sim.KVWorkload(mix={"delete": 1}), ValueError,
     "mix key must be one of"),
    ("client without a workload", lambda: sim.Client("put"), TypeError,
     "workload must be a dsalgo.sim.Workload"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_a_refused_schedule_changes_nothing():
    s = two_nodes()
    s.add_faults([sim.Crash("n9", at=1.0)])
    with pytest.raises(ValueError):
        s.run(until=1.0)
    assert s.now == 0.0
