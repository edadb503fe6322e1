"""The Raft soak profiles beyond ``raft`` and ``raft-director``: a small sample of each
passes with everything it exists for happening, and each catches a broken variant that
the older profiles miss on the same seeds (``make soak`` runs 1,000 of each)."""

import os
import sys

import pytest

from dsalgo import raft
from dsalgo.soak import soak
from dsalgo.soak.raft import (
    PROFILES,
    deposed_run,
    director_run,
    heavy_director_run,
    hunt,
    nemesis_run,
    read_run,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mutants import Mutant, applied

R = "dsalgo.raft"
RETRUNCATE = Mutant(
    "raft", "retruncate_matching_entries", f"{R}.replication:Replication._on_append_entries",
    "if log[index].term == e.term:", "if False:",
    "§5.3: delete an existing entry only if it conflicts (here: also one that matches, so "
    "an AppendEntries overtaken by a later one cuts what the later one added).")
TRUNCATE_TAIL = Mutant(
    "raft", "truncate_after_message", f"{R}.replication:Replication._on_append_entries",
    "    match = prev + len(msg.entries)\n",
    "    match = prev + len(msg.entries)\n    if len(log) > match + 1:\n"
    "        del log[match + 1:]\n        ctx.emit('truncate', term=term, log_index=match + 1)\n",
    "Figure 2: delete the entries that follow a conflicting one (here: whatever follows "
    "the message's entries).")
HALF_UP = Mutant(
    "raft", "majority_half_up", f"{R}.node:RaftNode.__init__",
    "self.majority = majority(len(self.servers))",
    "self.majority = (len(self.servers) + 1) // 2",
    "A majority is n // 2 + 1 (here: half rounded up, the same for odd n, n / 2 for even n).")
NEW = ["raft-director-heavy", "raft-reads", "raft-late", "raft-even", "raft-deposed"]


@pytest.mark.parametrize("name", NEW)
def test_a_sample_of_each_new_profile_passes_with_everything_happening(name):
    r = soak(name, 12)
    assert r.ok, r.report()


def test_every_raft_soak_has_a_profile_for_hunts():
    assert set(PROFILES) == {"raft", "raft-director", *NEW}
    with pytest.raises(ValueError, match="profile must be one of 'raft'"):
        hunt("count_stale_votes", range(1), profile="nope")


@pytest.mark.parametrize("mutant", [RETRUNCATE, TRUNCATE_TAIL], ids=lambda m: m.name)
def test_heavy_tailed_reordering_catches_log_truncation_the_fifo_director_misses(mutant):
    # an AppendEntries must be overtaken at the wrong moment: one run in a few tens does
    # that, so look for the first seed that catches the mutant
    with applied(mutant):
        for seed in range(100):
            run, heavy = heavy_director_run(seed)
            if not heavy.safety:
                break
        assert not heavy.safety, "no seed in 0..99 caught the mutant"
        assert {"leader_completeness"} <= set(heavy.violations["property"])
        _, fifo = director_run(seed, n=run.params["n"], command_interval=0.02,
                               step=(0.01, 0.05))
    assert fifo.safety   # the same script on constant FIFO links


@pytest.mark.parametrize("seed", [0, 1])
def test_the_read_stress_catches_stale_reads_the_raft_soak_does_not(seed):
    for reads, bugs in (("local", ()), ("read_index", ("read_index_without_quorum",))):
        _, v = read_run(seed, reads=reads, bugs=bugs)
        assert list(set(v.violations["property"])) == ["linearizability"], (reads, str(v))
        _, old = nemesis_run(seed, bugs=bugs)
        assert old, (reads, str(old))
    assert read_run(seed, reads="read_index")[1]


def test_even_sizes_catch_a_majority_that_only_odd_sizes_get_right():
    with applied(HALF_UP):
        _, even = PROFILES["raft-even"](0)
        odd = [nemesis_run(seed)[1] for seed in range(3)]   # n = 3, 5, 7
    assert not even.safety and "leader_vote_majority" in set(even.violations["property"])
    assert all(odd)


def test_the_default_hunt_of_each_new_bug_catches_it():
    for bug, seeds in (("count_stale_votes", range(2)), ("revote_for_newer_log", range(1, 3)),
                       ("read_index_without_quorum", range(2))):
        assert hunt(bug, seeds)["caught"] >= 1, bug
        assert bug in raft.BUGS and bug in raft.SCENARIOS


def test_the_deposed_profile_catches_a_leader_deaf_to_higher_terms_in_replies():
    """The mutant leader_ignores_higher_term (tests/mutants), which the other profiles and
    a 600 s explore.search miss: with PreVote and without CheckQuorum (seed 0, n = 3;
    seed 1, n = 5) the deposed leader keeps leading and refuses the pre-votes a majority
    needs; with CheckQuorum (seed 2) it steps down by itself."""
    from mutants import BY_NAME, applied
    for seed in (0, 1, 2):
        assert deposed_run(seed)[1], seed
    with applied(BY_NAME["leader_ignores_higher_term"]):
        caught = {seed: deposed_run(seed)[1] for seed in (0, 1, 2)}
        _, nemesis = nemesis_run(0)
    for seed in (0, 1):
        assert list(caught[seed].violations["property"]) == ["leader_and_commit"], seed
    assert caught[2] and nemesis
