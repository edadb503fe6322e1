"""Real Redis, etcd and ZooKeeper on 127.0.0.1, with workloads that come back as runs.

The servers come from Debian packages (``make live-deps``: ``redis-server``, ``etcd-server``,
``zookeeper``, ``libfaketime``); the Python clients from the ``live`` extra (``redis``,
``kazoo``; etcd is reached through its HTTP/JSON gateway).  Every workload returns a
:class:`dsalgo.sim.Run`, so :func:`dsalgo.check.linearizable`, :func:`dsalgo.locks.check`,
``Run.save`` / :func:`dsalgo.sim.load_run`, plots and sweeps apply unchanged.

>>> from dsalgo import live
>>> sorted(live.PACKAGES.values())
['etcd-server', 'redis-server', 'zookeeper']
"""

from .clients import READ_MODES, EtcdKV, Outcome, RedisKV, ZooKeeperKV, adapter
from .locks import PAUSE_POINTS, FencedStore, RedLock, ZooKeeperLock, lock_pause
from .measure import FAILOVER_COLUMNS, empirical, failover_trials, latencies, stale_reads
from .netns import (
                    NETNS_PACKAGES,
                    Partition,
                    isolated,
                    isolated_kv,
                    netns_processes,
                    require_netns,
)
from .servers import (
                      PACKAGES,
                      LiveCluster,
                      LiveUnavailable,
                      Member,
                      etcd,
                      live_processes,
                      redis,
                      require,
                      zookeeper,
)
from .workload import Kill, Pause, Recorder, kv_workload, put_crash_get

__all__ = [
    "redis", "etcd", "zookeeper", "LiveCluster", "Member", "LiveUnavailable", "require",
    "live_processes", "PACKAGES",
    "kv_workload", "put_crash_get", "Pause", "Kill", "Partition", "Recorder",
    "isolated", "isolated_kv", "netns_processes", "require_netns", "NETNS_PACKAGES",
    "lock_pause", "PAUSE_POINTS", "RedLock", "ZooKeeperLock", "FencedStore",
    "latencies", "empirical", "failover_trials", "stale_reads", "FAILOVER_COLUMNS",
    "Outcome", "RedisKV", "EtcdKV", "ZooKeeperKV", "adapter", "READ_MODES",
]
