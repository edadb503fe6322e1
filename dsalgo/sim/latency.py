"""Latency models: how long a message spends on the wire, in seconds.

A model draws from the random stream it is handed (the link's own), so the same seed
gives the same delays.  Every model also knows its mean and can draw a numpy array, which
analysis code uses to compare simulation against theory.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from functools import partial

import numpy as np

from .._validate import check_number

__all__ = ["Latency", "Constant", "Uniform", "Exponential", "LogNormal", "Empirical", "as_latency"]


class Latency:
    """Base class of latency models.  Subclasses implement :meth:`sample` and :attr:`mean`."""

    def sample(self, rng: random.Random) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def sampler(self, rng: random.Random):
        """A zero-argument function drawing one delay from ``rng`` (the simulator's fast path)."""
        return partial(self.sample, rng)

    def draw(self, size: int, seed: int = 0) -> np.ndarray:
        """``size`` independent delays as a numpy array (seconds), from ``random.Random(seed)``."""
        rng = random.Random(seed)
        return np.fromiter((self.sample(rng) for _ in range(size)), dtype=float, count=size)

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash((type(self).__name__, repr(self)))


class Constant(Latency):
    """Every message takes exactly ``delay`` seconds.

    Examples
    --------
    >>> import random
    >>> Constant(0.005).sample(random.Random(0))
    0.005
    """

    def __init__(self, delay: float):
        self.delay = check_number("delay", delay, low=0.0)

    def sample(self, rng):
        return self.delay

    def sampler(self, rng):
        return partial(float, self.delay)

    @property
    def mean(self):
        return self.delay

    def __repr__(self):
        return f"Constant(delay={self.delay!r})"


class Uniform(Latency):
    """Delays uniform on ``[low, high]`` seconds.

    Examples
    --------
    >>> import random
    >>> 0.001 <= Uniform(0.001, 0.002).sample(random.Random(0)) <= 0.002
    True
    """

    def __init__(self, low: float, high: float):
        self.low = check_number("low", low, low=0.0)
        self.high = check_number("high", high, low=0.0)
        if self.high < self.low:
            raise ValueError(f"Uniform needs low <= high; got low={low!r}, high={high!r}")

    def sample(self, rng):
        return self.low + (self.high - self.low) * rng.random()

    @property
    def mean(self):
        return (self.low + self.high) / 2

    def __repr__(self):
        return f"Uniform(low={self.low!r}, high={self.high!r})"


class Exponential(Latency):
    """Exponentially distributed delays with the given ``mean`` (seconds).

    Examples
    --------
    >>> import random
    >>> Exponential(mean=0.01).sample(random.Random(0)) > 0
    True
    """

    def __init__(self, mean: float):
        self._mean = check_number("mean", mean, low=0.0, low_open=True)
        self._rate = 1.0 / self._mean

    def sample(self, rng):
        return rng.expovariate(self._rate)

    def sampler(self, rng):
        return partial(rng.expovariate, self._rate)

    @property
    def mean(self):
        return self._mean

    def __repr__(self):
        return f"Exponential(mean={self._mean!r})"


class LogNormal(Latency):
    """Log-normal delays: ``median`` seconds and shape ``sigma`` (of the underlying normal).

    The mean is ``median * exp(sigma**2 / 2)``; a heavy right tail for ``sigma`` near 1.

    Examples
    --------
    >>> round(LogNormal(median=0.01, sigma=0.0).mean, 6)
    0.01
    """

    def __init__(self, median: float, sigma: float):
        self.median = check_number("median", median, low=0.0, low_open=True)
        self.sigma = check_number("sigma", sigma, low=0.0)
        self._mu = math.log(self.median)

    def sample(self, rng):
        return rng.lognormvariate(self._mu, self.sigma)

    @property
    def mean(self):
        return self.median * math.exp(self.sigma**2 / 2)

    def __repr__(self):
        return f"LogNormal(median={self.median!r}, sigma={self.sigma!r})"


class Empirical(Latency):
    """Delays resampled uniformly from measured ``samples`` (seconds).

    Examples
    --------
    >>> import random
    >>> Empirical([0.001, 0.002, 0.010]).sample(random.Random(1)) in (0.001, 0.002, 0.010)
    True
    """

    def __init__(self, samples: Sequence[float]):
        try:
            values = [float(x) for x in samples]
        except (TypeError, ValueError):
            raise TypeError(f"samples must be a sequence of numbers; got {samples!r:.80}") from None
        if not values:
            raise ValueError("samples must hold at least one delay; got an empty sequence")
        for i, v in enumerate(values):
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"samples must be finite delays >= 0; samples[{i}] is {v!r}")
        self.samples = tuple(values)

    def sample(self, rng):
        s = self.samples
        return s[int(rng.random() * len(s))]

    @property
    def mean(self):
        return sum(self.samples) / len(self.samples)

    def __repr__(self):
        return f"Empirical(samples=<{len(self.samples)} values, mean {self.mean:.3g}>)"


def as_latency(value, name: str = "latency") -> Latency:
    """Accept a latency model or a plain number of seconds (meaning :class:`Constant`)."""
    if isinstance(value, Latency):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{name} must be a delay >= 0 seconds or a latency model; "
                             f"got {value!r}")
        return Constant(value)
    raise TypeError(
        f"{name} must be a latency model (Constant, Uniform, Exponential, LogNormal, Empirical) "
        f"or a number of seconds; got {value!r}"
    )
