"""``search``: swarm fault profiles with coverage feedback, until a property breaks.

Each run is a :class:`~dsalgo.explore.scenario.Scenario` whose faults a random
:class:`~dsalgo.explore.profiles.Profile` drew (swarm testing), among the fault kinds of
the family's fault model (:data:`~dsalgo.explore.profiles.FAULT_MODELS`: the faults its
safety claims assume; ``kinds="all"`` lifts it), and whose knobs are drawn from the
family's :data:`~dsalgo.explore.profiles.KNOB_SPACES` (swarm over configurations and
workloads too).  A run that reaches an abstract situation no earlier run reached -- a new
event kind, a new order of magnitude of an event count, a new transition between two
consecutive events of one node, a new (operation, outcome) pair, a new order of
magnitude of a count the checker reports, a new highest term -- joins the *corpus*;
later runs are often mutations of a corpus entry (another seed, a fault added, removed
or moved, a fault kind switched on or off, rates doubled, other knobs), so the search
digs where it already found something new, as coverage-guided fuzzers do.

Some mutations aim a fault at an *event* of the parent run (term-aware faults): the
node that was just elected, voted, took a lock or decided is cut off from the other
servers, crashed or paused right then or a little later; a *chain* of them aims each
fault at the next turning point (:data:`~dsalgo.explore.profiles.FOCUS`) the previous
one brought about -- the new leader is cut off, then the next new leader, ... -- which is
how a run reaches Raft's Figure 8 without a script.

Progress properties (those a verdict marks ``"progress"``, judged once every fault has
healed) are not judged on a scenario whose network stays lossy or slow for the whole run:
those faults never heal and the checker's fairness condition cannot see them.
"""

from __future__ import annotations

import builtins
import dataclasses
import json
import math
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor

from .._validate import check_int, check_number
from .profiles import (
    FOCUS,
    Profile,
    _consistent,
    _loguniform,
    base_settings,
    draw_knobs,
    fault_model,
)
from .scenario import Scenario

__all__ = ["SearchResult", "coverage", "evaluate", "sample", "search"]

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
        feats.update(("count", k, _bucket(c)) for k, c in kinds.value_counts().items() if c)
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

    Examples
    --------
    >>> s = Scenario("paxos", 3, seed=1, duration=0.5, knobs={"variant": "single"})
    >>> feats, props, first = evaluate(s)
    >>> props, first, ("event", "accepted") in feats
    ((), None, True)
    """
    return _evaluate(scenario)[:3]


def _anchors(run, per_kind: int = 24) -> tuple:
    """Events of ``run`` a later mutation may aim a fault at: ``(time, node, kind)``, at
    most ``per_kind`` of each kind, spread evenly over the run."""
    ev = run.events
    if not len(ev):
        return ()
    import numpy as np
    out = []
    times = ev["time"].to_numpy()
    nodes = ev["node"].astype(str).to_numpy()
    kinds = ev["kind"].astype(str).to_numpy()
    for k in np.unique(kinds):
        idx = np.flatnonzero(kinds == k)
        if len(idx) > per_kind:
            idx = idx[(np.arange(per_kind) * len(idx)) // per_kind]
        out.extend(zip(times[idx].tolist(), nodes[idx].tolist(), [str(k)] * len(idx),
                       strict=True))
    return tuple(out)


def _evaluate(scenario: Scenario):
    """:func:`evaluate` plus the run's anchors (:func:`_anchors`).  A run whose kernel
    raises is a failure too, of the pseudo-property ``"exception"``."""
    import warnings

    from ..families import family
    fam = family(scenario.family)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = scenario.run(record_messages=False)
        verdict = fam.check(run)
    except Exception as e:  # noqa: BLE001 - a crash of the code under test is a finding
        detail = f"{type(e).__name__}: {e}"[:300]
        return (frozenset({("violated", "exception")}), ("exception",),
                {"property": "exception", "time": float("nan"), "detail": detail}, ())
    props: tuple = ()
    first = None
    v = _judged(scenario, verdict)
    if len(v):
        v = v.sort_values("time", kind="stable")
        props = tuple(sorted(set(v["property"])))
        row = v.iloc[0]
        first = {"property": str(row["property"]), "time": float(row["time"]),
                 "detail": str(row["detail"])}
    return coverage(run, verdict), props, first, _anchors(run)


#: Network faults a scenario keeps for the whole run (they never heal).
_PERMANENT = ("loss", "slow_link")


def _judged(scenario: Scenario, verdict):
    """The verdict's violations that count: all of them, except that progress properties
    (judged under fairness: every fault healed) are not judged when the scenario
    degrades the network for the whole run (loss, slow links), since their fairness
    condition cannot see those faults and they never heal."""
    v = verdict.violations
    if verdict.status != "violated" or not len(v):
        return v.iloc[:0]
    if any(f["kind"] in _PERMANENT for f in scenario.faults):
        kinds = getattr(verdict, "kinds", {}) or {}
        v = v[[kinds.get(p, "safety") != "progress" for p in v["property"]]]
    return v


def _evaluate_json(text: str):
    return _evaluate(Scenario.from_json(text))


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


def sample(family: str, k: int, *, seed: int = 0, bugs=(), kinds=None) -> list:
    """``k`` scenarios as :func:`search` draws them first (swarm profile and knobs under
    the family's fault model), without running them: the common ground on which a
    variant's runs are compared with the original's (a differential run).

    Examples
    --------
    >>> runs = sample("twopc", 2, seed=1)
    >>> len(runs), runs[0].family, runs[0] == sample("twopc", 2, seed=1)[0]
    (2, 'twopc', True)
    """
    check_int("k", k, low=0)
    return search(family, bugs=bugs, budget=k, seed=seed, kinds=kinds, feedback=False,
                  stop=False, _dry=True)


def search(family: str, *, bugs=(), budget=200, seed: int = 0, n=None, duration=None,
           knobs=None, backend: str = "serial", workers=None, feedback: bool = True,
           stop: bool = True, kinds=None, swarm_knobs: bool = True,
           _dry: bool = False) -> SearchResult:
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
    model = fault_model(family, kinds)
    kinds = model.kinds
    if knobs is not None and not isinstance(knobs, dict):
        raise TypeError(f"knobs must be a dict of the family's knobs; got {knobs!r}")
    keep = set(model.knobs) | set(knobs or {})      # knobs the search does not vary
    settings = base_settings(family, n, duration, {**model.knobs, **(knobs or {})})
    n, duration, knobs = settings["n"], settings["duration"], settings["knobs"]
    servers, clients, horizon = _layout(family, n, duration, knobs)
    clients = [c for c in clients if c not in model.spared]
    rng = random.Random(f"explore.search:{family}:{seed}")
    by_runs = isinstance(budget, int)
    if not by_runs:
        check_number("budget", budget, low=0.0)
    workers = workers or os.cpu_count() or 1
    batch = 1 if backend == "serial" else max(1, 2 * workers)
    fixed = dict(knobs)

    seen: set = set()
    corpus: list = []   # (scenario, profile, weight, anchors)
    curve: list = []
    runs = 0
    t0 = time.perf_counter()
    pool = ProcessPoolExecutor(workers) if backend == "processes" else None

    layouts: dict = {}

    def fit(scen):
        """``scen`` without the faults that name nodes its knobs do not create (another
        number of clients, or single-decree Paxos without any)."""
        key = json.dumps(scen.knobs, sort_keys=True, default=repr)
        if key not in layouts:
            srv, cli, _h = _layout(family, n, duration, scen.knobs)
            layouts[key] = set(srv) | set(cli)
        nodes = layouts[key]
        out = []
        for f in scen.faults:
            if "node" in f and f["node"] not in nodes:
                continue
            if f["kind"] == "slow_link" and not {f["src"], f["dst"]} <= nodes:
                continue
            if f["kind"] == "partition":
                groups = [[x for x in g if x in nodes] for g in f["groups"]]
                if sum(1 for g in groups if g) < 2:
                    continue
                f = {**f, "groups": [g for g in groups if g]}
            out.append(f)
        return scen if len(out) == len(scen.faults) and out == list(scen.faults) else \
            scen.replace(faults=tuple(out))

    def bounded(prof):
        if model.drift is not None and prof.drift > model.drift:
            prof = dataclasses.replace(prof, drift=model.drift)
        return prof

    def drawn_knobs():
        if not swarm_knobs:
            return fixed
        return draw_knobs(family, rng, fixed, keep=keep)

    def fresh():
        prof = bounded(Profile.draw(rng, kinds=kinds))
        faults = prof.faults(rng, servers, clients, horizon=horizon)
        return prof, Scenario(family, n, seed=rng.randrange(2**31), duration=duration,
                              knobs=drawn_knobs(), bugs=tuple(sorted(bugs)), faults=faults,
                              latency=None)

    focus = set(FOCUS.get(family, ()))
    last_action = [None]
    chain: list = []      # (scenario, profile, steps left, action) of a chain in progress

    def anchored(scen, prof, anchors, action=None, chained=False, for_good=None):
        """A fault aimed at an event of the parent run: the node that just did something
        rare (was elected, voted, committed, took a lock) crashes, is cut off from the
        other servers, or pauses, right then or a little later.  ``chained``: at the
        next turning point after the faults already aimed."""
        actions = [a for a, k in (("isolate", "partition"), ("isolate", "partition"),
                                  ("crash", "crash"), ("pause", "pause")) if k in kinds]
        if action is not None:
            actions = [action] if action in actions else []
        targets = set(servers) | (set(clients) if "hit_clients" in kinds else set())
        cands = [a for a in anchors if a[1] in targets]
        if not actions or not cands:
            return None
        faults = list(scen.faults)
        last = max((f["at"] for f in faults if f["kind"] in ("crash", "partition", "pause")),
                   default=-1.0)
        later = [a for a in cands if a[0] > last]
        turning = [a for a in later if a[2] in focus]
        if turning and (chained or rng.random() < 0.5):
            # the next turning point after the faults already aimed: fault after fault,
            # each at the situation the previous one brought about
            cands = [min(turning)]
        elif later and rng.random() < 0.8:
            cands = later
        counts: dict = {}
        for a in cands:
            counts[a[2]] = counts.get(a[2], 0) + 1
        # rare kinds first (a kind's weight is inversely proportional to its count), and
        # the kinds the family names as turning points ten times more
        weights = [(10.0 if a[2] in focus else 1.0) / counts[a[2]] ** 2 for a in cands]
        t, node, _k = rng.choices(cands, weights)[0]
        at = round(t + (1e-6 if rng.random() < 0.5 else rng.uniform(0.0, 0.05)), 6)
        if at >= horizon:
            return None
        dur = round(_loguniform(rng, 0.05, 1.5), 6) + 1e-6
        action = rng.choice(actions)
        last_action[0] = action
        if action == "isolate":
            others = [x for x in servers if x != node]
            if not others:
                return None
            f = {"kind": "partition", "groups": [[node], others], "at": at,
                 "until": round(at + dur, 6), "one_way": False}
            ok = _consistent(faults + [f], prof.max_down + 1, servers, overlap=True)
        elif action == "crash":
            # now and then for good: a successor that never comes back is what leaves a
            # deposed leader, cut off meanwhile, as the only way to a new majority
            p_good = for_good if for_good is not None else (0.25 if "restart" in kinds
                                                              else 0.5)
            until = None if rng.random() < p_good else round(at + dur, 6)
            f = {"kind": "crash", "node": node, "at": at, "until": until}
            ok = _consistent(faults + [f], max(prof.max_down, 1), servers, overlap=True)
        else:
            f = {"kind": "pause", "node": node, "at": at, "duration": dur}
            ok = _consistent(faults + [f], prof.max_down + 1, servers, overlap=True)
        if not ok:
            return None
        return scen.replace(faults=tuple(sorted(faults + [f],
                                                key=lambda g: (g.get("at", -1.0), g["kind"]))))

    def mutate():
        weights = [w for _s, _p, w, _a in corpus]
        scen, prof, _w, anchors = rng.choices(corpus, weights)[0]
        op = rng.randrange(9)
        faults = list(scen.faults)
        new_seed = scen.seed
        if op >= 6:                                # a fault aimed at an event of the run
            aimed = anchored(scen, prof, anchors, chained=op == 8)
            if aimed is not None:
                if op == 8:   # and then at the turning points it brings about, in turn
                    return prof, aimed, (rng.randint(1, 3), last_action[0])
                return prof, aimed
            op = 0
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
                trial = faults[:i] + [f] + faults[i + 1:]
                if _consistent(trial, prof.max_down + 1, servers, overlap=True):
                    faults = trial
            new_seed = rng.randrange(2**31)
        elif op == 4:                              # a kind switched on or off
            prof = bounded(prof.toggled(rng, kinds))
            faults = prof.faults(rng, servers, clients, horizon=horizon)
            new_seed = rng.randrange(2**31)
        else:                                      # other knobs, the same faults
            return prof, scen.replace(knobs=drawn_knobs())
        return prof, scen.replace(seed=new_seed, faults=tuple(faults))

    result = SearchResult(family, tuple(sorted(bugs)), False, 0, 0.0)
    drawn: list = []
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
                item = None
                if chain:
                    c_scen, c_prof, c_anchors, c_left, c_action = chain.pop()
                    # the same action at the next turning point, or (half the time) any;
                    # after an isolation, half the time the successor crashes, for good
                    # half of those times (the old leader, still cut off, is then the
                    # only way back to a majority: Jepsen's "kill the new primary")
                    good = None
                    if c_action == "isolate" and rng.random() < 0.5:
                        act, good = "crash", 0.5
                    else:
                        act = c_action if rng.random() < 0.5 else None
                    aimed = anchored(c_scen, c_prof, c_anchors, act, chained=True,
                                     for_good=good)
                    if aimed is not None:
                        item = (c_prof, aimed,
                                (c_left - 1, c_action) if c_left > 1 else None)
                if item is None and feedback and corpus and rng.random() < 0.7:
                    item = mutate()
                if item is None:
                    item = fresh()
                todo.append(item)
            follow = [t[2] if len(t) > 2 else None for t in todo]
            todo = [(t[0], fit(t[1])) for t in todo]
            if _dry:
                drawn.extend(s for _p, s in todo)
                runs += len(todo)
                continue
            if pool is None:
                outs = [_evaluate(s) for _p, s in todo]
            else:
                outs = list(pool.map(_evaluate_json, [s.to_json() for _p, s in todo]))
            for (prof, scen), nxt, (feats, props, first, anchors) in zip(todo, follow, outs,
                                                                        strict=True):
                runs += 1
                if nxt is not None and first is None and feedback:
                    chain[:] = [(scen, prof, anchors, *nxt)]
                new = feats - seen
                if new:
                    seen |= new
                    curve.append((runs, len(seen)))
                    if feedback:
                        corpus.append((scen, prof, len(new), anchors))
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
    if _dry:
        return drawn
    if not result.found:
        result.runs, result.seconds = runs, time.perf_counter() - t0
    result.coverage, result.corpus, result.curve = len(seen), len(corpus), curve
    return result
