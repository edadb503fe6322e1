"""``check``: Raft's five safety properties (Figure 3 of the paper), from the tables alone.

The checker reads only ``run.events`` (so it works on a loaded run, or on events
recorded by another Raft implementation that emits the same kinds), replaying them in
``seq`` order:

- ``append`` / ``truncate`` events rebuild every server's log at every instant.  Each
  appended entry carries its chained ``digest`` (a CRC over the whole log prefix, see
  :func:`dsalgo.raft.messages.chain_digest`), so equal digests mean identical prefixes.
- **Election Safety**: at most one ``leader_elected`` per term.
- **Leader Append-Only**: while a server leads a term (from its ``leader_elected`` until a
  ``role`` change or a ``crash``), its log only grows at the end: no ``truncate`` and
  no ``append`` at an index it already holds.
- **Log Matching**: two entries with the same index and term head identical logs: every
  ``append`` of the same ``(log_index, entry_term)`` carries the same digest.
- **Leader Completeness**: an entry committed in term T (a ``commit`` event of a server
  in term T; committing index i commits the whole prefix, which its digest pins down) is
  in the log of every leader of a later term: the rebuilt log of the leader of each term
  > T, as it stood at its ``leader_elected``, has the committed digest at that index.  The
  check runs both ways, at each election against the commits seen so far and at each
  commit against the leaders already elected, because a ``commit`` event may be recorded
  after a later term's leader was elected (the old leader hears its last acknowledgements
  late, or a follower learns the commit index late).
- **State Machine Safety**: no two ``apply`` events at one index apply different
  entries (digests).

Each violation is reported once per term, index or key, with the time it became visible.
"""

from __future__ import annotations

import math

import pandas as pd

from ..check import Verdict

__all__ = ["PROPERTIES", "check"]

PROPERTIES = ["election_safety", "leader_append_only", "log_matching", "leader_completeness",
              "state_machine_safety"]

_KINDS = ["leader_elected", "role", "crash", "append", "truncate", "commit", "apply"]
_COLS = ["seq", "time", "node", "kind", "term", "role", "log_index", "entry_term", "digest"]


def _events(run) -> pd.DataFrame:
    if isinstance(run, pd.DataFrame):
        events = run
    elif hasattr(run, "events") and isinstance(run.events, pd.DataFrame):
        events = run.events
    else:
        raise TypeError(f"run must be a dsalgo.sim.Run or its events DataFrame; got {run!r}")
    missing = [c for c in ("seq", "time", "node", "kind") if c not in events.columns]
    if missing:
        raise ValueError(f"run.events must have columns seq, time, node, kind; missing {missing}")
    ev = events[events["kind"].isin(_KINDS)]
    return ev.reindex(columns=_COLS).sort_values("seq", kind="stable")


def _i(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else int(x)


def check(run) -> Verdict:
    """Check Election Safety, Leader Append-Only, Log Matching, Leader Completeness and
    State Machine Safety on a Raft run.

    Parameters
    ----------
    run : dsalgo.sim.Run or DataFrame
        A run of :func:`dsalgo.raft.simulate` (or its ``events`` table).

    Returns
    -------
    dsalgo.check.Verdict
        Truthy when all five hold; ``violations`` has one row per violation.  ``info``
        counts what happened: ``leaders_elected``, ``terms``, ``leader_changes``,
        ``max_commit_index``, ``applied``.

    Examples
    --------
    >>> from dsalgo import raft
    >>> v = raft.check(raft.simulate(n=3, seed=2, duration=1.0, clients=1))
    >>> bool(v), v.info["leaders_elected"] >= 1
    (True, True)
    >>> bad = raft.scenarios.figure8(bug=True)
    >>> sorted(set(raft.check(bad).violations["property"]))
    ['leader_completeness', 'state_machine_safety']
    """
    ev = _events(run)
    out: list[dict] = []
    reported: set = set()

    def violation(prop, key, time, nodes, detail):
        if (prop, key) not in reported:
            reported.add((prop, key))
            out.append({"property": prop, "time": float(time), "nodes": tuple(nodes),
                        "detail": detail})

    leader_of: dict = {}    # term -> node
    leader_log: dict = {}   # term -> (node, time, copy of its log when elected)
    leading: dict = {}      # node -> term it leads now
    logs: dict = {}         # node -> [(entry_term, digest)], index i at position i - 1
    by_key: dict = {}       # (index, entry_term) -> (digest, node)
    committed: dict = {}    # index -> {digest: (term, node, time)}
    applied: dict = {}      # index -> (digest, node)
    elected = changes = applies = max_commit = 0

    def completeness(term, leader, log, index, digest, first):
        """Leader Completeness for the leader of ``term`` (its ``log`` when elected) and
        the entry ``digest`` at ``index``, first committed as ``first``."""
        held = log[index - 1][1] if index <= len(log) else None
        if held != digest:
            t_commit, who, when = first
            violation("leader_completeness", (term, index), max(when, leader_log[term][1]),
                      [leader, who], f"leader of term {term} lacks index {index} committed "
                      f"by {who} in term {t_commit} at t={when:.6g}s")
    last_leader = None
    for _seq, time, node, kind, term, role, index, entry_term, digest in ev.itertuples(
            index=False, name=None):
        if kind == "append":
            index, entry_term, digest = int(index), int(entry_term), int(digest)
            log = logs.setdefault(node, [])
            if node in leading and index <= len(log):
                violation("leader_append_only", (node, leading[node]), time, [node],
                          f"leader of term {leading[node]} wrote index {index} over an "
                          f"entry it held")
            if index <= len(log):
                log[index - 1] = (entry_term, digest)
            else:
                log.extend([(None, None)] * (index - 1 - len(log)))
                log.append((entry_term, digest))
            first = by_key.setdefault((index, entry_term), (digest, node))
            if first[0] != digest:
                violation("log_matching", (index, entry_term), time, [first[1], node],
                          f"entries at index {index} of term {entry_term} head different "
                          f"logs on {first[1]} and {node}")
        elif kind == "truncate":
            index = int(index)
            if node in leading:
                violation("leader_append_only", (node, leading[node]), time, [node],
                          f"leader of term {leading[node]} deleted its entries from index "
                          f"{index} on")
            del logs.setdefault(node, [])[index - 1:]
        elif kind == "commit":
            index = int(index)
            max_commit = max(max_commit, index)
            digest, term = int(digest), int(term)
            at = committed.setdefault(index, {})
            if digest not in at:
                # a newly committed entry: judge the leaders of later terms already elected
                at[digest] = first = (term, node, time)
                for t_lead, (leader, _when, log) in leader_log.items():
                    if t_lead > term:
                        completeness(t_lead, leader, log, index, digest, first)
        elif kind == "apply":
            index, digest = int(index), int(digest)
            applies += 1
            first = applied.setdefault(index, (digest, node))
            if first[0] != digest:
                violation("state_machine_safety", index, time, [first[1], node],
                          f"index {index} applied as different entries on {first[1]} and "
                          f"{node}")
        elif kind == "leader_elected":
            term = int(term)
            elected += 1
            if node != last_leader:
                changes += last_leader is not None
                last_leader = node
            other = leader_of.setdefault(term, node)
            if other != node:
                violation("election_safety", term, time, [other, node],
                          f"two leaders in term {term}: {other} and {node}")
            leading[node] = term
            log = list(logs.get(node, []))
            leader_log.setdefault(term, (node, time, log))
            for index, digests in committed.items():
                for digest, first in digests.items():
                    if first[0] < term:
                        completeness(term, node, log, index, digest, first)
        elif kind == "crash" or (kind == "role" and role != "leader"):
            leading.pop(node, None)
    info = {"leaders_elected": elected, "terms": len(leader_of), "leader_changes": changes,
            "max_commit_index": max_commit, "applied": applies}
    return Verdict(PROPERTIES, out, info=info)
