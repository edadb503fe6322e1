"""RedLock and the ZooKeeper lock recipe on real servers, driving a fenced store.

:func:`lock_pause` is the live twin of :func:`dsalgo.locks.scenarios.redlock_pause` and
:func:`~dsalgo.locks.scenarios.zookeeper_session_expiry`: ``c1`` acquires, reads the
store, works, writes and releases, and is paused (client side) at a chosen point of that
loop (:data:`PAUSE_POINTS`) for longer than the lock's TTL or session timeout; ``c2``
acquires once the lock lapses on the servers, reads, writes and releases.  Paused after
its read or before its write, ``c1`` wakes and writes a value computed from a stale read;
paused right after acquiring, it reads only after waking.  The run's events are those
:func:`dsalgo.locks.check` reads (``acquire``/``release``/``expire`` by the clients,
``write`` by the store), so the same checker judges real and simulated runs.

The pause of a ZooKeeper client must stop its session too (kazoo pings from its own
thread): ``c1`` reaches its server through a loopback TCP relay owned here, which holds
every byte for the length of the pause, as a stopped process would.  RedLock clients have
no background activity, so their pause is the worker sleeping.

The store is in-process and thread-safe: a fenced register per key, like
:class:`dsalgo.locks.storage.StorageServer`.  RedLock grants no fencing token (its
random value is not ordered), so only the ZooKeeper lock can run with ``fencing=True``;
its token is the sequence number of the holder's lock znode.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import socket
import threading
import time

from .. import sim
from .._validate import check_bool, check_choice, check_number
from .workload import Recorder, record_skew

__all__ = ["PAUSE_POINTS", "FencedStore", "RedLock", "ZooKeeperLock", "lock_pause"]

LOCK = "lock"

#: Where :func:`lock_pause` can pause the holder ``c1``, in the order of its loop
#: acquire → read → work → write → release, and what each pause falls between.
PAUSE_POINTS = {
    "after_acquire": "after its acquire, before its read",
    "after_read": "after its read, before its work",
    "before_write": "after its work, before its write",
    "before_release": "after its write, before its release",
}


class FencedStore:
    """A register per key that refuses requests with a token older than one it has seen.

    Emits a ``write`` event per write (``client, key, token, accepted, value,
    read_version, version``) on the ``recorder``, as the simulated storage does.

    Examples
    --------
    >>> from dsalgo.live.locks import FencedStore
    >>> from dsalgo.live import Recorder
    >>> s = FencedStore(Recorder())
    >>> s.read("c2", "lock", token=34)
    (True, 0, 0)
    >>> s.write("c1", "lock", 1, read_version=0, token=33)
    False
    """

    def __init__(self, recorder: Recorder):
        self.rec = recorder
        self.lock = threading.Lock()
        self.values: dict = {}
        self.versions: dict = {}
        self.max_token: dict = {}

    def _fenced(self, key, token) -> bool:
        if token is None:
            return False
        highest = self.max_token.get(key)
        if highest is not None and token < highest:
            return True
        self.max_token[key] = token
        return False

    def read(self, client, key, token=None):
        """``(accepted, value, version)``."""
        with self.lock:
            if self._fenced(key, token):
                return False, None, None
            return True, self.values.get(key, 0), self.versions.get(key, 0)

    def write(self, client, key, value, *, read_version, token=None) -> bool:
        with self.lock:
            accepted = not self._fenced(key, token)
            if accepted:
                self.values[key] = value
                self.versions[key] = self.versions.get(key, 0) + 1
            self.rec.emit("storage", "write", client=client, key=key, token=token,
                          accepted=accepted, value=value, read_version=read_version,
                          version=self.versions.get(key, 0))
            return accepted


class _Relay:
    """A loopback TCP relay to ``port`` that can hold every byte (both ways) while frozen."""

    def __init__(self, port: int):
        self.upstream = port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.frozen = threading.Event()
        self.closed = threading.Event()
        self.socks: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed.is_set():
            try:
                down, _ = self.server.accept()
            except OSError:
                return
            while self.frozen.is_set() and not self.closed.is_set():
                time.sleep(0.01)    # a frozen holder does not even reach the server
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream), timeout=2)
                up.settimeout(None)
            except OSError:
                down.close()
                continue
            self.socks += [down, up]
            for a, b in ((down, up), (up, down)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while self.frozen.is_set() and not self.closed.is_set():
                    time.sleep(0.01)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def close(self):
        self.closed.set()
        with contextlib.suppress(OSError):
            self.server.close()
        for s in self.socks:
            with contextlib.suppress(OSError):
                s.close()


class RedLock:
    """The RedLock algorithm of the Redis documentation, on every member of a Redis cluster.

    ``acquire`` sets ``SET lock <random> NX PX ttl`` on each server with a short timeout;
    it holds the lock when a majority said OK and the validity ``ttl - elapsed -
    (drift_factor · ttl + 2 ms)`` is positive, and otherwise releases what it got.
    ``release`` deletes the key only where it still holds the random value (Lua).
    """

    _DEL = ("if redis.call('GET', KEYS[1]) == ARGV[1] then "
            "return redis.call('DEL', KEYS[1]) end return 0")

    def __init__(self, cluster, *, ttl: float = 1.0, drift_factor: float = 0.01,
                 server_timeout: float = 0.05):
        from .clients import RedisKV

        self.ttl, self.drift_factor = ttl, drift_factor
        self.servers = [RedisKV(m.port, timeout=server_timeout) for m in cluster.members]
        self.value = None

    def acquire(self):
        """``(held, validity)``."""
        value = secrets.token_hex(10)
        t0 = time.monotonic()
        got = sum(s._call("SET", LOCK, value, "NX", "PX", int(self.ttl * 1000)).result
                  in (b"OK", "OK") for s in self.servers)
        validity = self.ttl - (time.monotonic() - t0) - (self.drift_factor * self.ttl + 0.002)
        if got >= len(self.servers) // 2 + 1 and validity > 0:
            self.value = value
            return True, validity
        self.value = value
        self.release()
        return False, validity

    def release(self):
        if self.value is not None:
            for s in self.servers:
                s._call("EVAL", self._DEL, 1, LOCK, self.value)
        self.value = None

    def close(self):
        for s in self.servers:
            s.close()


class ZooKeeperLock:
    """kazoo's lock recipe (ephemeral sequential znodes under ``/lock``), one session.

    The token is the sequence number of the holder's znode; the session goes through a
    :class:`_Relay` so that the client can be paused as a whole.
    """

    def __init__(self, cluster, member, *, session_timeout: float = 1.0, name: str = "c"):
        from kazoo.client import KazooClient
        from kazoo.retry import KazooRetry

        self.relay = _Relay(cluster.member(member).port)
        self.zk = KazooClient(hosts=f"127.0.0.1:{self.relay.port}", timeout=session_timeout,
                              connection_retry=KazooRetry(max_tries=-1, delay=0.05,
                                                          max_delay=0.2))
        self.expired = threading.Event()
        self.zk.add_listener(self._state)
        self.zk.start(timeout=15)
        self.lock = self.zk.Lock(f"/{LOCK}", name)

    def _state(self, state):
        from kazoo.protocol.states import KazooState

        if state == KazooState.LOST:
            # LOST lasts only until kazoo opens a new session: remember it was seen
            self.expired.set()

    def acquire(self, timeout: float):
        """The token (an int) once held, None if not within ``timeout`` seconds."""
        if not self.lock.acquire(timeout=timeout):
            return None
        return int(re.search(r"(\d+)$", self.lock.node).group(1))

    def lost(self) -> bool:
        """Whether the session was lost (expired) since the client started."""
        return self.expired.is_set()

    def release(self):
        with contextlib.suppress(Exception):
            self.lock.release()

    def close(self):
        with contextlib.suppress(Exception):
            self.zk.stop()
            self.zk.close()
        self.relay.close()


def lock_pause(cluster, *, point: str = "after_read", pause: float | None = None,
               ttl: float = 1.0, session_timeout: float = 1.0, fencing: bool | None = None,
               critical_section: float = 0.1, seed: int = 0,
               time_limit: float = 30.0) -> sim.Run:
    """A lock holder paused, at a chosen point, past its TTL (RedLock) or session timeout
    (ZooKeeper).

    ``c1`` runs one loop acquire → read → work (``critical_section``) → write → release
    and is paused once, at ``point``; ``c2`` asks for the lock as soon as ``c1`` holds it.
    What the pause breaks depends on the point:

    ``"after_acquire"``
        ``c1`` reads only after waking, so it reads ``c2``'s write: no update is lost,
        even without fencing, though both clients believed they held the lock.  With
        fencing the store refuses the read (``c2``'s newer token was seen) and ``c1``
        gives up without writing (an ``abort`` event), as the simulated clients do.
    ``"after_read"``, ``"before_write"``
        ``c1`` writes a value computed from a read older than ``c2``'s write: a lost
        update without fencing; with fencing the store refuses the write.
    ``"before_release"``
        ``c1`` has written before the pause; ``c2`` reads that write: the store stays
        safe, and ``c1``'s late release deletes only its own RedLock keys (a ZooKeeper
        client learns its session expired).

    Parameters
    ----------
    cluster : LiveCluster
        :func:`dsalgo.live.redis` (RedLock over its ``n`` servers) or
        :func:`dsalgo.live.zookeeper` (kazoo's lock recipe), inside its ``with`` block.
    point : str
        Where ``c1`` is paused: one of :data:`PAUSE_POINTS` (``"after_acquire"``,
        ``"after_read"``, ``"before_write"``, ``"before_release"``).
    pause : float, optional
        How long ``c1`` is paused, seconds; default twice the TTL or session timeout.
    ttl : float
        RedLock's TTL, seconds.
    session_timeout : float
        ZooKeeper's session timeout asked for by the clients, seconds.
    fencing : bool, optional
        Whether clients send their token to the store (ZooKeeper only; default True
        there, and False for RedLock, which has no token).
    critical_section : float
        Each client's work time between its read and its write, seconds.
    time_limit : float
        Bound on ``c2``'s wait for the lock, seconds.

    Returns
    -------
    dsalgo.sim.Run
        Events for :func:`dsalgo.locks.check`; the pause in ``faults`` (its detail names
        the point); ``point`` and ``pause`` in ``params``.

    Examples
    --------
    >>> from dsalgo import live
    >>> live.lock_pause(None)
    Traceback (most recent call last):
    TypeError: cluster must be a live Redis or ZooKeeper cluster inside its with block; got None
    >>> list(live.PAUSE_POINTS)
    ['after_acquire', 'after_read', 'before_write', 'before_release']
    """
    system = getattr(cluster, "system", None)
    if system not in ("redis", "zookeeper"):
        raise TypeError(f"cluster must be a live Redis or ZooKeeper cluster inside its with "
                        f"block; got {cluster!r}")
    if not isinstance(point, str):
        raise TypeError(f"point must be a str, one of {', '.join(map(repr, PAUSE_POINTS))}; "
                        f"got {point!r}")
    point = check_choice("point", point, PAUSE_POINTS)
    ttl = check_number("ttl", ttl, low=0.05, high=60)
    session_timeout = check_number("session_timeout", session_timeout, low=0.05, high=60)
    critical_section = check_number("critical_section", critical_section, low=0, high=10)
    time_limit = check_number("time_limit", time_limit, low=1, high=600)
    lease = ttl if system == "redis" else session_timeout
    pause = 2 * lease if pause is None else check_number("pause", pause, low=0, high=120)
    if fencing is None:
        fencing = system == "zookeeper"
    fencing = check_bool("fencing", fencing)
    if fencing and system == "redis":
        raise ValueError("fencing=True needs a fencing token, and RedLock grants none (its "
                         "lock value is random, not ordered); use the ZooKeeper lock")
    rec = Recorder()
    record_skew(cluster, rec)
    store = FencedStore(rec)
    if system == "redis":
        c1, c2 = RedLock(cluster, ttl=ttl), RedLock(cluster, ttl=ttl)
    else:
        names = cluster.names
        c1 = ZooKeeperLock(cluster, names[0], session_timeout=session_timeout, name="c1")
        c2 = ZooKeeperLock(cluster, names[-1], session_timeout=session_timeout, name="c2")
    errors: list = []

    def paused_here(here: str):
        """Pause ``c1`` for ``pause`` seconds if ``here`` is the chosen point."""
        if here != point:
            return
        t_pause = rec.now()
        if system == "zookeeper":
            c1.relay.frozen.set()
        time.sleep(pause)
        if system == "zookeeper":
            c1.relay.frozen.clear()
        rec.fault("pause", "c1", t_pause, rec.now(),
                  f"client-side pause of the lock holder {PAUSE_POINTS[point]} ({point})"
                  + ("; its ZooKeeper connection held too" if system == "zookeeper" else ""))

    try:
        # ---- c1 acquires
        if system == "redis":
            held, _ = c1.acquire()
            token1 = None
            if not held:
                raise RuntimeError("c1 could not acquire RedLock on an idle cluster")
        else:
            token1 = c1.acquire(timeout=10)
            if token1 is None:
                raise RuntimeError("c1 could not acquire the ZooKeeper lock on an idle "
                                   "ensemble")
        rec.emit("c1", "acquire", lock=LOCK, token=token1)
        sent1 = token1 if fencing else None

        # ---- c2 wants the lock from now on
        def second():
            try:
                deadline = time.monotonic() + time_limit
                rec.emit("c2", "request", lock=LOCK)
                token2 = None
                while True:
                    if system == "redis":
                        held, _ = c2.acquire()
                    else:
                        token2 = c2.acquire(timeout=max(0.1, deadline - time.monotonic()))
                        held = token2 is not None
                    if held:
                        break
                    rec.emit("c2", "acquire_failed", lock=LOCK)
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"c2 did not get the lock in {time_limit:g}s")
                    time.sleep(0.05)
                rec.emit("c2", "acquire", lock=LOCK, token=token2)
                sent2 = token2 if fencing else None
                _, v, ver = store.read("c2", LOCK, sent2)
                time.sleep(critical_section)
                store.write("c2", LOCK, v + 1, read_version=ver, token=sent2)
                rec.emit("c2", "release", lock=LOCK, token=token2)
                c2.release()
            except Exception as e:  # noqa: BLE001 - reported by the caller
                errors.append(e)

        t2 = threading.Thread(target=second, daemon=True)
        t2.start()

        # ---- c1: read, work, write, each point a possible pause
        paused_here("after_acquire")
        read_ok, value1, version1 = store.read("c1", LOCK, sent1)
        if read_ok:
            paused_here("after_read")
            time.sleep(critical_section)
            paused_here("before_write")
            store.write("c1", LOCK, value1 + 1, read_version=version1, token=sent1)
            paused_here("before_release")
        else:   # fenced off: a newer holder was seen; give up, as the simulated clients do
            rec.emit("c1", "abort", lock=LOCK, token=token1,
                     reason="read refused by the fenced store")
        if system == "zookeeper":
            deadline = time.monotonic() + 5 * session_timeout + 2
            while not c1.lost() and time.monotonic() < deadline:
                time.sleep(0.02)
            if c1.lost():
                rec.emit("c1", "expire", lock=LOCK, token=token1, reason="session_expired")
            else:
                rec.emit("c1", "release", lock=LOCK, token=token1)
                c1.release()
        else:
            rec.emit("c1", "release", lock=LOCK, token=token1)
            c1.release()
        t2.join(time_limit + 5)
        if errors:
            raise RuntimeError(f"c2 failed: {errors[0]!r}") from errors[0]
    finally:
        c1.close()
        c2.close()
    params = dict(system=system, family="redlock" if system == "redis" else "zookeeper",
                  scenario="lock_pause", point=point, pause=pause, fencing=fencing,
                  critical_section=critical_section, n=cluster.n,
                  **({"ttl": ttl} if system == "redis" else
                     {"session_timeout": session_timeout}))
    return rec.run(params=params, seed=seed, nodes=cluster.names + ["c1", "c2", "storage"])
