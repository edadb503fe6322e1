"""What a node may do: :class:`Context`, the only door between a node and the world.

A context is built once per node and works on the simulation's shared pieces — the
:class:`~dsalgo.sim._core.Scheduler` (heap and clock), the :class:`~dsalgo.sim.wire.Wire`
(messages) and the :class:`~dsalgo.sim._core.Recorder` (events and history) — through
their public attributes.
"""

from __future__ import annotations

from heapq import heappush

from .._validate import check_number, check_range
from ._core import TIMER, NodeState, Recorder, Scheduler
from ._rng import stream
from .wire import Wire

__all__ = ["Context"]


class Context:
    """What a node may do: the only door between a node and the world.

    Attributes
    ----------
    id : str
        The node's id.
    role : str
        The role the node was added with (``"server"``, ``"client"``, …).
    rng : random.Random
        The node's own seeded random stream.
    disk : dict
        Storage that survives crashes (everything else on the node is lost).

    Examples
    --------
    >>> from dsalgo import sim
    >>> class Hello(sim.Node):
    ...     def on_start(self, ctx):
    ...         ctx.emit("hello", role=ctx.role, at=ctx.now)
    >>> s = sim.Simulation(seed=0)
    >>> s.add_node("c1", Hello, role="client")
    >>> s.run(until=1.0).events[["node", "kind", "role"]].to_dict("records")
    [{'node': 'c1', 'kind': 'hello', 'role': 'client'}]
    """

    def __init__(self, seed: int, clock: Scheduler, wire: Wire, recorder: Recorder,
                 st: NodeState):
        self.id = st.id
        self.role = st.role
        self._clock = clock
        self._wire = wire
        self._rec = recorder
        self._st = st
        self.rng = stream(seed, "node", st.id)
        self._timer_rng = stream(seed, "timer", st.id)
        self.disk = st.disk
        self._out: dict = {}
        # shadows the documented method below, same behaviour
        self.send = wire.fast_sender(st.id, self._out)

    @property
    def now(self) -> float:
        """The node's *local* clock in seconds (skew, drift and jumps apply)."""
        st = self._st
        return st.base_local + (self._clock.now - st.base_t) * st.factor

    def send(self, dst: str, msg) -> None:
        """Send ``msg`` to node ``dst`` through the network.

        (Each context replaces this with an equivalent closure,
        :meth:`Wire.fast_sender`, which short-cuts the common case; this is the general
        path it falls back to.)
        """
        link = self._out.get(dst)
        if link is None:
            link = self._out[dst] = self._wire.link(self.id, dst)
        self._wire.send(link, msg)

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
        clock = self._clock
        st = self._st
        seq = next(clock.seq)
        now = clock.now
        st.timers[name] = (seq, st.base_local + (now - st.base_t) * st.factor + d)
        heappush(clock.heap, (now + d / st.factor, seq, TIMER, st, name, seq))

    def cancel_timer(self, name: str) -> None:
        """Disarm timer ``name`` (no effect if it is not set)."""
        self._st.timers.pop(name, None)

    def timer_set(self, name: str) -> bool:
        """Whether timer ``name`` is armed."""
        return name in self._st.timers

    def emit(self, kind: str, **fields) -> None:
        """Record a protocol event ``kind`` with ``fields`` in ``run.events``."""
        self._rec.emit(self.id, kind, fields)

    @property
    def next_op_id(self) -> int:
        """The ``op_id`` the next :meth:`invoke` will return (unique in the run)."""
        return self._rec.n_ops

    def invoke(self, f: str, key=None, value=None, *, process: str | None = None) -> int:
        """Record the invocation of a client operation in ``run.history``; returns its ``op_id``.

        Times in the history are the simulator's real time, not the local clock, as a
        linearizability check needs.
        """
        return self._rec.invoke(process or self.id, f, key, value)

    def complete(self, op_id: int, status: str, result=None) -> None:
        """Record the completion of operation ``op_id``: ``status`` is ``"ok"``, ``"fail"`` or
        ``"info"`` (outcome unknown)."""
        self._rec.complete(op_id, status, result)
