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
``lock_progress`` (a *progress* property)
    Under the fairness condition — every fault over and a majority of the lock servers up
    (:func:`dsalgo.check.verdict.fair_from`; a client that crashed for good does not spoil
    it: that is the holder crash whose cost we measure) — a client waiting for the lock
    acquires it within ``grace`` of the heal (or of its request, if later).
    :func:`recovery_times` gives how long the lock was unavailable after the last fault.
    Mutual exclusion does not promise fairness between clients, so the property asks that
    *some* waiting client acquire, not each.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..check import Verdict
from ..check.verdict import fair_from, plain

__all__ = ["PROGRESS", "PROPERTIES", "acquisition_waits", "check", "handovers", "herd",
           "holding_intervals", "recovery_times"]

PROPERTIES = ("mutual_exclusion", "storage_safety")
#: The progress property, checked under the fairness condition.
PROGRESS = "lock_progress"

_INTERVAL_COLUMNS = ["client", "lock", "token", "t_acquire", "t_end", "end"]


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
        ``client, lock, token, t_acquire, t_end, end`` where ``end`` says what ended the
        belief (``release``, ``expire``, ``crash`` or ``open`` when the run ended first,
        with ``t_end`` NaN).

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
                                                     object])})
    kinds = ev["kind"].astype(str)
    holders = set(ev.loc[kinds == "acquire", "node"].astype(str))
    sel = ev[kinds.isin(["acquire", "release", "expire", "crash"])
             & ev["node"].astype(str).isin(holders)].sort_values("seq")
    lock, token = _col(sel, "lock"), _col(sel, "token")
    rows, open_ = [], {}
    for t, node, kind, lk, tok in zip(sel["time"], sel["node"].astype(str),
                                      sel["kind"].astype(str), lock, token):
        if kind == "acquire":
            if node in open_:  # defensive: a new belief ends any previous one
                rows.append(open_.pop(node) + [t, "acquire"])
            open_[node] = [node, lk, None if _missing(tok) else tok, t]
        elif node in open_:
            rows.append(open_.pop(node) + [t, kind])
    for row in open_.values():
        rows.append(row + [math.nan, "open"])
    out = pd.DataFrame(rows, columns=_INTERVAL_COLUMNS)
    return out.sort_values(["t_acquire", "client"], kind="stable").reset_index(drop=True)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _fmt_end(t):
    return "the end of the run" if math.isnan(t) else f"{t:.6g}s"


def _mutual_exclusion(intervals: pd.DataFrame) -> list[dict]:
    out = []
    for lk, grp in intervals.groupby("lock", sort=True, dropna=False):
        active: list = []  # (end, client, start, t_end) of beliefs not yet known to be over
        for start, end, client in zip(grp["t_acquire"], grp["t_end"], grp["client"]):
            end_key = math.inf if math.isnan(end) else end
            active = [a for a in active if a[0] > start]
            for a_end, a_client, a_start, a_t_end in active:
                if a_client == client:
                    continue
                until = min(a_end, end_key)
                out.append({
                    "property": "mutual_exclusion", "time": start,
                    "nodes": (a_client, client), "t_start": start,
                    "t_end": math.nan if math.isinf(until) else until,
                    "detail": (f"{a_client} believed it held {lk!r} from {a_start:.6g}s to "
                               f"{_fmt_end(a_t_end)} and {client} from {start:.6g}s to "
                               f"{_fmt_end(end)}; both held it from {start:.6g}s to "
                               f"{_fmt_end(math.nan if math.isinf(until) else until)}")})
            active.append((end_key, client, start, end))
    return out


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
        Properties ``mutual_exclusion`` and ``storage_safety`` (safety) and
        ``lock_progress`` (progress; ``info["recovery"]`` is the row of
        :func:`recovery_times`, ``info["progress"]`` says when it was not judged).  A
        mutual-exclusion
        violation names both clients and has the overlap in columns ``t_start, t_end``.
        ``info`` counts ``acquisitions``, ``handovers``, ``contended`` (failed attempts or
        waits), ``expired``, ``writes_accepted`` and ``writes_rejected``.

    Examples
    --------
    >>> from dsalgo import locks
    >>> v = locks.check(locks.scenarios.redlock_pause())
    >>> v.holds("mutual_exclusion"), v.violations.loc[0, "nodes"]
    (False, ('c1', 'c2'))
    """
    ev = _tables(run)
    iv = holding_intervals(run)
    violations = _mutual_exclusion(iv)
    store, stats = _storage_safety(ev)
    violations += store
    kinds = ev["kind"].astype(str) if len(ev) else pd.Series([], dtype=object)
    info = dict(acquisitions=len(iv), handovers=_handovers(iv),
                contended=int(kinds.isin(["acquire_failed", "wait"]).sum()),
                expired=int((iv["end"] == "expire").sum()), **stats)
    df = pd.DataFrame(violations, columns=["property", "time", "nodes", "detail", "t_start",
                                           "t_end"])
    df["t_start"] = df["t_start"].astype(float)
    df["t_end"] = df["t_end"].astype(float)
    safety = Verdict(PROPERTIES, df, info=info)
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
        One row: ``t_heal`` (every fault over, a majority of servers up; NaN if never),
        ``t_wait`` (first instant from ``t_heal`` on with an up client waiting),
        ``t_acquire`` (the first acquisition from then on), ``unavailable``
        (``t_acquire - t_heal``: how long the lock could not be had after the fault),
        ``judged`` (the condition lasted ``grace`` seconds with a client waiting) and
        ``grace``.

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
           "judged": False, "grace": grace}
    kinds = ev["kind"].astype(str) if len(ev) else pd.Series([], dtype=object)
    clients = set(ev.loc[kinds.isin(["request", "acquire"]), "node"].astype(str))
    nodes = set(map(str, run.nodes)) if getattr(run, "nodes", None) else set(
        ev["node"].dropna().astype(str))
    servers = sorted(n for n in nodes - clients if n != "storage")
    if not servers:
        return pd.DataFrame([row])
    t_heal = fair_from(run.faults, servers, len(servers) // 2 + 1, run.until)
    if t_heal is None:
        return pd.DataFrame([row])
    row["t_heal"] = t_heal
    sel = ev[kinds.isin(["request", "acquire", "crash", "restart"]) &
             ev["node"].astype(str).isin(clients)].sort_values("seq", kind="stable")
    waiting: set = set()
    t_wait = t_acq = None
    for time, node, kind in zip(sel["time"], sel["node"].astype(str), sel["kind"].astype(str)):
        if t_wait is None and time > t_heal and waiting:
            t_wait = t_heal
        if kind == "request":
            waiting.add(node)
        elif kind in ("acquire", "crash", "restart"):
            waiting.discard(node)
            if kind == "acquire" and t_wait is not None and t_acq is None:
                t_acq = float(time)
        if t_wait is None and time >= t_heal and waiting:
            t_wait = float(time)
    if t_wait is None and waiting:
        t_wait = t_heal
    if t_wait is not None:
        row["t_wait"] = t_wait
        row["judged"] = run.until - t_wait >= grace
    if t_acq is not None:
        row["t_acquire"] = t_acq
        row["unavailable"] = t_acq - t_heal
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
