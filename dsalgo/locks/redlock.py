"""RedLock: a lease lock on N independent Redis servers, as the Redis docs describe it.

Follows "Distributed Locks with Redis", section "The Redlock Algorithm" (redis.io), and
Martin Kleppmann's critique "How to do distributed locking" (2016).

The algorithm, step by step as the docs give it:

1. Read the current time (the client's local clock).
2. Try to acquire the lock on all N servers with ``SET key value NX PX ttl`` and the same
   random ``value``, each request with a timeout much smaller than the TTL, so that a dead
   server is skipped quickly.  (The requests go out at once, as the docs suggest.)
3. The lock is acquired iff a majority, ⌊N/2⌋ + 1, of servers granted it *and* the time
   elapsed is less than the validity.  The validity is ``ttl − elapsed − drift`` with
   ``drift = drift_factor · ttl + 2 ms``.
4. If the lock was not acquired, unlock *all* servers (even those that seemed to refuse)
   and retry after a random delay.
5. Release is a compare-and-delete on every server: delete the key only if it still holds
   this client's value, so a client never frees somebody else's lock.

Safety claimed by the docs: mutual exclusion — at any moment only one client holds the
lock — *provided* every server's clock advances at about the rate of real time and no
client runs on after its validity.  Servers expire keys by their own *local* clock
(``ctx.now``), so a forward clock jump on a server hands the key out early, and a client
paused past its validity still believes it holds the lock.  RedLock yields no fencing
token, so the storage service cannot tell an old holder's write from a new one
(:mod:`dsalgo.locks.scenarios` shows both failures).

Simplified: one lock key; a value is ``"<client>:<boot>.<attempt>"`` (unique, as the
docs' random value must be, but deterministic); ``persistence="fsync"`` keeps keys on disk
across a crash (Redis AOF with ``fsync=always``), ``"none"`` loses them; the docs'
*delayed restart* is ``restart_delay``: a restarted server refuses to answer for that
long.  With ``extend=True`` a holder extends its lock halfway through each validity
period, as the docs suggest for long critical sections: a script resets the expiry of
the key if it still holds the client's value, and the extension counts only if it reached
a majority within the (new) validity.

:data:`BUGS` plants the mistakes the docs warn against, each in the client:
``no_drift_allowance`` and ``no_elapsed_time`` drop a term of the validity,
``unconditional_release`` releases with a plain ``DEL``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

from .. import sim
from ..sim import checks, knob, majority
from .checker import check
from .harness import LockWorkload, LoopConfig, lock_cluster
from .scenarios import redlock_clock_jump, redlock_pause, redlock_write_delay
from .worker import LockClient

WorkloadConfig = LockWorkload  # every family names its workload knobs WorkloadConfig

__all__ = [
    "BUGS",
    "WorkloadConfig",
    "DRIFT_CONSTANT",
    "SCENARIOS",
    "Config",
    "Del",
    "Extend",
    "ExtendReply",
    "RedLockClient",
    "RedisServer",
    "Set",
    "SetReply",
    "check",
    "majority",
    "simulate",
]

BUGS = {
    "no_drift_allowance": "The validity leaves out the clock-drift allowance (drift_factor·ttl "
                          "+ 2 ms), so a client whose clock runs slow goes on believing it "
                          "holds the lock after the servers' keys expired.",
    "no_elapsed_time": "The validity is not reduced by the time the acquisition took, so "
                       "after a slow acquisition the client believes it holds the lock "
                       "after the keys granted early expired.",
    "unconditional_release": "Release is a plain DEL instead of compare-and-delete, so a "
                             "client frees a lock another client holds (step 4's unlock "
                             "after a failed attempt does it at once).",
}
"""RedLock's planted bugs: name → the rule it breaks (``simulate(bugs=…)``)."""

DRIFT_CONSTANT = 0.002
"""The docs' fixed 2 ms added to the clock-drift allowance, in seconds."""


class Set(NamedTuple):
    """``SET key value NX PX ttl`` (``ttl`` in seconds)."""
    key: str
    value: str
    ttl: float


class SetReply(NamedTuple):
    key: str
    value: str
    ok: bool


class Extend(NamedTuple):
    """The extension script: ``if GET key == value then PEXPIRE key ttl``."""
    key: str
    value: str
    ttl: float


class ExtendReply(NamedTuple):
    key: str
    value: str
    ok: bool


class Del(NamedTuple):
    """The release script: ``if GET key == value then DEL key``; with ``value=None`` a
    plain ``DEL key`` (the ``unconditional_release`` bug)."""
    key: str
    value: str | None


class RedisServer(sim.Node):
    """One Redis instance: keys with a value and an expiry time on the *local* clock.

    Parameters
    ----------
    persistence : {"none", "fsync"}
        Whether keys survive a crash.  With ``"fsync"`` and a storage model
        (``simulate(storage=…)``) a grant or an extension is answered once it is durable.
    restart_delay : float
        After a restart, ignore every request for this many seconds.

    Examples
    --------
    >>> from dsalgo import sim
    >>> node, ctx = RedisServer(), sim.RecordingContext("n1", now=10.0)
    >>> node.on_start(ctx)
    >>> node.on_message(ctx, "c1", Set("lock", "c1:1", ttl=1.0))
    >>> node.on_message(ctx, "c2", Set("lock", "c2:1", ttl=1.0))
    >>> ctx.take()
    [Send(dst='c1', msg=SetReply(key='lock', value='c1:1', ok=True)), Send(dst='c2', msg=SetReply(key='lock', value='c2:1', ok=False))]
    """

    def __init__(self, persistence: str = "none", restart_delay: float = 0.0):
        self.persistence = persistence
        self.restart_delay = restart_delay

    def on_start(self, ctx):
        boots = ctx.disk["boots"] = ctx.disk.get("boots", 0) + 1
        if self.persistence == "fsync":
            self.data = ctx.disk.setdefault("data", {})
        else:
            self.data = {}
        if not ctx.durable_at_once:
            ctx.sync()  # the boot count, so that the next restart is delayed too
        self.available_at = ctx.now + self.restart_delay if boots > 1 else -math.inf

    def _answer(self, ctx, dst, reply):
        """Answer a request that changed a key: with ``fsync`` persistence only once the
        change is durable (``appendfsync always``); at once without a storage model."""
        if self.persistence == "fsync":
            ctx.sync(send=[(dst, reply)])
        else:
            ctx.send(dst, reply)

    def on_message(self, ctx, src, msg):
        now = ctx.now
        if now < self.available_at:
            return  # delayed restart: unavailable until every lock it may have lost expired
        if isinstance(msg, Set):
            entry = self.data.get(msg.key)
            # Expiry by this server's own clock: the line RedLock's safety leans on, and
            # the one a clock jump or a drifting clock breaks.
            if entry is None or entry[1] <= now:
                self.data[msg.key] = (msg.value, now + msg.ttl)
                self._answer(ctx, src, SetReply(msg.key, msg.value, True))
            else:
                ctx.send(src, SetReply(msg.key, msg.value, False))
        elif isinstance(msg, Extend):
            entry = self.data.get(msg.key)
            ok = entry is not None and entry[0] == msg.value and entry[1] > now
            if ok:
                self.data[msg.key] = (msg.value, now + msg.ttl)
                self._answer(ctx, src, ExtendReply(msg.key, msg.value, ok))
            else:
                ctx.send(src, ExtendReply(msg.key, msg.value, ok))
        elif isinstance(msg, Del):
            entry = self.data.get(msg.key)
            if entry is not None and (msg.value is None or entry[0] == msg.value):
                # compare-and-delete never frees another's lock; a plain DEL does
                del self.data[msg.key]


class RedLockClient(LockClient):
    """A RedLock client running the acquire → critical section → release loop.

    Parameters
    ----------
    servers : list of str
        The Redis servers.
    ttl : float
        The lock's time to live, seconds.
    drift_factor : float
        Clock drift allowance as a fraction of ``ttl`` (the docs use 0.01).
    server_timeout : float
        How long to wait for the servers' answers, much smaller than ``ttl``.
    retry_delay : float
        A failed attempt is retried after a delay drawn uniformly from [0, retry_delay].
    extend : bool
        Extend the lock halfway through each validity period while holding it.
    bugs : collection of str
        Names from :data:`BUGS` to plant.
    **loop
        Passed to :class:`~dsalgo.locks.worker.LockClient` (``key``, ``critical_section``,
        ``think``, ``storage_timeout``, ``start``).

    Examples
    --------
    >>> from dsalgo import sim
    >>> c = RedLockClient(["n1", "n2", "n3"], ttl=1.0)
    >>> ctx = sim.RecordingContext("c1", now=5.0)
    >>> c.lock(ctx)
    >>> for s in ("n1", "n2"):
    ...     c.on_message(ctx, s, SetReply("lock", "c1:1.1", True))
    >>> [e for e in ctx.take() if isinstance(e, sim.Emit)]
    [Emit(kind='acquire', fields={'lock': 'lock', 'token': None, 'validity': 0.988, 'granted': 2})]
    """

    def __init__(self, servers, *, ttl=1.0, drift_factor=0.01, server_timeout=0.05,
                 retry_delay=0.1, extend=False, bugs=frozenset(), **loop):
        super().__init__(**loop)
        self.bugs = frozenset(bugs)
        self.extend = extend
        self.extending = False
        self.t_extend = 0.0
        self.servers = list(servers)
        self.ttl = ttl
        self.drift_factor = drift_factor
        self.server_timeout = server_timeout
        self.retry_delay = retry_delay
        self.attempt = 0
        self.boot = 1
        self.value = None
        self.acquiring = False
        self.granted: set = set()
        self.refused: set = set()
        self.t_start = 0.0

    def lock(self, ctx):
        self.attempt += 1
        # unique across clients, attempts and restarts, as the docs' random value must be
        self.value = f"{ctx.id}:{self.boot}.{self.attempt}"
        self.t_start = ctx.now
        self.acquiring = True
        self.granted, self.refused = set(), set()
        ctx.broadcast(self.servers, Set(self.key, self.value, self.ttl))
        ctx.set_timer("acquire_timeout", self.server_timeout)

    def unlock(self, ctx):
        value = None if "unconditional_release" in self.bugs else self.value
        ctx.broadcast(self.servers, Del(self.key, value))

    def _decide(self, ctx):
        self.acquiring = False
        ctx.cancel_timer("acquire_timeout")
        validity = self._validity(ctx.now - self.t_start)
        need = majority(len(self.servers))
        # The safety line: two majorities of the same servers intersect, and a server
        # holds one value per key, so two clients cannot both hold a majority at once —
        # for as long as the keys last, which the validity (measured from *before* the
        # first SET, minus the drift allowance) promises to stay within.
        if len(self.granted) >= need and validity > 0:
            # The belief ends when this timer fires by the *client's* clock.
            ctx.set_timer("validity", validity)
            if self.extend:
                ctx.set_timer("extend", validity / 2)
            self.enter(ctx, None, validity=round(validity, 12), granted=len(self.granted))
        else:
            ctx.emit("acquire_failed", lock=self.key, granted=len(self.granted),
                     validity=round(validity, 12))
            self.unlock(ctx)  # step 4: unlock every server, even those that refused
            ctx.set_timer("next", (0.0, self.retry_delay))

    def _validity(self, elapsed: float) -> float:
        """``ttl − elapsed − drift``, with the docs' ``drift = drift_factor·ttl + 2 ms``."""
        if "no_elapsed_time" in self.bugs:
            elapsed = 0.0
        drift = self.drift_factor * self.ttl + DRIFT_CONSTANT
        if "no_drift_allowance" in self.bugs:
            drift = 0.0
        return self.ttl - elapsed - drift

    def _decide_extension(self, ctx):
        self.extending = False
        ctx.cancel_timer("extend_timeout")
        validity = self._validity(ctx.now - self.t_extend)
        if len(self.granted) >= majority(len(self.servers)) and validity > 0:
            ctx.set_timer("validity", validity)  # the new validity replaces the old one
            ctx.set_timer("extend", validity / 2)
            ctx.emit("extend", lock=self.key, validity=round(validity, 12),
                     granted=len(self.granted))
        else:  # the old validity still stands, and will run out
            ctx.emit("extend_failed", lock=self.key, granted=len(self.granted))

    def on_start(self, ctx):
        self.boot = ctx.disk["boots"] = ctx.disk.get("boots", 0) + 1
        super().on_start(ctx)

    def on_message(self, ctx, src, msg):
        if isinstance(msg, ExtendReply):
            if self.extending and msg.value == self.value:
                (self.granted if msg.ok else self.refused).add(src)
                n = len(self.servers)
                need = majority(n)
                if len(self.granted) >= need or len(self.refused) > n - need:
                    self._decide_extension(ctx)
        elif isinstance(msg, SetReply):
            if not self.acquiring or msg.value != self.value:
                return  # a late answer to an attempt already decided
            (self.granted if msg.ok else self.refused).add(src)
            n = len(self.servers)
            need = majority(n)
            if len(self.granted) >= need or len(self.refused) > n - need:
                self._decide(ctx)
        else:
            self.on_storage(ctx, msg)

    def on_timer(self, ctx, name):
        if name == "acquire_timeout":
            if self.acquiring:
                self._decide(ctx)
        elif name == "extend":
            if self.holding and not self.extending:
                self.extending = True
                self.t_extend = ctx.now  # validity counts from before the first request
                self.granted, self.refused = set(), set()
                ctx.broadcast(self.servers, Extend(self.key, self.value, self.ttl))
                ctx.set_timer("extend_timeout", self.server_timeout)
        elif name == "extend_timeout":
            if self.extending:
                self._decide_extension(ctx)
        elif name == "validity":
            if self.holding:
                self._stop_extending(ctx)
                self.lost(ctx, "validity")
                self.unlock(ctx)
                ctx.set_timer("next", (0.0, self.retry_delay))
        else:
            self.on_loop_timer(ctx, name)

    def _stop_extending(self, ctx):
        self.extending = False
        for t in ("extend", "extend_timeout"):
            if ctx.timer_set(t):
                ctx.cancel_timer(t)

    def leave(self, ctx):
        ctx.cancel_timer("validity")
        self._stop_extending(ctx)
        super().leave(ctx)



@dataclasses.dataclass(frozen=True)
class Config(LoopConfig):
    """RedLock's knobs: the holder loop's (:class:`~dsalgo.locks.harness.LoopConfig`), the
    lock's and the servers'.

    Examples
    --------
    >>> Config(ttl=2.0).server_timeout
    0.05
    >>> Config(ttl=0.052)
    Traceback (most recent call last):
    ...
    ValueError: server_timeout must leave validity to an attempt decided at the timeout: server_timeout < ttl - drift_factor*ttl - 0.002 = 0.04948; got 0.05
    """

    ttl: float = knob(1.0, "Lock time to live, seconds.", checks.positive)
    drift_factor: float = knob(0.01, "Clock-drift allowance as a fraction of ttl (the docs "
                               "use 0.01).", checks.non_negative)
    server_timeout: float = knob(0.05, "How long an attempt waits for the servers (must be "
                                 "< ttl - drift_factor*ttl - 2 ms, so that an attempt "
                                 "decided at the timeout has validity left).",
                                 checks.positive)
    retry_delay: float = knob(0.1, "Upper end of the uniform random delay before a retry.",
                              checks.non_negative)
    persistence: str = knob("none", "Whether a server's keys survive its crash: 'none' or "
                            "'fsync'.", checks.choice("none", "fsync"))
    restart_delay: float = knob(0.0, "Seconds a restarted server stays unavailable (the "
                                "docs' delayed restart).", checks.non_negative)
    extend: bool = knob(False, "Holders extend their lock halfway through each validity "
                        "period.", checks.boolean)
    bugs: frozenset = knob(frozenset(), "Planted bugs, names of redlock.BUGS.",
                           checks.bugs(BUGS))

    def validate(self):
        # An attempt is decided at the latest when server_timeout runs out (by the
        # client's clock), so its validity is at least ttl - server_timeout - drift: with
        # this bound every attempt a majority granted has a lease to use.
        most = self.ttl - self.drift_factor * self.ttl - DRIFT_CONSTANT
        if self.server_timeout >= most:
            raise ValueError(f"server_timeout must leave validity to an attempt decided "
                             f"at the timeout: server_timeout < ttl - drift_factor*ttl - "
                             f"{DRIFT_CONSTANT:g} = {most:.6g}; got {self.server_timeout!r}")


def _cluster(n=5, *, seed=0, network=None, bugs=(), record_messages=True, cpu=None,
             storage=None, **knobs) -> sim.Cluster:
    """The cluster of a RedLock run, before it runs (scenarios add observers to it)."""
    cfg, work = sim.split_knobs(knobs, Config, LockWorkload)
    config = Config(bugs=bugs, **cfg)
    return lock_cluster(
        "redlock", n, config, LockWorkload(**work), seed=seed, network=network,
        record_messages=record_messages, cpu=cpu, storage=storage,
        server=lambda sid, servers: RedisServer(config.persistence, config.restart_delay),
        client=lambda servers, start: RedLockClient(
            servers, ttl=config.ttl, drift_factor=config.drift_factor,
            server_timeout=config.server_timeout, retry_delay=config.retry_delay,
            extend=config.extend, bugs=config.bugs, start=start, **config.loop_options()))


def simulate(n=5, *, seed=0, duration=5.0, network=None, faults=(), bugs=(),
             record_messages=True, progress=False, cpu=None, storage=None,
             **knobs) -> sim.Run:
    """Run RedLock: ``n`` Redis servers ``n1…``, clients ``c1…``, one storage service.

    Each client loops: acquire the lock, read the counter on the storage service, work for
    ``critical_section`` seconds, write the counter plus one, release, wait ``think``.

    Parameters
    ----------
    n : int
        Number of Redis servers (≥ 1).
    seed : int
        Same seed, same tables.
    duration : float
        Simulated seconds to run.
    network : dsalgo.sim.Network, optional
        Default: exponential latency with mean 5 ms, no loss.
    faults : iterable of dsalgo.sim faults
        May target servers, clients or ``"storage"``.
    bugs : collection of str
        Planted bugs, names of :data:`BUGS`.
    record_messages : bool
        Keep ``run.messages`` (turn off for speed).
    progress : bool
        Show a progress bar (``tqdm``) over simulated time while it runs.
    cpu : latency model or dict, optional
        The Redis servers' processing time per message and timer (see
        :meth:`dsalgo.sim.Simulation.add_node`); default: none.  Clients and the storage
        service take no time.
    storage : dsalgo.sim.Storage, optional
        The Redis servers' storage model: with ``persistence="fsync"`` a grant is answered
        once the key is durable, and a crash loses what was not synced; default: writes
        durable at once.
    **knobs
        Fields of :class:`Config` (``ttl``, ``drift_factor``, ``server_timeout``,
        ``retry_delay``, ``persistence``, ``restart_delay``, ``extend``,
        ``critical_section``, ``think``, ``storage_timeout``, ``key``;
        ``Config.describe()`` explains each) and of the workload,
        :class:`~dsalgo.locks.harness.LockWorkload` (``clients``, default 2; ``starts``).

    Returns
    -------
    dsalgo.sim.Run
        Events ``request``, ``acquire``, ``acquire_failed``, ``extend``, ``extend_failed``,
        ``release``, ``expire`` (clients) and ``write`` (storage); one ``incr`` per
        critical section in ``run.history``; ``run.params`` the family, ``n``, every knob
        and the workload.

    Examples
    --------
    >>> from dsalgo import locks
    >>> run = locks.redlock.simulate(n=3, clients=2, seed=1, duration=1.0)
    >>> bool(locks.check(run)), locks.check(run).info["acquisitions"] > 5
    (True, True)
    >>> run.params["family"], run.params["ttl"], run.params["workload"]["clients"]
    ('redlock', 1.0, 2)
    >>> bad = locks.redlock.simulate(n=3, seed=1, duration=1.0, bugs={"unconditional_release"})
    >>> locks.check(bad).holds("mutual_exclusion")
    False
    """
    cluster = _cluster(n, seed=seed, network=network, bugs=bugs,
                       record_messages=record_messages, cpu=cpu, storage=storage, **knobs)
    return cluster.run(duration, faults, progress=progress, close=True)


SCENARIOS = {f.__name__: f for f in (redlock_pause, redlock_clock_jump, redlock_write_delay)}
"""Scripted runs of Kleppmann's RedLock failures (:mod:`dsalgo.locks.scenarios`)."""
