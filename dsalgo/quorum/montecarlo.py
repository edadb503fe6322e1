"""Monte Carlo availability: the cross-check for every exact formula.

Each sample draws every group's failure (probability ``q``) and every node's own failure
(probability ``p_i``), marks the nodes of failed groups down, and asks the system's
families whether a quorum is fully alive -- vectorised over a block of samples.  The
estimate is the fraction of samples with a live quorum; its interval is Wilson's score
interval (Wilson 1927), which keeps its coverage near 0 and 1 where the normal
approximation collapses to a zero-width interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .._validate import check_choice, check_int, check_number
from .reliability import OPS, parse_groups, parse_p

__all__ = ["MonteCarloEstimate", "monte_carlo_availability", "wilson_interval"]

BLOCK = 20_000


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A proportion estimated from ``samples`` draws, with its confidence interval."""

    estimate: float
    low: float
    high: float
    successes: int
    samples: int
    confidence: float

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies in ``[low, high]``.

        Examples
        --------
        >>> wilson_interval(50, 100, 0.95).covers(0.5)
        True
        """
        return self.low <= value <= self.high


def wilson_interval(successes: int, samples: int, confidence: float = 0.99) -> MonteCarloEstimate:
    """Wilson score interval for a binomial proportion.

    ``(p̂ + z²/2s ± z·sqrt(p̂(1-p̂)/s + z²/4s²)) / (1 + z²/s)`` with ``z`` the normal
    quantile for the two-sided ``confidence``.

    Parameters
    ----------
    successes, samples : int
        ``0 <= successes <= samples``, ``samples >= 1``.
    confidence : float
        In ``(0, 1)``.

    Returns
    -------
    MonteCarloEstimate

    Examples
    --------
    >>> e = wilson_interval(0, 1000, 0.95)
    >>> e.estimate, e.low, round(e.high, 5)
    (0.0, 0.0, 0.00383)
    """
    samples = check_int("samples", samples, low=1)
    successes = check_int("successes", successes, low=0, high=samples)
    confidence = check_number("confidence", confidence, low=0.0, high=1.0, low_open=True,
                              high_open=True)
    z = stats.norm.ppf(0.5 + confidence / 2)
    phat = successes / samples
    denom = 1 + z * z / samples
    centre = (phat + z * z / (2 * samples)) / denom
    half = z * np.sqrt(phat * (1 - phat) / samples + z * z / (4 * samples ** 2)) / denom
    low = 0.0 if successes == 0 else max(0.0, float(centre - half))
    high = 1.0 if successes == samples else min(1.0, float(centre + half))
    return MonteCarloEstimate(phat, low, high, successes, samples, confidence)


def monte_carlo_availability(system, p, op: str = "both", groups=None, *,
                             samples: int = 100_000, seed: int = 0,
                             confidence: float = 0.99) -> MonteCarloEstimate:
    """Estimate the probability that a quorum of kind ``op`` is fully alive.

    Parameters
    ----------
    system : QuorumSystem
    p : float or mapping node -> float
        Each node's independent probability of being down.
    op : {"read", "write", "both"}
    groups : mapping name -> (nodes, probability), optional
        Groups that fail as a whole (see :func:`dsalgo.quorum.reliability.availability`).
    samples : int
        Number of draws.
    seed : int
        Seed; the same seed gives the same estimate.
    confidence : float
        Confidence level of the Wilson interval.

    Returns
    -------
    MonteCarloEstimate

    Examples
    --------
    >>> from dsalgo.quorum import grid
    >>> g = grid(3, 3)
    >>> est = monte_carlo_availability(g, 0.1, samples=50_000, seed=3)
    >>> est.covers(g.availability(0.1))
    True
    """
    check_choice("op", op, OPS)
    kind, values = parse_p(system, p)
    if kind == "array":
        raise TypeError("p must be one probability or a mapping node -> probability for "
                        f"Monte Carlo; got an array of shape {values.shape}")
    parsed = parse_groups(system, groups)
    samples = check_int("samples", samples, low=1)
    seed = check_int("seed", seed, low=0)
    n = system.n
    p_vec = np.full(n, values) if kind == "scalar" else values
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, samples, BLOCK):
        size = min(BLOCK, samples - start)
        alive = rng.random((size, n)) >= p_vec
        for members, q in parsed:
            down = rng.random(size) < q
            alive[np.ix_(down, members)] = False
        if op == "read":
            ok = system._reads.alive_mask(alive)
        elif op == "write":
            ok = system._writes.alive_mask(alive)
        else:
            ok = system._reads.alive_mask(alive) & system._writes.alive_mask(alive)
        hits += int(ok.sum())
    return wilson_interval(hits, samples, confidence)
