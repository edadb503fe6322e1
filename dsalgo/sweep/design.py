"""Designs: which parameter points a sweep visits.

A design is a plain list of dicts, one per point, in the order the sweep reports them.

- :func:`full_grid` — the Cartesian product of axes (what ``sweep(fn, {...})`` uses);
- :func:`random_design` — points drawn independently from ranges and choices;
- :func:`latin_hypercube` — ranges split into as many equal strata as points, each
  stratum used exactly once per parameter (McKay, Beckman & Conover, 1979), which covers
  every range evenly with few points.

A *space* maps each parameter to a :class:`Range` (or a ``(low, high)`` tuple, integer if
both ends are ints), a list of choices, or a single fixed value.  Sampled designs draw
from ``numpy.random.default_rng(seed)``, so the same seed gives the same points.
"""

from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass

import numpy as np

from .._validate import check_bool, check_int, check_number

__all__ = ["Range", "full_grid", "latin_hypercube", "random_design"]


@dataclass(frozen=True)
class Range:
    """A continuous (or integer) range to sample, ``low`` and ``high`` included.

    Parameters
    ----------
    low, high : float
        The ends, ``low <= high``.
    log : bool
        Sample uniformly in log space (for timeouts, rates: both ends must be > 0).
    integer : bool
        Round to integers in ``[low, high]``.

    Examples
    --------
    >>> Range(0.1, 1.0, log=True)
    Range(low=0.1, high=1.0, log=True, integer=False)
    >>> Range(2, 1)
    Traceback (most recent call last):
    ...
    ValueError: Range needs low <= high; got low=2.0, high=1.0
    """

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def __post_init__(self):
        low = check_number("low", self.low)
        high = check_number("high", self.high)
        check_bool("log", self.log)
        check_bool("integer", self.integer)
        if low > high:
            raise ValueError(f"Range needs low <= high; got low={low!r}, high={high!r}")
        if self.log and low <= 0:
            raise ValueError(f"a log Range needs low > 0; got low={low!r}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def at(self, u: float):
        """Map ``u`` in [0, 1) onto the range."""
        if self.integer:
            lo, hi = math.ceil(self.low), math.floor(self.high)
            return int(min(hi, lo + math.floor(u * (hi - lo + 1))))
        if self.log:
            return float(math.exp(math.log(self.low) + u * math.log(self.high / self.low)))
        return float(self.low + u * (self.high - self.low))


def _is_axis(value) -> bool:
    # a tuple is one value (a timeout range, say); lists, ranges and arrays are axes
    return isinstance(value, (list, range, np.ndarray))


def full_grid(axes: dict) -> list[dict]:
    """Every combination of the axes, the last axis varying fastest.

    Parameters
    ----------
    axes : dict
        Parameter name → list (or ``range`` / numpy array) of values; any other value,
        tuples included, is held fixed.  To sweep over tuples, list them:
        ``{"election_timeout": [(0.15, 0.3), (0.3, 0.6)]}``.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> full_grid({"n": [3, 5], "loss": [0.0, 0.1], "election_timeout": (0.15, 0.3)})
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'n': 3, 'loss': 0.0, 'election_timeout': (0.15, 0.3)},
     {'n': 3, 'loss': 0.1, 'election_timeout': (0.15, 0.3)},
     {'n': 5, 'loss': 0.0, 'election_timeout': (0.15, 0.3)},
     {'n': 5, 'loss': 0.1, 'election_timeout': (0.15, 0.3)}]
    """
    if not isinstance(axes, dict):
        raise TypeError(f"grid must be a dict of parameter name -> values; got {axes!r}")
    names = list(axes)
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"grid keys must be parameter names; got {name!r}")
        if _is_axis(axes[name]) and len(axes[name]) == 0:
            raise ValueError(f"grid[{name!r}] is an empty list; give at least one value")
    values = [list(axes[n]) if _is_axis(axes[n]) else [axes[n]] for n in names]
    return [dict(zip(names, _plain(combo))) for combo in itertools.product(*values)]


def _plain(values):
    # numpy scalars from arrays become Python numbers, so tables and fingerprints agree
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _dimension(name, spec):
    if isinstance(spec, Range):
        return spec
    if isinstance(spec, tuple) and len(spec) == 2 and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in spec):
        integer = all(isinstance(v, numbers.Integral) for v in spec)
        return Range(spec[0], spec[1], integer=integer)
    if isinstance(spec, list):
        if not spec:
            raise ValueError(f"space[{name!r}] is an empty list of choices")
        return list(spec)
    return [spec]


def _sample(space: dict, samples: int, seed: int, stratify: bool) -> list[dict]:
    if not isinstance(space, dict) or not space:
        raise TypeError(f"space must be a non-empty dict of parameter name -> Range, "
                        f"(low, high), list of choices or value; got {space!r}")
    samples = check_int("samples", samples, low=1)
    seed = check_int("seed", seed, low=0)
    rng = np.random.default_rng(seed)
    columns = {}
    for name, spec in space.items():
        dim = _dimension(name, spec)
        if stratify:  # one draw inside each of `samples` equal strata, in random order
            u = (rng.permutation(samples) + rng.random(samples)) / samples
        else:
            u = rng.random(samples)
        if isinstance(dim, Range):
            columns[name] = [dim.at(x) for x in u]
        else:
            columns[name] = [dim[min(len(dim) - 1, int(x * len(dim)))] for x in u]
    return [{name: columns[name][i] for name in space} for i in range(samples)]


def random_design(space: dict, samples: int, *, seed: int = 0) -> list[dict]:
    """``samples`` points drawn independently and uniformly from ``space``.

    Parameters
    ----------
    space : dict
        Parameter → :class:`Range`, ``(low, high)`` tuple, list of choices, or fixed value.
    samples : int
        Number of points.
    seed : int
        Seed of the draw.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> pts = random_design({"loss": (0.0, 0.2), "n": [3, 5, 7]}, 4, seed=1)
    >>> len(pts), sorted(pts[0])
    (4, ['loss', 'n'])
    >>> all(0.0 <= p["loss"] <= 0.2 and p["n"] in (3, 5, 7) for p in pts)
    True
    """
    return _sample(space, samples, seed, stratify=False)


def latin_hypercube(space: dict, samples: int, *, seed: int = 0) -> list[dict]:
    """``samples`` points forming a Latin hypercube over ``space``.

    Each range is cut into ``samples`` equal strata and every stratum holds exactly one
    point per parameter, so even a small design covers each range evenly.  Choices are
    strata too (each is used about ``samples / len(choices)`` times).

    Parameters
    ----------
    space : dict
        Parameter → :class:`Range`, ``(low, high)`` tuple, list of choices, or fixed value.
    samples : int
        Number of points.
    seed : int
        Seed of the draw.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> pts = latin_hypercube({"timeout": Range(0.1, 1.0), "n": (3, 7)}, 5, seed=0)
    >>> sorted(int((p["timeout"] - 0.1) / 0.9 * 5) for p in pts)  # one point per stratum
    [0, 1, 2, 3, 4]
    >>> sorted(p["n"] for p in pts)
    [3, 4, 5, 6, 7]
    """
    return _sample(space, samples, seed, stratify=True)
