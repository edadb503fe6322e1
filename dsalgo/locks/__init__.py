"""Distributed locks: RedLock, the ZooKeeper lock recipe, and fencing tokens.

Two lock services guard the same resource, a counter on a storage service
(:mod:`~dsalgo.locks.storage`) that each holder updates by read-modify-write:

- :mod:`~dsalgo.locks.redlock` — leases on N independent Redis servers (the Redlock
  algorithm of the Redis docs); no fencing token;
- :mod:`~dsalgo.locks.zookeeper` — the ZooKeeper lock recipe (ephemeral sequential
  znodes, watch the next-lower node) on a ZooKeeper-style service
  (:mod:`~dsalgo.locks.zkservice`), with the znode sequence number as fencing token.

Each is a family of :data:`dsalgo.families.FAMILIES` with the same surface: ``simulate``,
``check``, ``Config`` (its knobs), ``BUGS`` (planted mistakes: RedLock's validity without
the drift or elapsed-time term, a plain ``DEL`` release; ZooKeeper without fencing, or
the naive variant that watches the parent — the herd effect) and ``SCENARIOS``.  Both
build their runs through :mod:`~dsalgo.locks.harness`.

:func:`check` judges a run from its tables: ``mutual_exclusion`` (no two clients believe
they hold the lock at the same real time) and ``storage_safety`` (fenced writes in token
order, no lost update) and, in a fenced run, ``fenced_exclusion`` (mutual exclusion except
where the older holder was paused or its lease expired: the overlaps fencing is for;
:func:`overlaps` lists every overlap and its excuse).  :mod:`~dsalgo.locks.scenarios` scripts the failures Kleppmann
(2016) describes.

Examples
--------
>>> from dsalgo import locks
>>> run = locks.zookeeper.simulate(n=3, clients=3, seed=2, duration=1.0)
>>> print(locks.check(run))
All 4 properties hold: mutual_exclusion, storage_safety, fenced_exclusion, lock_progress.
"""

from . import harness, redlock, scenarios, storage, zkservice, zookeeper
from .checker import (
    acquisition_waits,
    check,
    handovers,
    herd,
    holding_intervals,
    overlaps,
    recovery_times,
)
from .storage import StorageServer

__all__ = [
    "StorageServer",
    "acquisition_waits",
    "check",
    "handovers",
    "harness",
    "herd",
    "holding_intervals",
    "overlaps",
    "recovery_times",
    "redlock",
    "scenarios",
    "storage",
    "zkservice",
    "zookeeper",
]
