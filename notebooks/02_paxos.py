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
# # Paxos, Multi-Paxos and Flexible Paxos
#
# **Question:** how does Paxos choose a value safely, what ends the livelock of dueling
# proposers, what does a Multi-Paxos command cost in latency and throughput as the cluster
# and the network grow, and what do Flexible Paxos quorums buy — and cost?
#
# Every run below comes from `dsalgo.paxos.simulate` and is checked by `dsalgo.paxos.check`
# (agreement, validity, and for Multi-Paxos the state-machine safety of the key-value
# store). Times in the run's own tables (`time`, `t_invoke`, …) are seconds; the tables
# and charts made here say their unit in their column names and axis labels (mostly ms).

# %% tags=["parameters"]
quick = False  # papermill parameter: smaller samples for the test suite

# %%
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from IPython.display import Markdown, display

from dsalgo import paxos, plot, quorum, sim, sweep
from dsalgo.paxos.latency_model import commit_latency
from dsalgo.raft import throughput

SEEDS = range(3) if quick else range(20)        # replications per point (single decree)
REPS = range(1) if quick else range(3)           # replications per Multi-Paxos point
DURATION = 1.2 if quick else 3.0                 # simulated seconds per Multi-Paxos run
WARMUP = 0.7                                     # first election done: measure from here
pd.set_option("display.precision", 4)
pd.set_option("display.max_colwidth", None)      # tables here are narrow: no "…" in cells

verdicts = []                                    # every run is checked; see the end


def checked(run):
    verdicts.append(bool(paxos.check(run)))
    return run


def swept(fn, grid, seeds):
    """dsalgo.sweep over grid x seeds (serial, so `verdicts` collects every check),
    stopping at the first cell that raised."""
    df = sweep(fn, grid, seeds=seeds, progress=False)
    assert df["error"].isna().all(), df["error"].dropna().iloc[0]
    return df.drop(columns=["wall_time", "error"])


# %% [markdown]
# ## 1. One decision, message by message
#
# Single-decree Paxos on three nodes, one proposer (`n1`), 10 ms links. Phase 1:
# `Prepare` → `Promise` from a majority; phase 2: `Accept` → `Accepted` from a majority;
# then `Decided` to the learners. A node's messages to itself are handled locally, so
# `n1`'s own acceptor does not appear as an arrow. The star marks when each node learned
# the value. <!-- inputs: 10 ms; given: 1, 2 (the phases) -->

# %%
lan = sim.Network(latency=sim.Constant(0.010))
run = checked(paxos.simulate(3, variant="single", proposers=1, network=lan, duration=0.06))
ax = plot.spacetime(run, events=["decided"])
ax.set_title("Single-decree Paxos: one proposer, 10 ms links")
plt.show()
run.events[["time", "node", "kind", "value"]]

# %% [markdown]
# Two proposers that start at once, with no back-off, on links uniform in 8–12 ms: each
# `Prepare` overtakes the other's ballot, the loser is preempted (`Nack`) and retries with
# a higher round, until one proposer finishes both phases before the other's next
# `Prepare` lands. <!-- inputs: 8 ms, 12 ms -->

# %%
jitter = sim.Network(latency=sim.Uniform(0.008, 0.012))
duel_run = checked(paxos.simulate(3, variant="single", proposers=2, network=jitter, seed=3,
                              backoff=(0.0, 0.0), duration=0.25))
ax = plot.spacetime(duel_run, events=["preempted", "decided"], max_messages=150,
                    time_range=(0.0, paxos.decision_time(duel_run) + 0.015))
ax.set_title("Dueling proposers without back-off: preemptions, then a decision")
plt.show()
print(f"decided after {paxos.decision_time(duel_run) * 1000:.1f} ms, "
      f"{(duel_run.events.kind == 'preempted').sum()} preemptions")

# %% [markdown]
# ## 2. Dueling proposers: how back-off ends the livelock
#
# Five acceptors, exponential links (mean 5 ms), 2, 3 or 5 proposers all starting at
# t = 0. A preempted proposer waits a uniform random time in `[0, backoff_max]` before a
# higher ballot. We measure the time until the first node learns the decision, and the
# number of preemptions. <!-- inputs: 5 ms, 2, 3, 5, 0 -->

# %%
backoffs_ms = [0, 2, 10, 50] if quick else [0, 1, 2, 5, 10, 20, 50, 100]
def duel(proposers, backoff_max_ms, seed):
    r = checked(paxos.simulate(5, variant="single", seed=seed, proposers=proposers,
                               backoff=(0.0, backoff_max_ms / 1000), duration=3.0))
    return {"decide_ms": paxos.decision_time(r) * 1000,
            "preemptions": int((r.events.kind == "preempted").sum())}


duels = swept(duel, {"proposers": [2, 5] if quick else [2, 3, 5],
                     "backoff_max_ms": backoffs_ms}, SEEDS)
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
plot.sweep_lines(duels, x="backoff_max_ms", y="decide_ms", hue="proposers", ax=axes[0],
                 hue_label="proposers")
axes[0].set(xscale="symlog", xlabel="back-off range maximum (ms, symlog)",
            ylabel="time to decide (ms, mean, 95% CI)",
            title="Time to decide vs back-off (n = 5, 5 ms links)")
plot.sweep_lines(duels, x="backoff_max_ms", y="preemptions", hue="proposers", ax=axes[1],
                 hue_label="proposers")
axes[1].set(xscale="symlog", xlabel="back-off range maximum (ms, symlog)",
            ylabel="preemptions per run (mean, 95% CI)", title="Ballots preempted vs back-off")
plt.tight_layout()
plt.show()
duels.groupby(["proposers", "backoff_max_ms"])[["decide_ms", "preemptions"]].mean().unstack(0)

# %% [markdown]
# ## 3. Multi-Paxos: commit latency and throughput against n and network latency
#
# A stable leader runs phase 1 once; each command then costs one round trip from the
# leader to a phase-2 quorum, plus the client's hop to the leader and back. With
# one-way delays $D$ i.i.d. exponential of mean $m$, a command's expected latency is
#
# $$E[L] = 2m + E\big[R_{(q-1:\,n-1)}\big],$$
#
# where $R$, a round trip, is the sum of two delays (Gamma(2, m)) and
# $R_{(q-1:n-1)}$ is the $(q-1)$-th smallest of the $n-1$ followers' round trips (the
# leader's own vote is free). The dashed lines are this model, computed exactly
# (`dsalgo.paxos.latency_model.commit_latency`). Five
# closed-loop clients; measured after the first election. <!-- given: 1 (phase 1), 2 (Gamma shape) -->

# %%
sizes = [3, 5] if quick else [3, 5, 7, 9]
means_ms = [1, 5, 20]


def commit_cost(n, latency_mean_ms, seed):
    m = latency_mean_ms
    net = sim.Network(latency=sim.Exponential(mean=m / 1000))
    r = checked(paxos.simulate(n, seed=seed, network=net, clients=5,
                               duration=DURATION + m / 10, record_messages=False))
    s = paxos.summary(r, after=WARMUP + m / 20)
    h = r.history[(r.history.status == "ok") & (r.history.t_invoke >= WARMUP + m / 20)]
    return {"commit_ms": s["latency_p50"] * 1000,
            "commit_mean_ms": float((h.t_complete - h.t_invoke).mean() * 1000),
            "throughput": s["throughput"]}


multi = swept(commit_cost, {"n": sizes, "latency_mean_ms": means_ms}, REPS)


def model_ms(n, m_ms):
    return 1000 * commit_latency(n, m_ms / 1000)


fig, axes = plt.subplots(1, 2, figsize=(12, 4))
one_way = dict(hue_label="mean one-way latency", hue_format="{} ms")
plot.sweep_lines(multi, x="n", y="commit_mean_ms", hue="latency_mean_ms", ax=axes[0], **one_way)
for m, line in zip(sorted(means_ms), axes[0].get_lines()):
    line.set_label(f"{m} ms, measured")
    axes[0].plot(sizes, [model_ms(n, m) for n in sizes], ls="--", color=line.get_color(),
                 label=f"{m} ms, model")
axes[0].set(yscale="log", xlabel="servers n", xticks=sizes,
            ylabel=f"commit latency (ms, mean over {len(REPS)} seed(s),\n95% t interval, log)",
            title="Multi-Paxos commit latency (majorities)")
axes[0].legend(title="mean one-way latency", fontsize="small", loc="upper left",
               bbox_to_anchor=(1.01, 1.0), frameon=False)
plot.sweep_lines(multi, x="n", y="throughput", hue="latency_mean_ms", ax=axes[1], **one_way)
axes[1].set(yscale="log", xlabel="servers n", xticks=sizes,
            ylabel="acknowledged ops/s (mean, 95% t interval, log)",
            title="5 closed-loop clients: their number over the latency\n"
                  "(section 3.1 offers load instead)")
for ax in axes:       # plain numbers on the log axes (20, not 2×10¹)
    ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(mticker.FuncFormatter(
        lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
plt.tight_layout()
plt.show()
(multi.groupby(["latency_mean_ms", "n"])[["commit_mean_ms", "throughput"]].mean().round(1)
      .rename_axis(["mean one-way latency (ms)", "servers n"])
      .rename(columns={"commit_mean_ms": "mean commit latency (ms)",
                       "throughput": "acknowledged ops/s"}))

# %% [markdown]
# The measured means sit a little above the model with five clients. The leader
# answers a command only after every earlier slot is decided too (commands are applied in
# log order), so a slot whose quorum answered fast can wait for a slower slot before it.
# With a single client there is never an earlier slot in flight; the table compares both
# with the model for $n = 5$, 5 ms links. <!-- inputs: 5 ms -->

# %%
rows = []
for clients in (1, 5):
    r = checked(paxos.simulate(5, seed=1, clients=clients, duration=2 * DURATION,
                               record_messages=False))
    h = r.history[(r.history.status == "ok") & (r.history.t_invoke >= WARMUP)]
    rows.append({"clients": clients, "measured mean (ms)": 1000 * (h.t_complete - h.t_invoke).mean(),
                 "model (ms)": model_ms(5, 5), "ops measured": len(h)})
pd.DataFrame(rows).set_index("clients")

# %% [markdown]
# One round trip per command, read from `run.messages`: in steady state every
# command costs exactly $n-1$ `Accept`s and $n-1$ `Accepted`s, and no `Prepare` is sent
# after the election.

# %%
r = checked(paxos.simulate(5, seed=1, duration=2.0, clients=3,
                          network=sim.Network(latency=sim.Constant(0.005))))
t_lead = r.events.loc[r.events.kind == "leader", "time"].iloc[0]
steady = r.messages[r.messages.t_send > t_lead]
slots = r.events.loc[(r.events.kind == "decided") & (r.events.time > t_lead), "slot"].nunique()
msg_counts = steady.type.value_counts()
proposed = msg_counts["Accept"] / (5 - 1)      # an integer: exactly n - 1 Accepts per slot
pd.Series({"Prepare sent after the election": int(msg_counts.get("Prepare", 0)),
           "Accept messages": int(msg_counts["Accept"]),
           "slots proposed = Accept / (n - 1)": proposed,
           "slots decided": slots,
           "slots still in flight when the run stopped": proposed - slots})

# %% [markdown]
# ### 3.1 Offered load: where the leader saturates, and what batching buys
#
# Every server now spends a constant processing time on each message and timer, links take
# a constant one-way time, and twenty open-loop clients offer Poisson load whatever the
# replies (`mode="open"`), from a small fraction of the leader's capacity to past it, with
# and without batching (`max_batch`: the commands that reach a busy leader go out in one
# `AcceptBatch` round, made durable by each acceptor in one sync and answered with one
# `AcceptedBatch`). The leader is the bottleneck: per command it handles the client's
# `Request` and one `Accepted` from each of the other $n-1$ acceptors (its own answers
# locally), so as a single server its service time is $S = c\,n$; batched, a round's replies
# and its flush timer are shared by the batch. The dashed lines are that model
# (`raft.throughput.leader_model`: capacity $1/S$, and below the knee four wire trips, a few
# services and the M/G/1 waits of the request and of its replies at the leader), the same
# model as Raft's, since the two leaders do the same work per command. Each point is
# `raft.throughput.load_point(family="paxos", …)` run through `dsalgo.sweep` over seeds.

# %%
load_seeds = range(3) if quick else range(4)
levels = [0.3, 0.6, 0.9, 1.2] if quick else [0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2]
extra = [1.8] if quick else [1.6, 2.2]          # batching keeps up past the unbatched knee
CPU, WIRE, MAX_BATCH = sim.Constant(0.0002), sim.Constant(0.0005), 16
load_common = dict(family="paxos", cpu=CPU, wire=WIRE, duration=1.5 if quick else 3.0,
                   warmup=0.8 if quick else 1.0)
grid = [dict(n=n, max_batch=b, utilisation=u, **load_common) for n in (3, 5, 7)
        for b in (None, MAX_BATCH) for u in levels + (extra if b else [])]
load = swept(throughput.load_point, grid, load_seeds).drop(columns=["cpu", "wire"])
plot.load_sweep(load, title="Multi-Paxos, ")
plt.tight_layout()
plt.show()
agreement = throughput.model_error(load)
agreement

# %%
BELOW, KEEP_UP = 0.8, 0.9   # where the model is judged; what "kept up" means


def pm(r):
    """A batched top point's mean throughput, with its interval when there are seeds."""
    ci = "" if r.throughput_ci != r.throughput_ci else f" ± {r.throughput_ci:,.0f}"
    return f"{r.throughput:,.0f}{ci}"


runs_below, worst_model_error, past_ratio, batched_top, kept_up = throughput.load_findings(
    load, agreement, below=BELOW, keep_up=KEEP_UP)
display(Markdown(
    f"Below {BELOW:.0%} of the leader's capacity ({runs_below} runs) the model's throughput and "
    f"mean latency are within {worst_model_error:.1%} of the simulation. Past the knee "
    f"without batching the achieved throughput was "
    + ", ".join(f"{r:.0%} at n = {n}" for n, r in past_ratio.items())
    + " of the leader's capacity. The leader still spends a service time on every "
    "`Request` that arrives, whether or not it can propose it yet, so past the knee the "
    "time left for the `Accepted` replies that decide earlier slots shrinks as the offered "
    "load grows (receive livelock), and the replies wait behind a queue that grows "
    "without bound. "
    + (f"With batching the leader kept up ({KEEP_UP:.0%} or more) with every load offered; "
       "at the highest: " if kept_up else "With batching, at the highest loads offered: ")
    + ", ".join(f"{pm(r)} of {r.offered:,.0f} "
                f"commands/s at n = {n}" for n, r in batched_top.iterrows())
    + f" (means over {int(batched_top['seeds'].min())} seeds with 95 % t intervals)."))

# %% [markdown]
# ## 4. Flexible Paxos: latency and throughput against |Q2|
#
# Flexible Paxos (Howard, Malkhi & Spiegelman 2016) needs only that every phase-1 quorum
# meets every phase-2 quorum: with counting quorums, $|Q_1| + |Q_2| > n$. The leader waits
# for $|Q_2|$ acceptors on *every* command, but for $|Q_1| = n - |Q_2| + 1$ only at an
# election. Here $n = 5$ and $n = 8$, exponential 5 ms links, five clients. <!-- inputs: 5 ms -->

# %%
def flexible(n, q2, seed):
    r = checked(paxos.simulate(n, seed=seed, q2=q2, clients=5, duration=DURATION,
                               record_messages=False))
    s = paxos.summary(r, after=WARMUP)
    return {"commit_ms": s["latency_p50"] * 1000, "throughput": s["throughput"]}


flex = swept(flexible, [{"n": n, "q2": q2} for n in (5, 8) for q2 in range(1, n + 1)
                        if not quick or q2 in (1, 3, n)], REPS)
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
plot.sweep_lines(flex, x="q2", y="commit_ms", hue="n", ax=axes[0], hue_label="servers n")
axes[0].set(xlabel="phase-2 quorum size |Q2|  (|Q1| = n - |Q2| + 1)",
            ylabel="median commit latency (ms, mean over seeds)",
            title="Flexible Paxos: commit latency vs |Q2|")
plot.sweep_lines(flex, x="q2", y="throughput", hue="n", ax=axes[1], hue_label="servers n")
axes[1].set(xlabel="phase-2 quorum size |Q2|", ylabel="acknowledged ops/s (mean)",
            title="Flexible Paxos: throughput vs |Q2|")
plt.tight_layout()
plt.show()
flex.groupby(["n", "q2"])[["commit_ms", "throughput"]].mean().unstack(0).round(1)

# %% [markdown]
# ### The price of a small Q2
#
# Small $|Q_2|$ makes commands cheap, but a leader change needs $|Q_1| = n - |Q_2| + 1$
# live acceptors. With $f$ servers down, the log keeps growing under the *current* leader
# while $n - f \ge |Q_2|$, but a *new* leader can be elected only while $n - f \ge |Q_1|$,
# i.e. $f \le |Q_2| - 1$. `dsalgo.quorum` gives both numbers (`write_resilience`,
# `read_resilience`); a new leader must run both phases, so it commits only while $f$ is
# within both. The heatmaps test this in simulation on $n = 5$: at t = 0.5 s we crash
# $f$ servers — either followers only, or the leader and $f-1$ followers — and count the
# operations acknowledged after t = 1.5 s. <!-- inputs: 0.5 s, 1.5 s -->

# %%
rows = []
for q2 in range(1, 6):
    qs = quorum.flexible(5, 6 - q2, q2)
    rows.append({"|Q2|": q2, "|Q1|": 6 - q2,
                 "phase 2 survives f <=": qs.write_resilience(),
                 "phase 1 survives f <=": qs.read_resilience(),
                 "new leader commits if f <=": min(qs.write_resilience(), qs.read_resilience())})
theory = pd.DataFrame(rows).set_index("|Q2|")
display(theory)

rows = []
for q2 in ((1, 5) if quick else range(1, 6)):
    base = checked(paxos.simulate(5, seed=7, q2=q2, duration=0.5))
    leader = str(base.events.loc[base.events.kind == "leader", "node"].iloc[-1])
    followers = [f"n{i}" for i in range(1, 6) if f"n{i}" != leader]
    for f in ((0, 2, 4) if quick else range(0, 5)):
        for who, victims in (("followers", followers[:f]),
                             ("leader + followers", ([leader] + followers)[:f])):
            r = checked(paxos.simulate(5, seed=7, q2=q2, duration=2.5, record_messages=False,
                                       faults=[sim.Crash(v, at=0.5) for v in victims]))
            h = r.history
            rows.append({"q2": q2, "crashed f": f, "who": who,
                         "ops after crash": int(((h.status == "ok") & (h.t_invoke > 1.5)).sum())})
price = pd.DataFrame(rows)
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, who in zip(axes, ("followers", "leader + followers")):
    plot.heatmap(price[price.who == who], x="q2", y="crashed f", value="ops after crash", ax=ax)
    ax.set(xlabel="phase-2 quorum size |Q2| (n = 5)", ylabel="servers crashed f",
           title=f"Ops acknowledged after crashing {who}")
plt.tight_layout()
plt.show()
# the theory's prediction for each cell: the current leader keeps committing while
# f <= write resilience; a new leader (the old one crashed) only while f is within both
price["predicted"] = [
    f == 0 or f <= (theory.loc[q2, "phase 2 survives f <="] if who == "followers"
                    else theory.loc[q2, "new leader commits if f <="])
    for q2, f, who in zip(price["q2"], price["crashed f"], price["who"])]
price["committed"] = price["ops after crash"] > 0
price_match = int((price["predicted"] == price["committed"]).sum())
print(f"theory predicted whether commits continued in {price_match} of {len(price)} cells")

# %% [markdown]
# ## 5. Multi-Paxos and Raft side by side
#
# The same five servers, the same three clients and workload, the same network and the
# same random fault schedule (a `Nemesis` draws it from the seed and the node names, which
# are the same in both). Throughput over time, with crashes shaded, and the latency of
# acknowledged operations.

# %%
from dsalgo import raft

nemesis = [sim.Nemesis(crash=0.5, partition=0.3, mean_duration=0.5, max_crashed=2,
                       end=(2.5 if quick else 8.0))]
common = dict(seed=1, duration=3.0 if quick else 10.0, clients=3, keys=3, faults=nemesis)
runs = {"Multi-Paxos": paxos.simulate(5, **common), "Raft": raft.simulate(5, **common)}
assert runs["Multi-Paxos"].faults.equals(runs["Raft"].faults)
print("Multi-Paxos:", paxos.check(runs["Multi-Paxos"]))
print("Raft:", raft.check(runs["Raft"]))
verdicts += [bool(paxos.check(runs["Multi-Paxos"])), bool(raft.check(runs["Raft"]))]

fig, axes = plt.subplots(1, 2, figsize=(13, 4), gridspec_kw={"width_ratios": [2, 1]})
bins = np.arange(0, common["duration"] + 0.1, 0.1)
for name, r in runs.items():
    ok = r.history[r.history.status == "ok"]
    counts, _ = np.histogram(ok.t_complete, bins=bins)
    axes[0].step(bins[:-1] * 1000, counts / 0.1, where="post", label=name)
    lat = np.sort((ok.t_complete - ok.t_invoke).to_numpy() * 1000)
    axes[1].plot(lat, np.arange(1, len(lat) + 1) / len(lat), label=name)
labelled = set()
for row in runs["Raft"].faults.itertuples():
    what = {"crash": ("a server crashed", "0.5"), "partition": ("a partition", "tab:red")}
    label, color = what.get(row.kind, (None, None))
    if label is not None:
        axes[0].axvspan(row.t_start * 1000, row.t_end * 1000, color=color, alpha=0.12,
                        label=None if label in labelled else label)
        labelled.add(label)
axes[0].set(xlabel="time (ms)", ylabel="acknowledged ops/s (100 ms bins)",
            title="Throughput under the same fault schedule")
axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=4, frameon=False)
axes[1].set(xscale="log", xlabel="operation latency (ms, log)", ylabel="fraction of ops",
            title="Latency CDF, acknowledged operations")
axes[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
plt.tight_layout()
plt.show()
pd.DataFrame({name: {"ok": int((r.history.status == "ok").sum()),
                     "fail (cas)": int((r.history.status == "fail").sum()),
                     "info (unknown)": int((r.history.status == "info").sum()),
                     "median latency (ms)": 1000 * float((r.history.t_complete - r.history.t_invoke).median()),
                     "messages per ok op": len(r.messages) / max(1, (r.history.status == "ok").sum())}
              for name, r in runs.items()}).round(2)

# %% [markdown]
# Where the messages go, per acknowledged operation (the same runs). This Multi-Paxos
# tells every learner of each decision with its own `Decided` message; Raft's followers
# learn the commit index from the next `AppendEntries`. And the same comparison on
# constant 5 ms links without faults, where every hop takes exactly 5 ms. <!-- inputs: 5 ms -->

# %%
per_op = pd.DataFrame({name: r.messages.type.value_counts() / (r.history.status == "ok").sum()
                       for name, r in runs.items()}).fillna(0).round(2)
per_op = per_op[(per_op > 0.005).any(axis=1)]
display(per_op)
mp = runs["Multi-Paxos"].messages
catchups = int((mp["type"] == "Catchup").sum())
rate = {t: per_op.loc[t, "Multi-Paxos"] if t in per_op.index else 0.0
        for t in ("Decided", "Accept")}
display(Markdown(
    f"Under faults a server that was down or cut off misses decisions; when it sees that it "
    f"lags, it asks with `Catchup` and gets the missed slots again as `Decided` messages. "
    + (f"It asked {catchups} times in this run, so the `Decided` messages ("
       f"{rate['Decided']:.2f} per acknowledged operation, against {rate['Accept']:.2f} "
       f"`Accept`) include those re-sent ones besides each slot's broadcast."
       if catchups else "No server asked in this run.")))
const = dict(seed=2, duration=2.0, clients=3, keys=3,
             network=sim.Network(latency=sim.Constant(0.005)))
steady = {"Multi-Paxos": paxos.simulate(5, **const), "Raft": raft.simulate(5, **const)}
verdicts += [bool(paxos.check(steady["Multi-Paxos"])), bool(raft.check(steady["Raft"]))]
pd.DataFrame({name: {"median latency (ms)": 1000 * float(
    (h.t_complete - h.t_invoke)[(h.status == "ok") & (h.t_invoke > 0.7)].median()),
    "Decided per ok op": (r.messages.type == "Decided").sum() / (h.status == "ok").sum()}
    for name, r in steady.items() for h in [r.history]}).round(2)

# %%
print(f"{len(verdicts)} runs checked, {sum(verdicts)} passed every safety property")
assert all(verdicts)

# %%
from dsalgo.report import Conclusion

c = Conclusion("What the charts showed")
c.add("**One decision.** On constant links of {lat:g} ms one proposer's value was chosen "
      "after {t1:.1f} ms (two round trips); two proposers without back-off on jittery links "
      "preempted each other {pre} times and decided after {t2:.1f} ms.",
      lat=lan.latency.mean * 1000, t1=paxos.decision_time(run) * 1000,
      pre=int((duel_run.events.kind == "preempted").sum()), t2=paxos.decision_time(duel_run) * 1000)
d = duels.groupby(["proposers", "backoff_max_ms"])[["decide_ms", "preemptions"]].mean()
most = int(duels["proposers"].max())
none_, widest = d.loc[(most, 0)], d.loc[(most, duels["backoff_max_ms"].max())]
c.add("**Back-off ends the livelock.** With {p} proposers and no back-off the first decision "
      "took {t0:.0f} ms on average after {pre0:.0f} preemptions; a back-off range of {b:g} ms "
      "cut that to {t1:.0f} ms ({pre1:.1f} preemptions), over {seeds} seeds per point.",
      p=most, t0=none_["decide_ms"], pre0=none_["preemptions"], b=duels["backoff_max_ms"].max(),
      t1=widest["decide_ms"], pre1=widest["preemptions"], seeds=len(SEEDS))
m = multi.groupby(["latency_mean_ms", "n"])["commit_mean_ms"].mean()
tp = multi.groupby("latency_mean_ms")["throughput"].mean()
c.add("**Multi-Paxos against n and latency.** The mean commit latency hardly moved with the "
      "cluster size ({r1}) and grew in proportion to the link latency; closed-loop "
      "throughput was {tp} for links of {lats} ms.",
      r1="; ".join(f"{g.min():.1f}–{g.max():.1f} ms at {lat:g} ms links"
                   for lat, g in m.groupby(level=0)),
      tp=", ".join(f"{v:,.0f} ops/s" for v in tp), lats=", ".join(f"{v:g}" for v in tp.index))
c.add("**Message count.** After the election {prep} `Prepare` messages were sent, and the "
      "{n_acc:,} `Accept`s make {proposed:g} slots proposed at `n - 1` per slot ({slots} "
      "decided, the rest in flight when the run stopped).",
      prep=int(msg_counts.get("Prepare", 0)), n_acc=int(msg_counts["Accept"]),
      proposed=proposed, slots=slots)
f = flex.groupby(["n", "q2"])[["commit_ms", "throughput"]].mean()
c.add("**Flexible Paxos.** A smaller |Q2| lowered the commit latency and raised throughput: "
      "{lines}.",
      lines="; ".join(f"n = {nn}: {g['commit_ms'].iloc[-1]:.1f} ms and "
                      f"{g['throughput'].iloc[-1]:.0f} ops/s at |Q2| = {g.index[-1][1]}, "
                      f"{g['commit_ms'].iloc[0]:.1f} ms and {g['throughput'].iloc[0]:.0f} ops/s "
                      f"at |Q2| = {g.index[0][1]}" for nn, g in f.groupby(level=0)))
c.add("**The price of a small Q2.** Whether commands were still acknowledged after the "
      "crashes matched the quorum theory (`write_resilience`, and `read_resilience` for a new "
      "leader) in {m} of {cells} cells.", m=price_match, cells=len(price))
ok_ops = {k: int((r.history.status == "ok").sum()) for k, r in runs.items()}
msgs = {k: len(r.messages) / max(ok_ops[k], 1) for k, r in runs.items()}
c.add("**Multi-Paxos and Raft**, same workload and fault schedule (one run each, seed "
      "{seed}: an illustration, not an estimate): Raft acknowledged {raft_ok:,} "
      "operations and Multi-Paxos {paxos_ok:,} in {dur:g} s, with {raft_m:.1f} and "
      "{paxos_m:.1f} messages per acknowledged operation.", seed=common["seed"],
      raft_ok=ok_ops["Raft"], paxos_ok=ok_ops["Multi-Paxos"], dur=common["duration"],
      raft_m=msgs["Raft"], paxos_m=msgs["Multi-Paxos"])
c.add("**Offered load.** The leader model agreed with the simulation within {err:.1%} "
      "(throughput and mean latency) at every point below {below:.0%} of the leader's "
      "capacity for n = {ns}; capacity without batching was {caps}; with max_batch = {mb} "
      "the highest loads offered were carried at {top}.",
      err=worst_model_error, below=BELOW, ns=", ".join(str(n) for n in agreement["n"]),
      caps=", ".join(f"{v:,.0f} commands/s at n = {n}"
                     for n, v in load.groupby("n")["capacity"].first().items()),
      mb=MAX_BATCH, top=", ".join(f"{pm(r)} "
                                  f"commands/s (of {r.offered:,.0f} offered) at n = {n}"
                                  for n, r in batched_top.iterrows()))
c.add("**Safety.** {passed} of {total} runs in this notebook passed every safety property "
      "(`paxos.check`, and `raft.check` for Raft).", passed=sum(verdicts), total=len(verdicts))
c
