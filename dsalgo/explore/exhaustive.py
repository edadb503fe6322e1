"""``exhaustive``: every order of deliveries, timer firings and crashes, to a bounded depth.

A small model checker that runs the family's *own* node classes (the same kernel code the
simulator runs) under a scheduler of its own.  A world holds the nodes, their disks and
armed timers, the bag of messages in flight and the crashed set; one *step* is one of

- deliver one message in flight (to a crashed node: it is lost),
- fire one armed timer of a live node (of the kinds the family's adapter lists: the
  timers that decide *when* things happen, such as Raft's election timeout; retransmission
  timers can be added with ``timers=``),
- crash a live node (at most ``crashes`` times), restart a crashed one (same disk),
- hand a client request to a node that would take it (at most ``requests``).

Time does not pass: timers fire in any order instead, which covers every ordering a real
clock could produce (and some no real clock could: a timeout firing "too early" is just
another order of events in an asynchronous system).  Two strategies:

- breadth-first (``strategy="bfs"``): every interleaving to ``depth`` steps; the first
  violation found is a shortest one; states are hashed (node states, disks, timers,
  messages in flight and the monitors' records) and each is expanded once;
- delay-bounded (``strategy="delay"``, after Emmi, Qadeer & Rakamarić, POPL 2011): a
  deterministic default schedule (messages delivered in the order sent; when none is in
  flight, any timer, crash, restart or request) plus at most ``delays`` deviations (a
  message dropped, a broadcast lost, a message delayed, an action preempting deliveries).
  Counterexamples of 30--40 steps with few surprises, which breadth-first search cannot
  reach, are found: ``commit_prior_term`` (Figure 8) in 36 steps with 3 deviations.

Each node's state digest is cached and recomputed only for the node a step acts on.

Each family's adapter supplies the nodes and an incremental monitor of its safety
properties, fed the events the nodes emit (the same events ``check`` reads from a run):
``raft`` (election safety, log matching, leader completeness, state machine safety) and
``paxos`` single-decree (agreement, one value per ballot).  The events of a
counterexample are returned as a table in the simulator's shape, so the family's own
checker can judge it too.
"""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import marshal
import pickle
import random
import time
from collections import Counter

import pandas as pd

from .._validate import check_int

__all__ = ["ADAPTERS", "ExhaustiveResult", "exhaustive"]


# ---------------------------------------------------------------- the context


class _Ctx:
    """The ctx interface a node sees (as :class:`dsalgo.sim.Context`), recording effects
    into the world instead of a simulator."""

    __slots__ = ("disk", "id", "rng", "role", "world")

    def __init__(self, world, node_id, disk):
        self.world = world
        self.id = node_id
        self.role = "server"
        self.disk = disk
        self.rng = random.Random(f"explore:{node_id}")

    now = 0.0  # time does not pass; timers fire in any order instead
    durable_at_once = True  # no storage model: a disk write is durable when made

    def send(self, dst, msg):
        w = self.world
        if dst in w.nodes:
            w.net.append((self.id, dst, _canon(msg), msg))

    def broadcast(self, dsts, msg):
        for d in dsts:
            self.send(d, msg)

    def sync(self, then=None, *, send=()):
        # disk writes are durable at once here (no storage model): send, then call
        for dst, msg in send:
            self.send(dst, msg)
        if then is not None:
            then()

    def set_timer(self, name, delay):
        self.world.timers[self.id].add(name)

    def cancel_timer(self, name):
        self.world.timers[self.id].discard(name)

    def timer_set(self, name):
        return name in self.world.timers[self.id]

    def emit(self, kind, **fields):
        self.world.events.append((self.id, kind, fields))

    @builtins.property
    def next_op_id(self):
        return self.world.ops

    def invoke(self, f, key=None, value=None, *, process=None):
        self.world.ops += 1
        return self.world.ops - 1

    def complete(self, op_id, status, result=None):
        pass


class _World:
    def __init__(self, ids):
        self.nodes = dict.fromkeys(ids)    # id -> node object (None while crashed)
        self.disks = {i: {} for i in ids}
        self.timers = {i: set() for i in ids}
        self.net = []                      # (src, dst, canonical msg, msg) in send order
        self.nkeys = dict.fromkeys(ids, b"")  # id -> digest of the node's state (cached)
        self.ghost = {}                    # the monitor's records
        self.crashes = 0
        self.requests = 0
        self.fired = 0
        self.root = True                   # no step taken yet
        self.ops = 0
        self.events = []                   # emitted during the current step (not state)


# ---------------------------------------------------------------- canonical state


_ATOMS = frozenset({type(None), bool, int, float, str, bytes})
_SLOTS: dict = {}


def _sorted(items):
    try:
        return tuple(sorted(items))
    except TypeError:
        return tuple(sorted(items, key=repr))


def _canon(x, fixed=None):
    """A canonical, picklable value of ``x``: dicts and sets sorted, objects as their
    class name and attributes (those ``fixed`` holds, unchanged since construction, left
    out)."""
    t = type(x)
    if t in _ATOMS:
        return x
    if t is tuple or t is list:
        return tuple([v if type(v) in _ATOMS else _canon(v) for v in x])
    if t is dict or t is Counter:
        return ("{", _sorted([(_canon(k), _canon(v)) for k, v in x.items()]))
    if t is set or t is frozenset:
        return ("set", _sorted([_canon(v) for v in x]))
    if isinstance(x, tuple):  # a NamedTuple
        return (t.__name__, *[_canon(v) for v in x])
    if t is random.Random:
        return None
    d = getattr(x, "__dict__", None)
    if d is None:
        slots = _SLOTS.get(t)
        if slots is None:
            slots = _SLOTS[t] = [s for c in t.__mro__ for s in getattr(c, "__slots__", ())]
        return (t.__name__, *[_canon(getattr(x, s, None)) for s in slots])
    items = []
    for k, v in d.items():
        if fixed is not None and fixed.get(k) is v and type(v) not in (list, dict, set):
            continue  # set once by the constructor and never rebound: the same in every state
        items.append((k, _canon(v)))
    return (t.__name__, _sorted(items))


# ---------------------------------------------------------------- family adapters


class _Adapter:
    timers: tuple = ()
    properties: tuple = ()

    def accepts_request(self, node) -> bool:
        return False

    def request(self, k):
        raise NotImplementedError


class _Raft(_Adapter):
    timers = ("election",)
    properties = ("election_safety", "log_matching", "leader_completeness",
                  "state_machine_safety")

    def __init__(self, n, bugs, knobs):
        from .. import raft
        knobs = {"noop": False, **knobs}
        self.config = raft.Config(bugs=bugs, **knobs)
        self.ids = [f"n{i}" for i in range(1, n + 1)]

    def make(self, node_id):
        from ..raft import RaftNode
        return RaftNode(self.ids, self.config)

    def accepts_request(self, node):
        return node.role == "leader"

    def request(self, k):
        from ..raft import ClientRequest
        return ClientRequest("c1", k, "put", "x", k)

    def observe(self, world, node_id, kind, f):
        g = world.ghost
        if kind == "append":
            key = (f["log_index"], f["entry_term"])
            first = g.setdefault("entries", {}).setdefault(key, (f["digest"], node_id))
            if first[0] != f["digest"]:
                return ("log_matching", f"entries at index {key[0]} of term {key[1]} head "
                        f"different logs on {first[1]} and {node_id}")
        elif kind == "leader_elected":
            term = f["term"]
            leaders = g.setdefault("leaders", {})
            other = leaders.setdefault(term, node_id)
            if other != node_id:
                return ("election_safety", f"two leaders in term {term}: {other} and {node_id}")
            log = world.nodes[node_id].log
            g.setdefault("leader_logs", {})[term] = (node_id, tuple(e.digest for e in log))
            for (index, digest), (cterm, who) in g.get("committed", {}).items():
                if cterm < term and (index >= len(log) or log[index].digest != digest):
                    return ("leader_completeness", f"leader {node_id} of term {term} lacks "
                            f"index {index} committed by {who} in term {cterm}")
        elif kind == "commit":
            index, digest, term = f["log_index"], f["digest"], f["term"]
            committed = g.setdefault("committed", {})
            if (index, digest) not in committed:
                committed[(index, digest)] = (term, node_id)
                for t, (leader, digests) in g.get("leader_logs", {}).items():
                    if t > term and (index >= len(digests) or digests[index] != digest):
                        return ("leader_completeness", f"leader {leader} of term {t} lacks "
                                f"index {index} committed by {node_id} in term {term}")
        elif kind == "apply":
            applied = g.setdefault("applied", {})
            first = applied.setdefault(f["log_index"], (f["digest"], node_id))
            if first[0] != f["digest"]:
                return ("state_machine_safety", f"index {f['log_index']} applied as "
                        f"different entries on {first[1]} and {node_id}")
        return None


class _Paxos(_Adapter):
    timers = ("retry",)
    properties = ("agreement", "one_value_per_ballot")

    def __init__(self, n, bugs, knobs):
        from .. import paxos
        knobs = {"variant": "single", **knobs}
        if knobs["variant"] != "single":
            raise ValueError(f"exhaustive explores single-decree paxos only; got "
                             f"variant={knobs['variant']!r}")
        self.config = paxos.Config(bugs=bugs, **knobs)
        self.ids = [f"n{i}" for i in range(1, n + 1)]
        self.quorums = self.config.quorums(n)
        self.values = {sid: f"v{i}" for i, sid in enumerate(self.ids[:self.config.proposers], 1)}
        self.n = n

    def make(self, node_id):
        from ..paxos.single import SingleDecreeNode
        c = self.config
        return SingleDecreeNode(self.ids, self.quorums, value=self.values.get(node_id),
                                backoff=c.backoff, retry_timeout=c.retry_timeout, bugs=c.bugs)

    def observe(self, world, node_id, kind, f):
        g = world.ghost
        if kind == "decided":
            decided = g.setdefault("decided", {})
            decided.setdefault(f["value"], node_id)
            if len(decided) > 1:
                return ("agreement", f"learners learned different values: "
                        f"{sorted(map(str, decided))}")
        elif kind == "accepted":
            ballot, value = f["ballot"], f["value"]
            by_ballot = g.setdefault("ballots", {})
            first = by_ballot.setdefault(ballot, value)
            if first != value:
                return ("one_value_per_ballot", f"ballot {ballot} accepted with values "
                        f"{first!r} and {value!r}")
            voters = g.setdefault("votes", {}).setdefault((ballot, value), set())
            voters.add(node_id)
            if self.quorums.is_write_quorum(voters):
                chosen = g.setdefault("chosen", {})
                chosen.setdefault(value, ballot)
                if len(chosen) > 1:
                    return ("agreement", f"acceptor quorums chose different values: "
                            f"{sorted(map(str, chosen))}")
        return None


#: The families :func:`exhaustive` can explore, with their adapters.
ADAPTERS = {"raft": _Raft, "paxos": _Paxos}


# ---------------------------------------------------------------- the search


@dataclasses.dataclass
class ExhaustiveResult:
    """What :func:`exhaustive` found.

    Attributes
    ----------
    found : bool
        A property was violated within the bound.
    property, detail : str or None
        The violated property and the monitor's sentence.
    depth : int
        Steps of the counterexample (breadth-first: a shortest one); without one, the
        depth explored.
    states : int
        Distinct states reached (after hashing).
    transitions : int
        Steps executed.
    complete : bool
        Every reachable state was explored before the depth bound (no state is deeper).
    trace : list of str
        The counterexample's steps.
    events : DataFrame
        Its events, in the simulator's shape (``seq, time, node, kind`` and the fields;
        ``time`` is the step), so ``family.check`` can read them.
    per_depth : list of int
        Breadth-first: new states at each depth; delay-bounded: states expanded at each
        number of deviations.
    strategy : str
        ``"bfs"`` or ``"delay"``.
    deviations_bound, deviations : int or None
        Delay-bounded: the bound on deviations, and those the counterexample uses (the
        fewest any counterexample within the bounds uses).
    """

    family: str
    bugs: tuple
    n: int
    max_depth: int
    found: bool
    states: int
    transitions: int
    seconds: float
    depth: int
    complete: bool = False
    property: str | None = None
    detail: str = ""
    trace: list = dataclasses.field(default_factory=list)
    events: pd.DataFrame | None = None
    per_depth: list = dataclasses.field(default_factory=list)
    strategy: str = "bfs"
    deviations_bound: int | None = None
    deviations: int | None = None

    def __str__(self):
        dev = ""
        if self.strategy == "delay":
            dev = (f", {self.deviations} deviations" if self.found
                   else f" with {self.deviations_bound} deviations")
        if self.found:
            steps = "\n".join(f"  {i}. {s}" for i, s in enumerate(self.trace, 1))
            return (f"{self.family} n={self.n}: {self.property} violated in {self.depth} steps"
                    f"{dev} ({self.states} states explored): {self.detail}\n{steps}")
        bound = ("the whole state space" if self.complete
                 else f"depth {self.max_depth}{dev}")
        return (f"{self.family} n={self.n}: no violation to {bound} ({self.states} states, "
                f"{self.transitions} transitions, {self.seconds:.1f} s)")


def _describe(action, msg=None):
    kind = action[0]
    if kind in ("deliver", "drop", "delay"):
        return f"{kind} {action[1]} -> {action[2]}: {msg!r}"
    if kind == "fire":
        return f"fire {action[2]} timer on {action[1]}"
    if kind == "request":
        return f"client request to {action[1]}"
    return f"{kind} {action[1]}"


def _digest(value) -> bytes:
    # marshal version 2 writes no back-references, so equal values give equal bytes
    return hashlib.blake2b(marshal.dumps(value, 2), digest_size=16).digest()


class _Explorer:
    def __init__(self, adapter, timers, crashes, requests, max_down, fires=None,
                 deviations=("drop", "lose")):
        self.ad = adapter
        self.timers = frozenset(timers)
        self.max_crashes = crashes
        self.max_requests = requests
        self.max_down = max_down
        self.max_fires = fires
        self.deviate = frozenset(deviations)
        self.fixed = {i: vars(adapter.make(i)) for i in adapter.ids}
        self.collect = None

    # --- world plumbing
    def initial(self):
        w = _World(self.ad.ids)
        violation = None
        for i in self.ad.ids:
            violation = violation or self._start(w, i)
        return w, violation

    def _start(self, w, i):
        node = self.ad.make(i)
        w.nodes[i] = node
        w.timers[i] = set()
        node.on_start(_Ctx(w, i, w.disks[i]))
        self._touch(w, i)
        return self._drain(w)

    def _touch(self, w, i):
        """Recompute the cached digest of node ``i`` (only the node a step acts on changes)."""
        n = w.nodes[i]
        w.nkeys[i] = _digest((_canon(n, self.fixed[i]) if n is not None else None,
                              _canon(w.disks[i]), _sorted(w.timers[i])))

    def _drain(self, w):
        out = None
        for node_id, kind, fields in w.events:
            v = self.ad.observe(w, node_id, kind, fields)
            if v is not None and out is None:
                out = v
        if self.collect is not None:
            self.collect.append(w.events)
        w.events = []
        return out

    def key(self, w, ordered=False) -> bytes:
        """The state's digest: nodes, disks, timers, the messages in flight (as a multiset,
        or in order when the schedule depends on the order), the monitor's records and the
        counters the bounds read."""
        net = [m[:3] for m in w.net]
        state = (tuple(w.nkeys.values()), tuple(net) if ordered else _sorted(net),
                 _canon(w.ghost), w.crashes, w.requests,
                 w.fired if self.max_fires is not None else 0)
        return _digest(state)

    def env_actions(self, w):
        """Everything but deliveries: timer firings, crashes, restarts, client requests."""
        acts = []
        if self.max_fires is None or w.fired < self.max_fires:
            for i, node in w.nodes.items():
                if node is not None:
                    for name in sorted(w.timers[i] & self.timers):
                        acts.append(("fire", i, name))
        down = sum(1 for n in w.nodes.values() if n is None)
        for i, node in w.nodes.items():
            if node is None:
                acts.append(("restart", i))
            elif w.crashes < self.max_crashes and down < self.max_down:
                acts.append(("crash", i))
        if w.requests < self.max_requests:
            for i, node in w.nodes.items():
                if node is not None and self.ad.accepts_request(node):
                    acts.append(("request", i))
        return acts

    def actions(self, w):
        """Breadth-first: deliver any message in flight (one per distinct message), or any
        environment action."""
        acts = [("deliver", *k) for k in _sorted({m[:3] for m in w.net})]
        return acts + self.env_actions(w)

    def choices(self, w):
        """Delay-bounded: ``(action, cost)``.  The default schedule delivers the oldest
        message in flight (cost 0); when nothing is in flight every environment action is
        free.  A deviation costs 1: dropping the oldest message, delaying it (it moves
        behind every message in flight), or an environment action while messages are in
        flight."""
        dev = self.deviate
        if not w.net:
            acts = self.env_actions(w)
            if w.root:
                # symmetry: in the initial state every server is alike (same code, same
                # empty disk, properties blind to names), so the first server's actions
                # stand for everyone's
                first = self.ad.ids[0]
                acts = [a for a in acts if a[1] == first]
            return [(a, 0) for a in acts]
        head = ("deliver", *w.net[0][:3])
        out = [(head, 0)]
        if "drop" in dev:
            out.append((("drop", *head[1:]), 1))
        if "lose" in dev and sum(1 for m in w.net if m[0] == head[1] and m[2] == head[3]) > 1:
            out.append((("lose", *head[1:]), 1))
        if "delay" in dev and len(w.net) > 1:
            out.append((("delay", *head[1:]), 1))
        if "preempt" in dev:
            out += [(a, 1) for a in self.env_actions(w)]
        return out

    def _take(self, w, action):
        key = action[1:4]
        for j, m in enumerate(w.net):
            if m[:3] == key:
                return w.net.pop(j)
        raise KeyError(action)

    def step(self, w, action):
        kind = action[0]
        w.root = False
        if kind == "deliver":
            _src, dst, _c, msg = m = self._take(w, action)
            node = w.nodes[dst]
            if node is not None:
                node.on_message(_Ctx(w, dst, w.disks[dst]), m[0], msg)
                self._touch(w, dst)
        elif kind == "drop":
            self._take(w, action)
            w.events.append((action[2], "drop", {"src": action[1]}))
        elif kind == "lose":
            for m in [m for m in w.net if m[0] == action[1] and m[2] == action[3]]:
                w.net.remove(m)
                w.events.append((m[1], "drop", {"src": m[0]}))
        elif kind == "delay":
            w.net.append(self._take(w, action))
        elif kind == "fire":
            _k, i, name = action
            w.timers[i].discard(name)
            w.fired += 1
            w.nodes[i].on_timer(_Ctx(w, i, w.disks[i]), name)
            self._touch(w, i)
        elif kind == "crash":
            i = action[1]
            w.nodes[i] = None
            w.timers[i] = set()
            w.crashes += 1
            w.events.append((i, "crash", {}))
            self._touch(w, i)
        elif kind == "restart":
            return self._start(w, action[1])
        elif kind == "request":
            i = action[1]
            w.requests += 1
            w.nodes[i].on_message(_Ctx(w, i, w.disks[i]), "c1", self.ad.request(w.requests))
            self._touch(w, i)
        return self._drain(w)


STRATEGIES = ("bfs", "delay")

#: The deviations from the default schedule a delay-bounded search may take (by default
#: ``drop`` and ``lose``).
DEVIATIONS = ("drop", "lose", "delay", "preempt")


def exhaustive(family: str, n: int = 3, *, depth: int = 10, bugs=(), crashes: int = 1,
               requests: int = 1, timers=None, max_down=None, max_states: int = 2_000_000,
               strategy: str = "bfs", delays: int = 3, deviations=("drop", "lose"),
               fires=None,
               **knobs) -> ExhaustiveResult:
    """Explore every schedule of a small cluster of ``family`` to a bound.

    Two strategies:

    - ``"bfs"``: every order of deliveries, timer firings, crashes, restarts and requests
      to ``depth`` steps, breadth-first, so a counterexample found is a shortest one;
    - ``"delay"``: delay-bounded search (Emmi, Qadeer & Rakamarić, "Delay-Bounded
      Scheduling", POPL 2011).  A deterministic default schedule delivers messages in the
      order they were sent; when none is in flight, every timer firing, crash, restart or
      request may happen next (each a branch, at no cost; from the initial state, by
      symmetry, only the first server's).  A *deviation* (``deviations``: dropping the
      oldest message, losing every copy of it, delaying it behind the others, or firing
      a timer, crashing or sending a request while messages are in flight) costs one,
      and every schedule with
      at most ``delays`` deviations and ``depth`` steps is explored (states hashed with
      the order of messages in flight; each state expanded once, at its fewest
      deviations, so the counterexample found uses the fewest deviations).  Long
      schedules with few surprises -- three leaders in successive terms and a fourth
      election -- are in reach, where breadth-first search drowns in interleavings.

    Parameters
    ----------
    family : {"raft", "paxos"}
        The family (``paxos`` explores its single-decree variant).
    n : int
        Servers.
    depth : int
        Most steps in a schedule.
    bugs : collection of str
        Planted bugs switched on.
    crashes : int
        Most crashes in a schedule (a crashed node may restart at any later step).
    requests : int
        Most client requests in a schedule (Raft: a ``put`` handed to a leader).
    timers : collection of str, optional
        The timers that may fire (default: the adapter's, Raft ``election``, Paxos
        ``retry``); others stay armed but never fire.
    max_down : int, optional
        Most nodes down at once (default: a minority).
    max_states : int
        Stop (incomplete) after this many distinct states.
    strategy : {"bfs", "delay"}
        Breadth-first over every interleaving, or delay-bounded.
    delays : int
        With ``strategy="delay"``: most deviations from the default schedule.
    deviations : collection of str
        With ``strategy="delay"``, the deviations allowed (:data:`DEVIATIONS`):
        ``"drop"`` the oldest message in flight, ``"lose"`` every copy in flight of it
        (a lost broadcast), ``"delay"`` it behind the others, ``"preempt"``: an
        environment action while messages are in flight.
    fires : int, optional
        Most timer firings in a schedule (default: no bound but ``depth``).
    **knobs
        The family's knobs (Raft explores with ``noop=False`` unless given).

    Returns
    -------
    ExhaustiveResult

    Examples
    --------
    >>> res = exhaustive("paxos", n=3, depth=4, crashes=0)
    >>> res.found, res.states > 100
    (False, True)
    >>> res = exhaustive("raft", strategy="delay", delays=1, depth=30, crashes=0,
    ...                  requests=1, fires=2)
    >>> res.found, res.deviations_bound
    (False, 1)
    >>> exhaustive("redlock")
    Traceback (most recent call last):
    ...
    ValueError: family must be one of 'raft', 'paxos' for exhaustive exploration; got 'redlock'
    """
    if family not in ADAPTERS:
        accepted = ", ".join(repr(a) for a in ADAPTERS)
        raise ValueError(f"family must be one of {accepted} for exhaustive exploration; "
                         f"got {family!r}")
    check_int("n", n, low=1, high=7)
    check_int("depth", depth, low=0)
    check_int("crashes", crashes, low=0)
    check_int("requests", requests, low=0)
    check_int("max_states", max_states, low=1)
    check_int("delays", delays, low=0)
    if fires is not None:
        check_int("fires", fires, low=0)
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(map(repr, STRATEGIES))}; "
                         f"got {strategy!r}")
    if isinstance(bugs, str):
        raise TypeError(f"bugs must be a collection of bug names; got {bugs!r}")
    adapter = ADAPTERS[family](n, frozenset(bugs), knobs)
    if timers is None:
        timers = adapter.timers
    if max_down is None:
        max_down = (n - 1) // 2
    bad = sorted(set(deviations) - set(DEVIATIONS))
    if isinstance(deviations, str) or bad:
        raise ValueError(f"deviations must be a collection of {', '.join(DEVIATIONS)}; "
                         f"got {deviations!r}")
    ex = _Explorer(adapter, timers, crashes, requests, max_down, fires, deviations)
    run = _bfs if strategy == "bfs" else _delay_bounded
    t0 = time.perf_counter()
    found, parents, transitions, level, frontier_left, per_depth = run(
        ex, depth, max_states, delays)
    res = ExhaustiveResult(family, tuple(sorted(bugs)), n, depth, found is not None,
                           len(parents), transitions, time.perf_counter() - t0,
                           found[2] if found else level,
                           complete=found is None and not frontier_left, per_depth=per_depth,
                           strategy=strategy,
                           deviations_bound=delays if strategy == "delay" else None)
    if found is not None:
        (prop, detail), key, _level = found[:3]
        path = []
        while parents[key][0] is not None:
            key, action = parents[key][:2]
            path.append(action)
        path.reverse()
        res.property, res.detail = prop, detail
        res.depth = len(path)
        if strategy == "delay":
            res.deviations = found[3]
        res.events, res.trace = _replay_events(ex, path)
    return res


def _bfs(ex, depth, max_states, _delays):
    w0, v = ex.initial()
    k0 = ex.key(w0)
    parents = {k0: (None, None)}
    frontier = [(k0, pickle.dumps(w0, pickle.HIGHEST_PROTOCOL))]
    transitions = 0
    per_depth = [1]
    found = None
    level = 0
    if v is not None:
        found = (v, k0, 0)
    while frontier and found is None and level < depth and len(parents) < max_states:
        level += 1
        nxt = []
        for key, blob in frontier:
            w = pickle.loads(blob)
            for j, action in enumerate(ex.actions(w)):
                w2 = w if j == 0 else pickle.loads(blob)
                transitions += 1
                violation = ex.step(w2, action)
                k2 = ex.key(w2)
                if k2 in parents:
                    continue
                parents[k2] = (key, action)
                if violation is not None:
                    found = (violation, k2, level)
                    break
                nxt.append((k2, pickle.dumps(w2, pickle.HIGHEST_PROTOCOL)))
            if found is not None or len(parents) >= max_states:
                break
        per_depth.append(len(nxt))
        frontier = nxt
    return found, parents, transitions, level, bool(frontier), per_depth


def _delay_bounded(ex, depth, max_states, delays):
    """0-1 breadth-first search over deviations: successors along the default schedule go
    to the front of the queue, deviations to the back, so states are expanded in order of
    their fewest deviations.  Successors are made lazily (the parent's pickle and the
    action), so the queue holds one pickle per expanded state."""
    from collections import deque
    w0, v = ex.initial()
    k0 = ex.key(w0, ordered=True)
    parents = {k0: (None, None, 0)}   # key -> (parent key, action, deviations)
    if v is not None:
        return (v, k0, 0, 0), parents, 0, 0, False, [1]
    queue = deque([(0, 0, k0, w0, None, None)])
    transitions = 0
    deepest = 0
    cut = False
    per_cost = [0] * (delays + 1)
    while queue:
        cost, d, pkey, w, blob, action = queue.popleft()
        if w is None:                       # a lazy successor: make it now
            w = pickle.loads(blob)
            transitions += 1
            violation = ex.step(w, action)
            key = ex.key(w, ordered=True)
            seen = parents.get(key)
            if seen is not None and seen[2] <= cost:
                continue
            parents[key] = (pkey, action, cost)
            if violation is not None:
                return (violation, key, d, cost), parents, transitions, d, True, per_cost
        else:
            key = pkey
        per_cost[cost] += 1
        deepest = max(deepest, d)
        if d >= depth:
            cut = True
            continue
        if len(parents) >= max_states:
            cut = True
            break
        here = pickle.dumps(w, pickle.HIGHEST_PROTOCOL)
        for act, c in ex.choices(w):
            if cost + c > delays:
                cut = True
                continue
            item = (cost + c, d + 1, key, None, here, act)
            if c == 0:
                queue.appendleft(item)
            else:
                queue.append(item)
    return None, parents, transitions, deepest, cut, per_cost


def _replay_events(ex, path):
    """The events of the schedule ``path`` (a table shaped like ``run.events``) and its
    steps in words."""
    rows = []
    ex.collect = []
    w, _v = ex.initial()
    for batch in ex.collect:
        rows += [(0, i, k, f) for i, k, f in batch]
    trace = []
    for step, action in enumerate(path, 1):
        ex.collect = []
        held = [m[3] for m in w.net if m[:3] == action[1:4]][:1]
        trace.append(_describe(action, held[0] if held else None))
        ex.step(w, action)
        for batch in ex.collect:
            rows += [(step, i, k, f) for i, k, f in batch]
    ex.collect = None
    table = [{"seq": s, "time": float(t), "node": i, "kind": k, **f}
             for s, (t, i, k, f) in enumerate(rows)]
    return pd.DataFrame(table), trace
