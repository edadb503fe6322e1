"""What a node may do: :class:`Context`, the only door between a node and the world.

A context is built once per node and works on the simulation's shared pieces — the
:class:`~dsalgo.sim._core.Scheduler` (heap and clock), the :class:`~dsalgo.sim.wire.Wire`
(messages) and the :class:`~dsalgo.sim._core.Recorder` (events and history) — through
their public attributes.
"""

from __future__ import annotations

from heapq import heappush

from .._validate import check_number, check_range
from ._core import CALL, TIMER, NodeState, Recorder, Scheduler
from ._rng import stream
from .resources import snapshot
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
        Storage that survives crashes (everything else on the node is lost).  With a
        storage model (``add_node(..., storage=sim.Storage(...))``) only what a completed
        :meth:`sync` covered survives.

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
        self.send = wire.fast_sender(st.id, self._out, st)

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
        """Record a protocol event ``kind`` with ``fields`` in ``run.events``.

        Under an armed :class:`~dsalgo.sim.CrashPoint` an event is no effect, but the
        disk writes made before it are accounted first, so a recorded event never
        reports a write that a crash point then takes back."""
        cut = self._st.cut
        if cut is not None and cut.active:
            cut.boundary()
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

    @property
    def durable_at_once(self) -> bool:
        """Whether a write to :attr:`disk` is durable at once (the node has no storage
        model), so a restart finds every write made before the crash."""
        return self._st.storage is None

    def sync(self, then=None, *, send=()) -> None:
        """Make the writes to :attr:`disk` so far durable; then send ``send`` and call
        ``then()``.

        ``send`` is a sequence of ``(dst, msg)`` pairs and ``then`` a callable of no
        arguments (a method of the node, say); messages go first, then the call.  Without
        a storage model both happen at once, inside this call, as if the write took no
        time.  With one, nothing blocks: the node goes on handling other work, and the
        pairs and the call wait until a sync that began after this request completes.
        Requests made while a sync is in flight share the next one (group commit; each
        disk sync is one ``sync`` row in ``run.events`` with the number of ``requests`` it
        served).  If the node crashes first, they never happen.

        Examples
        --------
        >>> from dsalgo import sim
        >>> class Logger(sim.Node):
        ...     def on_start(self, ctx):
        ...         for i in range(3):
        ...             ctx.disk[f"entry{i}"] = i
        ...             ctx.sync(then=lambda i=i: ctx.emit("durable", entry=i))
        >>> s = sim.Simulation(seed=0)
        >>> s.add_node("n1", Logger, storage=sim.Storage(sync=sim.Constant(0.004)))
        >>> ev = s.run(until=1.0).events
        >>> ev[["time", "kind", "requests"]].to_dict("records")[:2]
        [{'time': 0.004, 'kind': 'sync', 'requests': 1.0}, {'time': 0.004, 'kind': 'durable', 'requests': nan}]
        >>> ev.loc[ev["kind"] == "sync", ["time", "requests"]].to_dict("records")[1]
        {'time': 0.008, 'requests': 2.0}
        """
        if then is not None and not callable(then):
            raise TypeError(f"then must be a callable of no arguments (or None); got {then!r}")
        if type(send) is not list and type(send) is not tuple:
            raise TypeError(f"send must be a list of (dst, msg) pairs; got {send!r}")
        st = self._st
        if not (self._clock.running and st.alive):
            raise RuntimeError(f"sync of node {st.id!r} outside its handlers: a node asks "
                               f"for a sync while it handles a message, a timer or its start")
        if st.storage is None:
            for dst, msg in send:
                self.send(dst, msg)
            if then is not None:
                then()
            return
        if st.syncing:
            st.sync_next.append((send, then))
        else:
            self._start_sync([(send, then)])

    def _start_sync(self, requests: list) -> None:
        st = self._st
        clock = self._clock
        st.syncing = True
        d = st.sync_draw()
        clock.push(clock.now + d, CALL, self._sync_done,
                   (st.incarnation, snapshot(st.disk), requests, clock.now))

    def _sync_done(self, args) -> None:
        incarnation, state, requests, started = args
        st = self._st
        if st.incarnation != incarnation or not st.alive:
            return  # the node crashed while the sync was in flight: nothing happens
        if st.paused:  # the disk finished, the process runs its continuations on resume
            st.durable = state
            st.queue.append((self._clock.now, 0, CALL, self._sync_done, args, None))
            return
        st.durable = state
        st.syncing = False
        self._rec.emit(self.id, "sync", {"requests": len(requests), "started": started})
        waiting, st.sync_next = st.sync_next, []
        if waiting:  # group commit: everything asked for meanwhile shares one sync
            self._start_sync(waiting)
        cut = st.cut
        if cut is not None:  # an armed crash point: the continuations are one handler
            cut.begin("sync")
        for send, then in requests:
            for dst, msg in send:
                self.send(dst, msg)
            if then is not None:
                then()
        if cut is not None:
            cut.end()
