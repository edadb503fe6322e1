"""Argument checks shared by every public function.

A wrong argument raises at the call with a message that names the parameter, the value
given and what is accepted, as numpy and pandas do.  Keeping the wording in one place
keeps it the same everywhere.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

__all__ = [
    "check_bool",
    "check_callable",
    "check_choice",
    "check_int",
    "check_number",
    "check_probability",
    "check_range",
]


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_number(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """Return ``value`` as a float after checking it is a real number within bounds."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a real number; got {value!r} of type {type(value).__name__}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, not NaN")
    if math.isinf(value) and not allow_inf:
        raise ValueError(f"{name} must be finite; got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {_bounds(low, high, low_open, high_open)}; got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {_bounds(low, high, low_open, high_open)}; got {value!r}")
    return value


def _bounds(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        return f"in {left}{low:g}, {high:g}{right}"
    if low is not None:
        return f"> {low:g}" if low_open else f">= {low:g}"
    return f"< {high:g}" if high_open else f"<= {high:g}"


def check_probability(name: str, value) -> float:
    """A probability in [0, 1]."""
    return check_number(name, value, low=0.0, high=1.0)


def check_int(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """An integer (not a bool) within optional bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r} of type {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be an integer <= {high}; got {value!r}")
    return value


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return value


def check_choice(name: str, value, options: Iterable[str]):
    options = list(options)
    if value not in options:
        accepted = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {accepted}; got {value!r}")
    return value


def check_callable(name: str, value):
    if not callable(value):
        raise TypeError(f"{name} must be callable; got {value!r} of type {type(value).__name__}")
    return value


def check_range(name: str, value, *, low: float = 0.0, low_open: bool = False) -> tuple[float, float]:
    """A number or a ``(low, high)`` pair with ``low <= high``; returns the pair."""
    if _is_real(value):
        v = check_number(name, value, low=low, low_open=low_open)
        return (v, v)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        lo = check_number(f"{name}[0]", value[0], low=low, low_open=low_open)
        hi = check_number(f"{name}[1]", value[1], low=low, low_open=low_open)
        if lo > hi:
            raise ValueError(f"{name} must be a (low, high) range with low <= high; got {tuple(value)!r}")
        return (lo, hi)
    raise TypeError(f"{name} must be a number or a (low, high) pair of numbers; got {value!r}")
