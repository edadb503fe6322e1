"""dsalgo."""
from . import sweep  # noqa: F401  (callable: dsalgo.sweep(fn, grid), see dsalgo/sweep)
