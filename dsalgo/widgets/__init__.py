"""Interactive explorers for notebooks.  Each function returns an ipywidgets object that
redraws its charts when a control changes."""

from .quorum import quorum_explorer  # noqa: E402,F401
from .locks import locks_explorer  # noqa: E402,F401
from .raft import failover_explorer  # noqa: E402,F401
