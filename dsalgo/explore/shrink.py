"""``shrink`` and ``replay``: a failing run cut down to what it needs, and run again.

Shrinking is delta debugging (Zeller & Hildebrandt, "Simplifying and Isolating
Failure-Inducing Input", 2002) over the scenario's faults: remove chunks of faults, then
single faults, as long as the run still violates the *same* property; then the workload:
fewer clients, a shorter run (down to just past the violation), and the same for
any remaining fault durations.  Every candidate is a whole run with the same seed, so the
result is a scenario that fails for certain, and replays bit for bit.
"""

from __future__ import annotations

import builtins
import dataclasses
import math

from .scenario import Scenario

__all__ = ["ShrinkResult", "replay", "shrink"]


@dataclasses.dataclass
class ShrinkResult:
    """A shrunk failing scenario.

    Attributes
    ----------
    scenario : Scenario
        The smallest failing scenario found.
    property : str
        The property it violates (the one the original run violated first).
    original : Scenario
        What shrinking started from.
    runs : int
        Runs spent shrinking.
    """

    scenario: Scenario
    property: str
    original: Scenario
    runs: int
    detail: str = ""
    time: float | None = None
    _run: object = dataclasses.field(default=None, repr=False)

    found = True

    @builtins.property
    def run(self):
        if self._run is None:
            self._run = self.scenario.run()
        return self._run

    def __str__(self):
        return (f"{self.property}: {len(self.original.faults)} faults -> "
                f"{len(self.scenario.faults)} ({self.runs} runs): {self.detail}")


def replay(scenario):
    """Run ``scenario`` (a :class:`Scenario`, a result holding one, or a path to a saved
    scenario) again; the same tables, bit for bit.

    Examples
    --------
    >>> from dsalgo.explore import Scenario
    >>> s = Scenario("raft", 3, seed=4, duration=0.5, knobs={"clients": 1})
    >>> replay(s).events.equals(replay(s).events)
    True
    """
    import os
    if isinstance(scenario, (str, os.PathLike)):
        from .scenario import load
        scenario = load(scenario)
    scenario = getattr(scenario, "scenario", scenario)
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, a search or shrink result, or a path; "
                        f"got {scenario!r}")
    return scenario.run()


def _fails(scenario: Scenario, prop: str):
    """(violates ``prop``?, time, detail) for one run of ``scenario``."""
    from ..families import family
    fam = family(scenario.family)
    try:
        run = scenario.run(record_messages=False)
    except ValueError:  # a fault names a client the smaller workload no longer has
        return False, None, ""
    from .search import _judged
    v = _judged(scenario, fam.check(run))
    v = v[v["property"] == prop].sort_values("time", kind="stable")
    if not len(v):
        return False, None, ""
    return True, float(v["time"].iloc[0]), str(v["detail"].iloc[0])


def _ddmin(items, test):
    """Delta debugging: a 1-minimal sublist of ``items`` for which ``test`` holds."""
    n = 2
    while len(items) >= 2:
        chunk = math.ceil(len(items) / n)
        subsets = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        reduced = False
        for i in range(len(subsets)):
            complement = [x for j, s in enumerate(subsets) if j != i for x in s]
            if test(complement):
                items, n, reduced = complement, max(n - 1, 2), True
                break
        if not reduced:
            if n >= len(items):
                break
            n = min(len(items), 2 * n)
    if len(items) == 1 and test([]):
        return []
    return items


def shrink(result, *, property=None, max_runs: int = 500) -> ShrinkResult:
    """Reduce a failing run to a minimal fault schedule and workload failing the same way.

    Parameters
    ----------
    result : SearchResult or Scenario
        A failing search result (or a failing scenario).
    property : str, optional
        The property that must still fail (default: the result's first violated one).
    max_runs : int
        Most runs to spend.

    Returns
    -------
    ShrinkResult

    Examples
    --------
    >>> from dsalgo.explore import Scenario
    >>> s = Scenario("raft", 3, seed=4, duration=0.5, knobs={"clients": 1})
    >>> shrink(s)
    Traceback (most recent call last):
    ...
    ValueError: result must be a failing run; this scenario violates no property
    """
    scen = getattr(result, "scenario", result)
    if not isinstance(scen, Scenario):
        raise TypeError(f"result must be a search result or a Scenario; got {result!r}")
    prop = property or getattr(result, "property", None)
    if prop is None:
        from .search import evaluate
        _f, _props, first = evaluate(scen)
        if first is None:
            raise ValueError("result must be a failing run; this scenario violates no "
                             "property")
        prop = first["property"]
    runs = 0
    cache: dict = {}

    def test(candidate: Scenario):
        nonlocal runs
        key = candidate.to_json()
        if key not in cache:
            if runs >= max_runs:
                return False
            runs += 1
            cache[key] = _fails(candidate, prop)
        return cache[key][0]

    if not test(scen):
        raise ValueError(f"result must be a failing run; the scenario does not violate "
                         f"{prop!r}")
    # 1. the faults
    faults = _ddmin(list(scen.faults), lambda fs: test(scen.replace(faults=tuple(fs))))
    scen = scen.replace(faults=tuple(faults))
    # 2. the workload: fewer clients, fewer operations
    for knob in ("clients", "requests", "accounts"):
        value = scen.knobs.get(knob)
        while isinstance(value, int) and not isinstance(value, bool) and value > 1:
            smaller = scen.replace(knobs={**scen.knobs, knob: value - 1})
            if not test(smaller):
                break
            scen, value = smaller, value - 1
    # 3. a shorter run: just past the violation
    t_fail = cache[scen.to_json()][1]
    if scen.duration is not None and t_fail is not None:
        for cut in (t_fail * 1.01 + 1e-3, t_fail * 1.1 + 0.01, t_fail * 1.5 + 0.05):
            cut = round(cut, 6)
            later = [f for f in scen.faults if f.get("at", 0.0) <= cut]
            if cut < scen.duration and len(later) == len(scen.faults):
                shorter = scen.replace(duration=cut)
                if test(shorter):
                    scen = shorter
                    break
    # 4. shorter fault durations (crashes that end sooner, partitions healed earlier)
    for i, f in enumerate(scen.faults):
        for key in ("until", "duration"):
            if f.get(key) is None:
                continue
            g = dict(f)
            if key == "until":
                g["until"] = round(f["at"] + (f["until"] - f["at"]) / 2, 6) + 1e-6
            else:
                g["duration"] = round(f["duration"] / 2, 6) + 1e-6
            cand = scen.replace(faults=scen.faults[:i] + (g,) + scen.faults[i + 1:])
            if test(cand):
                scen = cand
                f = g
    # 5. the faults again: a shorter run may need fewer of them
    faults = _ddmin(list(scen.faults), lambda fs: test(scen.replace(faults=tuple(fs))))
    scen = scen.replace(faults=tuple(faults))
    _ok, t, detail = cache[scen.to_json()]
    return ShrinkResult(scen, prop, getattr(result, "scenario", result), runs, detail, t)
