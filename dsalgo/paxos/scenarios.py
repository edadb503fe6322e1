"""Scripted runs: one per deliberate bug, in each variant, that shows it step by step.

Each scenario is a seed and a fault schedule under which the correct kernel stays safe
and the broken one lets two values be chosen for one slot (or, for
``dedup_at_leader_only``, executes a retried command twice; for
``no_accept_retransmit``, stops serving though a leader is up).  Where the schedule
forces the bug the seed is fixed; where the bug needs a lucky interleaving (a seeded
nemesis, a retry racing an application) the seed is the first one, from a fixed start,
under which the buggy run shows it (searched once per process; ``run.seed`` says which), so
the scenario does not rest on the draws of one random stream.  The same seed and script
run both, so the difference in the tables is the bug's doing: compare
``paxos.check(scenario())`` with ``paxos.check(scenario(bug=True))``.  Every scenario
takes ``variant="single"`` (three servers, ``n1`` and ``n2`` proposing ``'v1'`` and
``'v2'``) or ``variant="multi"`` (the Multi-Paxos store on three servers with three
clients); times are simulated seconds.
"""

from __future__ import annotations

from dsalgo import sim
from dsalgo._validate import check_bool, check_choice

from .config import VARIANTS
from .harness import simulate

__all__ = ["AGREEMENT_BUGS", "SCENARIOS", "SEARCH", "acceptor_forgets_promise",
           "dedup_at_leader_only", "reply_before_sync", "accept_below_promise",
           "reply_before_write", "stale_votes", "duplicate_ballots", "ignore_accepted_value",
           "no_accept_retransmit"]

#: Multi-Paxos scenarios run with this seed; its first leader is ``n2``, elected at
#: about 0.17 s.
MULTI_SEED = 1
MULTI_LEADER = "n2"


#: How many seeds, from its start, a scenario that needs a lucky run tries.
SEARCH = 200

_FOUND: dict = {}


def _run(name, bug, variant, seed, duration, **kw):
    check_bool("bug", bug)
    variant = check_choice("variant", variant, VARIANTS)
    run = simulate(3, variant=variant, seed=seed, duration=duration,
                   bugs={name} if bug else (), **kw)
    run.params["scenario"] = name
    return run


def _searched(key, start, make, shows):
    """The first seed from ``start`` on whose buggy run ``make(seed)`` has a verdict for
    which ``shows`` is true; searched once per ``key`` and process."""
    if key not in _FOUND:
        from .checker import check
        for seed in range(start, start + SEARCH):
            if shows(check(make(seed))):
                _FOUND[key] = seed
                break
        else:
            raise RuntimeError(f"no seed in [{start}, {start + SEARCH}) shows the bug of "
                               f"scenario {key!r}; the scenario no longer forces it")
    return _FOUND[key]


def _amnesia():
    """Both followers crash and restart (losing their logs), then the leader crashes."""
    a, b = [x for x in ("n1", "n2", "n3") if x != MULTI_LEADER]
    return [sim.Crash(a, at=0.5), sim.Crash(b, at=0.5), sim.Restart(a, at=0.52),
            sim.Restart(b, at=0.52), sim.Crash(MULTI_LEADER, at=0.53)]


def ignore_accepted_value(bug: bool = False, *, variant: str = "single") -> sim.Run:
    """P2c: a proposer must adopt the value of the highest ballot its quorum accepted.

    Single-decree: ``n2`` is cut off from ``n1`` and ``n3`` until 0.3 s, so ``n1`` gets
    ``'v1'`` chosen by ``{n1, n3}``.  After the heal ``n2`` runs a higher ballot; a promise
    from ``n1`` or ``n3`` reports ``'v1'``, which a correct ``n2`` proposes again.  With the
    bug it proposes its own ``'v2'``, and a second value is chosen for slot 0.

    Multi-Paxos: the leader ``n2`` has commands chosen; at 0.5 s both followers crash and
    restart with empty logs (their acceptor state is durable), and at 0.53 s ``n2``
    crashes.  The new leader's phase-1 quorum reports every accepted command; a correct
    leader re-proposes them, a buggy one fills those slots with no-ops.

    Examples
    --------
    >>> from dsalgo import paxos
    >>> bool(paxos.check(ignore_accepted_value())), bool(paxos.check(ignore_accepted_value(bug=True)))
    (True, False)
    >>> bad = paxos.check(ignore_accepted_value(bug=True, variant="multi"))
    >>> bool(bad), bad.holds("agreement")
    (False, False)
    """
    if variant == "multi":
        return _run("ignore_accepted_value", bug, variant, MULTI_SEED, 1.5, faults=_amnesia())
    return _run("ignore_accepted_value", bug, variant, 0, 1.0,
                faults=[sim.Partition([["n2"], ["n1", "n3"]], at=0.0, until=0.3)])


def acceptor_forgets_promise(bug: bool = False, *, variant: str = "single") -> sim.Run:
    """An acceptor's promise and accepted proposals must survive a restart.

    Single-decree: ``n2`` is cut off until 0.3 s while ``n1`` gets ``'v1'`` chosen by
    ``{n1, n3}``; at 0.1 s ``n1`` and ``n3`` crash, and ``n3`` restarts at 0.15 s (``n1``
    stays down).  After the heal ``n2`` asks ``{n2, n3}``: a correct ``n3`` reports
    ``'v1'`` from its disk; a forgetful one reports nothing, so ``n2`` gets ``'v2'`` chosen.

    Multi-Paxos: as in :func:`ignore_accepted_value`, the followers restart and the leader
    ``n2`` crashes; forgetful acceptors come back with nothing accepted, so the new leader
    proposes new commands in slots that were already chosen.

    Examples
    --------
    >>> from dsalgo import paxos
    >>> bool(paxos.check(acceptor_forgets_promise())), bool(paxos.check(acceptor_forgets_promise(bug=True)))
    (True, False)
    """
    if variant == "multi":
        return _run("acceptor_forgets_promise", bug, variant, MULTI_SEED, 1.5,
                    faults=_amnesia())
    return _run("acceptor_forgets_promise", bug, variant, 0, 1.0, faults=[
        sim.Partition([["n2"], ["n1", "n3"]], at=0.0, until=0.3),
        sim.Crash("n1", at=0.1), sim.Crash("n3", at=0.1), sim.Restart("n3", at=0.15)])


def duplicate_ballots(bug: bool = False, *, variant: str = "single") -> sim.Run:
    """Two proposers must never share a ballot.

    Single-decree: on equal 10 ms links ``n1`` and ``n2`` both start at once.  Correctly
    their first ballots are ``(1, 'n1')`` and ``(1, 'n2')``, ordered, so one preempts the
    other.  With the bug both are ``(1, '')``: every acceptor promises and accepts both,
    ``'v1'`` and ``'v2'`` are both chosen, and ``one_value_per_ballot`` sees the root cause.

    Multi-Paxos: every election timeout is exactly 0.2 s, so all three servers campaign at
    once; with the bug all use ballot ``(1, '')``, all become leader and fill the same
    slots with different commands.

    Examples
    --------
    >>> from dsalgo import paxos
    >>> v = paxos.check(duplicate_ballots(bug=True))
    >>> bool(paxos.check(duplicate_ballots())), v.holds("agreement"), v.holds("one_value_per_ballot")
    (True, False, False)
    """
    if variant == "multi":
        return _run("duplicate_ballots", bug, variant, MULTI_SEED, 1.5,
                    election_timeout=(0.2, 0.2))
    return _run("duplicate_ballots", bug, variant, 0, 1.0,
                network=sim.Network(latency=sim.Constant(0.01)))


def dedup_at_leader_only(bug: bool = False, *, variant: str = "multi") -> sim.Run:
    """Each client operation takes effect once, even when a retry is decided twice.

    Multi-Paxos only (the bug lives in the replicas of the key-value store), three
    clients on one key.  The leader ``n2`` keeps sending ``Accept`` messages, but from
    0.6 s its followers' replies no longer reach it (a one-way cut), and at 0.65 s it
    crashes: the commands it had sent last are accepted by ``n1`` and ``n3``, not
    decided.  Their clients retry at the other servers; the next leader re-proposes the
    accepted commands (it must) and, when a retry reaches it before the re-proposed slot
    is applied, proposes the retried command again at a later slot.  A correct replica
    executes it at the first slot only; with ``dedup_at_leader_only`` every replica
    executes it again, so it overwrites what other clients wrote meanwhile:
    exactly-once names the double execution (and state-machine safety a ``get`` whose
    answer the log does not give, when one reads in between).  The retry must race the
    application, so the seed is the first from :data:`MULTI_SEED` on under which the
    buggy run executes a command twice.  (The history alone stays linearizable: the
    retries span the overwrite, so clients could not tell.)

    Examples
    --------
    >>> from dsalgo import paxos
    >>> bool(paxos.check(dedup_at_leader_only()))
    True
    >>> v = paxos.check(dedup_at_leader_only(bug=True))
    >>> v.holds("exactly_once"), v.holds("agreement")
    (False, True)
    >>> v.violations.query("property == 'exactly_once'")["detail"].iloc[0]
    'n... executed op ... of c... twice (first at t=...s): a retried command was applied again'
    """
    variant = check_choice("variant", variant, VARIANTS)
    if variant != "multi":
        raise ValueError("variant must be 'multi' for dedup_at_leader_only (single-decree "
                         "Paxos has no clients to retry); got 'single'")
    check_bool("bug", bug)

    def make(seed, bug=True):
        return _run("dedup_at_leader_only", bug, variant, seed, 1.5, clients=3, keys=1,
                    faults=[sim.Partition([["n1", "n3"], [MULTI_LEADER]], at=0.6, until=0.9,
                                          one_way=True),
                            sim.Crash(MULTI_LEADER, at=0.65),
                            sim.Restart(MULTI_LEADER, at=0.9)])

    seed = _searched(("dedup_at_leader_only", variant), MULTI_SEED, make,
                     lambda v: not v.holds("exactly_once"))
    return make(seed, bug)


def no_accept_retransmit(bug: bool = False, *, variant: str = "multi") -> sim.Run:
    """A leader re-sends an ``Accept`` until a quorum has answered it.

    Multi-Paxos only, three closed-loop clients that give an operation up after 0.1 s.
    For 20 ms from 0.5 s the leader ``n2`` cannot reach its followers (a one-way cut, far
    shorter than an election timeout, so it stays leader): the ``Accept`` messages it
    sends then are lost.  A correct leader re-sends them with a later heartbeat and every
    slot is decided; with ``no_accept_retransmit`` those slots never are, replicas apply
    in slot order, so no command takes effect again and clients wait in vain.  The short
    client timeout makes the stuck clients give up and ask again after the heal, so
    there is work to judge.  Safety holds in both runs; ``leader_and_commit`` fails with
    the bug (a leader is up, but nothing commits within grace of the heal).

    Examples
    --------
    >>> from dsalgo import paxos
    >>> v = paxos.check(no_accept_retransmit(bug=True))
    >>> bool(paxos.check(no_accept_retransmit())), bool(v.safety), bool(v.progress)
    (True, True, False)
    >>> v.violations["detail"][0]
    'no client command applied within 0.75s of the last fault healing at t=0.52s with quorums up'
    """
    variant = check_choice("variant", variant, VARIANTS)
    if variant != "multi":
        raise ValueError("variant must be 'multi' for no_accept_retransmit (single-decree "
                         "proposers retry by ballot); got 'single'")
    return _run("no_accept_retransmit", bug, variant, MULTI_SEED, 1.5, clients=3,
                client_timeout=0.1, faults=[sim.Partition([[MULTI_LEADER], ["n1", "n3"]], at=0.5, until=0.52,
                                      one_way=True)])


def reply_before_sync(bug: bool = False, *, variant: str = "multi",
                      storage: bool = True) -> sim.Run:
    """Acceptors answer only once their promise or acceptance is durable.

    Multi-Paxos only, three clients, syncs of 10 ms (``storage=False``: no time), a LAN
    (exponential, mean 2 ms), short timeouts, and a seeded crash nemesis (3 crashes a
    second, 50 ms each) for 4 s.  Correctly every reply waits for its sync, so a crash
    only takes back what no proposer counted; with ``reply_before_sync`` a leader counts
    an acceptance that a crash then erases, a later leader does not learn it, and a
    second value is decided for a slot (``agreement``).  A crash must strike inside a
    sync window, so the seed is the first from 1 on under which the buggy run with
    storage breaks agreement; with instant storage (same seed) the bug changes nothing.

    Examples
    --------
    >>> from dsalgo import paxos
    >>> bool(paxos.check(reply_before_sync()).safety)
    True
    >>> paxos.check(reply_before_sync(bug=True)).holds("agreement")
    False
    >>> bool(paxos.check(reply_before_sync(bug=True, storage=False)).safety)
    True
    """
    variant = check_choice("variant", variant, VARIANTS)
    check_bool("storage", storage)
    if variant != "multi":
        raise ValueError("variant must be 'multi' for reply_before_sync (the single-decree "
                         "variant does not wait for syncs); got 'single'")
    check_bool("bug", bug)

    def make(seed, bug=True, storage=True):
        return _run("reply_before_sync", bug, variant, seed, 4.0, clients=3,
                    storage=sim.Storage(sync=sim.Constant(0.01)) if storage else None,
                    faults=[sim.Nemesis(crash=3.0, mean_duration=0.05)],
                    network=sim.Network(latency=sim.Exponential(0.002)),
                    election_timeout=(0.05, 0.1), heartbeat_interval=0.02)

    seed = _searched(("reply_before_sync", variant), 1, make,
                     lambda v: not v.holds("agreement"))
    return make(seed, bug, storage)


def _lossy_nemesis(**rates):
    """The randomized search's setting: a lossy network and a crash-and-partition nemesis
    of 50 ms faults on three servers (at most two down), plus ``rates``."""
    return dict(network=sim.Network(latency=sim.Exponential(mean=0.005), drop_rate=0.05,
                                    duplicate_rate=0.05),
                faults=[sim.Nemesis(crash=8.0, partition=2.0, mean_duration=0.05,
                                    max_crashed=2, **rates)])


def accept_below_promise(bug: bool = False, *, variant: str = "single") -> sim.Run:
    """An acceptor that promised a ballot never accepts a lower one.

    Both variants: a seeded run under the randomized search's faults (a lossy network,
    crashes and partitions of 50 ms on three servers).  With the bug an acceptor compares
    an ``Accept`` with the highest ballot it has accepted rather than the one it promised,
    so a late ``Accept`` of a preempted proposer is accepted after a higher promise;
    ``ballots_never_decrease`` sees it in the acceptor's own ``promise`` and ``accepted``
    events, whether or not a second value ends up chosen.  A late ``Accept`` must meet a
    higher promise, so the seed is the first (from 1 single-decree, from 27 Multi-Paxos)
    under which the buggy run breaks ``ballots_never_decrease``.

    Examples
    --------
    >>> from dsalgo import paxos
    >>> v = paxos.check(accept_below_promise(bug=True))
    >>> bool(paxos.check(accept_below_promise())), v.holds("ballots_never_decrease")
    (True, False)
    >>> v.violations.query("property == 'ballots_never_decrease'")["detail"].iloc[0]
    "acceptor n... accepted a proposal at ballot (..., 'n...') after it had promised ballot (..., 'n...') at t=...s"
    >>> paxos.check(accept_below_promise(bug=True, variant="multi")).holds("ballots_never_decrease")
    False
    """
    variant = check_choice("variant", variant, VARIANTS)
    check_bool("bug", bug)
    extra = {} if variant == "multi" else {"proposers": 3}

    def make(seed, bug=True):
        return _run("accept_below_promise", bug, variant, seed, 1.0, **extra,
                    **_lossy_nemesis())

    seed = _searched(("accept_below_promise", variant), 27 if variant == "multi" else 1,
                     make, lambda v: not v.holds("ballots_never_decrease"))
    return make(seed, bug)


def reply_before_write(bug: bool = False, *, variant: str = "single",
                       crash_points: bool = True) -> sim.Run:
    """An acceptor writes its promise or acceptance before it answers.

    Without a storage model a handler's effects happen in the order it makes them; with
    handlers atomic that order cannot matter, but a crash point inside the handler
    (:class:`dsalgo.sim.CrashPoint`) can strike between the answer and the write.
    Single-decree: the randomized search's faults plus crash points (8 a second, each
    after one effect).  Multi-Paxos: three clients, short timeouts, crash points (6 a
    second) and delayed duplicates.  With the bug an acceptor's promise goes out and the
    crash takes the write back: the restarted acceptor accepts below what it promised
    (``ballots_never_decrease``) or a counted acceptance is forgotten and a second value
    chosen (``agreement``).  A crash point must strike between an answer and its write,
    so the seed is the first (from 1 single-decree, from 3 Multi-Paxos) under which the
    buggy run with crash points is unsafe.  Without crash points
    (``crash_points=False``, same seed) the bug changes nothing.

    Examples
    --------
    >>> from dsalgo import paxos
    >>> bool(paxos.check(reply_before_write())), bool(paxos.check(reply_before_write(bug=True)))
    (True, False)
    >>> bool(paxos.check(reply_before_write(bug=True, crash_points=False)))
    True
    >>> bool(paxos.check(reply_before_write(bug=True, variant="multi")).safety)
    False
    """
    variant = check_choice("variant", variant, VARIANTS)
    check_bool("crash_points", crash_points)
    check_bool("bug", bug)
    rate = 6.0 if variant == "multi" else 8.0

    def make(seed, bug=True, crash_points=True):
        points = dict(crash_point=rate, crash_point_after=1) if crash_points else {}
        if variant == "multi":
            return _run("reply_before_write", bug, variant, seed, 3.0, clients=3,
                        election_timeout=(0.05, 0.1), heartbeat_interval=0.02,
                        network=sim.Network(latency=sim.Exponential(mean=0.005),
                                            drop_rate=0.02, duplicate_rate=0.02),
                        faults=[sim.Nemesis(partition=1.0, max_crashed=1,
                                            delayed_duplicate=10.0,
                                            mean_duration={"crash": 0.05,
                                                           "partition": 0.1,
                                                           "delayed_duplicate": 0.2},
                                            **points)])
        return _run("reply_before_write", bug, variant, seed, 1.0, proposers=3,
                    **_lossy_nemesis(**points))

    seed = _searched(("reply_before_write", variant), 3 if variant == "multi" else 1, make,
                     lambda v: not v.safety)
    return make(seed, bug, crash_points)


def stale_votes(bug: bool = False, *, variant: str = "single") -> sim.Run:
    """A proposer counts only the votes of its current ballot.

    Single-decree only, six servers all proposing, a lossy network, crashes, partitions
    and pauses, and delayed duplicates of ``Accepted`` replies (old votes arriving
    late).  With the bug a proposer keeps the votes of its earlier ballots, so votes of
    two ballots make up its "quorum": it decides a value no phase-2 quorum accepted in
    one ballot, which ``decided_by_quorum`` names.

    Examples
    --------
    >>> from dsalgo import paxos
    >>> v = paxos.check(stale_votes(bug=True))
    >>> bool(paxos.check(stale_votes())), v.holds("decided_by_quorum")
    (True, False)
    """
    variant = check_choice("variant", variant, VARIANTS)
    if variant != "single":
        raise ValueError("variant must be 'single' for stale_votes (a Multi-Paxos leader "
                         "counts votes per slot and ballot); got 'multi'")
    check_bool("bug", bug)
    run = simulate(6, variant="single", seed=0, duration=1.0, proposers=6,
                   bugs={"stale_votes"} if bug else (), backoff=(0.0, 0.01),
                   retry_timeout=0.05,
                   network=sim.Network(latency=sim.Exponential(mean=0.005), drop_rate=0.05,
                                       duplicate_rate=0.05),
                   faults=[sim.Nemesis(crash=4.0, partition=2.0, pause=2.0, max_crashed=5,
                                       delayed_duplicate=20.0, duplicate_kinds=["Accepted"],
                                       mean_duration={"crash": 0.05, "partition": 0.05,
                                                      "pause": 0.05,
                                                      "delayed_duplicate": 0.05})])
    run.params["scenario"] = "stale_votes"
    return run


#: The bugs that break agreement (each scenario runs in both variants).
AGREEMENT_BUGS = ("acceptor_forgets_promise", "ignore_accepted_value", "duplicate_ballots")

SCENARIOS = {f.__name__: f for f in (acceptor_forgets_promise, ignore_accepted_value,
                                     duplicate_ballots, dedup_at_leader_only,
                                     no_accept_retransmit, reply_before_sync,
                                     accept_below_promise, reply_before_write, stale_votes)}
"""Every scenario by the name of the bug it shows."""
