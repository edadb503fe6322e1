"""Consistent hashing with virtual nodes, and with bounded loads.

Karger et al., "Consistent Hashing and Random Trees", STOC 1997, §4: backends and keys
are hashed onto the same circle; a key belongs to the first backend point clockwise from
it.  Each backend is hashed to ``vnodes`` points ("virtual nodes", §4.2 uses ``κ log C``
copies) so that its share of the circle concentrates around ``1/n``.  When a backend
joins, it takes over only the arcs just before its own points, so in expectation a
fraction ``1/(n+1)`` of keys move and every moved key moves *to* the newcomer; when one
leaves, exactly its own keys move.

Mirrokni, Thorup & Zadimoghaddam, "Consistent Hashing with Bounded Loads", SODA 2018,
§2: every backend gets a capacity ``ceil((1 + epsilon) * m / n)`` where ``m`` is the
number of balls (here: outstanding requests, counting the one being placed) and ``n`` the
number of backends.  A ball goes to the first backend clockwise from its hash that is
below capacity.  Since the capacities sum to at least ``(1 + epsilon) m > m - 1``, some
backend always has room, so no ball is ever *placed* on a full backend.  Balls are not
moved when others leave, so after departures ``m`` and the capacity fall and a backend
may hold more than the current capacity until its own balls drain (the paper moves balls
to keep the bound at all times; this model, like most load balancers, does not).

What is simplified: the hash is BLAKE2b truncated to 64 bits (deterministic in every
process, unlike Python's ``hash``); keys are hashed through ``str(key)``, so ``1`` and
``"1"`` are the same key.  The ring is a sorted list searched with :mod:`bisect`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from hashlib import blake2b

from .._validate import check_int, check_number

__all__ = ["ConsistentHashRing", "key_movement"]

_SPACE = 2**64


def _hash(text: str) -> int:
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big")


class ConsistentHashRing:
    """A hash ring of backends with ``vnodes`` points each.

    Parameters
    ----------
    backends : sequence of str
        Backend ids (at least one, no duplicates).
    vnodes : int
        Points on the circle per backend (virtual nodes), ``>= 1``.
    seed : int
        Salt of the point hashes: a different seed places the backends elsewhere (keys
        hash the same whatever the seed).

    Examples
    --------
    >>> ring = ConsistentHashRing(["n1", "n2", "n3"], vnodes=64)
    >>> ring.lookup("user:42") in ("n1", "n2", "n3")
    True
    >>> ring.lookup("user:42") == ring.lookup("user:42")      # deterministic
    True
    >>> round(sum(ring.shares().values()), 12)
    1.0
    """

    def __init__(self, backends, vnodes: int = 100, seed: int = 0):
        self.vnodes = check_int("vnodes", vnodes, low=1)
        self.seed = check_int("seed", seed)
        if isinstance(backends, str):
            raise TypeError(f"backends must be a sequence of backend ids; got the string {backends!r}")
        backends = list(backends)
        if not backends:
            raise ValueError("backends must hold at least one backend id; got an empty sequence")
        self._points: list[int] = []
        self._owners: list[str] = []
        self._backends: list[str] = []
        self._key_cache: dict = {}
        for b in backends:
            self.add(b)

    @property
    def backends(self) -> list[str]:
        """The backend ids, in the order they were added."""
        return list(self._backends)

    def __len__(self) -> int:
        return len(self._backends)

    def __repr__(self):
        return f"ConsistentHashRing({len(self._backends)} backends, vnodes={self.vnodes})"

    def add(self, backend: str) -> None:
        """Put ``backend`` on the ring (``vnodes`` points)."""
        if not isinstance(backend, str):
            raise TypeError(f"backend must be a backend id (str); got {backend!r}")
        if backend in self._backends:
            raise ValueError(f"backend {backend!r} is already on the ring")
        self._backends.append(backend)
        pairs = list(zip(self._points, self._owners))
        pairs += [(_hash(f"{self.seed}/{backend}#{i}"), backend) for i in range(self.vnodes)]
        pairs.sort()
        self._points = [p for p, _ in pairs]
        self._owners = [o for _, o in pairs]

    def remove(self, backend: str) -> None:
        """Take ``backend`` off the ring (it must be on it, and not be the last one)."""
        if backend not in self._backends:
            raise ValueError(f"backend {backend!r} is not on the ring; backends are "
                             f"{', '.join(self._backends)}")
        if len(self._backends) == 1:
            raise ValueError(f"cannot remove {backend!r}: it is the only backend on the ring")
        self._backends.remove(backend)
        keep = [(p, o) for p, o in zip(self._points, self._owners) if o != backend]
        self._points = [p for p, _ in keep]
        self._owners = [o for _, o in keep]

    def copy(self) -> ConsistentHashRing:
        """An independent ring with the same backends, ``vnodes`` and ``seed``."""
        new = ConsistentHashRing.__new__(ConsistentHashRing)
        new.vnodes, new.seed = self.vnodes, self.seed
        new._points, new._owners = list(self._points), list(self._owners)
        new._backends, new._key_cache = list(self._backends), self._key_cache
        return new

    def _start(self, key) -> int:
        h = self._key_cache.get(key)
        if h is None:
            h = _hash(f"key/{key}")
            if len(self._key_cache) < 1_000_000:
                self._key_cache[key] = h
        return bisect_right(self._points, h) % len(self._points)

    def lookup(self, key, *, exclude=()) -> str:
        """The backend owning ``key``: the first point clockwise from the key's hash.

        Parameters
        ----------
        key : hashable
        exclude : collection of str
            Backends to skip (e.g. ones marked down): the key goes to the next backend
            clockwise, as if the excluded ones had left the ring.

        Examples
        --------
        >>> ring = ConsistentHashRing(["n1", "n2"], vnodes=8)
        >>> ring.lookup(7) == ring.lookup("7")
        True
        >>> ring.lookup(7, exclude={ring.lookup(7)}) != ring.lookup(7)
        True
        """
        i = self._start(key)
        owners = self._owners
        if not exclude:
            return owners[i]
        n_points = len(owners)
        for step in range(n_points):
            b = owners[(i + step) % n_points]
            if b not in exclude:
                return b
        raise ValueError("exclude leaves no backend to choose from")

    def capacity(self, total_load: int, epsilon: float) -> int:
        """Per-backend cap ``ceil((1 + epsilon) * total_load / n)`` (Mirrokni et al. 2018).

        Examples
        --------
        >>> ConsistentHashRing(["n1", "n2", "n3", "n4"]).capacity(10, 0.25)
        4
        """
        check_number("epsilon", epsilon, low=0.0, low_open=True)
        # a tiny tolerance keeps (1 + 0.25) * 8 / 4 == 2.5 from rounding up past an exact integer
        return max(1, math.ceil((1.0 + epsilon) * total_load / len(self._backends) - 1e-9))

    def lookup_bounded(self, key, loads, epsilon: float, *, exclude=()) -> str:
        """The owner of ``key`` when no backend may exceed ``(1 + epsilon)`` times the mean load.

        Parameters
        ----------
        key : hashable
            The request's key.
        loads : mapping of str to int
            Current load of each backend (missing backends count as 0), *not* counting the
            request being placed.
        epsilon : float
            Allowed overshoot over the mean, ``> 0``.
        exclude : collection of str
            Backends not to use (e.g. ones marked down); at least one must remain.

        Returns
        -------
        str
            The first backend clockwise from the key whose load is below
            ``capacity(sum(loads) + 1, epsilon)``.

        Examples
        --------
        >>> ring = ConsistentHashRing(["n1", "n2", "n3"], vnodes=16)
        >>> home = ring.lookup("k")
        >>> ring.lookup_bounded("k", {}, 0.5) == home           # no load: the plain owner
        True
        >>> ring.lookup_bounded("k", {home: 5}, 0.5) != home     # cap ceil(1.5 * 6 / 3) = 3
        True
        """
        total = sum(loads.get(b, 0) for b in self._backends if b not in exclude) + 1
        alive = len(self._backends) - sum(1 for b in set(exclude) if b in self._backends)
        if alive < 1:
            raise ValueError("exclude leaves no backend to choose from")
        check_number("epsilon", epsilon, low=0.0, low_open=True)
        cap = max(1, math.ceil((1.0 + epsilon) * total / alive - 1e-9))
        owners = self._owners
        n_points = len(owners)
        i = self._start(key)
        seen = set(exclude)
        for step in range(n_points):
            b = owners[(i + step) % n_points]
            if b in seen:
                continue
            if loads.get(b, 0) < cap:
                return b
            seen.add(b)
        raise AssertionError("unreachable: capacities sum past the total load")  # pragma: no cover

    def shares(self) -> dict[str, float]:
        """Fraction of the hash circle each backend owns (its expected share of uniform keys).

        Examples
        --------
        >>> shares = ConsistentHashRing(["n1", "n2"], vnodes=500).shares()
        >>> 0.4 < shares["n1"] < 0.6
        True
        """
        out = dict.fromkeys(self._backends, 0.0)
        pts, owners = self._points, self._owners
        for j, p in enumerate(pts):
            prev = pts[j - 1] if j else pts[-1] - _SPACE
            out[owners[j]] += (p - prev) / _SPACE
        return out


def key_movement(before: ConsistentHashRing, after: ConsistentHashRing, keys) -> float:
    """Fraction of ``keys`` whose owner differs between two rings.

    Parameters
    ----------
    before, after : ConsistentHashRing
    keys : iterable
        The keys to look up (at least one).

    Returns
    -------
    float
        In [0, 1].  Adding one backend to ``n`` gives about ``1/(n+1)``
        (:func:`~dsalgo.balance.theory.expected_key_movement`).

    Examples
    --------
    >>> ring = ConsistentHashRing([f"n{i}" for i in range(1, 10)], vnodes=200)
    >>> grown = ring.copy(); grown.add("n10")
    >>> round(key_movement(ring, grown, range(20000)), 2)   # theory: 1/10
    0.1
    """
    for name, r in (("before", before), ("after", after)):
        if not isinstance(r, ConsistentHashRing):
            raise TypeError(f"{name} must be a ConsistentHashRing; got {r!r}")
    keys = list(keys)
    if not keys:
        raise ValueError("keys must hold at least one key; got an empty collection")
    moved = sum(1 for k in keys if before.lookup(k) != after.lookup(k))
    return moved / len(keys)
