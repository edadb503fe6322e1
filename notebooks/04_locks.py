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

# %% tags=["parameters"]
quick = False

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

from dsalgo import locks, plot, sim, sweep

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
# `create` (a write: the leader waits for a majority of the ensemble to log it) followed by
# `getChildren`.  The *wait* is the time from wanting the lock to holding it; *throughput* is
# completed critical sections (50 ms of work each) per second.  Links: exponential, mean 5 ms,
# FIFO like the TCP connections real clients use (without FIFO a client's next `SET` can
# overtake its own release on the wire, be refused, and wait for a retry).

# %%
ns = [1, 5] if quick else [1, 3, 5, 7, 9]
contention = [1, 4] if quick else [1, 2, 4, 8]
LOCKS = {"RedLock": locks.redlock.simulate, "ZooKeeper recipe": locks.zookeeper.simulate}


def lock_cost(algorithm, n, clients, seed):
    run = LOCKS[algorithm](n=n, clients=clients, seed=seed, duration=duration,
                           network=sim.Network(fifo=True))
    v = locks.check(run)
    assert v, v
    w = locks.acquisition_waits(run)
    return dict(wait_ms=1000 * w["wait"].median(),
                throughput=v.info["writes_accepted"] / duration,
                busiest_share=w["client"].value_counts(normalize=True).max(),
                failed_attempts=v.info["contended"])


points = [dict(algorithm=a, n=n, clients=c) for a in LOCKS for n in ns for c in contention
          if n == 5 or c == 1]                  # contention is swept at n = 5 only
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
at5 = perf[perf["n"] == 5]
plot.sweep_lines(at5, x="clients", y="throughput", ax=ax2, **lock_hue)
ax2.set(title="Throughput vs. contention (n = 5)", xlabel="contending clients",
        ylabel="critical sections per second\nmean over seeds, 95% t interval")
ax2.set_ylim(bottom=0)
plot.sweep_lines(at5, x="clients", y="busiest_share", ax=ax3, **lock_hue)
ks = np.array(contention)
ax3.plot(ks, 1 / ks, "k:", label="fair share 1/clients")
ax3.set(title="Fairness vs. contention (n = 5)", xlabel="contending clients",
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
# also 1 s.  A holder paused longer than that wakes up still believing it holds the lock.
# We count the fraction of runs that violate each property, with the ZooKeeper lock both with
# fencing tokens and without.

# %%
pauses = [0.0, 0.5, 1.5] if quick else list(np.round(np.linspace(0, 2.5, 11), 2))
variants = {
    "RedLock (no token)": lambda **kw: locks.redlock.simulate(n=5, ttl=1.0, **kw),
    "ZooKeeper + fencing": lambda **kw: locks.zookeeper.simulate(session_timeout=1.0, **kw),
    "ZooKeeper, no fencing": lambda **kw: locks.zookeeper.simulate(
        session_timeout=1.0, bugs={"no_fencing"}, **kw),
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
# next acquisition.

# %%
herd_clients = [2, 8] if quick else [2, 4, 8, 12, 16]


def herd_cost(recipe, clients, seed):
    bugs = {"herd"} if recipe == "naive" else set()   # the naive variant watches the parent
    run = locks.zookeeper.simulate(clients=clients, bugs=bugs, seed=seed, duration=1.0)
    h = locks.herd(run)
    h = h[h["reason"] == "release"]
    return dict(waiters=h["waiters"].mean(), notifications=h["notifications"].mean(),
                messages=h["messages"].mean())


herd = (swept(herd_cost, {"recipe": ["recipe", "naive"], "clients": herd_clients},
              list(seeds)[:2])
        .drop(columns="seed").groupby(["recipe", "clients"]).mean().reset_index())
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4))
for recipe, grp in herd.groupby("recipe"):
    ax1.plot(grp["waiters"], grp["notifications"], marker="o", label=recipe)
    ax2.plot(grp["waiters"], grp["messages"], marker="o", label=recipe)
ax1.set(title="Watch notifications per release", xlabel="lock znodes waiting at release",
        ylabel="WatchedEvent messages")
ax2.set(title="Messages from release to next acquisition",
        xlabel="lock znodes waiting at release", ylabel="messages")
from matplotlib.ticker import MaxNLocator

for ax in (ax1, ax2):
    ax.legend(title="variant", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # whole clients
fig.tight_layout()
herd.round(2)

# %% [markdown]
# ## 4 · Scripted failures on space-time diagrams
#
# Each scenario lets `c1` take the lock and then injects one fault (a 5 ms constant-latency
# network makes the story easy to read).  Thick bars: when each client *believed* it held the
# lock; hatched red: both did; dots on the storage row: writes accepted (green) or rejected by
# fencing (red cross); dotted red line: a storage-safety violation.

# %%
scenarios = locks.scenarios.SCENARIOS
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
# ## 5 · Explore
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
hr = herd.set_index(["recipe", "waiters"])
c.add("**Herd effect.** With {w:.0f} waiting clients the recipe sent {rn:.1f} watch "
      "notifications per release and {rm:.0f} messages from a release to the next "
      "acquisition; the naive variant sent {nn:.1f} and {nm:.0f}.",
      w=herd["waiters"].max(), rn=hr.loc[("recipe", herd["waiters"].max()), "notifications"],
      rm=hr.loc[("recipe", herd["waiters"].max()), "messages"],
      nn=hr.loc[("naive", herd["waiters"].max()), "notifications"],
      nm=hr.loc[("naive", herd["waiters"].max()), "messages"])
broken_by = {name: sorted(set(v.violations["property"])) for name, v in scenario_verdicts.items()}
c.add("**Scenarios.** {lines}.",
      lines="; ".join(f"`{name}` " + (f"violated {', '.join(props)}" if props else "passed")
                      for name, props in broken_by.items()))
c
