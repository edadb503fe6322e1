"""``simulate``: build a Paxos cluster on the simulator, run it, return the tables.

One function for the family: ``variant="single"`` runs single-decree Paxos with
``proposers`` competing proposers; ``variant="multi"`` runs the Multi-Paxos key-value
store with ``clients`` workload clients.  Flexible Paxos is either variant with phase-1
and phase-2 quorums given by ``q1`` and ``q2``.
"""

from __future__ import annotations

from itertools import combinations

from dsalgo import quorum, sim
from dsalgo._validate import check_bool, check_choice, check_int, check_number, check_range

from .client import PaxosClient
from .multi import MultiPaxosNode
from .quorums import Quorums, intersecting
from .single import SingleDecreeNode

__all__ = ["BUGS", "VARIANTS", "phase2_spec", "resolve_quorums", "simulate"]

#: The deliberate defects ``bugs=`` accepts.
BUGS = ("acceptor_forgets_promise", "ignore_accepted_value", "duplicate_ballots")
VARIANTS = ("single", "multi")


def _is_system(q) -> bool:
    return hasattr(q, "is_read_quorum") and hasattr(q, "is_write_quorum")


def _size(name, q, n):
    if q is None or _is_system(q):
        return q
    if isinstance(q, bool) or not isinstance(q, int):
        raise TypeError(f"{name} must be a quorum size (int) or a quorum system with "
                        f"is_read_quorum/is_write_quorum (e.g. dsalgo.quorum.grid(2, 3)); "
                        f"got {q!r} of type {type(q).__name__}")
    return check_int(name, q, low=1, high=n)


def resolve_quorums(n: int, q1=None, q2=None, *, unsafe: bool = False) -> Quorums:
    """The phase-1/phase-2 quorums of ``n`` servers from sizes or quorum systems.

    Parameters
    ----------
    n : int
        Number of servers ``n1…nN``.
    q1, q2 : int or quorum system, optional
        Phase-1 and phase-2 quorums: a size (any ``q`` servers), or an object with
        ``is_read_quorum`` / ``is_write_quorum`` (its read quorums serve phase 1, its write
        quorums phase 2).  Both omitted: majorities.  One size given: the other is the
        smallest that meets it, ``n - q + 1``.  One system given: both phases from it.
    unsafe : bool
        Accept phase-1 and phase-2 quorums that need not intersect (to watch Paxos break).

    Returns
    -------
    Quorums

    Examples
    --------
    >>> resolve_quorums(5, q2=2)
    Quorums(<QuorumSystem flexible(n=5, q1=4, q2=2): reads = any 4 of 5, writes = any 2 of 5 over 5 nodes>)
    >>> resolve_quorums(4, 2, 2)
    Traceback (most recent call last):
    ...
    ValueError: q1=2 and q2=2 do not intersect for n=4: need q1 + q2 > n so that every phase-1 quorum meets every phase-2 quorum; pass unsafe=True to study the failure
    """
    n = check_int("n", n, low=1)
    check_bool("unsafe", unsafe)
    q1, q2 = _size("q1", q1, n), _size("q2", q2, n)
    servers = [f"n{i}" for i in range(1, n + 1)]
    for name, q in (("q1", q1), ("q2", q2)):
        if _is_system(q) and hasattr(q, "nodes") and list(q.nodes) != servers:
            raise ValueError(f"{name} must be a quorum system over the servers "
                             f"{', '.join(servers)}; got one over {', '.join(map(str, q.nodes))}")
    if q1 is None and q2 is None:
        return Quorums(quorum.majority(n))
    if q2 is None and _is_system(q1):
        read = write = q1
    elif q1 is None and _is_system(q2):
        read = write = q2
    else:
        if q1 is None:
            q1 = n - q2 + 1      # the smallest phase-1 quorum that meets every q2 one
        if q2 is None:
            q2 = n - q1 + 1
        if isinstance(q1, int) and isinstance(q2, int):
            if q1 + q2 <= n and not unsafe:
                raise ValueError(
                    f"q1={q1} and q2={q2} do not intersect for n={n}: need q1 + q2 > n so "
                    f"that every phase-1 quorum meets every phase-2 quorum; pass "
                    f"unsafe=True to study the failure")
            read = write = quorum.flexible(n, q1, q2, unsafe=True)
        else:  # a size on one side, a system on the other
            read = q1 if _is_system(q1) else quorum.threshold(n, q1, n - q1 + 1)
            write = q2 if _is_system(q2) else quorum.threshold(n, n - q2 + 1, q2)
    pair = Quorums(read, write)
    ok = bool(read.is_valid()) if read is write and hasattr(read, "is_valid") \
        else intersecting(pair, servers)
    if not ok and not unsafe:
        raise ValueError(f"q1={q1!r} and q2={q2!r} do not intersect: some phase-1 quorum misses "
                         f"some phase-2 quorum, so two values could be chosen; pass "
                         f"unsafe=True to study the failure")
    return pair


def _bugs(bugs):
    if isinstance(bugs, str) or not hasattr(bugs, "__iter__"):
        raise TypeError(f"bugs must be a collection of bug names (a set, list or tuple); got "
                        f"{bugs!r}")
    out = set()
    for b in bugs:
        check_choice("bugs item", b, BUGS)
        out.add(b)
    return frozenset(out)


def simulate(n: int = 3, *, variant: str = "multi", seed: int = 0, duration: float = 2.0,
             network=None, faults=(), proposers: int = 2, clients: int = 3, q1=None, q2=None,
             unsafe: bool = False, bugs=(), backoff=(0.0, 0.02), retry_timeout: float = 0.1,
             heartbeat_interval: float = 0.05, election_timeout=(0.15, 0.3), window: int = 8,
             keys: int = 3, mix=None, client_mode: str = "closed", concurrency: int = 1,
             rate: float | None = None, client_timeout: float = 1.0,
             retry_interval: float = 0.1, max_ops: int | None = None,
             record_messages: bool = True, progress: bool = False) -> sim.Run:
    """Run single-decree Paxos or the Multi-Paxos key-value store and return the run.

    Parameters
    ----------
    n : int
        Number of servers ``n1…nN`` (acceptors and learners; Multi-Paxos replicas).
    variant : {"single", "multi"}
        Single-decree Paxos, or Multi-Paxos with a replicated key-value store.
    seed : int
        Same seed, same tables.
    duration : float
        Simulated seconds to run.
    network : dsalgo.sim.Network, optional
        Default: exponential latency with mean 5 ms, no loss.
    faults : iterable of dsalgo.sim faults
        Crashes, partitions, a ``Nemesis``, ...
    proposers : int
        Single-decree: the first ``proposers`` servers each propose their own value
        ``"v1"``, ``"v2"``, ...
    clients : int
        Multi-Paxos: key-value clients ``c1…``.
    q1, q2 : int or quorum system, optional
        Phase-1 and phase-2 quorums (see :func:`resolve_quorums`); default majorities.
    unsafe : bool
        Allow phase-1 and phase-2 quorums that do not intersect.
    bugs : collection of str
        Deliberate defects to plant (see ``BUGS``), to watch :func:`check` catch them.
    backoff : (float, float)
        Single-decree: the random wait after a proposer is preempted, seconds.
    retry_timeout : float
        Single-decree: seconds a proposer waits for a quorum before a higher ballot.
    heartbeat_interval : float
        Multi-Paxos: seconds between leader heartbeats.
    election_timeout : (float, float)
        Multi-Paxos: range of the silence after which a follower takes over, seconds.
    window : int
        Multi-Paxos: most slots in flight at the leader.
    keys, mix : int, dict
        The :class:`dsalgo.sim.KVWorkload`: number of keys, weights of put/get/cas.
    client_mode, concurrency, rate, client_timeout : see :class:`dsalgo.sim.Client`
        ``client_mode`` is ``"closed"`` or ``"open"`` (needs ``rate``, ops/s per client).
    retry_interval : float
        Seconds a client waits before re-sending a request to the next server.
    max_ops : int, optional
        Operations each client issues before it stops (default: until the run ends).
    record_messages : bool
        Keep ``run.messages`` (turn off for faster sweeps).
    progress : bool
        Show a progress bar (``tqdm``) over simulated time while it runs.

    Returns
    -------
    dsalgo.sim.Run
        ``run.params`` records every argument, and ``q2_spec``: the phase-2 quorums as
        plain data (:func:`phase2_spec`), so :func:`dsalgo.paxos.check` can tell which
        values acceptor quorums chose from the saved tables alone.

    Examples
    --------
    >>> from dsalgo import paxos
    >>> run = paxos.simulate(3, variant="single", seed=1, duration=1.0)
    >>> sorted(set(run.events.loc[run.events.kind == "decided", "value"]))
    ['v2']
    >>> run = paxos.simulate(5, seed=1, duration=1.0, clients=2)
    >>> bool(paxos.check(run)), bool((run.history.status == "ok").sum() > 50)
    (True, True)
    """
    n = check_int("n", n, low=1)
    variant = check_choice("variant", variant, VARIANTS)
    seed = check_int("seed", seed)
    duration = check_number("duration", duration, low=0.0, low_open=True)
    proposers = check_int("proposers", proposers, low=1, high=n)
    clients = check_int("clients", clients, low=0)
    check_bool("unsafe", unsafe)
    bugs = _bugs(bugs)
    backoff = check_range("backoff", backoff)
    retry_timeout = check_number("retry_timeout", retry_timeout, low=0.0, low_open=True)
    heartbeat_interval = check_number("heartbeat_interval", heartbeat_interval, low=0.0,
                                      low_open=True)
    election_timeout = check_range("election_timeout", election_timeout, low=0.0, low_open=True)
    if variant == "multi" and heartbeat_interval >= election_timeout[0]:
        raise ValueError(f"heartbeat_interval must be shorter than the smallest election "
                         f"timeout {election_timeout[0]!r} (or followers depose a live "
                         f"leader); got {heartbeat_interval!r}")
    window = check_int("window", window, low=1)
    retry_interval = check_number("retry_interval", retry_interval, low=0.0, low_open=True)
    check_bool("record_messages", record_messages)
    quorums = resolve_quorums(n, q1, q2, unsafe=unsafe)
    workload = sim.KVWorkload(keys=keys, mix=mix)
    servers = [f"n{i}" for i in range(1, n + 1)]
    options = {"mode": client_mode, "concurrency": concurrency, "rate": rate,
               "timeout": client_timeout, "max_ops": max_ops}
    if variant == "multi" and clients:
        PaxosClient(servers, workload, **options)   # validate the client options here

    s = sim.Simulation(seed=seed, network=network, record_messages=record_messages)
    if variant == "single":
        for i, sid in enumerate(servers):
            value = f"v{i + 1}" if i < proposers else None
            s.add_node(sid, lambda value=value: SingleDecreeNode(
                servers, quorums, value=value, backoff=backoff, retry_timeout=retry_timeout,
                bugs=bugs))
    else:
        for sid in servers:
            s.add_node(sid, lambda: MultiPaxosNode(
                servers, quorums, heartbeat_interval=heartbeat_interval,
                election_timeout=election_timeout, window=window, bugs=bugs))
        for c in range(1, clients + 1):
            s.add_node(f"c{c}", lambda: PaxosClient(servers, workload,
                                                    retry_interval=retry_interval, **options))
    s.add_faults(faults)
    s.params = {
        "algorithm": "paxos", "variant": variant, "n": n, "duration": duration,
        "network": repr(s.network), "proposers": proposers if variant == "single" else None,
        "clients": clients if variant == "multi" else 0, "q1": _describe(q1),
        "q2": _describe(q2), "quorums": repr(quorums),
        "q2_spec": phase2_spec(quorums, servers), "unsafe": unsafe, "bugs": sorted(bugs),
        "backoff": list(backoff), "retry_timeout": retry_timeout,
        "heartbeat_interval": heartbeat_interval, "election_timeout": list(election_timeout),
        "window": window, "keys": keys, "mix": workload.mix, "client_mode": client_mode,
        "concurrency": concurrency, "rate": rate, "client_timeout": client_timeout,
        "retry_interval": retry_interval, "max_ops": max_ops,
    }
    return s.run(until=duration, progress=progress)


def phase2_spec(quorums, servers) -> dict:
    """The phase-2 quorums of ``quorums`` as plain data the checker can rebuild.

    ``run.params`` holds only JSON-safe values, and :func:`dsalgo.paxos.check` must judge
    which values a phase-2 quorum chose from the tables alone (a run loaded from disk has
    no quorum object), so the write side is written down as one of

    * ``{"kind": "threshold", "names": [...], "size": k}`` -- any ``k`` of ``names``
      (``majority``, ``flexible`` and ``threshold`` systems);
    * ``{"kind": "grid", "rows": r, "cols": c, "names": [...]}`` -- one node from every
      row of ``names`` laid out row by row;
    * ``{"kind": "explicit", "quorums": [[...], ...]}`` -- the minimal write quorums as
      sorted lists of node ids (any other system; an object with only
      ``is_write_quorum`` is enumerated over ``servers``).

    Parameters
    ----------
    quorums : Quorums
        As returned by :func:`resolve_quorums`.
    servers : list of str
        The acceptors.

    Returns
    -------
    dict

    Examples
    --------
    >>> from dsalgo import quorum
    >>> phase2_spec(resolve_quorums(5, q2=2), ["n1", "n2", "n3", "n4", "n5"])
    {'kind': 'threshold', 'names': ['n1', 'n2', 'n3', 'n4', 'n5'], 'size': 2}
    >>> phase2_spec(resolve_quorums(4, q2=quorum.grid(2, 2)), ["n1", "n2", "n3", "n4"])
    {'kind': 'grid', 'rows': 2, 'cols': 2, 'names': ['n1', 'n2', 'n3', 'n4']}
    """
    write = getattr(quorums, "write", quorums)
    kind = getattr(write, "kind", None)
    params = getattr(write, "params", None) or {}
    names = [str(x) for x in getattr(write, "nodes", servers)]
    size = {"majority": "quorum", "flexible": "q2", "threshold": "write"}.get(kind)
    if size is not None and size in params:
        return {"kind": "threshold", "names": names, "size": int(params[size])}
    if kind == "grid" and {"rows", "cols"} <= params.keys():
        return {"kind": "grid", "rows": int(params["rows"]), "cols": int(params["cols"]),
                "names": names}
    if hasattr(write, "write_quorums"):
        found = write.write_quorums()
    else:
        # A bare membership test: keep the minimal subsets it accepts (small n only,
        # as in :func:`intersecting`).
        found = []
        for k in range(len(servers) + 1):
            for w in combinations(servers, k):
                if write.is_write_quorum(frozenset(w)) and not any(q <= set(w) for q in found):
                    found.append(frozenset(w))
    return {"kind": "explicit",
            "quorums": sorted(sorted(map(str, q)) for q in found)}


def _describe(q):
    return q if q is None or isinstance(q, int) else repr(q)
