"""Checkers: verdicts on runs and histories, from the tables alone.

Checkers take DataFrames in and give a :class:`Verdict` out; they never need the
simulator, so they work on histories recorded elsewhere too.  Each algorithm family has
its own ``check(run)`` (``raft.check``, ``paxos.check``, ``locks.check``, ``txn.check``,
``balance.check``); this package holds what they share and :func:`linearizable`, which
checks any history table.
"""

from .linearizable import linearizable
from .verdict import VIOLATION_COLUMNS, Verdict

__all__ = ["VIOLATION_COLUMNS", "Verdict", "linearizable"]
