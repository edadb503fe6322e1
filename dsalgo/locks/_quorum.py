"""Quorum arithmetic for the lock kernels, in one place (Style: never inline ``n / 2``)."""

__all__ = ["majority"]


def majority(n: int) -> int:
    """The size of the smallest majority of ``n`` nodes, ⌊n/2⌋ + 1.

    Examples
    --------
    >>> [majority(n) for n in (1, 2, 3, 4, 5)]
    [1, 2, 2, 3, 3]
    """
    return n // 2 + 1
