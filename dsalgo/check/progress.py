"""The "leader, then commit" progress property that Raft and Multi-Paxos share.

Both families judge progress the same way once the fairness condition holds (every fault
healed, enough servers up, see :func:`dsalgo.check.verdict.fair_from`): within ``grace``
seconds an up leader of the newest term or round exists, and, if clients asked for work
after the heal, a command takes effect within ``grace`` of the first such request.  Each
family walks its own events to find those instants (:func:`raft.recovery_times`,
:func:`paxos.recovery_times`); these two functions turn the instants into the recovery row
and the verdict, so the rule and its wording are written once.
"""

from __future__ import annotations

import math

from .verdict import Verdict, plain

__all__ = ["close_recovery", "leader_progress_verdict"]


def close_recovery(row: dict, *, t_heal: float, t_leader, t_commit, t_work: float) -> dict:
    """Fill ``row`` with the leader and commit instants and the recovery they give.

    ``row`` has ``work`` (whether clients asked for work after the heal); ``t_leader`` and
    ``t_commit`` are ``None`` when they never happened.  Sets ``t_leader``, ``t_commit``,
    ``t_work``, and, when everything required happened, ``recovery`` (from the heal to the
    last of them) and ``late`` (the longest of the two waits the grace bounds).

    Examples
    --------
    >>> close_recovery({"work": True}, t_heal=1.0, t_leader=1.25, t_commit=1.5, t_work=1.25)
    {'work': True, 't_leader': 1.25, 't_commit': 1.5, 't_work': 1.25, 'recovery': 0.5, 'late': 0.25}
    """
    if t_leader is not None:
        row["t_leader"] = t_leader
    if t_commit is not None:
        row["t_commit"] = t_commit
    row["t_work"] = t_work if row["work"] else math.nan
    done = [t_leader] + ([t_commit] if row["work"] else [])
    if all(x is not None for x in done):
        row["recovery"] = max(done) - t_heal
        row["late"] = max(t_leader - t_heal, (t_commit - t_work) if row["work"] else 0.0)
    return row


def leader_progress_verdict(r, prop: str, *, faulty: bool, no_leader: str, no_work: str,
                            condition: str) -> Verdict:
    """The progress verdict of one recovery row ``r`` (as ``recovery_times`` gives).

    ``no_leader`` / ``no_work`` say what was missing in the family's words, ``condition``
    the fairness condition ("a majority up", "quorums up"), ``faulty`` whether the run had
    faults at all.

    Examples
    --------
    >>> r = {"judged": True, "late": 3.0, "grace": 1.0, "t_heal": 2.0, "t_leader": 2.5}
    >>> v = leader_progress_verdict(r, "leader_and_commit", faulty=True,
    ...                             no_leader="no leader", no_work="no commit",
    ...                             condition="a majority up")
    >>> v.violations["detail"].iloc[0]
    'no commit within 1s of the last fault healing at t=2s with a majority up'
    """
    info = {"recovery": plain(r)}
    rows = []
    if r["judged"] and not (r["late"] <= r["grace"]):
        what = (no_leader if math.isnan(r["t_leader"]) or r["t_leader"] - r["t_heal"] > r["grace"]
                else no_work)
        rows.append({"property": prop, "time": float(r["t_heal"] + r["grace"]), "nodes": (),
                     "detail": f"{what} within {r['grace']:.6g}s of "
                     + (f"the last fault healing at t={r['t_heal']:.6g}s with {condition}"
                        if faulty else "the start of a run without faults")})
    elif not r["judged"]:
        info["progress"] = (f"not judged: the fairness condition (every fault healed, "
                            f"{condition}) never held for grace seconds before the run ended")
    return Verdict([prop], rows, info=info, kinds={prop: "progress"})
