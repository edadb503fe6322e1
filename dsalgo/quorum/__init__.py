"""Quorum systems and fault-tolerance math.

How many replicas for ``f`` faults, which quorums intersect, and how available, loaded
and fast a quorum system is -- closed forms where they exist, exact enumeration or linear
programming where they do not, and Monte Carlo as the cross-check.  Pure math: nothing
here needs the simulator.

Sources, and what each module follows:

* :mod:`~dsalgo.quorum.bounds` -- ``n >= 2f + 1`` for crash faults and ``n >= 3f + 1`` for
  Byzantine ones, from the quorum-intersection argument (Lamport, "The Part-Time
  Parliament"; Bracha and Toueg 1985; Malkhi and Reiter, "Byzantine Quorum Systems", 1998).
* :mod:`~dsalgo.quorum.systems` -- read-write quorum systems (Whittaker et al., "Read-Write
  Quorum Systems Made Practical", PaPoC 2021); Flexible Paxos (Howard, Malkhi and
  Spiegelman 2016), whose phase-1 quorums are the read quorums and phase-2 quorums the
  write quorums; :mod:`~dsalgo.quorum.constructors` builds majority, threshold, Flexible
  Paxos, grid (Cheung, Ammar and Ahamad 1990) and Byzantine systems.
* :mod:`~dsalgo.quorum.reliability` -- exact availability under independent and
  group-correlated failures; :mod:`~dsalgo.quorum.montecarlo` estimates it.
* :mod:`~dsalgo.quorum.lp` -- Naor–Wool load and capacity by linear programming.
* :mod:`~dsalgo.quorum.order_stats` -- time to hear from a quorum (order statistics).
* :mod:`~dsalgo.quorum.tables` -- tidy tables of the metrics over parameter grids.

Safety property every system here is checked for: every read (phase-1) quorum intersects
every write (phase-2) quorum -- in ``f + 1`` nodes for Byzantine systems -- so whatever a
write quorum accepted is seen by every later read quorum.  ``QuorumSystem.is_valid()``
reports a non-intersecting pair when that fails.

Examples
--------
>>> from dsalgo import quorum
>>> qs = quorum.majority(5)
>>> qs.resilience(), round(qs.load(0.5), 6), quorum.max_faults(5)
(2, 0.6, 2)
"""

from .bounds import bounds_table, max_faults, min_nodes, quorum_size
from .constructors import byzantine, flexible, grid, majority, threshold
from .lp import capacity, load, node_loads
from .montecarlo import MonteCarloEstimate, monte_carlo_availability, wilson_interval
from .order_stats import latency, sample_latency
from .outages import down_at, stationary_up_fraction, unchanged_between
from .reliability import availability, unavailability
from .systems import QuorumSystem, Validity
from .tables import availability_table, load_table

__all__ = [
    "down_at", "stationary_up_fraction", "unchanged_between",
    "MonteCarloEstimate",
    "QuorumSystem",
    "Validity",
    "availability",
    "availability_table",
    "bounds_table",
    "byzantine",
    "capacity",
    "flexible",
    "grid",
    "latency",
    "load",
    "load_table",
    "majority",
    "max_faults",
    "min_nodes",
    "monte_carlo_availability",
    "node_loads",
    "quorum_size",
    "sample_latency",
    "threshold",
    "unavailability",
    "wilson_interval",
]
