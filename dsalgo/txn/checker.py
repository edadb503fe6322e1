"""Checking transaction runs from their tables: atomicity, semantic atomicity, conservation.

:func:`check` takes a :class:`~dsalgo.sim.Run` of either protocol (it reads
``run.params["family"]`` — ``"algorithm"`` in runs saved before the families shared one
contract — or recognises the events) and works from ``run.events`` and ``run.history``
alone, so it also checks a run loaded with :func:`dsalgo.sim.load_run`.

**Two-phase commit** (events of :mod:`dsalgo.txn.twopc`):

- ``atomicity``: no transaction has a participant that committed and one that aborted;
  when ``tm`` decided commit, every participant committed (unless still in doubt); when it
  did not, none did (a participant that aborted a transaction tm decided to commit
  violates it even when no other participant committed); no participant both committed
  and aborted one transaction; and a client told "committed" (or "aborted") was told the
  truth.
- ``commit_validity``: ``tm`` decided commit only after every participant voted yes —
  and, when the ``decide`` event records the ``votes`` tm had received (as
  :mod:`dsalgo.txn.twopc` does), only once tm had *heard* a yes from every participant: a
  yes still on the wire when tm decided does not count.

**Sagas** (events of :mod:`dsalgo.txn.saga`):

- ``semantic_atomicity``: every ended saga is all-done (each step applied once, nothing
  compensated) or all-compensated (each applied step compensated exactly once, nothing
  else); no step or compensation is applied twice; clients were told the truth.
- ``compensation_order``: compensations ran in reverse order of the steps.
- ``no_negative_balance``: no step that took money out of an account left it negative
  (each shard checks its own account before it applies a step; a compensation may
  overdraw, which is a measured anomaly of sagas, ``overdrafts``, not a violation).

**Both**: ``conservation``.  For sagas: at quiescence the bank holds the money it opened
with (the final balance of each account is the last one a shard reported; events carry
the new balances of every account they change).  For 2PC it is an exact per-account
replay of the committed transactions (their legs are the ``value`` of the ``transfer``
operations in ``run.history``, transaction ``t<op_id>``): every ``commit`` event of a
participant must report, for each account it changed, the balance the replay gives (the
previous reported balance plus the transaction's leg), and at quiescence every account
must hold its opening balance plus the legs of exactly the transactions ``tm`` decided
to commit.  A total can balance while accounts are wrong (a leg applied to the wrong
account, one transaction's loss hiding another's gain); the replay cannot.  Where the
history lacks the legs of a committed transaction, the replay judges what it can and the
total is checked as well (``info["replay_unknown"]`` counts what it could not replay).

**Quiescence** means that at the end of the run nothing is in flight: no participant
holds a prepared transaction (one it voted yes on, has not learnt the outcome of, and —
if it restarted since — still reported in doubt at recovery), and every saga that began
has ended.  Conservation is only meaningful then; a run that ends before quiescence gets
an ``unknown`` verdict (unless something was violated), with the in-flight transactions
named in ``verdict.info["reason"]`` — lengthen its fault-free tail.

**Measured, not violations** (in ``verdict.info``): ``intermediate_reads`` (reads whose
balances do not add up to the total: they saw a transfer half applied); for sagas
``dirty_reads`` (a step applied to an account between another saga's step on it and
that step's compensation: it saw a state that was later undone), ``lost_updates``
(compensations that did not move the balance by exactly minus their step's effect: they
overwrote updates made in between, as compensating by a before-image does) and
``overdrafts`` (compensations that left an account negative); for 2PC blocking times
(vote yes to learning the outcome).
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from ..check.verdict import Verdict, fair_from

__all__ = ["check", "family_of", "recovery_times", "TWOPC_PROPERTIES", "SAGA_PROPERTIES",
           "PROGRESS"]

#: The progress property of each protocol, judged under the fairness condition.
PROGRESS = {"twopc": "decision_progress", "saga": "saga_progress"}
TWOPC_PROPERTIES = ["atomicity", "commit_validity", "conservation", "serializability",
                    "no_negative_balance", PROGRESS["twopc"]]
SAGA_PROPERTIES = ["semantic_atomicity", "compensation_order", "conservation",
                   "no_negative_balance", PROGRESS["saga"]]


def check(run) -> Verdict:
    """Check a two-phase-commit or saga run (see the module docstring for the properties).

    Parameters
    ----------
    run : dsalgo.sim.Run
        A run of :func:`dsalgo.txn.twopc.simulate` or :func:`dsalgo.txn.saga.simulate`
        (or any run with the same events), possibly loaded from disk.

    Returns
    -------
    Verdict
        ``info`` holds counts (``committed``, ``aborted`` or ``sagas_done``,
        ``sagas_compensated``, ``compensations``), ``quiescent``, ``total``,
        ``final_total`` and the measured isolation anomalies.

    Examples
    --------
    >>> from dsalgo import txn
    >>> v = txn.check(txn.twopc.simulate(n=2, seed=3, duration=0.5, drain=0.5,
    ...                                  bugs={"commit_without_all_votes"}))
    >>> bool(v), v.holds("commit_validity")
    (False, False)
    """
    for attr in ("events", "history", "params"):
        if not hasattr(run, attr):
            raise TypeError(f"run must be a dsalgo.sim.Run (with events, history, params); "
                            f"got {run!r}")
    family = family_of(run)
    if family == "twopc":
        return _check_twopc(run)
    if family == "saga":
        return _check_saga(run)
    raise ValueError(f"run must come from txn.twopc or txn.saga (run.params['family'] "
                     f"'twopc' or 'saga'); got family {family!r}")


def family_of(run) -> str | None:
    """``"twopc"`` or ``"saga"``: ``run.params["family"]`` (``"algorithm"`` in runs saved
    before), else recognised from the events; ``None`` if neither says.

    Examples
    --------
    >>> from dsalgo import sim
    >>> family_of(sim.Run(params={"algorithm": "saga"}))
    'saga'
    """
    family = run.params.get("family", run.params.get("algorithm"))
    if family is None and len(run.events):
        kinds = set(run.events["kind"].astype(str))
        family = "saga" if "saga_begin" in kinds else "twopc" if "begin" in kinds else None
    return family


# ------------------------------------------------------------------ shared
def _split(ev: pd.DataFrame) -> dict:
    """The events table split by kind (one pass instead of one filter per kind)."""
    if not len(ev):
        return {}
    return {str(k): part for k, part in ev.groupby(ev["kind"].astype(str), sort=False)}


def _rows(ev: dict, kind: str, cols) -> list:
    """``(seq, time, node, *cols)`` tuples of the events of ``kind``, in order."""
    sel = ev.get(kind)
    if sel is None:
        return []
    out = [sel["seq"].tolist(), sel["time"].tolist(), sel["node"].astype(str).tolist()]
    for c in cols:
        out.append(sel[c].tolist() if c in sel.columns else [None] * len(sel))
    return list(zip(*out))


def _legs_of(run) -> dict:
    """``txn -> legs`` of every transfer in ``run.history`` (2PC names it ``t<op_id>``)."""
    h = run.history
    t = h[h["f"] == "transfer"]
    return {f"t{op}": tuple((a, int(d)) for a, d in legs)
            for op, legs in zip(t["op_id"], t["value"]) if legs is not None}


def _replay(run, ev: dict, committed: set, quiescent: bool, violations: list) -> dict:
    """2PC's conservation: the exact per-account replay (module docstring); returns info."""
    from .bank import shard_of
    legs_of = _legs_of(run)
    opening, state = {}, {}
    for _, _, _, bal in _rows(ev, "init", ["balances"]):
        opening.update(bal)
        state.update(bal)
    mismatched = unknown = 0
    for _, t, node, txn, bal in _rows(ev, "commit", ["txn", "balances"]):
        legs = legs_of.get(txn)
        if legs is None or not isinstance(bal, dict):
            unknown += 1
            continue
        mine = [(a, d) for a, d in legs if shard_of(a) == node]
        for a, d in mine:
            want = state.get(a, 0) + d
            if bal.get(a) != want:
                mismatched += 1
                violations.append(_v("conservation", t, (node,),
                                     f"{txn}: {node} reported {a} = {bal.get(a)} after "
                                     f"committing its leg {d:+d}; replaying the committed "
                                     f"transactions gives {want}"))
        for a, b in bal.items():          # follow what was reported: each error once
            state[a] = b
    unknown += sum(1 for txn in committed if txn not in legs_of)
    if quiescent and not unknown:
        expected = dict(opening)
        for txn in committed:
            for a, d in legs_of.get(txn, ()):
                expected[a] = expected.get(a, 0) + d
        for a in sorted(set(expected) | set(state)):
            if expected.get(a, 0) != state.get(a, 0):
                mismatched += 1
                violations.append(_v("conservation", run.until, (shard_of(a),),
                                     f"account {a} holds {state.get(a, 0)} at quiescence; "
                                     f"its opening balance plus the legs of the transactions "
                                     f"tm committed gives {expected.get(a, 0)} "
                                     f"({state.get(a, 0) - expected.get(a, 0):+d})"))
    return {"replay_mismatches": mismatched, "replay_unknown": unknown}



def _bank(run, ev: dict, quiescent: bool, violations: list, replayed: bool = False) -> dict:
    """Conservation (the total, unless ``replayed``: 2PC judges it by :func:`_replay`) and
    intermediate reads; returns the info entries."""
    total, final = 0, {}
    for _, _, _, bal in _rows(ev, "init", ["balances"]):
        final.update(bal)
    total = sum(final.values())
    if "balances" in run.events.columns:
        changed = run.events[(run.events["kind"] != "init") & run.events["balances"].notna()]
        for bal in changed["balances"]:
            final.update(bal)
    final_total = sum(final.values())
    if quiescent and final_total != total and not replayed:
        violations.append(dict(property="conservation", time=run.until, nodes=(),
                               detail=f"the bank opened with {total} and holds {final_total} "
                                      f"at quiescence ({final_total - total:+d})"))
    h = run.history
    reads = h[(h["f"] == "read") & (h["status"] == "ok")]
    off = sum(1 for r in reads["result"] if sum(r.values()) != total)
    return {"total": total, "final_total": final_total, "reads": len(reads),
            "intermediate_reads": off}


def _client_claims(run, prefix: str) -> list:
    """``(txn, status, t_complete, process)`` of every answered transfer."""
    h = run.history
    t = h[(h["f"] == "transfer") & h["status"].isin(["ok", "fail"])]
    return [(f"{prefix}{op}", st, tc, p) for op, st, tc, p in
            zip(t["op_id"], t["status"].astype(str), t["t_complete"], t["process"])]


def _verdict(props, violations, info, pending, run, family) -> Verdict:
    info["quiescent"] = not pending
    rec = recovery_times(run)
    r = rec.iloc[0]
    prop = PROGRESS[family]
    info["recovery"] = {k: (None if isinstance(v, float) and v != v else v)
                        for k, v in r.items()}
    for row in rec.attrs["late"]:
        violations.append(_v(prop, row[1], (row[2],), row[3]))
    if not r["judged"]:
        info["progress"] = (f"not judged: {r['why']}")
    status = None
    if pending and not violations:
        status = "unknown"
        shown = ", ".join(pending[:5]) + (" …" if len(pending) > 5 else "")
        info["reason"] = (f"the run ended before quiescence ({len(pending)} in flight: "
                          f"{shown}); conservation is checked only at quiescence — "
                          f"lengthen the fault-free tail (drain)")
    return Verdict(props, violations, status=status, info=info, kinds={prop: "progress"})


def _grace(run, family) -> float:
    p = run.params
    if family == "twopc":
        step = max(float(p.get("inquire_interval", 0.05)), float(p.get("resend_interval", 0.05)),
                   float(p.get("vote_timeout", 0.05)))
    else:
        step = float(p.get("retry_interval", 0.05))
    return 20 * step


def recovery_times(run, *, grace: float | None = None) -> pd.DataFrame:
    """How long transactions stayed undecided after the last fault healed, and whether
    the progress property held.

    The **fairness condition** is that every fault is over and every node of the
    protocol is up (:func:`dsalgo.check.verdict.fair_from` over ``tm`` or ``orch`` and
    the shards, all of them needed): 2PC blocks while its coordinator is down, with
    either termination protocol (cooperative termination resolves only the transactions
    that some participant had not voted yes on), so its progress cannot be promised
    before ``tm`` is back; a saga's steps need their service.  From then on:

    - ``decision_progress`` (2PC): every participant that voted yes on a transaction
      learns the outcome within ``grace`` of the heal (or of its vote, if later);
    - ``saga_progress`` (sagas): every saga that began ends, committed or fully
      compensated (semantic atomicity says which), within ``grace``.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A run of :mod:`dsalgo.txn.twopc` or :mod:`dsalgo.txn.saga`.
    grace : float, optional
        Seconds allowed (default 20 resend intervals: ``inquire_interval``,
        ``resend_interval`` or ``vote_timeout`` for 2PC, whichever is longest, and
        ``retry_interval`` for sagas).

    Returns
    -------
    DataFrame
        One row: ``t_heal`` (NaN when the condition never holds), ``pending`` (how many
        prepared participants, or sagas, were still undecided at ``t_heal``),
        ``t_decided`` (when the last of them was decided), ``undecided`` (``t_decided -
        t_heal``: how long transactions stayed in doubt after the fault; 0 when none
        was), ``late`` (how many exceeded ``grace``), ``judged``, ``grace`` and ``why``
        (why it was not judged).

    Examples
    --------
    >>> from dsalgo import txn
    >>> from dsalgo.txn import scenarios
    >>> r = recovery_times(scenarios.coordinator_crash(down=0.3), grace=0.3).iloc[0]
    >>> float(r["t_heal"]), int(r["pending"]), round(float(r["undecided"]), 3), bool(r["judged"])
    (0.325, 3, 0.015, True)
    """
    family = family_of(run)
    if family not in PROGRESS:
        raise ValueError(f"run must come from txn.twopc or txn.saga; got family {family!r}")
    grace = _grace(run, family) if grace is None else float(grace)
    nan = float("nan")
    row = {"t_heal": nan, "pending": 0, "t_decided": nan, "undecided": nan, "late": 0,
           "judged": False, "grace": grace, "why": ""}
    ev = run.events
    kinds = ev["kind"].astype(str) if len(ev) else pd.Series([], dtype=object)
    shards = sorted(set(ev.loc[kinds == "init", "node"].astype(str)))
    if family == "twopc":
        from .metrics import blocking_times
        b = blocking_times(run)
        # a participant that lost its prepared record in a crash (a safety violation,
        # atomicity) no longer waits for the outcome: it is not judged here
        rec = ev[(kinds == "recover") & (ev["node"].astype(str) != "tm")]
        recovered = [(t, str(n), set(d)) for t, n, d in
                     zip(rec["time"], rec["node"], rec.get("in_doubt", [()] * len(rec)))]
        items = [(f"{t}@{n}", n, tp, td) for t, n, tp, td in
                 zip(b["txn"], b["node"], b["t_prepared"], b["t_decided"])
                 if not any(rn == n and tp < rt and not td <= rt and t not in d
                            for rt, rn, d in recovered)]
        servers = ["tm"] + shards
    else:
        # a run in which no saga began (every request lost) has no "saga" column
        items = []
        if "saga" in ev.columns:
            begun = ev[kinds == "saga_begin"]
            ends = ev[kinds == "saga_end"].drop_duplicates("saga")
            end_at = dict(zip(ends["saga"], ends["time"]))
            items = [(str(sid), str(node), float(t), end_at.get(sid, nan))
                     for sid, node, t in zip(begun["saga"], begun["node"], begun["time"])]
        servers = (["orch"] if "orch" in set(ev["node"].astype(str)) else []) + shards
    late = []
    t_heal = fair_from(run.faults, servers, len(servers), run.until)
    if t_heal is None:
        row["why"] = ("the fairness condition never held (a fault that never ends, or a "
                      "node down for good" + (": 2PC blocks while tm is down" if family ==
                                              "twopc" else "") + ")")
        out = pd.DataFrame([row])
        out.attrs["late"] = late
        return out
    row["t_heal"] = t_heal
    row["judged"] = run.until - t_heal >= grace
    if not row["judged"]:
        row["why"] = (f"the run ended {run.until - t_heal:.3g}s after every fault healed, "
                      f"less than grace ({grace:.3g}s)")
    pending = [(k, n, tp, td) for k, n, tp, td in items if not td <= t_heal]
    row["pending"] = len(pending)
    decided = [td for _, _, _, td in pending if td == td]
    row["t_decided"] = max(decided) if len(decided) == len(pending) and pending else (
        nan if pending else t_heal)
    row["undecided"] = row["t_decided"] - t_heal
    for k, node, tp, td in pending:
        start = max(tp, t_heal)
        if run.until - start < grace or td - start <= grace:
            continue
        if family == "twopc":
            head = f"{k}: {node} voted yes at t={tp:.6g}s and "
        else:
            head = f"{k}: it began at t={tp:.6g}s and "
        tail = ("never " + ("learnt the outcome" if family == "twopc" else "ended")
                if td != td else
                ("learnt the outcome" if family == "twopc" else "ended") + f" only at "
                f"t={td:.6g}s,")
        late.append((k, start + grace, node,
                     f"{head}{tail} though every fault had healed at t={t_heal:.6g}s "
                     f"(grace {grace:.3g}s)"))
    row["late"] = len(late)
    out = pd.DataFrame([row])
    out.attrs["late"] = late
    return out


# ------------------------------------------------------------------ two-phase commit
def _check_twopc(run) -> Verdict:
    ev = _split(run.events)
    violations = []
    begun = {txn: parts for _, _, _, txn, parts in _rows(ev, "begin", ["txn", "participants"])}
    decided = defaultdict(list)                            # txn -> [(seq, time, outcome)]
    for seq, t, _, txn, outcome, votes in _rows(ev, "decide", ["txn", "outcome", "votes"]):
        # None: not recorded (an imported run); any sequence (tuple, list, array) counts
        heard = None if votes is None or isinstance(votes, (str, float)) else set(votes)
        decided[txn].append((seq, t, outcome, heard))
    yes = {}                                               # (txn, node) -> seq of the yes vote
    for seq, t, node, txn, v in _rows(ev, "vote", ["txn", "yes"]):
        if v:
            yes[(txn, node)] = (seq, t)
    outcome_at = defaultdict(dict)                         # txn -> {node: (kind, seq, time)}
    both = defaultdict(dict)                               # txn -> {node: time of the 2nd}
    for kind in ("commit", "abort"):
        for seq, t, node, txn in _rows(ev, kind, ["txn"]):
            first = outcome_at[txn].setdefault(node, (kind, seq, t))
            if first[0] != kind:                           # one node, both outcomes
                both[txn][node] = max(t, first[2])
    recovered = defaultdict(list)                          # node -> [(seq, in_doubt)]
    for seq, _, node, in_doubt in _rows(ev, "recover", ["in_doubt"]):
        if node != "tm":
            recovered[node].append((seq, set(in_doubt)))

    # In doubt at the end: voted yes, no outcome, and the prepared record still held.
    in_doubt, forgot = set(), set()
    for (txn, node), (seq, _) in yes.items():
        if node in outcome_at.get(txn, {}):
            continue
        later = [d for s, d in recovered.get(node, []) if s > seq]
        (forgot if later and txn not in later[-1] else in_doubt).add((txn, node))

    committed = aborted = 0
    for txn in sorted(set(begun) | set(decided) | set(outcome_at)):
        parts = begun.get(txn, ())
        decs = decided.get(txn, [])
        at = outcome_at.get(txn, {})
        commits = sorted(n for n, o in at.items() if o[0] == "commit")
        aborts = sorted(n for n, o in at.items() if o[0] == "abort")
        for node, t_both in sorted(both.get(txn, {}).items()):
            violations.append(_v("atomicity", t_both, (node,),
                                 f"{txn}: {node} both committed and aborted"))
        if len({d[2] for d in decs}) > 1:
            violations.append(_v("atomicity", decs[-1][1], ("tm",),
                                 f"{txn}: tm decided both commit and abort"))
        said_commit = [d for d in decs if d[2] == "commit"]
        if commits and aborts:
            violations.append(_v("atomicity", max(o[2] for o in at.values()), commits + aborts,
                                 f"{txn}: {', '.join(commits)} committed but "
                                 f"{', '.join(aborts)} aborted"))
        if said_commit:
            committed += 1
            seq_c, t_c, _, heard = said_commit[0]
            # An aborted participant is already reported above when another committed;
            # when none did, the abort itself contradicts tm's commit decision.
            missing = [p for p in parts if p not in commits and (txn, p) not in in_doubt
                       and (p not in aborts or not commits)]
            if missing:
                why = ["aborted" if p in aborts
                       else "lost its prepared record in a crash" if (txn, p) in forgot
                       else "never committed" for p in missing]
                violations.append(_v("atomicity", run.until, tuple(missing),
                                     f"{txn}: tm decided commit but " + "; ".join(
                                         f"{p} {w}" for p, w in zip(missing, why))))
            late = [p for p in parts if (txn, p) not in yes or yes[(txn, p)][0] > seq_c]
            unheard = [p for p in parts if p not in late and heard is not None
                       and p not in heard]
            if late or unheard:
                why = ([f"{', '.join(late)} voted yes"] if late else []) + (
                    [f"it had received the yes vote of {', '.join(unheard)}"] if unheard
                    else [])
                violations.append(_v("commit_validity", t_c, ("tm",) + tuple(late + unheard),
                                     f"{txn}: tm decided commit at t={t_c:.6g}s before "
                                     + " and before ".join(why)))
        else:
            if decs or aborts:
                aborted += 1
            if commits:
                violations.append(_v("atomicity", at[commits[0]][2], tuple(commits),
                                     f"{txn}: {', '.join(commits)} committed but tm never "
                                     f"decided commit"))
    for txn, status, t, proc in _client_claims(run, "t"):
        said = [d[2] for d in decided.get(txn, [])]
        if status == "ok" and "commit" not in said:
            violations.append(_v("atomicity", t, (proc,),
                                 f"{txn}: client was told committed but tm never decided commit"))
        if status == "fail" and ("commit" in said or any(
                o[0] == "commit" for o in outcome_at.get(txn, {}).values())):
            violations.append(_v("atomicity", t, (proc,),
                                 f"{txn}: client was told aborted but "
                                 + ("tm decided commit" if "commit" in said
                                    else "it committed")))

    blocked = [at[node][2] - t for (txn, node), (_, t) in yes.items()
               if node in (at := outcome_at.get(txn, {}))]
    pending = sorted(f"{txn}@{node}" for txn, node in in_doubt)
    info = {"transactions": len(begun), "committed": committed, "aborted": aborted,
            "in_doubt": len(in_doubt),
            "blocking_mean": sum(blocked) / len(blocked) if blocked else 0.0,
            "blocking_max": max(blocked, default=0.0)}
    committed_txns = {txn for txn, decs in decided.items()
                      if any(d[2] == "commit" for d in decs)}
    info.update(_replay(run, ev, committed_txns, not pending, violations))
    # without the legs of every committed transaction (a run without its history), the
    # replay is partial: the total is judged as well
    info.update(_bank(run, ev, not pending, violations,
                      replayed=info["replay_unknown"] == 0))
    _isolation(run, violations)
    return _verdict(TWOPC_PROPERTIES, violations, info, pending, run, "twopc")


def _isolation(run, violations) -> None:
    """Serializability and no negative balance (2PC with locks promises both)."""
    from .isolation import anomalies, bank_transactions, invariants
    for r in anomalies(bank_transactions(run)).itertuples(index=False):
        violations.append(_v("serializability", r.time, r.txns, f"{r.anomaly}: {r.detail}"))
    inv = invariants(run)
    for r in inv[inv["property"] == "no_negative_balance"].itertuples(index=False):
        violations.append(_v(r.property, r.time, r.nodes, r.detail))


def _v(prop, time, nodes, detail) -> dict:
    return dict(property=prop, time=float(time), nodes=tuple(nodes), detail=detail)


# ------------------------------------------------------------------ sagas
def _check_saga(run) -> Verdict:
    ev = _split(run.events)
    violations = []
    steps_of = {sid: int(n) for _, _, _, sid, n in _rows(ev, "saga_begin", ["saga", "steps"])}
    ended = defaultdict(list)
    for seq, t, node, sid, outcome in _rows(ev, "saga_end", ["saga", "outcome"]):
        ended[sid].append((seq, t, outcome, node))
    applied = defaultdict(list)                            # (saga, step) -> [(seq, t, node, acct)]
    for seq, t, node, sid, step, ok, acct in _rows(ev, "step", ["saga", "step", "ok", "account"]):
        if ok:
            applied[(sid, int(step))].append((seq, t, node, acct))
    comps = defaultdict(list)
    overdrafts = 0
    for seq, t, node, sid, step, acct, bal in _rows(ev, "compensate",
                                                    ["saga", "step", "account", "balances"]):
        comps[(sid, int(step))].append((seq, t, node, acct))
        overdrafts += bal[acct] < 0

    violations += _step_overdrafts(run.events)
    for what, table in (("applied", applied), ("compensated", comps)):
        for (sid, step), rows in table.items():
            if len(rows) > 1:
                violations.append(_v("semantic_atomicity", rows[1][1], (rows[1][2],),
                                     f"{sid}: step {step} {what} {len(rows)} times"))
            if sid not in steps_of:
                violations.append(_v("semantic_atomicity", rows[0][1], (rows[0][2],),
                                     f"{sid}: step {step} {what} for a saga that never began"))
    pending = []
    done = compensated = 0
    for sid in sorted(steps_of):
        n = steps_of[sid]
        did = sorted(j for (s, j) in applied if s == sid)
        undid = sorted(j for (s, j) in comps if s == sid)
        outs = ended.get(sid, [])
        if len({o[2] for o in outs}) > 1:
            violations.append(_v("semantic_atomicity", outs[-1][1], tuple(o[3] for o in outs),
                                 f"{sid}: ended both done and compensated"))
        if not outs:
            pending.append(sid)
            continue
        t_end, ender = outs[0][1], (outs[0][3],)
        if outs[0][2] == "done":
            done += 1
            if did != list(range(n)) or undid:
                violations.append(_v("semantic_atomicity", t_end, ender,
                                     f"{sid}: ended done with steps {did} applied and "
                                     f"{undid} compensated (expected all {n} applied, none "
                                     f"compensated)"))
        else:
            compensated += 1
            if did != undid:
                violations.append(_v("semantic_atomicity", t_end, ender,
                                     f"{sid}: ended compensated with steps {did} applied "
                                     f"but {undid} compensated"))
            order = sorted((comps[(sid, j)][0][0], j) for j in undid)
            ranks = [j for _, j in order]
            if ranks != sorted(ranks, reverse=True):
                violations.append(_v("compensation_order", t_end, ender,
                                     f"{sid}: compensations ran in step order {ranks}, "
                                     f"not in reverse"))
            for j in undid:
                if (sid, j) in applied and comps[(sid, j)][0][0] < applied[(sid, j)][0][0]:
                    violations.append(_v("compensation_order", comps[(sid, j)][0][1], ender,
                                         f"{sid}: step {j} compensated before it ran"))
    for txn, status, t, proc in _client_claims(run, "s"):
        outs = [o[2] for o in ended.get(txn, [])]
        want = "done" if status == "ok" else "compensated"
        if want not in outs:
            violations.append(_v("semantic_atomicity", t, (proc,),
                                 f"{txn}: client was told {'committed' if status == 'ok' else 'aborted'} "
                                 f"but the saga ended {outs[0] if outs else 'never'}"))
    info = {"sagas": len(steps_of), "sagas_done": done, "sagas_compensated": compensated,
            "compensations": sum(len(r) for r in comps.values()),
            "dirty_reads": _dirty_reads(applied, comps), "lost_updates": _lost_updates(run),
            "overdrafts": int(overdrafts)}
    info.update(_bank(run, ev, not pending, violations))
    return _verdict(SAGA_PROPERTIES, violations, info, pending, run, "saga")


def _step_overdrafts(events) -> list:
    """``no_negative_balance`` violations of a saga run: a successful step that lowered
    an account below zero (balances followed through every event that reports them, in
    event order)."""
    out = []
    if not len(events) or "balances" not in events.columns:
        return out
    ev = events.sort_values("seq", kind="stable")
    last: dict = {}
    cols = [ev[c].tolist() if c in ev.columns else [None] * len(ev)
            for c in ("time", "node", "kind", "balances", "saga", "step", "ok", "account")]
    for t, node, kind, bal, sid, step, ok, acct in zip(*cols, strict=True):
        if not isinstance(bal, dict):
            continue
        if str(kind) == "step" and ok is not None and ok == ok and bool(ok) and acct in bal:
            new, before = bal[acct], last.get(acct)
            if new < 0 and before is not None and new < before:
                out.append(_v("no_negative_balance", t, (str(node),),
                              f"{sid}: step {int(step)} took account {acct} from {before} "
                              f"to {new}"))
        last.update(bal)
    return out


def _lost_updates(run) -> int:
    """Compensations whose effect was not the exact opposite of their step's effect.

    Replays the balances the shards reported, in order: a step's effect is its new balance
    minus the account's balance before it; a compensation that does not move the balance
    by minus that amount overwrote (lost) updates made in between.
    """
    ev = run.events
    if "balances" not in ev.columns:
        return 0
    rows = ev[ev["kind"].isin(["init", "step", "compensate"]) & ev["balances"].notna()]
    cols = [rows[c].tolist() if c in rows.columns else [None] * len(rows)
            for c in ("kind", "saga", "step", "account", "balances")]
    last, effect, lost = {}, {}, 0
    for kind, sid, step, acct, bal in zip(*cols):
        if kind == "init":
            last.update(bal)
            continue
        prev, new = last.get(acct, 0), bal[acct]
        if kind == "step":
            effect[(sid, int(step))] = new - prev
        elif (sid, int(step)) in effect and new - prev != -effect[(sid, int(step))]:
            lost += 1
        last[acct] = new
    return lost


def _dirty_reads(applied, comps) -> int:
    """Steps applied to an account between another saga's step on it and its compensation."""
    by_account = defaultdict(list)                         # account -> [(seq, saga)]
    for (sid, _), rows in applied.items():
        for seq, _, _, acct in rows:
            by_account[acct].append((seq, sid))
    count = 0
    for (sid, step), rows in comps.items():
        first = applied.get((sid, step))
        if not first:
            continue
        lo, hi, acct = first[0][0], rows[0][0], first[0][3]
        count += sum(1 for seq, other in by_account[acct] if lo < seq < hi and other != sid)
    return count
