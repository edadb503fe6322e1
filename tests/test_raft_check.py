"""raft.check on hand-made event tables: each property caught by a deliberately broken
history, and legal histories (a follower truncating, a leader after a crash) pass."""

import pandas as pd
import pytest

from dsalgo import raft


def events(*rows):
    """rows of (node, kind, fields) -> an events table like a run's."""
    out = []
    for seq, (node, kind, fields) in enumerate(rows):
        out.append({"seq": seq, "time": seq * 0.1, "node": node, "kind": kind, **fields})
    df = pd.DataFrame(out)
    df["node"] = df["node"].astype("category")
    df["kind"] = df["kind"].astype("category")
    return df


def elected(node, term, last=0):
    return (node, "leader_elected", {"term": term, "last_log_index": last})


def append(node, index, entry_term, digest, term=None):
    return (node, "append", {"term": term or entry_term, "log_index": index,
                             "entry_term": entry_term, "digest": digest})


def commit(node, index, entry_term, digest, term):
    return (node, "commit", {"term": term, "log_index": index, "entry_term": entry_term,
                             "digest": digest})


def apply(node, index, digest):
    return (node, "apply", {"term": 1, "log_index": index, "entry_term": 1, "digest": digest})


def props(df):
    return sorted(set(raft.check(df).violations["property"]))


def test_legal_history_passes():
    df = events(elected("n1", 1), append("n1", 1, 1, 11), append("n2", 1, 1, 11),
                commit("n1", 1, 1, 11, 1), apply("n1", 1, 11), apply("n2", 1, 11),
                append("n3", 1, 0, 99),           # n3 held a stale entry ...
                ("n3", "truncate", {"term": 1, "log_index": 1}),  # ... a follower may drop it
                append("n3", 1, 1, 11),
                ("n1", "crash", {}), elected("n2", 2, 1))
    v = raft.check(df)
    assert v and v.info["leaders_elected"] == 2 and v.info["leader_changes"] == 1


def test_two_leaders_in_a_term():
    assert props(events(elected("n1", 3), elected("n2", 3))) == ["election_safety"]


def test_leader_truncating_its_log():
    df = events(elected("n1", 1), append("n1", 1, 1, 11),
                ("n1", "truncate", {"term": 1, "log_index": 1}))
    assert props(df) == ["leader_append_only"]


def test_leader_overwriting_an_entry():
    df = events(append("n1", 1, 1, 11), elected("n1", 2, 1), append("n1", 1, 2, 12))
    assert "leader_append_only" in props(df)


def test_leader_step_down_ends_append_only_duty():
    df = events(elected("n1", 1), append("n1", 1, 1, 11),
                ("n1", "role", {"term": 2, "role": "follower"}),
                ("n1", "truncate", {"term": 2, "log_index": 1}))
    assert raft.check(df)


def test_same_index_and_term_with_different_prefixes():
    df = events(append("n1", 2, 1, 21), append("n2", 2, 1, 22))
    assert props(df) == ["log_matching"]


def test_leader_elected_without_a_committed_entry():
    df = events(append("n1", 1, 1, 11), commit("n1", 1, 1, 11, 1), elected("n2", 2))
    assert props(df) == ["leader_completeness"]


def test_leader_of_the_same_term_as_the_commit_is_not_judged():
    # (a commit in term 2 says nothing about a leader of term 2 elected earlier/later)
    df = events(append("n1", 1, 1, 11), commit("n1", 1, 1, 11, 2), elected("n2", 2))
    assert props(df) == []


def test_different_entries_applied_at_one_index():
    assert props(events(apply("n1", 4, 41), apply("n2", 4, 42))) == ["state_machine_safety"]


def test_violation_rows_name_time_nodes_and_detail():
    v = raft.check(events(elected("n1", 3), elected("n2", 3)))
    row = v.violations.iloc[0]
    assert row["nodes"] == ("n1", "n2") and row["time"] == pytest.approx(0.1)
    assert "term 3" in row["detail"]


def test_check_rejects_what_is_not_a_run():
    with pytest.raises(TypeError, match="run must be"):
        raft.check([1, 2])


def test_check_rejects_an_events_table_without_its_columns():
    with pytest.raises(ValueError, match="missing"):
        raft.check(pd.DataFrame({"seq": [0], "time": [0.0]}))


def test_empty_run_passes_with_nothing_counted():
    v = raft.check(events(("n1", "crash", {})))
    assert v and v.info["leaders_elected"] == 0


def test_leader_completeness_judges_a_leader_elected_before_the_commit_was_recorded():
    # n1 leads term 1; n2 and n3 store index 1 (a majority with n1) ... n2 is elected in
    # term 2 with a log lacking it (say, the up-to-date check is off), and only then does
    # n1 hear its last acknowledgement and record the commit of term 1.
    df = events(elected("n1", 1), append("n1", 1, 1, 11), append("n3", 1, 1, 11),
                elected("n2", 2), commit("n1", 1, 1, 11, 1))
    assert props(df) == ["leader_completeness"]
    row = raft.check(df).violations.iloc[0]
    assert "term 2" in row["detail"] and set(row["nodes"]) == {"n1", "n2"}


def test_leader_completeness_uses_the_leaders_log_as_it_was_when_elected():
    # n2 was elected without index 1 and received it later: it still violated the
    # property when it took office (it could have overwritten the entry)
    df = events(elected("n1", 1), append("n1", 1, 1, 11), elected("n2", 2),
                append("n2", 1, 1, 11), commit("n1", 1, 1, 11, 1))
    assert props(df) == ["leader_completeness"]


def test_leader_completeness_late_commit_of_an_entry_the_leader_holds_passes():
    df = events(elected("n1", 1), append("n1", 1, 1, 11), append("n2", 1, 1, 11),
                elected("n2", 2, 1), commit("n1", 1, 1, 11, 1))
    assert props(df) == []
