"""Independent random streams derived from (seed, name).

Each link, node and the fault schedule draws from its own stream, so adding a node or a
fault does not reshuffle the draws anywhere else.  The derivation uses BLAKE2b, never
``hash()``, so it is the same in every process whatever ``PYTHONHASHSEED`` is.
"""

from __future__ import annotations

import _random
import hashlib
import random


def derive_seed(seed: int, *names: str) -> int:
    """A 64-bit integer seed for the stream named ``names`` under ``seed``."""
    key = "\x1f".join([str(int(seed)), *map(str, names)]).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


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
