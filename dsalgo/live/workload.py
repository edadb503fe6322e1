"""Workloads on real servers that come back as :class:`dsalgo.sim.Run` objects.

:func:`kv_workload` runs ``clients`` threads, each with its own connection pinned to one
member, issuing ``get``/``put``/``cas`` on a few keys until ``ops`` operations were issued
or ``time_limit`` seconds passed, while a nemesis thread injects the faults it was given.
Times are seconds since the start of the workload (``time.monotonic``).  The operations each
client issues come from ``seed`` (same seed, same requests in the same order per client);
their interleaving and outcomes are the real system's.

Nemeses (each recorded as a row of ``run.faults``):

- :class:`Pause` — SIGSTOP a member at ``at`` and SIGCONT it ``duration`` later;
- :class:`Kill` — kill -9 a member at ``at`` and restart it on the same data directory
  ``restart_after`` later (or never);
- :class:`~dsalgo.live.Partition` — drop every packet between groups of members (nftables,
  by port) from ``at`` for ``duration``; only on a cluster started inside a private network
  namespace made by :func:`dsalgo.live.isolated` (see :mod:`dsalgo.live.netns`).

Clock skew is a server
setting (:func:`dsalgo.live.zookeeper`'s ``clock_skew``, fixed from start-up and recorded
as an open ``clock_skew`` row of ``run.faults``), for ZooKeeper only: etcd is a Go binary,
which reads the clock without libc and so ignores libfaketime, and Debian's redis-server
aborts under it (recursive ``clock_gettime`` at start-up).
"""

from __future__ import annotations

import math
import random
import secrets
import threading
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import sim
from .._validate import check_int, check_number
from .clients import READ_MODES, adapter

__all__ = ["Pause", "Kill", "kv_workload", "put_crash_get", "Recorder", "record_skew"]


class Recorder:
    """Thread-safe collector of history, event and fault rows, on one monotonic clock."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.history: list = []
        self.events: list = []
        self.faults: list = []
        self._op = 0
        self._seq = 0

    def now(self) -> float:
        return time.monotonic() - self.t0

    def op(self, process, f, key, value, call, *args):
        """Invoke ``call(*args)`` (an :class:`Outcome`) and record the operation; returns
        the outcome."""
        t_inv = self.now()
        out = call(*args)
        t_comp = self.now()
        status = out.status
        with self.lock:
            if status == "refused":
                self.emit_locked(t_comp, process, "refused", f=f, key=key, error=out.error)
                if f == "cas":   # a compare never evaluated is not a failed compare
                    return out
                status = "fail"
            op_id = self._op
            self._op += 1
            result = out.result if status == "ok" else None
            self.history.append([op_id, process, f, key, value, result, t_inv,
                                 math.nan if status == "info" else t_comp, status])
            if status == "info":
                self.emit_locked(t_comp, process, "timeout", f=f, key=key, error=out.error)
        return out

    def emit_locked(self, t, node, kind, **fields):
        self.events.append((self._seq, t, node, kind, fields))
        self._seq += 1

    def emit(self, node, kind, t=None, **fields):
        with self.lock:
            self.emit_locked(self.now() if t is None else t, node, kind, **fields)

    def fault(self, kind, target, t_start, t_end, detail=""):
        with self.lock:
            self.faults.append([kind, target, t_start, t_end, detail])

    def run(self, *, params, seed, nodes) -> sim.Run:
        with self.lock:
            events = sorted(self.events, key=lambda e: e[0])
            history = sorted(self.history, key=lambda r: r[0])
            faults = sorted(self.faults, key=lambda r: r[2])
        ev = _table("events", [e[:4] for e in events])
        if any(e[4] for e in events):
            extra = pd.DataFrame.from_records([e[4] for e in events])
            ev = pd.concat([ev, extra.drop(columns=[c for c in extra if c in ev])], axis=1)
        return sim.Run(None, ev, _table("history", history), _table("faults", faults),
                       params=params, seed=seed, nodes=nodes, until=self.now())


def _table(name, rows) -> pd.DataFrame:
    """A table with the columns and dtypes of ``sim.empty_table(name)`` from row lists."""
    empty = sim.empty_table(name)
    if not rows:
        return empty
    out = {}
    for i, (col, dtype) in enumerate(empty.dtypes.items()):
        values = [r[i] for r in rows]
        if dtype == np.dtype(object):
            arr = np.empty(len(values), dtype=object)   # element-wise: cas values are lists
            for j, v in enumerate(values):
                arr[j] = v
            out[col] = arr
        elif str(dtype) == "category":
            out[col] = pd.Categorical(values)
        else:
            out[col] = np.array(values, dtype=dtype)
    return pd.DataFrame(out)


@dataclass(frozen=True)
class Pause:
    """SIGSTOP ``target`` (a member name, ``"leader"`` or ``"follower"``) at ``at`` seconds,
    SIGCONT ``duration`` seconds later."""

    target: str = "leader"
    at: float = 1.0
    duration: float = 1.0

    def apply(self, cluster, rec: Recorder, stop: threading.Event):
        m = cluster.resolve(self.target)
        t0 = rec.now()
        m.pause()
        stop.wait(self.duration)
        m.resume()
        rec.fault("pause", m.name, t0, rec.now(), f"SIGSTOP/SIGCONT ({self.target})")


@dataclass(frozen=True)
class Kill:
    """kill -9 ``target`` at ``at`` seconds; restart it on the same data directory
    ``restart_after`` seconds later (None: leave it down)."""

    target: str = "leader"
    at: float = 1.0
    restart_after: float | None = 1.0

    def apply(self, cluster, rec: Recorder, stop: threading.Event):
        m = cluster.resolve(self.target)
        t0 = rec.now()
        m.kill()
        if self.restart_after is None:
            rec.fault("crash", m.name, t0, math.nan, f"kill -9 ({self.target}), not restarted")
            return
        stop.wait(self.restart_after)
        t1 = rec.now()
        m.start()
        try:
            cluster.wait_ready([m], timeout=30)
        finally:
            rec.fault("crash", m.name, t0, t1, f"kill -9 ({self.target}), restarted on the "
                      f"same data directory")


def record_skew(cluster, rec: Recorder) -> None:
    """A ``clock_skew`` row in ``run.faults`` per member started under libfaketime (open:
    the skew lasts the whole run)."""
    for name, offset in sorted((cluster.settings.get("clock_skew") or {}).items()):
        rec.fault("clock_skew", name, 0.0, math.nan,
                  f"wall clock {offset:+g}s from start-up (libfaketime; monotonic clock "
                  f"left alone)")


def _nemesis(cluster, faults, rec, stop, errors, applied):
    for f in sorted(faults, key=lambda f: f.at):
        wait = f.at - rec.now()
        if wait > 0 and stop.wait(wait):
            return
        try:
            f.apply(cluster, rec, stop)
            applied.append(f)
        except Exception as e:  # noqa: BLE001 - reported after the run
            errors.append(e)
            return


def kv_workload(cluster, *, clients: int = 3, ops: int = 300, reads=None, keys: int = 2,
                seed: int = 0, nemesis=(), time_limit: float = 20.0, timeout: float = 1.0,
                mix=(0.5, 0.3, 0.2), rate: float | None = None) -> sim.Run:
    """Run a get/put/cas workload on a live cluster and return its history as a Run.

    Parameters
    ----------
    cluster : LiveCluster
        From :func:`dsalgo.live.redis`, :func:`~dsalgo.live.etcd` or
        :func:`~dsalgo.live.zookeeper`, inside its ``with`` block.  Redis work goes to
        ``n1``; etcd and ZooKeeper clients are spread over the members.
    clients : int
        Concurrent clients (threads), each with its own connection.
    ops : int
        Operations issued in all (the bound in count).
    reads : str, optional
        etcd ``"linearizable"`` (default) or ``"serializable"``; ZooKeeper ``"sync"``
        (default: ``sync()`` then read) or ``"plain"``; Redis ``"default"``.
    keys : int
        Keys (independent registers: small keeps the checker fast).
    seed : int
        Seeds each client's choice of operations and values.
    nemesis : sequence of Pause, Kill or Partition
        Faults, recorded in ``run.faults`` (partitions only inside
        :func:`dsalgo.live.isolated`, e.g. through :func:`dsalgo.live.isolated_kv`).
    time_limit : float
        Seconds after which no new operation is issued (the bound in time).
    timeout : float
        Per-request timeout, seconds (a timed-out request is ``info``).
    mix : (float, float, float)
        Probabilities of get, put and cas.
    rate : float, optional
        At most this many operations per second per client (None: back to back), so
        that ``ops`` last long enough for the nemesis's schedule.

    Returns
    -------
    dsalgo.sim.Run
        ``history`` (model ``"kv"``: one cas register per key), ``events`` (``refused`` and
        ``timeout`` per request that got no answer), ``faults``, ``params``.

    Examples
    --------
    >>> from dsalgo import live
    >>> live.kv_workload(None, clients=0)
    Traceback (most recent call last):
    ValueError: clients must be ... got 0
    """
    clients = check_int("clients", clients, low=1, high=64)
    ops = check_int("ops", ops, low=1, high=100_000)
    keys = check_int("keys", keys, low=1, high=100)
    seed = check_int("seed", seed)
    time_limit = check_number("time_limit", time_limit, low=0.1, high=600)
    timeout = check_number("timeout", timeout, low=0.01, high=60)
    if rate is not None:
        rate = check_number("rate", rate, low=0.1, high=1e5)
    if len(mix) != 3 or any(p < 0 for p in mix) or not math.isclose(sum(mix), 1.0):
        raise ValueError(f"mix must be three probabilities (get, put, cas) summing to 1; "
                         f"got {mix!r}")
    system = getattr(cluster, "system", None)
    if system not in READ_MODES:
        raise TypeError(f"cluster must be a live cluster (dsalgo.live.redis/etcd/zookeeper) "
                        f"inside its with block; got {cluster!r}")
    from .netns import Partition

    for f in nemesis:
        if not isinstance(f, (Pause, Kill, Partition)):
            raise TypeError(f"nemesis must hold live.Pause, live.Kill or live.Partition "
                            f"faults; got {f!r}")
    modes = READ_MODES[system]
    reads = modes[0] if reads is None else reads
    if reads not in modes:
        raise ValueError(f"reads must be one of {', '.join(map(repr, modes))} for {system}; "
                         f"got {reads!r}")

    members = [cluster.members[0].name] if system == "redis" else cluster.names
    namespace = f"r{secrets.token_hex(4)}-"   # a fresh set of keys: every key starts absent
    conns = []
    try:
        for i in range(clients):
            conns.append(adapter(cluster, members[i % len(members)], read=reads,
                                 timeout=timeout, namespace=namespace))
        if system == "zookeeper":
            conns[0].ensure(range(keys))
        rec = Recorder()
        record_skew(cluster, rec)
        budget = iter(range(ops))
        budget_lock = threading.Lock()
        stop = threading.Event()
        errors: list = []
        applied: list = []

        def client(i):
            rng = random.Random(f"{seed}:{i}")
            proc = f"c{i + 1}"
            counter = 0
            last: dict = {}
            issued = 0
            while not stop.is_set() and rec.now() < time_limit:
                if rate is not None:
                    ahead = issued / rate - rec.now()
                    if ahead > 0 and stop.wait(ahead):
                        return
                issued += 1
                with budget_lock:
                    if next(budget, None) is None:
                        return
                key = rng.randrange(keys)
                u = rng.random()
                c = conns[i]
                if u < mix[0] or (u >= mix[0] + mix[1] and last.get(key) is None):
                    g = rec.op(proc, "get", key, None, c.get, key)
                    if g.status == "ok" and g.result is not None:
                        last[key] = g.result
                elif u < mix[0] + mix[1]:
                    counter += 1
                    v = (i + 1) * 100_000 + counter
                    if rec.op(proc, "put", key, v, c.put, key, v).status == "ok":
                        last[key] = v
                else:   # compare against the last value this client saw for the key
                    counter += 1
                    old, new = last[key], (i + 1) * 100_000 + counter
                    o = rec.op(proc, "cas", key, [old, new], c.cas, key, old, new)
                    if o.status == "ok":
                        last[key] = new
                    elif o.status == "fail":
                        last.pop(key, None)

        threads = [threading.Thread(target=client, args=(i,), daemon=True)
                   for i in range(clients)]
        nem = threading.Thread(target=_nemesis, args=(cluster, list(nemesis), rec, stop,
                                                      errors, applied), daemon=True)
        nem.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(time_limit + 5 * timeout + 5)
        stop.set()
        nem.join(60)
        for m in cluster.members:   # never leave a member stopped behind
            if m.paused:
                m.resume()
        if errors:
            raise RuntimeError(f"the nemesis failed: {errors[0]!r}") from errors[0]
        skipped = [f for f in nemesis if f not in applied]
        if skipped:
            warnings.warn(f"the load ended at {rec.now():.3g}s, before the nemesis applied "
                          f"{skipped}; schedule faults earlier or slow the load (rate=)",
                          RuntimeWarning, stacklevel=2)
    finally:
        for c in conns:
            c.close()
    params = dict(system=system, reads=reads, clients=clients, ops=ops, keys=keys,
                  time_limit=time_limit, timeout=timeout, mix=list(mix), rate=rate,
                  nemesis=[repr(f) for f in nemesis], model="kv",
                  **{f"server_{k}": v for k, v in cluster.settings.items()
                     if not isinstance(v, dict)})
    return rec.run(params=params, seed=seed, nodes=cluster.names)


def put_crash_get(cluster, *, key: int = 0, value: int = 1, timeout: float = 1.0,
                  seed: int = 0) -> sim.Run:
    """``put`` a value, kill -9 the server and restart it on its data directory, ``get``.

    With Redis without persistence the acknowledged put is gone after the restart, and
    the history is not linearizable; with ``appendfsync="always"`` it survives.

    Returns
    -------
    dsalgo.sim.Run
        Two operations (one client) and the crash in ``faults``.
    """
    system = getattr(cluster, "system", None)
    if system not in READ_MODES:
        raise TypeError(f"cluster must be a live cluster inside its with block; got "
                        f"{cluster!r}")
    rec = Recorder()
    record_skew(cluster, rec)
    target = cluster.members[0]
    namespace = f"r{secrets.token_hex(4)}-"
    c = adapter(cluster, target.name, timeout=timeout, namespace=namespace)
    try:
        if system == "zookeeper":
            c.ensure([key])
        put = rec.op("c1", "put", key, value, c.put, key, value)
        if put.status != "ok":
            raise RuntimeError(f"the put before the crash was not acknowledged: {put}")
        Kill(target.name, at=0.0, restart_after=0.0).apply(cluster, rec, threading.Event())
        c.close()
        c = adapter(cluster, target.name, timeout=timeout, namespace=namespace)
        for _ in range(50):   # the first request after a restart may meet a stale socket
            g = rec.op("c1", "get", key, None, c.get, key)
            if g.status == "ok":
                break
            time.sleep(0.1)
    finally:
        c.close()
    params = dict(system=system, scenario="put_crash_get", model="kv",
                  **{f"server_{k}": v for k, v in cluster.settings.items()
                     if not isinstance(v, dict)})
    return rec.run(params=params, seed=seed, nodes=cluster.names)
