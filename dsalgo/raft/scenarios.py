"""Scripted runs: Figure 8 of the Raft paper, and one scenario per teaching bug.

Each scenario is an ordinary simulation whose randomness has been taken away: constant
10 ms links, election timeouts far longer than the run (nobody campaigns unless told),
and a director node ``c1`` that sends ``TimeoutNow`` (the thesis's "start an election
now", §3.10) and client commands at fixed times.  Timed crashes, restarts and one-way
partitions decide which messages get through.  The same script runs the correct
algorithm and the broken variant, so the difference in the tables is the bug's doing.

Every scenario has no-op entries switched off, so the log holds exactly the entries of
the figure; times below are simulated seconds.
"""

from __future__ import annotations

from dsalgo import sim

from .._validate import check_bool, check_choice, check_number
from .config import Config
from .messages import ClientReply, ClientRequest, TimeoutNow
from .node import RaftNode

__all__ = [
    "SCENARIOS",
    "Director",
    "duplicate_scenario",
    "figure8",
    "scripted",
    "revote_scenario",
    "stale_read_scenario",
    "split_vote_scenario",
    "stale_vote_scenario",
    "sync_scenario",
    "truncate_scenario",
    "up_to_date_scenario",
    "vote_scenario",
]

LATENCY = 0.010


class Director(sim.Node):
    """Sends each ``(at, dst, msg)`` of ``script`` at local time ``at``.

    With ``record=True`` each client command it sends is an operation of ``run.history``
    (its process, f, key and value), completed by the first ``ok`` or ``fail`` reply; one
    never answered stays ``info``.

    Examples
    --------
    >>> d = Director([(0.5, "n1", TimeoutNow())])
    >>> ctx = sim.RecordingContext("c1")
    >>> d.on_start(ctx); ctx.fire(d, "step:0")
    [Send(dst='n1', msg=TimeoutNow(term=0))]
    """

    def __init__(self, script, record: bool = False):
        self.script = list(script)
        self.record = record
        self.ops: dict = {}  # the command's op_id -> its op_id in run.history

    def on_start(self, ctx):
        for i, (at, _, _) in enumerate(self.script):
            ctx.set_timer(f"step:{i}", max(0.0, at - ctx.now))

    def on_timer(self, ctx, name):
        _, dst, msg = self.script[int(name[5:])]
        if self.record and isinstance(msg, ClientRequest) and msg.op_id not in self.ops:
            self.ops[msg.op_id] = ctx.invoke(msg.f, msg.key, msg.value, process=msg.process)
        ctx.send(dst, msg)

    def on_message(self, ctx, src, msg):
        if isinstance(msg, ClientReply) and msg.status in ("ok", "fail"):
            op = self.ops.pop(msg.op_id, None)
            if op is not None:
                ctx.complete(op, msg.status, msg.result)


def _put(op_id, value):
    return ClientRequest("c1", op_id, "put", "x", value)


def scripted(n, script, faults, *, until, bug=None, seed=0,
             election_timeout=(100.0, 100.0), storage=None, network=None, reads="log",
             record=False) -> sim.Run:
    """Run ``n`` servers under a director's ``script`` and fixed ``faults``.

    Parameters
    ----------
    n : int
        Servers ``n1 … n{n}``; their election timers never fire by themselves (100 s), so
        only the script's ``TimeoutNow`` messages start elections.
    script : iterable of (float, str, message)
        ``(at, dst, msg)``: the director ``c1`` sends ``msg`` to ``dst`` at time ``at >= 0``.
    faults : iterable of dsalgo.sim faults
        Crashes, restarts and partitions at fixed times.
    until : float
        End of the run, seconds.
    bug : str, optional
        A key of :data:`dsalgo.raft.BUGS`, switched on in every server.
    seed : int
        Simulation seed.
    election_timeout : (float, float)
        The servers' election timeout range; the default (100 s) keeps them from
        campaigning by themselves.
    storage : dsalgo.sim.Storage, optional
        The servers' storage model (default: writes durable at once).
    network : dsalgo.sim.Network, optional
        The network (default: constant 10 ms links, so the script alone decides the order
        of events).
    reads : str
        The read path (:data:`dsalgo.raft.READS`).
    record : bool
        The director records the client commands it sends in ``run.history`` (see
        :class:`Director`), so that :func:`dsalgo.raft.check` judges what it saw.

    Examples
    --------
    >>> run = scripted(3, [(0.1, "n1", TimeoutNow())], [], until=0.5)
    >>> run.events.query("kind == 'leader_elected'")[["node", "term"]].to_dict("records")
    [{'node': 'n1', 'term': 1}]
    """
    config = Config(election_timeout=election_timeout, heartbeat_interval=0.05, noop=False,
                    reads=reads, bugs=() if bug is None else (bug,))
    script = list(script)
    for item in script:
        if not (isinstance(item, (tuple, list)) and len(item) == 3):
            raise ValueError(f"script items must be (at, dst, msg) triples; got {item!r}")
        check_number("script time", item[0], low=0.0)
    if network is None:
        network = sim.Network(latency=sim.Constant(LATENCY))
    cluster = sim.Cluster("raft", n, config, seed=seed, network=network, storage=storage)
    servers = cluster.servers
    cluster.add_servers(lambda sid: RaftNode(servers, config))
    cluster.add_clients(1, lambda cid: Director(script, record=record))
    cluster.params["scenario"] = True
    return cluster.run(until, faults)


def _cut(src, dsts, at, until):
    return sim.Partition([[src], list(dsts)], at=at, until=until, one_way=True)


def figure8(bug: bool = False, branch: str = "d") -> sim.Run:
    """Figure 8 of the paper, step by step, on five servers ``n1 … n5`` (S1 … S5).

    (a) ``n1`` leads term 2 and its entry 2 (term 2) reaches only ``n2``;
    (b) ``n1`` crashes, ``n5`` wins term 3 with votes of ``n3``, ``n4`` and itself and
    takes a different entry 2 (term 3) that reaches nobody; (c) ``n5`` crashes, ``n1``
    restarts, wins term 4 (after one failed try in term 3) and copies entry 2 (term 2) to
    ``n3``, so it is on a majority; it then takes entry 3 (term 4) alone.  In branch
    ``"d"`` ``n1`` crashes, ``n5`` restarts and wins term 5 with votes of ``n2``, ``n3``,
    ``n4`` and overwrites index 2 everywhere; in branch ``"e"`` ``n1`` first copies entry 3
    to ``n2`` and ``n3``, and ``n5`` cannot win.

    With ``bug=True`` (``commit_prior_term``) ``n1`` commits entry 2 in (c) by counting
    its replicas, and (d) then overwrites a committed entry: Leader Completeness and State
    Machine Safety fail.  The correct algorithm does not commit it in (c), so (d) is legal.

    Examples
    --------
    >>> from dsalgo import raft
    >>> bool(raft.check(figure8(bug=False))), bool(raft.check(figure8(bug=True)))
    (True, False)
    """
    check_bool("bug", bug)
    check_choice("branch", branch, ("d", "e"))
    rest = ["n2", "n3", "n4", "n5"]
    script = [
        (0.10, "n1", TimeoutNow()),    # term 1: n1 leads; entry 1 reaches everyone
        (0.20, "n1", _put(1, "a")),
        (1.00, "n1", TimeoutNow()),    # (a) term 2: n1 wins with every vote ...
        (1.05, "n1", _put(2, "b")),    # ... and entry 2 (term 2) reaches n2 only
        (1.30, "n5", TimeoutNow()),    # (b) term 3: n5 wins (n3, n4); n2's log is newer
        (1.35, "n5", _put(3, "c")),    # entry 2 (term 3) stays on n5
        (1.60, "n1", TimeoutNow()),    # (c) term 3 for n1 fails: n3, n4 voted for n5
        (1.70, "n1", TimeoutNow()),    # term 4: n1 wins (n2, n3, n4), copies entry 2 to n3
        (1.80, "n1", _put(4, "d")),    # entry 3 (term 4)
        (2.00, "n5", TimeoutNow()),    # (d) term 4 for n5 fails: votes already cast
        (2.10, "n5", TimeoutNow()),    # term 5: n5 wins (n2, n3, n4) unless (e) happened
        (2.20, "n5", _put(5, "e")),    # entry 3 (term 5) commits index 2 (term 3)
    ]
    faults = [
        _cut("n1", ["n3", "n4", "n5"], at=1.035, until=1.25),   # (a) only n2 hears n1
        sim.Crash("n1", at=1.20),
        _cut("n5", ["n1", "n2", "n3", "n4"], at=1.335, until=1.50),  # (b) n5 is heard by none
        sim.Crash("n5", at=1.45),
        sim.Restart("n1", at=1.50),
        _cut("n1", ["n4", "n5"], at=1.725, until=1.95),        # (c) n1 reaches n2, n3 only
        sim.Restart("n5", at=1.95),
    ]
    if branch == "d":
        faults += [_cut("n1", rest, at=1.775, until=1.95),      # entry 3 stays on n1
                   sim.Crash("n1", at=1.90)]
    else:
        faults += [sim.Crash("n1", at=1.95)]
    return scripted(5, script, faults, until=2.5, bug="commit_prior_term" if bug else None)


def up_to_date_scenario(bug: bool = False) -> sim.Run:
    """§5.4.1's election restriction.  ``n1`` commits entry 1 on ``n1 … n3`` (``n4``,
    ``n5`` do not hear it) and crashes; ``n5``, with an empty log, asks for votes.  Correct
    voters ``n2``, ``n3`` refuse; with ``no_up_to_date_check`` they elect it, and its entry
    overwrites the committed one.

    Examples
    --------
    >>> from dsalgo import raft
    >>> bool(raft.check(up_to_date_scenario())), bool(raft.check(up_to_date_scenario(bug=True)))
    (True, False)
    """
    check_bool("bug", bug)
    script = [(0.10, "n1", TimeoutNow()), (0.20, "n1", _put(1, "a")),
              (0.60, "n5", TimeoutNow()), (0.70, "n5", _put(2, "b"))]
    faults = [_cut("n1", ["n4", "n5"], at=0.135, until=0.5), sim.Crash("n1", at=0.5)]
    return scripted(5, script, faults, until=1.0, bug="no_up_to_date_check" if bug else None)


def vote_scenario(bug: bool = False) -> sim.Run:
    """Votes must survive a crash.  ``n1`` and ``n2`` cannot hear each other; ``n3`` votes
    for ``n1`` in term 1, crashes and restarts; then ``n2`` asks for its vote in term 1.
    With ``forget_vote_on_restart`` ``n3`` votes again: two leaders of term 1.

    Examples
    --------
    >>> from dsalgo import raft
    >>> bool(raft.check(vote_scenario())), bool(raft.check(vote_scenario(bug=True)))
    (True, False)
    """
    check_bool("bug", bug)
    script = [(0.10, "n1", TimeoutNow()), (0.30, "n2", TimeoutNow())]
    faults = [sim.Partition([["n1"], ["n2"]], at=0.0, until=1.0),
              sim.Crash("n3", at=0.20), sim.Restart("n3", at=0.25)]
    return scripted(3, script, faults, until=0.6, bug="forget_vote_on_restart" if bug else None)


def truncate_scenario(bug: bool = False) -> sim.Run:
    """§5.3's conflict rule.  ``n1`` (term 1) takes entry 1 that nobody else hears and
    crashes; ``n2`` (term 2) commits a different entry 1 with ``n3``; ``n1`` returns.
    Correctly it deletes its entry and takes the leader's; with
    ``no_truncate_on_conflict`` it keeps it, reports success, and applies it.

    Examples
    --------
    >>> from dsalgo import raft
    >>> bool(raft.check(truncate_scenario())), bool(raft.check(truncate_scenario(bug=True)))
    (True, False)
    """
    check_bool("bug", bug)
    script = [(0.10, "n1", TimeoutNow()), (0.20, "n1", _put(1, "a")),
              (0.40, "n2", TimeoutNow()), (0.50, "n2", _put(2, "b")),
              (0.80, "n2", _put(3, "c"))]
    faults = [_cut("n1", ["n2", "n3"], at=0.135, until=0.5), sim.Crash("n1", at=0.30),
              sim.Restart("n1", at=0.60)]
    return scripted(3, script, faults, until=1.0,
                    bug="no_truncate_on_conflict" if bug else None)


def duplicate_scenario(bug: bool = False) -> sim.Run:
    """§8's duplicate detection.  ``n1`` leads; the client sends ``put x a`` (op 1) at
    0.20 s and, impatient, sends the same command again at 0.21 s, before the first copy
    commits (0.23 s): the leader has not applied it yet, so both copies enter the log
    (entries 1 and 2).  Correct state machines execute entry 1 and answer entry 2 from
    their memory of the client's latest op id; with ``dedup_off_by_one`` they take op 1
    for new and execute it twice (exactly-once fails on every server).

    Examples
    --------
    >>> from dsalgo import raft
    >>> bool(raft.check(duplicate_scenario())), bool(raft.check(duplicate_scenario(bug=True)))
    (True, False)
    >>> raft.check(duplicate_scenario(bug=True)).violations["detail"][0]
    'n1 executed op 1 of c1 twice (first at t=0.23s): a retried command was applied again'
    """
    check_bool("bug", bug)
    script = [(0.10, "n1", TimeoutNow()), (0.20, "n1", _put(1, "a")),
              (0.21, "n1", _put(1, "a"))]
    return scripted(3, script, [], until=0.6, bug="dedup_off_by_one" if bug else None)


def split_vote_scenario(bug: bool = False) -> sim.Run:
    """Figure 2's candidate rule: when the election timeout elapses, start a new election.

    Here the servers do time out by themselves (0.3–0.5 s).  At 0.10 s ``n1``, ``n2`` and
    ``n3`` are all told to campaign: each becomes a candidate of term 1, votes for itself
    and refuses the other two, a split vote.  Correctly the first candidate whose timer
    fires starts term 2 and wins; with ``no_election_retry`` the candidates stopped their
    timers and wait for votes that never come: no leader, ever, in a cluster with no
    fault at all.  Safety holds in both runs; ``leader_and_commit`` fails in the second.

    Examples
    --------
    >>> from dsalgo import raft
    >>> bool(raft.check(split_vote_scenario()))
    True
    >>> v = raft.check(split_vote_scenario(bug=True))
    >>> bool(v.safety), bool(v.progress)
    (True, False)
    >>> v.violations["detail"][0]
    'no up leader of the newest term within 1.25s of the start of a run without faults'
    """
    check_bool("bug", bug)
    script = [(0.10, s, TimeoutNow()) for s in ("n1", "n2", "n3")]
    return scripted(3, script, [], until=2.0, election_timeout=(0.3, 0.5),
                    bug="no_election_retry" if bug else None)


def sync_scenario(bug: bool = False, *, storage: bool = True) -> sim.Run:
    """Figure 2: persistent state is on stable storage before a server responds.

    A sync takes 20 ms (``storage=False``: no time).  ``n1`` and ``n2`` cannot hear each
    other.  ``n1`` is told to campaign at 0.10 s and asks for votes for term 1 once its own
    vote is durable; ``n3`` grants its vote at 0.14 s and crashes at 0.145 s, before that
    vote is durable, and restarts at 0.25 s; ``n2`` is told to campaign at 0.30 s.  Correctly ``n3``'s answer waited for the sync, so the
    crash took back a vote nobody heard: ``n1`` wins with ``n3``'s next vote and ``n2`` is
    refused.  With ``reply_before_sync`` ``n1`` led on a vote the crash erased, and ``n3``
    votes again: two leaders of term 1.  With instant storage the bug changes nothing.

    Examples
    --------
    >>> from dsalgo import raft
    >>> bool(raft.check(sync_scenario())), bool(raft.check(sync_scenario(bug=True)))
    (True, False)
    >>> bool(raft.check(sync_scenario(bug=True, storage=False)))
    True
    """
    check_bool("bug", bug)
    check_bool("storage", storage)
    script = [(0.10, "n1", TimeoutNow()), (0.30, "n2", TimeoutNow())]
    faults = [sim.Partition([["n1"], ["n2"]], at=0.0, until=1.0),
              sim.Crash("n3", at=0.145), sim.Restart("n3", at=0.25)]
    return scripted(3, script, faults, until=0.6, bug="reply_before_sync" if bug else None,
                    storage=sim.Storage(sync=sim.Constant(0.02)) if storage else None)


def stale_vote_scenario(bug: bool = False) -> sim.Run:
    """Figure 2: a candidate counts only votes of its current term.

    ``n1`` is told to campaign at 0.10 s (term 1, its request reaches ``n2`` at 0.12 s;
    ``n3`` does not hear it) and again at 0.115 s, before ``n2``'s grant for term 1 is
    back: it starts term 2 and its requests are cut off from then on.  The grant of
    term 1 arrives at 0.13 s.  Correctly ``n1`` ignores it and wins nothing; with
    ``count_stale_votes`` it counts it and leads term 2 with one vote of term 2, its own.
    Election Safety holds (nobody else leads term 2); the vote-majority property fails.

    Examples
    --------
    >>> from dsalgo import raft
    >>> bool(raft.check(stale_vote_scenario())), bool(raft.check(stale_vote_scenario(bug=True)))
    (True, False)
    """
    check_bool("bug", bug)
    script = [(0.10, "n1", TimeoutNow()), (0.115, "n1", TimeoutNow())]
    faults = [_cut("n1", ["n3"], at=0.0, until=1.0), _cut("n1", ["n2"], at=0.121, until=1.0)]
    return scripted(3, script, faults, until=0.5, bug="count_stale_votes" if bug else None)


def revote_scenario(bug: bool = False) -> sim.Run:
    """Figure 2: at most one vote per term.

    ``n1`` leads term 1 and takes entry 1, which reaches nobody (its links are cut while
    it is sent); ``n1`` and ``n3`` cannot hear each other from then on.  At 0.30 s ``n3``
    and, 5 ms later, ``n1`` are told to campaign: both are candidates of term 2.  ``n2``
    hears ``n3`` first and votes for it (its log is as up-to-date as ``n2``'s): ``n3``
    leads term 2.  ``n1``'s request comes next; correctly ``n2`` refuses a second vote.
    With ``revote_for_newer_log`` it votes again, for the more up-to-date log of ``n1``:
    two leaders of term 2.

    Examples
    --------
    >>> from dsalgo import raft
    >>> v = raft.check(revote_scenario(bug=True))
    >>> bool(raft.check(revote_scenario())), sorted(set(v.violations["property"]))
    (True, ['election_safety', 'one_vote_per_term'])
    """
    check_bool("bug", bug)
    script = [(0.10, "n1", TimeoutNow()), (0.20, "n1", _put(1, "a")),
              (0.30, "n3", TimeoutNow()), (0.305, "n1", TimeoutNow())]
    faults = [_cut("n1", ["n2"], at=0.15, until=0.29),
              sim.Partition([["n1"], ["n3"]], at=0.15, until=1.0)]
    return scripted(3, script, faults, until=0.6, bug="revote_for_newer_log" if bug else None)


def stale_read_scenario(bug: bool = False) -> sim.Run:
    """Thesis §6.4: a ReadIndex read is answered once a majority confirms the leader.

    Reads take the ReadIndex path, and the director records what it asked and heard.
    ``n1`` leads term 1; ``put x a`` commits and ``get x`` reads ``a``.  From 0.30 s
    ``n1`` is cut off from ``n2`` and ``n3`` (the director still reaches everyone);
    ``n2`` wins term 2 and ``put x b`` commits there by 0.53 s.  At 0.60 s ``get x`` goes
    to ``n1``, which still believes it leads.  Correctly its heartbeat round is never
    acknowledged and the read is never answered; with ``read_index_without_quorum`` it
    answers ``a``, a value overwritten before the read began: linearizability fails.

    Examples
    --------
    >>> from dsalgo import raft
    >>> v = raft.check(stale_read_scenario(bug=True))
    >>> bool(raft.check(stale_read_scenario())), list(v.violations["property"])
    (True, ['linearizability'])
    """
    check_bool("bug", bug)
    script = [(0.10, "n1", TimeoutNow()), (0.20, "n1", _put(1, "a")),
              (0.25, "n1", ClientRequest("c1", 2, "get", "x", None)),
              (0.40, "n2", TimeoutNow()), (0.50, "n2", _put(3, "b")),
              (0.60, "n1", ClientRequest("c1", 4, "get", "x", None))]
    faults = [sim.Partition([["n1"], ["n2", "n3"]], at=0.30, until=1.0)]
    return scripted(3, script, faults, until=0.9, reads="read_index", record=True,
                    bug="read_index_without_quorum" if bug else None)


SCENARIOS = {
    "commit_prior_term": figure8,
    "no_up_to_date_check": up_to_date_scenario,
    "forget_vote_on_restart": vote_scenario,
    "no_truncate_on_conflict": truncate_scenario,
    "dedup_off_by_one": duplicate_scenario,
    "no_election_retry": split_vote_scenario,
    "reply_before_sync": sync_scenario,
    "count_stale_votes": stale_vote_scenario,
    "revote_for_newer_log": revote_scenario,
    "read_index_without_quorum": stale_read_scenario,
}
"""Bug name (a key of :data:`dsalgo.raft.BUGS`) → its scenario: ``SCENARIOS[bug](bug=True)``
breaks the rule, ``bug=False`` runs the same script under the correct algorithm."""
