"""Two Raft mutants of tests/mutants that the default search budget does not judge by a
property, each shown to break one in a scenario built for it (and the original kernel
passing the same scenario)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mutants import BY_NAME, applied

from dsalgo import raft, sim


def _both(name, seed=1, **kw):
    clean = raft.check(raft.simulate(3, seed=seed, duration=3.0, clients=2,
                                     record_messages=False, **kw))
    with applied(BY_NAME[name]):
        run = raft.simulate(3, seed=seed, duration=3.0, clients=2, record_messages=False,
                            **kw)
    return clean, run, raft.check(run)


def _leaders(run, before):
    """[node, term] of every leader elected before ``before``, in order."""
    el = run.events.query("kind == 'leader_elected'")
    el = el[el["time"] < before]
    return [[node, int(term)] for node, term in zip(el["node"], el["term"])]


def test_truncating_without_a_conflict_loses_committed_entries_to_a_late_append():
    """n2 leads and commits with n1 while n3 is cut off; late copies of its AppendEntries
    reach n1 0.3 s after they were sent, and the mutated n1 deletes what follows the old
    entries although it acknowledged those entries (§5.3: only a conflict, same index and
    another term, may cut a follower's log).  n2 crashes; n1 and n3 elect a leader
    without the committed entries.  The crash must come before n2 repairs n1's log, which
    depends on when the copies land: the seed is the first (from 1) on which n2 leads by
    0.4 s and the mutated run loses committed entries."""
    faults = [sim.Partition([["n3"], ["n1", "n2", "c1", "c2"]], at=0.4, until=1.0),
              sim.DelayedDuplicate(at=0.5, delay=0.3, kinds="AppendEntries", src="n2",
                                   dst="n1", count=5),
              sim.Crash("n2", at=1.0)]
    for seed in range(1, 60):
        clean, run, verdict = _both("truncate_without_conflict", seed=seed, faults=faults)
        if _leaders(run, 0.4)[-1:] == [["n2", 1]] and not verdict.holds("leader_completeness"):
            break
    assert _leaders(run, 0.4)[-1:] == [["n2", 1]]
    assert clean.status == "ok"
    assert (run.events["kind"] == "truncate").any()
    assert {"leader_completeness", "state_machine_safety"} <= set(verdict.violations["property"])


def test_a_leader_deaf_to_higher_terms_in_replies_blocks_prevote_for_good():
    """n2 leads term 1; cut off alone at 0.5 s, it keeps leading while n1 or n3 wins term
    2; that winner crashes for good at 1.0 s and the partition heals at 1.2 s.  The
    original n2 steps down at the first reply of the survivor (term 2) and the two elect a
    leader; the mutated n2 ignores the replies, keeps leading term 1 and, a leader,
    refuses the survivor's pre-votes (thesis §9.6), so with PreVote on and CheckQuorum off
    no leader is ever elected."""
    cut = sim.Partition([["n2"], ["n1", "n3", "c1", "c2"]], at=0.5, until=1.2)
    # who wins term 2 depends on the draws; a run is deterministic, so the same run
    # without the crash tells (the mutant changes nothing while n2 is cut off)
    before = raft.simulate(3, seed=1, duration=1.0, clients=2, record_messages=False,
                           faults=[cut], prevote=True, check_quorum=False)
    assert _leaders(before, 0.5) == [["n2", 1]]
    winner = _leaders(before, 1.0)[-1][0]
    assert winner in ("n1", "n3")
    faults = [cut, sim.Crash(winner, at=1.0)]
    clean, run, verdict = _both("leader_ignores_higher_term", faults=faults, prevote=True,
                                check_quorum=False)
    assert clean.status == "ok"
    assert _leaders(run, run.until + 1) == [["n2", 1], [winner, 2]]
    assert list(verdict.violations["property"]) == ["leader_and_commit"]
    # CheckQuorum makes the deaf leader step down by itself: the mutant is harmless then
    clean, run, verdict = _both("leader_ignores_higher_term", faults=faults, prevote=True,
                                check_quorum=True)
    assert clean.status == "ok" and verdict.status == "ok"
