"""Soak of the quorum math: many random quorum systems, each checked against brute force.

``quorum-systems``: each seed draws a quorum system over 1–8 nodes -- listed random
quorums (often *not* intersecting, built with ``unsafe=True``), a counting system
(threshold / Flexible Paxos, sometimes unsafe), a grid or a Byzantine system -- random
per-node failure probabilities and sometimes two correlated zones, then checks:

- ``intersection``: ``is_valid()`` agrees with comparing every read quorum with every
  write quorum, and an invalid verdict's pair really is a non-intersecting read/write pair;
- ``resilience``: read and write resilience equal the brute-force minimum over all
  failure sets;
- ``availability_exact``: exact availability (read, write, both) equals a plain sum over
  all ``2^n`` alive patterns and zone outcomes, and ``availability + unavailability = 1``;
- ``availability_monte_carlo``: the exact value lies in a Monte Carlo interval at
  confidence ``1 - 1e-6`` (a false alarm about once in a million runs);
- ``load``: the LP load of the structured system equals the LP over its listed quorums
  and respects the averaging lower bound ``(f_r min|R| + f_w min|W|) / n``.

Sometimes: invalid systems occur and are caught; systems with zones occur; Monte Carlo
sees unavailable patterns.
"""

from __future__ import annotations

import itertools
import math
import random

from ..check import Verdict
from ..quorum import QuorumSystem, byzantine, flexible, grid, majority, threshold
from . import Soak

PROPERTIES = ["intersection", "resilience", "availability_exact", "availability_monte_carlo",
              "load"]


def _draw_system(rng: random.Random):
    kind = rng.choice(["listed", "listed", "threshold", "flexible", "majority", "grid",
                       "byzantine"])
    if kind == "listed":
        n = rng.randint(1, 7)
        nodes = [f"n{i}" for i in range(1, n + 1)]

        def family():
            return [rng.sample(nodes, rng.randint(1, n)) for _ in range(rng.randint(1, 4))]
        return QuorumSystem(reads=family(), writes=family(), nodes=nodes, unsafe=True)
    if kind == "threshold":
        n = rng.randint(1, 8)
        return threshold(n, read=rng.randint(1, n), write=rng.randint(1, n), unsafe=True)
    if kind == "flexible":
        n = rng.randint(1, 8)
        return flexible(n, q1=rng.randint(1, n), q2=rng.randint(1, n), unsafe=True)
    if kind == "majority":
        return majority(rng.randint(1, 8))
    if kind == "grid":
        return grid(rng.randint(1, 3), rng.randint(1, 3))
    n = rng.randint(1, 8)
    return byzantine(n, rng.randint(0, (n - 1) // 3))


def _brute_availability(qs, p_of, groups, op):
    total = 0.0
    nodes = qs.nodes
    zones = list(groups.values())
    for zdown in itertools.product((False, True), repeat=len(zones)):
        zw = math.prod(q if d else 1 - q for d, (_, q) in zip(zdown, zones))
        forced = set().union(*[set(m) for d, (m, _) in zip(zdown, zones) if d])
        for bits in itertools.product((False, True), repeat=len(nodes)):
            w = zw
            for x, up in zip(nodes, bits):
                w *= (1 - p_of[x]) if up else p_of[x]
            alive = {x for x, up in zip(nodes, bits) if up} - forced
            r, wq = qs.is_read_quorum(alive), qs.is_write_quorum(alive)
            total += w * {"read": r, "write": wq, "both": r and wq}[op]
    return total


def _brute_resilience(qs, member):
    nodes = qs.nodes
    for f in range(len(nodes) + 1):
        for dead in itertools.combinations(nodes, f):
            if not member(set(nodes) - set(dead)):
                return f - 1
    return len(nodes)


def trial(seed: int):
    rng = random.Random(seed)
    qs = _draw_system(rng)
    bad = []

    def fail(prop, detail):
        bad.append({"property": prop, "time": float("nan"), "nodes": tuple(qs.nodes),
                    "detail": f"seed {seed}, {qs!r}: {detail}"})

    reads, writes = qs.read_quorums(), qs.write_quorums()
    overlap = qs.overlap
    truly_valid = all(len(r & w) >= overlap for r in reads for w in writes)
    v = qs.is_valid()
    if bool(v) != truly_valid:
        fail("intersection", f"is_valid() said {bool(v)}, brute force {truly_valid}")
    elif not v and not (qs.is_read_quorum(v.read_quorum) and qs.is_write_quorum(v.write_quorum)
                        and len(v.read_quorum & v.write_quorum) < overlap):
        fail("intersection", f"reported pair {v.pair} is not a non-overlapping quorum pair")

    for name, got, member in (("read", qs.read_resilience(), qs.is_read_quorum),
                              ("write", qs.write_resilience(), qs.is_write_quorum)):
        want = _brute_resilience(qs, member)
        if got != want:
            fail("resilience", f"{name} resilience {got}, brute force {want}")

    p_of = {x: rng.uniform(0.0, 0.5) for x in qs.nodes}
    groups = {}
    if qs.n >= 2 and rng.random() < 0.4:
        shuffled = list(qs.nodes)
        rng.shuffle(shuffled)
        cut = rng.randint(1, qs.n - 1)
        groups = {"az1": (shuffled[:cut], rng.uniform(0, 0.3)),
                  "az2": (shuffled[cut:], rng.uniform(0, 0.3))}
    unavailable_seen = 0
    for op in ("read", "write", "both"):
        exact = qs.availability(p_of, op, groups=groups or None)
        u = qs.unavailability(p_of, op, groups=groups or None)
        want = _brute_availability(qs, p_of, groups, op)
        if abs(exact - want) > 1e-12 or abs(exact + u - 1) > 1e-12:
            fail("availability_exact", f"{op}: exact {exact!r} (+ unavailability {u!r}), "
                                       f"brute force {want!r}")
        est = qs.monte_carlo_availability(p_of, op, groups=groups or None, samples=4000,
                                          seed=seed, confidence=1 - 1e-6)
        if not est.covers(exact):
            fail("availability_monte_carlo", f"{op}: exact {exact:.6f} outside "
                                             f"[{est.low:.6f}, {est.high:.6f}]")
        unavailable_seen += est.samples - est.successes

    fr = rng.choice([0.0, 0.25, 0.5, 0.9, 1.0])
    listed = QuorumSystem(reads=reads, writes=writes, nodes=qs.nodes, unsafe=True)
    load, load_listed = qs.load(fr), listed.load(fr)
    bound = (fr * min(map(len, reads)) + (1 - fr) * min(map(len, writes))) / qs.n
    if abs(load - load_listed) > 1e-7 or load < bound - 1e-9:
        fail("load", f"load {load!r}, over listed quorums {load_listed!r}, lower bound {bound!r}")

    verdict = Verdict(PROPERTIES, bad)
    return verdict, {"invalid_system": int(not truly_valid), "valid_system": int(truly_valid),
                     "zones": int(bool(groups)), "unavailable_samples": unavailable_seen}


SOAKS = {
    "quorum-systems": Soak(
        trial=trial, runs=1000,
        sometimes=("invalid_system", "valid_system", "zones", "unavailable_samples"),
        description="random quorum systems: validity, resilience, exact and Monte Carlo "
                    "availability, LP load, each against brute force"),
}
