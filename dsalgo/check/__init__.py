"""Checkers: verdicts on runs and histories, from the tables alone.

Checkers take DataFrames in and give a :class:`Verdict` out; they never need the
simulator, so they work on histories recorded elsewhere too.
"""

from .verdict import VIOLATION_COLUMNS, Verdict
from .linearizable import linearizable  # noqa: F401  (issue 9)

__all__ = ["Verdict", "VIOLATION_COLUMNS"]
