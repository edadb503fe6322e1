"""The lock-holder loop shared by every lock client: acquire, critical section, release.

Kleppmann (2016) frames the danger of a lease-based lock as a *belief*: a client believes
it holds the lock from the moment its acquisition succeeds until it releases it or learns
(from its own clock or its session) that the lock has lapsed.  Nothing the client does can
shorten a belief while it is paused or its messages are in flight.  This module makes
that belief explicit in ``run.events`` so that a checker can judge mutual exclusion in
real time, from the tables alone:

``acquire``  (``lock``, ``token``, …) the belief starts;
``release``  (``lock``, ``token``) the client gives the lock up after its critical section;
``expire``   (``lock``, ``token``, ``reason``) the client learns its lock has lapsed;
``request``  (``lock``) the client starts wanting the lock (its first attempt after the
             start, a restart, a release or a lapse; retries do not repeat it), so that
             the time to acquire can be measured from the tables.

A crash of the client also ends its belief (the engine's ``crash`` event).

The critical section is a read-modify-write of a counter on the storage service
(:mod:`dsalgo.locks.storage`): read, work for ``critical_section`` seconds, write the
value plus one, release.  Each critical section is one ``incr`` operation in
``run.history`` (``ok`` when the write was accepted, ``fail`` when it was fenced off,
``info`` when its fate is unknown).  A client that has lost its lock abandons the
section, but a write already sent stays on the wire: that is the case fencing is for.

Subclasses implement :meth:`LockClient.lock` (start an acquisition, ending in
:meth:`LockClient.enter`) and :meth:`LockClient.unlock`.
"""

from __future__ import annotations

from .. import sim
from .storage import STORAGE, Read, ReadReply, Write, WriteReply

__all__ = ["LockClient"]


class LockClient(sim.Node):
    """Base class: the acquire → read → work → write → release loop.

    Parameters
    ----------
    key : str
        The lock's name, also the storage key it protects.
    critical_section : float
        Seconds of work between the read and the write.
    think : float or (low, high)
        Seconds between a release and the next acquisition attempt.
    storage_timeout : float or None
        Give up waiting for the storage's answer to a read or a write after this many
        seconds (and release); ``None`` waits for ever.
    fencing : bool
        Send the lock's token with storage requests.
    start : float
        Local time of the first acquisition attempt.
    """

    def __init__(self, *, key="lock", critical_section=0.05, think=0.0, storage_timeout=None,
                 fencing=False, start=0.0):
        self.key = key
        self.critical_section = critical_section
        self.think = think
        self.storage_timeout = storage_timeout
        self.fencing = fencing
        self.start = start
        self.holding = False
        self.wanting = False    # a ``request`` was emitted and no acquisition followed
        self.token = None
        self.cycle = 0          # one per critical section; tags storage requests
        self.op = None          # op_id of the open ``incr`` operation
        self.phase = None       # None, "read", "work", "write"
        self.read_value = self.read_version = None

    # ------------------------------------------------------------ subclass hooks
    def lock(self, ctx) -> None:  # pragma: no cover - abstract
        """Start an acquisition attempt; call :meth:`enter` when it succeeds."""
        raise NotImplementedError

    def unlock(self, ctx) -> None:  # pragma: no cover - abstract
        """Release the lock on the lock service (after the ``release`` event)."""
        raise NotImplementedError

    # ------------------------------------------------------------ the loop
    def enter(self, ctx, token=None, **fields) -> None:
        """The acquisition succeeded: believe it, and start the critical section."""
        self.holding = True
        self.wanting = False
        self.token = token
        self.cycle += 1
        ctx.emit("acquire", lock=self.key, token=token, **fields)
        self.op = ctx.invoke("incr", self.key, None)
        self.phase = "read"
        ctx.send(STORAGE, Read(self.cycle, self.key, self._token()))
        if self.storage_timeout is not None:
            ctx.set_timer("storage_timeout", self.storage_timeout)

    def leave(self, ctx) -> None:
        """Give the lock up after the critical section, and plan the next attempt."""
        self._stop_section(ctx)
        ctx.emit("release", lock=self.key, token=self.token)
        self.holding = False
        self.unlock(ctx)
        ctx.set_timer("next", self.think)

    def lost(self, ctx, reason: str) -> None:
        """The client learned that its lock lapsed: end the belief, abandon the section."""
        if not self.holding:
            return
        if self.op is not None:
            ctx.complete(self.op, "info")
            self.op = None
        self._stop_section(ctx)
        ctx.emit("expire", lock=self.key, token=self.token, reason=reason)
        self.holding = False

    def _stop_section(self, ctx):
        self.phase = None
        if ctx.timer_set("work"):
            ctx.cancel_timer("work")
        if ctx.timer_set("storage_timeout"):
            ctx.cancel_timer("storage_timeout")

    def start_wanting(self, ctx) -> None:
        """The client wants the lock from now on: emit ``request`` unless it already did."""
        if not self.wanting:
            self.wanting = True
            ctx.emit("request", lock=self.key)

    def _token(self):
        return self.token if self.fencing else None

    # ------------------------------------------------------------ handlers
    def on_start(self, ctx):
        ctx.set_timer("next", self.start)

    def on_storage(self, ctx, msg) -> bool:
        """Handle a storage reply; returns False if ``msg`` is not one."""
        if isinstance(msg, ReadReply):
            if msg.req == self.cycle and self.phase == "read":
                if not msg.ok:  # fenced off: someone newer holds the lock
                    ctx.complete(self.op, "fail")
                    self.op = None
                    self.leave(ctx)
                else:
                    self.read_value, self.read_version = msg.value, msg.version
                    self.phase = "work"
                    if self.storage_timeout is not None:
                        ctx.cancel_timer("storage_timeout")
                    ctx.set_timer("work", self.critical_section)
            return True
        if isinstance(msg, WriteReply):
            if msg.req == self.cycle and self.phase == "write":
                ctx.complete(self.op, "ok" if msg.accepted else "fail", self.read_value + 1)
                self.op = None
                self.leave(ctx)
            return True
        return False

    def on_loop_timer(self, ctx, name) -> bool:
        """Handle the loop's own timers; returns False for a timer it does not own."""
        if name == "next":
            self.start_wanting(ctx)
            self.lock(ctx)
        elif name == "work":
            if self.holding and self.phase == "work":
                self.phase = "write"
                ctx.send(STORAGE, Write(self.cycle, self.key, self.read_value + 1,
                                        self.read_version, self._token()))
                if self.storage_timeout is not None:
                    ctx.set_timer("storage_timeout", self.storage_timeout)
        elif name == "storage_timeout":
            if self.holding and self.phase in ("read", "write"):
                # a lost read changed nothing; a write's fate is unknown
                ctx.complete(self.op, "fail" if self.phase == "read" else "info")
                self.op = None
                self.leave(ctx)
        else:
            return False
        return True
