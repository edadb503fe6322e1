"""Soak runs: many seeded faulty runs of one algorithm, each checked, with what happened.

Every algorithm family registers its soaks in a module of this package as a ``SOAKS``
dict mapping a name to a :class:`Soak`.  ``make soak`` (``python -m dsalgo.soak``) runs
each at its full count (1,000+ runs) and prints how many passed and what happened in
them; the test suite runs a smaller sample of the same code with :func:`soak`.

A soak pairs every "always" with a "sometimes": a trial returns its :class:`Verdict` and
counts of the interesting things that happened (leaders elected, transactions aborted,
locks handed over), and a soak that passes while none of them happened says so.

Soaks are tied to the families of :data:`dsalgo.families.FAMILIES`: a soak belongs to the
family its ``family`` field names, or else to the family whose name is one of the
dash-separated words of its own name (``raft-director`` → raft, ``locks-redlock`` →
redlock); :func:`by_family` lists them per family, so a family without a soak shows up.
Soaks of library code that is no family (``quorum-systems``) belong to none.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .._validate import check_int

__all__ = ["Soak", "SoakResult", "by_family", "family_of", "registry", "soak"]


@dataclass(frozen=True)
class Soak:
    """A soak: ``trial(seed) -> (Verdict, {what: count})`` run ``runs`` times by default.

    ``sometimes`` names the counts that must be positive in at least one run for the soak
    to mean anything.
    """

    trial: Callable
    runs: int = 1000
    sometimes: tuple = ()
    description: str = ""
    family: str | None = None  # the family in dsalgo.families.FAMILIES (see family_of)


@dataclass
class SoakResult:
    name: str
    runs: int
    passed: int
    failures: list = field(default_factory=list)       # (seed, explanation)
    runs_with: Counter = field(default_factory=Counter)  # what -> runs in which it happened
    totals: Counter = field(default_factory=Counter)     # what -> total count over runs
    sometimes: tuple = ()
    seconds: float = 0.0

    @property
    def never(self) -> list:
        """The 'sometimes' expectations that never happened."""
        return [k for k in self.sometimes if not self.runs_with.get(k)]

    @property
    def ok(self) -> bool:
        return self.passed == self.runs and not self.never

    def report(self) -> str:
        lines = [f"{self.name}: {self.passed}/{self.runs} runs passed in {self.seconds:.1f}s"]
        for k in sorted(set(self.runs_with) | set(self.sometimes)):
            mark = " (expected sometimes: NEVER HAPPENED)" if k in self.never else ""
            lines.append(f"    {k}: in {self.runs_with.get(k, 0)} runs, "
                         f"{self.totals.get(k, 0)} in all{mark}")
        for seed, why in self.failures[:10]:
            lines.append(f"    FAILED seed {seed}: {why}")
        if len(self.failures) > 10:
            lines.append(f"    … and {len(self.failures) - 10} more failures")
        return "\n".join(lines)


def registry() -> dict[str, Soak]:
    """Every registered soak, by name, in a stable order."""
    out = {}
    for mod in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
        module = importlib.import_module(f"{__name__}.{mod}")
        for name, s in getattr(module, "SOAKS", {}).items():
            out[name] = s
    return out


def family_of(name: str, s: Soak | None = None) -> str | None:
    """The family soak ``name`` exercises: ``s.family`` if set, else the family whose name
    is one of the dash-separated words of ``name``, else ``None``.

    Examples
    --------
    >>> family_of("locks-zookeeper-fencing"), family_of("raft"), family_of("quorum-systems")
    ('zookeeper', 'raft', None)
    """
    from ..families import FAMILIES

    if s is not None and s.family is not None:
        return s.family
    words = name.split("-")
    return next((f for f in FAMILIES if f in words), None)


def by_family(soaks: dict | None = None) -> dict[str, list[str]]:
    """Family name → the names of its soaks, for every family of the registry (an empty
    list: the family has no soak).

    Examples
    --------
    >>> from dsalgo.soak import by_family
    >>> soaks = by_family()
    >>> list(soaks)[:3], "raft" in soaks["raft"]
    (['raft', 'paxos', 'redlock'], True)
    """
    from ..families import FAMILIES

    soaks = registry() if soaks is None else soaks
    out: dict[str, list[str]] = {f: [] for f in FAMILIES}
    for name, s in soaks.items():
        fam = family_of(name, s)
        if fam in out:
            out[fam].append(name)
    return out


def _one(args):
    name, seed = args
    s = registry()[name]
    verdict, happened = s.trial(seed)
    return seed, bool(verdict), str(verdict), dict(happened)


def soak(name: str, runs: int | None = None, *, seed: int = 0, processes: int = 1,
         progress: bool = False) -> SoakResult:
    """Run the soak ``name`` for ``runs`` seeds starting at ``seed``.

    Examples
    --------
    >>> from dsalgo.soak import soak, registry
    >>> sorted(registry())  # doctest: +SKIP
    ['paxos-multi', 'raft', ...]
    """
    reg = registry()
    if name not in reg:
        raise ValueError(f"name must be a registered soak ({', '.join(reg) or 'none'}); got {name!r}")
    s = reg[name]
    runs = s.runs if runs is None else check_int("runs", runs, low=1)
    seeds = range(seed, seed + runs)
    res = SoakResult(name=name, runs=runs, passed=0, sometimes=tuple(s.sometimes))
    t0 = time.perf_counter()
    jobs = [(name, sd) for sd in seeds]
    if processes > 1:
        from multiprocessing import get_context
        with get_context("spawn").Pool(processes) as pool:
            results = pool.imap(_one, jobs, chunksize=4)
            results = _progress(results, runs, name, progress)
            outs = list(results)
    else:
        outs = [_one(j) for j in _progress(jobs, runs, name, progress)]
    for sd, ok, why, happened in outs:
        if ok:
            res.passed += 1
        else:
            res.failures.append((sd, why))
        for k, v in happened.items():
            if v:
                res.runs_with[k] += 1
                res.totals[k] += int(v)
    res.seconds = time.perf_counter() - t0
    return res


def _progress(it, total, name, on):
    if not on:
        return it
    from tqdm.auto import tqdm
    return tqdm(it, total=total, desc=name)
