"""Finding the bugs nobody planted: guided search, shrinking and exhaustive exploration.

- :func:`search` runs a family under swarm fault profiles (each run switches a random
  subset of fault kinds on, at random rates) with coverage feedback (runs that reach new
  abstract situations are kept and mutated), within a budget of runs or seconds, in this
  process or a process pool, until a property of the family's checker breaks;
- :func:`shrink` cuts a failing run down by delta debugging to a minimal fault schedule
  and workload that still break the same property; the result is a :class:`Scenario`, a
  JSON file that :func:`replay` runs again bit for bit;
- :func:`exhaustive` enumerates, for a small cluster and a bounded number of steps, every
  order of message deliveries, timer firings, crashes and restarts (breadth-first, with
  state hashing), running the family's own node classes, and returns the shortest
  counterexample; ``strategy="delay"`` bounds the deviations from a default schedule
  instead of the depth alone, and reaches long counterexamples;
- :func:`draw` draws a failing run as a space-time diagram with the violation marked.

Examples
--------
>>> from dsalgo import explore
>>> res = explore.exhaustive("paxos", n=3, depth=8, bugs={"duplicate_ballots"}, crashes=0)
>>> res.found, res.property, res.depth
(True, 'one_value_per_ballot', 4)
"""

from .draw import draw, violation
from .exhaustive import ExhaustiveResult, exhaustive
from .profiles import BASE, KINDS, Profile
from .scenario import FAULT_KINDS, Scenario, load
from .search import SearchResult, coverage, evaluate, search
from .shrink import ShrinkResult, replay, shrink

__all__ = [
    "BASE",
    "FAULT_KINDS",
    "KINDS",
    "ExhaustiveResult",
    "Profile",
    "Scenario",
    "SearchResult",
    "ShrinkResult",
    "coverage",
    "draw",
    "evaluate",
    "exhaustive",
    "load",
    "replay",
    "search",
    "shrink",
    "violation",
]
