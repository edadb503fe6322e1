"""Interactive explorers for notebooks.  Each function returns an ipywidgets object that
redraws its charts when a control changes.

- :func:`quorum_explorer` — n, per-node failure probability, read fraction
- :func:`failover_explorer` — Raft leader failover: n, election-timeout range, latency, loss
- :func:`locks_explorer` — RedLock and the ZooKeeper lock: TTL, pause, clock drift
"""

from .locks import locks_explorer
from .quorum import quorum_explorer
from .raft import failover_explorer

__all__ = ["failover_explorer", "locks_explorer", "quorum_explorer"]
