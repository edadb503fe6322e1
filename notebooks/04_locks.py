# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Distributed locks: RedLock, the ZooKeeper recipe, and fencing tokens
#
# **Question.** What does a distributed lock cost (acquisition latency and throughput against
# the number of servers and of contending clients), when does it stop giving mutual exclusion
# (process pauses, clock drift), what does the ZooKeeper recipe save over a naive one (the herd
# effect), and what do fencing tokens protect when the lock itself fails?
#
# Every client loops *acquire → read a counter on a storage service → work → write the counter
# plus one → release*.  `dsalgo.locks.check` judges each run from its tables:
# **mutual exclusion** (no two clients *believe* they hold the lock at the same real time) and
# **storage safety** (no accepted write with an older fencing token than one accepted before,
# no lost update).  Sources: the Redis docs ("Distributed Locks with Redis"), Kleppmann,
# "How to do distributed locking" (2016), and the ZooKeeper recipes ("Locks").
#
# **The two locks.** RedLock (Redis docs): a client sets the same random-valued key with a
# time to live on each of `n` independent Redis servers and holds the lock if a majority
# said yes within less than the TTL; it holds it until the TTL runs out *by its own clock*.
# Nothing in it is a counter that grows with each grant, so it has no fencing token to give
# the storage (Kleppmann's point), hence "(no token)" in the charts. The ZooKeeper recipe: a
# client creates an EPHEMERAL|SEQUENTIAL znode under the lock's node; it holds the lock when
# its znode has the lowest sequence number, else it watches the znode just below its own
# (so a release wakes one waiter, not all: no herd). The znode disappears when the client's
# session expires. Its sequence number grows with every grant, so it is the fencing token
# the storage checks.
#
# The ZooKeeper lock runs on a replicated ensemble (`ensemble=True`, `dsalgo.zk`): a leader
# elected among the `n` servers, writes forwarded to it and committed on a majority, reads
# answered by the server each client is connected to, sessions expired by the leader.
# Section 5 looks at the ensemble itself: stale follower reads against `sync`, a paused
# client losing its ephemeral znode, and a leader crash.
# <!-- given: 5 (a section number) -->

# %% tags=["parameters"]
quick = False

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

from dsalgo import check, locks, plot, sim, sweep, zk
from dsalgo.live import stale_reads

pd.set_option("display.max_colwidth", None)   # whole cells in the report, no "…"

seeds = range(2 if quick else 12)
# failure rates need more runs: at 40 seeds a 95% Wilson interval is at most about +-0.15 wide
rate_seeds = range(3 if quick else 40)
duration = 1.0 if quick else 2.0
print(f"{len(seeds)} seeds per point for costs, {len(rate_seeds)} per point for failure "
      f"rates, {duration} simulated seconds per run")


def swept(fn, grid, seeds):
    """dsalgo.sweep over grid x seeds, stopping at the first cell that raised."""
    df = sweep(fn, grid, seeds=seeds, progress=False)
    assert df["error"].isna().all(), df["error"].dropna().iloc[0]
    return df.drop(columns=["wall_time", "error"])

# %% [markdown]
# ## 1 · What a lock costs: acquisition latency and throughput
#
# RedLock asks all `n` Redis servers at once and needs a majority; the ZooKeeper lock is a
# `create` (a write: the client's server forwards it to the leader, which waits for a majority
# of the ensemble to log it, and the client's server answers once it has applied it) followed
# by `getChildren`, answered by the client's own server.  The ensemble elects its leader first,
# so a client's very first acquisition also waits for that election.  The *wait* is the time from wanting the lock to holding it; *throughput* is
# completed critical sections (50 ms of work each) per second.  Links: exponential, mean 5 ms,
# FIFO like the TCP connections real clients use (without FIFO a client's next `SET` can
# overtake its own release on the wire, be refused, and wait for a retry).
# <!-- inputs: 50 ms, 5 ms -->

# %%
ns = [1, 5] if quick else [1, 3, 5, 7, 9]
contention = [1, 4] if quick else [1, 2, 4, 8]
LOCKS = {"RedLock": locks.redlock.simulate,
         "ZooKeeper recipe": lambda **kw: locks.zookeeper.simulate(ensemble=True, **kw)}


def lock_cost(algorithm, n, clients, seed):
    run = LOCKS[algorithm](n=n, clients=clients, seed=seed, duration=duration,
                           critical_section=0.05,
                           network=sim.Network(latency=sim.Exponential(mean=0.005), fifo=True))
    v = locks.check(run)
    assert v, v
    w = locks.acquisition_waits(run)
    return dict(wait_ms=1000 * w["wait"].median(),
                throughput=v.info["writes_accepted"] / duration,
                busiest_share=w["client"].value_counts(normalize=True).max(),
                failed_attempts=v.info["contended"])


CONTENDED_N = 5                                  # the cluster size contention is swept at
points = [dict(algorithm=a, n=n, clients=c) for a in LOCKS for n in ns for c in contention
          if n == CONTENDED_N or c == 1]        # contention is swept at one size only
perf = swept(lock_cost, points, seeds)
perf.groupby(["algorithm", "n", "clients"])[["wait_ms", "throughput", "busiest_share"]].mean().round(2)

# %%
fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4))
# means over the seeds with their 95% t intervals (dsalgo.analysis.summarize)
lock_hue = dict(hue="algorithm", hue_label="lock")
alone = perf[perf["clients"] == 1].groupby(["algorithm", "n"])["wait_ms"].mean().unstack(0)
plot.sweep_lines(perf[perf["clients"] == 1], x="n", y="wait_ms", ax=ax1, **lock_hue)
ax1.set(title="Uncontended acquisition latency vs. n", xlabel="servers n",
        ylabel="median wait to acquire (ms)\nmean over seeds, 95% t interval")
at5 = perf[perf["n"] == CONTENDED_N]
plot.sweep_lines(at5, x="clients", y="throughput", ax=ax2, **lock_hue)
ax2.set(title=f"Throughput vs. contention (n = {CONTENDED_N})", xlabel="contending clients",
        ylabel="critical sections per second\nmean over seeds, 95% t interval")
ax2.set_ylim(bottom=0)
plot.sweep_lines(at5, x="clients", y="busiest_share", ax=ax3, **lock_hue)
ks = np.array(contention)
ax3.plot(ks, 1 / ks, "k:", label="fair share 1/clients")
ax3.set(title=f"Fairness vs. contention (n = {CONTENDED_N})", xlabel="contending clients",
        ylabel="share of acquisitions by the busiest client\nmean over seeds, 95% t interval")
ax3.set_ylim(0, 1.05)                          # a share: the interval is clipped to [0, 1]
ax1.set_xticks(sorted(set(ns)))                # whole servers and clients on the axes
for ax in (ax2, ax3):
    ax.set_xticks(sorted(set(contention)))
for ax in (ax1, ax2, ax3):       # legends below the charts, off the data
    ax.legend(title="lock", loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2,
              frameon=False)
fig.tight_layout()

# %% [markdown]
# ## 2 · When mutual exclusion breaks: process pauses and clock drift
#
# **Pauses.** Three clients contend; one of them (drawn per seed) is paused at a random moment
# for a given time.  RedLock's lease is `ttl = 1 s`; the ZooKeeper lock's session timeout is
# also 1 s (on an ensemble of three servers).  A holder paused longer than that wakes up still believing it holds the lock.
# <!-- inputs: 1 s -->
# We count the fraction of runs that violate each property, with the ZooKeeper lock both with
# fencing tokens and without.

# %%
pauses = [0.0, 0.5, 1.5] if quick else list(np.round(np.linspace(0, 2.5, 11), 2))
variants = {
    "RedLock (no token)": lambda **kw: locks.redlock.simulate(n=5, ttl=1.0, **kw),
    "ZooKeeper + fencing": lambda **kw: locks.zookeeper.simulate(
        session_timeout=1.0, ensemble=True, **kw),
    "ZooKeeper, no fencing": lambda **kw: locks.zookeeper.simulate(
        session_timeout=1.0, ensemble=True, bugs={"no_fencing"}, **kw),
}


def paused_run(variant, pause, seed):
    rng = np.random.default_rng(seed)
    victim, at = f"c{rng.integers(1, 4)}", float(rng.uniform(0.2, 0.8))
    faults = [sim.Pause(victim, at=at, duration=pause)] if pause > 0 else []
    run = variants[variant](clients=3, seed=seed, faults=faults, critical_section=0.1,
                            duration=at + pause + 1.5)
    v = locks.check(run)
    return dict(mutual_exclusion_violated=not v.holds("mutual_exclusion"),
                storage_safety_violated=not v.holds("storage_safety"),
                rejected=v.info["writes_rejected"])


paused = swept(paused_run, {"variant": list(variants), "pause": pauses}, rate_seeds)
paused.groupby(["variant", "pause"])[["mutual_exclusion_violated",
                                      "storage_safety_violated"]].mean().unstack(0).round(2)

# %%
from dsalgo.analysis import proportions

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 4), sharey=True)
mutex_rate = proportions(paused, ["pause", "variant"], "mutual_exclusion_violated")
storage_rate = proportions(paused, ["pause", "variant"], "storage_safety_violated")
plot.rate_lines(mutex_rate, "pause", "variant", ax=ax1, xlabel="pause of one client (s)",
                title="Mutual exclusion violated")
plot.rate_lines(storage_rate, "pause", "variant", ax=ax2, xlabel="pause of one client (s)",
                title="Storage safety violated", hue_label="lock")
ax1.get_legend().remove()
for ax in (ax1, ax2):
    ax.axvline(1.0, color="k", ls=":", lw=1)
    ax.text(1.0, 1.0, " TTL = session timeout", fontsize=8, va="top")
fig.tight_layout()

# %% [markdown]
# **Clock drift.** RedLock trusts that clocks run at about the same rate: a client's validity
# is `ttl − elapsed − drift` with `drift = drift_factor · ttl + 2 ms`.  Here every client's
# clock runs slow by a given rate and each critical section uses the whole validity (the client
# works until its validity timer fires), so a slow client keeps believing in the lock after
# the servers, on their own clocks, have let it go.  Two drift allowances are compared.

# %%
rates = [0.0, 0.05, 0.1] if quick else [0.0, 0.005, 0.01, 0.015, 0.02, 0.03,
                                                     0.05, 0.07, 0.1, 0.15, 0.2]


def drifted(drift_factor, slow_by, seed):
    faults = [sim.ClockDrift(c, rate=-slow_by) for c in ("c1", "c2", "c3")] if slow_by else []
    run = locks.redlock.simulate(n=5, clients=3, ttl=0.5, drift_factor=drift_factor,
                                 critical_section=1.0, seed=seed, faults=faults,
                                 duration=duration)
    return dict(violated=not locks.check(run).holds("mutual_exclusion"))


drift = swept(drifted, {"drift_factor": [0.01, 0.05], "slow_by": rates}, rate_seeds)
drift_rate = proportions(drift, ["slow_by", "drift_factor"], "violated")
ax = plot.rate_lines(drift_rate, "slow_by", "drift_factor",
                     xlabel="client clocks slow by (fraction of real time)",
                     ylabel="runs violating mutual exclusion",
                     title="RedLock: mutual exclusion vs. slow client clocks (ttl = 0.5 s)",
                     hue_label="drift allowance\n(drift_factor)")
drift.groupby(["drift_factor", "slow_by"])["violated"].mean().unstack(0)

# %% [markdown]
# ## 3 · The herd effect
#
# With the recipe each waiter watches only the znode just below its own, so deleting the
# holder's znode notifies one client.  The naive variant watches the lock node itself
# (`getChildren(watch=true)`): every change notifies every waiter, and each of them then asks
# for the children again.  Counted from `run.messages`: `WatchedEvent` notifications sent at
# each release, and all messages (pings and replication aside) from the release until the
# next acquisition.  `locks.herd` counts the notifications the deleting server sends at the
# instant of the deletion, which is every notification only when one server fires them all:
# this section runs on the single server (`ensemble=False`).  On the ensemble each client's
# own server fires its watches when it applies the deletion, so they leave from several
# servers at several instants.

# %%
herd_clients = [2, 8] if quick else [2, 4, 8, 12, 16]


def herd_cost(recipe, clients, seed):
    bugs = {"herd"} if recipe == "naive" else set()   # the naive variant watches the parent
    run = locks.zookeeper.simulate(clients=clients, bugs=bugs, seed=seed, duration=1.0,
                                   ensemble=False)
    h = locks.herd(run)
    h = h[h["reason"] == "release"]
    return dict(waiters=h["waiters"].mean(), notifications=h["notifications"].mean(),
                messages=h["messages"].mean())


herd_runs = swept(herd_cost, {"recipe": ["recipe", "naive"], "clients": herd_clients}, seeds)
herd = herd_runs.drop(columns="seed").groupby(["recipe", "clients"]).mean().reset_index()
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4))
for ax, y in ((ax1, "notifications"), (ax2, "messages")):
    plot.sweep_xy(herd_runs, x="waiters", y=y, point="clients", hue="recipe", ax=ax,
                  hue_label="variant")
ax1.set(title="Watch notifications per release", xlabel="lock znodes waiting at release "
        "(mean per release)", ylabel="WatchedEvent messages (mean, 95% CI)")
ax2.set(title="Messages from release to next acquisition",
        xlabel="lock znodes waiting at release (mean per release)",
        ylabel="messages (mean, 95% CI)")
from matplotlib.ticker import MaxNLocator

for ax in (ax1, ax2):
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # whole clients
fig.tight_layout()
herd.round(2)

# %% [markdown]
# ## 4 · Scripted failures on space-time diagrams
#
# Each scenario lets `c1` take the lock and then injects one fault (a 5 ms constant-latency
# network makes the story easy to read).  Thick bars: when each client *believed* it held the
# lock; hatched red: both did; dots on the storage row: writes accepted (green) or rejected by
# fencing (red cross); dotted red line: a storage-safety violation. The ZooKeeper scenarios
# script their fault against the fixed-leader service (`ensemble=False`: `n1` leads, `n2`
# and `n3` only log and acknowledge its proposals, and there are no elections), so the
# other servers' rows show replication traffic only. Section 5 runs the same failures on
# the replicated ensemble, elections included.
# <!-- inputs: 5 ms; given: 5 (a section number) -->

# %%
scenarios = locks.scenarios.SCENARIOS
assert locks.scenarios.LATENCY == 0.005, locks.scenarios.LATENCY   # the 5 ms the text quotes
fig, axes = plt.subplots(len(scenarios), 1, figsize=(13, 4.2 * len(scenarios)))
scenario_verdicts = {}
for ax, (name, make) in zip(axes, scenarios.items()):
    run = make()
    plot.lock_timeline(run, ax=ax, max_messages=150 if quick else 600)
    scenario_verdicts[name] = locks.check(run)
    print(f"{name}: {scenario_verdicts[name]}")
fig.tight_layout()

# %%
for name in ("zookeeper_session_expiry", "zookeeper_write_delay"):
    unfenced = scenarios[name](bugs={"no_fencing"})
    print(f"{name} without fencing: {locks.check(unfenced)}")

# %% [markdown]
# ## 5 · The ensemble: stale follower reads, `sync`, a paused client, a leader crash
#
# `dsalgo.zk` also runs key-value clients on the ensemble: each key is a znode, a `put` is a
# `setData` through the leader, and a `get` is a `getData` answered by the client's own server
# (`reads="local"`: it may lag the leader) or preceded by a `sync` (`reads="sync"`: the
# `sync` goes through the leader's log, and the read waits until the client's server has
# applied it).  ZooKeeper promises linearizable writes, not linearizable plain reads.
#
# **Scripted.** `n1` leads; the link from `n1` to the follower `n3` is slow (`lag`), so `n3`
# applies every commit late but still follows.  `c2`, on `n1`, writes one key over and over;
# `c3`, on `n3`, reads it.  A read is *stale* when it returned a value overwritten before the
# read began (`dsalgo.live.stale_reads`, the same measure as on the real servers).

# %%
lag = 0.2
stale_rows = []
for reads in ("local", "sync"):
    srun = zk.scenarios.stale_read(reads, lag=lag)
    late = stale_reads(srun)
    stale_rows.append(dict(reads=reads, gets=int((srun.history["f"] == "get").sum()),
                           stale=len(late),
                           max_stale_ms=1000 * late["stale_by"].max() if len(late) else 0.0,
                           linearizable=bool(check.linearizable(srun.history, "kv"))))
stale_table = pd.DataFrame(stale_rows).set_index("reads")
stale_table

# %% [markdown]
# **Under faults.** Three servers, four clients spread over them, servers crashing,
# restarting and cut off by a nemesis; the same seeds for both read modes.  `zk.check`
# judges the ensemble's own safety in every run (one leader per epoch, the same
# transaction at each zxid on every server, no committed write lost across a leader
# change); `check.linearizable` judges each history.

# %%
def ensemble_run(reads, seed):
    nemesis = sim.Nemesis(crash=0.7, partition=0.7, mean_duration=0.4,
                          targets=["n1", "n2", "n3"], end=2.5)
    run = zk.simulate(3, seed=seed, duration=3.0, clients=4, keys=2, reads=reads,
                      faults=[nemesis], record_messages=False, client_timeout=0.5)
    v = zk.check(run)
    return dict(linearizable=bool(v.info["linearizable"]),
                ensemble_safe=all(v.holds(p) for p in zk.PROPERTIES[:3]),
                stale=len(stale_reads(run)), leader_changes=v.info["leader_changes"],
                resumed=v.info["sessions_resumed"],
                ops=int((run.history["status"] == "ok").sum()))


ens = swept(ensemble_run, {"reads": ["local", "sync"]}, rate_seeds)
ens_summary = ens.drop(columns="seed").groupby("reads").mean()
ens_summary.round(2)

# %% [markdown]
# **A paused client loses its ephemeral znode.**  The lock recipe on the ensemble: `c1`
# takes the lock and is paused mid-work for twice its session timeout.  Its server stops
# hearing its pings, so the leader stops hearing of the session, expires it and deletes its
# znode; `c2`'s own server fires `c2`'s watch and `c2` acquires.  `c1` wakes still believing
# it holds the lock and writes: the fenced storage rejects it.

# %%
paused_zk = zk.scenarios.paused_lock_holder()
paused_verdict = locks.check(paused_zk)
ev = paused_zk.events
story = ev[ev["kind"].isin(["acquire", "pause", "session_expired", "znode_deleted",
                            "release", "expire", "session_lost"])
           & ev["node"].astype(str).isin(["c1", "c2", "n1", "n2", "n3"])]
story = story[["time", "node", "kind", "client", "reason", "token"]].reset_index(drop=True)
fig, ax = plt.subplots(figsize=(13, 4.5))
plot.lock_timeline(paused_zk, ax=ax, max_messages=150 if quick else 600)
fig.tight_layout()
print(paused_verdict)
story

# %% [markdown]
# **A leader crash.**  Once the workload runs, the leader is crashed (`zk.failover_trials`).
# *Failover* is the time until the next leader is elected; *recovery* until the first write
# completes after the crash; *resumed* counts sessions whose clients reconnected to another
# server with their session id (each session once; *reconnections* counts every such
# reconnect, as a client may first reach a server that has no leader yet), *expired* those
# the new leader closed.

# %%
fo = zk.failover_trials(5 if quick else 40, seed=0, clients=4)
fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(fo["failover"], bins=15, alpha=0.6, label="leader elected")
ax.hist(fo["recovery"], bins=15, alpha=0.6, label="first write done")
ax.set(xlabel="seconds after the leader crash", ylabel="trials",
       title="Ensemble failover (3 servers)")
ax.legend(frameon=False)
fig.tight_layout()
fo[["failover", "recovery", "sessions", "resumed", "reconnections", "expired"]].describe().round(3)

# %% [markdown]
# ## 6 · Explore
#
# Move the sliders: the RedLock pause scenario is rerun and redrawn (TTL, the pause of `c1`,
# the drift of `c1`'s clock, the length of the critical section).

# %%
from dsalgo.widgets import locks_explorer

locks_explorer()

# %%
from dsalgo.report import Conclusion

c = Conclusion("What the charts showed")
c.add("**Cost.** Uncontended, RedLock took {rl_lo:.0f}–{rl_hi:.0f} ms to acquire for `n` from "
      "{n_lo} to {n_hi} (it asks all servers at once and waits for the fastest majority); the "
      "ZooKeeper lock took {zk_lo:.0f}–{zk_hi:.0f} ms, each write waiting for a majority of "
      "the ensemble.",
      rl_lo=alone["RedLock"].min(), rl_hi=alone["RedLock"].max(), n_lo=int(alone.index.min()),
      n_hi=int(alone.index.max()), zk_lo=alone["ZooKeeper recipe"].min(),
      zk_hi=alone["ZooKeeper recipe"].max())
contended = at5.groupby(["algorithm", "clients"])[["throughput", "busiest_share"]].mean()
kmax = max(contention)
c.add("**Contention** (`n` = {n5}, means over {seeds} seeds): with {k} clients RedLock ran "
      "{rl_t:.1f} critical sections per second and its busiest client took {rl_s:.0%} of the "
      "acquisitions; the ZooKeeper lock ran {zk_t:.1f} per second with the busiest client at "
      "{zk_s:.0%} (a fair share is {fair:.1%}){why}.", n5=CONTENDED_N, seeds=len(seeds), k=kmax,
      fair=1 / kmax,
      why=". RedLock keeps no queue: after a release the lock goes to whichever client asks "
      "first, the waiters retrying after random delays; the recipe's sequence numbers serve "
      "waiters in order" if contended.loc[("ZooKeeper recipe", kmax), "busiest_share"]
      < contended.loc[("RedLock", kmax), "busiest_share"] else "",
      rl_t=contended.loc[("RedLock", kmax), "throughput"],
      rl_s=contended.loc[("RedLock", kmax), "busiest_share"],
      zk_t=contended.loc[("ZooKeeper recipe", kmax), "throughput"],
      zk_s=contended.loc[("ZooKeeper recipe", kmax), "busiest_share"])
fenced_rows = storage_rate["variant"].str.contains("+ fencing", regex=False)
onset = mutex_rate[mutex_rate["count"] > 0].groupby("variant")["pause"].min()
c.add("**Pauses.** Mutual exclusion first broke at a pause of {onsets} ({runs} runs per "
      "point); below that no run broke it. The storage lost updates in at most {unfenced} "
      "of runs without fencing, and in {fenced} runs with fencing tokens.",
      onsets="; ".join(f"{p:g} s for {v}" for v, p in onset.items()) or "no tested pause",
      runs=len(rate_seeds),
      unfenced=f"{storage_rate[~fenced_rows]['rate'].max():.0%}",
      fenced=int(storage_rate[fenced_rows]["count"].sum()))
for f_, g in drift_rate.groupby("drift_factor"):
    broke = g[g["count"] > 0]
    if len(broke):
        first = broke.iloc[0]
        c.add("**Clock drift**, `drift_factor` = {f:g}: clocks up to {ok:.1%} slow never "
              "broke mutual exclusion; at {at:.1%} slow {rate:.0%} of runs did (Wilson interval "
              "{lo:.0%}–{hi:.0%}).", f=f_, ok=g[g["slow_by"] < first["slow_by"]]["slow_by"].max(),
              at=first["slow_by"], rate=first["rate"], lo=first["ci_low"], hi=first["ci_high"])
    else:
        c.add("**Clock drift**, `drift_factor` = {f:g}: no tested drift (up to {mx:.0%}) broke "
              "mutual exclusion.", f=f_, mx=g["slow_by"].max())
hr = herd.set_index(["recipe", "clients"])
top = max(herd_clients)
c.add("**Herd effect.** With {k} clients ({rw:.1f} and {nw:.1f} waiting per release on "
      "average; means over {seeds} seeds) the recipe sent {rn:.1f} watch notifications per "
      "release and {rm:.0f} messages from a release to the next acquisition; the naive "
      "variant sent {nn:.1f} and {nm:.0f}.", k=top, seeds=len(seeds),
      rw=hr.loc[("recipe", top), "waiters"], nw=hr.loc[("naive", top), "waiters"],
      rn=hr.loc[("recipe", top), "notifications"], rm=hr.loc[("recipe", top), "messages"],
      nn=hr.loc[("naive", top), "notifications"], nm=hr.loc[("naive", top), "messages"])
c.add("**Ensemble reads.** With a follower lagging the leader, {st_local} of {n_local} plain "
      "reads at it were stale (up to {st_ms:.0f} ms) and the history {lin_local} "
      "linearizable; after a `sync`, {st_sync} were stale and the history {lin_sync} "
      "linearizable.  Under "
      "crashes and partitions ({runs} runs per mode) plain-read histories were linearizable "
      "in {lr:.0%} of runs and sync-read ones in {sr:.0%}; the ensemble's own safety held in "
      "{safe:.0%} of all runs.",
      st_local=int(stale_table.loc["local", "stale"]),
      n_local=int(stale_table.loc["local", "gets"]),
      st_ms=stale_table.loc["local", "max_stale_ms"],
      lin_local="was" if stale_table.loc["local", "linearizable"] else "was not",
      st_sync=int(stale_table.loc["sync", "stale"]),
      lin_sync="was" if stale_table.loc["sync", "linearizable"] else "was not",
      runs=len(rate_seeds),
      lr=ens_summary.loc["local", "linearizable"], sr=ens_summary.loc["sync", "linearizable"],
      safe=ens["ensemble_safe"].mean())
expired_zk = story[(story["kind"] == "znode_deleted") & (story["reason"] == "session_expired")]
c.add("**Paused client on the ensemble.** The leader deleted {lost} ephemeral znode(s) of the "
      "paused `c1` when its session expired; mutual exclusion {me}; the fenced storage "
      "rejected {rej} write(s) and {ss} safe.",
      lost=len(expired_zk),
      me="held" if paused_verdict.holds("mutual_exclusion") else
         "did not hold (two clients believed they held the lock at once)",
      rej=paused_verdict.info["writes_rejected"],
      ss="stayed" if paused_verdict.holds("storage_safety") else "did not stay")
c.add("**Leader crash.** Over {k} crashes of the leader a new one was elected after "
      "{med:.2f} s at the median (at most {mx:.2f} s) and a write completed {rec:.2f} s after "
      "the crash at the median; {resumed} of the {sessions} sessions open at the crashes were "
      "resumed on another server ({reconnections} reconnections) and {expired} expired.",
      k=len(fo), med=fo["failover"].median(), mx=fo["failover"].max(),
      rec=fo["recovery"].median(), resumed=int(fo["resumed"].sum()),
      sessions=int(fo["sessions"].sum()), reconnections=int(fo["reconnections"].sum()),
      expired=int(fo["expired"].sum()))
broken_by = {name: sorted(set(v.violations["property"])) for name, v in scenario_verdicts.items()}
c.add("**Scenarios.** {lines}.",
      lines="; ".join(f"`{name}` " + (f"violated {', '.join(props)}" if props else "passed")
                      for name, props in broken_by.items()))
c
