"""Two Raft mutants of tests/mutants that the default search budget does not judge by a
property, each shown to break one in a scenario built for it (and the original kernel
passing the same scenario)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mutants import BY_NAME, applied

from dsalgo import raft, sim


def _both(name, **kw):
    clean = raft.check(raft.simulate(3, seed=1, duration=3.0, clients=2,
                                     record_messages=False, **kw))
    with applied(BY_NAME[name]):
        run = raft.simulate(3, seed=1, duration=3.0, clients=2, record_messages=False, **kw)
    return clean, run, raft.check(run)


def test_truncating_without_a_conflict_loses_committed_entries_to_a_late_append():
    """n2 leads term 1 (from t=0.17 s with seed 1) and commits with n1 while n3 is cut off;
    late copies of its AppendEntries reach n1 0.3 s after they were sent, and the mutated
    n1 deletes what follows the old entries although it acknowledged those entries (§5.3:
    only a conflict, same index and another term, may cut a follower's log).  n2 crashes;
    n1 and n3 elect a leader without the committed entries."""
    faults = [sim.Partition([["n3"], ["n1", "n2", "c1", "c2"]], at=0.4, until=1.0),
              sim.DelayedDuplicate(at=0.5, delay=0.3, kinds="AppendEntries", src="n2",
                                   dst="n1", count=5),
              sim.Crash("n2", at=1.0)]
    clean, run, verdict = _both("truncate_without_conflict", faults=faults)
    assert clean.status == "ok"
    assert (run.events["kind"] == "truncate").any()
    assert {"leader_completeness", "state_machine_safety"} <= set(verdict.violations["property"])


def test_a_leader_deaf_to_higher_terms_in_replies_blocks_prevote_for_good():
    """n2 leads term 1; cut off alone at 0.5 s, it keeps leading while n3 wins term 2; n3
    crashes for good at 1.0 s and the partition heals at 1.2 s.  The original n2 steps
    down at the first reply of n1 (term 2) and n1 and n2 elect a leader; the mutated n2
    ignores the replies, keeps leading term 1 and, a leader, refuses n1's pre-votes
    (thesis §9.6), so with PreVote on and CheckQuorum off no leader is ever elected."""
    faults = [sim.Partition([["n2"], ["n1", "n3", "c1", "c2"]], at=0.5, until=1.2),
              sim.Crash("n3", at=1.0)]
    clean, run, verdict = _both("leader_ignores_higher_term", faults=faults, prevote=True,
                                check_quorum=False)
    assert clean.status == "ok"
    elected = run.events.query("kind == 'leader_elected'")
    assert elected[["node", "term"]].values.tolist() == [["n2", 1], ["n3", 2]]
    assert list(verdict.violations["property"]) == ["leader_and_commit"]
    # CheckQuorum makes the deaf leader step down by itself: the mutant is harmless then
    clean, run, verdict = _both("leader_ignores_higher_term", faults=faults, prevote=True,
                                check_quorum=True)
    assert clean.status == "ok" and verdict.status == "ok"
