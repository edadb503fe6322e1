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

Two properties of the election itself (§5.2, Figure 2), from the ``vote`` events (a
server records a ``vote`` with the ``candidate`` when the vote is cast: its own as a
candidate once durable, another's when the reply granting it leaves):

- **Leader vote majority** (``leader_vote_majority``): the leader of term T had, when
  elected, votes *of term T* from a majority of the configuration (``run.params["n"]``;
  for a bare events table, the servers that record a ``role``).  A vote of an earlier
  term does not count.
- **One vote per term** (``one_vote_per_term``): no server votes for two candidates in
  one term.

A table without any ``vote`` event (recorded by an implementation that does not emit
them) is not judged on these two; ``info["votes"]`` says how many there were.

Each violation is reported once per term, index or key, with the time it became visible.

What clients observed (a run with a ``history``; the code is shared with Multi-Paxos,
:func:`dsalgo.check.clients.client_verdict`):

- **Exactly-once** (§8): no server executes one client command (``process, op_id``) twice
  in one life (between restarts; a restarted server rebuilds its state machine from the
  log): every ``apply`` event says whether the command took effect (``executed``) or was
  answered from the duplicate memory.
- **Linearizability** of ``run.history`` under the key-value model
  (:func:`dsalgo.check.linearizable` with ``"kv"``).  ``reads="local"`` is unsafe by
  design and is expected to fail it: the violation's detail says so.

Progress (a *progress* property of the verdict, see :attr:`dsalgo.check.Verdict.progress`):

- **leader_and_commit**: under the fairness condition — every fault has healed and a
  majority of servers is up (:func:`dsalgo.check.verdict.fair_from`) for at least
  ``grace`` seconds before the run ends — a leader of the newest term is up within
  ``grace`` of the heal, and, if clients still had work, an entry commits within
  ``grace``.  :func:`recovery_times` gives the time it took (availability after faults).
"""

from __future__ import annotations

import math

import pandas as pd

from .._validate import check_number
from ..check import Verdict
from ..check.clients import CLIENT_PROPERTIES, client_verdict
from ..check.progress import close_recovery, leader_progress_verdict
from ..check.verdict import fair_from
from .config import majority

__all__ = ["CLIENT_PROPERTIES", "PROGRESS", "PROPERTIES", "check", "recovery_times"]

PROPERTIES = ["election_safety", "leader_append_only", "log_matching", "leader_completeness",
              "state_machine_safety", "leader_vote_majority", "one_vote_per_term"]
#: The progress property, checked under the fairness condition.
PROGRESS = "leader_and_commit"

_KINDS = ["leader_elected", "role", "crash", "append", "truncate", "commit", "apply", "vote"]
_COLS = ["seq", "time", "node", "kind", "term", "role", "log_index", "entry_term", "digest",
         "candidate"]


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


def check(run, *, grace: float | None = None, time_limit: float | None = 20.0) -> Verdict:
    """Check Election Safety, Leader Append-Only, Log Matching, Leader Completeness and
    State Machine Safety on a Raft run, and that every leader had a vote majority of its
    term and no server voted twice in a term; on a run with a history also exactly-once
    application and linearizability of what clients saw, and progress after faults heal.

    Parameters
    ----------
    run : dsalgo.sim.Run or DataFrame
        A run of :func:`dsalgo.raft.simulate` (or its ``events`` table: then only the log
        and election properties are checked).
    grace : float, optional
        Seconds the fairness condition must last and within which progress is due
        (default: 2.5 maximal election timeouts, from ``run.params``).
    time_limit : float or None
        Seconds the linearizability search may take before its verdict is ``unknown``.

    Returns
    -------
    dsalgo.check.Verdict
        Truthy when all hold; ``violations`` has one row per violation.  ``info``
        counts what happened: ``leaders_elected``, ``terms``, ``leader_changes``,
        ``max_commit_index``, ``applied``, ``votes`` (``vote`` events), ``contested_terms``
        (terms in which two or more servers campaigned), ``contested_won`` (those of them
        that elected a leader), ``duplicate_executions``, ``reads``;
        ``recovery`` is the row of :func:`recovery_times`.  ``leader_and_commit`` is a
        progress property (``verdict.progress``); the others are safety properties.

    Examples
    --------
    >>> from dsalgo import raft
    >>> v = raft.check(raft.simulate(n=3, seed=2, duration=1.0, clients=1))
    >>> bool(v), v.info["leaders_elected"] >= 1
    (True, True)
    >>> bad = raft.scenarios.figure8(bug=True)
    >>> sorted(set(raft.check(bad).violations["property"]))
    ['leader_completeness', 'state_machine_safety']
    >>> v = raft.check(raft.scenarios.stale_vote_scenario(bug=True))
    >>> list(v.violations["property"]), v.violations["detail"].iloc[0]
    (['leader_vote_majority'], 'n1 led term 2 with votes of term 2 from n1 only: 1 of the 2 needed')

    A deliberately stale read path fails linearizability, and says so: ``n1`` leads and
    commits ``put x a``, is cut off, ``n2`` takes over and commits ``put x b``, then a
    ``get x`` sent to ``n1`` (which still believes it leads) is answered from its state:

    >>> from dsalgo import sim
    >>> from dsalgo.raft.messages import ClientRequest, TimeoutNow
    >>> script = [(0.1, "n1", TimeoutNow()), (0.2, "n1", ClientRequest("c1", 1, "put", "x", "a")),
    ...           (0.4, "n2", TimeoutNow()), (0.5, "n2", ClientRequest("c1", 2, "put", "x", "b")),
    ...           (0.6, "n1", ClientRequest("c1", 3, "get", "x", None))]
    >>> cut = [sim.Partition([["n1"], ["n2", "n3"]], at=0.3, until=1.0)]
    >>> v = raft.check(raft.scenarios.scripted(3, script, cut, until=0.9, reads="local",
    ...                                        record=True))
    >>> v.holds("linearizability"), "reads='local'" in v.violations["detail"].iloc[0]
    (False, True)
    """
    ev = _events(run)
    need = _vote_majority(run, ev)
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
    voted: dict = {}        # (voter, term) -> (candidate, time) of its first vote
    tally: dict = {}        # (term, candidate) -> voters
    campaigns: dict = {}    # term -> servers that campaigned

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
    for _seq, time, node, kind, term, role, index, entry_term, digest, candidate in \
            ev.itertuples(index=False, name=None):
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
        elif kind == "vote":
            term = int(term)
            tally.setdefault((term, candidate), set()).add(node)
            first = voted.setdefault((node, term), (candidate, time))
            if first[0] != candidate:
                violation("one_vote_per_term", (node, term), time, [node],
                          f"{node} voted twice in term {term}: for {first[0]} at "
                          f"t={first[1]:.6g}s and for {candidate}")
        elif kind == "leader_elected":
            term = int(term)
            elected += 1
            if need is not None:
                voters = tally.get((term, node), set())
                if len(voters) < need:
                    names = ", ".join(sorted(map(str, voters))) or "nobody"
                    violation("leader_vote_majority", term, time,
                              [node, *sorted(voters - {node})],
                              f"{node} led term {term} with votes of term {term} from "
                              f"{names}{' only' if voters else ''}: {len(voters)} of the "
                              f"{need} needed")
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
            if role == "candidate":
                campaigns.setdefault(int(term), set()).add(node)
    contested = [t for t, who in campaigns.items() if len(who) > 1]
    info = {"leaders_elected": elected, "terms": len(leader_of), "leader_changes": changes,
            "max_commit_index": max_commit, "applied": applies,
            "votes": sum(len(v) for v in tally.values()), "contested_terms": len(contested),
            "contested_won": sum(t in leader_of for t in contested)}
    verdict = Verdict(PROPERTIES, out, info=info)
    if isinstance(run, pd.DataFrame) or not isinstance(getattr(run, "history", None),
                                                       pd.DataFrame):
        return verdict
    return verdict.merge(_clients(run, time_limit)).merge(_progress(run, grace))


def _vote_majority(run, ev):
    """Votes a leader needs: a majority of the configuration (``run.params["n"]``, or the
    servers recording a ``role`` in a bare table); ``None`` when no vote was recorded."""
    if not (ev["kind"] == "vote").any():
        return None
    n = getattr(run, "params", {}).get("n") if not isinstance(run, pd.DataFrame) else None
    if n is None:
        roles = ev.loc[ev["kind"] == "role", "node"]
        n = roles.nunique() if len(roles) else ev["node"].nunique()
    return majority(int(n))


def _clients(run, time_limit) -> Verdict:
    """Exactly-once application and linearizability of ``run.history``."""
    reads = run.params.get("reads", "log")
    note = ("reads='local' serves gets from whoever believes it leads, unsafe by design: "
            "stale reads are expected") if reads == "local" else None
    return client_verdict(run, time_limit=time_limit, read_note=note,
                          info={"reads": reads})


def _grace(run, grace):
    if grace is not None:
        return check_number("grace", grace, low=0.0, low_open=True)
    timeout = run.params.get("election_timeout", (0.15, 0.3))
    return 2.5 * float(timeout[1])


def recovery_times(run, *, grace: float | None = None) -> pd.DataFrame:
    """How long the cluster took to serve again after its last fault healed.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A Raft run.
    grace : float, optional
        As for :func:`check`.

    Returns
    -------
    DataFrame
        One row: ``t_heal`` (when the fairness condition starts: every fault over and a
        majority up; NaN if it never does), ``judged`` (it lasted ``grace`` seconds),
        ``t_leader`` (first instant from ``t_heal`` on with an up leader of the newest
        term), ``t_commit`` (first commit from ``t_heal`` on; NaN when clients had no work
        left), ``work`` (clients asked for commands once it held), ``t_work`` (the first
        such request; ``t_commit`` is the first commit after it), ``recovery`` (seconds
        from ``t_heal`` to both), ``late`` (the longer of leader and commit delays, each
        from when it was due; above ``grace`` is a violation) and ``grace``.

    Examples
    --------
    >>> from dsalgo import raft, sim
    >>> run = raft.simulate(3, seed=1, duration=4.0, clients=2,
    ...                     faults=[sim.Crash("n1", at=0.5), sim.Restart("n1", at=1.0)])
    >>> r = recovery_times(run).iloc[0]
    >>> bool(r["judged"]), float(r["t_heal"]), bool(0 <= r["recovery"] < 1.0)
    (True, 1.0, True)
    """
    grace = _grace(run, grace)
    ev = run.events
    servers = sorted(set(ev.loc[ev["kind"] == "role", "node"].astype(str)))
    t_heal = fair_from(run.faults, servers, majority(len(servers)), run.until)
    nan = float("nan")
    row = {"t_heal": nan if t_heal is None else t_heal, "judged": False, "t_leader": nan,
           "t_commit": nan, "work": False, "t_work": nan, "recovery": nan, "late": nan,
           "grace": grace}
    if t_heal is None:
        return pd.DataFrame([row])
    row["judged"] = run.until - t_heal >= grace
    h = run.history
    # operations that need a commit, asked for once the condition holds
    needs = (h["f"] != "get") if run.params.get("reads", "log") != "log" else h["f"].notna()
    asked = h.loc[needs & (h["t_invoke"] >= t_heal) & (h["t_invoke"] <= run.until - grace),
                  "t_invoke"] if len(h) else pd.Series([], dtype=float)
    row["work"] = bool(len(asked))
    t_work = float(asked.min()) if len(asked) else math.inf
    sel = ev[ev["kind"].isin(["role", "leader_elected", "follow", "crash", "restart",
                              "commit"])].sort_values("seq", kind="stable")
    role: dict = {}
    term: dict = {}
    up = set(servers)

    def leader_up():
        newest = max((term.get(s, 0) for s in up), default=0)
        return any(role.get(s) == "leader" and term.get(s, 0) >= newest for s in up)

    t_leader = t_commit = None
    checked_heal = False
    for time, node, kind, r, t in zip(sel["time"], sel["node"], sel["kind"], sel["role"],
                                      sel["term"]):
        if time > t_heal and not checked_heal:
            checked_heal = True
            if leader_up():
                t_leader = t_heal
        if kind == "crash":
            up.discard(node)
            role.pop(node, None)
        elif kind == "restart":
            up.add(node)
        else:
            if not (isinstance(t, float) and math.isnan(t)):
                term[node] = max(term.get(node, 0), int(t))
            if kind == "role":
                role[node] = r
            elif kind == "leader_elected":
                role[node] = "leader"
            elif kind == "commit" and time >= t_work and t_commit is None:
                t_commit = float(time)
        if time >= t_heal and t_leader is None and leader_up():
            t_leader = float(time)
    if not checked_heal and t_leader is None and leader_up():
        t_leader = t_heal
    close_recovery(row, t_heal=t_heal, t_leader=t_leader, t_commit=t_commit, t_work=t_work)
    return pd.DataFrame([row])


def _progress(run, grace) -> Verdict:
    return leader_progress_verdict(recovery_times(run, grace=grace).iloc[0], PROGRESS,
                                   faulty=bool(len(run.faults)),
                                   no_leader="no up leader of the newest term",
                                   no_work="no entry committed", condition="a majority up")
