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
# # Quorum and fault-tolerance math
#
# **Question:** how many replicas does a system need to survive *f* faults, which quorums
# are safe to use together, and what does each choice cost in availability ("how many
# nines"), load (throughput) and latency?
#
# We derive the bounds $n \ge 2f+1$ (crash) and $n \ge 3f+1$ (Byzantine) from the
# quorum-intersection argument, chart the availability of majorities from 3 to 15 nodes,
# compare even with odd sizes, grids with majorities, Flexible Paxos' phase-1/phase-2
# trade-off and correlated zone failures, and close by correcting three formulas seen in
# circulation, each checked against a simulation. Everything comes from `dsalgo.quorum`
# (exact math) and is cross-checked by Monte Carlo or by a run of `dsalgo.sim`.
# <!-- inputs: 3, 15 (cluster sizes) -->

# %% tags=["parameters"]
quick = False  # papermill parameter: smaller samples for the test suite

# %%
import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dsalgo import plot, quorum, sim

MC_SAMPLES = 20_000 if quick else 200_000     # Monte Carlo draws per cross-check
SIM_SECONDS = 150.0 if quick else 500.0       # simulated seconds per replication run
SIM_SEEDS = range(2) if quick else range(8)   # replication runs per cluster size
SIM_SIZES = [3, 5] if quick else [3, 4, 5, 6, 7]
pd.set_option("display.precision", 4)
pd.set_option("display.max_colwidth", None)    # tables here are narrow: no "…" in cells

# %% [markdown]
# ## 1. Why $n \ge 2f+1$ and $n \ge 3f+1$
#
# A replicated service acts once it hears from a **quorum** of $q$ out of $n$ nodes.
#
# *Crash faults.* Two requirements pin $q$ down:
#
# * **liveness** — with $f$ nodes crashed the $n-f$ survivors must still form a quorum: $q \le n-f$;
# * **safety** — any two quorums must share a node, so a later quorum sees what an earlier one
#   decided. Two $q$-sets out of $n$ are forced to overlap exactly when $2q > n$.
#
# So $n+1 \le 2q \le 2(n-f)$, i.e. $n \ge 2f+1$: the smallest safe quorum is the majority
# $\lfloor n/2\rfloor+1$ and $f = \lfloor (n-1)/2 \rfloor$.
#
# *Byzantine faults.* Up to $f$ nodes may lie, so two quorums must share $f+1$ nodes (then
# at least one shared node is correct): $2q - n \ge f+1$, i.e. $q \ge \lceil (n+f+1)/2 \rceil$.
# Liveness still needs $q \le n-f$ (liars may stay silent). Together:
# $(n+f+1)/2 \le n-f \iff n \ge 3f+1$, and at $n=3f+1$ the quorum is $2f+1$ (PBFT).
#
# The drawing puts two minimum quorums at opposite ends of the cluster: the crashed nodes
# (red, top) fit outside quorum B, and the overlap (purple) is never empty; with Byzantine
# liars in the overlap one correct node remains.

# %%
fig, axes = plt.subplots(3, 1, figsize=(8, 7.5))
plot.quorum_intersection(5, "crash", ax=axes[0])
plot.quorum_intersection(4, "byzantine", ax=axes[1])
plot.quorum_intersection(7, "byzantine", ax=axes[2])
fig.tight_layout()

# %%
quorum.bounds_table(range(1, 11))

# %% [markdown]
# The bound is tight, and we can check it by brute force instead of trusting the algebra:
# for every $n \le 9$ and every quorum size $q$, list all pairs of $q$-subsets and all
# crash sets. The largest $f$ for which *some* size $q$ is both safe (every pair meets) and
# live (survives every set of $f$ crashes) equals $\lfloor (n-1)/2 \rfloor$ in every row.

# %%
rows = []
for n in range(1, 10):
    nodes = range(n)
    best_f = -1
    for q in range(1, n + 1):
        quorums = [set(c) for c in itertools.combinations(nodes, q)]
        safe = all(a & b for a in quorums for b in quorums)
        # largest f such that every f-crash leaves a quorum alive
        live_f = max(f for f in range(n) if all(
            any(qq.isdisjoint(dead) for qq in quorums)
            for dead in map(set, itertools.combinations(nodes, f))))
        if safe:
            best_f = max(best_f, live_f)
    rows.append({"n": n, "f by brute force": best_f, "floor((n-1)/2)": quorum.max_faults(n)})
brute = pd.DataFrame(rows)
assert (brute["f by brute force"] == brute["floor((n-1)/2)"]).all()
brute.T

# %% [markdown]
# ## 2. How many nines: majorities from 3 to 15 nodes
#
# If each node is down independently with probability $p$, a majority of $n$ is available
# when at least $k=\lfloor n/2\rfloor+1$ nodes are up:
# $$A(n,p) = \sum_{j=k}^{n} \binom{n}{j} (1-p)^j p^{n-j}.$$
# `dsalgo.quorum` sums the *unavailability* $1-A$ directly, so the nines
# $-\log_{10}(1-A)$ stay exact far beyond double precision's $1-10^{-16}$. For small $p$
# the unavailability is dominated by its first term, $\binom{n}{f+1}p^{f+1}$: two extra
# nodes multiply it by $p\,\binom{n+2}{f+2}/\binom{n}{f+1} = 2p\,(2f+3)/(f+2)$, between
# $10p/3$ and $4p$. So they add $\log_{10}(1/p)$ nines *less* about half a nine: about 1.5
# at $p = 0.01$ and 2.5 at $p = 0.001$, not one nine per decade of $p$.
# <!-- inputs: 3, 15 (cluster sizes); given: 1.5, 2.5 (the arithmetic above) -->

# %%
ps = np.logspace(-4, np.log10(0.4), 40)
majorities = {f"n = {n}": quorum.majority(n) for n in range(3, 15 + 1, 2)}
nines = quorum.availability_table(majorities, ps)
ax = plot.availability_nines(nines)
ax.figure.set_size_inches(8, 5)
ax.set_title("Availability of a live majority vs per-node failure probability");

# %%
from IPython.display import Markdown, display

at = quorum.availability_table(majorities, [0.001, 0.01, 0.05, 0.1])
display(at.pivot(index="system", columns="p", values="nines").loc[list(majorities)].round(2))
step = at.sort_values("n").groupby("p")["nines"].diff().groupby(at["p"]).agg(["min", "max"])
display(Markdown("Two more nodes added " + "; ".join(
    f"{r['min']:.2f}–{r['max']:.2f} nines at $p = {p:g}$ (the estimate above: "
    f"{-np.log10(p) - 0.5:.1f})" for p, r in step.loc[[0.01, 0.001]].iterrows()) + "."))

# %% [markdown]
# Monte Carlo cross-check: the exact availability lies inside the 99.9 % Wilson
# interval of a sampled estimate for each size.
# <!-- inputs: 99.9 % -->

# %%
checks = []
for label, qs in majorities.items():
    est = qs.monte_carlo_availability(0.2, samples=MC_SAMPLES, seed=1, confidence=0.999)
    exact = qs.availability(0.2)
    checks.append({"system": label, "exact": exact, "monte carlo": est.estimate,
                   "ci low": est.low, "ci high": est.high, "inside": est.covers(exact)})
checks = pd.DataFrame(checks)
assert checks["inside"].all()
checks

# %% [markdown]
# ## 3. Even versus odd cluster sizes
#
# A majority of $2m$ nodes needs $m+1$, so it tolerates $m-1$ crashes — no more than
# $2m-1$ nodes do — while offering one more node that can fail. The unavailability of
# $2m$ nodes is therefore *higher* than that of $2m-1$: to first order
# $\binom{2m}{m}p^m$ against $\binom{2m-1}{m}p^m$, a ratio of $\binom{2m}{m}/\binom{2m-1}{m} = 2$.
# Its load is also worse: $(m+1)/(2m)$ against $m/(2m-1)$.

# %%
rows = []
for n_odd in (3, 5, 7, 9, 11, 13):
    odd, even = quorum.majority(n_odd), quorum.majority(n_odd + 1)
    for p in (0.001, 0.01, 0.1):
        rows.append({"odd n": n_odd, "p": p,
                     "unavailability ratio even/odd": even.unavailability(p) / odd.unavailability(p),
                     "load odd": odd.load(0.5), "load even": even.load(0.5),
                     "f odd": odd.resilience(), "f even": even.resilience()})
eo = pd.DataFrame(rows)
fig, ax = plt.subplots(figsize=(7, 4))
for p, part in eo.groupby("p"):
    ax.plot(part["odd n"], part["unavailability ratio even/odd"], marker="o", label=f"p = {p:g}")
ax.axhline(2, color="k", ls=":", lw=1, label="first-order limit 2")
ax.axhline(1, color="gray", lw=0.8)
ax.set_xlabel("odd cluster size n (compared with n + 1)")
ax.set_ylabel("unavailability of n+1 / unavailability of n")
ax.set_title("Adding a node to an odd cluster makes it less available")
ax.set_xticks(sorted(eo["odd n"].unique()))
ax.set_ylim(0.9, 2.1)
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False);

# %%
eo[eo["p"] == 0.01][["odd n", "f odd", "f even", "load odd", "load even",
                        "unavailability ratio even/odd"]]

# %% [markdown]
# ## 4. Grid versus majority: load against availability
#
# Load (Naor and Wool; for read-write systems Whittaker et al. 2021) is the probability that
# the busiest node takes part in an operation under the best strategy — its inverse is the
# throughput in units of one node. `dsalgo.quorum` computes it by linear programming.
# A majority of $n$ has load $\approx 1/2$ whatever $n$ is; a $\sqrt n \times \sqrt n$ grid
# (read a whole row, write one node of every row) has load $1/\sqrt n$ — but its quorums
# are fragile: one failure in every row blocks reads, and a full row down blocks writes.

# %%
systems = {
    "majority(9)": quorum.majority(9), "grid 3x3": quorum.grid(3, 3),
    "majority(16)": quorum.majority(16), "grid 4x4": quorum.grid(4, 4),
    "majority(25)": quorum.majority(25), "grid 5x5": quorum.grid(5, 5),
}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
plot.load_curves(quorum.load_table(systems, np.linspace(0, 1, 11)), ax=ax1)
plot.availability_nines(quorum.availability_table(systems, np.logspace(-3, np.log10(0.3), 25)),
                        ax=ax2)
fig.tight_layout()

# %%
rows = []
for label, qs in systems.items():
    rows.append({"system": label, "n": qs.n, "resilience f": qs.resilience(),
                 "load (50% reads)": qs.load(0.5), "capacity (x one node)": qs.capacity(0.5),
                 "nines at p=0.01": -np.log10(qs.unavailability(0.01))})
pd.DataFrame(rows)

# %% [markdown]
# The optimal strategy spreads the load evenly, here for the 2x3 grid of quoracle's README
# with a read fraction of 25 %:
# <!-- inputs: 25 % -->

# %%
from fractions import Fraction

g23 = quorum.grid(2, 3)
loads23 = g23.node_loads(0.25)
ax = plot.node_load_bars(loads23)
ax.set_title("2x3 grid, 25% reads: per-node load under the optimal strategy")
plt.show()
share = Fraction(float(loads23["load"].max())).limit_denominator(100)
display(Markdown(f"The loads range from {loads23['load'].min():.4f} to "
                 f"{loads23['load'].max():.4f}: "
                 + (f"every node carries {share} of the operations."
                    if np.ptp(loads23["load"]) < 1e-9 else "the spread is uneven.")))

# %% [markdown]
# ## 5. Flexible Paxos: trading phase-1 for phase-2 quorums
#
# Howard, Malkhi and Spiegelman (2016) observed that Paxos only needs every **phase-1**
# quorum to meet every **phase-2** quorum: $|Q_1| + |Q_2| > n$. Phase-2 runs for every
# command, phase-1 only on leader change, so shrinking $Q_2$ speeds up the common case and
# makes leader election harder. In `dsalgo.quorum.flexible` phase-1 quorums are the *read*
# quorums and phase-2 quorums the *write* quorums (Whittaker et al.'s mapping).
# With $n = 10$ and $q_1 = n + 1 - q_2$:

# %%
n = 10
rows = []
for q2 in range(1, n + 1):
    fp = quorum.flexible(n, q1=n + 1 - q2, q2=q2)
    rows.append({"q2": q2, "q1": n + 1 - q2,
                 "phase-2 load": fp.load(0.0),          # steady state: phase 2 only
                 "phase-2 nines (p=0.05)": -np.log10(fp.unavailability(0.05, op="write")),
                 "phase-1 nines (p=0.05)": -np.log10(fp.unavailability(0.05, op="read")),
                 "phase-1 tolerates": fp.read_resilience(),
                 "phase-2 tolerates": fp.write_resilience()})
fpx = pd.DataFrame(rows)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
ax1.plot(fpx["q2"], fpx["phase-2 nines (p=0.05)"], marker="o", label="phase 2 (every command)")
ax1.plot(fpx["q2"], fpx["phase-1 nines (p=0.05)"], marker="s", label="phase 1 (leader change)")
ax1.set_xlabel("phase-2 quorum size q2 (q1 = 11 - q2)")
ax1.set_ylabel("availability (nines), p = 0.05 per node")
ax1.set_title("Flexible Paxos, n = 10: availability of each phase")
ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=2, frameon=False)
ax2.plot(fpx["q2"], fpx["phase-2 load"], marker="o", color="tab:green", label="phase-2 load")
ax2.set_xlabel("phase-2 quorum size q2")
ax2.set_ylabel("load (busiest acceptor's share of commands)")
ax2.set_title("Smaller phase-2 quorums spread the steady-state load")
ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
fig.tight_layout()
fpx

# %% [markdown]
# Safety is the intersection, and `is_valid()` reports the offending pair when it fails:

# %%
print(quorum.flexible(10, q1=8, q2=3).is_valid())
print(quorum.flexible(10, q1=7, q2=3, unsafe=True).is_valid())

# %% [markdown]
# ## 6. Correlated failures: three availability zones
#
# Independent node failures are the optimistic case. Nodes share racks, power and zones;
# when a zone fails, all its nodes go together. `availability(p, groups=...)` conditions on
# which zones are down (each with probability $q$) and then applies the independent formula.
# Nine nodes spread 3-3-3 over three zones survive any single zone outage; packed 5-2-2,
# losing the big zone loses the majority; 4-4-1 also survives any single zone outage
# (5 of 9 remain), but after losing a 4-node zone one more node failure is fatal. The markers
# are Monte Carlo estimates of the same quantities.
# <!-- inputs: 3, 5, 2, 4, 1, 9 (the layouts) -->

# %%
qs9 = quorum.majority(9)
N = [f"n{i}" for i in range(1, 10)]
layouts = {
    "3-3-3": [N[0:3], N[3:6], N[6:9]],
    "5-2-2": [N[0:5], N[5:7], N[7:9]],
    "4-4-1": [N[0:4], N[4:8], N[8:9]],
}
zone_q = np.logspace(-4, -1, 13)
majority9 = quorum.quorum_size(9)
for label, zones in layouts.items():   # the arithmetic of the text above, checked
    biggest = max(len(z) for z in zones)
    survives = 9 - biggest >= majority9
    assert survives == (label != "5-2-2"), label
    assert (9 - biggest - 1 >= majority9) == (label == "3-3-3"), label  # one more failure
fig, ax = plt.subplots(figsize=(8, 4.5))
mc_rows = []
for i, (label, zones) in enumerate(layouts.items()):
    u = [qs9.unavailability(0.001, groups={f"az{j}": (z, q) for j, z in enumerate(zones)})
         for q in zone_q]
    ax.loglog(zone_q, u, marker="o", ms=3, label=f"majority(9), zones {label}", color=f"C{i}")
    q = 0.05
    groups = {f"az{j}": (z, q) for j, z in enumerate(zones)}
    est = qs9.monte_carlo_availability(0.001, groups=groups, samples=MC_SAMPLES, seed=2,
                                       confidence=0.999)
    exact = qs9.unavailability(0.001, groups=groups)
    ax.plot([q], [1 - est.estimate], "x", ms=10, color=f"C{i}")
    mc_rows.append({"layout": label, "zone q": q, "exact unavailability": exact,
                    "monte carlo": 1 - est.estimate, "inside 99.9% CI": est.covers(1 - exact)})
ax.plot([], [], "kx", label="Monte Carlo (q = 0.05)")
ax.set_xlabel("per-zone failure probability q (nodes also fail alone with p = 0.001)")
ax.set_ylabel("unavailability of a majority")
ax.set_title("Zone placement decides whether a zone outage is survivable")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
mc = pd.DataFrame(mc_rows)
assert mc["inside 99.9% CI"].all()
mc

# %% [markdown]
# ## 7. Latency: waiting for the $k$-th reply
#
# A leader that sends to all $n$ replicas and waits for $k$ replies waits for the $k$-th
# order statistic. With i.i.d. exponential replies of mean $m$ that is
# $m\,(1/n + 1/(n-1) + \dots + 1/(n-k+1))$; for any distribution
# the $q$-quantile is $F^{-1}(B^{-1}_{k,n-k+1}(q))$. Larger clusters *wait for more
# replies* but also have more fast ones to choose from:

# %%
from scipy import stats
reply = stats.lognorm(s=0.6, scale=0.002)      # median 2 ms, heavy-ish tail
rows = []
for n in range(3, 16, 2):
    qs = quorum.majority(n)
    p50, p99 = qs.latency(reply, q=[0.5, 0.99])
    rows.append({"n": n, "mean (ms)": 1e3 * qs.latency(reply), "p50 (ms)": 1e3 * p50,
                 "p99 (ms)": 1e3 * p99})
lat = pd.DataFrame(rows)
fig, ax = plt.subplots(figsize=(7, 4))
for col in ("p50 (ms)", "mean (ms)", "p99 (ms)"):
    ax.plot(lat["n"], lat[col], marker="o", label=col.split(" ")[0])
ax.set_xlabel("cluster size n (waiting for a majority)")
ax.set_ylabel("time to hear from a majority (ms)")
ax.set_title("Majority latency with lognormal replies (median 2 ms)")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
lat

# %% [markdown]
# ## 8. Common misstatements
#
# Three formulas that circulate in blog posts and interview notes, and the correct ones.
#
# | claim seen | what is right | why |
# |---|---|---|
# | "$f = n/(2n-1)$" | $f = \lfloor (n-1)/2 \rfloor$ (crash) | $n/(2n-1)$ is not an integer for any $n \ge 2$: it lies in $(1/2, 1)$ there (and is $1$ at $n = 1$, where the answer is $f = 0$). From $n \ge 2f+1$. |
# | "$n = (2f+1)/f$" | $n = 2f+1$ (crash), $n = 3f+1$ (Byzantine) | $(2f+1)/f = 2 + 1/f$ is below $3$ for every $f \ge 2$; it only coincides with $2f+1$ at $f = 1$. |
# | "$L = n/k$" (RedLock locks needed) | $\lfloor N/2 \rfloor + 1$ of $N$ independent servers | mutual exclusion needs any two lock sets to intersect: $2L > N$. |
#
# Below, each correct formula is checked against an experiment rather than algebra.

# %%
from IPython.display import display

by_n = pd.DataFrame({"n": range(1, 10)})
by_n["claimed f = n/(2n-1)"] = by_n["n"] / (2 * by_n["n"] - 1)
by_n["correct f = floor((n-1)/2)"] = quorum.max_faults(by_n["n"].to_numpy())
by_n["Byzantine f = floor((n-1)/3)"] = quorum.max_faults(by_n["n"].to_numpy(), "byzantine")
by_f = pd.DataFrame({"f": range(1, 6)})
by_f["claimed n = (2f+1)/f"] = (2 * by_f["f"] + 1) / by_f["f"]
by_f["correct n = 2f+1"] = quorum.min_nodes(by_f["f"].to_numpy())
by_f["Byzantine n = 3f+1"] = quorum.min_nodes(by_f["f"].to_numpy(), "byzantine")
display(by_n.set_index("n").round(3))
display(by_f.set_index("f").T.round(3))

# %% [markdown]
# ### A replication run on `dsalgo.sim`
#
# <!-- inputs: 50 ms -->
# A writer `c1` sends each round's write to all $n$ replicas every 50 ms and the round
# *commits* when the replicas that acknowledged form a majority (`is_write_quorum`).
# A `Nemesis` crashes a random live replica at rate $\lambda$ (per cluster) and each crash
# lasts an exponential time of mean $\mu = 1$ s. Measured from the run:
#
# * the **largest number of replicas down** while a round still committed, and the smallest
#   number down when a round failed — the empirical $f$;
# * the fraction of rounds that committed, against the fraction of time a majority was up
#   (from `run.faults`) and against the exact stationary distribution of the number of down
#   nodes. With crashes arriving at constant rate $\lambda$ and each down node restarting at
#   rate $1/\mu$, that number is a birth–death chain whose stationary law is a Poisson law
#   truncated to $0..n$: $\pi_j \propto (\lambda\mu)^j / j!$.
#
# Each size runs with several seeds; the fractions are means over the seeds with a 95 %
# Student-t interval.
# <!-- inputs: 95 % -->

# %%
from dataclasses import dataclass

from dsalgo.quorum.outages import down_at, stationary_up_fraction, unchanged_between


@dataclass(frozen=True)
class Write:
    round: int


@dataclass(frozen=True)
class Ack:
    round: int


class Replica(sim.Node):
    def on_message(self, ctx, src, msg):
        if isinstance(msg, Write):
            ctx.send(src, Ack(msg.round))


class Writer(sim.Node):
    """Each period: close the previous round (commit iff its acks form a write quorum)
    and broadcast the next write."""

    def __init__(self, qs, period):
        self.qs, self.period, self.round, self.acks = qs, period, 0, set()

    def on_start(self, ctx):
        ctx.set_timer("round", self.period)

    def on_timer(self, ctx, name):
        if self.round:
            ctx.emit("round_end", round=self.round, acks=len(self.acks),
                     committed=self.qs.is_write_quorum(self.acks))
        self.round += 1
        self.acks = set()
        ctx.broadcast(self.qs.nodes, Write(self.round))
        ctx.set_timer("round", self.period)

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Ack) and msg.round == self.round:
            self.acks.add(src)


def replicate(n, crash_rate, mean_down, seed, until, period=0.05):
    qs = quorum.majority(n)
    s = sim.Simulation(seed=seed, network=sim.Network(latency=sim.Exponential(mean=0.002)))
    for x in qs.nodes:
        s.add_node(x, Replica)
    s.add_node("c1", lambda: Writer(qs, period), role="client")
    s.add_faults([sim.Nemesis(crash=crash_rate, mean_duration=mean_down, targets=list(qs.nodes))])
    s.params = {"n": n, "crash_rate": crash_rate, "mean_down": mean_down}
    return s.run(until=until)


# %%
from dsalgo.analysis import summarize

rows, per_n = [], []
for n in SIM_SIZES:
    lam = 0.3 * n           # crashes per second (cluster-wide), mean outage 1 s
    seen = []
    for seed in SIM_SEEDS:
        run = replicate(n, lam, 1.0, seed=100 * n + seed, until=SIM_SECONDS)
        rounds = run.events[run.events["kind"] == "round_end"].copy()
        # the state a round saw: crashed replicas when its write went out (one period earlier)
        rounds["down"] = down_at(run.faults, rounds["time"] - 0.05)
        rounds["steady"] = unchanged_between(run.faults, rounds["time"] - 0.05, rounds["time"])
        seen.append(rounds)
        grid_t = np.linspace(0, SIM_SECONDS, 100_001)[:-1]
        rows.append({"n": n, "seed": seed,
                     "rounds committed": rounds["committed"].astype(bool).mean(),
                     "time with majority up":
                         (down_at(run.faults, grid_t) <= n - quorum.quorum_size(n)).mean()})
    rounds = pd.concat(seen)
    committed = rounds["committed"].astype(bool)
    per_n.append({
        "n": n, "runs": len(SIM_SEEDS), "rounds": len(rounds),
        "most down, still committed": int(rounds.loc[committed & rounds["steady"], "down"].max()),
        "fewest down, stalled": int(rounds.loc[~committed & rounds["steady"], "down"].min()),
        "f = floor((n-1)/2)": quorum.max_faults(n),
        "birth-death prediction": stationary_up_fraction(n, lam, 1.0)})
per_seed = pd.DataFrame(rows)
ci = summarize(per_seed, by="n", metrics=["rounds committed", "time with majority up"], ci=0.95)
ci = ci.pivot(index="n", columns="metric", values=["mean", "ci_low", "ci_high"])
simres = pd.DataFrame(per_n).set_index("n")
for metric in ("rounds committed", "time with majority up"):
    simres[metric] = ci[("mean", metric)]
    simres[f"{metric}, 95% CI"] = [f"{lo:.4f}–{hi:.4f}" for lo, hi in
                                   zip(ci[("ci_low", metric)], ci[("ci_high", metric)])]
simres["prediction inside CI"] = ((ci[("ci_low", "rounds committed")] <= simres["birth-death prediction"])
                                  & (simres["birth-death prediction"] <= ci[("ci_high", "rounds committed")]))
simres = simres.reset_index()
assert (simres["most down, still committed"] == simres["f = floor((n-1)/2)"]).all()
assert (simres["fewest down, stalled"] == simres["f = floor((n-1)/2)"] + 1).all()
simres

# %%
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(simres["n"], simres["birth-death prediction"], "o-", label="exact (birth-death chain)")
for metric, marker, shift in (("rounds committed", "x", -0.08),
                              ("time with majority up", "+", 0.08)):
    mean = ci[("mean", metric)].to_numpy()
    err = [mean - ci[("ci_low", metric)].to_numpy(), ci[("ci_high", metric)].to_numpy() - mean]
    ax.errorbar(simres["n"] + shift, mean, yerr=err, fmt=marker, ms=9, capsize=3,
                label=f"simulated: {metric.replace('majority', 'a majority')}")
ax.set_xlabel("replicas n (crash rate 0.3 n per s, mean outage 1 s)")
ax.set_ylabel(f"fraction of time / rounds\n(mean, 95% CI over {len(SIM_SEEDS)} runs)")
ax.set_title("Majority replication under a crash nemesis: simulation vs formula")
ax.set_xticks(simres["n"])
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False);

# %% [markdown]
# ### RedLock: how many locks make a lock?
#
# RedLock (Redis' distributed-lock recipe) asks a client to lock the same key on $N$
# independent Redis servers and to consider the lock held only if it got it on at least
# $L$ of them (within the lock's validity time). Mutual exclusion needs any two holders'
# sets to intersect, $2L > N$, so $L = \lfloor N/2 \rfloor + 1$; anything smaller lets two
# clients hold the lock at once, and anything larger only costs availability.
#
# The experiment: two clients race for the same lock; each server grants it to whichever
# request reaches it first (a fair coin per server), and a server that is down grants
# nothing. We count runs in which **both** clients believe they hold the lock, and the
# fraction of uncontended attempts that succeed when servers are down with $p = 0.1$.

# %%
rng = np.random.default_rng(7)
trials = MC_SAMPLES
rows = []
for N in (3, 4, 5, 6, 7):
    first_to = rng.random((trials, N)) < 0.5           # True: client A reached it first
    for rule, L in [("majority floor(N/2)+1", N // 2 + 1), ("L = N/2 (rounded up)", math.ceil(N / 2)),
                    ("L = N/3 (rounded up)", math.ceil(N / 3))]:
        both = (first_to.sum(axis=1) >= L) & ((~first_to).sum(axis=1) >= L)
        up = rng.random((trials, N)) >= 0.1
        qs = quorum.threshold(N, read=L, write=L, unsafe=True)
        rows.append({"N": N, "rule": rule, "L": L, "both hold the lock": both.mean(),
                     "quorum system valid": bool(qs.is_valid()),
                     "acquire prob. (p=0.1), simulated": (up.sum(axis=1) >= L).mean(),
                     "acquire prob. (p=0.1), exact": qs.availability(0.1, op="write")})
redlock = pd.DataFrame(rows)
safe = redlock[redlock["rule"].str.startswith("majority")]
assert (safe["both hold the lock"] == 0).all()
assert (redlock.loc[~redlock["quorum system valid"], "both hold the lock"] > 0).all()
redlock

# %%
from dsalgo.analysis import wilson

fig, ax = plt.subplots(figsize=(8, 4))
for i, (rule, part) in enumerate(redlock.groupby("rule", sort=False)):
    k = np.round(part["both hold the lock"].to_numpy() * trials).astype(int)
    low, high = wilson(k, trials)
    rate = k / trials
    ax.errorbar(part["N"] + (i - 1) * 0.06, rate, yerr=[rate - low, high - rate], marker="o",
                capsize=3, label=rule)
ax.set_xlabel("number of independent Redis servers N")
ax.set_ylabel(f"fraction of races where both\nclients hold the lock (95% Wilson, {trials:,} races)")
ax.set_title("RedLock needs a majority: smaller L breaks mutual exclusion")
ax.set_xticks(sorted(redlock["N"].unique()))
ax.legend(title="locks needed L", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
fig.tight_layout();

# %% [markdown]
# ## 9. Explore
#
# Move the sliders: cluster size $n$, per-node failure probability $p$ and read fraction.
# The left chart compares the availability of $n-1$, $n$ and $n+1$ nodes; the right one the
# load of a majority and of the squarest grid of $n$ nodes.

# %%
from dsalgo.widgets import quorum_explorer

quorum_explorer(n=5, p=0.01, read_fraction=0.5)

# %%
from dsalgo.report import Conclusion

c = Conclusion("What the charts showed")
c.add("**Bounds.** Brute force over every quorum size and crash set for $n \\le$ {n_max} "
      "{agree} $f = \\lfloor (n-1)/2 \\rfloor$; two majorities always share a node.",
      n_max=int(brute["n"].max()),
      agree="gave exactly" if (brute["f by brute force"] == brute["floor((n-1)/2)"]).all()
      else "did NOT always give")
n1 = at[at["p"] == 0.01].set_index("n")["nines"]
n10 = at[at["p"] == 0.1].set_index("n")["nines"]
c.add("**Nines.** At $p$ = {p:g} a majority of {a} nodes gives {na:.1f} nines and of {b} "
      "nodes {nb:.1f}; at $p$ = {p2:g} the same sizes give {ma:.2f} and {mb:.2f}. Monte Carlo "
      "agreed with the exact value for {inside} of {sizes} sizes.",
      p=0.01, a=n1.index[0], na=n1.iloc[0], b=n1.index[-1], nb=n1.iloc[-1], p2=0.1,
      ma=n10.iloc[0], mb=n10.iloc[-1], inside=int(checks["inside"].sum()), sizes=len(checks))
r = eo["unavailability ratio even/odd"]
c.add("**Even sizes.** Going from an odd $n$ to $n+1$ keeps $f$ and multiplies the "
      "unavailability by {lo:.2f} to {hi:.2f} over the sizes and probabilities tried, while "
      "raising the load ({le:.2f} against {lo_load:.2f} for {ne} against {no} nodes).",
      lo=r.min(), hi=r.max(), le=eo["load even"].iloc[0], lo_load=eo["load odd"].iloc[0],
      ne=int(eo["odd n"].iloc[0]) + 1, no=int(eo["odd n"].iloc[0]))
gt = pd.DataFrame([{"system": k, "f": q.resilience(), "load": q.load(0.5),
                    "nines": -np.log10(q.unavailability(0.01))} for k, q in systems.items()])
grids, majs = gt[gt["system"].str.startswith("grid")], gt[gt["system"].str.startswith("maj")]
c.add("**Grid vs majority.** Square grids carry loads of {gl} (majorities {ml}) but tolerate "
      "only {gf} crashes against {mf}, and at $p$ = {p:g} give {gn} nines against {mn}.",
      gl=", ".join(f"{x:.2f}" for x in grids["load"]),
      ml=", ".join(f"{x:.2f}" for x in majs["load"]),
      gf=", ".join(str(int(x)) for x in grids["f"]), mf=", ".join(str(int(x)) for x in majs["f"]),
      p=0.01, gn=", ".join(f"{x:.1f}" for x in grids["nines"]),
      mn=", ".join(f"{x:.1f}" for x in majs["nines"]))
c.add("**Flexible Paxos.** With $n$ = {n} and $q_1 + q_2 = n + 1$, a small $q_2$ makes the "
      "steady state available ({hi:.1f} nines at $q_2$ = {q_lo}) at the price of a phase one "
      "with {lo1:.1f} nines; at $q_2$ = {q_hi} the two trade places.",
      n=int(fpx["q1"].iloc[0] + fpx["q2"].iloc[0]) - 1, hi=fpx["phase-2 nines (p=0.05)"].iloc[0], q_lo=int(fpx["q2"].iloc[0]),
      lo1=fpx["phase-1 nines (p=0.05)"].iloc[0], q_hi=int(fpx["q2"].iloc[-1]))
c.add("**Zones.** At a per-zone failure probability of {q:g}, a majority of nine nodes is "
      "unavailable with probability {u_spread:.2g} spread {l0}, {u_packed:.2g} packed {l1} "
      "and {u_mid:.2g} as {l2}; Monte Carlo agreed in {inside} of {layouts} layouts.",
      l0=mc["layout"].iloc[0], l1=mc["layout"].iloc[1], l2=mc["layout"].iloc[2],
      q=mc["zone q"].iloc[0], u_spread=mc["exact unavailability"].iloc[0],
      u_packed=mc["exact unavailability"].iloc[1], u_mid=mc["exact unavailability"].iloc[2],
      inside=int(mc["inside 99.9% CI"].sum()), layouts=len(mc))
same = np.allclose(lat["p50 (ms)"], 1e3 * reply.median(), rtol=1e-6)
c.add("**Latency.** The median wait for a majority {same} the median reply ({p50:.1f} ms) "
      "for every $n$, while the p99 falls from {p99a:.1f} ms at $n$ = {na} to {p99b:.1f} ms "
      "at $n$ = {nb}.", same="equals" if same else "does NOT always equal",
      p50=1e3 * reply.median(), p99a=lat["p99 (ms)"].iloc[0],
      na=int(lat["n"].iloc[0]), p99b=lat["p99 (ms)"].iloc[-1], nb=int(lat["n"].iloc[-1]))
gap = (simres["rounds committed"] - simres["birth-death prediction"]).abs()
held = (simres["most down, still committed"] == simres["f = floor((n-1)/2)"]).all()
third = redlock[redlock["rule"].str.contains("N/3")]["both hold the lock"]
c.add("**Misstatements, against simulation.** In the replication runs ({runs} per size) a "
      "round {held} with $f$ replicas down for every $n$ tried ({sizes}). The mean fraction "
      "of committed rounds was within {gap:.3f} of the birth–death formula, which lay inside "
      "the {level:.0%} interval for {inside} of {n_sizes} sizes. In the RedLock race a majority let "
      "two clients hold the lock in {maj:.1%} of races at most, $L = N/2$ with even $N$ in up "
      "to {half:.0%} and $L = \\lceil N/3 \\rceil$ in {third_lo:.0%} to {third_hi:.0%}.",
      runs=len(SIM_SEEDS), level=0.95, held="still committed" if held else "did NOT always commit",
      sizes=", ".join(str(int(x)) for x in simres["n"]), gap=gap.max(),
      inside=int(simres["prediction inside CI"].sum()), n_sizes=len(simres),
      maj=safe["both hold the lock"].max(),
      half=redlock[redlock["rule"].str.contains("N/2")]["both hold the lock"].max(),
      third_lo=third.min(), third_hi=third.max())
c
