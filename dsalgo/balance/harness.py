"""``simulate``: a serving cluster on :class:`dsalgo.sim.Cluster`, run, tidy tables out.

The pieces of :mod:`dsalgo.balance.cluster` — backends ``n1…nN`` (role ``server``),
balancers ``lb1…`` (role ``balancer``) and one open-loop client ``c1`` (role ``client``) —
on ``network`` (by default every hop takes exactly 0 s), plus ``info_delay`` seconds on the
backend→balancer links.  With the default network the recorded latency is exactly the
queueing-theory response time.

The arrival rate is ``rate``, or is set from the target utilisation:
``rate = utilization * sum(speeds) / service.mean`` requests per second.
"""

from __future__ import annotations

import copy
import math
from array import array
from itertools import accumulate
from operator import itemgetter

import numpy as np
import pandas as pd

from .. import sim
from .._validate import check_int
from ._legacy import legacy_call
from .cluster import Backend, Balancer, Client
from .config import Config, WorkloadConfig
from .policies import BoundedConsistentHash, View, make_policy

__all__ = ["simulate"]

#: The family's default network: every hop takes exactly 0 s.
INSTANT = sim.Network(latency=sim.Constant(0.0))


def simulate(n: int = 4, *legacy, seed: int = 0, duration: float | None = None,
             network: sim.Network | None = None, faults=(), bugs=(),
             record_messages: bool = False, progress: bool = False, cpu=None, storage=None,
             **knobs) -> sim.Run:
    """Simulate a load-balanced serving cluster under open-loop Poisson load.

    Parameters
    ----------
    n : int
        Number of backends ``n1 … nN``.
    seed : int
        Same seed, same tables.
    duration : float, optional
        Simulated-time cap, seconds.  The run ends when the client's ``requests`` have all
        been answered (or timed out) or at ``duration``, whichever comes first.  ``None``
        (the default) allows time enough for every request to finish; with
        ``requests=None`` (arrivals without end) ``duration`` must be given.
    network : dsalgo.sim.Network, optional
        The network every hop (client→balancer, balancer→backend, backend→client) crosses;
        default ``Network(latency=Constant(0.0))``.  ``info_delay`` is added on the
        backend→balancer links.
    faults : iterable of dsalgo.sim faults
        E.g. ``sim.Crash("n2", at=50.0)``.
    bugs : collection of str
        Planted bugs, names of :data:`~dsalgo.balance.BUGS`.
    record_messages : bool
        Keep ``run.messages``.  Off by default in this family: it is three to five rows per
        request and makes a run about 2.5 times slower.
    progress : bool
        Show a progress bar (``tqdm``) over simulated time while it runs.
    cpu : latency model or dict, optional
        The backends' processing time per message and timer, besides the request's own
        ``service`` (see :meth:`dsalgo.sim.Simulation.add_node`); default: none.
    storage : dsalgo.sim.Storage, optional
        The backends' storage model; default: writes durable at once (the backends of
        this family keep no durable state, so it only shows in ``run.params``).
    **knobs
        The fields of :class:`~dsalgo.balance.Config` (``policy``, ``d``, ``vnodes``,
        ``epsilon``, ``weights``, ``speeds``, ``balancers``, ``info_delay``,
        ``health_interval``, ``timeout``, ``allow_overload``) and of
        :class:`~dsalgo.balance.WorkloadConfig` (``utilization``, ``rate``, ``service``,
        ``requests``, ``keys``, ``key_skew``); ``Config.describe()`` lists them with their
        defaults.  The old forms ``simulate("random", 4, 0.7)``, ``servers=``, ``hop=`` and
        ``until=`` still work, with a ``DeprecationWarning``.

    Returns
    -------
    dsalgo.sim.Run
        ``run.history`` has one row per request: ``t_invoke`` (arrival), ``t_enqueue``
        (reached its backend), ``t_start`` and ``t_end`` (its service), ``t_complete``
        (answer at the client), ``backend``, ``key``; ``status`` ok, or info if lost.
        ``run.params`` holds every knob, the arrival ``rate``, the ``utilization`` and
        ``hop`` (the network's constant delay, ``None`` when it varies).

    Examples
    --------
    >>> from dsalgo import balance
    >>> run = balance.simulate(8, policy="power_of_d", utilization=0.5, requests=2000, seed=1)
    >>> h = run.history
    >>> len(h), set(h["status"])
    (2000, {'ok'})
    >>> bool(((h["t_invoke"] <= h["t_start"]) & (h["t_start"] < h["t_complete"])).all())
    True
    >>> run.params["family"], round(run.params["rate"], 3)   # 0.5 * 8 backends / 1 s each
    ('balance', 4.0)
    """
    n, network, duration, knobs = legacy_call(n, legacy, network, duration, knobs)
    cfg, wl = sim.split_knobs(knobs, Config, WorkloadConfig)
    config, workload = Config(bugs=bugs, **cfg), WorkloadConfig(**wl)
    n = check_int("n", n, low=1)
    speeds = _speeds(n, config)
    proto = _policy(config, n, speeds, seed)
    rate, utilization = _rate(workload, config, speeds)
    net = copy.deepcopy(INSTANT if network is None else network)
    if not isinstance(net, sim.Network):
        raise TypeError(f"network must be a dsalgo.sim.Network; got {network!r}")
    hop = net.latency.delay if type(net.latency) is sim.Constant else None
    round_trip = 2 * net.latency.mean + config.info_delay
    if config.health_interval is not None and config.health_interval <= round_trip:
        raise ValueError(f"health_interval must exceed a probe's round trip 2*hop + "
                         f"info_delay = {round_trip!r} s; got {config.health_interval!r}")
    if duration is None:
        if workload.requests is None:
            raise ValueError("duration must be given when requests=None (arrivals never end)")
        # every request on the slowest backend, twice over, after the last arrival
        mean = workload.service.mean
        duration = 2.0 * workload.requests / rate \
            + 2.0 * workload.requests * mean / min(speeds) + 100.0 * mean \
            + 10.0 * (net.latency.mean + config.info_delay) + (config.timeout or 0.0)

    cluster = sim.Cluster("balance", n, config, workload=workload, seed=seed, network=net,
                          record_messages=record_messages, cpu=cpu, storage=storage)
    backends = cluster.servers
    lbs = [f"lb{i}" for i in range(1, config.balancers + 1)]
    speed_of = dict(zip(backends, speeds))
    report_to = lbs if proto.needs_load else ()
    cluster.add_servers(lambda b: Backend(workload.service, speed_of[b], report_to,
                                          proto.needs_completions, config.bugs))
    for lb in lbs:
        cluster.add_node(lb, lambda: Balancer(copy.deepcopy(proto), backends, speed_of,
                                              config.health_interval, config.bugs),
                         role="balancer")
    cluster.add_clients(1, lambda cid: Client(rate, workload.requests, lbs, workload.keys,
                                              _key_weights(workload), config.timeout))
    if config.info_delay:
        for b in backends:
            for lb in lbs:
                base = net.link_config(b, lb)["latency"]
                cluster.sim.set_link(b, lb, latency=_later(base, config.info_delay),
                                     symmetric=False)
    starts = _Starts()
    cluster.sim.add_observer(starts.observer())
    cluster.params.update(
        policy=proto.name, d=getattr(proto, "d", config.d),
        vnodes=getattr(proto, "vnodes", config.vnodes),
        epsilon=getattr(proto, "epsilon", config.epsilon), speeds=list(speeds),
        ring_seed=getattr(proto, "seed", seed), hop=hop, rate=rate, utilization=utilization,
        service_mean=workload.service.mean)
    run = cluster.run(duration, faults, progress=progress, close=True)
    run.history = _with_service_columns(run, backends, starts)
    return run


def _speeds(n: int, config: Config) -> list[float]:
    if config.speeds is None:
        return [1.0] * n
    if len(config.speeds) != n:
        raise ValueError(f"speeds must give one speed per backend (n={n}); got "
                         f"{len(config.speeds)}")
    return list(config.speeds)


def _policy(config: Config, n: int, speeds, seed: int):
    """A prototype policy object (each balancer gets a copy), checked against the cluster."""
    if isinstance(config.policy, str):
        proto = make_policy(config.policy, d=config.d, vnodes=config.vnodes,
                            epsilon=config.epsilon, weights=config.weights, ring_seed=seed,
                            bugs=config.bugs)
    else:
        proto = copy.deepcopy(config.policy)
        if isinstance(proto, BoundedConsistentHash) and "ignore_cap" in config.bugs:
            proto.ignore_cap = True
    if proto.name == "power_of_d" and getattr(proto, "d", 1) > n:
        raise ValueError(f"d must be at most the number of servers ({n}); got {proto.d}")
    backends = sim.server_ids(n)
    copy.deepcopy(proto).reset(View(backends, dict(zip(backends, speeds))))  # bad weights
    return proto


def _rate(workload: WorkloadConfig, config: Config, speeds) -> tuple[float, float]:
    """Arrivals per second and the utilisation they offer (checked for stability)."""
    capacity = sum(speeds) / workload.service.mean
    if workload.rate is not None:
        rate, utilization, what = workload.rate, workload.rate / capacity, "rate gives "
    else:
        utilization = workload.utilization
        rate, what = utilization * capacity, ""
    if utilization >= 1 and not config.allow_overload:
        raise ValueError(f"{what}utilization must be in (0, 1) for a stable cluster; got "
                         f"{utilization!r} (pass allow_overload=True to study overload)")
    return rate, utilization


def _key_weights(workload: WorkloadConfig):
    if workload.key_skew > 0:
        return list(accumulate((k + 1) ** -workload.key_skew for k in range(workload.keys)))
    return None


class _Later(sim.Latency):
    """``base`` plus a constant ``extra`` seconds."""

    def __init__(self, base, extra: float):
        self.base, self.extra = base, extra

    def sample(self, rng):
        return self.base.sample(rng) + self.extra

    @property
    def mean(self):
        return self.base.mean + self.extra

    def __repr__(self):
        return f"{self.base!r} + {self.extra!r}"


def _later(base, extra: float):
    if type(base) is sim.Constant:
        return sim.Constant(base.delay + extra)
    return _Later(base, extra)


class _Starts:
    """The ``start`` events as the run emits them (time, node, fields), kept by the harness's
    observer so that the service columns of ``run.history`` need not build ``run.events``."""

    __slots__ = ("fields", "nodes", "times")

    def __init__(self):
        self.times, self.nodes, self.fields = array("d"), [], []

    def observer(self):
        """``fn(sim, time, node, kind, fields)``: keep each ``start``; stop the run when the
        client has ``drained``."""
        times, nodes, all_fields = self.times.append, self.nodes.append, self.fields.append

        def watch(s, time, node, kind, fields):
            if kind == "start":
                times(time)
                nodes(node)
                all_fields(fields)
            elif kind == "drained":
                s.stop()

        return watch


def _with_service_columns(run, backends, starts: _Starts) -> pd.DataFrame:
    """Add ``t_enqueue``, ``t_start``, ``t_end`` and ``backend`` from the ``start`` events
    (the first of each request's, were there two).

    ``t_end`` is known only for answered requests (a crash may cut a service short)."""
    h = run.history  # built just now for this run; the columns are added in place
    t_start, t_enqueue, t_end = (np.full(len(h), math.nan) for _ in range(3))
    codes = np.full(len(h), -1, dtype=np.int64)
    n = len(starts.times)
    if n:
        fields = starts.fields
        ops = np.fromiter(map(itemgetter("op"), fields), dtype=np.int64, count=n)
        t = np.frombuffer(starts.times, dtype=np.float64)
        queued = np.fromiter(map(itemgetter("queued"), fields), dtype=np.float64, count=n)
        service = np.fromiter(map(itemgetter("service"), fields), dtype=np.float64, count=n)
        code_of = {b: i for i, b in enumerate(backends)}
        node = np.fromiter(map(code_of.__getitem__, starts.nodes), dtype=np.int64, count=n)
        if n > 1 and not (ops[1:] > ops[:-1]).all():  # a request started twice (a crash)
            idx, first = np.unique(ops, return_index=True)
            ops, t, queued, service, node = idx, t[first], queued[first], service[first], node[first]
        t_start[ops] = t
        t_enqueue[ops] = t - queued
        t_end[ops] = t + service
        codes[ops] = node
    t_end[(h["status"] != "ok").to_numpy()] = math.nan
    h["t_enqueue"] = t_enqueue
    h["t_start"] = t_start
    h["t_end"] = t_end
    h["backend"] = pd.Categorical.from_codes(codes, categories=backends)
    return h
