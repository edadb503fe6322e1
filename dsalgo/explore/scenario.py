"""A :class:`Scenario`: one run of one family, spelled out so it can be saved and replayed.

A scenario names the family, ``n``, the seed, the duration, the knobs, the bugs and every
fault *concretely* (no random recipe such as a :class:`~dsalgo.sim.Nemesis`): crash
episodes, partitions, pauses, clock jumps and drifts, and the network's loss, duplication
and slow links.  Each fault is a small JSON object, so a scenario is a JSON file that
:func:`load` reads back and :meth:`Scenario.run` replays bit for bit (the simulator is
deterministic given its arguments).

Fault objects (``at``, ``until`` and ``duration`` in simulated seconds)::

    {"kind": "crash", "node": "n1", "at": 1.0, "until": 1.5}   # until None: never restarts
    {"kind": "partition", "groups": [["n1"], ["n2", "n3"]], "at": 1.0, "until": 2.0,
     "one_way": false}
    {"kind": "pause", "node": "n2", "at": 1.0, "duration": 0.3}
    {"kind": "clock_jump", "node": "n2", "at": 1.0, "delta": -0.4}
    {"kind": "clock_drift", "node": "n3", "at": 0.0, "rate": 0.05}
    {"kind": "loss", "rate": 0.02}                 # every link drops 2 % of messages
    {"kind": "duplication", "rate": 0.05}          # every link duplicates 5 %
    {"kind": "slow_link", "src": "n1", "dst": "n2", "mean": 0.08}   # both ways
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile

from .. import sim
from .._validate import check_int

__all__ = ["FAULT_KINDS", "Scenario", "load"]

#: The fault kinds a scenario may hold.
FAULT_KINDS = ("crash", "partition", "pause", "clock_jump", "clock_drift", "loss",
               "duplication", "slow_link")

_NETWORK_KINDS = ("loss", "duplication", "slow_link")


def _sim_faults(faults) -> list:
    out = []
    for f in faults:
        kind = f["kind"]
        if kind == "crash":
            out.append(sim.Crash(f["node"], at=f["at"]))
            if f.get("until") is not None:
                out.append(sim.Restart(f["node"], at=f["until"]))
        elif kind == "partition":
            out.append(sim.Partition(f["groups"], at=f["at"], until=f.get("until"),
                                     one_way=bool(f.get("one_way", False))))
        elif kind == "pause":
            out.append(sim.Pause(f["node"], at=f["at"], duration=f["duration"]))
        elif kind == "clock_jump":
            out.append(sim.ClockJump(f["node"], at=f["at"], delta=f["delta"]))
        elif kind == "clock_drift":
            out.append(sim.ClockDrift(f["node"], rate=f["rate"], at=f["at"]))
        elif kind not in _NETWORK_KINDS:
            accepted = ", ".join(repr(k) for k in FAULT_KINDS)
            raise ValueError(f"fault kind must be one of {accepted}; got {kind!r}")
    return out


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One run of one family with every fault spelled out (see the module text).

    Parameters
    ----------
    family : str
        A name of :data:`dsalgo.families.FAMILIES`.
    n : int
        Number of servers.
    seed : int
        The run's seed.
    duration : float or None
        Simulated seconds (``None``: the family's own default).
    knobs : dict
        The family's knobs and workload knobs (JSON values).
    bugs : tuple of str
        Planted bugs switched on.
    faults : tuple of dict
        Concrete faults (the kinds of :data:`FAULT_KINDS`).
    latency : float or None
        Mean one-way delay of the exponential latency of every link when the scenario
        builds its own network (``None``: the family's default network unless a network
        fault needs one, then 5 ms).

    Examples
    --------
    >>> s = Scenario("raft", 3, seed=1, duration=1.0, knobs={"clients": 1},
    ...              faults=({"kind": "crash", "node": "n1", "at": 0.5, "until": 0.7},))
    >>> run = s.run()
    >>> run.faults[["kind", "target", "t_start", "t_end"]].to_dict("records")
    [{'kind': 'crash', 'target': 'n1', 't_start': 0.5, 't_end': 0.7}]
    >>> Scenario.from_json(s.to_json()) == s
    True
    """

    family: str
    n: int
    seed: int = 0
    duration: float | None = None
    knobs: dict = dataclasses.field(default_factory=dict)
    bugs: tuple = ()
    faults: tuple = ()
    latency: float | None = None

    def __post_init__(self):
        from ..families import family
        family(self.family)
        check_int("n", self.n, low=1)
        check_int("seed", self.seed)
        if not isinstance(self.knobs, dict):
            raise TypeError(f"knobs must be a dict; got {self.knobs!r}")
        if isinstance(self.bugs, str):
            raise TypeError(f"bugs must be a collection of bug names; got {self.bugs!r}")
        object.__setattr__(self, "bugs", tuple(sorted(self.bugs)))
        faults = tuple(dict(f) for f in self.faults)
        for f in faults:
            if f.get("kind") not in FAULT_KINDS:
                accepted = ", ".join(repr(k) for k in FAULT_KINDS)
                raise ValueError(f"fault kind must be one of {accepted}; got {f!r}")
        object.__setattr__(self, "faults", faults)

    def __hash__(self):
        return hash(self.to_json())

    # ------------------------------------------------------------ building the run
    def network(self):
        """The :class:`dsalgo.sim.Network` this scenario runs on (``None``: the family's)."""
        net_faults = [f for f in self.faults if f["kind"] in _NETWORK_KINDS]
        if not net_faults and self.latency is None:
            return None
        mean = 0.005 if self.latency is None else self.latency
        drop = sum(f["rate"] for f in net_faults if f["kind"] == "loss")
        dup = sum(f["rate"] for f in net_faults if f["kind"] == "duplication")
        net = sim.Network(latency=sim.Exponential(mean=mean), drop_rate=min(drop, 1.0),
                          duplicate_rate=min(dup, 1.0))
        for f in net_faults:
            if f["kind"] == "slow_link":
                net.set_link(f["src"], f["dst"], latency=sim.Exponential(mean=f["mean"]))
        return net

    def sim_faults(self) -> list:
        """The faults as :mod:`dsalgo.sim` fault objects."""
        return _sim_faults(self.faults)

    def kwargs(self) -> dict:
        """The keyword arguments of the family's ``simulate`` (without ``n``)."""
        kw = dict(self.knobs)
        kw.update(seed=self.seed, network=self.network(), faults=self.sim_faults(),
                  bugs=set(self.bugs))
        if self.duration is not None:
            kw["duration"] = self.duration
        return kw

    def run(self, *, record_messages: bool = True):
        """Run the scenario: the same tables every time, in any process."""
        from ..families import family
        return family(self.family).simulate(self.n, record_messages=record_messages,
                                            **self.kwargs())

    def check(self, run=None):
        """The family's verdict on ``run`` (by default a fresh run of this scenario)."""
        from ..families import family
        return family(self.family).check(self.run() if run is None else run)

    def replace(self, **changes) -> Scenario:
        """A copy with ``changes`` (``faults=…``, ``duration=…``, ``knobs=…``)."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------ files
    def to_dict(self) -> dict:
        return {"family": self.family, "n": self.n, "seed": self.seed,
                "duration": self.duration, "knobs": self.knobs, "bugs": list(self.bugs),
                "faults": [dict(f) for f in self.faults], "latency": self.latency}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> Scenario:
        d = dict(d)
        d["bugs"] = tuple(d.get("bugs", ()))
        d["faults"] = tuple(d.get("faults", ()))
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        return cls.from_dict(json.loads(text))

    def save(self, path) -> str:
        """Write the scenario as JSON to ``path`` (all or nothing); returns the path."""
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(self.to_dict(), fh, indent=1, sort_keys=True)
                fh.write("\n")
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return path


def load(path) -> Scenario:
    """Read a scenario written by :meth:`Scenario.save`.

    Examples
    --------
    >>> import os, tempfile
    >>> s = Scenario("paxos", 3, seed=2, duration=0.5, knobs={"variant": "single"})
    >>> path = s.save(os.path.join(tempfile.mkdtemp(), "s.json"))
    >>> load(path) == s
    True
    """
    path = os.fspath(path)
    with open(path) as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: line {e.lineno}: not a scenario (JSON expected: "
                             f"{e.msg})") from None
    if not isinstance(data, dict) or "family" not in data or "n" not in data:
        raise ValueError(f"{path}: a scenario must be a JSON object with family, n, seed, "
                         f"knobs, bugs and faults")
    return Scenario.from_dict(data)
