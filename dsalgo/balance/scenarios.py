"""Scripted runs that show each planted bug of :data:`~dsalgo.balance.BUGS` step by step.

Each scenario is a small, deterministic run (a few dozen requests, messages recorded, so
``plot.space_time`` can draw it) with the bug switched on; ``bug=False`` gives the same run
without it, which :func:`~dsalgo.balance.check` passes.

Examples
--------
>>> from dsalgo import balance
>>> run = balance.SCENARIOS["lifo_service"]()
>>> v = balance.check(run)
>>> v.holds("fifo"), v.violations["detail"].iloc[0]
(False, 'request 5 started before request 4, which reached n1 earlier')
>>> bool(balance.check(balance.SCENARIOS["lifo_service"](bug=False)))
True
"""

from __future__ import annotations

from .harness import simulate

__all__ = ["SCENARIOS", "ignore_cap", "lifo_service", "no_drain_on_done"]


def _run(bug_name: str, bug: bool, n: int, **knobs):
    return simulate(n, bugs={bug_name} if bug else (), record_messages=True, **knobs)


def ignore_cap(bug: bool = True):
    """A hot key on a bounded-load ring: with the bug its owner takes every request for it.

    Three backends, Zipf-skewed keys (most requests share key 0); the ring's owner of the hot
    key soon holds more than ``ceil(1.25 (m + 1) / 3)`` of the ``m`` outstanding requests,
    and the buggy balancer still sends it the next one (``bounded_load`` names it).
    """
    return _run("ignore_cap", bug, 3, policy="consistent_hash_bounded", epsilon=0.25,
                utilization=0.8, requests=40, keys=50, key_skew=2.0, seed=1)


def lifo_service(bug: bool = True):
    """One busy backend: with the bug, the newest waiting request is served first.

    A single backend at 90 % load builds a queue; each time a service ends the buggy backend
    takes the request that arrived last, so requests start out of arrival order (``fifo``).
    """
    return _run("lifo_service", bug, 1, utilization=0.9, requests=30, seed=1)


def no_drain_on_done(bug: bool = True):
    """A central queue that forgets to hand held requests to a backend that just finished.

    Two backends at 70 % load: when both are busy the balancer holds arrivals; with the bug
    a completion does not release them, so a request waits while a backend stands idle
    until the next arrival (``work_conserving``).
    """
    return _run("no_drain_on_done", bug, 2, policy="central_queue", utilization=0.7,
                requests=30, seed=1)


#: Bug name -> function returning a :class:`~dsalgo.sim.Run` that shows it (``bug=False``:
#: the same run without it).
SCENARIOS = {"ignore_cap": ignore_cap, "lifo_service": lifo_service,
             "no_drain_on_done": no_drain_on_done}
