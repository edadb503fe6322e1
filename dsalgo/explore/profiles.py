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

__all__ = ["BASE", "KINDS", "Profile", "base_settings"]

#: The fault kinds a profile switches on or off.
KINDS = ("crash", "restart", "partition", "partition_one_way", "pause", "clock_jump",
         "clock_drift", "loss", "duplication", "slow_links", "hit_clients")

#: Per family: ``n``, ``duration`` and knobs of the runs explored by default (small, so
#: that a run costs milliseconds; ``duration`` None means the family's own).
BASE = {
    "raft": {"n": 3, "duration": 3.0, "knobs": {"clients": 2}},
    "paxos": {"n": 3, "duration": 2.0, "knobs": {}},
    "redlock": {"n": 5, "duration": 3.0, "knobs": {"clients": 3}},
    "zookeeper": {"n": 3, "duration": 3.0, "knobs": {"clients": 3}},
    "twopc": {"n": 3, "duration": 2.0, "knobs": {}},
    "saga": {"n": 3, "duration": 2.0, "knobs": {}},
    "balance": {"n": 4, "duration": None, "knobs": {"requests": 1500}},
}


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
    def draw(cls, rng: random.Random, *, p_on: float = 0.5) -> Profile:
        """A random profile: each kind on with probability ``p_on``, random rates."""
        on = tuple(k for k in KINDS if rng.random() < p_on)
        rates = {k: _loguniform(rng, 0.1, 3.0) for k in
                 ("crash", "partition", "pause", "clock_jump", "clock_drift")}
        rates["slow_links"] = float(rng.randint(1, 3))
        mean = {k: _loguniform(rng, 0.02, 1.0) for k in ("crash", "partition", "pause")}
        return cls(on=on, rates=rates, mean=mean, max_down=rng.choice([1, 1, 2, 3]),
                   jump=_loguniform(rng, 0.05, 5.0), drift=_loguniform(rng, 0.001, 0.3),
                   loss=_loguniform(rng, 0.005, 0.3), duplication=_loguniform(rng, 0.01, 0.3),
                   slow_factor=_loguniform(rng, 3.0, 200.0),
                   latency=_loguniform(rng, 0.0005, 0.02))

    def toggled(self, rng: random.Random) -> Profile:
        """The same profile with one kind switched (on → off, off → on)."""
        k = rng.choice(KINDS)
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


def _consistent(faults, max_down, servers) -> bool:
    """No node crashed while down, no overlapping pauses of a node or partitions, and at
    most ``max_down`` servers down at once."""
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
    parts = [(f["at"], f["until"] if f["until"] is not None else inf) for f in faults
             if f["kind"] == "partition"]
    for i, (a, b) in enumerate(parts):
        for c, d in parts[i + 1:]:
            if a < d and c < b:
                return False
    return True
