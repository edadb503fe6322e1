"""Scripted failures of distributed locks, after Kleppmann, "How to do distributed locking".

Each function returns a :class:`~dsalgo.sim.Run` on a network with a constant 5 ms
latency, so the story reads off a space-time diagram (:func:`dsalgo.plot.lock_timeline`).
Client ``c1`` takes the lock first; a fault is injected at a moment defined by what ``c1``
did (an observer stops the run at ``c1``'s ``acquire`` event and the fault is scheduled
from there), then ``c2`` takes over.  :func:`dsalgo.locks.check` says what broke:

==============================  =====================  ===================================
scenario                        mutual_exclusion        storage_safety
==============================  =====================  ===================================
:func:`redlock_pause`           violated (c1 paused)    violated (lost update)
:func:`redlock_clock_jump`      violated (c1 and c2)    violated (lost update)
:func:`redlock_write_delay`     holds                   violated (the late write lands)
:func:`zookeeper_session_expiry`  violated (c1 paused)  holds with fencing (write rejected)
:func:`zookeeper_write_delay`   holds                   holds with fencing (write rejected)
==============================  =====================  ===================================

The ZooKeeper runs are fenced, so their verdicts also judge ``fenced_exclusion``: it
holds in both, the overlap of ``zookeeper_session_expiry`` being excused by ``c1``'s pause
(:func:`dsalgo.locks.overlaps`).  With ``bugs={"no_fencing"}`` the ZooKeeper scenarios
lose the update too.  Every scenario
takes ``bugs`` (names of the family's ``BUGS``) and builds its run the way the family's
``simulate`` does; ``redlock.SCENARIOS`` and ``zookeeper.SCENARIOS`` list them per family.
"""

from __future__ import annotations

import importlib

from .. import sim
from .._validate import check_number
from .storage import STORAGE

__all__ = [
    "SCENARIOS",
    "redlock_clock_jump",
    "redlock_pause",
    "redlock_write_delay",
    "zookeeper_session_expiry",
    "zookeeper_write_delay",
]

LATENCY = 0.005
"""One-way message delay of every scenario, seconds."""


class _SlowNth(sim.Latency):
    """Constant ``base`` latency, except that the ``nth`` message on the link takes ``delay``."""

    def __init__(self, base: float, nth: int, delay: float):
        self.base, self.nth, self.delay, self.count = base, nth, delay, 0

    def sample(self, rng):
        self.count += 1
        return self.delay if self.count == self.nth else self.base

    @property
    def mean(self):
        return self.base


def _network():
    return sim.Network(latency=sim.Constant(LATENCY))


def _cluster(family: str, n: int, name: str, params: dict, **knobs) -> sim.Cluster:
    """The family's cluster for scenario ``name`` (``params`` are recorded in run.params)."""
    # imported here: each family module lists its scenarios from this module
    cluster = importlib.import_module(f"{__package__}.{family}")._cluster(n, **knobs)
    cluster.params.update(scenario=name, **params)
    return cluster


def _after_acquire(cluster: sim.Cluster, client: str, faults_at, until: float,
                   faults=()) -> sim.Run:
    """Run (with ``faults``) until ``client`` first acquires; then add ``faults_at(t)`` and
    run to ``until``."""
    seen = []

    def watch(simulation, time, node, kind, fields):
        if not seen and node == client and kind == "acquire":
            seen.append(time)
            simulation.stop()

    cluster.sim.add_observer(watch)
    cluster.run(until, faults)
    if not seen:
        raise RuntimeError(f"scenario {cluster.params['scenario']}: {client} never acquired "
                           f"the lock before t={until}s")
    return cluster.run(until, faults_at(seen[0]))


def redlock_pause(pause: float | None = None, *, ttl: float = 1.0,
                  critical_section: float = 0.1, drift: float = 0.0, seed: int = 0,
                  bugs=()) -> sim.Run:
    """RedLock, and a stop-the-world pause of the holder longer than the TTL.

    ``c1`` acquires, reads the counter, and is paused in its critical section for
    ``pause`` seconds (default ``2 · ttl``).  The keys expire on the servers, ``c2``
    acquires and updates the counter; ``c1`` wakes, still believing it holds the lock
    (its validity timer is handled only after its pending work), and writes a value
    computed from a stale read.

    Parameters
    ----------
    pause : float, optional
        Pause length in seconds (≥ 0, 0 for none); default ``2 · ttl``.
    ttl : float
        The lock's TTL.
    critical_section : float
        Work time; the pause starts halfway through it.
    drift : float
        Clock drift rate of ``c1`` from the start (−0.05: its clock runs 5 % slow, so its
        validity lasts longer in real time than the servers' keys).
    seed : int
        The run's seed.
    bugs : collection of str
        Names of :data:`dsalgo.locks.redlock.BUGS` planted in the clients.

    Examples
    --------
    >>> from dsalgo import locks
    >>> v = locks.check(locks.scenarios.redlock_pause())
    >>> v.holds("mutual_exclusion"), v.holds("storage_safety")
    (False, False)
    >>> bool(locks.check(locks.scenarios.redlock_pause(pause=0.0)))
    True
    """
    ttl = check_number("ttl", ttl, low=0.0, low_open=True)
    pause = 2 * ttl if pause is None else check_number("pause", pause, low=0.0)
    critical_section = check_number("critical_section", critical_section, low=0.0,
                                    low_open=True)
    drift = check_number("drift", drift, low=-0.5, high=0.5)
    faults = [sim.ClockDrift("c1", rate=drift)] if drift else []
    cluster = _cluster("redlock", 5, "redlock_pause", {"pause": pause, "drift": drift},
                       clients=2, ttl=ttl, critical_section=critical_section, seed=seed,
                       network=_network(), starts=[0.0, 0.02], think=0.1, bugs=bugs)
    at = 2 * LATENCY + critical_section / 2  # c1 is reading, then working: pause mid-work
    return _after_acquire(cluster, "c1", lambda t: [] if pause == 0 else [
        sim.Pause("c1", at=t + at, duration=pause)],
        until=pause + critical_section + 2 * ttl, faults=faults)


def redlock_clock_jump(delta: float | None = None, *, ttl: float = 1.0,
                       critical_section: float = 0.3, seed: int = 0, bugs=()) -> sim.Run:
    """RedLock, and a forward clock jump on a server right after a client got a majority.

    ``c1`` cannot reach ``n4, n5`` and ``c2`` cannot reach ``n1, n2`` (two partitions,
    healed at ``ttl / 4``).
    ``c1`` acquires on ``n1, n2, n3``; the clock of ``n3`` then jumps forward by ``delta``
    (default ``ttl``), so ``n3`` expires ``c1``'s key at once; ``c2`` acquires on
    ``n3, n4, n5``.  Both hold the lock (Kleppmann's example).

    Examples
    --------
    >>> from dsalgo import locks
    >>> v = locks.check(locks.scenarios.redlock_clock_jump())
    >>> v.violations.loc[0, ["property", "nodes"]].tolist()
    ['mutual_exclusion', ('c1', 'c2')]
    """
    ttl = check_number("ttl", ttl, low=0.0, low_open=True)
    delta = ttl if delta is None else check_number("delta", delta)
    critical_section = check_number("critical_section", critical_section, low=0.0)
    cuts = [sim.Partition([["c1"], ["n4", "n5"]], at=0.0, until=0.25 * ttl),
            sim.Partition([["c2"], ["n1", "n2"]], at=0.0, until=0.25 * ttl)]
    cluster = _cluster("redlock", 5, "redlock_clock_jump", {"delta": delta}, clients=2,
                       ttl=ttl, critical_section=critical_section, seed=seed,
                       network=_network(), starts=[0.0, 0.05], think=1.0, bugs=bugs)
    return _after_acquire(cluster, "c1", lambda t: [sim.ClockJump("n3", at=t, delta=delta)],
                          until=1.5 * ttl, faults=cuts)


def redlock_write_delay(delay: float | None = None, *, ttl: float = 1.0,
                        critical_section: float = 0.1, seed: int = 0, bugs=()) -> sim.Run:
    """RedLock, and a write of the holder delayed in the network past the lock's expiry.

    ``c1``'s write to the storage takes ``delay`` seconds (default ``1.5 · ttl``).  Its
    validity runs out while it waits, so ``c1`` stops believing it holds the lock; ``c2``
    acquires and updates the counter; then ``c1``'s old write lands and overwrites it.
    Mutual exclusion of *beliefs* holds; the storage still loses an update.

    Examples
    --------
    >>> from dsalgo import locks
    >>> v = locks.check(locks.scenarios.redlock_write_delay())
    >>> v.holds("mutual_exclusion"), v.holds("storage_safety")
    (True, False)
    """
    ttl = check_number("ttl", ttl, low=0.0, low_open=True)
    delay = 1.5 * ttl if delay is None else check_number("delay", delay, low=0.0)
    critical_section = check_number("critical_section", critical_section, low=0.0)
    net = _network()
    net.set_link("c1", STORAGE, latency=_SlowNth(LATENCY, 2, delay), symmetric=False)
    cluster = _cluster("redlock", 5, "redlock_write_delay", {"delay": delay}, clients=2,
                       ttl=ttl, critical_section=critical_section, seed=seed, network=net,
                       starts=[0.0, 0.02], think=1.0, bugs=bugs)
    return cluster.run(delay + ttl)


def zookeeper_session_expiry(pause: float | None = None, *, session_timeout: float = 1.0,
                             critical_section: float = 0.1, seed: int = 0, bugs=(),
                             **legacy) -> sim.Run:
    """The ZooKeeper lock, and a pause of the holder longer than its session timeout.

    ``c1`` acquires (token = its znode's sequence number) and is paused mid-work for
    ``pause`` seconds (default ``2 · session_timeout``).  The service expires its session
    and deletes its znode; ``c2`` is woken, acquires with a higher token and reads.
    ``c1`` wakes and writes: the storage rejects the stale token; with
    ``bugs={"no_fencing"}`` (was ``fencing=False``) the update of ``c2`` is lost.

    Examples
    --------
    >>> from dsalgo import locks
    >>> run = locks.scenarios.zookeeper_session_expiry()
    >>> v = locks.check(run)
    >>> v.holds("mutual_exclusion"), v.holds("storage_safety"), v.info["writes_rejected"]
    (False, True, 1)
    """
    bugs = _zookeeper_bugs(legacy, bugs, "zookeeper_session_expiry")
    session_timeout = check_number("session_timeout", session_timeout, low=0.0,
                                   low_open=True)
    pause = (2 * session_timeout if pause is None
             else check_number("pause", pause, low=0.0, low_open=True))
    critical_section = check_number("critical_section", critical_section, low=0.0,
                                    low_open=True)
    cluster = _cluster("zookeeper", 3, "zookeeper_session_expiry", {"pause": pause},
                       clients=2, session_timeout=session_timeout,
                       critical_section=critical_section, seed=seed, network=_network(),
                       starts=[0.0, 0.05], think=1.0, bugs=bugs)
    at = 2 * LATENCY + critical_section / 2
    return _after_acquire(cluster, "c1",
                          lambda t: [sim.Pause("c1", at=t + at, duration=pause)],
                          until=pause + 1.0)


def zookeeper_write_delay(delay: float | None = None, *, storage_timeout: float = 0.3,
                          critical_section: float = 0.1, seed: int = 0, bugs=(),
                          **legacy) -> sim.Run:
    """The ZooKeeper lock, and a holder's write delayed past its give-up time.

    ``c1``'s write takes ``delay`` seconds (default 1 s); after ``storage_timeout`` it gives
    up and releases; ``c2`` acquires with a higher token and reads; ``c1``'s late write is
    then rejected by the storage, or overwrites ``c2``'s with ``bugs={"no_fencing"}``.

    Examples
    --------
    >>> from dsalgo import locks
    >>> v = locks.check(locks.scenarios.zookeeper_write_delay(bugs={"no_fencing"}))
    >>> v.holds("mutual_exclusion"), v.holds("storage_safety")
    (True, False)
    """
    bugs = _zookeeper_bugs(legacy, bugs, "zookeeper_write_delay")
    delay = 1.0 if delay is None else check_number("delay", delay, low=0.0)
    storage_timeout = check_number("storage_timeout", storage_timeout, low=0.0, low_open=True)
    net = _network()
    net.set_link("c1", STORAGE, latency=_SlowNth(LATENCY, 2, delay), symmetric=False)
    cluster = _cluster("zookeeper", 3, "zookeeper_write_delay", {"delay": delay}, clients=2,
                       critical_section=critical_section, seed=seed, network=net,
                       starts=[0.0, 0.05], think=1.0, storage_timeout=storage_timeout,
                       bugs=bugs)
    return cluster.run(delay + 0.5)


def _zookeeper_bugs(legacy: dict, bugs, scenario: str) -> frozenset:
    """``bugs``, with the old ``fencing=`` keyword mapped onto it (with a warning)."""
    unknown = set(legacy) - {"fencing"}
    if unknown:
        raise TypeError(f"{scenario}() got an unexpected keyword argument "
                        f"{sorted(unknown)[0]!r}")
    from .zookeeper import _legacy
    return _legacy(dict(legacy), bugs, caller=scenario, stacklevel=4)


SCENARIOS = {f.__name__: f for f in (redlock_pause, redlock_clock_jump, redlock_write_delay,
                                     zookeeper_session_expiry, zookeeper_write_delay)}
"""Every scenario by name."""
