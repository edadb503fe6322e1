"""The shared state of one simulation: the event heap, the clock, node states, and the
event and history recorders.

:class:`Scheduler` is the one totally ordered heap of ``(time, seq, kind, a, b, c)``
entries; ``seq`` is unique and increasing, so ties in time break by insertion order.
The message path (:mod:`~dsalgo.sim.wire`), the node contexts
(:mod:`~dsalgo.sim.context`) and the engine (:mod:`~dsalgo.sim.engine`) all work on these
objects through their attributes; none reaches into another's private fields.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from heapq import heappush
from itertools import count

__all__ = ["CrashPointHit", "NodeState", "Recorder", "Scheduler"]

NaN = math.nan

# heap entry kinds; ARRIVE is a delivery to a node with a processing model (it joins the
# node's work queue) and DONE the end of a service there; UNBUILT is a delivery on a link not
# built yet (its entry carries ``(src, destination state)`` where DELIVER carries the link)
DELIVER, TIMER, CALL, RESUME, STOP, ARRIVE, DONE, UNBUILT = 0, 1, 2, 3, 4, 5, 6, 7
# the kinds that deliver a message (their entry's fourth item is the message row, -1 if none)
MESSAGE_KINDS = (DELIVER, ARRIVE, UNBUILT)
# a message row's fate (status, reason) is one small code, turned into the status and
# reason columns when the run's tables are built (run._FATE_STATUS, run._FATE_REASON)
IN_FLIGHT, DELIVERED, LOSS, PARTITION, NODE_DOWN = 0, 1, 2, 3, 4


class CrashPointHit(BaseException):
    """Raised at an effect boundary inside a handler when a crash point strikes there; the
    engine's loop catches it and crashes the node (a ``BaseException``, so a kernel's
    ``except Exception`` cannot swallow the crash)."""

    def __init__(self, state):
        super().__init__(state.id)
        self.state = state


class Scheduler:
    """The event heap and the simulator's real time ``now`` (seconds).

    An event is a tuple ``(time, seq, kind, a, b, c)``, handled in ``(time, seq)`` order.
    Besides the heap there is ``nowq``, a FIFO of events due at ``now`` itself, pushed in
    ``seq`` order (a message on a zero-delay link, the start of a sync asked for at this
    instant): the loop takes whichever of the two fronts is first by ``(time, seq)``, the
    order the heap alone would give, without a heap push and pop for each.  The loop leaves ``nowq`` empty (:meth:`settle`), and so
    do the event-limit report and the making of tables, so they see the heap alone; a
    message sent between runs waits in ``nowq`` for the next loop.  The order relies on
    ``now`` never going back while ``nowq`` holds events.
    """

    __slots__ = ("heap", "now", "nowq", "running", "seq")

    def __init__(self):
        self.now = 0.0
        self.running = False          # inside Simulation.run
        self.heap: list = []
        self.nowq: deque = deque()
        self.seq = count()

    def push(self, t, kind, a, b=None, c=None) -> None:
        heappush(self.heap, (t, next(self.seq), kind, a, b, c))

    def settle(self) -> None:
        """Move the events of ``nowq`` to the heap (same entries, so the same order)."""
        nowq, heap = self.nowq, self.heap
        while nowq:
            heappush(heap, nowq.popleft())


class NodeState:
    """What the simulator keeps of one node, off the node object itself."""

    __slots__ = (
        "alive",
        "base_local",
        "base_t",
        "busy",
        "code",
        "cpu",
        "ctx",
        "cut",
        "disk",
        "durable",
        "factor",
        "factory",
        "handle_message",
        "handle_timer",
        "id",
        "incarnation",
        "node",
        "on_message",
        "on_timer",
        "paused",
        "paused_at",
        "queue",
        "role",
        "running",
        "storage",
        "sync_draw",
        "sync_next",
        "sync_now",
        "syncing",
        "timers",
        "work",
    )

    def __init__(self, id: str, code: int, role: str, factory, disk: dict):
        self.id, self.code, self.role, self.factory = id, code, role, factory
        self.node = self.ctx = self.on_message = self.on_timer = None
        self.alive = self.paused = self.running = False
        self.queue: list = []
        self.timers: dict = {}
        self.disk = disk
        self.base_t, self.base_local, self.factor, self.incarnation = 0.0, 0.0, 1.0, 0
        # processing model (None: handling takes no time): draw(key) -> seconds, the FIFO
        # work queue and whether a service is under way
        self.cpu = None
        self.work: deque = deque()
        self.busy = False
        self.handle_message = self.handle_timer = None
        self.paused_at = 0.0
        # storage model (None: ctx.disk is durable at once): what the last completed sync
        # made durable, whether one is in flight, the requests waiting for the next, and
        # the requests of this instant for a sync that begins when the instant's work is
        # done (None: none asked for)
        self.storage = self.sync_draw = None
        self.durable: dict | None = None
        self.syncing = False
        self.sync_next: list = []
        self.sync_now: list | None = None
        # an armed crash point (dsalgo.sim.engine's _Cut), None almost always
        self.cut = None

    def local(self, t: float) -> float:
        """The node's local clock at real time ``t``."""
        return self.base_local + (t - self.base_t) * self.factor


class Recorder:
    """The rows of ``run.events`` and ``run.history``, column-wise, and the event observers.

    An event is a time (a float64 array), a node, a kind and its fields dict (three lists
    of references); an operation is one entry in each of the history's columns.  No
    Python object is made per row beyond what the caller passes, so recording feeds the
    garbage collector nothing of its own.
    """

    __slots__ = ("clock", "ev_fields", "ev_kind", "ev_node", "ev_time", "observers", "op_f",
                 "op_key", "op_process", "op_result", "op_status", "op_t_complete",
                 "op_t_invoke", "op_value", "owner")

    def __init__(self, clock: Scheduler, owner):
        self.clock = clock
        self.owner = owner            # what observers are handed as their first argument
        self.ev_time = array("d")
        self.ev_node: list = []
        self.ev_kind: list = []
        self.ev_fields: list = []
        self.op_process: list = []
        self.op_f: list = []
        self.op_key: list = []
        self.op_value: list = []
        self.op_result: list = []
        self.op_t_invoke = array("d")
        self.op_t_complete = array("d")
        self.op_status: list = []     # None while the operation is open
        self.observers: list = []

    def emit(self, node, kind: str, fields: dict) -> None:
        now = self.clock.now
        self.ev_time.append(now)
        self.ev_node.append(node)
        self.ev_kind.append(kind)
        self.ev_fields.append(fields)
        for fn in self.observers:
            fn(self.owner, now, node, kind, fields)

    @property
    def n_ops(self) -> int:
        return len(self.op_f)

    def invoke(self, process: str, f: str, key, value) -> int:
        op_id = len(self.op_f)
        self.op_process.append(process)
        self.op_f.append(f)
        self.op_key.append(key)
        self.op_value.append(value)
        self.op_result.append(None)
        self.op_t_invoke.append(self.clock.now)
        self.op_t_complete.append(NaN)
        self.op_status.append(None)
        return op_id

    def complete(self, op_id: int, status: str, result) -> None:
        done = self.op_status[op_id]
        if done is not None:
            raise ValueError(f"op_id {op_id} is already complete with status {done!r}")
        if status not in ("ok", "fail", "info"):
            raise ValueError(f"status must be one of 'ok', 'fail', 'info'; got {status!r}")
        self.op_result[op_id] = result
        self.op_status[op_id] = status
        if status != "info":
            self.op_t_complete[op_id] = self.clock.now
