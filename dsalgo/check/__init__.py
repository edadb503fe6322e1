"""Checkers: verdicts on runs and histories, from the tables alone.

Checkers take DataFrames in and give a :class:`Verdict` out; they never need the
simulator, so they work on histories recorded elsewhere too.
"""

from .verdict import VIOLATION_COLUMNS, Verdict

__all__ = ["Verdict", "VIOLATION_COLUMNS"]
