"""Independent random streams derived from (seed, name).

Each link, node and the fault schedule draws from its own stream, so adding a node or a
fault does not reshuffle the draws anywhere else.  Every derivation uses BLAKE2b and
integer arithmetic, never ``hash()``, so it is the same in every process whatever
``PYTHONHASHSEED`` is.

Nodes, timers, processing and storage models and faults each get a Mersenne Twister
seeded with :func:`derive_seed` of their names.

Links are many (up to n² of them) and most carry few messages when n is large, so a link
does not seed a generator of its own when it is built (that costs microseconds and 2.5 KB
of state).  Its stream is counter-based first:

- each node has two 64-bit keys, ``derive_seed(seed, "link-src", node)`` and
  ``derive_seed(seed, "link-dst", node)``, computed once per node;
- the link ``src → dst`` has the 64-bit key ``x = src_key(src) XOR dst_key(dst)``;
- its draw ``k`` (counted from 0) for ``k < COUNTER_DRAWS`` is the SplitMix64 output
  ``mix64(x + (k + 1) * 0x9E3779B97F4A7C15 mod 2**64)``, its top 53 bits as a float in
  [0, 1) (:func:`counter_random`);
- from draw ``COUNTER_DRAWS`` on, the link draws from a Mersenne Twister seeded with ``x``
  (``random.Random(x)``), so a busy link costs what a generator costs per draw.

So the ``k``-th draw of a link is a pure function of (seed, src, dst, k): traffic on other
links, the order in which links are built and the order nodes were added change nothing.
A link whose latency model needs more than ``random()`` draws through :class:`LinkStream`,
a ``random.Random`` that gives the same sequence of ``random()`` values.

Examples
--------
>>> x = link_seed(1, "n1", "n2")
>>> s = LinkStream(x)
>>> draws = [s.random() for _ in range(COUNTER_DRAWS + 3)]
>>> draws[:2] == [counter_random(x, 0), counter_random(x, 1)]
True
>>> import random
>>> later = random.Random(x)
>>> draws[COUNTER_DRAWS:] == [later.random() for _ in range(3)]
True
"""

from __future__ import annotations

import _random
import hashlib
import random

__all__ = ["COUNTER_DRAWS", "LinkStream", "counter_random", "derive_seed", "link_seed",
           "stream", "bare_stream", "full_stream"]

#: draws a link takes from its counter-based stream before it seeds a generator
COUNTER_DRAWS = 8

# SplitMix64 (Steele, Lea & Flood, 2014): the Weyl increment and the finaliser's constants
GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
MASK = (1 << 64) - 1
UNIT = 2.0 ** -53            # 53 random bits → a float in [0, 1), as random.random()

_mt_random = _random.Random.random


def derive_seed(seed: int, *names: str) -> int:
    """A 64-bit integer seed for the stream named ``names`` under ``seed``.

    Examples
    --------
    >>> derive_seed(1, "link-src", "n1") == derive_seed(1, "link-src", "n1")
    True
    >>> derive_seed(1, "link-src", "n1") != derive_seed(2, "link-src", "n1")
    True
    """
    key = "\x1f".join([str(int(seed)), *map(str, names)]).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def link_seed(seed: int, src: str, dst: str) -> int:
    """The 64-bit key of the directed link ``src → dst`` under ``seed``: the source's
    ``"link-src"`` key XOR the destination's ``"link-dst"`` key.

    Examples
    --------
    >>> link_seed(3, "a", "b") != link_seed(3, "b", "a")
    True
    """
    return derive_seed(seed, "link-src", src) ^ derive_seed(seed, "link-dst", dst)


def counter_random(x: int, k: int) -> float:
    """Draw ``k`` (``0 <= k``) of the counter-based stream with key ``x``: SplitMix64 at
    counter ``k + 1``, its top 53 bits as a float in [0, 1).

    Examples
    --------
    >>> 0.0 <= counter_random(12345, 0) < 1.0
    True
    >>> counter_random(12345, 0) != counter_random(12345, 1)
    True
    """
    z = (x + (k + 1) * GAMMA) & MASK
    z = ((z ^ (z >> 30)) * MIX1) & MASK
    z = ((z ^ (z >> 27)) * MIX2) & MASK
    return ((z ^ (z >> 31)) >> 11) * UNIT


class LinkStream(random.Random):
    """A link's stream (see the module's description) as a full ``random.Random``.

    ``random()`` gives the link's draws; the other methods (``gauss``, ``lognormvariate``,
    ``choice``, ``getrandbits``…) are built on it, so they too are functions of the draws.

    Parameters
    ----------
    x : int
        The link's key (:func:`link_seed`).
    k : int, default 0
        Draws already taken: the stream goes on from draw ``k``.
    mt_state : tuple, optional
        The state of the link's generator (``_random.Random.getstate()`` of the Mersenne
        Twister seeded with ``x``, the middle item of ``random.Random.getstate()``) when
        ``k >= COUNTER_DRAWS`` and the link has drawn from it.

    Examples
    --------
    >>> s = LinkStream(link_seed(0, "a", "b"))
    >>> 0.0 < s.lognormvariate(0.0, 0.5)
    True
    >>> s.k
    2
    """

    def __new__(cls, x, k=0, mt_state=None):
        return super().__new__(cls)

    def __init__(self, x: int, k: int = 0, mt_state=None):
        self.x, self.k, self.gauss_next = x, k, None
        # the C generator underneath gives the draws from COUNTER_DRAWS on
        if mt_state is None:
            _random.Random.seed(self, x)
        else:
            _random.Random.setstate(self, mt_state)

    def random(self) -> float:
        """The next draw, in [0, 1)."""
        k = self.k
        if k < COUNTER_DRAWS:
            self.k = k + 1
            z = (self.x + (k + 1) * GAMMA) & MASK
            z = ((z ^ (z >> 30)) * MIX1) & MASK
            z = ((z ^ (z >> 27)) * MIX2) & MASK
            return ((z ^ (z >> 31)) >> 11) * UNIT
        return _mt_random(self)

    def getrandbits(self, k: int) -> int:
        """``k`` random bits, 32 from each draw (the top 32 of its 53)."""
        if not isinstance(k, int) or k < 0:
            raise ValueError(f"k must be an int >= 0; got {k!r}")
        words = (k + 31) // 32
        bits = 0
        for i in range(words):
            bits |= int(self.random() * 4294967296.0) << (32 * i)
        return bits >> (32 * words - k)

    def seed(self, a=None, version=2):
        raise TypeError("a link's stream is fixed by (seed, link); it cannot be re-seeded")

    def getstate(self):
        """``(x, k, generator state, gauss_next)``."""
        return self.x, self.k, _random.Random.getstate(self), self.gauss_next

    def setstate(self, state):
        self.x, self.k, mt, self.gauss_next = state
        _random.Random.setstate(self, mt)


def stream(seed: int, *names: str) -> random.Random:
    """A ``random.Random`` seeded for the stream ``names``."""
    return random.Random(derive_seed(seed, *names))


def bare_stream(seed: int, *names: str) -> _random.Random:
    """The stream :func:`stream` gives, as the bare C generator: ``random()``,
    ``getrandbits()``, ``getstate()`` and no more, built in half the time (``random.Random``
    seeds twice: once when the object is made and again, with the seed, in its
    ``__init__``)."""
    return _random.Random(derive_seed(seed, *names))


def full_stream(rng) -> random.Random:
    """``rng`` as a ``random.Random`` that goes on with the same draws."""
    if isinstance(rng, random.Random):
        return rng
    full = random.Random()
    full.setstate((random.Random.VERSION, rng.getstate(), None))
    return full
