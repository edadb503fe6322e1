"""Load balancing: policies, a serving-cluster model on the simulator, and the theory to check it.

Papers followed:

- Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing", IEEE TPDS 12(10),
  2001 — the supermarket model (§3) and ``power_of_d``;
  Mitzenmacher, "How Useful Is Old Information?", IEEE TPDS 11(1), 2000 — stale load
  information (``info_delay``).
- Karger et al., "Consistent Hashing and Random Trees", STOC 1997 — the hash ring with
  virtual nodes; Mirrokni, Thorup & Zadimoghaddam, "Consistent Hashing with Bounded
  Loads", SODA 2018 — the ``(1 + epsilon)`` load cap.
- Erlang's C formula for M/M/c and the M/M/1 queue (Kleinrock 1975, §3.2, §3.4) — the
  closed forms :mod:`~dsalgo.balance.theory` gives and the simulation must converge to.

What is modelled: an open-loop Poisson client, one or more balancers and FIFO
single-server backends with any service-time distribution and relative speeds, on the
deterministic simulator (:mod:`dsalgo.balance.cluster`); backend crashes through the
simulator's faults, balancer health checks, and load reports that reach balancers late.
What is simplified: no retries, no admission control, no connection pooling; the theory
is steady-state and (for the supermarket model) large-``n``.

Layout: :mod:`~dsalgo.balance.policies` (sans-I/O choice of a backend),
:mod:`~dsalgo.balance.hashing` (rings), :mod:`~dsalgo.balance.cluster` (the nodes),
:mod:`~dsalgo.balance.config` (:class:`Config`, :class:`WorkloadConfig`, :data:`BUGS`),
:mod:`~dsalgo.balance.harness` (:func:`simulate`), :mod:`~dsalgo.balance.checker`
(:func:`check`: causality, FIFO service, the bounded-load cap, work conservation,
least-loaded placement, and request progress once faults heal),
:mod:`~dsalgo.balance.scenarios` (:data:`SCENARIOS`, each planted bug step by step),
:mod:`~dsalgo.balance.metrics` (tables out of a run), :mod:`~dsalgo.balance.theory` (closed forms),
:mod:`~dsalgo.balance.service` (:class:`Bimodal` service times).

The family contract (:mod:`dsalgo.families`): :func:`simulate` (``n`` backends, the
standard keywords, knobs from :class:`Config` and :class:`WorkloadConfig`), :func:`check`,
:data:`BUGS`, :data:`SCENARIOS`.

Examples
--------
>>> from dsalgo import balance
>>> run = balance.simulate(4, policy="central_queue", utilization=0.5, requests=3000, seed=2)
>>> p = balance.latency_percentiles(run, q=[0.5])
>>> list(p.columns)
['quantile', 'latency', 'requests']
>>> round(float(balance.erlang_c(4, 0.5)), 4)        # the chance a request waits, in theory
0.1739
"""

from .checker import check
from .cluster import Backend, Balancer, Client, Done, Load, Ping, Pong, Request, Response
from .config import BUGS, Config, WorkloadConfig
from .harness import simulate
from .hashing import ConsistentHashRing, key_movement
from .metrics import (
    batch_means,
    imbalance,
    latency_percentiles,
    queue_length_distribution,
    queue_tail,
    response_times,
    server_loads,
    wait_probability,
    waits,
)
from .policies import (
    POLICIES,
    BoundedConsistentHash,
    CentralQueue,
    ConsistentHash,
    JoinShortestQueue,
    LeastOutstanding,
    Policy,
    PowerOfD,
    Random,
    RoundRobin,
    View,
    WeightedRoundRobin,
    make_policy,
)
from .scenarios import SCENARIOS
from .service import Bimodal
from .theory import (
    erlang_c,
    expected_key_movement,
    mm1_mean_response,
    mm1_queue_tail,
    mm1_response_quantile,
    mmc_mean_response,
    mmc_mean_wait,
    mmc_response_quantile,
    mmc_response_sf,
    supermarket_mean_response,
    supermarket_tail,
)

__all__ = [
    "BUGS",
    "POLICIES",
    "SCENARIOS",
    "Backend",
    "Balancer",
    "Bimodal",
    "BoundedConsistentHash",
    "CentralQueue",
    "Client",
    "Config",
    "ConsistentHash",
    "ConsistentHashRing",
    "Done",
    "JoinShortestQueue",
    "LeastOutstanding",
    "Load",
    "Ping",
    "Policy",
    "Pong",
    "PowerOfD",
    "Random",
    "Request",
    "Response",
    "RoundRobin",
    "View",
    "WeightedRoundRobin",
    "WorkloadConfig",
    "batch_means",
    "check",
    "erlang_c",
    "expected_key_movement",
    "imbalance",
    "key_movement",
    "latency_percentiles",
    "make_policy",
    "mm1_mean_response",
    "mm1_queue_tail",
    "mm1_response_quantile",
    "mmc_mean_response",
    "mmc_mean_wait",
    "mmc_response_quantile",
    "mmc_response_sf",
    "queue_length_distribution",
    "queue_tail",
    "response_times",
    "server_loads",
    "simulate",
    "supermarket_mean_response",
    "supermarket_tail",
    "wait_probability",
    "waits",
]
