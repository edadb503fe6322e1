"""raft.check's election properties: every leader had a vote majority of its term, and no
server voted twice in a term.  Hand-made tables, the kernel's vote events, the two bugs
that break them, and property tests of the correct kernel with contested elections."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsalgo import raft, sim
from dsalgo.raft import Config, RaftNode, RequestVote, RequestVoteReply
from dsalgo.sim import Emit, Send
from dsalgo.soak.raft import director_run, heavy_director_run, hunt, late_run


def events(*rows):
    out = [{"seq": seq, "time": seq * 0.1, "node": node, "kind": kind, **fields}
           for seq, (node, kind, fields) in enumerate(rows)]
    return pd.DataFrame(out)


def role(node, r="follower", term=0):
    return (node, "role", {"role": r, "term": term})


def vote(voter, term, candidate):
    return (voter, "vote", {"term": term, "candidate": candidate})


def elected(node, term):
    return (node, "leader_elected", {"term": term, "last_log_index": 0})


SERVERS3 = [role("n1"), role("n2"), role("n3")]


def props(df):
    return sorted(set(raft.check(df).violations["property"]))


# ---------------------------------------------------------------- hand-made tables
def test_a_leader_with_a_majority_of_its_terms_votes_passes():
    df = events(*SERVERS3, vote("n1", 2, "n1"), vote("n2", 2, "n1"), elected("n1", 2))
    v = raft.check(df)
    assert v and v.info["votes"] == 2


def test_a_leader_short_of_a_majority_is_caught_naming_its_voters():
    df = events(*SERVERS3, vote("n1", 2, "n1"), elected("n1", 2))
    v = raft.check(df)
    assert props(df) == ["leader_vote_majority"]
    row = v.violations.iloc[0]
    assert row["nodes"] == ("n1",)
    assert row["detail"] == "n1 led term 2 with votes of term 2 from n1 only: 1 of the 2 needed"


def test_votes_of_an_earlier_term_or_for_another_candidate_do_not_count():
    df = events(*SERVERS3, vote("n2", 1, "n1"), vote("n3", 2, "n3"), vote("n1", 2, "n1"),
                elected("n1", 2))
    assert props(df) == ["leader_vote_majority"]


def test_a_vote_recorded_after_the_election_does_not_count():
    df = events(*SERVERS3, vote("n1", 2, "n1"), elected("n1", 2), vote("n2", 2, "n1"))
    assert props(df) == ["leader_vote_majority"]


def test_even_cluster_needs_half_plus_one():
    four = [role(f"n{i}") for i in range(1, 5)]
    two = [vote("n1", 1, "n1"), vote("n2", 1, "n1")]
    assert props(events(*four, *two, elected("n1", 1))) == ["leader_vote_majority"]
    assert props(events(*four, *two, vote("n3", 1, "n1"), elected("n1", 1))) == []


def test_two_votes_in_one_term_are_caught_once_and_a_repeated_vote_is_not():
    df = events(*SERVERS3, vote("n3", 4, "n1"), vote("n3", 4, "n1"), vote("n3", 4, "n2"),
                vote("n3", 4, "n1"), vote("n3", 5, "n2"))
    v = raft.check(df)
    assert list(v.violations["property"]) == ["one_vote_per_term"]
    assert v.violations["detail"].iloc[0] == ("n3 voted twice in term 4: for n1 at t=0.3s "
                                              "and for n2")


def test_a_table_without_votes_is_not_judged_on_them():
    v = raft.check(events(*SERVERS3, elected("n1", 1)))
    assert v and v.info["votes"] == 0


def test_the_configuration_size_comes_from_the_run_params():
    run = raft.simulate(4, seed=3, duration=0.6, clients=0)
    ev = run.events
    assert raft.check(run)
    first = ev[ev["kind"] == "leader_elected"].iloc[0]
    voters = ev[(ev["kind"] == "vote") & (ev["term"] == first["term"])
                & (ev["candidate"] == first["node"]) & (ev["seq"] < first["seq"])]
    assert voters["node"].nunique() >= 3   # n = 4: a majority is 3


# ---------------------------------------------------------------- the kernel's vote events
def _node(bugs=(), terms=0, **disk):
    node = RaftNode(sim.server_ids(3), Config(noop=False, bugs=bugs))
    ctx = sim.RecordingContext("n1", disk={"current_term": terms, "voted_for": None,
                                           "log": [raft.Entry(0, None, 0)], **disk})
    node.on_start(ctx)
    ctx.take()
    return node, ctx


def test_a_candidate_records_its_own_vote_before_asking():
    node, ctx = _node()
    effects = ctx.fire(node, "election")
    kinds = [e.kind if isinstance(e, Emit) else type(e).__name__ for e in effects]
    assert kinds.index("vote") < kinds.index("Send")
    assert Emit("vote", {"term": 1, "candidate": "n1"}) in effects


def test_count_stale_votes_counts_a_grant_of_an_earlier_term():
    for bugs, leads in (((), False), (("count_stale_votes",), True)):
        node, ctx = _node(bugs)
        ctx.fire(node, "election")                                # term 1
        ctx.fire(node, "election")                                # term 2
        node.on_message(ctx, "n2", RequestVoteReply(1, True))     # a grant of term 1
        assert (node.role == "leader") is leads, bugs


def test_revote_for_newer_log_grants_a_second_vote_in_a_term():
    newer = RequestVote(3, "n3", 4, 2)
    for bugs, granted in (((), False), (("revote_for_newer_log",), True)):
        node, ctx = _node(bugs, terms=3, voted_for="n2")
        node.on_message(ctx, "n3", newer)
        assert ctx.take()[-1] == Send("n3", RequestVoteReply(3, granted)), bugs


def test_a_vote_lost_in_a_crash_before_it_was_durable_is_no_vote():
    # sync_scenario: n3's first grant waits for a 20 ms sync and the crash takes it back;
    # only the vote it cast after the restart is recorded
    run = raft.scenarios.sync_scenario()
    ev = run.events
    n3 = ev[(ev["kind"] == "vote") & (ev["node"] == "n3")]
    assert len(n3) == 1 and n3["time"].iloc[0] > 0.25
    assert raft.check(run)


# ---------------------------------------------------------------- the bugs, caught
def test_the_scenarios_of_the_two_vote_bugs():
    assert raft.check(raft.scenarios.stale_vote_scenario())
    v = raft.check(raft.scenarios.stale_vote_scenario(bug=True))
    assert list(v.violations["property"]) == ["leader_vote_majority"]
    assert raft.check(raft.scenarios.revote_scenario())
    v = raft.check(raft.scenarios.revote_scenario(bug=True))
    assert set(v.violations["property"]) == {"one_vote_per_term", "election_safety"}


@pytest.mark.parametrize("bug, prop", [("count_stale_votes", "leader_vote_majority"),
                                       ("revote_for_newer_log", "one_vote_per_term")])
def test_the_director_catches_each_vote_bug_within_a_few_seeds(bug, prop):
    found = hunt(bug, range(4))
    assert found["caught"] >= 2 and found["properties"][prop] >= 2, found


def test_late_votes_turn_a_stale_count_into_a_broken_log():
    # the five log properties alone miss count_stale_votes under the plain director; with
    # late copies of old vote replies a leader elected on them loses a committed entry
    _, v = late_run(12, bugs=("count_stale_votes",), director=True)
    broken = set(v.violations["property"])
    assert "leader_vote_majority" in broken and broken & set(raft.PROPERTIES[:5]), broken


# ---------------------------------------------------------------- the correct kernel
def test_correct_raft_keeps_both_vote_properties_in_contested_elections():
    seen = {"runs": 0, "contested": 0, "won": 0, "votes": 0}

    @settings(max_examples=30, deadline=None, derandomize=True)
    @given(seed=st.integers(0, 100_000), kind=st.sampled_from(["heavy", "late", "fifo"]))
    def one(seed, kind):
        if kind == "heavy":
            _, v = heavy_director_run(seed)
        elif kind == "late":
            _, v = late_run(seed, director=True, duration=1.5)
        else:
            _, v = director_run(seed, n=4, duration=1.5)
        assert v.holds("leader_vote_majority") and v.holds("one_vote_per_term"), str(v)
        assert v.safety, str(v)
        seen["runs"] += 1
        seen["contested"] += v.info["contested_terms"]
        seen["won"] += v.info["contested_won"]
        seen["votes"] += v.info["votes"]

    one()
    # it did happen: elections with two or more candidates, some of them won
    assert seen["runs"] >= 25 and seen["contested"] > 20 and seen["won"] > 0, seen
