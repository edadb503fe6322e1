"""``simulate``: build a serving cluster on the simulator, run it, return tidy tables.

The harness composes the pieces of :mod:`dsalgo.balance.cluster` — one open-loop client
``c1``, ``balancers`` balancers ``lb1…`` and one backend ``n1…`` per server — on a network
whose every hop takes a constant ``hop`` seconds, plus ``info_delay`` seconds on the
backend→balancer links.  Constant hops keep the timing exact: a request reaches its
backend at ``t_invoke + 2 hop`` and the client hears the answer ``hop`` after service ends,
so with ``hop = 0`` (the default) the recorded latency is exactly the queueing-theory
response time.

The arrival rate is set from the target utilisation:
``rate = utilization * sum(speeds) / service.mean`` requests per second.
"""

from __future__ import annotations

import copy
import math
from itertools import accumulate

import numpy as np
import pandas as pd

from .. import sim
from .._validate import check_bool, check_int, check_number
from .cluster import Backend, Balancer, Client
from .policies import Policy, View, make_policy

__all__ = ["simulate"]


def _speeds(servers) -> list[float]:
    if isinstance(servers, bool):
        raise TypeError(f"servers must be a number of servers or a list of speeds; got {servers!r}")
    if isinstance(servers, (int, np.integer)):
        n = check_int("servers", servers, low=1)
        return [1.0] * n
    if isinstance(servers, (str, bytes)) or not hasattr(servers, "__iter__"):
        raise TypeError(f"servers must be a number of servers or a list of speeds; got {servers!r}")
    speeds = list(servers)
    if not speeds:
        raise ValueError("servers must be a count >= 1 or a non-empty list of speeds; got an "
                         "empty list")
    return [check_number(f"servers[{i}]", s, low=0.0, low_open=True) for i, s in enumerate(speeds)]


#: The default service-time model: exponential with a mean of one second (an immutable value).
EXPONENTIAL_1S = sim.Exponential(mean=1.0)


def simulate(policy="random", servers=4, utilization=0.7, service=EXPONENTIAL_1S, *,
             seed: int = 0, requests: int = 10_000, balancers: int = 1, d: int = 2,
             vnodes: int = 100, epsilon: float = 0.25, weights=None, keys: int = 1000,
             key_skew: float = 0.0, info_delay: float = 0.0, hop: float = 0.0, faults=(),
             health_interval: float | None = None, timeout: float | None = None,
             allow_overload: bool = False, until: float | None = None,
             record_messages: bool = False, progress: bool = False) -> sim.Run:
    """Simulate a load-balanced serving cluster under open-loop Poisson load.

    Parameters
    ----------
    policy : str or Policy
        ``"random"``, ``"round_robin"``, ``"weighted_round_robin"``, ``"least_outstanding"``,
        ``"jsq"``, ``"power_of_d"``, ``"consistent_hash"``, ``"consistent_hash_bounded"``,
        ``"central_queue"``, or a :class:`~dsalgo.balance.policies.Policy` object (each
        balancer gets its own copy).
    servers : int or sequence of float
        Number of equal backends, or one relative speed per backend (``> 0``).
    utilization : float
        Offered load per unit of capacity, ``lambda E[S] / sum(speeds)``, in (0, 1); above
        1 only with ``allow_overload=True``.
    service : dsalgo.sim.Latency
        Service time at speed 1, seconds (``Exponential``, ``LogNormal``, ``Constant``,
        :class:`~dsalgo.balance.Bimodal`, …).
    seed : int
        Same seed, same tables.
    requests : int
        Requests the client issues.
    balancers : int
        Balancers sharing the traffic (``central_queue`` needs exactly 1).
    d : int
        Choices of ``power_of_d`` (``1 <= d <= servers``).
    vnodes : int
        Ring points per backend for the consistent-hash policies.
    epsilon : float
        Load overshoot of ``consistent_hash_bounded``, ``> 0``.
    weights : sequence or dict, optional
        Weights of ``weighted_round_robin`` (default: the speeds).
    keys : int
        Distinct request keys.
    key_skew : float
        Zipf exponent of key popularity (``0`` = uniform).
    info_delay : float
        Extra seconds on every backend→balancer message: how stale the load information
        (and completion notices) the balancers act on is.
    hop : float
        Seconds per network hop (client→balancer, balancer→backend, backend→client).
    faults : iterable of dsalgo.sim faults
        E.g. ``sim.Crash("n2", at=50.0)``.
    health_interval : float, optional
        Seconds between balancer health probes (``> 2 hop + info_delay``); ``None`` turns
        health checking off.
    timeout : float, optional
        Client gives up on a request after this many seconds (status ``info``).
    allow_overload : bool
        Accept ``utilization >= 1``.
    until : float, optional
        Simulated-time cap, seconds.  By default generous enough for every request to
        finish; the run stops as soon as the last answer is in.
    record_messages : bool
        Keep ``run.messages`` (off by default: it is four rows per request).
    progress : bool
        Show a progress bar (``tqdm``) over simulated time while it runs.

    Returns
    -------
    dsalgo.sim.Run
        ``run.history`` has one row per request: ``t_invoke`` (arrival), ``t_enqueue``
        (reached its backend), ``t_start`` (service began), ``t_complete`` (answer at the
        client), ``backend``, ``key``; ``status`` ok, or info if lost.  ``run.params`` holds
        every knob and the arrival ``rate``.

    Examples
    --------
    >>> from dsalgo import balance
    >>> run = balance.simulate("power_of_d", servers=8, utilization=0.5, requests=2000, seed=1)
    >>> h = run.history
    >>> len(h), set(h["status"])
    (2000, {'ok'})
    >>> bool(((h["t_invoke"] <= h["t_start"]) & (h["t_start"] < h["t_complete"])).all())
    True
    >>> round(run.params["rate"], 3)                    # 0.5 * 8 servers / 1 s per request
    4.0
    """
    # ------------------------------------------------------------------ arguments
    speeds = _speeds(servers)
    n = len(speeds)
    allow_overload = check_bool("allow_overload", allow_overload)
    if allow_overload:
        utilization = check_number("utilization", utilization, low=0.0, low_open=True)
    else:
        if isinstance(utilization, (int, float)) and not isinstance(utilization, bool) \
                and utilization >= 1:
            raise ValueError(f"utilization must be in (0, 1) for a stable cluster; got "
                             f"{utilization!r} (pass allow_overload=True to study overload)")
        utilization = check_number("utilization", utilization, low=0.0, high=1.0,
                                   low_open=True, high_open=True)
    if not isinstance(service, sim.Latency):
        raise TypeError(f"service must be a service-time model such as sim.Exponential(mean=1.0) "
                        f"or balance.Bimodal(...); got {service!r}")
    if not service.mean > 0:
        raise ValueError(f"service must have a mean service time > 0; got {service!r} "
                         f"with mean {service.mean!r}")
    seed = check_int("seed", seed)
    requests = check_int("requests", requests, low=1)
    n_lb = check_int("balancers", balancers, low=1)
    d = check_int("d", d, low=1)
    vnodes = check_int("vnodes", vnodes, low=1)
    epsilon = check_number("epsilon", epsilon, low=0.0, low_open=True)
    keys = check_int("keys", keys, low=1)
    key_skew = check_number("key_skew", key_skew, low=0.0)
    info_delay = check_number("info_delay", info_delay, low=0.0)
    hop = check_number("hop", hop, low=0.0)
    record_messages = check_bool("record_messages", record_messages)
    if timeout is not None:
        timeout = check_number("timeout", timeout, low=0.0, low_open=True)
    if health_interval is not None:
        health_interval = check_number("health_interval", health_interval, low=0.0,
                                       low_open=True)
        if health_interval <= 2 * hop + info_delay:
            raise ValueError(f"health_interval must exceed a probe's round trip 2*hop + "
                             f"info_delay = {2 * hop + info_delay!r} s; got {health_interval!r}")

    if isinstance(policy, Policy):
        proto = policy
    else:
        proto = make_policy(policy, d=d, vnodes=vnodes, epsilon=epsilon, weights=weights,
                            ring_seed=seed)
    backends = [f"n{i}" for i in range(1, n + 1)]
    lbs = [f"lb{i}" for i in range(1, n_lb + 1)]
    speed_of = dict(zip(backends, speeds))
    if proto.name == "power_of_d" and getattr(proto, "d", 1) > n:
        raise ValueError(f"d must be at most the number of servers ({n}); got {proto.d}")
    if proto.holds and n_lb != 1:
        raise ValueError(f"policy {proto.name!r} keeps one shared queue and needs balancers=1; "
                         f"got balancers={n_lb}")
    copy.deepcopy(proto).reset(View(backends, speed_of))  # bad weights etc. raise here

    rate = utilization * sum(speeds) / service.mean
    if until is None:
        # every request on the slowest server, twice over, after the last arrival
        until = 2.0 * requests / rate + 2.0 * requests * service.mean / min(speeds) \
            + 100.0 * service.mean + 10.0 * (hop + info_delay) + (timeout or 0.0)
    else:
        until = check_number("until", until, low=0.0, low_open=True)
    cum = None
    if key_skew > 0:
        cum = list(accumulate((k + 1) ** -key_skew for k in range(keys)))

    # ------------------------------------------------------------------ the cluster
    net = sim.Network(latency=sim.Constant(hop))
    for b in backends:
        for lb in lbs:
            net.set_link(b, lb, latency=sim.Constant(hop + info_delay), symmetric=False)
    s = sim.Simulation(seed=seed, network=net, record_messages=record_messages)
    report_to = lbs if proto.needs_load else ()
    for b in backends:
        s.add_node(b, lambda b=b: Backend(service, speed_of[b], report_to,
                                          proto.needs_completions))
    for lb in lbs:
        s.add_node(lb, lambda: Balancer(copy.deepcopy(proto), backends, speed_of,
                                        health_interval))
    s.add_node("c1", lambda: Client(rate, requests, lbs, keys, cum, timeout))
    s.add_faults(faults)
    s.add_observer(_stop_when_drained)
    s.params = {
        "policy": proto.name, "servers": speeds, "utilization": utilization,
        "service": repr(service), "service_mean": service.mean, "rate": rate,
        "requests": requests, "balancers": n_lb, "d": getattr(proto, "d", d),
        "vnodes": getattr(proto, "vnodes", vnodes), "epsilon": getattr(proto, "epsilon", epsilon),
        "ring_seed": getattr(proto, "seed", seed), "keys": keys, "key_skew": key_skew, "info_delay": info_delay,
        "hop": hop, "health_interval": health_interval, "timeout": timeout,
    }
    run = s.run(until=until, progress=progress)
    run.history = _with_service_columns(run, hop, proto.holds, backends)
    return run


def _stop_when_drained(s, time, node, kind, fields):
    if kind == "drained":
        s.stop()


def _with_service_columns(run, hop, holds, backends) -> pd.DataFrame:
    """Add ``t_enqueue``, ``t_start`` and ``backend`` to the history from the start events."""
    h = run.history.copy()
    ev = run.events
    starts = None
    if "op" in ev.columns:  # absent when no request ever reached a live backend
        starts = ev.loc[ev["kind"] == "start", ["op", "time", "node"]]
    t_start = np.full(len(h), math.nan)
    backend = np.full(len(h), None, dtype=object)
    if starts is not None and len(starts):
        starts = starts.drop_duplicates("op")
        idx = starts["op"].to_numpy().astype(np.int64)
        t_start[idx] = starts["time"].to_numpy()
        backend[idx] = starts["node"].astype(str).to_numpy()
    t_inv = h["t_invoke"].to_numpy()
    h["t_enqueue"] = t_start if holds else (t_inv + hop) + hop
    h["t_start"] = t_start
    h["backend"] = pd.Categorical(backend, categories=backends)
    return h
