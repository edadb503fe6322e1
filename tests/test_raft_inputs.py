"""Bad inputs to the public Raft functions: one test per bad input, each naming the
parameter and the value given."""

import pytest

from dsalgo import raft, sim


def sim_(**kw):
    return raft.simulate(**{"n": 3, "duration": 0.1, **kw})


def test_n_below_one():
    with pytest.raises(ValueError, match=r"n must be an integer >= 1; got 0"):
        sim_(n=0)


def test_n_not_an_integer():
    with pytest.raises(TypeError, match=r"n must be an integer; got 2.5"):
        sim_(n=2.5)


def test_election_timeout_reversed():
    with pytest.raises(ValueError, match=r"election_timeout must be a \(low, high\) range "
                                         r"with low <= high; got \(0.3, 0.15\)"):
        sim_(election_timeout=(0.3, 0.15))


def test_election_timeout_not_a_pair():
    with pytest.raises(TypeError, match="election_timeout must be a number or a"):
        sim_(election_timeout="fast")


def test_election_timeout_zero():
    with pytest.raises(ValueError, match=r"election_timeout\[0\] must be > 0"):
        sim_(election_timeout=(0.0, 0.1))


def test_heartbeat_not_shorter_than_election_timeout():
    with pytest.raises(ValueError, match=r"heartbeat_interval must be shorter than the "
                                         r"minimum election timeout 0.15; got 0.15"):
        sim_(heartbeat_interval=0.15)


def test_heartbeat_negative():
    with pytest.raises(ValueError, match="heartbeat_interval must be > 0; got -0.01"):
        sim_(heartbeat_interval=-0.01)


def test_unknown_bug_name():
    with pytest.raises(ValueError, match=r"bugs item must be one of 'commit_prior_term', .*; "
                                         r"got 'off_by_one'"):
        sim_(bugs={"off_by_one"})


def test_bugs_given_as_a_string():
    with pytest.raises(TypeError, match="bugs must be a collection of bug names"):
        sim_(bugs="commit_prior_term")


def test_unknown_read_path():
    with pytest.raises(ValueError, match=r"reads must be one of 'log', 'read_index', "
                                         r"'local'; got 'lease'"):
        sim_(reads="lease")


def test_prevote_not_a_bool():
    with pytest.raises(TypeError, match="prevote must be True or False; got 1"):
        sim_(prevote=1)


def test_check_quorum_not_a_bool():
    with pytest.raises(TypeError, match="check_quorum must be True or False; got 'yes'"):
        sim_(check_quorum="yes")


def test_duration_not_positive():
    with pytest.raises(ValueError, match="duration must be > 0; got 0.0"):
        sim_(duration=0)


def test_negative_clients():
    with pytest.raises(ValueError, match="clients must be an integer >= 0; got -1"):
        sim_(clients=-1)


def test_zero_keys():
    with pytest.raises(ValueError, match="keys must be an integer >= 1; got 0"):
        sim_(keys=0)


def test_max_entries_zero():
    with pytest.raises(ValueError, match="max_entries must be an integer >= 1; got 0"):
        sim_(max_entries=0)


def test_network_of_the_wrong_type():
    with pytest.raises(TypeError, match="network must be a dsalgo.sim.Network"):
        sim_(network="lan")


def test_faults_of_the_wrong_type():
    with pytest.raises(TypeError, match="faults must hold dsalgo.sim fault objects"):
        sim_(faults=["crash n1"])


def test_client_timeout_not_positive():
    with pytest.raises(ValueError, match="client_timeout must be > 0; got 0.0"):
        sim_(client_timeout=0.0)


def test_failover_trials_zero():
    with pytest.raises(ValueError, match="trials must be an integer >= 1; got 0"):
        raft.failover_trials(0)


def test_failover_n_too_small():
    with pytest.raises(ValueError, match="n must be an integer >= 3; got 2"):
        raft.failover_trials(1, n=2)


def test_failover_too_many_ineligible():
    with pytest.raises(ValueError, match="ineligible must be an integer <= 3; got 4"):
        raft.failover_trials(1, n=5, ineligible=4)


def test_failover_timeout_not_a_pair():
    with pytest.raises(TypeError, match="election_timeout must be a \\(low, high\\) pair"):
        raft.failover_trials(1, election_timeout=0.15)


def test_failover_timeout_reversed():
    with pytest.raises(ValueError, match="election_timeout must be a \\(low, high\\) range"):
        raft.failover_trials(1, election_timeout=(0.3, 0.15))


def test_failover_heartbeat_too_long():
    with pytest.raises(ValueError, match="heartbeat_interval must be shorter"):
        raft.failover_trials(1, heartbeat_interval=0.2)


def test_failover_network_of_the_wrong_type():
    with pytest.raises(TypeError, match="network must be a dsalgo.sim.Network"):
        raft.failover_trials(1, network=sim.Exponential(mean=0.01))


def test_failover_max_time_not_positive():
    with pytest.raises(ValueError, match="max_time must be > 0; got 0.0"):
        raft.failover_trials(1, max_time=0.0)


def test_scenario_branch_unknown():
    with pytest.raises(ValueError, match="branch must be one of 'd', 'e'; got 'f'"):
        raft.scenarios.figure8(branch="f")


def test_unknown_knob_is_named_with_the_accepted_ones():
    with pytest.raises(TypeError, match=r"unknown parameter 'prevotes'; accepted: "
                                        r"election_timeout, .*prevote"):
        sim_(prevotes=True)


def test_open_loop_without_a_rate():
    with pytest.raises(ValueError, match="rate must be given"):
        sim_(mode="open")


def test_scripted_rejects_a_malformed_script_naming_the_item():
    from dsalgo.raft.scenarios import scripted
    with pytest.raises(ValueError, match=r"\(at, dst, msg\) triples; got \(0.1, 'n1'\)"):
        scripted(3, [(0.1, "n1")], [], until=0.5)
    with pytest.raises(ValueError, match="script time must be >= 0; got -0.1"):
        scripted(3, [(-0.1, "n1", raft.TimeoutNow())], [], until=0.5)
