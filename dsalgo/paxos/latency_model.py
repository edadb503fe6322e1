"""What a Multi-Paxos command should cost: an order-statistic model of commit latency.

A stable leader runs phase 1 once; each command then costs the client's hop to the leader,
one round trip from the leader to a phase-2 quorum, and the hop back (van Renesse &
Altinbuken 2015, "Paxos Made Moderately Complex", §3).  With one-way delays ``D`` i.i.d.
exponential of mean ``m`` (``sim.Exponential(mean=m)``), the two client hops cost ``2m`` on
average and a follower's round trip ``R = D + D'`` is Gamma(2, m).  The leader's own vote is
free, so it waits for the ``(q - 1)``-th fastest of its ``n - 1`` followers' round trips:

    E[L] = 2m + E[R_(q-1 : n-1)],

computed exactly as ``∫ F⁻¹(u) b(u) du`` with ``F`` the Gamma(2, m) CDF and ``b`` the
Beta(q - 1, n - q + 1) density of the ``(q - 1)``-th of ``n - 1`` uniform order statistics
(David and Nagaraja, *Order Statistics*, §2.1), as in :func:`dsalgo.quorum.latency`.

What the model leaves out, and the simulation shows (notebook 02): a leader answers a
command only once every earlier slot is decided too, so with several clients in flight some
commands wait for a slower earlier slot and the measured mean sits above the model.
"""

from __future__ import annotations

from scipy import integrate, stats

from .._validate import check_int, check_number
from ..quorum import quorum_size

__all__ = ["commit_latency"]


def commit_latency(n, mean_delay, *, q2=None) -> float:
    """Expected commit latency of a Multi-Paxos command under a stable leader.

    Parameters
    ----------
    n : int
        Servers (acceptors), the leader included.
    mean_delay : float
        Mean one-way delay of a link, seconds (exponential delays).
    q2 : int, optional
        Phase-2 quorum size; a majority of ``n`` by default (Flexible Paxos allows smaller).

    Returns
    -------
    float
        Seconds from the client's request to its reply: ``2 * mean_delay`` for the client's
        two hops plus the expected ``(q2 - 1)``-th fastest follower round trip.

    Examples
    --------
    >>> round(commit_latency(5, 0.005) * 1000, 2)        # ms, majority of 5, 5 ms links
    17.19
    >>> commit_latency(1, 0.005)                           # a lone leader decides alone
    0.01
    >>> round(commit_latency(5, 0.005, q2=1) * 1000, 2)  # Flexible Paxos, |Q2| = 1
    10.0
    """
    n = check_int("n", n, low=1)
    mean_delay = check_number("mean_delay", mean_delay, low=0.0)
    q2 = quorum_size(n) if q2 is None else check_int("q2", q2, low=1, high=n)
    k, followers = q2 - 1, n - 1
    if k == 0 or mean_delay == 0.0:
        return 2 * mean_delay
    round_trip = stats.gamma(2, scale=mean_delay)
    order = stats.beta(k, followers - k + 1)
    wait, _ = integrate.quad(lambda u: round_trip.ppf(u) * order.pdf(u), 0.0, 1.0, limit=200)
    return 2 * mean_delay + float(wait)
