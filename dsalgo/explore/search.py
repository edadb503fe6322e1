"""``search``: swarm fault profiles with coverage feedback, until a property breaks.

Each run is a :class:`~dsalgo.explore.scenario.Scenario` whose faults a random
:class:`~dsalgo.explore.profiles.Profile` drew (swarm testing).  A run that reaches an
abstract situation no earlier run reached -- a new event kind, a new transition between
two consecutive events of one node, a new (operation, outcome) pair, a new order of
magnitude of a count the checker reports, a new highest term -- joins the *corpus*; later
runs are often mutations of a corpus entry (another seed, a fault added, removed or
moved, a fault kind switched on or off, rates doubled), so the search digs where it
already found something new, as coverage-guided fuzzers do.
"""

from __future__ import annotations

import builtins
import dataclasses
import math
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor

from .._validate import check_int, check_number
from .profiles import Profile, base_settings
from .scenario import Scenario

__all__ = ["SearchResult", "coverage", "evaluate", "search"]

BACKENDS = ("serial", "processes")


def _bucket(v) -> int:
    return int(math.log2(1 + abs(v))) * (1 if v >= 0 else -1)


def coverage(run, verdict=None) -> frozenset:
    """The abstract situations a run reached (the feedback of :func:`search`).

    Examples
    --------
    >>> from dsalgo import raft
    >>> run = raft.simulate(3, seed=1, duration=0.5, clients=1)
    >>> feats = coverage(run, raft.check(run))
    >>> ("event", "leader_elected") in feats, ("step", "role", "leader_elected") in feats
    (True, True)
    """
    feats = set()
    ev = run.events
    if len(ev):
        kinds = ev["kind"].astype(str)
        feats.update(("event", k) for k in kinds.unique())
        if "role" in ev.columns:
            roles = ev["role"].dropna().astype(str).unique()
            feats.update(("role", r) for r in roles)
        nodes = ev["node"].astype(str)
        prev = kinds.groupby(nodes, sort=False).shift()
        pairs = set(zip(prev[prev.notna()], kinds[prev.notna()], strict=True))
        feats.update(("step", a, b) for a, b in pairs)
        if "term" in ev.columns:
            terms = ev["term"].dropna()
            if len(terms):
                feats.add(("term", _bucket(float(terms.max()))))
    h = run.history
    if len(h) and "f" in h.columns and "status" in h.columns:
        feats.update(("op", str(f), str(s)) for f, s in
                     set(zip(h["f"], h["status"], strict=True)))
    if verdict is not None:
        for key, v in (verdict.info or {}).items():
            if isinstance(v, bool):
                feats.add(("info", key, v))
            elif isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
                feats.add(("info", key, _bucket(v)))
        if len(verdict.violations):
            feats.update(("violated", p) for p in verdict.violations["property"].unique())
    return frozenset(feats)


def evaluate(scenario: Scenario):
    """Run and check ``scenario``: ``(coverage, violated properties, first violation)``.

    The first violation is a dict ``property, time, detail`` or None.
    """
    from ..families import family
    fam = family(scenario.family)
    run = scenario.run(record_messages=False)
    verdict = fam.check(run)
    props: tuple = ()
    first = None
    if verdict.status == "violated" and len(verdict.violations):
        v = verdict.violations.sort_values("time", kind="stable")
        props = tuple(sorted(set(v["property"])))
        row = v.iloc[0]
        first = {"property": str(row["property"]), "time": float(row["time"]),
                 "detail": str(row["detail"])}
    return coverage(run, verdict), props, first


def _evaluate_json(text: str):
    return evaluate(Scenario.from_json(text))


@dataclasses.dataclass
class SearchResult:
    """What :func:`search` found.

    Attributes
    ----------
    found : bool
        A property was violated.
    runs, seconds : int, float
        Runs made and wall seconds spent (to the first violation when ``found``).
    property : str or None
        The first violated property (by simulated time) of the failing run.
    properties : tuple
        Every property the failing run violated.
    scenario : Scenario or None
        The failing run, replayable (:func:`dsalgo.explore.replay`).
    coverage : int
        Abstract situations reached over the whole search.
    corpus : int
        Runs kept for mutation.
    curve : list of (runs, coverage)
        Coverage each time it grew.
    detail : str
        The checker's sentence on the first violation.
    """

    family: str
    bugs: tuple
    found: bool
    runs: int
    seconds: float
    property: str | None = None
    properties: tuple = ()
    scenario: Scenario | None = None
    coverage: int = 0
    corpus: int = 0
    curve: list = dataclasses.field(default_factory=list)
    detail: str = ""
    time: float | None = None
    _run: object = dataclasses.field(default=None, repr=False)

    @builtins.property
    def run(self):
        """The failing run (replayed on first access), or None."""
        if self._run is None and self.scenario is not None:
            self._run = self.scenario.run()
        return self._run

    def __str__(self):
        if not self.found:
            return (f"{self.family}: no violation in {self.runs} runs ({self.seconds:.1f} s), "
                    f"{self.coverage} situations covered")
        return (f"{self.family}: {self.property} violated after {self.runs} runs "
                f"({self.seconds:.1f} s), {len(self.scenario.faults)} faults: {self.detail}")


def _layout(family, n, duration, knobs):
    """Servers, other nodes (clients) and the horizon of runs with these settings, read
    from one short run (the family's own default duration when ``duration`` is None)."""
    from ..families import family as _family
    from ..sim import server_ids
    kw = dict(knobs)
    if duration is not None:
        kw["duration"] = min(float(duration), 0.01)
    run = _family(family).simulate(n, seed=0, record_messages=False, **kw)
    servers = server_ids(n)
    clients = [x for x in run.nodes if x not in servers]
    if duration is not None:
        horizon = float(duration)
    else:
        horizon = float(run.params.get("duration") or 0.0) or (
            float(run.events["time"].max()) if len(run.events) else 1.0)
    return servers, clients, horizon


def search(family: str, *, bugs=(), budget=200, seed: int = 0, n=None, duration=None,
           knobs=None, backend: str = "serial", workers=None, feedback: bool = True,
           stop: bool = True) -> SearchResult:
    """Search fault schedules of ``family`` for a run that breaks a property.

    Parameters
    ----------
    family : str
        A name of :data:`dsalgo.families.FAMILIES`.
    bugs : collection of str
        Planted bugs to switch on (or none: then a failure is a bug of the family, or of
        a mutant patched in).
    budget : int or float
        An ``int``: that many runs; a ``float``: that many wall seconds.
    seed : int
        Seeds the whole search: the same seed and a run budget give the same result.
    n, duration, knobs
        Override the family's explored settings (:data:`dsalgo.explore.profiles.BASE`).
    backend : {"serial", "processes"}
        Where runs execute; with ``"processes"`` batches of runs go to a process pool of
        ``workers`` (default: the CPU count) and feedback applies between batches.
    feedback : bool
        Keep and mutate runs that reach new situations (False: independent swarm draws).
    stop : bool
        Stop at the first violation.

    Returns
    -------
    SearchResult

    Examples
    --------
    >>> res = search("raft", bugs={"no_up_to_date_check"}, budget=0, seed=0)
    >>> res.found, res.runs
    (False, 0)
    >>> search("raft", budget=-1)
    Traceback (most recent call last):
    ...
    ValueError: budget must be a number of runs (int >= 0) or of seconds (float >= 0); got -1
    """
    from ..families import family as _family
    fam = _family(family)
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget < 0:
        raise ValueError(f"budget must be a number of runs (int >= 0) or of seconds "
                         f"(float >= 0); got {budget!r}")
    check_int("seed", seed)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}; "
                         f"got {backend!r}")
    if isinstance(bugs, str):
        raise TypeError(f"bugs must be a collection of bug names; got {bugs!r}")
    unknown = sorted(set(bugs) - set(fam.BUGS))
    if unknown:
        raise ValueError(f"bugs must be names of {family}.BUGS ({', '.join(fam.BUGS)}); "
                         f"got {unknown}")
    settings = base_settings(family, n, duration, knobs)
    n, duration, knobs = settings["n"], settings["duration"], settings["knobs"]
    servers, clients, horizon = _layout(family, n, duration, knobs)
    rng = random.Random(f"explore.search:{family}:{seed}")
    by_runs = isinstance(budget, int)
    if not by_runs:
        check_number("budget", budget, low=0.0)
    workers = workers or os.cpu_count() or 1
    batch = 1 if backend == "serial" else max(1, 2 * workers)

    seen: set = set()
    corpus: list = []   # (scenario, profile, weight)
    curve: list = []
    runs = 0
    t0 = time.perf_counter()
    pool = ProcessPoolExecutor(workers) if backend == "processes" else None

    def fresh():
        prof = Profile.draw(rng)
        faults = prof.faults(rng, servers, clients, horizon=horizon)
        return prof, Scenario(family, n, seed=rng.randrange(2**31), duration=duration,
                              knobs=knobs, bugs=tuple(sorted(bugs)), faults=faults,
                              latency=None)

    def mutate():
        weights = [w for _s, _p, w in corpus]
        scen, prof, _w = rng.choices(corpus, weights)[0]
        op = rng.randrange(6)
        faults = list(scen.faults)
        new_seed = scen.seed
        if op == 0 or not faults:                  # another seed, same faults
            new_seed = rng.randrange(2**31)
            if not faults:
                faults = prof.faults(rng, servers, clients, horizon=horizon)
        elif op == 1:                              # more faults of the same profile
            prof = prof.scaled(0.5)
            faults = prof.faults(rng, servers, clients, horizon=horizon, existing=faults)
        elif op == 2:                              # one fault fewer
            faults.pop(rng.randrange(len(faults)))
        elif op == 3:                              # one fault moved in time
            i = rng.randrange(len(faults))
            f = dict(faults[i])
            if "at" in f:
                shift = rng.uniform(-0.2, 0.2) * horizon
                at = min(max(0.0, f["at"] + shift), horizon * 0.999)
                if f.get("until") is not None:
                    f["until"] = round(f["until"] - f["at"] + at, 6)
                f["at"] = round(at, 6)
                from .profiles import _consistent
                trial = faults[:i] + [f] + faults[i + 1:]
                if _consistent(trial, prof.max_down + 1, servers):
                    faults = trial
            new_seed = rng.randrange(2**31)
        elif op == 4:                              # a kind switched on or off
            prof = prof.toggled(rng)
            faults = prof.faults(rng, servers, clients, horizon=horizon)
            new_seed = rng.randrange(2**31)
        else:                                      # the same profile, twice the rates
            prof = prof.scaled(2.0)
            faults = prof.faults(rng, servers, clients, horizon=horizon)
            new_seed = rng.randrange(2**31)
        return prof, scen.replace(seed=new_seed, faults=tuple(faults))

    result = SearchResult(family, tuple(sorted(bugs)), False, 0, 0.0)
    try:
        while True:
            if by_runs:
                left = budget - runs
            else:
                left = batch if time.perf_counter() - t0 < budget else 0
            if left <= 0:
                break
            todo = []
            for _ in range(min(batch, left)):
                if feedback and corpus and rng.random() < 0.7:
                    todo.append(mutate())
                else:
                    todo.append(fresh())
            if pool is None:
                outs = [evaluate(s) for _p, s in todo]
            else:
                outs = list(pool.map(_evaluate_json, [s.to_json() for _p, s in todo]))
            for (prof, scen), (feats, props, first) in zip(todo, outs, strict=True):
                runs += 1
                new = feats - seen
                if new:
                    seen |= new
                    curve.append((runs, len(seen)))
                    if feedback:
                        corpus.append((scen, prof, len(new)))
                if first is not None and not result.found:
                    result = SearchResult(family, tuple(sorted(bugs)), True, runs,
                                          time.perf_counter() - t0, first["property"], props,
                                          scen, detail=first["detail"], time=first["time"])
                    if stop:
                        break
            if result.found and stop:
                break
    finally:
        if pool is not None:
            pool.shutdown()
    if not result.found:
        result.runs, result.seconds = runs, time.perf_counter() - t0
    result.coverage, result.corpus, result.curve = len(seen), len(corpus), curve
    return result
