"""Service-time distributions beyond the simulator's latency models.

A backend draws each request's service time from a :class:`dsalgo.sim.Latency` model
(``Exponential``, ``LogNormal``, ``Constant``, ``Uniform``, ``Empirical`` …) through the
backend's own random stream.  :class:`Bimodal` adds the mixture seen in real services —
most requests cheap, a few expensive (a cache miss, a slow query) — which raises the
squared coefficient of variation far above the exponential's 1 and is where the choice of
policy matters most (Harchol-Balter 2013, ch. 23, on high-variability job sizes).
"""

from __future__ import annotations

from .. import sim
from .._validate import check_number, check_probability

__all__ = ["Bimodal"]


class Bimodal(sim.Latency):
    """``fast`` seconds with probability ``1 - p_slow``, ``slow`` seconds with ``p_slow``.

    Parameters
    ----------
    fast : float
        Service time of the common request, seconds, ``> 0``.
    slow : float
        Service time of the rare request, seconds, ``>= fast``.
    p_slow : float
        Probability of a slow request, in [0, 1].

    Attributes
    ----------
    mean : float
        ``(1 - p_slow) fast + p_slow slow``.
    scv : float
        Squared coefficient of variation ``Var[S] / E[S]^2``.

    Examples
    --------
    >>> b = Bimodal(fast=0.5, slow=10.5, p_slow=0.05)
    >>> b.mean
    1.0
    >>> round(b.scv, 3)             # 0.05 * 0.95 * 10**2 / 1
    4.75
    >>> sorted(set(b.draw(1000, seed=1).tolist()))
    [0.5, 10.5]
    """

    def __init__(self, fast: float, slow: float, p_slow: float):
        self.fast = check_number("fast", fast, low=0.0, low_open=True)
        self.slow = check_number("slow", slow, low=self.fast)
        self.p_slow = check_probability("p_slow", p_slow)

    def sample(self, rng):
        return self.slow if rng.random() < self.p_slow else self.fast

    @property
    def mean(self):
        return (1.0 - self.p_slow) * self.fast + self.p_slow * self.slow

    @property
    def scv(self) -> float:
        var = self.p_slow * (1.0 - self.p_slow) * (self.slow - self.fast) ** 2
        return var / self.mean**2

    def __repr__(self):
        return f"Bimodal(fast={self.fast!r}, slow={self.slow!r}, p_slow={self.p_slow!r})"
