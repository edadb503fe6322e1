"""Charts.  Every function takes ``ax=None`` (a new figure when omitted) and returns the Axes.

Each family's charts live in their own module; this package re-exports them.
"""

from .core import latencies, latency_cdf, latency_hist, spacetime  # noqa: E402,F401

from .quorum import availability_nines, load_curves, node_load_bars, quorum_intersection  # noqa: E402,F401
from .sweep import heatmap, sweep_lines, throughput  # noqa: E402,F401
from .balance import key_movement, latency_vs_utilization, load_spread, queue_length_tail, theory_check  # noqa: E402,F401
from .timeline import history_timeline  # noqa: E402,F401
from .locks import lock_timeline  # noqa: E402,F401
from .txn import blocking_time  # noqa: E402,F401
from .raft import downtime_cdf, raft_logs  # noqa: E402,F401
