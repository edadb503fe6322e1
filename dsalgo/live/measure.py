"""Measurements on real servers that feed the simulator: latencies and etcd failover.

:func:`latencies` turns a live run's history into per-operation latencies and
:func:`empirical` into a :class:`dsalgo.sim.Empirical` delay model; :func:`failover_trials`
kills the etcd leader again and again and returns the columns of
:func:`dsalgo.raft.failover_trials`, so the real and the simulated distributions go in one
table.
"""

from __future__ import annotations

import math
import random
import time

import numpy as np
import pandas as pd

from .. import sim
from .._validate import check_choice, check_int, check_number

__all__ = ["latencies", "empirical", "failover_trials", "FAILOVER_COLUMNS", "stale_reads"]

FAILOVER_COLUMNS = ["trial", "t_crash", "downtime", "elections", "leader", "term", "converged"]


def latencies(run) -> pd.DataFrame:
    """One row per completed (``ok`` or ``fail``) operation: ``process, f, latency``.

    Examples
    --------
    >>> from dsalgo import live
    >>> rec = live.Recorder()
    >>> _ = rec.op("c1", "get", 0, None, lambda: live.Outcome("ok", None))
    >>> live.latencies(rec.run(params={}, seed=0, nodes=[]))[["process", "f"]].values.tolist()
    [['c1', 'get']]
    """
    h = run.history
    done = h[h["status"].astype(str).isin(["ok", "fail"])]
    return pd.DataFrame({"process": done["process"].astype(str).to_numpy(),
                         "f": done["f"].astype(str).to_numpy(),
                         "latency": (done["t_complete"] - done["t_invoke"]).to_numpy()})


def empirical(run, f: str | None = None, *, one_way: bool = True) -> sim.Empirical:
    """A :class:`dsalgo.sim.Empirical` from a live run's operation latencies.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A live run (``kv_workload``).
    f : {None, "get", "put", "cas"}
        Only this operation (None: all).
    one_way : bool
        Halve each latency: a client operation is a request and a reply, and the
        simulator's network delays one message.  Server work is folded into the delay.

    Examples
    --------
    >>> from dsalgo import live
    >>> rec = live.Recorder()
    >>> _ = rec.op("c1", "put", 0, 1, lambda: live.Outcome("ok"))
    >>> live.empirical(rec.run(params={}, seed=0, nodes=[])).samples[0] >= 0
    True
    >>> live.empirical(rec.run(params={}, seed=0, nodes=[]), f="scan")
    Traceback (most recent call last):
    ValueError: f must be one of ... got 'scan'
    """
    if f is not None:
        check_choice("f", f, ["get", "put", "cas"])
    lat = latencies(run)
    if f is not None:
        lat = lat[lat["f"] == f]
    if not len(lat):
        raise ValueError(f"the run has no completed {f or ''} operation to sample".replace(
            "  ", " "))
    values = lat["latency"].to_numpy() / (2.0 if one_way else 1.0)
    return sim.Empirical(np.maximum(values, 0.0).tolist())


def stale_reads(run) -> pd.DataFrame:
    """Reads that returned a value already overwritten before they began.

    A successful ``get`` of key ``k`` that returned the value of write ``w1`` is *stale*
    when another successful write ``w2`` of ``k`` began after ``w1`` completed and
    completed before the read began: whatever the order of the rest, the read saw a
    value that was no longer current (every write writes a value of its own, as
    :func:`dsalgo.live.kv_workload`'s do; a read of an absent key counts ``w1`` as done at
    time ``-inf``).  Writes are ``put`` and successful ``cas``; a read of a value whose
    write is ``info`` is never judged.  A stale read is a linearizability violation the
    checker would also find; this table says where and by how much.

    Returns
    -------
    pandas.DataFrame
        ``op, process, key, t_invoke, value, overwritten_at, stale_by`` (seconds between
        the overwriting write's completion and the read's start), one row per stale read.

    Examples
    --------
    >>> from dsalgo import live
    >>> rec = live.Recorder()
    >>> ok = lambda r=None: (lambda: live.Outcome("ok", r))
    >>> _ = rec.op("c1", "put", 0, 1, ok())
    >>> _ = rec.op("c1", "put", 0, 2, ok())
    >>> _ = rec.op("c2", "get", 0, None, ok(1))
    >>> live.stale_reads(rec.run(params={}, seed=0, nodes=[]))[["process", "value"]].values.tolist()
    [['c2', 1]]
    """
    cols = ["op", "process", "key", "t_invoke", "value", "overwritten_at", "stale_by"]
    h = run.history
    status = h["status"].astype(str)
    f = h["f"].astype(str)
    rows = []
    for key, hk in h.groupby(h["key"], sort=True, observed=True):
        st, fk = status.loc[hk.index], f.loc[hk.index]
        writes = {}   # value -> (t_invoke, t_complete) of the successful write of it
        for i in hk.index[(st == "ok") & fk.isin(["put", "cas"])]:
            v = hk.at[i, "value"]
            v = v[1] if fk.at[i] == "cas" else v
            writes[v] = (hk.at[i, "t_invoke"], hk.at[i, "t_complete"])
        for i in hk.index[(st == "ok") & (fk == "get")]:
            v, t_read = hk.at[i, "result"], hk.at[i, "t_invoke"]
            if v is None:
                done = -math.inf
            elif v in writes:
                done = writes[v][1]
            else:
                continue
            later = [tc for ti, tc in writes.values() if ti > done and tc < t_read]
            if later:
                rows.append([int(hk.at[i, "op_id"]), str(hk.at[i, "process"]), key, t_read, v,
                             min(later), t_read - min(later)])
    return pd.DataFrame(rows, columns=cols).sort_values("t_invoke", ignore_index=True)


def _term(status) -> int:
    return int(status.get("raftTerm") or status.get("header", {}).get("raft_term") or 0)


def failover_trials(cluster, trials: int = 10, *, seed: int = 0, max_time: float = 10.0,
                    poll: float = 0.005) -> pd.DataFrame:
    """Kill -9 the etcd leader ``trials`` times and time until a survivor leads.

    Each trial waits for every member to agree on one leader, waits a uniform time in
    ``[0, heartbeat_interval)`` (from ``seed``), kills the leader, polls the survivors'
    ``/v3/maintenance/status`` every ``poll`` seconds until one reports itself leader of a
    higher term, and restarts the killed member on its data directory.

    Parameters
    ----------
    cluster : LiveCluster
        :func:`dsalgo.live.etcd` with ``n >= 3``, inside its ``with`` block.
    trials : int
        Crashes (each takes about the election timeout plus a restart).
    max_time : float
        Give up a trial this many seconds after the crash (``downtime`` NaN).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`dsalgo.raft.failover_trials`: ``trial, t_crash, downtime,
        elections, leader, term, converged`` (``t_crash`` is the wait, uniform in
        ``[0, heartbeat_interval)``, between seeing the leader and killing it;
        ``elections`` is the number of terms the election took; downtime is
        measured to within ``poll`` plus one status request).

    Examples
    --------
    >>> from dsalgo import live
    >>> live.failover_trials(None)
    Traceback (most recent call last):
    TypeError: cluster must be a live etcd cluster of 3 or more members inside its with block; got None
    """
    if getattr(cluster, "system", None) != "etcd" or cluster.n < 3:
        raise TypeError(f"cluster must be a live etcd cluster of 3 or more members inside "
                        f"its with block; got {cluster!r}")
    trials = check_int("trials", trials, low=1, high=1000)
    max_time = check_number("max_time", max_time, low=0.1, high=120)
    poll = check_number("poll", poll, low=0.0, high=1.0)
    rng = random.Random(seed)
    hb = cluster.settings["heartbeat_interval"]
    rows = []
    for trial in range(trials):
        lead = _agreed_leader(cluster, timeout=30)
        old_term = _term(cluster.status(lead) or {})
        offset = rng.uniform(0, hb)
        time.sleep(offset)
        t_crash = time.monotonic()
        lead.kill()
        downtime, leader, term = math.nan, None, math.nan
        while time.monotonic() - t_crash < max_time:
            for m in cluster.members:
                if m is lead:
                    continue
                s = cluster.status(m)
                if s and s.get("leader") == s.get("header", {}).get("member_id") and \
                        _term(s) > old_term:
                    downtime, leader, term = time.monotonic() - t_crash, m.name, _term(s)
                    break
            if leader is not None:
                break
            time.sleep(poll)
        rows.append([trial, offset, downtime,
                     (term - old_term) if leader is not None else math.nan, leader,
                     term, leader is not None])
        cluster.restart(lead)
    df = pd.DataFrame(rows, columns=FAILOVER_COLUMNS)
    df["elections"] = df["elections"].astype(float)
    df["term"] = df["term"].astype(float)
    df["converged"] = df["converged"].astype(bool)
    return df


def _agreed_leader(cluster, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        ids = set()
        for m in cluster.members:
            s = cluster.status(m)
            ids.add(None if not s else s.get("leader"))
        if len(ids) == 1 and None not in ids and "0" not in ids:
            return cluster.leader()
        if time.monotonic() > deadline:
            raise TimeoutError(f"etcd members do not agree on a leader after {timeout:g}s")
        time.sleep(0.02)
