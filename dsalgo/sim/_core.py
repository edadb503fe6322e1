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
from heapq import heappush
from itertools import count

__all__ = ["NodeState", "Recorder", "Scheduler"]

NaN = math.nan

# heap entry kinds
DELIVER, TIMER, CALL, RESUME, STOP = 0, 1, 2, 3, 4
# a message row's fate (status, reason) is one small code, turned into the status and
# reason columns when the run's tables are built (run._FATE_STATUS, run._FATE_REASON)
IN_FLIGHT, DELIVERED, LOSS, PARTITION, NODE_DOWN = 0, 1, 2, 3, 4


class Scheduler:
    """The event heap and the simulator's real time ``now`` (seconds)."""

    __slots__ = ("heap", "now", "seq")

    def __init__(self):
        self.now = 0.0
        self.heap: list = []
        self.seq = count()

    def push(self, t, kind, a, b=None, c=None) -> None:
        heappush(self.heap, (t, next(self.seq), kind, a, b, c))


class NodeState:
    """What the simulator keeps of one node, off the node object itself."""

    __slots__ = (
        "alive",
        "base_local",
        "base_t",
        "code",
        "ctx",
        "disk",
        "factor",
        "factory",
        "id",
        "incarnation",
        "node",
        "on_message",
        "on_timer",
        "paused",
        "queue",
        "role",
        "running",
        "timers",
    )

    def __init__(self, id: str, code: int, role: str, factory, disk: dict):
        self.id, self.code, self.role, self.factory = id, code, role, factory
        self.node = self.ctx = self.on_message = self.on_timer = None
        self.alive = self.paused = self.running = False
        self.queue: list = []
        self.timers: dict = {}
        self.disk = disk
        self.base_t, self.base_local, self.factor, self.incarnation = 0.0, 0.0, 1.0, 0

    def local(self, t: float) -> float:
        """The node's local clock at real time ``t``."""
        return self.base_local + (t - self.base_t) * self.factor


class Recorder:
    """The rows of ``run.events`` and ``run.history``, and the event observers."""

    __slots__ = ("clock", "events", "observers", "ops", "owner")

    def __init__(self, clock: Scheduler, owner):
        self.clock = clock
        self.owner = owner            # what observers are handed as their first argument
        self.events: list = []
        self.ops: list = []
        self.observers: list = []

    def emit(self, node, kind: str, fields: dict) -> None:
        rows = self.events
        now = self.clock.now
        rows.append((len(rows), now, node, kind, fields))
        for fn in self.observers:
            fn(self.owner, now, node, kind, fields)

    def invoke(self, process: str, f: str, key, value) -> int:
        rows = self.ops
        op_id = len(rows)
        rows.append([op_id, process, f, key, value, None, self.clock.now, NaN, None])
        return op_id

    def complete(self, op_id: int, status: str, result) -> None:
        row = self.ops[op_id]
        if row[8] is not None:
            raise ValueError(f"op_id {op_id} is already complete with status {row[8]!r}")
        if status not in ("ok", "fail", "info"):
            raise ValueError(f"status must be one of 'ok', 'fail', 'info'; got {status!r}")
        row[5] = result
        row[8] = status
        if status != "info":
            row[7] = self.clock.now
