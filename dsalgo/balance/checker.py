"""``check(run)``: the safety properties of a serving-cluster run, checked on its history.

A load balancer has no agreement to keep, but a run of the model still promises things
that a bug would break, and they can be checked from ``run.history`` alone:

- ``causality`` — each request reaches its backend after it was sent
  (``t_enqueue >= t_invoke + 2 hop``), starts service after it arrived, and is answered
  at least ``hop`` after its service ended; an answered request names the backend that
  served it.  (``hop`` is the network's constant delay; 0 when delays vary.)
- ``fifo`` — each backend is a single FIFO server: service intervals on one backend never
  overlap, and requests start in the order they arrived.  Requests that arrived at the
  same instant may start in either order: a paused backend takes in everything sent to
  it during the pause when it resumes, all at the resume time (``t_enqueue``), in the
  order the messages reached it, which the history does not record (the network may
  have reordered them, so it need not be the order of ``op_id``).
- ``bounded_load`` (``consistent_hash_bounded``) — Mirrokni et al.'s invariant: when a
  request is placed, its backend is below the cap ``ceil((1 + epsilon) * (m + 1) / n)``,
  ``m`` being the requests outstanding at that moment (requests are not moved later, so
  after completions a backend may hold more than the new, smaller cap); and it is the *first* backend clockwise from the request's key that is below
  the cap (a balancer that spread overflow anywhere under the cap would keep the cap but
  lose the consistency that makes the ring worth having).
- ``work_conserving`` (``central_queue``) — no request waits while a backend is idle, at any
  instant of its wait (not only when it arrives).

The last two are properties of what the *balancer knows*; the history shows the truth, and
the two coincide only when the balancer's view is exact: one balancer, ``hop = 0``,
``info_delay = 0``, no faults or health checks.  Otherwise they are not checked (listed in
``verdict.info["skipped"]`` with the reason).

Each planted bug of :data:`~dsalgo.balance.BUGS` breaks one of these properties.  Runs
saved before ``run.params`` carried ``"family"`` (and before the history had ``t_end``,
when a service ended ``hop`` before its answer arrived) are checked the same way.
"""

from __future__ import annotations

import math

import numpy as np

from .. import sim
from ..check import Verdict

__all__ = ["check"]

_EPS = 1e-9


def _exact_view(run) -> str | None:
    """Why the balancer's view of the backends may differ from the truth (None if exact)."""
    p = run.params
    if p.get("balancers", 1) != 1:
        return "several balancers each know only their own requests"
    if p.get("hop", 0.0) is None:
        return "network delays vary: the balancer learns of completions late"
    if p.get("hop", 0.0) or p.get("info_delay", 0.0):
        return "hop or info_delay > 0: the balancer learns of completions late"
    if p.get("health_interval") is not None or len(run.faults):
        return "faults or health checks reset the balancer's counts"
    return None


def check(run) -> Verdict:
    """Check a :func:`~dsalgo.balance.simulate` run; a :class:`~dsalgo.check.Verdict` out.

    Parameters
    ----------
    run : dsalgo.sim.Run
        A run from :func:`dsalgo.balance.simulate` (its ``params`` say the policy and hops).

    Returns
    -------
    Verdict
        Properties ``causality`` and ``fifo`` always; ``bounded_load`` for
        ``consistent_hash_bounded`` and ``work_conserving`` for ``central_queue`` when the
        balancer's view is exact.  ``verdict.info`` holds counts (``requests``, ``answered``,
        ``redirected`` for bounded loads) and ``skipped``.

    Examples
    --------
    >>> from dsalgo import balance
    >>> run = balance.simulate(4, policy="consistent_hash_bounded", utilization=0.8,
    ...                        requests=2000, key_skew=1.2, seed=1)
    >>> v = balance.check(run)
    >>> print(v)
    All 3 properties hold: causality, fifo, bounded_load.
    >>> v.info["redirected"] > 0          # "sometimes": the cap really did send keys elsewhere
    True
    >>> bad = balance.check(balance.simulate(4, policy="consistent_hash_bounded",
    ...     utilization=0.8, requests=2000, key_skew=1.2, seed=1, bugs={"ignore_cap"}))
    >>> bad.holds("bounded_load"), bad.holds("fifo")     # the planted bug ignore_cap
    (False, True)
    """
    if not isinstance(run, sim.Run):
        raise TypeError(f"run must be a Run from balance.simulate; got {type(run).__name__}")
    h = run.history
    missing = [c for c in ("t_enqueue", "t_start", "backend") if c not in h.columns]
    if missing or "policy" not in run.params:
        raise ValueError(f"run must come from balance.simulate (its history needs t_enqueue, "
                         f"t_start, backend and its params a policy); missing "
                         f"{', '.join(missing) or 'params[policy]'}")
    hop = float(run.params.get("hop", 0.0) or 0.0)
    policy = run.params["policy"]
    backends = _backends(run)
    props, rows, info = ["causality", "fifo"], [], {"requests": len(h), "skipped": {}}
    info["answered"] = int((h["status"] == "ok").sum())
    rows += _causality(h, hop)
    rows += _fifo(h, hop)
    why = _exact_view(run)
    if policy == "consistent_hash_bounded":
        if why is None:
            props.append("bounded_load")
            found, info["redirected"] = _bounded_load(run, h, backends)
            rows += found
        else:
            info["skipped"]["bounded_load"] = why
    if policy == "central_queue":
        if why is None:
            props.append("work_conserving")
            rows += _work_conserving(h, backends)
        else:
            info["skipped"]["work_conserving"] = why
    return Verdict(props, rows, info=info)


def _backends(run) -> list[str]:
    if "n" in run.params:
        return sim.server_ids(int(run.params["n"]))
    return [b for b in run.nodes if b.startswith("n")]  # a run saved before "n" was recorded


def _service_end(h, hop):
    """When each request's service ended: ``t_end``, or (runs saved before it was
    recorded) a hop before the answer arrived."""
    if "t_end" in h.columns:
        return h["t_end"].to_numpy()
    return h["t_complete"].to_numpy() - hop


def _row(prop, time, nodes, detail):
    return {"property": prop, "time": float(time), "nodes": nodes, "detail": detail}


def _causality(h, hop):
    out = []
    t_inv, t_enq = h["t_invoke"].to_numpy(), h["t_enqueue"].to_numpy()
    t_start, t_done = h["t_start"].to_numpy(), h["t_complete"].to_numpy()
    backend = h["backend"].astype(object).to_numpy()
    ok = (h["status"] == "ok").to_numpy()
    result = h["result"].to_numpy()
    for k in np.flatnonzero(t_enq < t_inv + 2 * hop - _EPS):
        out.append(_row("causality", t_enq[k], backend[k],
                        f"request {k} reached its backend at {t_enq[k]:.6g} s, before it could "
                        f"(sent at {t_inv[k]:.6g} s, two hops of {hop:g} s)"))
    started = ~np.isnan(t_start)
    for k in np.flatnonzero(started & (t_start < t_enq - _EPS)):
        out.append(_row("causality", t_start[k], backend[k],
                        f"request {k} started at {t_start[k]:.6g} s before reaching its backend "
                        f"at {t_enq[k]:.6g} s"))
    for k in np.flatnonzero(ok & ~started):
        out.append(_row("causality", t_done[k], None,
                        f"request {k} was answered but never started service"))
    both = ok & started
    t_end = _service_end(h, hop)
    for k in np.flatnonzero(both & (t_done < np.maximum(t_start, t_end) + hop - _EPS)):
        out.append(_row("causality", t_done[k], backend[k],
                        f"request {k} was answered at {t_done[k]:.6g} s, less than a hop after "
                        f"its service ended at {max(t_start[k], t_end[k]):.6g} s"))
    for k in np.flatnonzero(both):
        if str(result[k]) != str(backend[k]):
            out.append(_row("causality", t_done[k], backend[k],
                            f"request {k} was served by {backend[k]} but the answer names "
                            f"{result[k]!r}"))
    return out


def _fifo(h, hop):
    out = []
    sub = h[h["t_start"].notna()].assign(_end=_service_end(h, hop)[h["t_start"].notna()])
    for b, g in sub.groupby(sub["backend"].astype(str), sort=True):
        g = g.sort_values(["t_enqueue", "op_id"], kind="stable")
        starts = g["t_start"].to_numpy()
        ops = g["op_id"].to_numpy()
        # requests that reached the backend at one instant (within _EPS) form a group: a
        # paused backend receives everything sent to it during the pause at its resume, in
        # an order the history does not record, so FIFO orders only the groups
        first = np.flatnonzero(np.r_[True, np.diff(g["t_enqueue"].to_numpy()) > _EPS])
        latest = np.maximum.reduceat(starts, first)       # of each group
        earliest = np.minimum.reduceat(starts, first)
        for i in np.flatnonzero(earliest[1:] < latest[:-1] - _EPS):
            lo, mid = first[i], first[i + 1]
            hi = first[i + 2] if i + 2 < len(first) else len(starts)
            k = lo + int(np.argmax(starts[lo:mid]))       # earlier arrival, started last
            j = mid + int(np.argmin(starts[mid:hi]))      # later arrival, started first
            out.append(_row("fifo", starts[j], b,
                            f"request {ops[j]} started before request {ops[k]}, which "
                            f"reached {b} earlier"))
        done = g.dropna(subset=["_end"]).sort_values("t_start", kind="stable")
        s, e = done["t_start"].to_numpy(), done["_end"].to_numpy()
        ops = done["op_id"].to_numpy()
        for k in np.flatnonzero(s[1:] < e[:-1] - _EPS):
            out.append(_row("fifo", s[k + 1], b,
                            f"request {ops[k + 1]} started at {s[k + 1]:.6g} s while request "
                            f"{ops[k]} was still in service until {e[k]:.6g} s"))
    return out


def _sweep(h):
    """Placement and completion events in time order: (time, kind, op, backend).

    ``kind`` 0 = a completion (the balancer hears ``Done``), 1 = a placement; at equal
    times a completion is taken first, as an exact balancer would have counted it.
    """
    ev = []
    placed = h[h["backend"].notna()]
    for op, t, b in zip(placed["op_id"], placed["t_enqueue"], placed["backend"].astype(str)):
        ev.append((float(t), 1, int(op), b))
    done = placed[placed["t_complete"].notna()]
    for op, t, b in zip(done["op_id"], done["t_complete"], done["backend"].astype(str)):
        ev.append((float(t), 0, int(op), b))
    ev.sort()
    return ev


def _bounded_load(run, h, backends):
    from .hashing import ConsistentHashRing

    p = run.params
    eps = float(p["epsilon"])
    ring = ConsistentHashRing(backends, vnodes=int(p["vnodes"]),
                              seed=int(p.get("ring_seed", run.seed)))
    key_of = dict(zip(h["op_id"], h["key"]))
    load = dict.fromkeys(backends, 0)
    total, out, redirected = 0, [], 0
    for t, kind, op, b in _sweep(h):
        if kind == 0:
            load[b] -= 1
            total -= 1
            continue
        cap = max(1, math.ceil((1.0 + eps) * (total + 1) / len(backends) - 1e-9))
        if load[b] >= cap:
            out.append(_row("bounded_load", t, b,
                            f"request {op} was placed on {b} holding {load[b]} requests, at "
                            f"the cap ceil((1 + {eps:g}) * {total + 1} / {len(backends)}) = {cap}"))
        else:
            # the cap held; was b also the ring's choice, the first backend with room?
            first = ring.lookup_bounded(key_of[op], load, eps)
            if first != b:
                out.append(_row("bounded_load", t, b,
                                f"request {op} (key {key_of[op]!r}) was placed on {b}, but the "
                                f"first backend clockwise from its key below the cap {cap} "
                                f"was {first}"))
        if ring.lookup(key_of[op]) != b:
            redirected += 1
        load[b] += 1
        total += 1
    return out, redirected


def _work_conserving(h, backends):
    """No request waits while a backend is idle, at any instant of its wait.

    Sweeps arrivals, placements and completions in time order; after all events at one
    instant, a request still waiting (arrived, not yet placed) and a backend with nothing
    placed on it are a violation.  Checking only at arrivals would miss a backend that
    goes idle in the middle of a wait."""
    busy = dict.fromkeys(backends, 0)
    out = []
    placed = h[h["t_enqueue"].notna()]
    ev = list(_sweep(h))
    ev += [(float(t), 2, int(op), None)
           for op, t in zip(placed["op_id"], placed["t_invoke"])]      # arrivals
    # at one instant: completions, then arrivals, then placements (an arrival placed at
    # once never waited)
    ev.sort(key=lambda e: (e[0], (0, 2, 1)[e[1]], e[2]))
    waiting = {}                       # op -> arrival time, until it is placed
    done = set()                       # ops placed (an arrival after that never waited)
    reported = set()
    j = 0
    while j < len(ev):
        t = ev[j][0]
        while j < len(ev) and ev[j][0] <= t + _EPS:
            _, kind, op, b = ev[j]
            if kind == 0:
                busy[b] -= 1
            elif kind == 1:
                busy[b] += 1
                waiting.pop(op, None)
                done.add(op)
            elif op not in done:
                waiting[op] = t
            j += 1
        if waiting:
            idle = [b for b in backends if busy[b] == 0]
            if idle:
                op = min(waiting, key=lambda o: (waiting[o], o))
                if op not in reported:
                    reported.add(op)
                    out.append(_row("work_conserving", t, tuple(idle),
                                    f"request {op} (arrived at {waiting[op]:.6g} s) was "
                                    f"still waiting at {t:.6g} s while {', '.join(idle)} "
                                    f"stood idle"))
    return out
