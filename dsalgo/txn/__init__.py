"""Distributed transactions: two-phase commit (:mod:`~dsalgo.txn.twopc`) and sagas,
orchestrated (:mod:`~dsalgo.txn.saga`) or choreographed (:mod:`~dsalgo.txn.choreography`),
moving money in a sharded bank (:mod:`~dsalgo.txn.bank`), checked by :func:`check` and
measured by :mod:`~dsalgo.txn.metrics`.

Examples
--------
>>> from dsalgo import txn
>>> run = txn.twopc.simulate(participants=3, seed=0, duration=0.5, drain=0.5)
>>> v = txn.check(run)
>>> bool(v), v.info["committed"] > 0
(True, True)
"""

from . import bank, choreography, local, metrics, saga, twopc
from .checker import check

__all__ = ["twopc", "saga", "choreography", "bank", "metrics", "check"]
