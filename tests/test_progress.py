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
