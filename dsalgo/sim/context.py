"""What a node may do: :class:`Context`, the only door between a node and the world.

A context is built once per node and works on the simulation's shared pieces — the
:class:`~dsalgo.sim._core.Scheduler` (heap and clock), the :class:`~dsalgo.sim.wire.Wire`
(messages) and the :class:`~dsalgo.sim._core.Recorder` (events and history) — through
their public attributes.
"""

from __future__ import annotations

from heapq import heappush
from math import nan as NaN

from .._validate import check_number, check_range
from ._core import CALL, TIMER, NodeState, Recorder, Scheduler
from ._rng import stream
from .resources import snapshot
from .wire import Wire

__all__ = ["Context"]


def _recording_closures(node: str, rec: Recorder, st: NodeState):
    """``emit``, ``invoke`` and ``complete`` of :class:`Context` for node ``node``, writing
    the recorder's columns directly: what :meth:`Context.emit` and the recorder's
    :meth:`~dsalgo.sim._core.Recorder.invoke` and ``complete`` do, one Python call fewer
    (they are on the hot path of every client)."""
    clock = rec.clock
    ev_time, ev_node = rec.ev_time.append, rec.ev_node.append
    ev_kind, ev_fields = rec.ev_kind.append, rec.ev_fields.append
    observers = rec.observers
    owner = rec.owner
    op_process, op_f, op_key = rec.op_process.append, rec.op_f, rec.op_key.append
    op_f_append, op_value, op_result = op_f.append, rec.op_value.append, rec.op_result
    op_result_append = op_result.append
    op_t_invoke, op_t_complete = rec.op_t_invoke.append, rec.op_t_complete
    op_t_complete_append = op_t_complete.append
    op_status = rec.op_status
    op_status_append = op_status.append

    def emit(kind: str, **fields) -> None:
        cut = st.cut
        if cut is not None and cut.active:
            cut.boundary()
        now = clock.now
        ev_time(now)
        ev_node(node)
        ev_kind(kind)
        ev_fields(fields)
        for fn in observers:
            fn(owner, now, node, kind, fields)

    def invoke(f: str, key=None, value=None, *, process: str | None = None) -> int:
        op_id = len(op_f)
        op_process(process or node)
        op_f_append(f)
        op_key(key)
        op_value(value)
        op_result_append(None)
        op_t_invoke(clock.now)
        op_t_complete_append(NaN)
        op_status_append(None)
        return op_id

    def complete(op_id: int, status: str, result=None) -> None:
        if status != "ok" or op_status[op_id] is not None:
            rec.complete(op_id, status, result)  # the other statuses, and the error
            return
        op_result[op_id] = result
        op_status[op_id] = status
        op_t_complete[op_id] = clock.now

    return emit, invoke, complete


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
        # these shadow the documented methods below, same behaviour, one call fewer each
        self.send = wire.fast_sender(st.id, self._out, st)
        self.emit, self.invoke, self.complete = _recording_closures(self.id, recorder, st)

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
        A sync begins once the events already due at that instant when it is asked for
        have run, so their requests and writes share it: a handler may ask more than
        once, and messages delivered together share one sync.  Events scheduled for the
        same instant afterwards (a zero-delay timer or send, a zero service time) find it
        begun, and ask for the next one.  Requests made while a sync is in flight share
        the next one (group commit; each disk sync is one ``sync`` row in ``run.events``
        with the number of ``requests`` it served, and the requests its continuations make
        at its end join that next one too).  If the node crashes first, they never happen.

        Examples
        --------
        >>> from dsalgo import sim
        >>> class Logger(sim.Node):
        ...     def on_start(self, ctx):
        ...         for i in range(3):
        ...             ctx.disk[f"entry{i}"] = i
        ...             ctx.sync(then=lambda i=i: ctx.emit("durable", entry=i))
        ...         ctx.set_timer("more", 0.001)
        ...     def on_timer(self, ctx, name):
        ...         ctx.disk["entry3"] = 3
        ...         ctx.sync(then=lambda: ctx.emit("durable", entry=3))
        >>> s = sim.Simulation(seed=0)
        >>> s.add_node("n1", Logger, storage=sim.Storage(sync=sim.Constant(0.004)))
        >>> ev = s.run(until=1.0).events
        >>> ev[["time", "kind", "requests"]].to_dict("records")[:2]
        [{'time': 0.004, 'kind': 'sync', 'requests': 3.0}, {'time': 0.004, 'kind': 'durable', 'requests': nan}]
        >>> ev.loc[ev["kind"] == "sync", ["time", "requests"]].to_dict("records")[1]
        {'time': 0.008, 'requests': 1.0}
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
        elif st.sync_now is not None:  # the sync of this instant has not begun: join it
            st.sync_now.append((send, then))
        else:
            st.sync_now = [(send, then)]
            self._begin_when_instant_done()

    def _begin_when_instant_done(self) -> None:
        """Begin the sync of ``st.sync_now`` after the events already due now (at the back
        of the FIFO of events due now), so that their requests and writes share it."""
        clock = self._clock
        clock.nowq.append((clock.now, next(clock.seq), CALL, self._begin_sync,
                           self._st.incarnation, None))

    def _begin_sync(self, incarnation: int) -> None:
        st = self._st
        if st.incarnation != incarnation or not st.alive:
            return  # the node crashed at this instant: its requests went with it
        requests, st.sync_now = st.sync_now, None
        if requests:
            self._start_sync(requests)

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
        if waiting:  # group commit: everything asked for meanwhile shares one sync, and
            st.sync_now = waiting     # so does what the continuations below ask for
            self._begin_when_instant_done()
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
