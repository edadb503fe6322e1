"""What a node is and what it may do: :class:`Node` and its :class:`Context`.

A node is a sans-I/O state machine.  Its handlers read their own state and the message,
and tell the context what to do — send, arm or cancel a timer, emit an event, persist to
``ctx.disk``, record a client operation — and the simulator performs it.  Nothing here
reads a wall clock or a global random generator, so a node can be driven by hand with a
:class:`~dsalgo.sim.testing.RecordingContext` in a unit test.
"""

from __future__ import annotations

import math
from heapq import heappush
from math import log
from typing import TYPE_CHECKING

from .._validate import check_number, check_range
from ._rng import stream

if TYPE_CHECKING:
    from .engine import Simulation

__all__ = ["Node", "Context"]

NaN = math.nan

# heap entry kinds
_DELIVER, _TIMER, _CALL, _RESUME, _STOP = 0, 1, 2, 3, 4
# a message row's fate (status, reason) is one small code, turned into the status and
# reason columns when the run's tables are built (run._FATE_STATUS, run._FATE_REASON)
_IN_FLIGHT, _DELIVERED, _LOSS, _PARTITION, _NODE_DOWN = 0, 1, 2, 3, 4


class Node:
    """Base class of simulated nodes: a sans-I/O state machine.

    Override any of :meth:`on_start`, :meth:`on_message`, :meth:`on_timer`.  A subclass need
    not call ``super().__init__()``; the simulator keeps its bookkeeping elsewhere.

    Examples
    --------
    >>> from dsalgo import sim
    >>> class Echo(sim.Node):
    ...     def on_message(self, ctx, src, msg):
    ...         ctx.send(src, msg)
    """

    def on_start(self, ctx: "Context") -> None:
        """Called when the node starts, and again after every restart."""

    def on_message(self, ctx: "Context", src: str, msg) -> None:
        """Called for each delivered message."""

    def on_timer(self, ctx: "Context", name: str) -> None:
        """Called when the timer ``name`` fires."""


class _Link:
    __slots__ = ("src", "dst", "src_code", "dst_code", "dst_state", "draw", "rate", "rand",
                 "drop", "dup", "fifo", "last", "rng", "blocked", "plain")

    def refresh(self, record: bool):
        self.plain = record and not (self.blocked or self.drop or self.dup or self.fifo)


class _NodeState:
    __slots__ = ("id", "code", "factory", "node", "ctx", "alive", "paused", "running", "queue",
                 "timers", "disk", "base_t", "base_local", "factor", "incarnation", "on_message",
                 "on_timer")

    def local(self, t: float) -> float:
        return self.base_local + (t - self.base_t) * self.factor


_TYPE_NAMES: dict[type, str] = {}


def _type_name(msg) -> str:
    if isinstance(msg, dict):
        return str(msg.get("type", "dict"))
    cls = msg.__class__
    name = _TYPE_NAMES.get(cls)
    if name is None:
        name = _TYPE_NAMES[cls] = cls.__name__
    return name


class Context:
    """What a node may do: the only door between a node and the world.

    Attributes
    ----------
    id : str
        The node's id.
    rng : random.Random
        The node's own seeded random stream.
    disk : dict
        Storage that survives crashes (everything else on the node is lost).
    """

    def __init__(self, sim: "Simulation", st: _NodeState):
        self.id = st.id
        self._sim = sim
        self._st = st
        self.rng = stream(sim.seed, "node", st.id)
        self._timer_rng = stream(sim.seed, "timer", st.id)
        self.disk = st.disk
        self._out: dict[str, _Link] = {}
        self.send = self._fast_send()  # shadows the documented method below, same behaviour

    def _fast_send(self):
        # The hot path of every simulation, as a closure: its state lives in cells, which
        # are cheaper to read than attributes.  Behaviour is exactly Context.send's.
        sim = self._sim
        src = self.id
        out_get = self._out.get
        out = self._out
        type_code = sim._type_codes.get
        rows_append = sim._msg_rows.append
        heap = sim._heap
        seq = sim._seq
        make_link = sim._link
        slow = sim._send_slow

        def send(dst, msg):
            link = out_get(dst)
            if link is None:
                link = out[dst] = make_link(src, dst)
            if link.plain:
                code = type_code(msg.__class__)
                if code is None:
                    code = sim._type_code(msg)
                now = sim._now
                rate = link.rate
                if rate:  # exponential latency, inlined: what random.expovariate computes
                    t = now - log(1.0 - link.rand()) / rate
                else:
                    t = now + link.draw()
                # fate "delivered" unless something intervenes (see Simulation._make_run)
                rec = [link.src_code, link.dst_code, code, now, t, 1]
                rows_append(rec)
                heappush(heap, (t, next(seq), 0, rec, msg, link))
            else:
                slow(link, msg)

        return send

    @property
    def now(self) -> float:
        """The node's *local* clock in seconds (skew, drift and jumps apply)."""
        st = self._st
        return st.base_local + (self._sim._now - st.base_t) * st.factor

    def send(self, dst: str, msg) -> None:
        """Send ``msg`` to node ``dst`` through the network.

        (Each context replaces this with an equivalent closure, ``_fast_send``, which
        short-cuts the common case; this is the general path it falls back to.)
        """
        link = self._out.get(dst)
        if link is None:
            link = self._out[dst] = self._sim._link(self.id, dst)
        self._sim._send_slow(link, msg)

    def broadcast(self, dsts, msg) -> None:
        """Send ``msg`` to each node in ``dsts`` (one message copy per destination)."""
        for d in dsts:
            self.send(d, msg)

    def set_timer(self, name: str, delay) -> None:
        """Arm timer ``name`` to fire after ``delay`` seconds of *local* time.

        ``delay`` is a number or a ``(low, high)`` range drawn uniformly from the node's own
        timer stream.  Setting a timer that is already set replaces it.
        """
        if isinstance(delay, tuple):
            lo, hi = delay
            if not 0 <= lo <= hi:
                check_range("delay", delay)
            d = lo + (hi - lo) * self._timer_rng.random()
        else:
            d = delay
            if not d >= 0:
                check_number("delay", d, low=0.0)
        sim = self._sim
        st = self._st
        seq = next(sim._seq)
        deadline = st.base_local + (sim._now - st.base_t) * st.factor + d
        st.timers[name] = (seq, deadline)
        heappush(sim._heap, (sim._now + d / st.factor, seq, _TIMER, st, name, seq))

    def cancel_timer(self, name: str) -> None:
        """Disarm timer ``name`` (no effect if it is not set)."""
        self._st.timers.pop(name, None)

    def timer_set(self, name: str) -> bool:
        """Whether timer ``name`` is armed."""
        return name in self._st.timers

    def emit(self, kind: str, **fields) -> None:
        """Record a protocol event ``kind`` with ``fields`` in ``run.events``."""
        self._sim._emit(self.id, kind, fields)

    @property
    def next_op_id(self) -> int:
        """The ``op_id`` the next :meth:`invoke` will return (unique in the run)."""
        return len(self._sim._op_rows)

    def invoke(self, f: str, key=None, value=None, *, process: str | None = None) -> int:
        """Record the invocation of a client operation in ``run.history``; returns its ``op_id``.

        Times in the history are the simulator's real time, not the local clock, as a
        linearizability check needs.
        """
        sim = self._sim
        rows = sim._op_rows
        op_id = len(rows)
        rows.append([op_id, process or self.id, f, key, value, None, sim._now, NaN, None])
        return op_id

    def complete(self, op_id: int, status: str, result=None) -> None:
        """Record the completion of operation ``op_id``: ``status`` is ``"ok"``, ``"fail"`` or
        ``"info"`` (outcome unknown)."""
        row = self._sim._op_rows[op_id]
        if row[8] is not None:
            raise ValueError(f"op_id {op_id} is already complete with status {row[8]!r}")
        if status not in ("ok", "fail", "info"):
            raise ValueError(f"status must be one of 'ok', 'fail', 'info'; got {status!r}")
        row[5] = result
        row[8] = status
        if status != "info":
            row[7] = self._sim._now
