"""Isolation of transactional histories, Elle-style: Adya's anomalies from a dependency
graph, and the bank's cheaper invariants.

After Kingsbury & Alvaro, *Elle: inferring isolation anomalies from experimental
observations* (VLDB 2020), and Adya's thesis (1999).  A history is reduced to
transactions (committed, aborted or unknown), each reading and writing *versions* of
keys; for each key the versions are totally ordered.  Between committed transactions:

- ``ww`` T1 → T2: T2 wrote the version of a key right after T1's;
- ``wr`` T1 → T2: T2 read a version T1 wrote;
- ``rw`` T1 → T2: T1 read a version and T2 wrote the next one (an anti-dependency).

A cycle is an anomaly, named by its edges: **G0** (write cycle: ww only), **G1c**
(circular information flow: ww and wr, at least one wr), **G-single** (exactly one rw;
read skew, lost update) and **G2** (two or more rw; write skew).  Outside cycles:
**G1a** (aborted read: a committed transaction read a version an aborted one wrote) and
**G1b** (intermediate read: it read a version that its writer overwrote itself).  A
serializable history shows none of them.  :func:`anomalies` reports, per strongly
connected component of the graph, the strongest cycle it contains (G0, then G1c, then
G-single, then G2) with the transactions and edges involved.

Where the versions come from
----------------------------
- **The bank** (:func:`bank_transactions`): the shards' events are the server side of
  the history, which Elle never has.  Each ``commit`` (2PC) or ``step``/``compensate``
  (sagas) event writes a new version of the accounts in its ``balances``, so the version
  order of each account is the order its shard applied them — exact, no inference.  A
  2PC participant's ``vote`` event records the balances its funds check *read*
  (``read``), and a saga step reads the account it changes; the version read is the one
  current at that shard at that instant.  Read-only client transactions are not part of
  the graph: the bank's reads take no locks, by design (their torn reads are counted as
  ``intermediate_reads`` by :func:`dsalgo.txn.check`).  A saga that ends compensated is
  *aborted*; its step's version, read by another saga before the compensation, is a G1a.
  Increments commute, so a G0 between sagas loses no money: the graph judges isolation
  (could the transactions have run one at a time?), not conservation, which
  :func:`invariants` checks.
- **Jepsen/Elle list-append histories** (:func:`append_transactions`, from
  :func:`dsalgo.histories.read_edn`): ``[:append k v]`` and ``[:r k [v…]]`` micro-ops.
  Appended values are unique, so a read list names its versions and their order; the
  version order of a key is the longest list read, and every other read must be a prefix
  of it (otherwise the order is unknown and the key is reported in ``info["incompatible"]``
  and left out).  An append no read observed must come after every observed one, so a
  key's single unobserved committed append is its last version.  What it cannot infer:
  the order of several appends to one key that no read observed (they are left out of
  the version order, so edges through them are missed: a cycle found is real, a cycle
  not found may still exist), real-time or process order (the strict serializability
  Elle also checks), and whether an ``info`` transaction committed unless a read saw its
  append (then it counts as committed; otherwise it is left out of the graph).

Examples
--------
>>> from dsalgo import txn
>>> locked = txn.twopc.simulate(n=3, seed=1, duration=1.0, drain=1.0, initial_balance=20)
>>> bool(txn.isolation.check(locked))
True
>>> loose = txn.twopc.simulate(n=3, seed=1, duration=1.0, drain=1.0, initial_balance=20,
...                            bugs={"no_locks_at_prepare"})
>>> v = txn.isolation.check(loose)
>>> bool(v), v.info["anomalies"]["G-single"] > 0
(False, True)
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import pandas as pd

from ..check.verdict import Verdict
from .checker import family_of

__all__ = ["ANOMALIES", "INVARIANTS", "VARIANTS", "Transactions", "anomalies",
           "append_transactions", "bank_transactions", "check", "compare",
           "dependency_graph", "invariants"]

#: The anomalies reported, strongest first among the cycles.
ANOMALIES = ["G0", "G1a", "G1b", "G1c", "G-single", "G2"]
#: The bank's invariants.
INVARIANTS = ["total_balance", "no_negative_balance"]
_INIT = "init"


class Transactions:
    """Transactions with their reads and writes of versioned keys.

    Parameters
    ----------
    status : dict
        Transaction -> ``"committed"``, ``"aborted"`` or ``"unknown"``.
    versions : dict
        Key -> the list of its versions in order, each ``(writer, time)``; the initial
        version's writer is ``"init"``.
    reads : list of tuple
        ``(reader, key, position, time)``: the reader read the version at ``position``.

    Examples
    --------
    >>> t = Transactions({"a": "committed", "b": "committed"},
    ...                  {"x": [("init", 0.0), ("a", 1.0), ("b", 2.0)]},
    ...                  [("b", "x", 0, 1.5)])
    >>> sorted(dependency_graph(t)["kind"])
    ['rw', 'ww']
    """

    def __init__(self, status, versions, reads):
        self.status = dict(status)
        self.versions = {k: list(v) for k, v in versions.items()}
        self.reads = list(reads)


def dependency_graph(txns: Transactions) -> pd.DataFrame:
    """The ww, wr and rw edges between committed transactions.

    Returns
    -------
    DataFrame
        ``src, dst, kind, key, time`` (``time``: when the later of the two events
        happened), one row per distinct ``(src, dst, kind, key)``.
    """
    ok = {t for t, s in txns.status.items() if s == "committed"} | {_INIT}
    rows = {}

    def edge(a, b, kind, key, time):
        if a != b and a in ok and b in ok and a != _INIT:
            rows.setdefault((a, b, kind, key), float(time))
    committed_versions, last = {}, {}
    for key, vs in txns.versions.items():
        # Adya's version order holds each transaction's final write of a key (its
        # intermediate writes are never installed; reading one is G1b)
        for i, (w, _t) in enumerate(vs):
            last[(key, w)] = i
        kept = [(i, w, t) for i, (w, t) in enumerate(vs) if w in ok and last[(key, w)] == i]
        committed_versions[key] = kept
        for (_, w1, _t1), (_, w2, t2) in pairwise(kept):
            edge(w1, w2, "ww", key, t2)
    for reader, key, pos, time in txns.reads:
        vs = txns.versions.get(key, [])
        if pos >= len(vs):
            continue
        writer = vs[pos][0]
        edge(writer, reader, "wr", key, time)
        after = last[(key, writer)]
        nxt = next(((w, t) for i, w, t in committed_versions[key] if i > after), None)
        if nxt is not None and nxt[0] != reader:
            edge(reader, nxt[0], "rw", key, max(time, nxt[1]))
    out = pd.DataFrame([(a, b, k, key, t) for (a, b, k, key), t in rows.items()],
                       columns=["src", "dst", "kind", "key", "time"])
    return out.sort_values(["time", "src", "dst"], kind="stable").reset_index(drop=True)


def _sccs(nodes, succ):
    """Tarjan's strongly connected components (iterative), in a deterministic order."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(succ.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(succ.get(w, ()))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def _path(start, goal, succ, allowed):
    """A shortest path start → goal over edges whose kind is in ``allowed`` (BFS)."""
    prev = {start: None}
    queue = [start]
    for v in queue:
        for w, kind, key in succ.get(v, ()):
            if kind in allowed and w not in prev:
                prev[w] = (v, kind, key)
                if w == goal:
                    steps = []
                    while prev[w] is not None:
                        v0, k0, key0 = prev[w]
                        steps.append((v0, w, k0, key0))
                        w = v0
                    return steps[::-1]
                queue.append(w)
    return None


def _cycle(comp, succ, allowed, need=None):
    """A cycle inside ``comp`` using ``allowed`` edge kinds; with ``need``, one that
    starts with an edge of kind ``need`` and continues over the other allowed kinds."""
    inside = set(comp)
    sub = {v: [(w, k, key) for w, k, key in succ.get(v, ()) if w in inside] for v in comp}
    for v in comp:
        for w, k, key in sub[v]:
            if need is not None and k != need:
                continue
            if need is None and k not in allowed:
                continue
            rest = [(v, v, k, key)] if w == v else _path(w, v, sub, allowed)
            if rest is not None:
                return [(v, w, k, key)] + ([] if w == v else rest)
    return None


def anomalies(txns: Transactions) -> pd.DataFrame:
    """The anomalies of a history: cycles of the dependency graph, aborted and
    intermediate reads.

    Returns
    -------
    DataFrame
        ``anomaly, time, txns, cycle, detail``: ``txns`` the transactions involved,
        ``cycle`` the edges ``(src, dst, kind, key)`` of the cycle (empty for G1a/G1b).
    """
    rows = []
    # G1a / G1b: reads of versions that no committed state ever held
    last_write = {}
    for key, vs in txns.versions.items():
        for i, (w, _t) in enumerate(vs):
            last_write[(key, w)] = i
    for reader, key, pos, time in txns.reads:
        if txns.status.get(reader) != "committed":
            continue
        vs = txns.versions.get(key, [])
        if pos >= len(vs):
            continue
        w = vs[pos][0]
        if w in (reader, _INIT):
            continue
        if txns.status.get(w) == "aborted":
            rows.append(["G1a", float(time), (w, reader), [], f"{reader} read {key!r} as "
                         f"written by {w}, which aborted"])
        elif last_write[(key, w)] != pos:
            rows.append(["G1b", float(time), (w, reader), [], f"{reader} read an "
                         f"intermediate version of {key!r}: {w} overwrote it itself"])
    g = dependency_graph(txns)
    succ = defaultdict(list)
    when = {}
    for a, b, k, key, t in g.itertuples(index=False, name=None):
        succ[a].append((b, k, key))
        when[(a, b, k, key)] = t
    nodes = sorted(set(g["src"]) | set(g["dst"]))
    nxt_nodes = {v: sorted({w for w, _k, _key in ws}) for v, ws in succ.items()}
    for comp in _sccs(nodes, nxt_nodes):
        if len(comp) == 1 and not any(w == comp[0] for w, _, _ in succ.get(comp[0], ())):
            continue
        found = None
        for name, allowed, need in (("G0", {"ww"}, None), ("G1c", {"ww", "wr"}, "wr"),
                                    ("G-single", {"ww", "wr"}, "rw"),
                                    ("G2", {"ww", "wr", "rw"}, "rw")):
            cyc = _cycle(comp, succ, allowed, need)
            if cyc is not None:
                found = name, cyc
                break
        if found is None:
            continue
        name, cyc = found
        t = max(when.get(e, float("nan")) for e in cyc)
        path = " ".join(f"{a} -{k}({key})→" for a, _b, k, key in cyc) + f" {cyc[0][0]}"
        rows.append([name, float(t), tuple(comp), cyc,
                     f"cycle of {len(comp)} transactions: {path}"])
    out = pd.DataFrame(rows, columns=["anomaly", "time", "txns", "cycle", "detail"])
    return out.sort_values("time", kind="stable").reset_index(drop=True)


def _bank_events(run) -> pd.DataFrame:
    ev = run.events
    kinds = ["init", "vote", "commit", "step", "compensate", "saga_end", "decide"]
    return ev[ev["kind"].isin(kinds)].sort_values("seq", kind="stable")


def _col(row, name):
    v = row.get(name)
    return None if v is None or (isinstance(v, float) and v != v) else v


def bank_transactions(run) -> Transactions:
    """The transfers of a bank run (2PC or sagas) as versioned reads and writes.

    Examples
    --------
    >>> from dsalgo import txn
    >>> t = bank_transactions(txn.twopc.simulate(n=2, seed=0, duration=0.3, drain=0.5))
    >>> sum(s == "committed" for s in t.status.values()) > 0
    True
    """
    fam = family_of(run)
    if fam not in ("twopc", "saga"):
        raise ValueError(f"run must be a run of the twopc or saga family; got {fam!r}")
    ev = _bank_events(run)
    versions: dict = defaultdict(list)
    reads, status = [], {}
    for r in ev.to_dict("records"):
        kind, t = r["kind"], float(r["time"])
        if kind == "init":
            for a in sorted(_col(r, "balances") or {}):
                versions[a].append((_INIT, t))
        elif kind == "vote" and _col(r, "read") is not None:
            tx = str(r["txn"])
            for a in sorted(r["read"]):
                reads.append((tx, a, len(versions[a]) - 1, t))
        elif kind == "commit" and fam == "twopc":
            tx = str(r["txn"])
            status[tx] = "committed"
            for a in sorted(_col(r, "balances") or {}):
                versions[a].append((tx, t))
        elif kind == "step" and r.get("ok") is not False:
            tx, a = str(r["saga"]), r["account"]
            status.setdefault(tx, "unknown")
            reads.append((tx, a, len(versions[a]) - 1, t))
            versions[a].append((tx, t))
        elif kind == "step":
            status.setdefault(str(r["saga"]), "unknown")
        elif kind == "compensate":
            tx = str(r["saga"])
            for a in sorted(_col(r, "balances") or {}):
                versions[a].append((tx, t))
        elif kind == "saga_end":
            status[str(r["saga"])] = "committed" if r["outcome"] == "done" else "aborted"
    return Transactions(status, versions, reads)


def append_transactions(history: pd.DataFrame) -> Transactions:
    """The transactions of a Jepsen/Elle list-append history (``f == "txn"``).

    Parameters
    ----------
    history : DataFrame
        A history table, e.g. from :func:`dsalgo.histories.read_edn`, whose ``txn``
        operations carry ``[f, key, value]`` micro-ops in ``result`` (``value`` for an
        operation without result): ``append`` with a unique value, ``r`` with the list
        read.

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"op_id": [0, 1], "process": [0, 1], "f": ["txn", "txn"],
    ...     "key": [None, None], "value": [None, None],
    ...     "result": [[["append", "x", 1], ["r", "y", []]],
    ...                [["append", "y", 1], ["r", "x", []]]],
    ...     "t_invoke": [0.0, 0.0], "t_complete": [1.0, 1.0], "status": ["ok", "ok"]})
    >>> anomalies(append_transactions(h))["anomaly"].tolist()        # write skew
    ['G2']
    """
    if not isinstance(history, pd.DataFrame):
        raise TypeError(f"history must be a history DataFrame; got {type(history).__name__}")
    status, writer, appends, reads_raw = {}, {}, defaultdict(list), []
    longest: dict = {}
    for r in history.itertuples(index=False):
        if str(r.f) != "txn":
            continue
        tx = f"T{r.op_id}"
        ops = r.result if isinstance(r.result, (list, tuple)) else r.value
        st = {"ok": "committed", "fail": "aborted"}.get(str(r.status), "unknown")
        status[tx] = st
        for op in ops or ():
            f, key, val = str(op[0]).lstrip(":"), op[1], op[2]
            key = key if not isinstance(key, list) else tuple(key)
            if f == "append":
                writer[(key, val)] = tx
                appends[tx].append((key, val))
            elif f == "r" and val is not None and st == "committed":
                val = list(val)
                longest.setdefault(key, [])
                reads_raw.append((tx, key, val, float(r.t_complete)))
                if len(val) > len(longest.get(key, ())):
                    longest[key] = val
    incompatible = set()
    for _tx, key, val, _t in reads_raw:
        if longest[key][:len(val)] != val:
            incompatible.add(key)
    for (key, _v), tx in writer.items():
        if status.get(tx) == "unknown" and _v in longest.get(key, ()):
            status[tx] = "committed"                  # its append was observed
    # Appends no read observed come after every observed one (a read would have shown
    # them otherwise); when a key has exactly one such append that may have committed,
    # and it committed, it is the key's last version.  With several, their order is
    # unknown and they are left out.
    unseen = defaultdict(list)
    for (key, v), tx in writer.items():
        if v not in set(longest.get(key, ())) and status.get(tx) != "aborted":
            unseen[key].append((v, tx))
    versions = {}
    for key in sorted(set(longest) | set(unseen), key=repr):
        if key in incompatible:
            continue
        order = list(longest.get(key, ()))
        if len(unseen[key]) == 1 and status.get(unseen[key][0][1]) == "committed":
            order.append(unseen[key][0][0])
        versions[key] = [(_INIT, 0.0)] + [(writer.get((key, v), "?"), 0.0) for v in order]
    reads = [(tx, key, len(val), t) for tx, key, val, t in reads_raw
             if key not in incompatible]
    out = Transactions(status, versions, reads)
    out.incompatible = sorted(map(repr, incompatible))
    return out


def invariants(run) -> pd.DataFrame:
    """The bank's cheap invariants on every version: no account below zero, and the total
    of the final balances equal to the opening total.

    Returns
    -------
    DataFrame
        Violations: ``property, time, nodes, detail``.

    Examples
    --------
    >>> from dsalgo import txn
    >>> len(invariants(txn.twopc.simulate(n=2, seed=0, duration=0.3, drain=0.5)))
    0
    """
    ev = _bank_events(run)
    rows, opening, final = [], {}, {}
    for r in ev.to_dict("records"):
        bal = _col(r, "balances")
        if not bal:
            continue
        for a, b in bal.items():
            if r["kind"] == "init":
                opening[a] = b
            final[a] = b
            if b < 0:
                rows.append({"property": "no_negative_balance", "time": float(r["time"]),
                             "nodes": (str(r["node"]),),
                             "detail": f"account {a} at {b} after {r['kind']} of "
                                       f"{_col(r, 'txn') or _col(r, 'saga')}"})
    if sum(final.values()) != sum(opening.values()):
        rows.append({"property": "total_balance", "time": float(run.until), "nodes": (),
                     "detail": f"the bank holds {sum(final.values())}, it opened with "
                               f"{sum(opening.values())}"})
    return pd.DataFrame(rows, columns=["property", "time", "nodes", "detail"])


def check(run_or_history) -> Verdict:
    """Serializability (no Adya anomaly) of a bank run or a list-append history, and for
    a bank run its invariants.

    Returns
    -------
    Verdict
        Properties ``serializability`` (one violation per anomaly; ``info["anomalies"]``
        counts each of :data:`ANOMALIES`, ``info["table"]`` is :func:`anomalies`) and, for
        a run, :data:`INVARIANTS`.
    """
    if isinstance(run_or_history, pd.DataFrame):
        txns, inv, props = append_transactions(run_or_history), None, ["serializability"]
    else:
        txns = bank_transactions(run_or_history)
        inv, props = invariants(run_or_history), ["serializability"] + INVARIANTS
    table = anomalies(txns)
    rows = [{"property": "serializability", "time": r.time, "nodes": tuple(r.txns),
             "detail": f"{r.anomaly}: {r.detail}"} for r in table.itertuples(index=False)]
    if inv is not None:
        rows += inv.to_dict("records")
    counts = {a: int((table["anomaly"] == a).sum()) for a in ANOMALIES}
    info = {"anomalies": counts, "table": table,
            "transactions": sum(s == "committed" for s in txns.status.values()),
            "incompatible": getattr(txns, "incompatible", [])}
    return Verdict(props, rows, info=info)


#: The protocols :func:`compare` runs: name -> (family, knobs).
VARIANTS = {
    "2PC (locks at prepare)": ("twopc", {}),
    "2PC without locks": ("twopc", {"bugs": {"no_locks_at_prepare"}}),
    "saga (orchestrated)": ("saga", {"form": "orchestrated"}),
    "saga (choreographed)": ("saga", {"form": "choreographed"}),
}


def compare(seeds=range(5), *, faults: bool = True, duration: float = 1.0,
            **workload) -> pd.DataFrame:
    """Isolation of each protocol of :data:`VARIANTS` over ``seeds``: one row per run.

    Every run is a 3-shard bank, 4 accounts a shard, with low funds (``initial_balance=20``
    unless given: ``**workload`` overrides any workload knob), on
    the soak's faulty network and nemesis when ``faults`` (crashes and partitions that
    heal by ``duration``, 5 % loss and duplication), then a fault-free tail of 2 s.

    Returns
    -------
    DataFrame
        ``variant, seed, transactions`` (committed), one count per :data:`ANOMALIES`,
        ``serializable``, ``no_negative_balance`` and ``atomic`` (:func:`dsalgo.txn.check`'s
        atomicity, or semantic atomicity for sagas, held).

    Examples
    --------
    >>> t = compare(seeds=[0], faults=False, duration=0.5)
    >>> t[["variant", "serializable", "atomic"]].values.tolist()
    [['2PC (locks at prepare)', True, True], ['2PC without locks', False, True], ['saga (orchestrated)', False, True], ['saga (choreographed)', False, True]]
    """
    from .. import sim
    from . import checker, saga, twopc
    rows = []
    for name, (family, knobs) in VARIANTS.items():
        for seed in seeds:
            kw = dict(n=3, seed=seed, duration=duration, drain=2.0, clients=3,
                      concurrency=2, accounts=4, initial_balance=20, client_timeout=0.25)
            if faults:
                kw["network"] = sim.Network(latency=sim.Exponential(mean=0.002),
                                            drop_rate=0.05, duplicate_rate=0.05)
                kw["faults"] = [sim.Nemesis(crash=1.0, partition=0.5, mean_duration=0.3,
                                            end=duration)]
            kw.update(workload)
            kw.update(knobs)
            run = (twopc if family == "twopc" else saga).simulate(**kw)
            v = check(run)
            base = checker.check(run)
            atom = "atomicity" if family == "twopc" else "semantic_atomicity"
            rows.append({"variant": name, "seed": seed,
                         "transactions": v.info["transactions"], **v.info["anomalies"],
                         "serializable": v.holds("serializability"),
                         "no_negative_balance": v.holds("no_negative_balance"),
                         "atomic": base.holds(atom)})
    return pd.DataFrame(rows)
