"""Checking a lock run from its tables: mutual exclusion, storage safety, herd size.

Everything here reads only ``run.events`` and ``run.messages`` (global, real times), so it
works on a loaded run and does not care which lock produced it.

``mutual_exclusion``
    No two clients *believe* they hold the same lock at the same real time.  A belief is
    the interval from a client's ``acquire`` event to its next ``release``, ``expire`` or
    ``crash``; one still open when the run ends lasts to the end (and beyond).
``storage_safety``
    On the storage service (its ``write`` events, in the order it handled them): no
    accepted write carries a fencing token older than one accepted before, and no accepted
    write was computed from a version older than the current one (a *lost update*: it
    overwrote a write it never saw).
``fenced_exclusion`` (fenced runs only: the acquisitions carry tokens and the storage
    requests carry them)
    Mutual exclusion, excusing only the overlaps fencing is there for: an overlap counts
    as *excused* when the older holder was paused as the newer one acquired, or acquired
    as it woke from a pause (``pause`` events), or when the lock service recorded the
    expiry of the older holder's lease before the newer one acquired (a ``znode_deleted``
    event of its lock
    node with a reason other than ``release``: its session expired).  Every other overlap
    is a violation: a lock that lets two clients in while neither was paused nor expired
    is broken, fencing or not.  ``info["overlaps"]`` counts the overlaps in every run,
    excused and unexcused (and the excuses); :func:`overlaps` lists them.
``lock_progress`` (a *progress* property)
    Under the fairness condition — every fault over and a majority of the lock servers up
    (:func:`dsalgo.check.verdict.fair_from`; a client that crashed for good does not spoil
    it: that is the holder crash whose cost we measure), and, for the single-server
    ZooKeeper service (``ensemble=False``), whose leader ``n1`` is fixed and never
    replaced, that leader up too (it is down while ``n1`` is, majority or not) — a client
    waiting for the lock acquires it within ``grace`` of the heal (or of its request, if
    later).
    :func:`recovery_times` gives how long the lock was unavailable after the last fault.
    Mutual exclusion does not promise fairness between clients, so the property asks that
    *some* waiting client acquire, not each — and not only once: at no time from the
    heal on may a client wait ``grace`` seconds with no acquisition (a lock had once
    after the heal that then deadlocks breaks it too).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..check import Verdict
from ..check.verdict import fair_from, plain

__all__ = ["FENCED", "PROGRESS", "PROPERTIES", "acquisition_waits", "check", "handovers",
           "herd", "holding_intervals", "overlaps", "recovery_times"]

PROPERTIES = ("mutual_exclusion", "storage_safety")
#: The safety property judged in fenced runs besides :data:`PROPERTIES`.
FENCED = "fenced_exclusion"
#: The progress property, checked under the fairness condition.
PROGRESS = "lock_progress"

_INTERVAL_COLUMNS = ["client", "lock", "token", "t_acquire", "t_end", "end", "znode"]
_OVERLAP_COLUMNS = ["lock", "older", "newer", "t_start", "t_end", "older_acquire", "excuse",
                    "t_excuse"]


def _tables(run):
    for name in ("events", "messages"):
        if not isinstance(getattr(run, name, None), pd.DataFrame):
            raise TypeError(f"run must be a dsalgo.sim.Run (with DataFrame tables); "
                            f"got {run!r}")
    return run.events


def _col(df, name):
    return df[name] if name in df.columns else pd.Series([None] * len(df), index=df.index,
                                                          dtype=object)


def holding_intervals(run) -> pd.DataFrame:
    """One row per time a client believed it held a lock.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A lock run (live or loaded).

    Returns
    -------
    DataFrame
        ``client, lock, token, t_acquire, t_end, end, znode`` where ``end`` says what ended
        the belief (``release``, ``expire``, ``crash`` or ``open`` when the run ended first,
        with ``t_end`` NaN) and ``znode`` is the lock node a ZooKeeper client held (None
        for other locks).

    Examples
    --------
    >>> from dsalgo import locks
    >>> run = locks.redlock.simulate(n=3, seed=1, duration=0.3)
    >>> locks.holding_intervals(run).iloc[0][["client", "end"]].tolist()
    ['c1', 'release']
    """
    ev = _tables(run)
    if not len(ev):
        return pd.DataFrame({c: pd.Series([], dtype=d) for c, d in
                             zip(_INTERVAL_COLUMNS, [object, object, object, float, float,
                                                     object, object])})
    kinds = ev["kind"].astype(str)
    holders = set(ev.loc[kinds == "acquire", "node"].astype(str))
    sel = ev[kinds.isin(["acquire", "release", "expire", "crash"])
             & ev["node"].astype(str).isin(holders)].sort_values("seq")
    lock, token, znode = _col(sel, "lock"), _col(sel, "token"), _col(sel, "znode")
    rows, open_ = [], {}
    for t, node, kind, lk, tok, zn in zip(sel["time"], sel["node"].astype(str),
                                          sel["kind"].astype(str), lock, token, znode):
        if kind == "acquire":
            if node in open_:  # defensive: a new belief ends any previous one
                rows.append(_closed(open_.pop(node), t, "acquire"))
            open_[node] = [node, lk, None if _missing(tok) else tok, t,
                           None if _missing(zn) else str(zn)]
        elif node in open_:
            rows.append(_closed(open_.pop(node), t, kind))
    for row in open_.values():
        rows.append(_closed(row, math.nan, "open"))
    out = pd.DataFrame(rows, columns=_INTERVAL_COLUMNS)
    return out.sort_values(["t_acquire", "client"], kind="stable").reset_index(drop=True)


def _closed(row, t_end, end) -> list:
    """An open belief ``[client, lock, token, t_acquire, znode]`` as a finished row."""
    return row[:4] + [t_end, end, row[4]]


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _fmt_end(t):
    return "the end of the run" if math.isnan(t) else f"{t:.6g}s"


def _pairs(intervals: pd.DataFrame):
    """Every overlap of two clients' beliefs in one lock: ``(lock, older, newer, until)``
    with ``older``/``newer`` the interval rows (named tuples) and ``until`` the end of the
    overlap (``inf`` while both are open)."""
    for lk, grp in intervals.groupby("lock", sort=True, dropna=False):
        active: list = []  # (end, row) of beliefs not yet known to be over
        for row in grp.itertuples(index=False):
            start = row.t_acquire
            end_key = math.inf if math.isnan(row.t_end) else row.t_end
            active = [a for a in active if a[0] > start]
            for a_end, a_row in active:
                if a_row.client != row.client:
                    yield lk, a_row, row, min(a_end, end_key)
            active.append((end_key, row))


def _mutual_exclusion(pairs) -> list[dict]:
    out = []
    for lk, old, new, until in pairs:
        until = math.nan if math.isinf(until) else until
        out.append({
            "property": "mutual_exclusion", "time": new.t_acquire,
            "nodes": (old.client, new.client), "t_start": new.t_acquire, "t_end": until,
            "detail": (f"{old.client} believed it held {lk!r} from {old.t_acquire:.6g}s to "
                       f"{_fmt_end(old.t_end)} and {new.client} from {new.t_acquire:.6g}s "
                       f"to {_fmt_end(new.t_end)}; both held it from {new.t_acquire:.6g}s "
                       f"to {_fmt_end(until)}")})
    return out


def _excuses(ev: pd.DataFrame):
    """``excuse(older, newer) -> (reason, time)`` or ``None``: why the older holder's
    belief may outlive its lock (see :func:`overlaps`)."""
    kinds = ev["kind"].astype(str) if len(ev) else pd.Series([], dtype=object)
    pauses: dict = {}  # client -> [(start, end)] of its pauses
    p = ev[kinds == "pause"]
    for node, t, d in zip(p["node"].astype(str), p["time"], _col(p, "duration")):
        pauses.setdefault(node, []).append((float(t), float(t) + float(d)))
    deleted: dict = {}  # lock node -> when the service deleted it other than by a release
    d = ev[kinds == "znode_deleted"]
    for path, reason, t in zip(_col(d, "path"), _col(d, "reason"), d["time"]):
        if not _missing(path) and str(reason) != "release":
            deleted.setdefault(str(path), float(t))

    def excuse(old, new, start):
        for t, t_resume in pauses.get(old.client, ()):
            # paused when the newer grant began (it could not notice that its own had
            # lapsed), or its acquisition completed as it woke (on a reply that had waited
            # out the pause, about a lock it no longer had)
            if t <= start <= t_resume or t_resume == old.t_acquire:
                return "pause", t
        t = deleted.get(old.znode) if old.znode is not None else None
        if t is not None and t <= start:
            return "lease_expired", t
        return None
    return excuse


def overlaps(run) -> pd.DataFrame:
    """Every overlap of two clients' beliefs in a lock, and whether it is excused.

    The *older* holder is the one granted the lock first: the lower fencing token when
    both have one, else the earlier acquisition (a client paused during its acquisition
    may believe, on waking, in a grant older than the current holder's).  An overlap is
    *excused* when the older holder's belief outlived its lock for a reason recorded in
    the tables: the older holder was paused when the overlap began, or its acquisition
    completed only as it woke from a pause (``excuse="pause"``: it could not notice that
    its lock had lapsed), or the lock service expired its lease before the overlap began
    (``excuse="lease_expired"``:
    the ZooKeeper service deleted its lock node because its session expired).  Those are
    the overlaps a fencing token exists for; any other overlap means that the lock itself
    let two clients in.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A lock run (live or loaded).

    Returns
    -------
    DataFrame
        ``lock, older, newer, t_start, t_end, older_acquire, excuse, t_excuse``: one row per
        overlap (the same overlaps as the ``mutual_exclusion`` violations of
        :func:`check`); ``t_end`` is NaN when both beliefs were still open at the end,
        ``excuse`` None when none applies.

    Examples
    --------
    >>> from dsalgo import locks
    >>> locks.overlaps(locks.scenarios.zookeeper_session_expiry())[
    ...     ["older", "newer", "excuse"]].values.tolist()
    [['c1', 'c2', 'pause']]
    """
    ev = _tables(run)
    return _overlap_table(_pairs(holding_intervals(run)), _excuses(ev))


def _overlap_table(pairs, excuse) -> pd.DataFrame:
    rows = []
    for lk, old, new, until in pairs:
        start = new.t_acquire
        if old.token is not None and new.token is not None and new.token < old.token:
            old, new = new, old                         # the older grant is the lower token
        why = excuse(old, new, start)
        rows.append([lk, old.client, new.client, start,
                     math.nan if math.isinf(until) else until, old.t_acquire,
                     None if why is None else why[0], math.nan if why is None else why[1]])
    df = pd.DataFrame(rows, columns=_OVERLAP_COLUMNS)
    for c in ("t_start", "t_end", "older_acquire", "t_excuse"):
        df[c] = df[c].astype(float)
    return df


def _fenced(run, ev: pd.DataFrame, iv: pd.DataFrame) -> bool:
    """Whether the run is fenced: acquisitions carry tokens, and so do the storage's
    writes (every one of them; with no write at all, the run has no ``no_fencing`` bug)."""
    if not len(iv) or iv["token"].isna().all():
        return False
    w = ev[ev["kind"].astype(str) == "write"] if len(ev) else ev
    if len(w):
        return not _col(w, "token").isna().any()
    return "no_fencing" not in (run.params.get("bugs") or ())


def _fenced_exclusion(table: pd.DataFrame) -> list[dict]:
    out = []
    for r in table[table["excuse"].isna()].itertuples(index=False):
        out.append({"property": FENCED, "time": r.t_start, "nodes": (r.older, r.newer),
                    "t_start": r.t_start, "t_end": r.t_end,
                    "detail": (f"{r.older} (holder since {r.older_acquire:.6g}s) and "
                               f"{r.newer} both believed they held {r.lock!r} from "
                               f"{r.t_start:.6g}s, and {r.older}, the older grant, was "
                               f"neither paused nor expired by the lock service before: no "
                               f"excuse for the overlap")})
    return out


def _overlap_info(table: pd.DataFrame) -> dict:
    by = table["excuse"].value_counts().to_dict()
    return {"overlaps": len(table), "overlaps_excused": int(table["excuse"].notna().sum()),
            "overlaps_unexcused": int(table["excuse"].isna().sum()),
            "overlap_excuses": {str(k): int(v) for k, v in sorted(by.items())}}


def _storage_safety(ev: pd.DataFrame) -> tuple[list[dict], dict]:
    kinds = ev["kind"].astype(str) if len(ev) else pd.Series([], dtype=object)
    w = ev[kinds == "write"].sort_values("seq") if len(ev) else ev
    out, stats = [], {"writes_accepted": 0, "writes_rejected": 0}
    if not len(w):
        return out, stats
    versions: dict = {}   # key -> number of accepted writes so far
    writers: dict = {}    # key -> list of (client, time) of accepted writes, in order
    highest: dict = {}    # key -> (token, client, time) of the highest accepted token
    for t, node, client, key, tok, acc, rv in zip(
            w["time"], w["node"].astype(str), _col(w, "client"), _col(w, "key"),
            _col(w, "token"), _col(w, "accepted"), _col(w, "read_version")):
        if not bool(acc):
            stats["writes_rejected"] += 1
            continue
        stats["writes_accepted"] += 1
        if not _missing(tok):
            best = highest.get(key)
            if best is not None and tok < best[0]:
                out.append({"property": "storage_safety", "time": t,
                            "nodes": (client, best[1]),
                            "detail": (f"{node} accepted {client}'s write with token {tok} "
                                       f"after {best[1]}'s write with newer token {best[0]} "
                                       f"at {best[2]:.6g}s")})
            if best is None or tok >= best[0]:
                highest[key] = (tok, client, t)
        current = versions.get(key, 0)
        if not _missing(rv) and int(rv) != current:
            lost = writers.get(key, [])[int(rv):current]
            who = ", ".join(f"{c} at {tt:.6g}s" for c, tt in lost)
            out.append({"property": "storage_safety", "time": t,
                        "nodes": tuple(dict.fromkeys([client] + [c for c, _ in lost])),
                        "detail": (f"lost update on {key!r}: {client}'s write was computed "
                                   f"from version {int(rv)} but version {current} was "
                                   f"current; it overwrote the write(s) of {who}")})
        versions[key] = current + 1
        writers.setdefault(key, []).append((client, t))
    return out, stats


def handovers(run) -> int:
    """How many acquisitions went to a different client than the previous one.

    Examples
    --------
    >>> from dsalgo import locks
    >>> run = locks.redlock.simulate(n=3, clients=3, seed=1, duration=1.0)
    >>> locks.handovers(run) > 0
    True
    """
    return _handovers(holding_intervals(run))


def _handovers(iv: pd.DataFrame) -> int:
    n = 0
    for _, grp in iv.groupby("lock", sort=True, dropna=False):
        c = grp["client"].to_numpy()
        n += int((c[1:] != c[:-1]).sum())
    return n


def check(run, *, grace: float | None = None) -> Verdict:
    """Check the safety properties of a lock run, mutual exclusion and storage safety, and
    its progress after faults heal.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A run of :func:`dsalgo.locks.redlock.simulate`,
        :func:`dsalgo.locks.zookeeper.simulate` or any run whose clients emit
        ``acquire``/``release``/``expire`` events and whose storage emits ``write`` events.
    grace : float, optional
        Seconds within which a waiting client must acquire once the fairness condition
        holds (default from ``run.params``: 3 session timeouts or TTLs plus the critical
        section and think time).

    Returns
    -------
    dsalgo.check.Verdict
        Properties ``mutual_exclusion`` and ``storage_safety`` (safety), in a fenced run
        also ``fenced_exclusion`` (safety: every overlap excused, see the module
        docstring; ``info["fenced_exclusion"]`` says how many were excused and why), and
        ``lock_progress`` (progress; ``info["recovery"]`` is the row of
        :func:`recovery_times`, ``info["progress"]`` says when it was not judged).  A
        mutual-exclusion
        violation names both clients and has the overlap in columns ``t_start, t_end``.
        ``info`` counts ``acquisitions``, ``handovers``, ``contended`` (failed attempts or
        waits), ``expired``, ``writes_accepted``, ``writes_rejected``, ``overlaps``,
        ``overlaps_excused``, ``overlaps_unexcused`` and ``overlap_excuses`` (excuse →
        count), and says whether the run is ``fenced``.

    Examples
    --------
    >>> from dsalgo import locks
    >>> v = locks.check(locks.scenarios.redlock_pause())
    >>> v.holds("mutual_exclusion"), v.violations.loc[0, "nodes"]
    (False, ('c1', 'c2'))

    A fenced run judges mutual exclusion too, excusing the paused holder:

    >>> v = locks.check(locks.scenarios.zookeeper_session_expiry())
    >>> v.holds("mutual_exclusion"), v.holds("fenced_exclusion"), v.info["overlaps_excused"]
    (False, True, 1)
    """
    ev = _tables(run)
    iv = holding_intervals(run)
    pairs = list(_pairs(iv))
    violations = _mutual_exclusion(pairs)
    store, stats = _storage_safety(ev)
    violations += store
    table = _overlap_table(pairs, _excuses(ev))
    fenced = _fenced(run, ev, iv)
    if fenced:
        violations += _fenced_exclusion(table)
    kinds = ev["kind"].astype(str) if len(ev) else pd.Series([], dtype=object)
    info = dict(acquisitions=len(iv), handovers=_handovers(iv),
                contended=int(kinds.isin(["acquire_failed", "wait"]).sum()),
                expired=int((iv["end"] == "expire").sum()), **stats, fenced=fenced,
                **_overlap_info(table))
    if fenced:
        info[FENCED] = (f"{info['overlaps']} overlap(s) of beliefs: "
                        f"{info['overlaps_excused']} excused (the older holder paused or "
                        f"its lease expired: {info['overlap_excuses'] or 'none'}), "
                        f"{info['overlaps_unexcused']} unexcused")
    df = pd.DataFrame(violations, columns=["property", "time", "nodes", "detail", "t_start",
                                           "t_end"])
    df["t_start"] = df["t_start"].astype(float)
    df["t_end"] = df["t_end"].astype(float)
    safety = Verdict(PROPERTIES + ((FENCED,) if fenced else ()), df, info=info)
    r = recovery_times(run, grace=grace).iloc[0]
    info = {"recovery": plain(r)}
    rows = []
    if r["judged"] and not (r["t_acquire"] - r["t_wait"] <= r["grace"]):
        rows.append({"property": PROGRESS, "time": float(r["t_wait"] + r["grace"]),
                     "nodes": (), "t_start": float(r["t_wait"]),
                     "t_end": float(r["t_wait"] + r["grace"]),
                     "detail": f"a client waited from t={r['t_wait']:.6g}s and none acquired "
                               f"within {r['grace']:.6g}s, though every fault had healed at "
                               f"t={r['t_heal']:.6g}s with a majority of servers up"})
    elif r["judged"] and r["longest_stall"] > r["grace"]:
        t0 = float(r["t_stall"])
        rows.append({"property": PROGRESS, "time": t0 + float(r["grace"]), "nodes": (),
                     "t_start": t0, "t_end": t0 + float(r["longest_stall"]),
                     "detail": f"from t={t0:.6g}s a client waited and none acquired for "
                               f"{r['longest_stall']:.6g}s (more than {r['grace']:.6g}s), "
                               f"though every fault had healed at t={r['t_heal']:.6g}s "
                               f"with a majority of servers up"})
    elif not r["judged"]:
        info["progress"] = ("not judged: the fairness condition (faults healed, a majority "
                            "of servers up, a client waiting) did not hold for grace seconds")
    prog = Verdict([PROGRESS], pd.DataFrame(rows, columns=list(df.columns)) if rows else None,
                   info=info, kinds={PROGRESS: "progress"})
    return safety.merge(prog)


def _grace(run, grace) -> float:
    if grace is not None:
        return float(grace)
    p = run.params
    lease = p.get("session_timeout", p.get("ttl", 1.0))
    think = p.get("think", 0.0)
    think = max(think) if isinstance(think, (tuple, list)) else float(think or 0.0)
    return 3 * float(lease) + float(p.get("critical_section", 0.05) or 0.0) + think


def _fixed_leader(run, servers) -> str | None:
    """The server without which a run's lock service is down whatever the majority, or
    None: the single-server ZooKeeper service (``ensemble=False``) has a fixed leader and
    no leader election, so no client is served while that leader is down."""
    p = getattr(run, "params", None) or {}
    if p.get("family") != "zookeeper" or p.get("ensemble", False):
        return None
    from .zkservice import LEADER
    return LEADER if LEADER in servers else None


def recovery_times(run, *, grace: float | None = None) -> pd.DataFrame:
    """How long the lock was unavailable after the last fault: from the instant the
    fairness condition holds and a client waits to the next acquisition.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A lock run.
    grace : float, optional
        As for :func:`check`.

    Returns
    -------
    DataFrame
        One row: ``t_heal`` (every fault over, a majority of servers up, and the fixed
        leader of the single-server ZooKeeper service among them; NaN if never),
        ``t_wait`` (first instant from ``t_heal`` on with an up client waiting),
        ``t_acquire`` (the first acquisition from then on), ``unavailable``
        (``t_acquire - t_heal``: how long the lock could not be had after the fault),
        ``judged`` (the condition lasted ``grace`` seconds with a client waiting),
        ``grace``, and ``longest_stall`` from ``t_stall`` (the longest stretch from
        ``t_heal`` on in which a client waited and none acquired, to the next acquisition
        or the end of the run: a lock that is had once after the heal and then deadlocks
        shows here, not in ``unavailable``).

    Examples
    --------
    The holder crashes for good; its session must expire before the other client gets
    the lock:

    >>> from dsalgo import locks, sim
    >>> def after_crash(bugs=()):
    ...     return locks.zookeeper.simulate(clients=2, seed=1, duration=5.0, bugs=bugs,
    ...                                     critical_section=0.3,
    ...                                     faults=[sim.Crash("c1", at=0.1)])
    >>> r = locks.recovery_times(after_crash()).iloc[0]
    >>> bool(r["judged"]), bool(0.9 < r["unavailable"] < 1.5)      # the session timeout
    (True, True)
    >>> bool(locks.check(after_crash({"ephemeral_survives_expiry"})).progress)
    False
    """
    grace = _grace(run, grace)
    ev = _tables(run)
    nan = float("nan")
    row = {"t_heal": nan, "t_wait": nan, "t_acquire": nan, "unavailable": nan,
           "judged": False, "grace": grace, "longest_stall": 0.0, "t_stall": nan}
    kinds = ev["kind"].astype(str) if len(ev) else pd.Series([], dtype=object)
    clients = set(ev.loc[kinds.isin(["request", "acquire"]), "node"].astype(str))
    nodes = set(map(str, run.nodes)) if getattr(run, "nodes", None) else set(
        ev["node"].dropna().astype(str))
    servers = sorted(n for n in nodes - clients if n != "storage")
    if not servers:
        return pd.DataFrame([row])
    t_heal = fair_from(run.faults, servers, len(servers) // 2 + 1, run.until)
    leader = _fixed_leader(run, servers)
    if leader is not None and t_heal is not None:
        # the fixed leader crashed for good: the service never comes back
        t_heal = fair_from(run.faults, [leader], 1, run.until)
    if t_heal is None:
        return pd.DataFrame([row])
    row["t_heal"] = t_heal
    sel = ev[kinds.isin(["request", "acquire", "crash", "restart"]) &
             ev["node"].astype(str).isin(clients)].sort_values("seq", kind="stable")
    waiting: set = set()
    t_wait = t_acq = None
    stall = None                     # start of the stretch with a client waiting and no
    worst = (0.0, nan)               # acquisition since (from t_heal on); the longest
    for time, node, kind in zip(sel["time"], sel["node"].astype(str), sel["kind"].astype(str)):
        time = float(time)
        if t_wait is None and time > t_heal and waiting:
            t_wait = t_heal
        if kind == "request":
            waiting.add(node)
        elif kind in ("acquire", "crash", "restart"):
            waiting.discard(node)
            if kind == "acquire" and t_wait is not None and t_acq is None:
                t_acq = time
            if kind == "acquire" and stall is not None and time - stall > worst[0]:
                worst = (time - stall, stall)
            if kind == "acquire" or not waiting:
                stall = None
        if waiting and stall is None:
            stall = max(time, t_heal)
        if t_wait is None and time >= t_heal and waiting:
            t_wait = time
    if t_wait is None and waiting:
        t_wait = t_heal
    if waiting and stall is not None and run.until - stall > worst[0]:
        worst = (run.until - stall, stall)    # still waiting at the end
    if t_wait is not None:
        row["t_wait"] = t_wait
        row["judged"] = run.until - t_wait >= grace
    if t_acq is not None:
        row["t_acquire"] = t_acq
        row["unavailable"] = t_acq - t_heal
    row["longest_stall"], row["t_stall"] = worst
    return pd.DataFrame([row])



def herd(run) -> pd.DataFrame:
    """Watch notifications per lock-node deletion in a ZooKeeper run (the herd effect).

    For each deletion of a lock znode (a release, or a session expiry) this counts the
    ``WatchedEvent`` messages the service sent at that instant (from ``run.messages``),
    and every message except session pings and the service's replication (``Ping``,
    ``Pong``, ``Proposal``, ``Ack``) sent from then until the next acquisition.  It needs
    the messages: a run simulated with ``record_messages=False`` is refused.

    Returns
    -------
    DataFrame
        ``time, client, reason, waiters, notifications, messages`` (``waiters``: lock
        znodes left after the deletion).

    Examples
    --------
    >>> from dsalgo import locks
    >>> def wakeups(bugs):
    ...     run = locks.zookeeper.simulate(clients=4, bugs=bugs, seed=1, duration=1.0)
    ...     return locks.herd(run)["notifications"].mean()
    >>> float(wakeups(())), float(wakeups({"herd"})) > 2
    (1.0, True)
    """
    ev = _tables(run)
    cols = ["time", "client", "reason", "waiters", "notifications", "messages"]
    if not len(ev):
        return pd.DataFrame(columns=cols)
    kinds = ev["kind"].astype(str)
    dels = ev[kinds == "znode_deleted"].sort_values("seq")
    acq = np.sort(ev.loc[kinds == "acquire", "time"].to_numpy(dtype=float))
    msgs = run.messages
    if len(dels) and not len(msgs):
        raise ValueError("herd needs run.messages, which this run did not record; simulate "
                         "with record_messages=True")
    mtype = msgs["type"].astype(str)
    watched = msgs[mtype == "WatchedEvent"]
    busy = msgs[~mtype.isin(["Ping", "Pong", "Proposal", "Ack"])]
    w_t, w_src = watched["t_send"].to_numpy(dtype=float), watched["src"].astype(str).to_numpy()
    b_t = np.sort(busy["t_send"].to_numpy(dtype=float))
    rows = []
    for t, node, client, reason, left in zip(dels["time"], dels["node"].astype(str),
                                             _col(dels, "client"), _col(dels, "reason"),
                                             _col(dels, "children_left")):
        notes = int(((w_t == t) & (w_src == node)).sum())
        i = np.searchsorted(acq, t, side="left")
        t_next = acq[i] if i < len(acq) else math.inf
        n_msgs = int(np.searchsorted(b_t, t_next, side="left") - np.searchsorted(b_t, t))
        rows.append([t, client, reason, int(left), notes, n_msgs])
    return pd.DataFrame(rows, columns=cols)


def acquisition_waits(run) -> pd.DataFrame:
    """How long each acquisition took: from when the client wanted the lock to ``acquire``.

    A client wants the lock from its ``request`` event (emitted by the clients of
    :mod:`dsalgo.locks` when they start wanting it: at the start, after a restart, after a
    release plus its think time, after a lapse); retries do not move it.  For a run without
    ``request`` events (an imported one) it is estimated as the end of the client's
    previous belief plus its ``think`` time (the mean of a range, from ``run.params``), or
    the start of the run for its first acquisition — an estimate that counts a crashed
    client's downtime as waiting.

    Returns
    -------
    DataFrame
        ``client, t_request, t_acquire, wait`` (seconds), one row per acquisition.

    Examples
    --------
    >>> from dsalgo import locks
    >>> w = locks.acquisition_waits(locks.zookeeper.simulate(clients=1, duration=0.5))
    >>> bool((w["wait"] > 0).all()), bool((w["wait"] < 0.1).all())
    (True, True)
    """
    iv = holding_intervals(run)
    ev = run.events
    kinds = ev["kind"].astype(str) if len(ev) else pd.Series([], dtype=object)
    req = ev[kinds == "request"]
    requests: dict = {}                                  # client -> sorted request times
    for node, t in zip(req["node"].astype(str), req["time"]):
        requests.setdefault(node, []).append(float(t))
    think = run.params.get("think", 0.0)
    think = (think[0] + think[1]) / 2 if isinstance(think, (tuple, list)) else float(think)
    rows = []
    for client, grp in iv.groupby("client", sort=True):
        ready, times = 0.0, np.sort(np.asarray(requests.get(client, []), dtype=float))
        for start, end in zip(grp["t_acquire"], grp["t_end"]):
            if len(req):
                # the last request at or before this acquisition
                k = int(np.searchsorted(times, start, side="right")) - 1
                ready = times[k] if k >= 0 else math.nan
            rows.append([client, ready, start, start - ready])
            ready = math.inf if math.isnan(end) else end + think
    out = pd.DataFrame(rows, columns=["client", "t_request", "t_acquire", "wait"])
    return out.sort_values("t_acquire", kind="stable").reset_index(drop=True)
