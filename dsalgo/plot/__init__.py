"""Charts.  Every function takes ``ax=None`` (a new figure when omitted) and returns the Axes.

Each family's charts live in their own module; this package re-exports them.

- colours kept across a notebook's charts: :func:`node_color`, :func:`message_color`,
  :func:`series_color`
- any run: :func:`spacetime`, :func:`latency_hist`, :func:`latency_cdf`, :func:`latencies`
- histories: :func:`history_timeline`
- sweeps: :func:`sweep_lines`, :func:`sweep_xy`, :func:`load_sweep`, :func:`heatmap`, :func:`throughput`
- quorums: :func:`availability_nines`, :func:`load_curves`, :func:`node_load_bars`,
  :func:`quorum_intersection`
- Raft: :func:`downtime_cdf`, :func:`raft_logs`; locks: :func:`lock_timeline`;
  transactions: :func:`blocking_time`, :func:`anomaly_cycle`; load balancing: :func:`latency_vs_utilization`,
  :func:`queue_length_tail`, :func:`key_movement`, :func:`load_spread`, :func:`theory_check`
"""

from .balance import (
                      key_movement,
                      latency_vs_utilization,
                      load_spread,
                      queue_length_tail,
                      theory_check,
)
from .core import (
                      latencies,
                      latency_cdf,
                      latency_hist,
                      message_color,
                      message_family,
                      node_color,
                      series_color,
                      spacetime,
)
from .isolation import anomaly_cycle
from .locks import lock_timeline
from .quorum import availability_nines, load_curves, node_load_bars, quorum_intersection
from .raft import downtime_cdf, raft_logs
from .sweep import heatmap, load_sweep, rate_lines, sweep_lines, sweep_xy, throughput
from .timeline import history_timeline
from .txn import blocking_time

__all__ = [
    "anomaly_cycle", "availability_nines", "blocking_time", "downtime_cdf", "heatmap", "history_timeline",
    "key_movement", "latencies", "latency_cdf", "latency_hist", "latency_vs_utilization",
    "load_curves", "load_spread", "lock_timeline", "message_color", "message_family",
    "node_color", "node_load_bars", "queue_length_tail", "series_color",
    "quorum_intersection", "raft_logs", "rate_lines", "spacetime", "sweep_lines", "theory_check",
    "sweep_xy", "throughput", "load_sweep",
]
