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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._validate import check_bool, check_number
from ._rng import stream

__all__ = [
    "ClockDrift",
    "ClockJump",
    "Crash",
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
        if self.until is not None:
            until = _time("until", self.until)
            if until <= self.at:
                raise ValueError(f"until must be later than at={self.at!r}; got {self.until!r}")
            object.__setattr__(self, "until", until)
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

    Examples
    --------
    >>> Nemesis(crash=0.5, partition=0.2, end=8.0, max_crashed=1).rates()
    {'crash': 0.5, 'partition': 0.2, 'pause': 0.0, 'clock_jump': 0.0}
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

    KINDS = ("crash", "partition", "pause", "clock_jump")

    def __post_init__(self):
        for k in self.KINDS:
            object.__setattr__(self, k, check_number(k, getattr(self, k), low=0.0))
        md = self.mean_duration
        if isinstance(md, dict):
            for k, v in md.items():
                if k not in ("crash", "partition", "pause"):
                    raise ValueError(f"mean_duration keys must be 'crash', 'partition' or "
                                     f"'pause'; got {k!r}")
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
            from .._validate import check_int
            check_int("max_crashed", self.max_crashed, low=0)

    def rates(self) -> dict:
        return {k: getattr(self, k) for k in self.KINDS}

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
        kinds = [k for k in self.KINDS if getattr(self, k) > 0]
        weights = [getattr(self, k) for k in kinds]
        while True:
            t += rng.expovariate(total)
            if t >= end:
                break
            kind = rng.choices(kinds, weights)[0]
            if kind == "crash":
                up = [n for n in targets if down_until[n] < t and paused_until[n] < t]
                down = len(targets) - sum(1 for n in targets if down_until[n] < t)
                if not up or (self.max_crashed is not None and down >= self.max_crashed):
                    continue
                node = rng.choice(up)
                back = min(t + rng.expovariate(1 / self._duration("crash")), end)
                if back <= t:
                    continue
                down_until[node] = back
                out += [Crash(node, at=t), Restart(node, at=back)]
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
