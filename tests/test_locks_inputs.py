"""Bad inputs raise at the call, naming the parameter, the value and what is accepted."""

import pytest

from dsalgo import locks, sim

R, Z, S = locks.redlock.simulate, locks.zookeeper.simulate, locks.scenarios

CASES = [
    (R, {"n": 0}, ValueError, r"n must be an integer >= 1; got 0"),
    (R, {"n": -3}, ValueError, r"n must be an integer >= 1; got -3"),
    (R, {"n": 2.5}, TypeError, r"n must be an integer; got 2.5"),
    (R, {"clients": 0}, ValueError, r"clients must be an integer >= 1; got 0"),
    (R, {"ttl": 0}, ValueError, r"ttl must be > 0; got 0.0"),
    (R, {"ttl": -1.0}, ValueError, r"ttl must be > 0; got -1.0"),
    (R, {"ttl": "10s"}, TypeError, r"ttl must be a real number; got '10s'"),
    (R, {"drift_factor": -0.01}, ValueError, r"drift_factor must be >= 0; got -0.01"),
    (R, {"server_timeout": 0}, ValueError, r"server_timeout must be > 0; got 0.0"),
    (R, {"server_timeout": 2.0, "ttl": 1.0}, ValueError,
     r"server_timeout must leave validity to an attempt decided at the timeout: "
     r"server_timeout < ttl - drift_factor\*ttl - 0.002 = 0.988; got 2.0"),
    (R, {"server_timeout": 0.05, "ttl": 0.052}, ValueError,
     r"server_timeout < ttl - drift_factor\*ttl - 0.002 = 0.04948; got 0.05"),
    (R, {"retry_delay": -1}, ValueError, r"retry_delay must be >= 0; got -1.0"),
    (R, {"critical_section": -0.1}, ValueError, r"critical_section must be >= 0; got -0.1"),
    (R, {"think": (0.5, 0.1)}, ValueError, r"think must be a \(low, high\) range"),
    (R, {"persistence": "aof"}, ValueError,
     r"persistence must be one of 'none', 'fsync'; got 'aof'"),
    (R, {"extend": "yes"}, TypeError, r"extend must be True or False; got 'yes'"),
    (R, {"restart_delay": -1}, ValueError, r"restart_delay must be >= 0; got -1.0"),
    (R, {"duration": 0}, ValueError, r"duration must be > 0; got 0.0"),
    (R, {"key": 3}, TypeError, r"key must be a str lock name; got 3"),
    (R, {"network": "lan"}, TypeError, r"network must be a dsalgo.sim.Network; got 'lan'"),
    (R, {"faults": [1]}, TypeError, r"faults must hold dsalgo.sim fault objects"),
    (R, {"faults": [sim.Crash("n9", at=1.0)]}, ValueError, r"'n9' is not a node"),
    (R, {"bugs": "no_elapsed_time"}, TypeError, r"bugs must be a collection of bug names"),
    (R, {"bugs": {"herd"}}, ValueError, r"bugs item must be one of 'no_drift_allowance', "),
    (R, {"starts": [0.0, -1.0]}, ValueError, r"starts\[1\] must be >= 0; got -1.0"),
    (R, {"starts": 0.5}, TypeError, r"starts must be a list of start times"),
    (R, {"record_messages": "yes"}, TypeError, r"record_messages must be True or False"),
    (R, {"tll": 1.0}, TypeError, r"unknown parameter 'tll'; accepted: critical_section, "),
    (Z, {"n": 0}, ValueError, r"n must be an integer >= 1; got 0"),
    (Z, {"clients": -1}, ValueError, r"clients must be an integer >= 1; got -1"),
    (Z, {"session_timeout": 0}, ValueError, r"session_timeout must be > 0; got 0.0"),
    (Z, {"fencing": "yes"}, TypeError, r"fencing must be True or False; got 'yes'"),
    (Z, {"recipe": "herd"}, ValueError, r"recipe must be one of 'recipe', 'naive'; got 'herd'"),
    (Z, {"tick": 0}, ValueError, r"tick must be > 0; got 0.0"),
    (Z, {"storage_timeout": 0}, ValueError, r"storage_timeout must be > 0; got 0.0"),
    (Z, {"key": "a/b"}, TypeError, r"key must be a non-empty str lock name without '/'"),
    (Z, {"duration": -1}, ValueError, r"duration must be > 0; got -1.0"),
    (S.redlock_pause, {"pause": -1}, ValueError, r"pause must be >= 0; got -1.0"),
    (S.redlock_pause, {"drift": 0.9}, ValueError, r"drift must be in \[-0.5, 0.5\]; got 0.9"),
    (S.redlock_pause, {"ttl": -1}, ValueError, r"ttl must be > 0; got -1.0"),
    (S.redlock_clock_jump, {"delta": "big"}, TypeError, r"delta must be a real number"),
    (S.redlock_write_delay, {"delay": -1}, ValueError, r"delay must be >= 0; got -1.0"),
    (S.zookeeper_session_expiry, {"fencing": 1}, TypeError, r"fencing must be True or False"),
    (S.zookeeper_session_expiry, {"bugs": ["herd", "x"]}, ValueError,
     r"bugs item must be one of 'no_fencing', 'herd', 'ephemeral_survives_expiry', .*; got 'x'"),
    (S.redlock_pause, {"bugs": {"no_fencing"}}, ValueError, r"bugs item must be one of "),
    (S.zookeeper_write_delay, {"storage_timeout": 0}, ValueError,
     r"storage_timeout must be > 0; got 0.0"),
]


@pytest.mark.parametrize("fn, kwargs, error, message", CASES,
                         ids=[f"{f.__module__.rsplit('.', 1)[1]}.{f.__name__}-{k}"
                              for f, k, _, _ in CASES])
def test_bad_input_is_refused_with_a_clear_message(fn, kwargs, error, message):
    with pytest.raises(error, match=message):
        fn(**kwargs)


def test_checker_refuses_something_that_is_not_a_run():
    with pytest.raises(TypeError, match=r"run must be a dsalgo.sim.Run"):
        locks.check({"events": []})
    with pytest.raises(TypeError, match=r"run must be a dsalgo.sim.Run"):
        locks.herd(None)
