"""Distributed transactions: two-phase commit (:mod:`~dsalgo.txn.twopc`) and sagas,
orchestrated (:mod:`~dsalgo.txn.saga`) or choreographed (:mod:`~dsalgo.txn.choreography`),
moving money in a sharded bank (:mod:`~dsalgo.txn.bank`), checked by :func:`check`,
measured by :mod:`~dsalgo.txn.metrics` and shown step by step by
:mod:`~dsalgo.txn.scenarios`.

``twopc`` and ``saga`` are the two families of :data:`dsalgo.families.FAMILIES`: each has
``simulate(n, *, seed, duration, …, **knobs)``, ``check``, ``BUGS``, ``SCENARIOS`` and
``Config``; the bank workload's knobs are :class:`~dsalgo.txn.bank.WorkloadConfig`.

Examples
--------
>>> from dsalgo import txn
>>> run = txn.twopc.simulate(n=3, seed=0, duration=0.5, drain=0.5)
>>> v = txn.check(run)
>>> bool(v), v.info["committed"] > 0
(True, True)
"""

from . import bank, choreography, isolation, local, metrics, saga, scenarios, twopc
from .checker import check

__all__ = ["twopc", "saga", "choreography", "bank", "local", "metrics", "scenarios", "check",
           "isolation"]
