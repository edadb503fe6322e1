"""Swarm fault profiles: which fault kinds are on in a run, at what rates, and the faults
they draw.

Swarm testing (Groce et al., ISSTA 2012): instead of every fault kind always on, each run
switches a random subset of kinds on, each at a random rate, so some runs see only clock
drift, others only crashes with long critical sections, others a storm of everything.
A :class:`Profile` is that draw; :meth:`Profile.faults` turns it into concrete scenario
faults (see :mod:`dsalgo.explore.scenario`), drawn from a :class:`random.Random` so the
same seed gives the same faults.
"""

from __future__ import annotations

import dataclasses
import math
import random

__all__ = ["BASE", "FAULT_MODELS", "FOCUS", "KINDS", "KNOB_SPACES", "FaultModel", "Profile",
           "base_settings", "draw_knobs", "fault_kinds", "fault_model", "valid_knobs"]

#: The fault kinds a profile switches on or off.
KINDS = ("crash", "restart", "partition", "partition_one_way", "pause", "clock_jump",
         "clock_drift", "loss", "duplication", "slow_links", "hit_clients")

#: Per family: ``n``, ``duration`` and knobs of the runs explored by default (small, so
#: that a run costs milliseconds; ``duration`` None means the family's own).
BASE = {
    "raft": {"n": 3, "duration": 3.0, "knobs": {"clients": 2}},
    "paxos": {"n": 3, "duration": 2.0, "knobs": {}},
    "redlock": {"n": 5, "duration": 3.0, "knobs": {"clients": 3}},
    # sessions of 0.3 s: lock_progress allows 3 session timeouts plus the critical
    # section, so with the default 1 s sessions a 3 s run could never judge progress
    "zookeeper": {"n": 3, "duration": 3.0, "knobs": {"clients": 3, "session_timeout": 0.3}},
    "twopc": {"n": 3, "duration": 2.0, "knobs": {}},
    "saga": {"n": 3, "duration": 2.0, "knobs": {}},
    "balance": {"n": 4, "duration": None, "knobs": {"requests": 1500}},
}


@dataclasses.dataclass(frozen=True)
class FaultModel:
    """The faults a family's safety claims assume can happen: ``kinds`` (of
    :data:`KINDS`), for each kind left out or bounded why (``notes``), the knobs the
    claims assume (``knobs``, e.g. RedLock's persistence), the largest clock drift
    rate they tolerate (``drift``, None: any) and the nodes no fault touches
    (``spared``: not crashed, paused, cut off or slowed; why in ``notes`` under the
    node's name).

    Examples
    --------
    >>> FAULT_MODELS["balance"].notes["duplication"][:21]
    'a request has no id t'
    >>> FAULT_MODELS["redlock"].spared
    ('storage',)
    """

    kinds: tuple
    notes: dict = dataclasses.field(default_factory=dict)     # kind -> why left out or bounded
    knobs: dict = dataclasses.field(default_factory=dict)   # knobs the claims assume
    drift: float | None = None                              # most clock drift assumed
    spared: tuple = ()                                      # nodes no fault touches


_LOCK_PAUSE = ("a client paused, or whose clock jumped, past its lease still believes it "
               "holds the lock (Kleppmann 2016: process pauses are outside every lease's "
               "assumptions; fencing protects the storage, not the belief)")
_STORAGE_DUP = ("the protected storage is a plain register reached over one connection "
                "(exactly once): a duplicated Write is applied twice and shows as a lost "
                "update of the client's own write")
_LOCK_STORAGE = ("a write that reaches the storage after the writer's lease expired "
                 "overwrites the next holder's (Kleppmann 2016: the lease assumes bounded "
                 "network delay; the storage's links are kept fast and whole, and fencing "
                 "tokens, not the lock, are what protects it from late writes)")
_BALANCE_CLOCK = ("balance.simulate records a request's queueing and service as durations "
                  "of the backend's local clock added to real times, so under clock faults "
                  "the history's t_enqueue and t_end are not real times and the causality "
                  "check compares two clocks")

#: Per family: the faults its safety claims assume can happen (:class:`FaultModel`).
#: :func:`dsalgo.explore.search` draws only these by default; ``kinds="all"`` lifts every
#: assumption (so the known flaws, RedLock's under clock jumps or a restart without
#: persistence, are found when asked for).
FAULT_MODELS: dict = {
    "raft": FaultModel(KINDS),
    "paxos": FaultModel(KINDS),
    "twopc": FaultModel(KINDS),
    "saga": FaultModel(KINDS),
    "redlock": FaultModel(
        tuple(k for k in KINDS if k not in ("clock_jump", "duplication", "hit_clients")),
        {"clock_jump": "the docs assume every server's clock advances at about the rate of "
                       "real time; a jump expires a key early (the known flaw)",
         "clock_drift": "bounded by drift_factor (0.01 of the TTL's rate)",
         "hit_clients": _LOCK_PAUSE, "duplication": _STORAGE_DUP,
         "restart": "with persistence='fsync' (or the docs' delayed restart); without it a "
                    "restarted server forgets the key (the known flaw)",
         "storage": _LOCK_STORAGE},
        knobs={"persistence": "fsync"}, drift=0.01, spared=("storage",)),
    "zookeeper": FaultModel(
        tuple(k for k in KINDS if k not in ("clock_jump", "duplication", "hit_clients")),
        {"clock_jump": "sessions expire by the leader's clock; a forward jump expires a "
                       "live holder's session before it can know (a timing assumption of "
                       "every lease, ZooKeeper's sessions included)",
         "clock_drift": "bounded at 5 % of real time",
         "hit_clients": _LOCK_PAUSE, "duplication": _STORAGE_DUP,
         "storage": _LOCK_STORAGE},
        drift=0.05, spared=("storage",)),
    "balance": FaultModel(
        tuple(k for k in KINDS if k not in ("clock_jump", "clock_drift", "duplication")),
        {"clock_jump": _BALANCE_CLOCK, "clock_drift": _BALANCE_CLOCK,
         "duplication": "a request has no id the backends deduplicate by: a duplicate is "
                        "served twice, and the history keeps the first service but the "
                        "first answer, which may come from the other copy"}),
}

#: Per family: knob values a search draws from (swarm over workloads and configurations:
#: each knob keeps the explored default half the time, else takes one of these).
KNOB_SPACES: dict = {
    "raft": {"noop": [True, False], "max_entries": [1, 64], "prevote": [False, True],
             "check_quorum": [False, True], "clients": [1, 2, 3]},
    "paxos": {"variant": ["multi", "single"], "proposers": [2, 3], "clients": [1, 3]},
    "redlock": {"critical_section": [0.01, 0.05, 0.3, 0.9, 1.5], "clients": [2, 3, 5],
                "extend": [False, True], "think": [0.0, 0.1]},
    "zookeeper": {"critical_section": [0.01, 0.05, 0.5, 1.5], "clients": [2, 3, 5],
                  "session_timeout": [0.3, 1.0], "think": [0.0, 0.1],
                  # the replicated ensemble (elections, followers, sessions moving) too
                  "ensemble": [True]},
    "twopc": {"clients": [1, 2, 4], "concurrency": [1, 2], "vote_no": [0.0, 0.2],
              "termination": ["wait", "cooperative"], "accounts": [1, 2]},
    "saga": {"form": ["orchestrated", "choreographed"],
             "step_failure": [0.1, 0.4], "clients": [1, 2, 4], "concurrency": [1, 2]},
    "balance": {"policy": ["random", "round_robin", "least_outstanding", "jsq", "power_of_d",
                           "consistent_hash", "consistent_hash_bounded", "central_queue"],
                "health_interval": [None, 0.5], "utilization": [0.5, 0.9],
                "timeout": [None, 20.0]},
}


#: Per family: event kinds that mark a turning point of the protocol (a new leader, a
#: lock handed over, a decision), at which :func:`dsalgo.explore.search` aims faults
#: more often than at other events (the node that just turned is crashed, cut off or
#: paused right then or a little later).
FOCUS: dict = {
    "raft": ("leader_elected",),
    "paxos": ("leader", "promise", "decided"),
    "redlock": ("acquire", "release"),
    "zookeeper": ("acquire", "release"),
    "twopc": ("vote", "decide"),
    "saga": ("step", "compensate"),
    "balance": ("backend_down", "backend_up"),
}


def fault_model(family: str, kinds=None) -> FaultModel:
    """The fault model a search of ``family`` honours: the family's own
    (:data:`FAULT_MODELS`) when ``kinds`` is None, else ``kinds`` with no other
    assumption (``"all"``: every kind).

    Examples
    --------
    >>> fault_model("redlock").knobs
    {'persistence': 'fsync'}
    >>> "clock_jump" in fault_model("redlock").kinds, "clock_jump" in fault_model(
    ...     "redlock", "all").kinds
    (False, True)
    """
    if kinds is None:
        return FAULT_MODELS.get(family, FaultModel(KINDS))
    return FaultModel(fault_kinds(family, kinds))


def draw_knobs(family: str, rng: random.Random, knobs: dict, keep=()) -> dict:
    """``knobs`` with some of the family's :data:`KNOB_SPACES` values drawn in (each knob
    not in ``keep`` half the time), keeping only combinations the family's configuration
    accepts.

    Examples
    --------
    >>> import random
    >>> k = draw_knobs("raft", random.Random(1), {"clients": 2})
    >>> set(k) <= {"clients", "noop", "max_entries", "prevote", "check_quorum"}
    True
    """
    space = KNOB_SPACES.get(family, {})
    for _ in range(8):
        out = dict(knobs)
        for k, values in space.items():
            if k not in keep and rng.random() < 0.5:
                out[k] = rng.choice(values)
        if valid_knobs(family, out):
            return out
    return dict(knobs)


_VALID: dict = {}


def valid_knobs(family: str, knobs: dict) -> bool:
    """Whether ``family`` runs with ``knobs`` without an error or a warning (a deprecated
    combination is left out too); one tiny run per combination, remembered.

    Examples
    --------
    >>> valid_knobs("paxos", {"variant": "single"}), valid_knobs("paxos", {"window": 0})
    (True, False)
    """
    import json
    import warnings

    from ..families import family as _family
    key = (family, json.dumps(knobs, sort_keys=True, default=repr))
    if key not in _VALID:
        fam = _family(family)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                fam.simulate(BASE.get(family, {"n": 3})["n"], seed=0, duration=1e-3,
                             record_messages=False, **knobs)
            _VALID[key] = True
        except (ValueError, TypeError, Warning):
            _VALID[key] = False
    return _VALID[key]


def base_settings(family: str, n=None, duration=None, knobs=None) -> dict:
    """``n``, ``duration`` and ``knobs`` for ``family``: :data:`BASE` overridden by the
    arguments that are not None.

    Examples
    --------
    >>> base_settings("raft", n=5)
    {'n': 5, 'duration': 3.0, 'knobs': {'clients': 2}}
    """
    from ..families import family as _family
    _family(family)
    base = BASE.get(family, {"n": 3, "duration": None, "knobs": {}})
    out = {"n": base["n"] if n is None else n,
           "duration": base["duration"] if duration is None else duration,
           "knobs": {**base["knobs"], **(knobs or {})}}
    return out


def fault_kinds(family: str, kinds=None) -> tuple:
    """The fault kinds a search of ``family`` draws from: ``kinds`` (a collection of
    :data:`KINDS`, or ``"all"``), or by default the family's fault model
    (:data:`FAULT_MODELS`).

    Examples
    --------
    >>> fault_kinds("raft") == KINDS
    True
    >>> fault_kinds("raft", {"crash", "loss"})
    ('crash', 'loss')
    >>> fault_kinds("raft", ["meteor"])
    Traceback (most recent call last):
    ...
    ValueError: kinds must be 'all' or a collection of 'crash', 'restart', 'partition', 'partition_one_way', 'pause', 'clock_jump', 'clock_drift', 'loss', 'duplication', 'slow_links', 'hit_clients'; got ['meteor']
    """
    if kinds is None:
        return fault_model(family).kinds
    if isinstance(kinds, str) and kinds == "all":
        return KINDS
    accepted = ", ".join(repr(k) for k in KINDS)
    if isinstance(kinds, str) or not all(isinstance(k, str) for k in kinds) or \
            set(kinds) - set(KINDS):
        raise ValueError(f"kinds must be 'all' or a collection of {accepted}; "
                         f"got {sorted(kinds) if not isinstance(kinds, str) else kinds!r}")
    return tuple(k for k in KINDS if k in set(kinds))


def _loguniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def _poisson(rng, mean):
    # Knuth's method; the means here are small
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-min(mean, 50.0)), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclasses.dataclass(frozen=True)
class Profile:
    """Which fault kinds are on, with their rates (per simulated second) and scales.

    Examples
    --------
    >>> import random
    >>> p = Profile.draw(random.Random(3))
    >>> sorted(p.on) == sorted(k for k in KINDS if k in p.on)
    True
    >>> faults = p.faults(random.Random(1), ["n1", "n2", "n3"], ["c1"], horizon=2.0)
    >>> all(f["kind"] in ("crash", "partition", "pause", "clock_jump", "clock_drift",
    ...                   "loss", "duplication", "slow_link") for f in faults)
    True
    """

    on: tuple = ()
    rates: dict = dataclasses.field(default_factory=dict)
    mean: dict = dataclasses.field(default_factory=dict)
    max_down: int = 1
    jump: float = 0.5
    drift: float = 0.05
    loss: float = 0.0
    duplication: float = 0.0
    slow_factor: float = 20.0
    latency: float = 0.005

    @classmethod
    def draw(cls, rng: random.Random, *, p_on: float = 0.5, kinds=KINDS) -> Profile:
        """A random profile: each of ``kinds`` on with probability ``p_on``, random
        rates."""
        on = tuple(k for k in KINDS if k in kinds and rng.random() < p_on)
        rates = {k: _loguniform(rng, 0.1, 3.0) for k in
                 ("crash", "partition", "pause", "clock_jump", "clock_drift")}
        rates["slow_links"] = float(rng.randint(1, 3))
        mean = {k: _loguniform(rng, 0.02, 1.0) for k in ("crash", "partition", "pause")}
        return cls(on=on, rates=rates, mean=mean, max_down=rng.choice([1, 1, 2, 3]),
                   jump=_loguniform(rng, 0.05, 5.0), drift=_loguniform(rng, 0.001, 0.3),
                   loss=_loguniform(rng, 0.005, 0.3), duplication=_loguniform(rng, 0.01, 0.3),
                   slow_factor=_loguniform(rng, 3.0, 200.0),
                   latency=_loguniform(rng, 0.0005, 0.02))

    def toggled(self, rng: random.Random, kinds=KINDS) -> Profile:
        """The same profile with one of ``kinds`` switched (on → off, off → on)."""
        k = rng.choice([x for x in KINDS if x in kinds])
        on = tuple(x for x in KINDS if (x in self.on) != (x == k))
        return dataclasses.replace(self, on=on)

    def scaled(self, factor: float) -> Profile:
        """The same profile with every rate multiplied by ``factor``."""
        return dataclasses.replace(self, rates={k: v * factor for k, v in self.rates.items()})

    # ------------------------------------------------------------ drawing faults
    def faults(self, rng: random.Random, servers, clients=(), *, horizon: float,
               existing=()) -> list[dict]:
        """Concrete faults for a run over ``[0, horizon)`` (added to ``existing`` ones,
        which they never contradict: no node crashed twice at once, no overlapping pauses
        of one node, no overlapping partitions)."""
        on = set(self.on)
        targets = list(servers) + (list(clients) if "hit_clients" in on else [])
        out = [dict(f) for f in existing]
        if not targets or horizon <= 0:
            return out
        for kind in ("crash", "partition", "pause", "clock_jump", "clock_drift"):
            if kind not in on:
                continue
            for _ in range(_poisson(rng, self.rates[kind] * horizon)):
                f = self._one(kind, rng, targets, servers, horizon, "partition_one_way" in on,
                              "restart" in on)
                if f is not None and _consistent(out + [f], self.max_down, servers):
                    out.append(f)
        if "loss" in on and not any(f["kind"] == "loss" for f in out):
            out.append({"kind": "loss", "rate": round(self.loss, 6)})
        if "duplication" in on and not any(f["kind"] == "duplication" for f in out):
            out.append({"kind": "duplication", "rate": round(self.duplication, 6)})
        if "slow_links" in on:
            everyone = sorted(set(servers) | set(clients))
            for _ in range(int(self.rates["slow_links"])):
                a, b = rng.sample(everyone, 2) if len(everyone) > 1 else (None, None)
                if a is not None:
                    out.append({"kind": "slow_link", "src": a, "dst": b,
                                "mean": round(self.latency * self.slow_factor, 6)})
        out.sort(key=lambda f: (f.get("at", -1.0), f["kind"]))
        return out

    def _one(self, kind, rng, targets, servers, horizon, one_way, restart):
        at = round(rng.uniform(0.0, horizon), 6)
        if kind == "crash":
            until = None
            if restart or rng.random() < 0.5:
                until = round(at + rng.expovariate(1 / self.mean["crash"]), 6) + 1e-6
            return {"kind": "crash", "node": rng.choice(targets), "at": at, "until": until}
        if kind == "partition":
            nodes = sorted(set(servers) | set(targets))
            if len(nodes) < 2:
                return None
            order = nodes[:]
            rng.shuffle(order)
            cut = rng.randint(1, len(order) - 1)
            until = round(at + rng.expovariate(1 / self.mean["partition"]), 6) + 1e-6
            return {"kind": "partition", "groups": [sorted(order[:cut]), sorted(order[cut:])],
                    "at": at, "until": until, "one_way": bool(one_way and rng.random() < 0.5)}
        if kind == "pause":
            dur = round(rng.expovariate(1 / self.mean["pause"]), 6) + 1e-6
            return {"kind": "pause", "node": rng.choice(targets), "at": at, "duration": dur}
        if kind == "clock_jump":
            return {"kind": "clock_jump", "node": rng.choice(targets), "at": at,
                    "delta": round(rng.uniform(-self.jump, self.jump), 6)}
        return {"kind": "clock_drift", "node": rng.choice(targets), "at": at,
                "rate": round(rng.uniform(-self.drift, self.drift), 6)}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _consistent(faults, max_down, servers, *, overlap: bool = False) -> bool:
    """No node crashed while down, no overlapping pauses of a node or partitions (unless
    ``overlap``: the simulator cuts the union of the partitions in force), and at most
    ``max_down`` servers down at once."""
    inf = float("inf")
    crashes = [(f["at"], inf if f["until"] is None else f["until"], f["node"])
               for f in faults if f["kind"] == "crash"]
    for i, (a, b, x) in enumerate(crashes):
        for c, d, y in crashes[i + 1:]:
            if x == y and a < d and c < b:
                return False
    servers = set(servers)
    points = sorted({a for a, _b, _x in crashes})
    for t in points:
        if sum(1 for a, b, x in crashes if x in servers and a <= t < b) > max_down:
            return False
    pauses = [(f["at"], f["at"] + f["duration"], f["node"]) for f in faults
              if f["kind"] == "pause"]
    for i, (a, b, x) in enumerate(pauses):
        for c, d, y in pauses[i + 1:]:
            if x == y and a < d and c < b:
                return False
    if overlap:
        return True
    parts = [(f["at"], f["until"] if f["until"] is not None else inf) for f in faults
             if f["kind"] == "partition"]
    for i, (a, b) in enumerate(parts):
        for c, d in parts[i + 1:]:
            if a < d and c < b:
                return False
    return True
