"""Progress properties across families: RedLock's lock_progress, 2PC's decision_progress
when the coordinator never comes back, and each progress bug caught beside a correct run."""

from dsalgo import locks, sim, txn


def holders(run, t):
    """The clients holding the lock at time ``t``: acquired, neither released nor
    crashed since."""
    ev = run.events
    ev = ev[(ev["time"] <= t) & ev["kind"].isin(["acquire", "release", "crash"])]
    last = ev.groupby("node")["kind"].last()
    return sorted(last.index[last == "acquire"])


def test_lock_progress_judges_redlock_runs_and_measures_the_ttl_after_a_holder_crash():
    # crash whoever holds the lock at 0.1 s (the fault's own draws come later, so the
    # runs with and without it agree up to then)
    for seed in range(10):
        before = locks.redlock.simulate(clients=2, seed=seed, duration=0.1,
                                        critical_section=0.3)
        if holders(before, 0.1):
            break
    (holder,) = holders(before, 0.1)
    run = locks.redlock.simulate(clients=2, seed=seed, duration=5.0, critical_section=0.3,
                                 faults=[sim.Crash(holder, at=0.1)])
    assert holders(run, 0.1 - 1e-9) == [holder]
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
    # where a peer had not voted yes (or knows the outcome), cooperative termination
    # unblocks a prepared participant; waiting for tm blocks it to the end
    peer_could_tell = {"wait": 0, "cooperative": 0}
    for seed in range(4):
        for termination in peer_could_tell:
            run = tm_down_for_good(seed, termination)
            pairs, could_tell = in_doubt(run)
            assert txn.check(run).info["in_doubt"] == len(pairs)
            peer_could_tell[termination] += len(could_tell)
    assert peer_could_tell["cooperative"] == 0 and peer_could_tell["wait"] > 0


def in_doubt(run):
    """The (transaction, participant) pairs left in doubt (voted yes, no outcome), and
    those of them with a peer that could have told: it never voted yes or knows the
    outcome."""
    ev = run.events
    begin = ev[ev["kind"] == "begin"]
    parts = dict(zip(begin["txn"], begin["participants"]))
    votes = ev[ev["kind"] == "vote"]
    yes = {(t, n) for t, n, y in zip(votes["txn"], votes["node"], votes["yes"]) if y is True}
    out = ev[ev["kind"].isin(["commit", "abort"]) & (ev["node"] != "tm")]
    known = set(zip(out["txn"], out["node"]))
    pairs = sorted(p for p in yes if p not in known)
    could_tell = [(t, n) for t, n in pairs
                  if any((t, p) not in yes or (t, p) in known for p in parts[t])]
    return pairs, could_tell


def test_progress_bugs_fail_progress_only():
    for bug, make in (("no_inquiry", txn.scenarios.no_inquiry),
                      ("orchestrator_does_not_resume",
                       txn.scenarios.orchestrator_does_not_resume)):
        v = txn.check(make(bug=True))
        assert v.safety and not v.progress, bug
        assert txn.check(make(bug=False)), bug
