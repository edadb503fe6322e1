"""Faults: what the simulator does to nodes, links and clocks, and when.

Each fault is a small immutable value; the simulator interprets it.  A :class:`Nemesis`
is a recipe for a random schedule of such faults, drawn from its own random stream when
the run starts, so the same seed gives the same schedule.  The schedule that ran lands in
``run.faults``.

Semantics
---------
Crash      the node's volatile state and timers are lost; messages arriving while it is
           down are dropped.  ``ctx.disk`` survives.
Restart    the node's factory is called again with the same ``disk``, then ``on_start``.
Partition  messages *sent* between different groups are dropped while it lasts (nodes not
           named in any group are unaffected); ``one_way=True`` drops only messages from
           an earlier group to a later one.  Messages already in flight are delivered.
Heal       ends every partition in force.
Pause      a stop-the-world pause (a GC): nothing is handled, messages and timers queue
           and are handled in order on resume; the local clock keeps running.
ClockJump  the node's local clock (``ctx.now``) jumps by ``delta`` seconds; timers armed
           in local time fire accordingly (a forward jump can fire them at once).
ClockDrift from ``at`` on, the local clock runs at ``1 + rate`` times real time.
DelayedDuplicate
           from ``at`` on, the next ``count`` messages that match its filters (type names,
           senders, receivers) are each delivered a second time, ``delay`` seconds after
           they were sent: an old message (of an earlier term or ballot, say) arrives late.
           The original goes its usual way (it may still be lost); a message a partition
           cuts at its sending is no candidate.  The copy is a ``duplicate`` row of
           ``run.messages``, a ``delayed_duplicate`` row of ``run.faults`` (from the
           sending to the late delivery) and a ``delayed_duplicate`` event.
CrashPoint the node crashes *inside* a handler, between two of its effects: in the first
           handler (message, timer, start, or sync continuation) it runs at or after
           ``at`` that has more than ``after`` effects, just after the ``after``-th.  An
           effect is a message sent through ``ctx.send`` (a broadcast is one per copy)
           and, for a node without a storage model, a change of ``ctx.disk`` (the writes
           made between two sends, or after the last, count as one effect; with a storage
           model only a completed sync makes writes durable, so they are no effect).  What
           the handler would have done after the cut never happens; the crash is a
           ``crash`` row of ``run.faults`` and a ``crash`` event with ``crash_point=True``
           and ``after``.  If it struck, the node restarts at ``until``; if it has not
           struck by ``until`` it lapses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._validate import check_bool, check_int, check_number
from ._rng import stream
from .latency import Latency

__all__ = [
    "ClockDrift",
    "ClockJump",
    "Crash",
    "CrashPoint",
    "DelayedDuplicate",
    "Fault",
    "Heal",
    "Nemesis",
    "Partition",
    "Pause",
    "Restart",
]


def _node(name, value):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a node id (str); got {value!r}")
    return value


def _time(name, value):
    return check_number(name, value, low=0.0)


def _set_until(fault):
    """Validate ``fault.until``: ``None`` or a time later than ``fault.at``."""
    if fault.until is not None:
        until = _time("until", fault.until)
        if until <= fault.at:
            raise ValueError(f"until must be later than at={fault.at!r}; got {fault.until!r}")
        object.__setattr__(fault, "until", until)


class Fault:
    """Base class of scheduled faults."""

    at: float

    def nodes(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class _NodeFault(Fault):
    """A fault that hits one ``node`` at time ``at``."""

    node: str
    at: float

    def __post_init__(self):
        _node("node", self.node)
        object.__setattr__(self, "at", _time("at", self.at))

    def nodes(self):
        return (self.node,)


@dataclass(frozen=True)
class Crash(_NodeFault):
    """Crash ``node`` at time ``at`` (seconds).

    Examples
    --------
    >>> Crash("n1", at=1.0)
    Crash(node='n1', at=1.0)
    """


@dataclass(frozen=True)
class Restart(_NodeFault):
    """Restart the crashed ``node`` at time ``at``: a fresh node from its factory, same disk.

    Examples
    --------
    >>> Restart("n1", at=2.0)
    Restart(node='n1', at=2.0)
    """


@dataclass(frozen=True)
class Partition(Fault):
    """Cut the network between ``groups`` from ``at`` until ``until`` (or a :class:`Heal`).

    Examples
    --------
    >>> Partition([["n1", "n2"], ["n3"]], at=1.0, until=2.0)
    Partition(groups=(('n1', 'n2'), ('n3',)), at=1.0, until=2.0, one_way=False)
    """

    groups: tuple
    at: float
    until: float | None = None
    one_way: bool = False

    def __post_init__(self):
        groups = self.groups
        if isinstance(groups, str) or not hasattr(groups, "__iter__"):
            raise TypeError(f"groups must be a list of lists of node ids; got {groups!r}")
        norm = []
        for g in groups:
            if isinstance(g, str) or not hasattr(g, "__iter__"):
                raise TypeError(f"groups must be a list of lists of node ids; got group {g!r}")
            # members sorted: a group given as a set would otherwise be described (in
            # run.faults and run.events) in set-iteration order, which PYTHONHASHSEED changes
            norm.append(tuple(sorted(_node("groups[...]", x) for x in g)))
        if isinstance(groups, (set, frozenset)):  # unordered groups: a deterministic order
            norm.sort()
        if len(norm) < 2:
            raise ValueError(f"groups must name at least two groups to cut apart; got {groups!r}")
        if any(not g for g in norm):
            raise ValueError(f"groups must not contain an empty group; got {groups!r}")
        seen = {}
        for i, g in enumerate(norm):
            for x in g:
                if x in seen and seen[x] != i:
                    raise ValueError(f"groups must be disjoint; node {x!r} is in two groups")
                seen[x] = i
        object.__setattr__(self, "groups", tuple(norm))
        object.__setattr__(self, "at", _time("at", self.at))
        _set_until(self)
        check_bool("one_way", self.one_way)

    def nodes(self):
        return tuple(x for g in self.groups for x in g)

    def blocked_pairs(self) -> set[tuple[str, str]]:
        pairs = set()
        for i, a in enumerate(self.groups):
            for j, b in enumerate(self.groups):
                if i == j or (self.one_way and j < i):
                    continue
                pairs.update((x, y) for x in a for y in b)
        return pairs

    def describe(self) -> str:
        sep = " -> " if self.one_way else " | "
        return sep.join(",".join(g) for g in self.groups)


@dataclass(frozen=True)
class Heal(Fault):
    """End every partition in force at time ``at``.

    Examples
    --------
    >>> Heal(at=3.0)
    Heal(at=3.0)
    """

    at: float

    def __post_init__(self):
        object.__setattr__(self, "at", _time("at", self.at))


@dataclass(frozen=True)
class Pause(_NodeFault):
    """Stop-the-world pause of ``node`` from ``at`` for ``duration`` seconds.

    Examples
    --------
    >>> Pause("n1", at=1.0, duration=0.5)
    Pause(node='n1', at=1.0, duration=0.5)
    """

    duration: float

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "duration",
                           check_number("duration", self.duration, low=0.0, low_open=True))


@dataclass(frozen=True)
class ClockJump(_NodeFault):
    """Jump the local clock of ``node`` by ``delta`` seconds (either sign) at ``at``.

    Examples
    --------
    >>> ClockJump("n2", at=1.0, delta=5.0)
    ClockJump(node='n2', at=1.0, delta=5.0)
    """

    delta: float

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "delta", check_number("delta", self.delta))


@dataclass(frozen=True)
class ClockDrift(Fault):
    """From ``at`` on, the local clock of ``node`` runs at ``1 + rate`` times real time.

    ``rate=0.01`` is a clock 1 % fast; ``rate=-0.01`` 1 % slow.

    Examples
    --------
    >>> ClockDrift("n3", rate=0.01)
    ClockDrift(node='n3', rate=0.01, at=0.0)
    """

    node: str
    rate: float
    at: float = 0.0

    def __post_init__(self):
        _node("node", self.node)
        object.__setattr__(self, "rate", check_number("rate", self.rate, low=-1.0, low_open=True))
        object.__setattr__(self, "at", _time("at", self.at))

    def nodes(self):
        return (self.node,)


def _ids(name, value):
    """``None``, or node ids as a sorted tuple (one id may be given as a str)."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a node id or a list of node ids (or None); "
                        f"got {value!r}")
    out = tuple(sorted({_node(f"{name}[...]", x) for x in value}))
    if not out:
        raise ValueError(f"{name} must name at least one node (or be None for any); "
                         f"got {value!r}")
    return out


@dataclass(frozen=True)
class DelayedDuplicate(Fault):
    """Deliver the next ``count`` matching messages sent from ``at`` on a second time,
    ``delay`` seconds after they were sent: old messages arriving late.

    Parameters
    ----------
    at : float
        From when messages are caught (seconds).
    delay : float or Latency
        Seconds from a caught message's sending to its late copy's delivery: a number
        (> 0), or a latency model drawn per copy from the fault's own random stream.
    kinds : str or list of str, optional
        Message type names to catch (as in ``run.messages["type"]``: a dict's ``"type"``
        entry, else the class name); default any.
    src, dst : str or list of str, optional
        Only messages from these senders, to these receivers; default any.
    count : int
        How many messages to catch (each once).
    until : float, optional
        Stop catching at this time even if fewer than ``count`` were caught.

    The original message goes its usual way (delivered, lost or duplicated as the link
    decides); a message a partition cuts at its sending is never caught.  The late copy
    is delivered whatever partitions are in force then (it is already on the wire), and
    dropped if its receiver is down, like any message.  Same seed, same messages caught,
    same delays.

    Examples
    --------
    >>> from dsalgo import sim
    >>> class Tick(sim.Node):
    ...     def on_start(self, ctx):
    ...         ctx.set_timer("t", 0.25)
    ...     def on_timer(self, ctx, name):
    ...         ctx.send("n2", {"type": "Ping", "at": ctx.now})
    ...         ctx.set_timer("t", 0.25)
    ...     def on_message(self, ctx, src, msg):
    ...         ctx.emit("got", sent=msg["at"])
    >>> s = sim.Simulation(seed=0, network=sim.Network(latency=sim.Constant(0.01)))
    >>> s.add_node("n1", Tick); s.add_node("n2", Tick)
    >>> s.add_faults(sim.DelayedDuplicate(at=0.3, delay=0.6, kinds="Ping", src="n1"))
    >>> run = s.run(until=1.2)
    >>> run.faults.to_dict("records")
    [{'kind': 'delayed_duplicate', 'target': 'n1 -> n2', 't_start': 0.5, 't_end': 1.1, 'detail': 'Ping +0.6s'}]
    >>> ev = run.events[run.events.kind == "got"]
    >>> ev.loc[ev.time == 1.1, "sent"].tolist()   # the Ping of t=0.5 arrives again at 1.1
    [0.5]
    """

    at: float
    delay: object
    kinds: tuple | None = None
    src: tuple | None = None
    dst: tuple | None = None
    count: int = 1
    until: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "at", _time("at", self.at))
        if not isinstance(self.delay, Latency):
            object.__setattr__(self, "delay",
                               _positive("delay", self.delay,
                                         "a number of seconds > 0 or a latency model such "
                                         "as sim.Exponential(mean=0.5)"))
        kinds = self.kinds
        if kinds is not None:
            if isinstance(kinds, str):
                kinds = (kinds,)
            if not hasattr(kinds, "__iter__") or not all(isinstance(k, str) and k
                                                         for k in kinds):
                raise TypeError(f"kinds must be a message type name or a list of them "
                                f"(or None for any); got {self.kinds!r}")
            kinds = tuple(sorted(set(kinds)))
            if not kinds:
                raise ValueError(f"kinds must name at least one message type (or be None "
                                 f"for any); got {self.kinds!r}")
            object.__setattr__(self, "kinds", kinds)
        object.__setattr__(self, "src", _ids("src", self.src))
        object.__setattr__(self, "dst", _ids("dst", self.dst))
        object.__setattr__(self, "count", check_int("count", self.count, low=1))
        _set_until(self)

    def nodes(self):
        return tuple(self.src or ()) + tuple(self.dst or ())

    def matches(self, src: str, dst: str, type_name: str) -> bool:
        """Whether a message of ``type_name`` from ``src`` to ``dst`` is one to catch."""
        return ((self.kinds is None or type_name in self.kinds)
                and (self.src is None or src in self.src)
                and (self.dst is None or dst in self.dst))


@dataclass(frozen=True)
class CrashPoint(Fault):
    """Crash ``node`` inside a handler, just after its ``after``-th effect.

    Parameters
    ----------
    node : str
        The node to crash.
    at : float
        From when the crash point is armed (seconds).
    after : int
        How many effects of the handler happen before the crash (``0``: none of them).
        The crash strikes in the first handler, at or after ``at``, that has more than
        ``after`` effects, so at least one of its effects never happens.
    until : float, optional
        If the crash point struck, the node restarts at ``until``; if it has not struck
        by then, it lapses.  Default: armed for good, and a struck node stays down.

    An effect is a message sent through ``ctx.send`` (a broadcast is one per copy), or,
    on a node without a storage model, a change of ``ctx.disk``: the writes made between
    two sends (or after the last) are one effect, and a cut before it leaves the disk as
    it was.  An event (``ctx.emit``) is no effect, but writes before it count as made
    before it, so no recorded event reports a write the crash takes back.  On a node with a storage model only sends count: a write there is durable
    once a sync completes, and the sync's continuation is a handler of its own.  So
    "write, then reply" cut after one effect has written and not replied, and "reply,
    then write" has replied and not written: which order a protocol chose is something
    a run can now get wrong.

    Examples
    --------
    >>> from dsalgo import sim
    >>> class ReplyThenWrite(sim.Node):
    ...     def on_start(self, ctx):
    ...         ctx.emit("boot", seen=ctx.disk.get("seen", False))
    ...         if ctx.id == "n1":
    ...             ctx.send("n2", "hello")
    ...     def on_message(self, ctx, src, msg):
    ...         if msg == "hello":
    ...             ctx.send(src, "ack")          # effect 1: the reply
    ...             ctx.disk["seen"] = True       # effect 2: the write it promised
    >>> s = sim.Simulation(seed=0, network=sim.Network(latency=sim.Constant(0.01)))
    >>> s.add_node("n1", ReplyThenWrite); s.add_node("n2", ReplyThenWrite)
    >>> s.add_faults(sim.CrashPoint("n2", at=0.0, after=1, until=0.5))
    >>> run = s.run(until=1.0)
    >>> run.faults.to_dict("records")
    [{'kind': 'crash', 'target': 'n2', 't_start': 0.01, 't_end': 0.5, 'detail': 'crash point: after 1 effect, handling str from n1'}]

    n2 acknowledged (the ack reached n1) but restarted without the write:

    >>> run.messages[["src", "dst", "status"]].values.tolist()
    [['n1', 'n2', 'delivered'], ['n2', 'n1', 'delivered']]
    >>> run.events.loc[run.events.kind == "boot", ["time", "node", "seen"]].to_dict("records")[-1]
    {'time': 0.5, 'node': 'n2', 'seen': False}
    """

    node: str
    at: float
    after: int = 1
    until: float | None = None

    def __post_init__(self):
        _node("node", self.node)
        object.__setattr__(self, "at", _time("at", self.at))
        object.__setattr__(self, "after", check_int("after", self.after, low=0))
        _set_until(self)

    def nodes(self):
        return (self.node,)


def _positive(name, value, accepted):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be {accepted}; got {value!r}")
    return check_number(name, value, low=0.0, low_open=True)


@dataclass(frozen=True)
class Nemesis(Fault):
    """A random fault schedule drawn from Poisson rates (events per simulated second).

    Parameters
    ----------
    crash, partition, pause, clock_jump : float
        Rates of each kind of fault, per second.  A crashed node restarts after a
        duration; a partition (a random split of the targets in two) heals after one;
        a pause lasts one.
    mean_duration : float or dict
        Mean of the exponential duration of crashes, partitions and pauses, in seconds;
        a dict such as ``{"pause": 0.2}`` sets it per kind (the rest default to 1.0).
    clock_jump_scale : float
        Clock jumps are uniform on ``[-scale, +scale]`` seconds.
    targets : list of str, optional
        The nodes faults may hit; by default every node not added with
        ``role="client"``.
    start, end : float
        Faults begin at or after ``start``; with ``end`` given, every fault is over by
        ``end`` (crashed nodes restarted, partitions healed) so recovery can be studied.
        Without it the horizon is the run's ``until``.
    max_crashed : int, optional
        At most this many targets down at once (e.g. a minority, to keep liveness).
    delayed_duplicate : float
        Rate of :class:`DelayedDuplicate` faults: each catches the next message sent
        (of ``duplicate_kinds``, between any nodes) and delivers it again after a delay
        drawn from an exponential of mean ``mean_duration["delayed_duplicate"]``; with
        ``end`` given, the copy arrives by ``end``.
    duplicate_kinds : list of str, optional
        The message type names delayed duplicates catch (default any).
    crash_point : float
        Rate of :class:`CrashPoint` faults: a target crashes inside its next handler
        with more than ``after`` effects, ``after`` drawn uniformly from ``1 …
        crash_point_after``, and restarts after a crash's duration from when the crash
        point was armed (it lapses if it has not struck by then).  Counted as a crash
        for ``max_crashed`` from then.
    crash_point_after : int
        The largest ``after`` a crash point is drawn with.

    Examples
    --------
    >>> Nemesis(crash=0.5, partition=0.2, end=8.0, max_crashed=1).rates()
    {'crash': 0.5, 'partition': 0.2, 'pause': 0.0, 'clock_jump': 0.0}
    >>> Nemesis(crash_point=2.0, delayed_duplicate=1.0).rates()["crash_point"]
    2.0
    """

    crash: float = 0.0
    partition: float = 0.0
    pause: float = 0.0
    clock_jump: float = 0.0
    mean_duration: object = 1.0
    clock_jump_scale: float = 0.5
    targets: tuple | None = None
    start: float = 0.0
    end: float | None = None
    max_crashed: int | None = None
    at: float = field(default=0.0, repr=False)
    delayed_duplicate: float = 0.0
    duplicate_kinds: tuple | None = None
    crash_point: float = 0.0
    crash_point_after: int = 3

    KINDS = ("crash", "partition", "pause", "clock_jump")
    #: kinds added later: :meth:`rates` and ``repr`` show them only when they are set, so
    #: what a schedule of the first four looked like is unchanged
    MORE_KINDS = ("delayed_duplicate", "crash_point")

    def __repr__(self):
        names = ("crash", "partition", "pause", "clock_jump", "mean_duration",
                 "clock_jump_scale", "targets", "start", "end", "max_crashed")
        parts = [f"{k}={getattr(self, k)!r}" for k in names]
        if self.delayed_duplicate or self.crash_point:
            parts += [f"{k}={getattr(self, k)!r}" for k in
                      ("delayed_duplicate", "duplicate_kinds", "crash_point",
                       "crash_point_after")]
        return f"Nemesis({', '.join(parts)})"

    def __post_init__(self):
        for k in self.KINDS + self.MORE_KINDS:
            object.__setattr__(self, k, check_number(k, getattr(self, k), low=0.0))
        check_int("crash_point_after", self.crash_point_after, low=1)
        if self.duplicate_kinds is not None:
            kinds = self.duplicate_kinds
            if isinstance(kinds, str):
                kinds = (kinds,)
            # DelayedDuplicate's check, with this parameter's name
            try:
                kinds = DelayedDuplicate(at=0.0, delay=1.0, kinds=kinds).kinds
            except (TypeError, ValueError) as exc:
                raise type(exc)(str(exc).replace("kinds must", "duplicate_kinds must")
                                .replace(f"{kinds!r}", f"{self.duplicate_kinds!r}")) from None
            object.__setattr__(self, "duplicate_kinds", kinds)
        md = self.mean_duration
        if isinstance(md, dict):
            for k, v in md.items():
                if k not in ("crash", "partition", "pause", "delayed_duplicate"):
                    raise ValueError(f"mean_duration keys must be 'crash', 'partition', "
                                     f"'pause' or 'delayed_duplicate'; got {k!r}")
                check_number(f"mean_duration[{k!r}]", v, low=0.0, low_open=True)
            object.__setattr__(self, "mean_duration", dict(md))
        else:
            object.__setattr__(self, "mean_duration",
                               check_number("mean_duration", md, low=0.0, low_open=True))
        object.__setattr__(self, "clock_jump_scale",
                           check_number("clock_jump_scale", self.clock_jump_scale, low=0.0))
        object.__setattr__(self, "start", _time("start", self.start))
        object.__setattr__(self, "at", self.start)
        if self.end is not None:
            end = _time("end", self.end)
            if end <= self.start:
                raise ValueError(f"end must be later than start={self.start!r}; got {self.end!r}")
            object.__setattr__(self, "end", end)
        if self.targets is not None:
            if isinstance(self.targets, str):
                raise TypeError(f"targets must be a list of node ids; got {self.targets!r}")
            targets = tuple(_node("targets[...]", t) for t in self.targets)
            if isinstance(self.targets, (set, frozenset)):  # unordered: a deterministic order
                targets = tuple(sorted(targets))
            object.__setattr__(self, "targets", targets)
        if self.max_crashed is not None:
            check_int("max_crashed", self.max_crashed, low=0)

    def rates(self) -> dict:
        """Kind -> rate per second: the four classic kinds always, ``delayed_duplicate``
        and ``crash_point`` when set."""
        out = {k: getattr(self, k) for k in self.KINDS}
        out.update({k: getattr(self, k) for k in self.MORE_KINDS if getattr(self, k)})
        return out

    def nodes(self):
        return self.targets or ()

    def _duration(self, kind):
        md = self.mean_duration
        return md.get(kind, 1.0) if isinstance(md, dict) else md

    def schedule(self, seed: int, roles, horizon: float, index: int = 0) -> list[Fault]:
        """Draw the concrete schedule for a run with ``seed`` over ``[start, horizon)``.

        ``roles`` maps each node id to its role (as :meth:`Simulation.roles` gives); a
        plain list of ids counts them all as servers.

        Examples
        --------
        >>> nem = Nemesis(crash=2.0, end=3.0)
        >>> sorted({f.node for f in nem.schedule(1, {"n1": "server", "c1": "client"}, 5.0)})
        ['n1']
        """
        if not isinstance(roles, dict):
            roles = dict.fromkeys(roles, "server")
        targets = list(self.targets) if self.targets else [
            n for n, role in roles.items() if role != "client"]
        end = min(self.end, horizon) if self.end is not None else horizon
        out: list[Fault] = []
        total = sum(self.rates().values())
        if total <= 0 or not targets or end <= self.start:
            return out
        rng = stream(seed, "nemesis", str(index))
        down_until = {t: -1.0 for t in targets}      # node -> restart time
        paused_until = {t: -1.0 for t in targets}
        partition_until = -1.0
        t = self.start
        kinds = [k for k in self.KINDS + self.MORE_KINDS if getattr(self, k) > 0]
        weights = [getattr(self, k) for k in kinds]
        while True:
            t += rng.expovariate(total)
            if t >= end:
                break
            kind = rng.choices(kinds, weights)[0]
            if kind == "crash" or kind == "crash_point":
                up = [n for n in targets if down_until[n] < t and paused_until[n] < t]
                down = len(targets) - sum(1 for n in targets if down_until[n] < t)
                if not up or (self.max_crashed is not None and down >= self.max_crashed):
                    continue
                node = rng.choice(up)
                back = min(t + rng.expovariate(1 / self._duration("crash")), end)
                if back <= t:
                    continue
                down_until[node] = back
                if kind == "crash":
                    out += [Crash(node, at=t), Restart(node, at=back)]
                else:
                    out.append(CrashPoint(node, at=t, until=back,
                                          after=rng.randint(1, self.crash_point_after)))
            elif kind == "delayed_duplicate":
                delay = rng.expovariate(1 / self._duration("delayed_duplicate"))
                last = end - delay            # the copy arrives by the horizon
                if delay <= 0 or last <= t:
                    continue
                out.append(DelayedDuplicate(at=t, delay=delay, kinds=self.duplicate_kinds,
                                            until=last))
            elif kind == "partition":
                if partition_until >= t or len(targets) < 2:
                    continue
                order = targets[:]
                rng.shuffle(order)
                cut = rng.randint(1, len(order) - 1)
                until = min(t + rng.expovariate(1 / self._duration("partition")), end)
                if until <= t:
                    continue
                partition_until = until
                out.append(Partition([sorted(order[:cut]), sorted(order[cut:])], at=t, until=until))
            elif kind == "pause":
                up = [n for n in targets if down_until[n] < t and paused_until[n] < t]
                if not up:
                    continue
                node = rng.choice(up)
                dur = min(rng.expovariate(1 / self._duration("pause")), end - t)
                if dur <= 0:
                    continue
                paused_until[node] = t + dur
                out.append(Pause(node, at=t, duration=dur))
            else:
                node = rng.choice(targets)
                out.append(ClockJump(node, at=t, delta=rng.uniform(-self.clock_jump_scale,
                                                                   self.clock_jump_scale)))
        return out
