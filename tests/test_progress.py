"""Progress properties across families: RedLock's lock_progress, 2PC's decision_progress
when the coordinator never comes back, and each progress bug caught beside a correct run."""

from dsalgo import locks, sim, txn


def test_lock_progress_judges_redlock_runs_and_measures_the_ttl_after_a_holder_crash():
    run = locks.redlock.simulate(clients=2, seed=0, duration=5.0, critical_section=0.3,
                                 faults=[sim.Crash("c1", at=0.1)])
    v = locks.check(run)
    r = v.info["recovery"]
    assert v.kinds["lock_progress"] == "progress" and v.progress and r["judged"]
    ttl = run.params["ttl"]
    assert 0.5 * ttl < r["unavailable"] < 1.5 * ttl      # the crashed holder's lock expires


def test_lock_progress_is_not_judged_while_the_fixed_zookeeper_leader_is_down_for_good():
    # The single-server service has a fixed leader n1 and no election: with n1 crashed for
    # good no client can be served, though n2 and n3 (a majority) are up.  Found by
    # explore.search on the correct kernel, which counted that as a progress violation.
    crash = [sim.Crash("n1", at=0.435134)]
    run = locks.zookeeper.simulate(3, seed=832784156, duration=3.0, clients=3,
                                   session_timeout=0.3, faults=crash)
    v = locks.check(run)
    assert v and "not judged" in v.info["progress"]
    r = locks.recovery_times(run).iloc[0]
    assert not r["judged"] and r["t_heal"] != r["t_heal"]          # NaN: never fair
    # n1 back: judged, and the lock is had again; a follower down for good spoils nothing
    for faults in ([sim.Crash("n1", at=0.435134), sim.Restart("n1", at=0.5)],
                   [sim.Crash("n2", at=0.435134)]):
        run = locks.zookeeper.simulate(3, seed=832784156, duration=3.0, clients=3,
                                       session_timeout=0.3, faults=faults)
        r = locks.recovery_times(run).iloc[0]
        assert r["judged"] and r["unavailable"] < r["grace"] and locks.check(run)
    # the replicated ensemble elects another leader: n1 down for good is judged there
    run = locks.zookeeper.simulate(3, seed=1, duration=3.0, clients=2, ensemble=True,
                                   session_timeout=0.3, faults=crash)
    assert locks.recovery_times(run).iloc[0]["t_heal"] == 0.435134


def tm_down_for_good(seed, termination):
    return txn.twopc.simulate(n=3, seed=seed, duration=0.5, drain=1.5, clients=3,
                              concurrency=2, termination=termination,
                              faults=[sim.Crash("tm", at=0.3)])


def test_two_phase_commit_progress_is_not_judged_while_the_coordinator_is_down_for_good():
    for termination in ("wait", "cooperative"):
        v = txn.check(tm_down_for_good(0, termination))
        assert "2PC blocks while tm is down" in v.info["progress"]
        assert v.status == "unknown" and v.info["in_doubt"] > 0 and not len(v.violations)
    # where a participant had not voted yes, cooperative termination unblocks its peers;
    # waiting for tm blocks them to the end
    assert txn.check(tm_down_for_good(1, "wait")).info["in_doubt"] == 2
    assert txn.check(tm_down_for_good(1, "cooperative")).info["in_doubt"] == 0


def test_progress_bugs_fail_progress_only():
    for bug, make in (("no_inquiry", txn.scenarios.no_inquiry),
                      ("orchestrator_does_not_resume",
                       txn.scenarios.orchestrator_does_not_resume)):
        v = txn.check(make(bug=True))
        assert v.safety and not v.progress, bug
        assert txn.check(make(bug=False)), bug
