"""Parameter sweeps: any function over a grid of parameters and seeds, on any backend.

The package itself is callable, so ``dsalgo.sweep(fn, grid)`` and
``dsalgo.sweep.sweep(fn, grid)`` are the same call, while ``dsalgo.sweep.latin_hypercube``
and friends stay reachable:

>>> import dsalgo.sweep
>>> def quorum(n, seed):
...     return {"majority": n // 2 + 1}
>>> dsalgo.sweep(quorum, {"n": [3, 5]}, seeds=[0], progress=False)["majority"].tolist()
[2, 3]

See :func:`sweep` for backends (``serial``, ``processes``, ``dask``) and the cache that
lets a killed sweep resume, and :mod:`dsalgo.sweep.design` for grid and sampled designs.
"""

import sys
import types

from .core import sweep
from .design import Range, full_grid, latin_hypercube, random_design

__all__ = ["Range", "full_grid", "latin_hypercube", "random_design", "sweep"]


class _CallableModule(types.ModuleType):
    # `from .sweep import sweep` in dsalgo/__init__ would shadow this package with the
    # function; a callable module keeps both `dsalgo.sweep(...)` and `dsalgo.sweep.<name>`
    def __call__(self, fn, grid, **kwargs):
        return sweep(fn, grid, **kwargs)


_CallableModule.__call__.__doc__ = sweep.__doc__
sys.modules[__name__].__class__ = _CallableModule
