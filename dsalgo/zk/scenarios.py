"""Scripted runs of the ensemble: one per broadcast bug, a stale read, a paused lock holder.

The broadcast scenarios follow :mod:`dsalgo.raft.scenarios` on the ensemble's servers:
constant 10 ms links, election timeouts far longer than the run (nobody campaigns unless
told), and a director ``c1`` (:class:`dsalgo.raft.scenarios.Director`) that tells a server
to campaign (``TimeoutNow``) and hands writes to the leader (``Forward``) at fixed times.
The same script runs the correct ensemble and the broken one, so :func:`dsalgo.zk.check`
tells them apart:

=============================  ==========================  ============================
scenario                       bug                         property it breaks
=============================  ==========================  ============================
:func:`two_leaders`            ``forget_vote_on_restart``  ``one_leader_per_epoch``
:func:`lost_commit`            ``no_up_to_date_check``     ``no_lost_commit``
:func:`diverged_history`       ``no_truncate_on_conflict`` ``zxid_order``
:func:`stale_read`             ``sync_served_locally``     ``linearizability`` (sync)
=============================  ==========================  ============================

:func:`paused_lock_holder` is the lock recipe on the ensemble with its holder paused past
its session timeout: the leader expires the session and deletes its ephemeral znode while
the holder still believes it holds the lock.
"""

from __future__ import annotations

from .. import sim
from .._validate import check_bool, check_number
from ..raft.messages import TimeoutNow
from ..raft.scenarios import Director
from .client import KVClient
from .harness import Config, ensemble_server
from .messages import Forward
from .tree import Txn

__all__ = ["SCENARIOS", "diverged_history", "lost_commit", "paused_lock_holder",
           "scripted", "stale_read", "two_leaders"]

LATENCY = 0.010
_QUIET = (100.0, 100.0)  # election timeouts nobody reaches


def _open():
    """The director's own session (timeout longer than any run), opened first."""
    return Forward(0, Txn("c1", 0, 0, "open", data=("c1", 100.0)))


def _set(req, value, path="/x"):
    """A write of the director's session 1 (the first session opened)."""
    return Forward(0, Txn("c1", 1, req, "create" if req == 1 else "set", path, value))


def scripted(n, script, faults=(), *, until, bugs=(), clients=(), seed=0, network=None,
             **knobs) -> sim.Run:
    """Run an ensemble of ``n`` servers under a director's ``script`` and fixed ``faults``.

    Parameters
    ----------
    n : int
        Servers ``n1…``; with the default election timeout (100 s) only the script's
        ``TimeoutNow`` messages start elections.
    script : list of (float, str, message)
        What the director ``c1`` sends, to whom, when.
    faults : iterable of dsalgo.sim faults
        At fixed times.
    until : float
        End of the run.
    bugs : collection of str
        Names of :data:`dsalgo.zk.BUGS`.
    clients : list of dict
        Key-value clients ``c2…`` to add, each the keyword arguments of
        :class:`~dsalgo.zk.client.KVClient` besides the servers (``workload``, ``first``,
        ``reads``, ``start``, ``max_ops`` …).
    seed : int
        The run's seed.
    network : dsalgo.sim.Network, optional
        Default: constant 10 ms links.
    **knobs
        Fields of :class:`dsalgo.zk.Config`.

    Examples
    --------
    >>> run = scripted(3, [(0.1, "n1", TimeoutNow())], until=0.3)
    >>> run.events.query("kind == 'leader_elected'")[["node", "term"]].to_dict("records")
    [{'node': 'n1', 'term': 1}]
    """
    knobs.setdefault("election_timeout", _QUIET)
    config = Config(bugs=bugs, **knobs)
    if network is None:
        network = sim.Network(latency=sim.Constant(LATENCY))
    cluster = sim.Cluster("zk", n, config, seed=seed, network=network)
    servers = cluster.servers
    cluster.add_servers(lambda sid: ensemble_server(servers, config))
    cluster.add_clients(1, lambda cid: Director(script))
    for options in clients:
        cluster.add_clients(1, lambda cid, o=dict(options): KVClient(servers, **o))
    cluster.params["scenario"] = True
    return cluster.run(until, faults)


def two_leaders(bug: bool = False) -> sim.Run:
    """A vote must survive a restart.  ``n1`` and ``n2`` cannot hear each other; ``n3``
    votes for ``n1`` in epoch 1 (and then stops hearing ``n1``), crashes and restarts; then ``n2`` asks for its vote in
    epoch 1.  With ``forget_vote_on_restart`` ``n3`` votes again: two leaders of epoch 1.

    Examples
    --------
    >>> from dsalgo import zk
    >>> v = zk.check(two_leaders(bug=True))
    >>> bool(zk.check(two_leaders())), sorted(set(v.violations["property"]))
    (True, ['one_leader_per_epoch'])
    """
    check_bool("bug", bug)
    script = [(0.10, "n1", TimeoutNow()), (0.30, "n2", TimeoutNow())]
    # n3 hears n1's request for its vote but not the new epoch's first entry (a no-op),
    # so after the restart its history is as empty as n2's
    faults = [sim.Partition([["n1"], ["n2"]], at=0.0, until=1.0),
              sim.Partition([["n1"], ["n3"]], at=0.125, until=1.0, one_way=True),
              sim.Crash("n3", at=0.20), sim.Restart("n3", at=0.25)]
    return scripted(3, script, faults, until=0.6,
                    bugs={"forget_vote_on_restart"} if bug else ())


def lost_commit(bug: bool = False) -> sim.Run:
    """A new leader must hold every committed write.  ``n1`` leads epoch 1 and commits
    ``/x = a`` on ``n1…n3`` (``n4``, ``n5`` do not hear it), then crashes; ``n5``, whose
    history is empty, campaigns.  Correct voters refuse it; with ``no_up_to_date_check``
    they elect it and its epoch overwrites the committed write.

    Examples
    --------
    >>> from dsalgo import zk
    >>> v = zk.check(lost_commit(bug=True))
    >>> bool(zk.check(lost_commit())), "no_lost_commit" in set(v.violations["property"])
    (True, True)
    """
    check_bool("bug", bug)
    script = [(0.10, "n1", TimeoutNow()), (0.15, "n1", _open()), (0.20, "n1", _set(1, "a")),
              (0.60, "n5", TimeoutNow()), (0.70, "n5", _open())]
    faults = [sim.Partition([["n1"], ["n4", "n5"]], at=0.135, until=0.5, one_way=True),
              sim.Crash("n1", at=0.5)]
    return scripted(5, script, faults, until=1.0, bugs={"no_up_to_date_check"} if bug else ())


def diverged_history(bug: bool = False) -> sim.Run:
    """A follower must drop transactions the new leader does not have.  ``n1`` (epoch 1)
    takes a write nobody else hears and crashes; ``n2`` (epoch 2) commits other writes with
    ``n3``; ``n1`` returns.  Correctly it truncates its history to the leader's; with
    ``no_truncate_on_conflict`` it keeps its own transaction and applies it at a zxid where
    the others applied another.

    Examples
    --------
    >>> from dsalgo import zk
    >>> v = zk.check(diverged_history(bug=True))
    >>> bool(zk.check(diverged_history())), "zxid_order" in set(v.violations["property"])
    (True, True)
    """
    check_bool("bug", bug)
    script = [(0.10, "n1", TimeoutNow()), (0.20, "n1", _open()),
              (0.40, "n2", TimeoutNow()), (0.50, "n2", _open()), (0.55, "n2", _set(1, "b")),
              (0.80, "n2", _set(2, "c"))]
    faults = [sim.Partition([["n1"], ["n2", "n3"]], at=0.135, until=0.5, one_way=True),
              sim.Crash("n1", at=0.30), sim.Restart("n1", at=0.60)]
    return scripted(3, script, faults, until=1.0,
                    bugs={"no_truncate_on_conflict"} if bug else ())


def stale_read(reads: str = "local", *, bug: bool = False, lag: float = 0.2,
               seed: int = 0) -> sim.Run:
    """A follower behind the leader answers a read with a value already overwritten.

    ``n1`` is made leader; the link from ``n1`` to ``n3`` takes ``lag`` seconds one way
    (``n3`` hears of every commit late but still follows).  Client ``c2``, connected to
    ``n1``, writes ``0, 1, 2 …`` to key 0; client ``c3``, connected to ``n3``, reads it.
    With ``reads="local"`` ``c3`` reads values overwritten up to ``lag`` earlier: the
    history is not linearizable.  With ``reads="sync"`` each read waits for a ``sync``
    through the leader and is current; with ``bug=True`` (``sync_served_locally``) the
    sync is answered at once and the read is stale again.

    Examples
    --------
    >>> from dsalgo import check, zk
    >>> lin = lambda run: bool(check.linearizable(run.history, "kv"))
    >>> lin(stale_read("local")), lin(stale_read("sync")), lin(stale_read("sync", bug=True))
    (False, True, False)
    """
    check_bool("bug", bug)
    lag = check_number("lag", lag, low=0.0)
    net = sim.Network(latency=sim.Constant(LATENCY))
    net.set_link("n1", "n3", latency=sim.Constant(lag), symmetric=False)
    writer = dict(workload=sim.KVWorkload(keys=1, mix={"put": 1}), first=0, start=0.3,
                  think=0.02, max_ops=40)
    reader = dict(workload=sim.KVWorkload(keys=1, mix={"get": 1}), first=2, start=0.3,
                  think=0.03, max_ops=30, reads=reads)
    return scripted(3, [(0.05, "n1", TimeoutNow())], until=2.0, network=net,
                    clients=[writer, reader], bugs={"sync_served_locally"} if bug else (),
                    reads=reads, seed=seed, election_timeout=(10.0, 10.0))


def paused_lock_holder(pause: float | None = None, *, session_timeout: float = 1.0,
                       critical_section: float = 0.1, seed: int = 0, bugs=()) -> sim.Run:
    """The lock recipe on a 3-server ensemble, its holder paused past its session timeout.

    As :func:`dsalgo.locks.scenarios.zookeeper_session_expiry`, with
    ``ensemble=True``: ``c1`` acquires and is paused mid-work for ``pause`` seconds
    (default ``2 · session_timeout``).  Its server stops hearing its pings, the leader
    expires the session and deletes its ephemeral znode; ``c2`` is notified by its own
    server and acquires; ``c1`` wakes believing it still holds the lock, and its write is
    rejected by the fenced storage (or lands, with ``bugs={"no_fencing"}``).

    Examples
    --------
    >>> from dsalgo import locks, zk
    >>> run = paused_lock_holder()
    >>> v = locks.check(run)
    >>> v.holds("mutual_exclusion"), v.holds("storage_safety"), v.info["writes_rejected"]
    (False, True, 1)
    >>> run.events.query("kind == 'znode_deleted'")["reason"].tolist()[:1]
    ['session_expired']
    """
    from ..locks import scenarios as lock_scenarios  # the lock family's scripting

    session_timeout = check_number("session_timeout", session_timeout, low=0.0,
                                   low_open=True)
    pause = (2 * session_timeout if pause is None
             else check_number("pause", pause, low=0.0, low_open=True))
    critical_section = check_number("critical_section", critical_section, low=0.0,
                                    low_open=True)
    cluster = lock_scenarios._cluster(
        "zookeeper", 3, "paused_lock_holder", {"pause": pause}, clients=2,
        session_timeout=session_timeout, critical_section=critical_section, seed=seed,
        network=sim.Network(latency=sim.Constant(lock_scenarios.LATENCY)),
        starts=[0.5, 0.55], think=1.0, bugs=bugs, ensemble=True)
    at = 2 * lock_scenarios.LATENCY + critical_section / 2
    return lock_scenarios._after_acquire(
        cluster, "c1", lambda t: [sim.Pause("c1", at=t + at, duration=pause)],
        until=pause + 2.0)


SCENARIOS = {f.__name__: f for f in (two_leaders, lost_commit, diverged_history,
                                      stale_read, paused_lock_holder)}
"""Every scripted run of the ensemble, by name."""
