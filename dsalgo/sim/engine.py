"""The discrete-event core: one heap, totally ordered, every effect recorded.

The heap holds ``(time, seq, kind, a, b, c)`` tuples.  ``seq`` is unique and increasing,
so ties in time break by insertion order and every run is reproducible.  Nodes are
sans-I/O state machines: they are handed a :class:`Context` and tell it what to do; the
simulator performs it, records it, and never lets a node read a wall clock or a global
random generator.

Recording is built in: each message copy is one row appended when it is sent (written
"delivered"; a drop rewrites it), each event one row, all kept column-wise in typed arrays
and lists; the :class:`~dsalgo.sim.run.Run` holds a copy of those columns and builds each
table the first time it is read.
"""

from __future__ import annotations

import gc
import math
import re
import warnings
from contextlib import contextmanager
from heapq import heappop, heappush

import numpy as np

from .._validate import check_bool, check_callable, check_int, check_number
from ._core import (
    ARRIVE,
    CALL,
    DELIVER,
    DONE,
    MESSAGE_KINDS,
    NODE_DOWN,
    RESUME,
    STOP,
    TIMER,
    UNBUILT,
    CrashPointHit,
    NodeState,
    Recorder,
    Scheduler,
)
from ._rng import stream
from .context import Context
from .faults import (
    ClockDrift,
    ClockJump,
    Crash,
    CrashPoint,
    DelayedDuplicate,
    Fault,
    Heal,
    Nemesis,
    Partition,
    Pause,
    Restart,
)
from .latency import Latency
from .network import Network
from .node import Node
from .resources import check_cpu, check_storage, cpu_sampler, snapshot, storage_sampler
from .run import Run
from .wire import Wire, type_name

__all__ = ["EventLimitExceeded", "Simulation", "SimulationClosed"]

# the name rule Nemesis used before roles: kept only as a deprecation path of add_node
_OLD_CLIENT_NAME = re.compile(r"c\d+")

NaN = math.nan


class EventLimitExceeded(RuntimeError):
    """A run scheduled more events than its limit (:attr:`Simulation.max_events`): most
    likely a livelock, handlers that beget messages or timers without end (a message
    ping-pong that never settles, copies that multiply), which would otherwise run for
    ever while simulated time crawls.

    Attributes
    ----------
    limit : int
        The limit the run had.
    events : int
        Events scheduled when it was passed.
    time, until : float
        The simulated time then, and the end of the run that was asked for.
    pending : list of (str, int)
        What was on the heap, most common first: ``"Type src->dst"`` for a message,
        ``"timer name@node"`` for a timer, with counts (at most five).

    Examples
    --------
    >>> from dsalgo import sim
    >>> class Echo(sim.Node):  # every message answered twice: the copies double each hop
    ...     def on_start(self, ctx):
    ...         if ctx.id == "a":
    ...             ctx.send("b", "x")
    ...     def on_message(self, ctx, src, msg):
    ...         ctx.send(src, msg); ctx.send(src, msg)
    >>> s = sim.Simulation(seed=1, max_events=1000)
    >>> s.add_node("a", Echo); s.add_node("b", Echo)
    >>> try:
    ...     s.run(until=10.0)
    ... except sim.EventLimitExceeded as e:
    ...     print(e.limit, e.events, e.time < 1.0, e.pending[0][0])
    1000 1001 True str a->b
    """

    def __init__(self, limit: int, events: int, time: float, until: float, pending: list,
                 rule: str):
        self.limit, self.events, self.time, self.until = limit, events, time, until
        self.pending = pending
        what = ", ".join(f"{k} x{v}" for k, v in pending) or "nothing"
        super().__init__(
            f"the run scheduled more than max_events={limit:,} events ({rule}) by simulated "
            f"time t={time:.6g}s of until={until:.6g}s: a livelock (handlers that send or "
            f"schedule without end)?  Most common on the heap: {what}.  Pass "
            f"Simulation(max_events=...) for a run that really needs more")


class Simulation:
    """A deterministic discrete-event simulation of nodes on a network.

    Parameters
    ----------
    seed : int
        Every random draw derives from it: same seed, same tables, in any process.
    network : Network, optional
        The message delivery model (default ``Network()``: exponential 5 ms, no loss).
    record_messages : bool
        Keep one row per message copy in ``run.messages`` (on by default).
    max_events : int, optional
        The livelock guard: a :meth:`run` that schedules more events than this in all
        (message copies put on the wire, timers, calls, faults, counted from the start
        of the simulation) raises :class:`EventLimitExceeded` instead of running on.
        Default (None): ``EVENTS_BASE + EVENTS_PER_NODE_SECOND * nodes * until``, for
        ``until`` of each :meth:`run` call: 500,000 plus 50,000 per node and simulated
        second, several times what the busiest runs of the package schedule (a Raft
        cluster at thousands of commands per simulated second schedules under 10,000 per
        node and second), yet reached in seconds by a run whose messages multiply.

    Examples
    --------
    >>> from dsalgo import sim
    >>> class Pinger(sim.Node):
    ...     def on_start(self, ctx):
    ...         if ctx.id == "n1":
    ...             ctx.send("n2", "ping")
    ...     def on_message(self, ctx, src, msg):
    ...         ctx.emit("got", msg=msg, src=src)
    >>> s = sim.Simulation(seed=1, network=sim.Network(latency=sim.Constant(0.01)))
    >>> s.add_node("n1", Pinger); s.add_node("n2", Pinger)
    >>> run = s.run(until=1.0)
    >>> run.events[["time", "node", "kind", "msg"]].to_dict("records")
    [{'time': 0.01, 'node': 'n2', 'kind': 'got', 'msg': 'ping'}]
    """

    #: the default livelock guard: events a run may schedule, plus ...
    EVENTS_BASE = 500_000
    #: ... this many per node and simulated second of ``until`` (see ``max_events``)
    EVENTS_PER_NODE_SECOND = 50_000

    _closed = False   # (a closed simulation's class is _ClosedSimulation)

    def __init__(self, seed: int = 0, network: Network | None = None, *,
                 record_messages: bool = True, max_events: int | None = None,
                 _fast_path: bool = True):
        self.seed = check_int("seed", seed)
        self.max_events = None if max_events is None else check_int("max_events", max_events,
                                                                    low=1)
        if network is None:
            network = Network()
        elif not isinstance(network, Network):
            raise TypeError(f"network must be a dsalgo.sim.Network; got {network!r}")
        self.network = network
        self.record_messages = bool(record_messages)
        self.params: dict = {}
        self._clock = Scheduler()
        self._states: dict[str, NodeState] = {}
        self._wire = Wire(self._clock, self.seed, network, self._states, self.record_messages,
                          fast=_fast_path)
        self._rec = Recorder(self._clock, self)
        self._fault_rows: list = []
        self._pending_faults: list[Fault] = []
        self._scheduled_faults: list[Fault] = []
        self._nemesis_count = 0
        self._duplicate_count = 0     # delayed duplicates applied: each draws from its own stream
        self._partitions: dict[int, Partition] = {}
        self._partition_rows: dict[int, list] = {}
        self._started = False
        self._running = False
        self._until = 0.0
        self._event_limit = 0
        self._halted = False

    def close(self) -> None:
        """Let go of everything the simulation holds, so it is freed as soon as it is
        dropped; it cannot run again.

        A simulation's own objects refer to one another (each node's state, its context,
        the send paths that reach the other nodes), so a dropped simulation waits for a
        full collection of the garbage collector, which walks every object it held; after
        ``close`` reference counting frees it at once.  The :class:`Run` values it
        returned are unaffected (they hold copies), and so is any object of yours that
        you still hold (a node, its disk): ``close`` only drops the simulation's
        references, though a context a node kept stops working.  Calling it again does
        nothing; any other use of a closed simulation raises :class:`SimulationClosed`
        (a ``ValueError``, and an ``AttributeError`` so that ``hasattr`` and
        ``getattr(s, name, default)`` answer as for a missing attribute).

        Examples
        --------
        >>> from dsalgo import sim
        >>> s = sim.Simulation(seed=1); s.add_node("n1", sim.Node)
        >>> run = s.run(until=1.0); s.close()
        >>> run.until
        1.0
        >>> s.run(until=2.0)
        Traceback (most recent call last):
        ...
        dsalgo.sim.engine.SimulationClosed: this Simulation was closed (close() let go of its nodes and queues); build a new one to run again
        """
        if self._closed:
            return
        if self._running:
            raise ValueError("close() was called inside run() (from a handler); close the "
                             "simulation after run() returns")
        for st in self._states.values():
            for name in NodeState.__slots__:
                if hasattr(st, name):
                    delattr(st, name)
        self._states.clear()
        self._wire.close()
        self.__dict__.clear()
        self.__class__ = _ClosedSimulation

    def __reduce_ex__(self, protocol):
        """A simulation is not copied or pickled: its nodes' send paths are closures over
        this simulation's heap and message columns, so a copy would either fail part-way
        or, worse, send into the original.  (``copy``, ``deepcopy``, ``pickle`` and
        cloudpickle all ask here, and get a ``TypeError`` saying what to do instead.)

        Examples
        --------
        >>> import copy
        >>> from dsalgo import sim
        >>> copy.deepcopy(sim.Simulation(seed=1))
        Traceback (most recent call last):
        ...
        TypeError: a Simulation cannot be copied or pickled (its send paths hold its own heap and message columns); to branch a run, build a second Simulation with the same seed, nodes, network and faults and run it to the branch point (same seed, same tables), or pickle the Run it returned
        """
        raise TypeError("a Simulation cannot be copied or pickled (its send paths hold its "
                        "own heap and message columns); to branch a run, build a second "
                        "Simulation with the same seed, nodes, network and faults and run it "
                        "to the branch point (same seed, same tables), or pickle the Run it "
                        "returned")

    # ------------------------------------------------------------------ set-up
    def add_node(self, id: str, factory, *, role: str | None = None,
                 disk: dict | None = None, cpu=None, storage=None) -> None:
        """Add node ``id`` built by ``factory()`` (called at start and after each restart).

        ``role`` says what the node is (``"server"``, the default, ``"client"``, or a name
        of the protocol's own such as ``"storage"``); a :class:`Nemesis` finds the nodes it
        may hit by role (every role but ``"client"``).  (Deprecated: a node named like a
        client, ``c1``, added without a role is taken as a client, as before roles
        existed, with a ``DeprecationWarning``; pass ``role=`` to silence it.)
        ``disk`` is what the node's durable storage holds when it first starts (a copy is
        taken), e.g. the state of a cluster that was already running.

        ``cpu`` is the node's processing-time model and ``storage`` its storage model
        (see :mod:`dsalgo.sim.resources`): ``cpu`` a latency model, or a dict of them by
        message type name (``"timer:<name>"`` for a timer, ``"*"`` for the rest), drawn
        per delivered message and fired timer, which queue in FIFO order while the node is
        busy; ``storage`` a :class:`~dsalgo.sim.Storage`, with which writes to
        ``ctx.disk`` are durable only once a :meth:`Context.sync` completes, and a crash
        loses the rest.  Without them (the default) handling takes no time and the disk is
        durable at once.

        Examples
        --------
        >>> from dsalgo import sim
        >>> class Boot(sim.Node):
        ...     def on_start(self, ctx):
        ...         ctx.emit("boot", term=ctx.disk.get("term"))
        >>> s = sim.Simulation(seed=0)
        >>> s.add_node("n1", Boot, disk={"term": 7})
        >>> s.run(until=1.0).events["term"].tolist()
        [7]
        """
        if not isinstance(id, str) or not id:
            raise TypeError(f"id must be a non-empty str node id; got {id!r}")
        if id in self._states:
            raise ValueError(f"id {id!r} is already a node of this simulation")
        check_callable("factory", factory)
        if disk is not None and not isinstance(disk, dict):
            raise TypeError(f"disk must be a dict of initial durable state; got {disk!r}")
        if role is None:
            role = "server"
            if _OLD_CLIENT_NAME.fullmatch(id):
                warnings.warn(f"node {id!r} is named like a client but added without a role; "
                              f"it is taken as role='client' (Nemesis spares it) for now: "
                              f"pass role='client' (or role='server') explicitly",
                              DeprecationWarning, stacklevel=2)
                role = "client"
        if not isinstance(role, str) or not role:
            raise TypeError(f"role must be a non-empty str such as 'server' or 'client'; "
                            f"got {role!r}")
        cpu = check_cpu(cpu)
        storage = check_storage(storage)
        st = NodeState(id, len(self._states), role, factory, dict(disk or {}))
        if cpu is not None:
            st.cpu = cpu_sampler(cpu, self.seed, id)
        if storage is not None:
            st.storage = storage
            st.sync_draw = storage_sampler(storage, self.seed, id)
            st.durable = snapshot(st.disk)
        st.ctx = Context(self.seed, self._clock, self._wire, self._rec, st)
        self._states[id] = st
        if self._started:
            self._push(self._clock.now, CALL, self._start_node, st)

    def add_faults(self, faults) -> None:
        """Schedule faults (an iterable of :class:`Fault`, or a single one)."""
        if isinstance(faults, Fault):
            faults = [faults]
        try:
            faults = list(faults)
        except TypeError:
            raise TypeError(f"faults must be an iterable of faults; got {faults!r}") from None
        for f in faults:
            if not isinstance(f, Fault):
                raise TypeError(f"faults must hold dsalgo.sim fault objects (Crash, Restart, "
                                f"Partition, Heal, Pause, ClockJump, ClockDrift, "
                                f"DelayedDuplicate, CrashPoint, Nemesis); got {f!r}")
            if f.at < self._clock.now:
                raise ValueError(f"fault {f!r} is scheduled at t={f.at!r}, in the past "
                                 f"(the simulation is at t={self._clock.now!r})")
        self._pending_faults.extend(faults)
        if self._running:  # added from inside a run (an observer, say): takes effect now
            self._schedule_faults(self._until)

    def node(self, id: str):
        """The current node object of ``id`` (``None`` while it is crashed)."""
        return self._state(id, "id").node

    @property
    def nodes(self) -> list[str]:
        """Every node id, in the order added."""
        return list(self._states)

    def roles(self) -> dict[str, str]:
        """Node id → the role it was added with, in the order added."""
        return {i: st.role for i, st in self._states.items()}

    @property
    def now(self) -> float:
        """The simulator's real time in seconds."""
        return self._clock.now

    def is_up(self, id: str) -> bool:
        return self._state(id, "id").alive

    def local_time(self, id: str) -> float:
        """The local clock of node ``id`` now."""
        return self._state(id, "id").local(self._clock.now)

    def set_link(self, src: str, dst: str, **overrides) -> None:
        """Change the settings of link ``src → dst`` now, also in the middle of a run.

        Takes the keywords of :meth:`Network.set_link` (``latency``, ``drop_rate``,
        ``duplicate_rate``, ``fifo``, ``symmetric``); messages already on the wire keep
        the delay they were given.

        Examples
        --------
        >>> from dsalgo import sim
        >>> s = sim.Simulation(seed=0)
        >>> s.add_node("n1", sim.Node); s.add_node("n2", sim.Node)
        >>> s.set_link("n1", "n2", latency=sim.Constant(0.5))
        >>> s.network.link_config("n2", "n1")["latency"]
        Constant(delay=0.5)
        """
        self._state(src, "src")
        self._state(dst, "dst")
        self.network.set_link(src, dst, **overrides)
        for a, b in ((src, dst), (dst, src)):
            self._wire.reconfigure(a, b)   # also points the sender's map at the new link

    def add_observer(self, fn) -> None:
        """Call ``fn(sim, time, node, kind, fields)`` on every event (engine or protocol)."""
        self._rec.observers.append(check_callable("fn", fn))

    def stop(self) -> None:
        """End the current :meth:`run` after the event being handled (no effect between runs)."""
        if self._running and not self._halted:  # one STOP per run, however often called
            self._halted = True
            # a negative sequence number sorts before every event at the same time
            clock = self._clock
            heappush(clock.heap, (clock.now, -next(clock.seq), STOP, None, None, None))

    def call_at(self, at: float, fn, *args) -> None:
        """Run ``fn(*args)`` at real time ``at`` (a harness hook, e.g. for scripted clients)."""
        check_callable("fn", fn)
        at = check_number("at", at, low=self._clock.now)
        self._push(at, CALL, lambda: fn(*args), None)

    # ------------------------------------------------------------------ running
    def run(self, until: float, *, progress: bool = False) -> Run:
        """Run until real time ``until`` (seconds) and return the :class:`Run` so far.

        Calling ``run`` again continues from where the last call stopped.

        While the event loop runs, the garbage collector collects only its young
        generations: the full (oldest-generation) collection, which walks every object the
        process holds and so costs more the longer the run has gone, is put off until the
        loop ends, when the collector's thresholds are put back as they were.  Nothing
        reachable is ever freed by it, so the objects in a node's state are never lost;
        cyclic garbage that outlives the young generations waits for the first full
        collection after the run.  A simulation's own objects refer to one another (nodes,
        their contexts, the send paths), so a simulation that is dropped, with its nodes'
        state, is freed by such a collection too, not at once, unless it was closed
        (:meth:`close`, which the families' ``simulate`` functions do for the simulations
        they make): ``run`` returns a :class:`Run` that holds copies of the tables'
        columns, not the simulation.
        """
        until = check_number("until", until, low=0.0, low_open=True, allow_inf=False)
        check_bool("progress", progress)
        if until < self._clock.now:
            raise ValueError(f"until must not be before the current time {self._clock.now!r}; "
                             f"got {until!r}")
        if not self._states:
            raise ValueError("the simulation has no nodes; add some with add_node()")
        if not self._started:  # nodes start before any fault scheduled at t=0
            self._validate_schedule(self._pending_faults)
            self._started = True
            for st in self._states.values():
                self._push(0.0, CALL, self._start_node, st)
        self._until = until
        self._schedule_faults(until)
        self._event_limit = self._limit_for(until)
        self._running = self._clock.running = True
        try:
            with _full_collections_put_off():
                if progress:
                    self._loop_with_progress(until)
                else:
                    self._loop(until)
        finally:
            self._running = self._clock.running = False
            halted, self._halted = self._halted, False
            if halted:  # a STOP the loop did not reach (a handler raised after stop()):
                heap = self._clock.heap  # it sorts first, and must not end the next run
                while heap and heap[0][2] == STOP:
                    heappop(heap)
        if not halted:
            self._clock.now = until
        return self._make_run()

    def _limit_for(self, until: float) -> int:
        """The sequence number past which :meth:`_events` raises (see ``max_events``)."""
        if self.max_events is not None:
            return self.max_events
        return int(self.EVENTS_BASE + self.EVENTS_PER_NODE_SECOND * len(self._states) * until)

    def _over_limit(self, limit: int, until: float):
        """Raise :class:`EventLimitExceeded`, with what fills the heap."""
        from collections import Counter
        seen: Counter = Counter()
        for ev in sorted(self._clock.heap):  # in the order due: ties listed soonest first
            kind = ev[2]
            if kind in (DELIVER, ARRIVE):
                link = ev[5]
                seen[f"{type_name(ev[4])} {link.src}->{link.dst}"] += 1
            elif kind == UNBUILT:
                src, st = ev[5]
                seen[f"{type_name(ev[4])} {src}->{st.id}"] += 1
            elif kind == TIMER:
                cur = ev[3].timers.get(ev[4])
                if cur is not None and cur[0] == ev[5]:  # not a cancelled or re-armed one
                    seen[f"timer {ev[4]}@{ev[3].id}"] += 1
        if self.max_events is not None:
            rule = "as given"
        else:
            rule = (f"the default, {self.EVENTS_BASE:,} + {self.EVENTS_PER_NODE_SECOND:,} x "
                    f"{len(self._states)} nodes x {until:g} s")
        raise EventLimitExceeded(limit, limit + 1, self._clock.now, until,
                                 seen.most_common(5), rule)

    def _loop_with_progress(self, until):
        from tqdm.auto import tqdm
        start = self._clock.now
        with tqdm(total=until - start, unit="sim s", desc="simulate", leave=False) as bar:
            for i in range(1, 101):
                step = start + (until - start) * i / 100
                self._loop(step)
                bar.update(step - bar.n - start)
                if self._halted:
                    break

    def _loop(self, until):
        """The event loop; a crash point that strikes inside a handler unwinds it to here
        (:class:`~dsalgo.sim._core.CrashPointHit`), the node crashes and the loop goes on."""
        while True:
            try:
                return self._events(until)
            except CrashPointHit as hit:
                self._strike(hit.state)

    def _events(self, until):
        """The event loop proper.  Kept flat on purpose: it is where the time goes."""
        clock = self._clock
        heap = clock.heap
        nowq = clock.nowq  # events due now, in seq order: taken when first by (time, seq)
        popleft = nowq.popleft
        log = self._wire.log
        limit = self._event_limit
        try:
            while True:
                if nowq and (not heap or nowq[0] < heap[0]):
                    ev = popleft()  # due now, so not past ``until``
                    t, s, kind, a, b, c = ev
                elif heap:
                    ev = heappop(heap)
                    t, s, kind, a, b, c = ev  # one unpack is cheaper than four index operations
                    if t > until:
                        heappush(heap, ev)  # same (time, seq): order is kept
                        break
                else:
                    break
                if s >= limit:  # the livelock guard: the event numbered ``limit`` is one too many
                    heappush(heap, ev)
                    clock.now = t
                    clock.settle()
                    self._over_limit(limit, self._until)
                clock.now = t
                if kind == 0:  # DELIVER: a = message row index (-1: not recorded), b = message,
                    st = c.dst_state  # c = link
                    if st.running:
                        st.on_message(st.ctx, c.src, b)
                    elif st.alive:  # paused: handled on resume, in arrival order
                        st.queue.append(ev)
                    elif a >= 0:
                        log.set_fate(a, NODE_DOWN)
                elif kind == UNBUILT:  # DELIVER on a link not built yet: c = (src, node state)
                    src, st = c
                    if st.running:
                        st.on_message(st.ctx, src, b)
                    elif st.alive:
                        st.queue.append(ev)
                    elif a >= 0:
                        log.set_fate(a, NODE_DOWN)
                elif kind == TIMER:  # a = node state, b = timer name, c = its sequence number
                    cur = a.timers.get(b)
                    if cur is None or cur[0] != c:
                        continue  # cancelled, replaced, or lost in a crash
                    if not a.running:
                        a.queue.append(ev)  # paused (a crashed node has no timers)
                        continue
                    del a.timers[b]
                    a.on_timer(a.ctx, b)
                elif kind == CALL:
                    a(b) if b is not None else a()
                elif kind == RESUME:
                    self._resume(a, b)
                elif kind == ARRIVE:  # a delivery to a node with a processing model
                    self._arrive(ev)
                elif kind == DONE:  # a = node state, b = its incarnation, c = the work item
                    self._done(a, b, c)
                else:  # STOP
                    break
        finally:
            clock.settle()  # what is left of nowq goes back on the heap, in order

    def _push(self, t, kind, a, b=None, c=None):
        self._clock.push(t, kind, a, b, c)

    def _state(self, id, what="node"):
        st = self._states.get(id)
        if st is None:
            raise ValueError(f"{what} {id!r} is not a node of this simulation; nodes are "
                             f"{', '.join(self._states) or '(none)'}")
        return st

    def _emit(self, node, kind, fields):
        self._rec.emit(node, kind, fields)

    # ------------------------------------------------------------------ node lifecycle
    def _start_node(self, st: NodeState):
        st.alive = True
        st.paused = False
        st.timers = {}
        st.incarnation += 1
        node = st.node = st.factory()
        if not isinstance(node, Node) and not (hasattr(node, "on_message")
                                               and hasattr(node, "on_timer")):
            raise TypeError(f"factory of node {st.id!r} must return a dsalgo.sim.Node; "
                            f"got {node!r}")
        st.on_message, st.on_timer = node.on_message, node.on_timer
        if st.cpu is not None:  # a fired timer joins the work queue
            st.handle_message, st.handle_timer = st.on_message, st.on_timer
            st.on_timer = lambda ctx, name, st=st: self._timer_fired(st, name)
        st.running = True
        cut = st.cut
        if cut is None:
            node.on_start(st.ctx)
            return
        self._hook(st)
        cut.begin("start")
        node.on_start(st.ctx)
        cut.end()

    def _crash(self, st: NodeState, lenient=False, fields=None):
        if not st.alive:
            if lenient:
                return False
            raise RuntimeError(f"crash of {st.id!r}, which is already down")
        st.alive = st.paused = st.running = False
        st.node = st.on_message = st.on_timer = None
        st.handle_message = st.handle_timer = None
        st.timers = {}
        log = self._wire.log
        for ev in st.queue:  # never handled: messages queued during a pause are lost
            if ev[2] in MESSAGE_KINDS and ev[3] >= 0:
                log.set_fate(ev[3], NODE_DOWN)
        st.queue = []
        fields = {} if fields is None else fields
        if st.cpu is not None:  # work waiting or in service is lost
            for item in st.work:
                if item[0] >= 0:
                    log.set_fate(item[0], NODE_DOWN)
            st.work.clear()
            st.busy = False
        if st.storage is not None:  # what no completed sync covered is lost
            fields["unsynced_lost"] = st.disk != st.durable
            st.disk.clear()
            st.disk.update(snapshot(st.durable))
            st.syncing = False
            st.sync_next = []
            st.sync_now = None
        self._emit(st.id, "crash", fields)
        return True

    def _restart(self, st: NodeState, lenient=False):
        if st.alive:
            if lenient:
                return False
            raise RuntimeError(f"restart of {st.id!r}, which is up")
        self._emit(st.id, "restart", {})
        self._start_node(st)
        return True

    def _pause(self, st: NodeState, duration: float):
        if not st.alive or st.paused:
            return False
        st.paused = True
        st.running = False
        st.paused_at = self._clock.now
        self._emit(st.id, "pause", {"duration": duration})
        self._push(self._clock.now + duration, RESUME, st, st.incarnation)
        return True

    def _resume(self, st: NodeState, incarnation: int):
        if not st.paused or st.incarnation != incarnation:
            return
        st.paused = False
        st.running = True
        self._emit(st.id, "resume", {})
        queued, st.queue = st.queue, []
        clock = self._clock
        now = clock.now
        t_deliver = self._wire.log.t_deliver
        for ev in queued:  # handled now, in arrival order
            kind = ev[2]
            if kind in MESSAGE_KINDS and ev[3] >= 0:
                t_deliver[ev[3]] = now
            if kind == DONE:  # a service the pause interrupted: ev[0] is what was left
                heappush(clock.heap, (now + ev[0], next(clock.seq)) + ev[2:])
            else:
                heappush(clock.heap, (now, next(clock.seq)) + ev[2:])

    def _set_clock(self, st: NodeState, *, delta=0.0, rate=None):
        clock = self._clock
        now = clock.now
        st.base_local = st.local(now) + delta
        st.base_t = now
        if rate is not None:
            st.factor = 1.0 + rate
        # timers are armed in local time: re-aim each at its local deadline
        for name, (_old_seq, deadline) in list(st.timers.items()):
            if deadline is None:  # fired, waiting in the work queue
                continue
            new_seq = next(clock.seq)
            st.timers[name] = (new_seq, deadline)
            t = now + max(0.0, deadline - st.base_local) / st.factor
            heappush(clock.heap, (t, new_seq, TIMER, st, name, new_seq))

    # ------------------------------------------------------------------ processing
    def _arrive(self, ev):
        """A message reaches a node with a processing model: it joins the work queue."""
        i, msg, link = ev[3], ev[4], ev[5]
        st = link.dst_state
        if st.running:
            st.work.append((i, link.src, msg, False))
            if not st.busy:
                self._serve(st)
        elif st.alive:  # paused: joins the queue on resume, in arrival order
            st.queue.append(ev)
        elif i >= 0:
            self._wire.log.set_fate(i, NODE_DOWN)

    def _timer_fired(self, st, name):
        """A timer of a node with a processing model fires: it joins the work queue, and
        stays set (a marker without a deadline) until handled, so cancelling or re-arming
        it meanwhile withdraws this firing."""
        marker = (next(self._clock.seq), None)
        st.timers[name] = marker
        st.work.append((-1, name, marker, True))
        if not st.busy:
            self._serve(st)

    def _serve(self, st):
        """Begin serving the oldest work item of ``st``; it ends after a drawn service time."""
        item = st.work.popleft()
        st.busy = True
        now = self._clock.now
        if item[3]:
            key = "timer:" + item[1]
        else:
            key = type_name(item[2])
            if item[0] >= 0:
                log = self._wire.log
                log.handled_rows.append(item[0])
                log.handled_t.append(now)
        d = st.cpu(key)
        if not d >= 0:
            raise ValueError(f"cpu of node {st.id!r} drew a service time of {d!r} s for "
                             f"{key!r}; service times must be >= 0")
        self._clock.push(now + d, DONE, st, st.incarnation, item)

    def _done(self, st, incarnation, item):
        """The service of ``item`` ends: the node handles it, then serves the next."""
        if st.incarnation != incarnation or not st.alive:
            return  # crashed meanwhile (the crash marked the message)
        if not st.running:  # paused mid-service: the rest is served after the resume
            st.queue.append((self._clock.now - st.paused_at, 0, DONE, st, incarnation, item))
            return
        _, who, what, is_timer = item
        if is_timer:
            if st.timers.get(who) is what:  # not cancelled or re-armed since it fired
                del st.timers[who]
                st.handle_timer(st.ctx, who)
        else:
            st.handle_message(st.ctx, who, what)
        if st.work:
            self._serve(st)
        else:
            st.busy = False

    # ------------------------------------------------------------------ faults
    def _schedule_faults(self, until):
        # validate everything before changing any state, so a bad fault changes nothing
        pending = self._pending_faults
        self._validate_schedule(pending)
        self._pending_faults = []
        concrete = []
        for f in pending:
            if isinstance(f, Nemesis):
                drawn = f.schedule(self.seed, self.roles(), until, self._nemesis_count)
                self._nemesis_count += 1
                concrete += [(g, True) for g in drawn]
            else:
                concrete.append((f, False))
        self._scheduled_faults += [f for f, lenient in concrete if not lenient]
        for f, lenient in sorted(concrete, key=lambda x: x[0].at):
            self._push(f.at, CALL, self._apply_fault, (f, lenient))

    def _validate_schedule(self, new_faults):
        """Reject faults naming unknown nodes, and a user schedule that restarts a live node,
        crashes a dead one or overlaps two pauses of one node (a Nemesis draws consistent
        schedules of its own)."""
        for f in new_faults:
            for n in f.nodes():
                self._state(n, f"node in fault {f!r}:")
        new_faults = [f for f in new_faults if not isinstance(f, Nemesis)]
        alive = {n: True for n in self._states}
        paused_until = {n: -1.0 for n in self._states}
        every = sorted(self._scheduled_faults + new_faults, key=lambda f: f.at)
        for f in every:
            if isinstance(f, Crash):
                if not alive[f.node]:
                    raise ValueError(f"fault {f!r} crashes {f.node!r}, which is already down "
                                     f"then (add a Restart first)")
                alive[f.node] = False
            elif isinstance(f, Restart):
                if alive[f.node]:
                    raise ValueError(f"fault {f!r} restarts {f.node!r}, which is up then "
                                     f"(restart only a crashed node)")
                alive[f.node] = True
            elif isinstance(f, Pause):
                if paused_until[f.node] > f.at:
                    raise ValueError(f"fault {f!r} overlaps an earlier pause of {f.node!r}")
                paused_until[f.node] = f.at + f.duration

    def _apply_fault(self, item):
        f, lenient = item
        rows = self._fault_rows
        if isinstance(f, Crash):
            st = self._states[f.node]
            if self._crash(st, lenient):
                rows.append(["crash", f.node, self._clock.now, NaN, ""])
        elif isinstance(f, Restart):
            st = self._states[f.node]
            if not st.alive:  # the row closes first: on_start may strike a crash point
                for row in reversed(rows):
                    if row[0] == "crash" and row[1] == f.node and math.isnan(row[3]):
                        row[3] = self._clock.now
                        break
            self._restart(st, lenient)
        elif isinstance(f, Partition):
            key = next(self._clock.seq)
            self._partitions[key] = f
            row = ["partition", f.describe(), self._clock.now, NaN, "one_way" if f.one_way else ""]
            rows.append(row)
            self._partition_rows[key] = row
            self._emit(None, "partition", {"groups": f.describe()})
            self._refresh_links()
            if f.until is not None:
                self._push(f.until, CALL, self._end_partition, key)
        elif isinstance(f, Heal):
            for key in list(self._partitions):
                self._end_partition(key)
            self._emit(None, "heal", {})
        elif isinstance(f, Pause):
            st = self._states[f.node]
            if self._pause(st, f.duration):
                rows.append(["pause", f.node, self._clock.now, self._clock.now + f.duration, ""])
        elif isinstance(f, ClockJump):
            st = self._states[f.node]
            self._set_clock(st, delta=f.delta)
            rows.append(["clock_jump", f.node, self._clock.now, self._clock.now, f"delta={f.delta:+.6g}s"])
            self._emit(f.node, "clock_jump", {"delta": f.delta})
        elif isinstance(f, ClockDrift):
            st = self._states[f.node]
            self._set_clock(st, rate=f.rate)
            rows.append(["clock_drift", f.node, self._clock.now, NaN, f"rate={f.rate:+.6g}"])
            self._emit(f.node, "clock_drift", {"rate": f.rate})
        elif isinstance(f, DelayedDuplicate):
            self._catch(f)
        elif isinstance(f, CrashPoint):
            self._arm(f)
        else:  # pragma: no cover - guarded by add_faults
            raise TypeError(f"unknown fault {f!r}")

    # ------------------------------------------------------------------ delayed duplicates
    def _catch(self, f: DelayedDuplicate):
        """Start catching messages for ``f`` (until its ``count`` or ``until``)."""
        rng = stream(self.seed, "delayed_duplicate", str(self._duplicate_count))
        self._duplicate_count += 1
        draw = f.delay.sampler(rng) if isinstance(f.delay, Latency) else (lambda d=f.delay: d)

        def caught(link, name, t_send, t_deliver):
            self._fault_rows.append(["delayed_duplicate", f"{link.src} -> {link.dst}",
                                     t_send, t_deliver, f"{name} +{t_deliver - t_send:.6g}s"])
            self._emit(None, "delayed_duplicate", {"src": link.src, "dst": link.dst,
                                                   "type": name, "deliver_at": t_deliver})

        catch = [f, f.count, draw, caught]
        self._wire.add_catch(catch)
        if f.until is not None:
            self._push(f.until, CALL, self._wire.remove_catch, catch)

    # ------------------------------------------------------------------ crash points
    def _arm(self, f: CrashPoint):
        """Arm crash point ``f`` on its node (replacing one armed there before)."""
        st = self._states[f.node]
        if st.cut is not None:
            self._unhook(st)
        st.cut = _Cut(f, st)
        if st.node is not None:
            self._hook(st)
        if f.until is not None:
            self._push(f.until, CALL, self._lapse, (st, st.cut))

    def _hook(self, st: NodeState):
        """Route the node's sends and handlers through its armed crash point."""
        cut = st.cut
        st.ctx.send = cut.send
        if st.cpu is None:
            st.on_message = cut.guard_message(st.on_message)
            st.on_timer = cut.guard_timer(st.on_timer)
        else:
            st.handle_message = cut.guard_message(st.handle_message)
            st.handle_timer = cut.guard_timer(st.handle_timer)

    def _unhook(self, st: NodeState):
        st.ctx.send = st.cut.plain_send
        node = st.node
        if node is None:
            return
        if st.cpu is None:
            st.on_message, st.on_timer = node.on_message, node.on_timer
        else:
            st.handle_message, st.handle_timer = node.on_message, node.on_timer

    def _lapse(self, args):
        st, cut = args
        if st.cut is cut:  # it never struck
            self._unhook(st)
            st.cut = None

    def _strike(self, st: NodeState):
        """The crash point of ``st`` struck inside a handler: crash the node now."""
        cut = st.cut
        self._unhook(st)
        st.cut = None
        f = cut.fault
        effects = "effect" if f.after == 1 else "effects"
        self._crash(st, lenient=True, fields={"crash_point": True, "after": f.after,
                                              "handling": cut.what})
        self._fault_rows.append(["crash", st.id, self._clock.now, NaN,
                                 f"crash point: after {f.after} {effects}, handling {cut.what}"])
        if f.until is not None:
            self._push(f.until, CALL, self._apply_fault, (Restart(st.id, at=f.until), True))

    def _end_partition(self, key):
        if self._partitions.pop(key, None) is None:
            return
        self._partition_rows.pop(key)[3] = self._clock.now
        self._refresh_links()

    def _refresh_links(self):
        blocked = set()
        for p in self._partitions.values():
            blocked |= p.blocked_pairs()
        self._wire.set_blocked(blocked)

    # ------------------------------------------------------------------ results
    def _make_run(self) -> Run:
        self._clock.settle()  # a send made outside run() may wait in nowq
        # A message row is written "delivered" when sent, so the hot loop need not touch it;
        # drops rewrite their row.  What is still on the wire (or queued at a paused node)
        # is marked in flight in this snapshot only, as a later run() may deliver it.  The
        # run gets copies of the columns, so later runs leave its tables as they were.
        pending = [ev[3] for ev in self._clock.heap
                   if ev[2] in MESSAGE_KINDS and ev[3] >= 0]
        cpu_nodes = []
        for st in self._states.values():
            pending += [ev[3] for ev in st.queue
                        if ev[2] in MESSAGE_KINDS and ev[3] >= 0]
            if st.cpu is not None:
                cpu_nodes.append(st.code)
        log, rec = self._wire.log, self._rec
        n = len(log)  # the message columns hold room to spare: the first n rows are written
        return Run.from_columns(
            messages=(_numbers(log.codes, np.int64, n), _numbers(log.t_send, np.float64, n),
                      _numbers(log.t_deliver, np.float64, n),
                      _numbers(log.dup_rows, np.int64),
                      np.array(pending, dtype=np.int64), list(self._states),
                      list(self._wire.type_names), np.array(cpu_nodes, dtype=np.int64),
                      _numbers(log.handled_rows, np.int64),
                      _numbers(log.handled_t, np.float64)),
            events=(_numbers(rec.ev_time, np.float64), list(rec.ev_node), list(rec.ev_kind),
                    list(rec.ev_fields)),
            history=(list(rec.op_process), list(rec.op_f), list(rec.op_key),
                     list(rec.op_value), list(rec.op_result),
                     _numbers(rec.op_t_invoke, np.float64),
                     _numbers(rec.op_t_complete, np.float64), list(rec.op_status)),
            faults=[list(row) for row in self._fault_rows],
            params=dict(self.params), seed=self.seed, nodes=list(self._states),
            until=self._clock.now)


class SimulationClosed(ValueError, AttributeError):
    """A closed :class:`Simulation` was used (see :meth:`Simulation.close`)."""


class _ClosedSimulation(Simulation):
    """What a :class:`Simulation` becomes when closed: every attribute but the special
    ones (``__class__``, ``__reduce_ex__``, …) and ``close`` raises
    :class:`SimulationClosed`."""

    _closed = True

    def __getattribute__(self, name):
        if name == "close" or name == "_closed" or (name.startswith("__")
                                                    and name.endswith("__")):
            return object.__getattribute__(self, name)
        raise SimulationClosed(_CLOSED)

    def __setattr__(self, name, value):
        raise SimulationClosed(_CLOSED)


_CLOSED = ("this Simulation was closed (close() let go of its nodes and queues); build a new "
           "one to run again")


class _Cut:
    """An armed crash point on one node: counts the effects of the handler under way and
    raises :class:`~dsalgo.sim._core.CrashPointHit` where the cut falls.

    An effect is a send through ``ctx.send`` and, without a storage model, a change of
    ``ctx.disk`` since the last boundary (seen when the next send begins, an event is
    emitted or the handler ends).  The cut falls just before effect ``after + 1``: a send is then never made,
    a disk change is undone.  A handler with at most ``after`` effects is left alone.
    """

    __slots__ = ("active", "done", "fault", "plain_send", "snap", "st", "track_disk", "what")

    def __init__(self, fault: CrashPoint, st: NodeState):
        self.fault = fault
        self.st = st
        self.track_disk = st.storage is None
        self.active = False
        self.done = 0
        self.snap = None
        self.what = ""
        self.plain_send = st.ctx.send

    def begin(self, what: str):
        self.active = True
        self.done = 0
        self.what = what
        if self.track_disk:
            self.snap = snapshot(self.st.disk)

    def boundary(self):
        """An effect is about to happen: count a disk change made since the last one."""
        if self.track_disk:
            disk = self.st.disk
            if disk != self.snap:
                if self.done == self.fault.after:  # the change is past the cut: undo it
                    disk.clear()
                    disk.update(self.snap)
                    raise CrashPointHit(self.st)
                self.done += 1
                self.snap = snapshot(disk)

    def end(self):
        if self.active:
            self.boundary()
            self.active = False

    def send(self, dst, msg):
        if not self.active:
            return self.plain_send(dst, msg)
        self.boundary()
        if self.done == self.fault.after:
            raise CrashPointHit(self.st)
        self.plain_send(dst, msg)
        self.done += 1

    def guard_message(self, handler):
        def on_message(ctx, src, msg):
            self.begin(f"{type_name(msg)} from {src}")
            handler(ctx, src, msg)
            self.end()
        return on_message

    def guard_timer(self, handler):
        def on_timer(ctx, name):
            self.begin(f"timer {name!r}")
            handler(ctx, name)
            self.end()
        return on_timer


# A threshold the oldest generation's counter never reaches in a run (a C int).
_NEVER = 2**31 - 1


@contextmanager
def _full_collections_put_off():
    """Collect only the young generations of the garbage collector inside the block.

    A full collection walks every tracked object in the process; a long run makes many
    (the kernels' logs and stores, the recorded events' fields) and CPython starts one
    each time the objects that survived the young generations since the last one reach a
    quarter of all, so the cost per simulated event would grow with the run.  The young
    collections still run as usual, so short-lived cyclic garbage is still reclaimed.  The
    thresholds are process-wide: they are put back exactly as found, also on error.
    """
    young, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, _NEVER)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, old)


def _numbers(arr, dtype, n=None) -> np.ndarray:
    """A numpy copy of a typed ``array.array`` (of its first ``n`` items if given)."""
    return np.frombuffer(arr, dtype=dtype, count=-1 if n is None else n).copy()
