"""Quorum arithmetic shared by the kernels (Style: one helper, never an inline ``n / 2``).

Kernels may import only :mod:`dsalgo.sim` and the standard library, so the one counting
helper they all need lives here; :mod:`dsalgo.quorum` has the full theory.
"""

from __future__ import annotations

__all__ = ["majority"]


def majority(n: int) -> int:
    """The size of the smallest majority of ``n`` nodes, ⌊n/2⌋ + 1.

    Any two sets of this size out of ``n`` share at least one node, which is what every
    majority-quorum protocol relies on.

    Examples
    --------
    >>> [majority(n) for n in (1, 2, 3, 4, 5)]
    [1, 2, 2, 3, 3]
    """
    return n // 2 + 1
