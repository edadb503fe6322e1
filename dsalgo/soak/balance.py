"""Soaks of the load-balancing family: many seeded runs of the serving cluster, each checked.

- ``balance-central-queue``: the central queue (M/M/c) at 50–95 % utilisation on 2–5
  backends — causality, FIFO service and work conservation always hold; requests do wait.
- ``balance-bounded``: consistent hashing with bounded loads under skewed keys — the
  bounded-load cap always holds; requests are redirected past a full owner.
- ``balance-crash``: least-outstanding with health checks while backends crash and
  restart — causality and FIFO service hold; requests are lost to crashes and the balancer
  routes around them.

Each run's size and load are drawn from its seed, so the soak covers a range of settings.
"""

from __future__ import annotations

import random

from .. import balance, sim
from . import Soak

REQUESTS = 800


def _draw(seed):
    rng = random.Random(seed)
    return rng.randint(2, 5), round(rng.uniform(0.5, 0.95), 3)


def _central_queue(seed):
    n, rho = _draw(seed)
    run = balance.simulate(n, policy="central_queue", utilization=rho, requests=REQUESTS,
                           seed=seed)
    v = balance.check(run)
    return v, {"waited": int((balance.waits(run) > 0).sum()), "even_n": int(n % 2 == 0)}


def _bounded(seed):
    n, rho = _draw(seed)
    run = balance.simulate(n, policy="consistent_hash_bounded", utilization=rho,
                           requests=REQUESTS, key_skew=1.2, seed=seed)
    v = balance.check(run)
    return v, {"redirected": int(v.info.get("redirected", 0)),
               "waited": int((balance.waits(run) > 0).sum())}


def _crash(seed):
    n, rho = _draw(seed)
    backends = sim.server_ids(n)
    nemesis = sim.Nemesis(crash=0.05, mean_duration=5.0, targets=backends, max_crashed=n - 1)
    run = balance.simulate(n, policy="least_outstanding", utilization=rho, requests=REQUESTS,
                           seed=seed, health_interval=0.5, timeout=5.0, faults=[nemesis])
    v = balance.check(run)
    return v, {"crash": int((run.faults["kind"] == "crash").sum()),
               "lost": int((run.history["status"] == "info").sum())}


SOAKS = {
    "balance-central-queue": Soak(_central_queue, runs=1000, sometimes=("waited", "even_n"),
                                  family="balance",
                                  description="central queue, 2-5 backends, 50-95 % load"),
    "balance-bounded": Soak(_bounded, runs=1000, sometimes=("redirected", "waited"),
                            family="balance",
                            description="bounded-load consistent hashing, skewed keys"),
    "balance-crash": Soak(_crash, runs=1000, sometimes=("crash", "lost"), family="balance",
                          description="least-outstanding with health checks; backends "
                                      "crash and restart"),
}
