"""The serving cluster's knobs as values: :class:`Config`, :class:`WorkloadConfig`, :data:`BUGS`.

Each knob is one field, declared with :func:`dsalgo.sim.knob` (default, one-line doc,
check), so adding one is one edit: :func:`~dsalgo.balance.simulate` takes it as a keyword,
validates it and records it in ``run.params``.  ``Config`` holds what the balancers and
backends do; ``WorkloadConfig`` what the client offers them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from .. import sim
from .._validate import check_number
from ..sim import checks, knob
from .policies import POLICIES, Policy

__all__ = ["BUGS", "EXPONENTIAL_1S", "Config", "WorkloadConfig"]

#: The planted bugs: name -> the rule of the model each one breaks (and the property of
#: :func:`~dsalgo.balance.check` that catches it).
BUGS = {
    "ignore_cap": "consistent_hash_bounded sends every request to its key's ring owner, "
                  "ignoring the ceil((1 + epsilon) m / n) load cap (breaks bounded_load).",
    "lifo_service": "A backend serves the newest waiting request next instead of the oldest "
                    "(breaks fifo).",
    "no_drain_on_done": "The central-queue balancer places held requests only when a new one "
                        "arrives, not when a backend finishes, so requests wait while a "
                        "backend is idle (breaks work_conserving), and those held after the "
                        "last arrival are never placed (breaks request_progress).",
}

#: The default service-time model: exponential with a mean of one second.
EXPONENTIAL_1S = sim.Exponential(mean=1.0)


def _policy(name, value):
    if isinstance(value, Policy):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a policy name (str) or a Policy; got {value!r}")
    if value not in POLICIES:
        accepted = ", ".join(repr(p) for p in POLICIES)
        raise ValueError(f"{name} must be one of {accepted}; got {value!r}")
    return value


def _speeds(name, value):
    if value is None:
        return None
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a list of relative backend speeds; got {value!r}")
    speeds = tuple(value)
    if not speeds:
        raise ValueError(f"{name} must be a non-empty list of speeds; got an empty list")
    return tuple(check_number(f"{name}[{i}]", s, low=0.0, low_open=True)
                 for i, s in enumerate(speeds))


def _weights(name, value):
    if value is None or isinstance(value, Mapping):
        return None if value is None else dict(value)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a list or a dict of weights; got {value!r}")
    return tuple(value)


def _service(name, value):
    if not isinstance(value, sim.Latency):
        raise TypeError(f"{name} must be a service-time model such as sim.Exponential(mean=1.0) "
                        f"or balance.Bimodal(...); got {value!r}")
    if not value.mean > 0:
        raise ValueError(f"{name} must have a mean service time > 0; got {value!r} "
                         f"with mean {value.mean!r}")
    return value


@dataclasses.dataclass(frozen=True)
class Config(sim.Config):
    """What the balancers and backends do (see :meth:`describe` for every knob).

    Examples
    --------
    >>> Config(policy="power_of_d", d=3).d
    3
    >>> Config(policy="central_queue", balancers=2)
    Traceback (most recent call last):
    ...
    ValueError: policy 'central_queue' keeps one shared queue and needs balancers=1; got balancers=2
    """

    policy: str = knob("random", "Balancing policy: a name of POLICIES or a Policy object "
                       "(each balancer gets its own copy).", _policy)
    d: int = knob(2, "Choices of power_of_d (1 <= d <= n).", checks.integer(low=1))
    vnodes: int = knob(100, "Ring points per backend of the consistent-hash policies.",
                       checks.integer(low=1))
    epsilon: float = knob(0.25, "Load overshoot of consistent_hash_bounded, > 0.",
                          checks.positive)
    weights: tuple = knob(None, "Weights of weighted_round_robin, a list or a dict by backend "
                          "(default: the speeds).", _weights)
    speeds: tuple = knob(None, "Relative service speed of each backend (one per backend, "
                         "> 0; default all 1).", _speeds)
    balancers: int = knob(1, "Balancers lb1… sharing the traffic (central_queue needs 1).",
                          checks.integer(low=1))
    info_delay: float = knob(0.0, "Extra seconds on every backend->balancer message: how "
                             "stale load reports and completion notices are.",
                             checks.non_negative)
    health_interval: float = knob(None, "Seconds between balancer health probes (more than "
                                  "a probe's round trip); None: no health checks.",
                                  checks.optional(checks.positive))
    timeout: float = knob(None, "Seconds after which the client gives up on a request "
                          "(status info); None: never.", checks.optional(checks.positive))
    allow_overload: bool = knob(False, "Accept utilization >= 1 (queues grow without bound).",
                                checks.boolean)
    bugs: frozenset = knob(frozenset(), "Planted bugs switched on (names of BUGS).",
                           checks.bugs(BUGS))

    def validate(self):
        holds = (self.policy if isinstance(self.policy, Policy) else POLICIES[self.policy]).holds
        if holds and self.balancers != 1:
            name = self.policy if isinstance(self.policy, str) else self.policy.name
            raise ValueError(f"policy {name!r} keeps one shared queue and needs balancers=1; "
                             f"got balancers={self.balancers}")


@dataclasses.dataclass(frozen=True)
class WorkloadConfig(sim.Config):
    """What the open-loop Poisson client offers: how much load, how long, which keys.

    The arrival rate is ``rate`` if given, else ``utilization * sum(speeds) / service.mean``.
    ``run.params["workload"]`` records ``service`` as its ``repr`` (a model is an object);
    the run's effective ``rate``, ``utilization`` and ``service_mean`` sit beside it in
    ``run.params``.

    Examples
    --------
    >>> WorkloadConfig().utilization
    0.7
    >>> WorkloadConfig(rate=3.0).utilization is None
    True
    >>> WorkloadConfig(rate=3.0, utilization=0.5)
    Traceback (most recent call last):
    ...
    ValueError: give utilization or rate, not both; got utilization=0.5, rate=3.0
    """

    utilization: float = knob(None, "Offered load per unit of capacity, lambda E[S] / "
                              "sum(speeds), in (0, 1) (default 0.7 unless rate is given).",
                              checks.optional(checks.positive))
    rate: float = knob(None, "Arrivals per second, instead of utilization.",
                       checks.optional(checks.positive))
    service: sim.Latency = knob(EXPONENTIAL_1S, "Service time at speed 1, seconds (a latency "
                                "model: Exponential, LogNormal, Bimodal, ...).", _service)
    requests: int = knob(10_000, "Requests the client issues; None: arrivals go on until "
                         "duration.", checks.optional(checks.integer(low=1)))
    keys: int = knob(1000, "Distinct request keys 0 … keys-1.", checks.integer(low=1))
    key_skew: float = knob(0.0, "Zipf exponent of key popularity (0: uniform).",
                           checks.non_negative)

    def validate(self):
        if self.rate is not None and self.utilization is not None:
            raise ValueError(f"give utilization or rate, not both; got "
                             f"utilization={self.utilization!r}, rate={self.rate!r}")
        if self.rate is None and self.utilization is None:
            object.__setattr__(self, "utilization", 0.7)
