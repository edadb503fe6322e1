"""dsalgo: understand and size the algorithms of distributed systems.

Pure-Python algorithm kernels (Paxos, Raft, RedLock, the ZooKeeper lock recipe, two-phase
commit, Sagas, load balancing) on a deterministic discrete-event simulator
(:mod:`dsalgo.sim`), safety checkers for each, quorum and fault-tolerance math
(:mod:`dsalgo.quorum`), parameter sweeps (:func:`dsalgo.sweep`) and charts
(:mod:`dsalgo.plot`).  Import the families you need: ``from dsalgo import sim, raft``.
"""

from . import sweep  # noqa: F401  (callable: dsalgo.sweep(fn, grid), see dsalgo/sweep)

__version__ = "0.1.0"
