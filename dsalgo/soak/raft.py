"""Raft soaks: 1,000 seeded runs under a nemesis, each checked, and the bug hunts.

``raft`` runs the correct algorithm across n ∈ {3, 5, 7} (seed mod 3), with PreVote,
CheckQuorum and the read path varied by seed, on a lossy, duplicating network with
crashes, restarts, partitions, pauses and clock jumps; every run must pass
:func:`dsalgo.raft.check` (safety, what clients saw and progress once the faults heal,
0.8 s before the end), and across the runs leaders must have been elected, commands
committed and leaders changed, progress judged and recovery seen after a fault
(:func:`progress_counts`).  The director runs below never judge progress: their servers
do not time out by themselves.

:func:`hunt` is the other half: the same kind of runs with one teaching bug switched on,
counting the seeds in which the checker catches it.  ``commit_prior_term`` (Figure 8) and
``forget_vote_on_restart`` need several elections in quick succession with entries or
votes reaching chosen subsets of the servers, which a random crash-and-partition nemesis
almost never produces (0 catches of ``commit_prior_term`` in 1,050 such seeds), so their
hunts use :func:`director_run`: an election-forcing nemesis that tells random servers to
campaign (``TimeoutNow``), cuts random one-way links and crashes random servers every few
tens of milliseconds.  The correct algorithm passes it too (soak ``raft-director``);
``count_stale_votes`` and ``revote_for_newer_log`` are hunted there as well.

Five more profiles give the faults that matter (:data:`PROFILES` lists each soak's runs,
for ``hunt(bug, seeds, profile=...)``):

- ``raft-director-heavy`` (:func:`heavy_director_run`): the director on heavy-tailed,
  reordering links (:func:`heavy_tailed`), n ∈ {3, 4, 5, 6}: an AppendEntries overtaken
  by a later one, a vote reply of an old election arriving late.  Log-truncation mutants
  that constant FIFO links never trigger fall here.
- ``raft-reads`` (:func:`read_run`): read stress through the log and ReadIndex with the
  leader cut into a minority after elections, n ∈ {3, 4, 5, 6}; a read path that does not
  confirm leadership (``read_index_without_quorum``, or ``reads="local"``) serves stale
  reads and fails linearizability.
- ``raft-late`` (:func:`late_run`): delayed duplicates of Raft messages, old terms'
  votes, replies and AppendEntries delivered late, with the director (odd seeds) or the
  nemesis with clients and crashes inside handlers (even seeds), n ∈ {3, 4, 5, 6}.
- ``raft-even``: the ``raft`` soak with n ∈ {4, 6}.
- ``raft-deposed`` (:func:`deposed_run`): the leader cut off alone, its successor crashed
  for good before the cut heals, so the old leader's vote is needed and only refusals of
  its AppendEntries tell it of the newer term; a leader that ignores them and refuses
  pre-votes leaves the cluster without a leader for good.

Every trial also counts contested elections (``contested_terms``: two or more servers
campaigned in one term; ``contested_won``: such a term still elected a leader), which
the vote properties of :func:`dsalgo.raft.check` judge.
"""

from __future__ import annotations

import random

from .. import raft, sim
from ..check import Verdict
from . import Soak

__all__ = ["DIRECTOR_BUGS", "HARD_HUNT", "PROFILES", "SOAKS", "deposed_run", "director_run",
           "heavy_director_run", "heavy_tailed", "hunt", "late_run", "nemesis_run", "progress_counts", "read_run"]


def _network():
    return sim.Network(latency=sim.Exponential(mean=0.005), drop_rate=0.02,
                       duplicate_rate=0.01)


def heavy_tailed() -> sim.Network:
    """Heavy-tailed, reordering links: log-normal delays, median 4 ms and shape 1.2 (one
    message in a hundred takes over 65 ms, one in a thousand over 160 ms), no FIFO order,
    so a reply of an old election or an old AppendEntries often arrives after newer ones.

    Examples
    --------
    >>> heavy_tailed().fifo, round(heavy_tailed().latency.mean, 4)
    (False, 0.0082)
    """
    return sim.Network(latency=sim.LogNormal(median=0.004, sigma=1.2), fifo=False)


def nemesis_run(seed: int, *, bugs=(), duration: float = 3.0, n: int | None = None):
    """One soak run: returns ``(run, verdict)``; ``n`` servers (default 3, 5 or 7 by
    ``seed``).

    Examples
    --------
    >>> run, verdict = nemesis_run(4)
    >>> bool(verdict), len(run.faults) > 0
    (True, True)
    """
    n = (3, 5, 7)[seed % 3] if n is None else n
    nemesis = sim.Nemesis(crash=1.5, partition=0.7, pause=0.5, clock_jump=0.2,
                          mean_duration=0.3, end=duration - 0.8)
    run = raft.simulate(n, seed=seed, duration=duration, network=_network(), faults=[nemesis],
                        clients=2, think=0.02, client_timeout=0.5, bugs=bugs,
                        prevote=(seed // 3) % 2 == 1, check_quorum=(seed // 6) % 2 == 1,
                        reads=("log", "read_index")[(seed // 12) % 2], record_messages=False)
    return run, raft.check(run)


def progress_counts(run, verdict) -> dict:
    """What the progress and exactly-once properties had to judge in one run: whether
    progress was judged (``progress_judged``), whether the cluster recovered after a
    fault (``recovered_after_fault``: judged, the run had faults, a leader and a commit
    came), whether no leader of the newest term was up when the faults healed
    (``leaderless_at_heal``: one had to be elected under the fairness condition) and
    how many retried commands replicas answered from their memory instead of executing
    them again (``duplicates_suppressed``).  Shared by the Raft and Multi-Paxos soaks.

    Examples
    --------
    >>> run, verdict = nemesis_run(4)
    >>> sorted(progress_counts(run, verdict))
    ['duplicates_suppressed', 'leaderless_at_heal', 'progress_judged', 'recovered_after_fault']
    """
    r = verdict.info.get("recovery") or {}
    judged = bool(r.get("judged"))
    ev = run.events
    suppressed = 0
    if "executed" in ev.columns:
        ap = ev.loc[(ev["kind"] == "apply") & ev["process"].notna(), "executed"]
        suppressed = int((ap == False).sum())  # noqa: E712 (an object column)
    t_leader, t_heal = r.get("t_leader"), r.get("t_heal")
    return {"progress_judged": int(judged),
            "recovered_after_fault": int(judged and len(run.faults) > 0
                                         and r.get("recovery") is not None),
            "leaderless_at_heal": int(judged and t_heal is not None and
                                      (t_leader is None or t_leader > t_heal)),
            "duplicates_suppressed": suppressed}


def _happened(run, verdict) -> dict:
    faults = run.faults["kind"].value_counts()
    ops = run.history["status"].value_counts()
    return {**progress_counts(run, verdict), **_votes(verdict),
            "leader_elected": verdict.info["leaders_elected"],
            "leader_changed": verdict.info["leader_changes"],
            "committed": verdict.info["max_commit_index"],
            "ops_ok": int(ops.get("ok", 0)), "cas_failed": int(ops.get("fail", 0)),
            "ops_info": int(ops.get("info", 0)),
            "crash": int(faults.get("crash", 0)), "partition": int(faults.get("partition", 0)),
            "pause": int(faults.get("pause", 0))}


def _votes(verdict) -> dict:
    """What the two vote properties judged: terms two or more servers campaigned in, and
    how many of them elected a leader anyway."""
    return {"contested_terms": verdict.info.get("contested_terms", 0),
            "contested_won": verdict.info.get("contested_won", 0)}


def _trial(seed: int) -> tuple[Verdict, dict]:
    run, verdict = nemesis_run(seed)
    return verdict, _happened(run, verdict)


def _even_trial(seed: int) -> tuple[Verdict, dict]:
    run, verdict = _even_run(seed)
    return verdict, _happened(run, verdict)


#: The Raft messages a late duplicate may be a copy of.
RAFT_MESSAGES = ("RequestVote", "RequestVoteReply", "AppendEntries", "AppendEntriesReply")


def late_run(seed: int, *, bugs=(), n: int | None = None, duration: float = 3.0,
             director: bool | None = None):
    """A run with old messages arriving late: returns ``(run, verdict)``.

    With ``director`` (default: odd seeds) it is a :func:`director_run` (n 3, 4, 5 or 6
    by ``seed``) whose constant, FIFO links also deliver, 30 times a second, a copy of the
    next Raft message sent 0.2 s later on average (exponential): late votes, vote replies
    and AppendEntries of terms long gone, amid elections every 10–50 ms (the director's
    own crashes; no crash points, which would strike servers it then crashes again).

    Otherwise ``n`` servers (default 3, 4, 5 or 6 by ``seed``), elections quicker than the
    defaults (timeouts 50–100 ms, heartbeats every 20 ms) so terms pass quickly, two
    clients, PreVote and CheckQuorum varied by seed, on the lossy network of the ``raft``
    soak.  The nemesis crashes, partitions and pauses servers, crashes them *inside* a
    handler (a :class:`dsalgo.sim.CrashPoint`: after the first, second or third effect,
    the rest never happens) and, 25 times a second, catches the next Raft message sent
    and delivers it again 0.3 s later on average (exponential): a vote, a vote reply, an
    AppendEntries or its reply from an earlier term arriving after newer ones (a
    :class:`dsalgo.sim.DelayedDuplicate`).  Every fault is over 0.8 s before the end;
    checked like the ``raft`` soak (safety, the vote properties, exactly-once,
    linearizability, progress).

    Examples
    --------
    >>> run, verdict = late_run(0)
    >>> bool(verdict), int((run.faults["kind"] == "delayed_duplicate").sum()) > 10
    (True, True)
    >>> run, verdict = late_run(1)
    >>> bool(verdict), run.params["scenario"], verdict.info["contested_terms"] > 0
    (True, True, True)
    """
    n = (3, 4, 5, 6)[seed % 4] if n is None else n
    if (seed % 2 == 1) if director is None else director:
        late = sim.Nemesis(delayed_duplicate=30.0, duplicate_kinds=RAFT_MESSAGES,
                           mean_duration={"delayed_duplicate": 0.2}, end=duration - 0.2)
        return director_run(seed, bugs=bugs, n=n, duration=duration, faults=[late],
                            command_interval=0.02, step=(0.01, 0.05))
    nemesis = sim.Nemesis(crash=0.7, partition=0.7, pause=0.3, crash_point=1.0,
                          delayed_duplicate=25.0, duplicate_kinds=RAFT_MESSAGES,
                          mean_duration={"crash": 0.2, "partition": 0.3, "pause": 0.1,
                                         "delayed_duplicate": 0.3},
                          end=duration - 0.8)
    # and the votes of each election a second time, 30-200 ms later: in the voter's or the
    # candidate's next term, as often as not
    rng = random.Random(f"raft-late:{seed}")
    votes, t = [], 0.05
    while t < duration - 1.0:
        votes.append(sim.DelayedDuplicate(at=t, delay=sim.Uniform(0.03, 0.2), count=2,
                                          kinds=("RequestVote", "RequestVoteReply"),
                                          until=duration - 1.0))
        t += rng.uniform(0.05, 0.15)
    run = raft.simulate(n, seed=seed, duration=duration, network=_network(),
                        faults=[nemesis, *votes], clients=2, think=0.02, client_timeout=0.5,
                        bugs=bugs, election_timeout=(0.05, 0.1), heartbeat_interval=0.02,
                        prevote=(seed // 4) % 2 == 1, check_quorum=(seed // 8) % 2 == 1,
                        record_messages=False)
    return run, raft.check(run)


def _late_trial(seed: int) -> tuple[Verdict, dict]:
    run, verdict = late_run(seed)
    ev = run.events
    late = int((ev["kind"] == "delayed_duplicate").sum())
    points = int(ev["crash_point"].eq(True).sum()) if "crash_point" in ev.columns else 0
    return verdict, {**_happened(run, verdict), "late_copies": late,
                     "crash_points": points, "even_n": int(run.params["n"] % 2 == 0)}


def read_run(seed: int, *, bugs=(), reads: str | None = None, n: int | None = None,
             duration: float = 3.0):
    """A read-stress run: returns ``(run, verdict)``.

    ``n`` servers (default 3, 4, 5 or 6 by ``seed``) serve four clients whose operations
    are mostly reads (get 6 : put 2 : cas 1 on two keys) through the read path ``reads``
    (default ``"log"`` or ``"read_index"`` by seed; ``"local"`` is unsafe by design),
    with PreVote and CheckQuorum varied by seed, on a lossy, duplicating network.  The
    faults aim at the leader: each time a leader is elected (before the last 0.8 s), with
    probability 0.8 it is cut off, 0–100 ms later, for 0.3–1 s, together with a random
    minority of the others that still leaves it short of a majority, while the clients
    reach both sides; a deposed leader that still believes it leads is then asked to read.
    Checked for linearizability (a stale read fails it), exactly-once, the election and
    log properties, and progress once the cuts heal.

    Examples
    --------
    >>> run, verdict = read_run(5)
    >>> bool(verdict), run.params["reads"], int((run.faults["kind"] == "partition").sum()) > 0
    (True, 'read_index', True)
    """
    n = (3, 4, 5, 6)[seed % 4] if n is None else n
    reads = ("log", "read_index")[(seed // 4) % 2] if reads is None else reads
    cluster = raft.harness.build(n, seed=seed, network=_network(), bugs=bugs, clients=4,
                                 keys=2, mix={"get": 6, "put": 2, "cas": 1}, think=0.005,
                                 client_timeout=0.5, reads=reads, record_messages=False,
                                 prevote=(seed // 8) % 2 == 1,
                                 check_quorum=(seed // 16) % 2 == 1)
    rng = random.Random(f"raft-reads:{seed}")
    end = duration - 0.8
    busy = {"until": 0.0}

    def isolate(s, time, node, kind, fields):
        if kind != "leader_elected" or time < busy["until"] or time >= end - 0.15:
            return
        if rng.random() >= 0.8:
            return
        others = [x for x in cluster.servers if x != node]
        # the leader's side is short of a majority, the rest holds one
        with_leader = [node, *rng.sample(others, rng.randint(0, (n - 1) // 2 - 1))]
        rest = [x for x in cluster.servers if x not in with_leader]
        at = time + rng.uniform(0.0, 0.1)
        until = min(at + rng.uniform(0.3, 1.0), end)
        busy["until"] = until
        s.add_faults([sim.Partition([with_leader, rest], at=at, until=until)])

    cluster.sim.add_observer(isolate)
    run = cluster.run(duration)
    return run, raft.check(run)


def _reads_happened(run, verdict) -> dict:
    h = run.history
    gets = h[h["f"] == "get"]
    cuts = run.faults[run.faults["kind"] == "partition"]
    during = 0
    for t0, t1 in zip(cuts["t_start"], cuts["t_end"]):
        during += int(((gets["status"] == "ok") & (gets["t_complete"] > t0)
                       & (gets["t_invoke"] < t1)).sum())
    return {**_happened(run, verdict),
            "reads_ok": int((gets["status"] == "ok").sum()),
            "reads_during_cut": during,
            "read_index_runs": int(run.params["reads"] == "read_index"),
            "even_n": int(run.params["n"] % 2 == 0)}


def _read_trial(seed: int) -> tuple[Verdict, dict]:
    run, verdict = read_run(seed)
    return verdict, _reads_happened(run, verdict)


def director_run(seed: int, *, bugs=(), n: int = 5, duration: float = 3.0,
                 command_interval: float = 0.01, step=(0.02, 0.08), network=None,
                 faults=()):
    """A run under an *election-forcing* nemesis, drawn from ``seed``: servers never time
    out by themselves (election timeouts far beyond the run); instead, every 20–80 ms the
    nemesis does one of: tell a random server to campaign (``TimeoutNow``), cut a random
    server's outgoing links to a random subset of the others for 10–150 ms (one-way), or
    crash a random server and restart it 20–300 ms later.  A client command goes to a
    random server every 10 ms (only the leader takes it).  Leaders change every few tens
    of milliseconds and their entries reach arbitrary subsets of the cluster, the raw
    material of Figure 8.  ``network`` replaces the constant, FIFO 10 ms links (say, by
    :func:`heavy_tailed`); ``faults`` are added to the director's.  Returns ``(run,
    verdict)``.

    Examples
    --------
    >>> run, verdict = director_run(0)
    >>> bool(verdict), int((run.events["kind"] == "leader_elected").sum()) > 5
    (True, True)
    """
    rng = random.Random(f"raft-director:{seed}")
    servers = sim.server_ids(n)
    script, extra, faults = [], list(faults), []
    down_until = {s: -1.0 for s in servers}
    t = 0.05
    while t < duration - 0.5:
        up = [s for s in servers if down_until[s] < t]
        r = rng.random()
        if r < 0.5 and up:
            script.append((t, rng.choice(up), raft.TimeoutNow()))
        elif r < 0.8:
            src = rng.choice(servers)
            others = [s for s in servers if s != src]
            cut = rng.sample(others, rng.randint(1, len(others)))
            faults.append(sim.Partition([[src], cut], at=t, until=t + rng.uniform(0.01, 0.15),
                                        one_way=True))
        elif up and len(up) > 1:
            victim = rng.choice(up)
            back = t + rng.uniform(0.02, 0.3)
            down_until[victim] = back
            faults += [sim.Crash(victim, at=t), sim.Restart(victim, at=back)]
        t += rng.uniform(*step)
    for op in range(1, int(duration / command_interval) + 1):
        script.append((command_interval * (op - 1), rng.choice(servers),
                       raft.ClientRequest("c1", op, "put", "x", op)))
    bugs = sorted(bugs)
    if len(bugs) > 1:
        raise ValueError(f"bugs must name at most one bug for a director run (a scripted "
                         f"run takes one); got {bugs!r}")
    bug = bugs[0] if bugs else None
    run = raft.scenarios.scripted(n, sorted(script, key=lambda x: x[0]), faults + extra,
                                  until=duration, bug=bug, seed=seed, network=network)
    return run, raft.check(run)


def hunt(bug: str, seeds, profile: str | None = None) -> dict:
    """Run the bug's hunt over ``seeds``: which seeds the checker caught it in.

    ``profile`` names the soak whose runs hunt (a key of :data:`PROFILES`); by default
    the ``raft`` soak's runs, for the bugs of elections in quick succession
    (:data:`DIRECTOR_BUGS`) the director at :data:`HARD_HUNT` settings, and for
    ``read_index_without_quorum`` the ``raft-reads`` runs with ReadIndex reads.

    Returns ``{"bug", "profile", "runs", "caught", "first", "properties"}`` (``first`` is
    the first catching seed or ``None``; ``properties`` counts the violated properties).

    Examples
    --------
    >>> hunt("no_truncate_on_conflict", range(60))["caught"] > 0
    True
    >>> hunt("read_index_without_quorum", range(4, 8), profile="raft-reads")["caught"] > 0
    True
    """
    if bug not in raft.BUGS:
        raise ValueError(f"bug must be one of {', '.join(map(repr, raft.BUGS))}; got {bug!r}")
    if profile is not None and profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(map(repr, PROFILES))} or None; "
                         f"got {profile!r}")
    caught = []
    props: dict = {}
    seeds = list(seeds)
    for seed in seeds:
        if profile is not None:
            _, verdict = PROFILES[profile](seed, bugs=(bug,))
        elif bug in DIRECTOR_BUGS:
            _, verdict = director_run(seed, bugs=(bug,), **HARD_HUNT)
        elif bug == "read_index_without_quorum":
            _, verdict = read_run(seed, bugs=(bug,), reads="read_index")
        else:
            _, verdict = nemesis_run(seed, bugs=(bug,))
        if not verdict:
            caught.append(seed)
            for p in sorted(set(verdict.violations["property"])):  # not hash order
                props[p] = props.get(p, 0) + 1
    return {"bug": bug, "profile": profile or "default", "runs": len(seeds),
            "caught": len(caught),
            "first": caught[0] if caught else None, "properties": props}


# the director nemesis for the two bugs that need elections in quick succession: three
# servers, an action every 10-40 ms, a client command every 30 ms (so that a new leader
# often has no entry of its own term yet when an older entry reaches a majority)
HARD_HUNT = {"n": 3, "command_interval": 0.03, "step": (0.01, 0.04)}
#: The bugs :func:`hunt` looks for with the director by default.
DIRECTOR_BUGS = ("commit_prior_term", "forget_vote_on_restart", "count_stale_votes",
                 "revote_for_newer_log")


def _director_trial(seed: int) -> tuple[Verdict, dict]:
    run, verdict = _soak_director_run(seed)
    return verdict, _happened(run, verdict)


#: The heavy-tailed director: reordering log-normal links, n in {3, 4, 5, 6}.
HEAVY = {"command_interval": 0.02, "step": (0.01, 0.05)}


def heavy_director_run(seed: int, *, bugs=(), n: int | None = None):
    """:func:`director_run` on :func:`heavy_tailed` links with ``n`` servers (default 3,
    4, 5 or 6 by ``seed``): late replies of old elections and old AppendEntries overtaken
    by newer ones.  Returns ``(run, verdict)``.

    Examples
    --------
    >>> run, verdict = heavy_director_run(1)
    >>> bool(verdict), run.params["n"], verdict.info["contested_terms"] > 0
    (True, 4, True)
    """
    n = (3, 4, 5, 6)[seed % 4] if n is None else n
    return director_run(seed, bugs=bugs, n=n, network=heavy_tailed(), **HEAVY)


def _heavy_trial(seed: int) -> tuple[Verdict, dict]:
    run, verdict = heavy_director_run(seed)
    return verdict, {**_happened(run, verdict), "even_n": int(run.params["n"] % 2 == 0)}

def deposed_run(seed: int, *, bugs=(), n: int | None = None, duration: float = 3.0):
    """A leader deposed behind its back: returns ``(run, verdict)``.

    ``n`` servers (default 3 or 5 by ``seed``), two clients.  0.2 s after the first
    leader is elected it is cut off alone for 0.9 s; the others elect a new leader, which
    crashes for good 50 ms after its election (with five servers one more of them
    crashes with it), so that when the cut heals the old leader's vote is needed for a
    majority, and the only news of the newer term it gets are the refusals of its own
    AppendEntries (§5.1: it must step down on them).  PreVote and CheckQuorum by
    ``seed``: PreVote alone, both, neither.  A leader that ignores those refusals keeps
    leading its old term and, with PreVote and without CheckQuorum, refuses every
    pre-vote: no leader is ever elected again.  Checked like the ``raft`` soak.

    Examples
    --------
    >>> run, verdict = deposed_run(0)
    >>> bool(verdict), sorted(run.faults["kind"]), run.params["prevote"]
    (True, ['crash', 'partition'], True)
    """
    n = (3, 5)[seed % 2] if n is None else n
    mode = (seed // 2) % 3
    cluster = raft.harness.build(n, seed=seed, bugs=bugs, record_messages=False, clients=2,
                                 think=0.02, client_timeout=0.5, prevote=mode != 2,
                                 check_quorum=mode == 1)
    s = cluster.sim
    servers = cluster.servers
    state: dict = {}

    def watch(_sim, t, node, kind, _fields):
        if kind != "leader_elected":
            return
        if "old" not in state:
            state["old"], start = node, t + 0.2
            state["cut"] = (start, start + 0.9)
            rest = [x for x in servers if x != node] + cluster.clients
            s.add_faults(sim.Partition([[node], rest], at=start, until=start + 0.9))
        elif "new" not in state and node != state["old"] and t < state["cut"][1] - 0.1:
            state["new"] = node
            doomed = [node]
            if n >= 5:
                doomed.append(next(x for x in servers if x not in (node, state["old"])))
            s.add_faults([sim.Crash(x, at=t + 0.05) for x in doomed])

    s.add_observer(watch)
    run = cluster.run(duration)
    return run, raft.check(run)


def _deposed_trial(seed: int) -> tuple[Verdict, dict]:
    run, verdict = deposed_run(seed)
    p = run.params
    return verdict, {**_happened(run, verdict),
                     "prevote_without_check_quorum": int(p["prevote"] and not p["check_quorum"]),
                     "new_leader_crashed": int(len(run.faults.query("kind == 'crash'")) > 0)}


def _soak_director_run(seed: int, *, bugs=()):
    return director_run(seed, bugs=bugs, n=(3, 5)[seed % 2], command_interval=0.02,
                        step=(0.01, 0.05))


def _even_run(seed: int, *, bugs=()):
    return nemesis_run(seed, bugs=bugs, n=(4, 6)[seed % 2])


#: Soak name -> ``run(seed, bugs=...) -> (run, verdict)``: the runs each soak checks, for
#: :func:`hunt` with a broken variant.
PROFILES = {"raft": nemesis_run, "raft-director": _soak_director_run,
            "raft-director-heavy": heavy_director_run, "raft-reads": read_run,
            "raft-late": late_run, "raft-even": _even_run, "raft-deposed": deposed_run}


SOAKS = {
    "raft": Soak(trial=_trial, runs=1000,
                 sometimes=("leader_elected", "leader_changed", "committed", "ops_ok",
                            "cas_failed", "crash", "partition", "pause", "progress_judged",
                            "recovered_after_fault", "leaderless_at_heal",
                            "duplicates_suppressed"),
                 description="Raft KV under a nemesis (crash, partition, pause, clock jump, "
                             "2% loss, 1% duplication), n in {3, 5, 7}: the five safety "
                             "properties of Figure 3, exactly-once, linearizability and "
                             "progress after the faults heal"),
    "raft-director": Soak(trial=_director_trial, runs=1000,
                          sometimes=("leader_elected", "leader_changed", "committed",
                                     "crash", "partition"),
                          description="Raft under the election-forcing director nemesis "
                                      "(a campaign, a one-way cut or a crash every "
                                      "10-50 ms), n in {3, 5}: the five safety properties"),
    "raft-director-heavy": Soak(
        trial=_heavy_trial, runs=1000,
        sometimes=("leader_elected", "leader_changed", "committed", "crash", "partition",
                   "contested_terms", "contested_won", "even_n"),
        description="The director nemesis on heavy-tailed, reordering links (log-normal, "
                    "median 4 ms, sigma 1.2), n in {3, 4, 5, 6}: the log and election "
                    "properties, the vote majority and one vote per term"),
    "raft-reads": Soak(
        trial=_read_trial, runs=1000,
        sometimes=("leader_elected", "leader_changed", "committed", "partition", "reads_ok",
                   "reads_during_cut", "read_index_runs", "even_n", "progress_judged",
                   "recovered_after_fault", "contested_terms"),
        description="Read stress (get 6 : put 2 : cas 1, two keys, reads by log entry or "
                    "ReadIndex) with the leader cut off into a minority after elections, "
                    "n in {3, 4, 5, 6}: linearizability (no stale read), exactly-once, "
                    "safety and progress"),
    "raft-late": Soak(
        trial=_late_trial, runs=1000,
        sometimes=("leader_elected", "leader_changed", "committed", "ops_ok", "crash",
                   "partition", "late_copies", "crash_points", "progress_judged",
                   "recovered_after_fault", "contested_terms", "even_n"),
        description="Old messages late: delayed duplicates of votes, vote replies and "
                    "AppendEntries (25 a second, 0.3 s late on average) with crashes inside "
                    "handlers, crashes, partitions and pauses, n in {3, 4, 5, 6}, quick "
                    "elections: safety, the vote properties, exactly-once, "
                    "linearizability and progress"),
    "raft-even": Soak(
        trial=_even_trial, runs=1000,
        sometimes=("leader_elected", "leader_changed", "committed", "ops_ok", "crash",
                   "partition", "pause", "progress_judged", "recovered_after_fault",
                   "contested_terms"),
        description="The raft soak with even cluster sizes, n in {4, 6} (a majority is "
                    "n/2 + 1): safety, exactly-once, linearizability and progress"),
    "raft-deposed": Soak(
        trial=_deposed_trial, runs=300,
        sometimes=("leader_changed", "committed", "ops_ok", "crash", "partition",
                   "progress_judged", "recovered_after_fault", "leaderless_at_heal",
                   "prevote_without_check_quorum", "new_leader_crashed"),
        description="A leader cut off alone while the others elect a new one, which "
                    "crashes for good before the cut heals: the old leader's vote is "
                    "needed and it hears of the newer term only from refusals of its "
                    "AppendEntries; PreVote and CheckQuorum by seed, n in {3, 5}: safety, "
                    "exactly-once, linearizability and progress"),
}
