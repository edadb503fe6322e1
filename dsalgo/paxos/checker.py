"""``check``: the safety properties of a Paxos run, from its tables alone.

Works on any :class:`dsalgo.sim.Run` with the events the Paxos kernels emit -- a fresh one
or one loaded from disk -- and never looks inside the nodes.

* **agreement** -- at most one value is decided per slot (Lamport 2001, §2.1: "only a
  single value is chosen").  Every learner emits ``decided`` when it learns a value, and
  again if it ever hears a *different* value for the same slot, so two ``decided`` rows
  of one slot with different values are a violation.
  Agreement is also judged on what acceptors did, not only on what learners recorded: a
  value is *chosen* at ``(slot, ballot)`` once the acceptors that accepted it there form
  a phase-2 quorum (Lamport 2001, §2.2), whether or not any proposer counted the votes --
  a preempted proposer or a deposed leader stops counting, so in a broken variant a
  second chosen value could otherwise go unseen.  Two different values chosen for one
  slot (at any ballots), or a chosen value that differs from one a learner decided, is
  a violation.  This needs the acceptors' ``accepted`` events and ``run.params["q2_spec"]``
  (see :func:`dsalgo.paxos.phase2_spec`); a run saved without them is judged on
  ``decided`` events alone, and ``info["chosen"]`` says so.
* **one_value_per_ballot** -- across all acceptors, at most one value is accepted per
  ``(slot, ballot)``: a ballot belongs to one proposer, which proposes one value per slot
  (Lamport 2001, §2.2).  Cheap, and it catches two proposers sharing a ballot at the root,
  before any learner is confused.  Checked when the run has ``accepted`` events.
* **ballots_never_decrease** -- every acceptor's ballots only grow: each promise it
  answers (``promise`` events) and each proposal it accepts (``accepted`` events) carries
  a ballot at least as high as every ballot it promised or accepted before, across its
  crashes and restarts (Lamport 2001, §2.2: an acceptor that promised ``n`` never accepts
  a proposal numbered below ``n``; the promise is durable).  Checked when the run has
  ``accepted`` events (runs saved before ``promise`` events existed are judged on their
  acceptances alone).
* **decided_by_quorum** -- every value a learner decided was accepted, before that, by a
  phase-2 quorum in one ballot (``run.params["q2_spec"]``, so flexible and grid quorums
  count as the run used them): a decision resting on votes of two ballots, or on votes
  for another value, is caught here even when no second value is ever chosen.  Checked
  with ``accepted`` events and ``q2_spec``.
* **validity** -- a decided value was proposed: single-decree, one of the values in a
  ``propose`` event; Multi-Paxos, the ``op_id`` of an operation some client invoked, or
  ``-1`` for a leader's no-op.
* **state_machine_safety** (Multi-Paxos) -- the decided log, replayed on a reference
  key-value store from slot 0 with each ``op_id`` taking effect at its first slot only,
  explains every completed operation: the status and result the client got equal those
  of the replay, and the log order respects real time (an operation that completed
  before another was invoked sits at an earlier slot).  Together this says the history
  is linearizable, with the log as the witness order.

What clients observed (Multi-Paxos), judged as for Raft by
:func:`dsalgo.check.clients.client_verdict`:

* **exactly_once** -- no replica executes one client operation twice in one life: the
  replicas' ``apply`` events say whether each decided command took effect or was
  answered from their memory of results (a retry decided at a second slot).
* **linearizability** of ``run.history`` under the key-value model, checked on the
  history alone (:func:`dsalgo.check.linearizable`), independently of the log.

Progress (a *progress* property, :attr:`dsalgo.check.Verdict.progress`):

* **leader_and_commit** -- under the fairness condition (every fault healed and enough
  servers up for a phase-1 and a phase-2 quorum, for ``grace`` seconds before the run
  ends), a leader of the highest round is up within ``grace`` of the heal and, if
  clients asked for work, a client command takes effect within ``grace`` of the first
  request.  :func:`recovery_times` gives the times (availability after faults).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dsalgo._validate import check_number
from dsalgo.check import Verdict
from dsalgo.check.clients import CLIENT_PROPERTIES, client_verdict
from dsalgo.check.progress import close_recovery, leader_progress_verdict
from dsalgo.check.verdict import fair_from

__all__ = ["CLIENT_PROPERTIES", "PROGRESS", "check", "recovery_times"]

#: The progress property of Multi-Paxos, checked under the fairness condition.
PROGRESS = "leader_and_commit"


def _replay(kv: dict, f, key, value):
    """The reference store: the specification of put, get and cas."""
    if f == "put":
        kv[key] = value
        return "ok", None
    if f == "get":
        return "ok", kv.get(key)
    old, new = value
    if kv.get(key) == old:
        kv[key] = new
        return "ok", True
    return "fail", False


def check(run, *, grace: float | None = None, time_limit: float | None = 20.0) -> Verdict:
    """Check agreement, validity and (Multi-Paxos) state-machine safety of a Paxos run;
    for Multi-Paxos also what clients observed and progress after faults heal.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A run of :func:`dsalgo.paxos.simulate` (or any run with the same events; a run
        whose ``params`` name another family is refused).  Of ``run.params`` it reads
        ``variant``, ``q2_spec`` and ``election_timeout``.
    grace : float, optional
        Multi-Paxos: seconds the fairness condition must last and within which a leader
        and a commit are due (default: 2.5 maximal election timeouts).
    time_limit : float or None
        Multi-Paxos: seconds the linearizability search may take before its verdict is
        ``unknown``.

    Returns
    -------
    dsalgo.check.Verdict
        Truthy when every property holds; ``info`` counts slots decided, slots with a
        chosen value and operations verified, and ``info["chosen"]`` says whether chosen
        values were derived from ``accepted`` events or (an old run) skipped.
        Multi-Paxos adds ``exactly_once`` and ``linearizability`` of ``run.history``
        (safety; :func:`dsalgo.check.clients.client_verdict`, with
        ``info["duplicate_executions"]``) and ``leader_and_commit`` (progress;
        ``info["recovery"]`` is the row of :func:`recovery_times`).

    Examples
    --------
    >>> from dsalgo import paxos
    >>> v = paxos.check(paxos.simulate(3, variant="single", seed=4))
    >>> bool(v), v.info["slots_decided"], v.info["slots_chosen"]
    (True, 1, 1)

    Phase-1 and phase-2 quorums of two out of four need not meet: split the cluster and
    each half chooses its own value.

    >>> from dsalgo import sim
    >>> bad = paxos.simulate(4, variant="single", seed=2, q1=2, q2=2, unsafe=True,
    ...                      faults=[sim.Partition([["n1", "n3"], ["n2", "n4"]], at=0.0)])
    >>> print(paxos.check(bad))  # doctest: +ELLIPSIS
    1 violation of agreement (5 properties checked): agreement at t=0.0...s on n1, n2, n3, n4: slot 0 decided 'v...' (by n...) and 'v...' (by n...).

    Multi-Paxos runs are judged on what clients saw and on progress too:

    >>> v = paxos.check(paxos.simulate(3, seed=2, duration=2.0, clients=2))
    >>> bool(v), v.kinds["leader_and_commit"], v.info["duplicate_executions"]
    (True, 'progress', 0)
    """
    if not all(hasattr(run, t) for t in ("events", "history")):
        raise TypeError(f"run must be a dsalgo.sim.Run (with events and history tables); "
                        f"got {run!r} of type {type(run).__name__}")
    params = _params(run)
    variant = params.get("variant") or ("multi" if len(run.history) else "single")
    ev = run.events
    dec = _rows(ev, "decided", ["time", "node", "slot", "value"], variant)
    acc = _rows(ev, "accepted", ["time", "node", "slot", "ballot", "value"], variant)
    has_accepted = len(acc) > 0 or _emits_accepted(ev)
    props = ["agreement", "validity"]
    if has_accepted:
        props += ["one_value_per_ballot", "ballots_never_decrease"]
    spec = params.get("q2_spec")
    if has_accepted and spec:
        props.append("decided_by_quorum")
    if variant == "multi":
        props.append("state_machine_safety")
    rows = []
    rows += _agreement(dec)
    info = {"slots_decided": int(dec["slot"].nunique()), "decisions": len(dec)}
    if has_accepted and spec:
        is_q2 = _phase2_test(spec)
        chosen = _chosen(acc, is_q2)
        # A slot the learners already show split is reported once, as before.
        rows += _chosen_agreement(chosen, dec, skip=_split_slots(dec))
        rows += _decided_by_quorum(chosen, dec)
        info["slots_chosen"] = len({c[0] for c in chosen})
        info["chosen"] = "derived from accepted events and the phase-2 quorums in q2_spec"
    else:
        # An old saved run: agreement rests on what learners recorded, as it used to.
        missing = " and ".join(w for w, ok in (("accepted events", has_accepted),
                                               ('params["q2_spec"]', bool(spec))) if not ok)
        info["chosen"] = (f"not checked: the run has no {missing}; agreement judged on "
                          f"decided events only")
    if has_accepted:
        rows += _one_value_per_ballot(acc)
        found, info["acceptor_ballots"] = _ballots_never_decrease(ev)
        rows += found
    rows += _validity(dec, ev, run.history, variant)
    if variant == "multi":
        found, checked = _state_machine(dec, run.history)
        rows += found
        info["operations_checked"] = checked
    verdict = Verdict(props, rows, info=info)
    if variant != "multi":
        return verdict
    return verdict.merge(client_verdict(run, time_limit=time_limit)).merge(
        _progress(run, grace))


def _grace(run, grace) -> float:
    if grace is not None:
        return check_number("grace", grace, low=0.0, low_open=True)
    timeout = run.params.get("election_timeout", (0.15, 0.3))
    return 2.5 * float(timeout[1])


def _servers(run) -> list:
    n = run.params.get("n")
    if n is not None:
        return [f"n{i}" for i in range(1, int(n) + 1)]
    ev = run.events
    return sorted(set(ev.loc[ev["kind"].isin(["leader", "decided", "accepted"]),
                             "node"].astype(str)))


def _need(run, n: int) -> int:
    """How many servers must be up for a phase-1 and a phase-2 quorum to exist: a
    majority by default, the larger quorum size for sizes, every server for a quorum
    system given as such (a grid, ...)."""
    q1, q2 = run.params.get("q1"), run.params.get("q2")
    if q1 is None and q2 is None:
        return n // 2 + 1
    if all(q is None or (isinstance(q, int) and not isinstance(q, bool)) for q in (q1, q2)):
        q1 = q1 if q1 is not None else n - q2 + 1
        q2 = q2 if q2 is not None else n - q1 + 1
        return min(n, max(q1, q2))
    return n


def recovery_times(run, *, grace: float | None = None) -> pd.DataFrame:
    """How long Multi-Paxos took to serve again after its last fault healed.

    The fairness condition: every fault is over and enough servers are up to form a
    phase-1 and a phase-2 quorum (a majority by default; the larger of ``q1`` and ``q2``
    for quorum sizes; every server for a quorum system such as a grid), see
    :func:`dsalgo.check.verdict.fair_from`.  From then on a leader is due (an up server
    leading with the highest round any server has led with so far) and, if clients asked
    for work once it held, a client command applied at a new slot.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A Multi-Paxos run.
    grace : float, optional
        As for :func:`check`.

    Returns
    -------
    DataFrame
        One row: ``t_heal`` (NaN if the condition never holds), ``judged`` (it held for
        ``grace`` seconds before the run ended), ``t_leader`` (first instant from
        ``t_heal`` on with such a leader), ``work`` (clients invoked an operation between
        ``t_heal`` and ``grace`` before the end), ``t_work`` (the first such invocation),
        ``t_commit`` (from ``t_work`` on, the first slot applied for the first time, by
        any replica, to a client command: the command took effect and can be answered;
        a run without ``apply`` events uses the first slot decided), ``recovery`` (seconds from ``t_heal`` to both), ``late`` (the longer of the
        leader and commit delays, each from when it was due; above ``grace`` is a
        violation) and ``grace``.

    Examples
    --------
    >>> from dsalgo import paxos, sim
    >>> run = paxos.simulate(3, seed=1, duration=3.0, clients=2,
    ...                      faults=[sim.Crash("n2", at=0.5), sim.Restart("n2", at=1.0)])
    >>> r = paxos.recovery_times(run).iloc[0]
    >>> bool(r["judged"]), float(r["t_heal"]), bool(0 <= r["recovery"] < 0.75)
    (True, 1.0, True)
    """
    grace = _grace(run, grace)
    servers = _servers(run)
    t_heal = fair_from(run.faults, servers, _need(run, len(servers)), run.until)
    nan = float("nan")
    row = {"t_heal": nan if t_heal is None else t_heal, "judged": False, "t_leader": nan,
           "t_commit": nan, "work": False, "t_work": nan, "recovery": nan, "late": nan,
           "grace": grace}
    if t_heal is None:
        return pd.DataFrame([row])
    row["judged"] = run.until - t_heal >= grace
    h = run.history
    asked = (h.loc[(h["t_invoke"] >= t_heal) & (h["t_invoke"] <= run.until - grace),
                   "t_invoke"] if len(h) else pd.Series([], dtype=float))
    row["work"] = bool(len(asked))
    t_work = float(asked.min()) if len(asked) else math.inf
    ev = run.events
    # a command commits for its client once a replica applies it (a slot decided after a
    # gap is of no use yet); runs saved without apply events fall back on decisions
    commit = "apply" if (ev["kind"] == "apply").any() else "decided"
    sel = ev[ev["kind"].isin(["leader", "preempted", "crash", "restart", commit]) &
             ev["node"].astype(str).isin(servers)].sort_values("seq", kind="stable")
    cols = [sel[c] if c in sel.columns else pd.Series([nan] * len(sel), index=sel.index)
            for c in ("round", "slot", "value")]
    leading: dict = {}          # node -> round it leads
    top = 0                     # the highest round any server has led with so far
    up = set(servers)
    decided: set = set()

    def leader_up():
        return any(r >= top for s, r in leading.items() if s in up)

    t_leader = t_commit = None
    checked_heal = False
    for time, node, kind, rnd, slot, value in zip(sel["time"], sel["node"].astype(str),
                                                  sel["kind"], *cols):
        if time > t_heal and not checked_heal:
            checked_heal = True
            if leader_up():
                t_leader = t_heal
        if kind == "crash":
            up.discard(node)
            leading.pop(node, None)
        elif kind == "restart":
            up.add(node)
        elif kind == "leader":
            leading[node] = int(rnd)
            top = max(top, int(rnd))
        elif kind == "preempted":
            leading.pop(node, None)
        elif kind == commit:
            slot = int(slot)
            new = slot not in decided
            decided.add(slot)
            if new and (kind == "apply" or value != -1) and time >= t_work \
                    and t_commit is None:
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
                                   no_leader="no up leader of the highest round",
                                   no_work="no client command applied", condition="quorums up")


def _params(run) -> dict:
    """``run.params``, refusing a run of another family.

    Runs record their family under ``"family"``; runs saved by earlier releases under
    ``"algorithm"``.  What the checker reads besides -- ``variant`` and ``q2_spec`` --
    kept its name.
    """
    params = getattr(run, "params", None) or {}
    family = params.get("family", params.get("algorithm"))
    if family is not None and family != "paxos":
        raise ValueError(f"run must be a run of the paxos family; got one of {family!r} "
                         f"(check it with dsalgo.families.family({family!r}).check)")
    return params


def _rows(ev, kind, columns, variant):
    """The ``kind`` events as a frame with ``columns`` (empty when there are none)."""
    if len(ev) and set(columns) <= set(ev.columns):
        out = ev.loc[ev["kind"] == kind, columns]
        out = out.astype({"node": object}).assign(slot=out["slot"].astype("int64"))
        if variant == "multi":   # op ids: the column is float when other events lack it
            out = out.assign(value=out["value"].astype("int64"))
        return out
    return pd.DataFrame({c: [] for c in columns}).astype({"slot": "int64"})


def _emits_accepted(ev):
    """Whether a run without ``accepted`` rows may still come from kernels that emit them.

    Only an empty events table says so for sure; otherwise the ``ballot`` column (which
    only ``accepted`` events fill) decides.  A run in which nothing was accepted has
    nothing chosen either, so treating it like an old run loses no check.
    """
    return len(ev) == 0 or "ballot" in ev.columns


def _phase2_test(spec):
    """``is_write_quorum(ids)`` rebuilt from a ``q2_spec`` (see ``phase2_spec``)."""
    kind = spec.get("kind")
    if kind == "threshold":
        names, size = frozenset(spec["names"]), int(spec["size"])
        return lambda ids: len(names.intersection(ids)) >= size
    if kind == "grid":
        cols, names = int(spec["cols"]), list(spec["names"])
        rows = [frozenset(names[r * cols:(r + 1) * cols]) for r in range(int(spec["rows"]))]
        return lambda ids: all(not row.isdisjoint(ids) for row in rows)
    if kind == "explicit":
        quorums = [frozenset(q) for q in spec["quorums"]]
        return lambda ids: any(q <= ids for q in quorums)
    raise ValueError(f"run.params['q2_spec'] has an unknown kind {kind!r}; expected "
                     f"'threshold', 'grid' or 'explicit'")


def _chosen(acc, is_q2):
    """``(slot, ballot, value, time, acceptors)`` for every value a phase-2 quorum chose.

    ``time`` is when the last acceptor needed for the quorum accepted.  Acceptances are
    grouped by ``(slot, ballot, value)``: a quorum of votes for one proposal, whoever
    counted them.  Plain Python over the rows: ballots are tuples, which pandas would
    try to unpack as group keys.
    """
    voters, chosen = {}, []
    acc = acc.sort_values("time", kind="stable")
    for t, node, slot, ballot, value in zip(acc["time"].tolist(), acc["node"].tolist(),
                                            acc["slot"].tolist(), acc["ballot"].tolist(),
                                            acc["value"].tolist()):
        key = (slot, ballot, value)
        got = voters.get(key)
        if got is None:
            got = voters[key] = set()
        elif got is _DONE:
            continue
        got.add(node)
        if is_q2(got):
            chosen.append((slot, ballot, value, float(t), tuple(sorted(got))))
            voters[key] = _DONE   # chosen once is enough; later votes change nothing
    return chosen


_DONE = object()   # marks a key already reported


def _ballot(b):
    """A ballot for a message: ``(round, 'id')`` as Python values."""
    return tuple(_py(x) for x in b) if isinstance(b, tuple) else _py(b)


def _chosen_agreement(chosen, dec, skip):
    """Two values chosen for one slot, or a chosen value no learner's decision matches."""
    rows = []
    by_slot = {}
    for c in chosen:
        by_slot.setdefault(c[0], []).append(c)
    learned = {}        # slot -> [(time, node, value)] in the decided table's order
    for t, node, slot, value in zip(dec["time"].tolist(), dec["node"].tolist(),
                                    dec["slot"].tolist(), dec["value"].tolist()):
        learned.setdefault(slot, []).append((t, node, value))
    for slot in sorted(by_slot):
        if slot in skip:
            continue
        cs = by_slot[slot]
        values = {}
        for c in cs:
            values.setdefault(c[2], c)        # the first time each value was chosen
        firsts = sorted(values.values(), key=lambda c: c[3])
        if len(firsts) > 1:
            a, b = firsts[0], firsts[1]
            rows.append({"property": "agreement", "time": b[3],
                         "nodes": tuple(sorted(set(a[4]) | set(b[4]))),
                         "detail": f"slot {slot}: {_py(a[2])!r} chosen at ballot "
                                   f"{_ballot(a[1])} (accepted by {', '.join(a[4])}) and "
                                   f"{_py(b[2])!r} chosen at ballot {_ballot(b[1])} "
                                   f"(accepted by {', '.join(b[4])})"})
            continue
        (value, first), = values.items()
        at = [d for d in learned.get(slot, ()) if d[2] != value]
        if at:
            other = at[0]
            by = sorted({d[1] for d in at if d[2] == other[2]})
            rows.append({"property": "agreement", "time": max(first[3], float(other[0])),
                         "nodes": tuple(sorted(set(first[4]) | set(by))),
                         "detail": f"slot {slot}: {_py(value)!r} chosen at ballot "
                                   f"{_ballot(first[1])} (accepted by "
                                   f"{', '.join(first[4])}), but {', '.join(by)} decided "
                                   f"{_py(other[2])!r}"})
    return rows


def _one_value_per_ballot(acc):
    """Two values accepted at one ``(slot, ballot)``, by any acceptors."""
    seen, rows = {}, []
    acc = acc.sort_values("time", kind="stable")
    for t, node, slot, ballot, value in zip(acc["time"].tolist(), acc["node"].tolist(),
                                            acc["slot"].tolist(), acc["ballot"].tolist(),
                                            acc["value"].tolist()):
        key = (slot, ballot)
        first = seen.get(key)
        if first is None:
            seen[key] = (value, node)
        elif first is not _DONE and first[0] != value:
            seen[key] = _DONE                  # one row per (slot, ballot)
            rows.append({"property": "one_value_per_ballot", "time": float(t),
                         "nodes": tuple(sorted({first[1], node})),
                         "detail": f"slot {slot}, ballot {_ballot(ballot)}: {first[1]} "
                                   f"accepted {_py(first[0])!r} and {node} accepted "
                                   f"{_py(value)!r}"})
    return rows


def _as_ballot(b):
    """A ballot as a tuple (a run loaded from disk may hold lists or arrays)."""
    return b if isinstance(b, tuple) else tuple(_py(x) for x in b)


def _ballots_never_decrease(ev):
    """Each acceptor's ``promise`` and ``accepted`` ballots, in event order, never go
    below the highest it promised or accepted before.  One row per acceptor (its first
    decrease, with how many there were); also how many ballots were judged."""
    sel = ev.loc[ev["kind"].isin(["promise", "accepted"]), ["seq", "time", "node", "kind",
                                                             "ballot"]]
    sel = sel.sort_values("seq", kind="stable")
    top, first, count = {}, {}, {}
    for t, node, kind, ballot in zip(sel["time"].tolist(), sel["node"].tolist(),
                                     sel["kind"].tolist(), sel["ballot"].tolist()):
        ballot = _as_ballot(ballot)
        best = top.get(node)
        if best is None or ballot >= best[0]:
            top[node] = (ballot, kind, t)
        else:
            count[node] = count.get(node, 0) + 1
            first.setdefault(node, (t, kind, ballot, best))
    rows = []
    for node in sorted(first, key=str):
        t, kind, ballot, (hi, hi_kind, hi_t) = first[node]
        what = "accepted a proposal at" if kind == "accepted" else "promised"
        before = "promised" if hi_kind == "promise" else "accepted"
        more = f" ({count[node]} decreases in all)" if count[node] > 1 else ""
        rows.append({"property": "ballots_never_decrease", "time": float(t),
                     "nodes": (node,),
                     "detail": f"acceptor {node} {what} ballot {_ballot(ballot)} after it "
                               f"had {before} ballot {_ballot(hi)} at t={hi_t:.6g}s{more}"})
    return rows, len(sel)


def _decided_by_quorum(chosen, dec):
    """A decided ``(slot, value)`` that no phase-2 quorum had accepted in one ballot by the
    time it was first decided."""
    when = {}
    for c in chosen:                         # the first time each (slot, value) was chosen
        key = (c[0], c[2])
        if key not in when or c[3] < when[key]:
            when[key] = c[3]
    rows, seen = [], set()
    for t, node, slot, value in zip(dec["time"].tolist(), dec["node"].tolist(),
                                    dec["slot"].tolist(), dec["value"].tolist()):
        key = (slot, value)
        if key in seen:
            continue
        seen.add(key)
        at = when.get(key)
        if at is None or at > t:
            why = ("no phase-2 quorum ever accepted it in one ballot" if at is None else
                   f"a phase-2 quorum accepted it in one ballot only at t={at:.6g}s")
            rows.append({"property": "decided_by_quorum", "time": float(t), "nodes": (node,),
                         "detail": f"slot {slot}: {node} decided {_py(value)!r} at "
                                   f"t={t:.6g}s, but {why}"})
    return rows


def _py(v):
    """A numpy scalar as the plain Python value, for readable messages."""
    return v.item() if hasattr(v, "item") else v


def _split_slots(dec):
    """The slots learners decided two different values for."""
    distinct = dec.drop_duplicates(["slot", "value"])
    return set(distinct.loc[distinct.duplicated("slot", keep=False), "slot"].tolist())


def _agreement(dec):
    distinct = dec.drop_duplicates(["slot", "value"])
    split = distinct[distinct.duplicated("slot", keep=False)]
    rows = []
    for slot, grp in split.groupby("slot", sort=True):
        first = grp.iloc[0]
        second = grp.iloc[1]
        at = dec[dec["slot"] == slot]
        by_first = sorted(set(at.loc[at["value"] == first["value"], "node"]))
        by_second = sorted(set(at.loc[at["value"] == second["value"], "node"]))
        rows.append({"property": "agreement", "time": float(second["time"]),
                     "nodes": tuple(sorted(set(by_first) | set(by_second))),
                     "detail": f"slot {slot} decided {_py(first['value'])!r} (by "
                               f"{', '.join(by_first)}) and {_py(second['value'])!r} (by "
                               f"{', '.join(by_second)})"})
    return rows


def _validity(dec, ev, history, variant):
    if variant == "single":
        proposed = set(ev.loc[ev["kind"] == "propose", "value"]) if len(ev) else set()
        what = "no proposer proposed it"
    else:
        proposed = set(history["op_id"].tolist()) | {-1}
        what = "no client invoked that op_id"
    bad = dec[~dec["value"].isin(proposed)].drop_duplicates(["slot", "value"])
    return [{"property": "validity", "time": float(r.time), "nodes": (r.node,),
             "detail": f"slot {r.slot} decided {_py(r.value)!r}, but {what}"}
            for r in bad.itertuples()]


def _state_machine(dec, history):
    """Replay the log; compare with what each client saw; check real-time order."""
    first = dec.sort_values("time", kind="stable").drop_duplicates("slot")
    log = dict(zip(first["slot"].tolist(), first["value"].tolist()))
    done = history[history["status"].isin(["ok", "fail"])]
    ops = {r.op_id: r for r in history.itertuples(index=False)}
    kv, effect = {}, {}            # op_id -> (status, result, slot) at its first slot
    slot = 0
    while slot in log:
        op_id = log[slot]
        if op_id != -1 and op_id not in effect and op_id in ops:
            r = ops[op_id]
            effect[op_id] = _replay(kv, r.f, r.key, r.value) + (slot,)
        slot += 1
    gap = slot
    rows = []
    slots = np.full(len(done), -1, dtype=np.int64)
    for i, r in enumerate(done.itertuples(index=False)):
        got = effect.get(r.op_id)
        if got is None:
            rows.append({"property": "state_machine_safety", "time": float(r.t_complete),
                         "nodes": (str(r.process),),
                         "detail": f"op {r.op_id} ({r.f} {r.key!r} {r.value!r}) completed "
                                   f"{r.status} but is not in the decided log before its "
                                   f"first gap (slot {gap})"})
            continue
        slots[i] = got[2]
        if (r.status, r.result) != got[:2]:
            rows.append({"property": "state_machine_safety", "time": float(r.t_complete),
                         "nodes": (str(r.process),),
                         "detail": f"op {r.op_id} ({r.f} {r.key!r} {r.value!r}) returned "
                                   f"{r.status} {r.result!r}, but the log gives {got[0]} "
                                   f"{got[1]!r} at slot {got[2]}"})
    # Real time: whatever completed before an operation was invoked must precede it.
    known = slots >= 0
    t_inv = done["t_invoke"].to_numpy()[known]
    t_done = done["t_complete"].to_numpy()[known]
    s = slots[known]
    ids = done["op_id"].to_numpy()[known]
    order = np.argsort(t_done, kind="stable")
    prefix_max = np.maximum.accumulate(s[order]) if len(s) else s
    arg = np.zeros(len(s), dtype=np.int64)
    if len(s):
        best = np.maximum.accumulate(np.where(s[order] == prefix_max, np.arange(len(s)), 0))
        k = np.searchsorted(t_done[order], t_inv, side="left")
        for j in np.flatnonzero((k > 0) & (prefix_max[np.maximum(k, 1) - 1] > s)):
            arg[j] = order[best[k[j] - 1]]
            a = arg[j]
            rows.append({"property": "state_machine_safety", "time": float(t_inv[j]),
                         "nodes": (), "detail": f"op {ids[a]} completed at t={t_done[a]:.6g}s "
                         f"in slot {s[a]}, before op {ids[j]} was invoked, yet op {ids[j]} "
                         f"sits earlier, in slot {s[j]}"})
    return rows, int(known.sum())
