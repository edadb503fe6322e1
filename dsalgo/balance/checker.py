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
- ``least_loaded`` (``least_outstanding``, ``jsq``) — each request is placed on a backend
  holding the fewest requests at that moment (placed there and not yet finished; a
  completion at the very instant of the placement may count either way).

These three are properties of what the *balancer knows*; the history shows the truth, and
the two coincide only when the balancer's view is exact: one balancer, ``hop = 0``,
``info_delay = 0``, no faults or health checks.  Otherwise they are not checked (listed in
``verdict.info["skipped"]`` with the reason).

And one progress property (kind ``"progress"``, judged under a fairness condition):

- ``request_progress`` — once the faults are over, no request is lost.  The **fairness
  condition** (from ``t_fair``, :func:`~dsalgo.check.verdict.fair_from` over the
  backends): every partition has healed and every pause and every crash that ends in a
  restart is over; the client and every balancer are up (none crashed for good); at least
  one backend is up with health checks, every backend without them (a balancer without
  health checks keeps sending to a dead backend); the network drops nothing for the whole
  run and its delay is a constant ``hop``.  Judged requests: those issued at or after
  ``t_fair + settle``, where ``settle = 2 health_interval + 2 hop + info_delay`` (0
  without health checks) is the time the balancers need to take a backend crashed for
  good out of rotation (it misses at most two probes) and to bring every live backend
  back (it answers the next probe); and, with health checks, those that reached the
  balancers while no backend was up in any balancer's view and were still held at
  ``t_fair`` (the view stayed empty until then; the client was cut off from no balancer
  when it sent them, no balancer was paused then or crashed while holding them, and the
  client did not crash after sending them).  Requests lost earlier (a crash, a partition,
  a balancer that sent to a backend it did not yet know was dead) are not judged.
  Each judged request is answered, or starts service, or is provably still queued at a
  backend: it is a violation when it never started service yet *every live backend*
  (not crashed for good) stood idle at some instant after the request would have reached
  one — a FIFO backend holding a request is busy until it starts it, so the request is
  nowhere.  No latency bound is asserted (open-loop Poisson arrivals queue for unbounded
  times, and a client ``timeout`` only stops the client waiting), so requests the client
  gave up on count as answered once they started service.  For ``central_queue``, which
  holds requests while it believes every backend busy, a request counts as placed a hop
  and ``info_delay`` after some live backend went idle for longer than ``2 hop +
  info_delay``; and the property is judged only when no backend crashed and no
  partition cut a backend from a balancer, since the completion notices such a fault
  loses leave the balancer believing the backend busy for ever (a limit of the model:
  counts are reset only when health checks take the backend out of rotation).  When the
  condition never holds, ``verdict.info["progress"]`` says why.

Each planted bug of :data:`~dsalgo.balance.BUGS` breaks one of these properties.  Runs
saved before ``run.params`` carried ``"family"`` (and before the history had ``t_end``,
when a service ended ``hop`` before its answer arrived) are checked the same way.
"""

from __future__ import annotations

import math

import numpy as np

from .. import sim
from ..check import Verdict
from ..check.verdict import fair_from

__all__ = ["KINDS", "PROGRESS", "PROPERTIES", "check"]

#: The progress property (judged under the fairness condition above).
PROGRESS = "request_progress"
#: Every property :func:`check` may judge, in the order it lists them (``bounded_load``,
#: ``work_conserving`` and ``least_loaded`` only for their policies under an exact view).
PROPERTIES = ["causality", "fifo", "bounded_load", "work_conserving", "least_loaded",
              PROGRESS]
#: Property -> ``"safety"`` or ``"progress"`` (:data:`dsalgo.check.KINDS`).
KINDS = {p: "progress" if p == PROGRESS else "safety" for p in PROPERTIES}

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
        ``consistent_hash_bounded``, ``work_conserving`` for ``central_queue`` and
        ``least_loaded`` for ``least_outstanding`` and ``jsq`` when the balancer's view
        is exact; ``request_progress`` (kind ``"progress"``) always, judged when the
        fairness condition holds.  ``verdict.info`` holds counts (``requests``,
        ``answered``, ``redirected`` for bounded loads), ``skipped``,
        ``request_progress`` (``judged``, ``t_fair``, ``settle``, ``requests_judged``,
        ``held_judged``, ``why`` when not judged) and ``progress`` (why it was not judged).

    Examples
    --------
    >>> from dsalgo import balance, sim
    >>> run = balance.simulate(4, policy="consistent_hash_bounded", utilization=0.8,
    ...                        requests=2000, key_skew=1.2, seed=1)
    >>> v = balance.check(run)
    >>> print(v)
    All 4 properties hold: causality, fifo, bounded_load, request_progress.
    >>> v.info["redirected"] > 0          # "sometimes": the cap really did send keys elsewhere
    True
    >>> v.kinds["request_progress"], v.info["request_progress"]["requests_judged"]
    ('progress', 2000)
    >>> bad = balance.check(balance.simulate(4, policy="consistent_hash_bounded",
    ...     utilization=0.8, requests=2000, key_skew=1.2, seed=1, bugs={"ignore_cap"}))
    >>> bad.holds("bounded_load"), bad.holds("fifo")     # the planted bug ignore_cap
    (False, True)

    A backend crashed for good while health checks run: requests issued once the
    balancer has taken it out of rotation are all answered.

    >>> run = balance.simulate(4, policy="least_outstanding", requests=400, seed=3,
    ...                        health_interval=0.5, faults=[sim.Crash("n2", at=10.0)])
    >>> v = balance.check(run)
    >>> print(v)
    All 3 properties hold: causality, fifo, request_progress.
    >>> r = v.info["request_progress"]
    >>> r["t_fair"], r["settle"], v.info["skipped"]["least_loaded"][:20]
    (10.0, 1.0, 'faults or health che')
    """
    if not isinstance(run, sim.Run):
        raise TypeError(f"run must be a Run from balance.simulate; got {type(run).__name__}")
    h = run.history
    missing = [c for c in ("t_enqueue", "t_start", "backend") if c not in h.columns]
    if missing or "policy" not in run.params:
        raise ValueError(f"run must come from balance.simulate (its history needs t_enqueue, "
                         f"t_start, backend and its params a policy); missing "
                         f"{', '.join(missing) or 'params[policy]'}")
    hop_or_none = run.params.get("hop", 0.0)
    hop = float(hop_or_none or 0.0)
    hop_or_none = None if hop_or_none is None else hop
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
            rows += _work_conserving(run, h, backends)
        else:
            info["skipped"]["work_conserving"] = why
    if policy in ("least_outstanding", "jsq"):
        if why is None:
            props.append("least_loaded")
            rows += _least_loaded(run, h, backends)
        else:
            info["skipped"]["least_loaded"] = why
    props.append("request_progress")
    found, info["request_progress"] = _request_progress(run, h, hop_or_none, backends,
                                                        policy)
    rows += found
    if not info["request_progress"]["judged"]:
        info["progress"] = f"request_progress not judged: {info['request_progress']['why']}"
    return Verdict(props, rows, info=info, kinds={"request_progress": "progress"})


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


def _service_ends(run) -> dict:
    """When each request's service ended, from its ``start`` event: ``t_start +
    service`` (the history's ``t_end`` is missing for a request the client gave up on,
    whose service still ran to its end).  Empty for runs whose events lack ``service``."""
    ev = run.events
    if not len(ev) or "service" not in ev.columns:
        return {}
    st = ev[ev["kind"].astype(str) == "start"].drop_duplicates("op")
    return dict(zip(st["op"].astype(int), (st["time"] + st["service"]).astype(float)))


def _unseen_from(h) -> float:
    """From when placements may be missing from the history: the arrival of the first
    request that never started service (it reached a backend the history does not name,
    unless the balancer still held it); infinity if every request started."""
    unstarted = h.loc[h["t_start"].isna(), "t_invoke"]
    return float(unstarted.min()) if len(unstarted) else math.inf


def _sweep(h, ends=None, horizon: float = math.inf):
    """Placement and completion events in time order: (time, kind, op, backend).

    ``kind`` 0 = a completion (the balancer hears ``Done``), 1 = a placement; at equal
    times a completion is taken first, as an exact balancer would have counted it.  A
    completion is the end of the request's service (``ends``, see :func:`_service_ends`),
    else, for a request without a ``start`` event's service, its answer (``t_complete``,
    which for a request the client gave up on is the time it gave up, not the end of its
    service).  Only placements before ``horizon`` are listed.
    """
    ends = ends or {}
    ev = []
    placed = h[h["backend"].notna() & (h["t_enqueue"] < horizon)]
    for op, t, b, tc in zip(placed["op_id"], placed["t_enqueue"],
                            placed["backend"].astype(str), placed["t_complete"]):
        ev.append((float(t), 1, int(op), b))
        end = ends.get(int(op), tc)
        if end == end:                                   # not NaN
            ev.append((float(end), 0, int(op), b))
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
    for t, kind, op, b in _sweep(h, _service_ends(run), _unseen_from(h)):
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


def _work_conserving(run, h, backends):
    """No request waits while a backend is idle, at any instant of its wait.

    Sweeps arrivals, placements and completions in time order; after all events at one
    instant, a request still waiting (arrived, not yet placed) and a backend with nothing
    placed on it are a violation.  Checking only at arrivals would miss a backend that
    goes idle in the middle of a wait."""
    busy = dict.fromkeys(backends, 0)
    out = []
    placed = h[h["t_enqueue"].notna()]
    ev = list(_sweep(h, _service_ends(run)))
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


# ------------------------------------------------------------------ request_progress
def _network_why(run) -> str | None:
    """Why the network is not fault-free for the whole run (None if it is)."""
    import re
    text = str(run.params.get("network", ""))
    drops = [float(x) for x in re.findall(r"drop_rate=([0-9.eE+-]+)", text)]
    if any(d > 0 for d in drops):
        return "the network drops messages for the whole run (loss never heals)"
    if "link overrides" in text:
        return "links have settings of their own (slow or lossy links) the run does not record"
    return None


def _partition_groups(target: str):
    """``(groups, one_way)`` of a partition's ``target`` (``"a,b | c"`` or ``"a -> b"``)."""
    one_way = " -> " in target
    parts = target.split(" -> " if one_way else " | ")
    return [set(p.split(",")) for p in parts], one_way


def _cut(faults, src: str, dst: str, t: float) -> bool:
    """Whether a partition in force at ``t`` blocks ``src -> dst``."""
    for kind, target, start, end in faults:
        if kind != "partition" or not (start <= t and (math.isnan(end) or t < end)):
            continue
        groups, one_way = _partition_groups(str(target))
        gi = [i for i, g in enumerate(groups) if src in g]
        gj = [j for j, g in enumerate(groups) if dst in g]
        if gi and gj and gi[0] != gj[0] and (not one_way or gi[0] < gj[0]):
            return True
    return False


def _down_during(faults, node: str, lo: float, hi: float, kinds=("crash", "pause")) -> bool:
    """Whether ``node`` was crashed or paused at some instant of ``[lo, hi]``."""
    for kind, target, start, end in faults:
        if kind in kinds and str(target) == node and start <= hi and (
                math.isnan(end) or end > lo):
            return True
    return False


def _busy(run, backends, faults):
    """Per backend, the maximal intervals in which it was serving: the union of
    ``[t_start, t_start + service]`` of its ``start`` events, each stretched by the
    length of any pause of the backend that began before it ended (a paused service
    resumes with the node).  A crash may have cut a service short, so this over-states
    the busy time, never the idle time."""
    ev = run.events
    out = {b: [] for b in backends}
    if not len(ev):
        return out
    pauses = {}
    for kind, target, start, end in faults:
        if kind == "pause":
            pauses.setdefault(target, []).append((start, end))
    st = ev[ev["kind"].astype(str) == "start"]
    for b, g in st.groupby(st["node"].astype(str), sort=False):
        if b not in out:
            continue
        s = g["time"].to_numpy(dtype=float)
        e = s + g["service"].to_numpy(dtype=float)
        for ps, pe in sorted(pauses.get(b, ())):
            hit = (ps < e) & (pe > s)
            e = np.where(hit, e + (pe - np.maximum(ps, s)), e)
        order = np.argsort(s, kind="stable")
        merged = []
        for lo, hi in zip(s[order], e[order]):
            if merged and lo <= merged[-1][1] + _EPS:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        out[b] = merged
    return out


def _idle_gaps(busy, until):
    """The idle intervals ``(start, end)`` between ``0`` and ``until`` of one backend."""
    gaps, t = [], 0.0
    for lo, hi in busy:
        if lo > t:
            gaps.append((t, lo))
        t = max(t, hi)
    if until > t:
        gaps.append((t, until))
    return gaps


def _first_idle(gaps, t: float, longer: float):
    """The first instant ``x >= t`` from which the backend stays idle for more than
    ``longer`` seconds (None if there is none before the run ends)."""
    for lo, hi in gaps:
        x = max(lo, t)
        if hi - x > longer:
            return x
    return None


def _request_progress(run, h, hop, backends, policy):
    """``request_progress``: violations and the info dict (see :func:`check`)."""
    p = run.params
    hi = p.get("health_interval")
    info_delay = float(p.get("info_delay", 0.0) or 0.0)
    lbs = [f"lb{i}" for i in range(1, int(p.get("balancers", 1)) + 1)]
    clients = sorted({str(c) for c in h["process"]}) if len(h) else ["c1"]
    f = run.faults
    faults = list(zip(f["kind"].astype(str), f["target"].astype(str),
                      f["t_start"].astype(float), f["t_end"].astype(float)))
    info = {"judged": False, "t_fair": None, "settle": None, "requests_judged": 0,
            "held_judged": 0}
    holding = policy == "central_queue"
    why = None
    if hop is None:
        why = "network delays vary: no bound on when a request reaches a backend"
    else:
        why = _network_why(run)
    gone = sorted({t for k, t, _s, e in faults if k == "crash" and math.isnan(e)})
    if why is None and set(gone) & (set(lbs) | set(clients)):
        why = f"{', '.join(sorted(set(gone) & (set(lbs) | set(clients))))} crashed for good"
    need = 1 if hi is not None else len(backends)
    t_fair = None
    if why is None:
        t_fair = fair_from(f, backends, need, run.until)
        if t_fair is None:
            why = ("the fairness condition never held (a fault that never ends, "
                   + ("every backend down for good)" if hi is not None else
                      "or a backend down for good without health checks to take it out)"))
    if why is None and holding:
        for k, target, _s, _e in faults:
            if k == "crash" and target in backends:
                why = (f"central_queue trusts completion notices, and the crash of {target} "
                       f"lost some: the balancer may believe it busy for ever")
                break
            if k == "partition":
                groups, _one = _partition_groups(target)
                side = [i for i, g in enumerate(groups) for lb in lbs if lb in g]
                if any(b in g and any(j != i for j in side)
                       for i, g in enumerate(groups) for b in backends):
                    why = ("central_queue trusts completion notices, and a partition "
                           "between a backend and the balancer may have lost some: the "
                           "balancer may believe the backend busy for ever")
                    break
    if why is not None:
        info["why"] = why
        return [], info
    rtt = 2 * hop + info_delay
    settle = 0.0 if hi is None else 2 * float(hi) + rtt
    info.update(judged=True, t_fair=float(t_fair), settle=settle)
    until = run.until
    alive = [b for b in backends if b not in gone]
    busy = _busy(run, backends, faults)
    gaps = {b: _idle_gaps(busy[b], until) for b in alive}
    lost = (h["status"] != "ok").to_numpy() & h["t_start"].isna().to_numpy()
    t_inv = h["t_invoke"].to_numpy(dtype=float)
    info["requests_judged"] = int((t_inv >= t_fair + settle).sum())
    # held at fairness: the balancers' views of which backends are up
    empty = _empty_views(run, lbs, backends, faults) if hi is not None else {}
    rows = []
    longer = 2 * hop + info_delay + 1e-6
    for op, t, gone_ in zip(h["op_id"], t_inv, lost):
        if not gone_ and (t >= t_fair + settle or not empty):
            continue          # answered or started, and nothing to count
        at_lb = t + hop
        reach = None
        if t >= t_fair + settle:
            reach = at_lb
            how = (f"issued at t={t:.6g}s, after every fault had healed at t={t_fair:.6g}s"
                   + (f" and {settle:.6g}s of health checks" if settle else ""))
        elif empty:
            up_at, released = _held_until(empty, at_lb)
            client = clients[0] if len(clients) == 1 else None
            if (up_at is not None and up_at >= t_fair and client is not None
                    and not any(_cut(faults, client, lb, t) or _cut(faults, client, lb, at_lb)
                                for lb in lbs)
                    and not _down_during(faults, client, t, until, ("crash",))
                    and not _down_during(faults, client, t, t)
                    and not any(_down_during(faults, lb, at_lb, at_lb)
                                or _down_during(faults, lb, at_lb, up_at, ("crash",))
                                for lb in lbs)):
                info["held_judged"] += 1
                if not gone_:
                    continue
                # the correct balancer gets a backend back within a probe and its round
                # trip of the heal (settle covers it): it holds them no longer
                reach = min(released, t_fair + settle)
                back = (f"until one came back at t={released:.6g}s" if released < math.inf
                        else "and none came back")
                how = (f"issued at t={t:.6g}s while no backend was up in the balancer's "
                       f"view, {back}, after every fault had healed at t={t_fair:.6g}s")
        if reach is None:
            continue
        if holding:
            # held while every backend is busy: placed at the latest a hop and the
            # notice's delay after some backend goes idle for longer than that
            after = max(reach, t_fair + settle)
            firsts = [x for b in alive
                      if (x := _first_idle(gaps[b], after, longer)) is not None]
            if not firsts:
                continue
            placed = min(firsts) + rtt
        else:
            placed = reach + hop
        idle = {b: _first_idle(gaps[b], placed, 1e-6) for b in alive}
        if any(x is None for x in idle.values()):
            continue      # a backend busy to the end of the run may still hold it
        when = max(idle.values())
        shown = ", ".join(f"{b} at t={x:.6g}s" for b, x in idle.items())
        rows.append(_row("request_progress", when, tuple(alive),
                         f"request {op} ({how}) was never answered: it never started "
                         f"service, yet every live backend stood idle after it could have "
                         f"reached one ({shown})"))
    return rows, info


def _empty_views(run, lbs, backends, faults):
    """Per balancer, the intervals ``[lo, hi)`` in which its view had no backend up (from
    its ``backend_down`` / ``backend_up`` events; a restart starts with every backend up,
    a crash ends an interval)."""
    ev = run.events
    out = {lb: [] for lb in lbs}
    if not len(ev):
        return out
    kinds = ev["kind"].astype(str)
    sel = ev[kinds.isin(["backend_down", "backend_up", "crash", "restart"])
             & ev["node"].astype(str).isin(lbs)]
    for lb in lbs:
        g = sel[sel["node"].astype(str) == lb]
        named = g["backend"] if "backend" in g.columns else [None] * len(g)
        up, since = set(backends), None
        for t, kind, b in zip(g["time"].astype(float), g["kind"].astype(str), named):
            if kind == "backend_down":
                up.discard(str(b))
            elif kind == "backend_up":
                up.add(str(b))
            elif kind == "crash":
                if since is not None:
                    out[lb].append((since, t))
                up, since = set(), None
                continue
            else:                      # restart: a fresh view, every backend up
                up = set(backends)
            if not up and since is None:
                since = t
            elif up and since is not None:
                out[lb].append((since, t))
                since = None
        if since is not None:
            out[lb].append((since, math.inf))
    return out


def _held_until(empty, t: float):
    """If every balancer's view was empty at ``t`` (strictly inside one of its intervals):
    when the first and the last of them got a backend back; else ``(None, None)``."""
    ends = []
    for intervals in empty.values():
        inside = [hi for lo, hi in intervals if lo + _EPS < t < hi - _EPS]
        if not inside:
            return None, None
        ends.append(inside[0])
    return min(ends), max(ends)


# ------------------------------------------------------------------ least_loaded
def _least_loaded(run, h, backends):
    """Each request placed on a backend holding the fewest requests at that moment.

    Under an exact view (one balancer, ``hop = 0``, no delays, faults or health checks)
    a request reaches its backend the instant it is placed, and the balancer's count of a
    backend's requests (``least_outstanding``: sent, not yet done; ``jsq``: the queue
    length it reported) is the number placed there and not yet finished.  A service ends
    at ``t_start + service`` (the ``start`` events; the history's ``t_end`` is missing for
    requests the client gave up on).  A request that never started reached a backend the
    history does not name, so placements are judged only before the first of those.
    Completions at the very instant of a placement may count either way.
    """
    evs = _sweep(h, _service_ends(run), _unseen_from(h))
    load = dict.fromkeys(backends, 0)
    out = []
    i = 0
    while i < len(evs):
        t, kind, op, b = evs[i]
        if kind == 0:
            load[b] -= 1
            i += 1
            continue
        # completions within _EPS after t may have been heard first
        soon = dict.fromkeys(backends, 0)
        j = i + 1
        while j < len(evs) and evs[j][0] <= t + _EPS:
            if evs[j][1] == 0:
                soon[evs[j][3]] += 1
            j += 1
        # completions within _EPS before t may not have been heard yet
        late = dict.fromkeys(backends, 0)
        k = i - 1
        while k >= 0 and evs[k][0] >= t - _EPS:
            if evs[k][1] == 0:
                late[evs[k][3]] += 1
            k -= 1
        mine = load[b] - soon[b]
        fewest, other = min(((load[c] + late[c], c) for c in backends if c != b),
                            default=(math.inf, None))
        if mine > fewest:
            out.append(_row("least_loaded", t, (b, other),
                            f"request {op} was placed on {b} holding {load[b]} requests "
                            f"while {other} held {load[other]}"))
        load[b] += 1
        i += 1
    return out
