"""A replicated ZooKeeper: an ensemble of ``n`` servers on the simulator.

:mod:`dsalgo.locks.zkservice` is one linearizable server with a fixed leader; this package
is the ensemble of the ZooKeeper paper (Hunt, Konar, Junqueira and Reed, "ZooKeeper:
Wait-free coordination for Internet-scale systems", USENIX ATC 2010): a leader elected
among the servers, writes committed on a quorum in zxid order, reads served by the server
a client is connected to (possibly stale), ``sync``, sessions kept alive by heartbeats to
that server and expired by the leader, ephemeral znodes, watches fired by the client's
server, and clients that reconnect elsewhere with their session.

Why the Raft kernel and not a separate Zab
------------------------------------------
ZooKeeper's broadcast is Zab (Junqueira, Reed and Serafini, "Zab: High-performance
broadcast for primary-backup systems", DSN 2011).  What the service needs from it is
primary order: one leader per epoch, transactions delivered in zxid order on every
server, and every transaction committed in an epoch present in the initial history of
every later epoch (§III, properties "integrity", "total order", "primary order").  Raft
gives the same guarantees with the same structure — a leader per term (epoch), a log
index (the zxid's counter), commitment on a majority, and an election that only a server
holding every committed entry can win (Raft §5.4.1 plays the part of Zab's choice of the
highest zxid in its discovery phase) — and the comparison of the two is a published one
(van Renesse, Schiper and Schneider, "Vive la Différence: Paxos vs. Viewstamped
Replication vs. Zab", 2015; Ongaro's thesis §10.1.2).  So the ensemble reuses
:class:`dsalgo.raft.RaftNode` unchanged (:mod:`.server` subclasses it, replacing the
key-value store with ZooKeeper's data tree, :mod:`.tree`), and its safety is the Raft
kernel's, already checked by :func:`dsalgo.raft.check`, plus the service's.  A zxid here
is ``(epoch, counter)`` = ``(entry term, log index)``; committed transactions are totally
ordered by the index.  Differences from Zab that show: a new leader's history is repaired
entry by entry (Raft's AppendEntries back-off) rather than by Zab's synchronization
phase; a leader tells followers of a commit by an immediate heartbeat round (Zab's
COMMIT).

Safety properties checked (:func:`check`, from the run's tables): ``one_leader_per_epoch``,
``zxid_order`` (every server applies the same transaction at each zxid),
``no_lost_commit`` (a committed transaction is in every later leader's log), and
``linearizability`` of the key-value history when reads are ``sync``-ed.  Plain reads
(``reads="local"``) are only sequentially consistent, as in ZooKeeper: they may be stale.

The family surface (as :mod:`dsalgo.raft`): :func:`simulate` (key-value clients),
:func:`check`, :data:`BUGS`, :data:`SCENARIOS`, :class:`Config`;
:func:`failover_trials` and :func:`leader_changes` measure failover.  The lock recipe runs
on the ensemble with ``dsalgo.locks.zookeeper.simulate(ensemble=True)``.

Examples
--------
>>> from dsalgo import check, sim, zk
>>> run = zk.simulate(3, seed=0, duration=1.0, clients=3, reads="sync")
>>> bool(zk.check(run)), bool(check.linearizable(run.history, "kv"))
(True, True)
"""

from . import client, messages, server, tree
from .client import READS, KVClient
from .harness import (
    BUGS,
    PROPERTIES,
    Config,
    check,
    ensemble_server,
    failover_trials,
    leader_changes,
    simulate,
)
from .scenarios import SCENARIOS
from .server import EnsembleServer
from .tree import DataTree, Txn

__all__ = [
    "BUGS", "PROPERTIES", "READS", "SCENARIOS", "Config", "DataTree", "EnsembleServer",
    "KVClient", "Txn", "check", "client", "ensemble_server", "failover_trials",
    "leader_changes", "messages", "server", "simulate", "tree",
]
