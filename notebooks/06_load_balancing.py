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
# # Load balancing: which policy keeps the tail short as the cluster fills up?
#
# **Question.** A stream of requests arrives at a cluster of servers. How much does the
# *policy* that picks a server for each request matter for tail latency as utilisation
# rises — and can queueing theory tell us the answer before we run anything?
#
# We build the cluster on the deterministic simulator (`dsalgo.balance.simulate`: an
# open-loop Poisson client, a balancer, FIFO backends with exponential service of mean 1 s)
# and check it against the closed forms in `dsalgo.balance` — M/M/1, Erlang C for M/M/c, and
# Mitzenmacher's supermarket model of the power of two choices. Then we look at what theory
# does not cover: stale load information, and consistent hashing with and without bounded
# loads.
#
# All times are seconds; with a mean service time of 1 s, a latency of 5 s means "five
# service times".
# <!-- inputs: 1 s; given: 5 s (an example) -->

# %% tags=["parameters"]
quick = False

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from dsalgo import balance, plot
from dsalgo.analysis import summarize

pd.set_option("display.max_colwidth", None)   # whole cells in the report, no "…"

# sizes: quick mode (CI) keeps every run small; full mode gives tighter estimates
N_REQ = 1_000 if quick else 15_000       # requests per run in the policy sweeps
N_THEORY = 2_500 if quick else 30_000    # requests per run for the theory checks
N_SUPER = 8_000 if quick else 90_000    # requests for the 100-server supermarket runs
WARMUP_SUPER = 50.0 if quick else 300.0  # an M/M/1 queue at rho = 0.9 fills up slowly (see section 3)
WARMUP = 50.0                            # seconds of start-up left out of every statistic
SERVERS = 10

# %% [markdown]
# ## 1. Simulation against theory
#
# Two exact results to calibrate the simulator:
#
# * **Random assignment** splits a Poisson stream into independent Poisson streams, so each
#   of the `c` servers is an M/M/1 queue: mean response time `1 / (1 − ρ)` service times.
# * **One central queue** feeding `c` servers is M/M/c: a request waits with the Erlang C
#   probability `C(c, ρ)`.
#
# Error bars are 95% confidence intervals by batch means (consecutive response times are
# correlated, so a naive interval would be too narrow).
# <!-- inputs: 95% -->

# %%
rhos = [0.3, 0.5, 0.7, 0.85]
rows = []
for rho in rhos:
    r = balance.simulate(4, policy="random", utilization=rho, requests=N_THEORY, seed=0)
    m, h = balance.batch_means(balance.response_times(r, warmup=WARMUP).to_numpy(), level=0.95)
    rows.append(dict(rho=rho, quantity="random: mean response (s)", measured=m, low=m - h,
                     high=m + h, theory=float(balance.mm1_mean_response(rho))))
    r = balance.simulate(4, policy="central_queue", utilization=rho, requests=N_THEORY, seed=0)
    w = balance.waits(r, warmup=WARMUP).to_numpy()
    m, h = balance.batch_means((w > 0).astype(float), level=0.95)
    rows.append(dict(rho=rho, quantity="central queue: P(wait)", measured=m, low=m - h,
                     high=m + h, theory=float(balance.erlang_c(4, rho))))
check = pd.DataFrame(rows)
check["inside CI"] = (check["theory"] - check["measured"]).abs() <= (check["high"] - check["measured"])
check.round(3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, (q, g) in zip(axes, check.groupby("quantity", sort=False)):
    plot.theory_check(g, x="rho", ax=ax, xlabel="utilization ρ", ylabel=q,
                      title=f"{q.split(':')[0]} on 4 servers: simulation vs theory")
fig.tight_layout()

# %% [markdown]
# ## 2. Tail latency against utilisation, for every policy
#
# Ten equal servers; p99 of response time for each policy as the load rises (the mean over
# a few seeds, with a 95% t interval across them). The grey
# curves (dashed and dotted) are the two theoretical extremes: M/M/1 (what random
# assignment gives) and M/M/10 with one central queue (what no policy with per-server queues
# can beat on waiting). With equal speeds weighted round robin *is* round robin, and with one
# balancer and fresh reports JSQ and least-outstanding make the same choices: those pairs of
# lines coincide (drawn with different markers). A policy that offers some backend more work
# than it can serve (consistent hashing's uneven ring near saturation) has no steady state:
# its queue grows for the whole run, so its p99 is shown as "unstable" in the table and left
# out of the chart.
# <!-- inputs: 95% -->

# %%
policies = ["random", "round_robin", "weighted_round_robin", "least_outstanding", "jsq",
            "power_of_d", "consistent_hash", "consistent_hash_bounded", "central_queue"]
grid = [0.3, 0.5, 0.7, 0.8, 0.9]
tail_seeds = range(1, 3 if quick else 6)
rows = []
for policy in policies:
    for rho in grid:
        for seed in tail_seeds:
            r = balance.simulate(SERVERS, policy=policy, utilization=rho, requests=N_REQ,
                                 seed=seed)
            p = balance.latency_percentiles(r, q=[0.5, 0.99], warmup=WARMUP)
            # the busiest backend's offered load: at 1 or more its queue grows for as long
            # as the run lasts, and a percentile measures the run's length, not the policy
            offered = balance.server_loads(r, warmup=WARMUP)["offered_load"].max()
            rows.append(dict(policy=policy, utilization=rho, seed=seed, p50=p["latency"].iloc[0],
                             p99=p["latency"].iloc[1], busiest_offered=offered))
runs_tail = pd.DataFrame(rows)
# per policy and load: mean p99 over the seeds with its 95% t interval; stable only if no
# seed offered a backend more than it can serve
s99 = summarize(runs_tail, by=["policy", "utilization"], metrics=["p99"], ci=0.95)
worst = runs_tail.groupby(["policy", "utilization"], sort=False)["busiest_offered"].max()
p99_all = s99.assign(latency=s99["mean"], low=s99["ci_low"], high=s99["ci_high"],
                     busiest_offered=worst.to_numpy())
p99_all["stable"] = p99_all["busiest_offered"] < 1
unstable = p99_all[~p99_all["stable"]]
# mean p99 over the seeds ± the half-width of its 95% t interval, in seconds; "unstable"
# where a backend was offered more than it can serve (its largest offered load in brackets)
p99_all.assign(p99=[f"{v:.2f} ± {(h - lo) / 2:.2f}" if ok else f"unstable ({o:.2f})"
                    for v, lo, h, ok, o in zip(p99_all["latency"], p99_all["low"],
                                               p99_all["high"], p99_all["stable"],
                                               p99_all["busiest_offered"])]
               ).pivot(index="policy", columns="utilization", values="p99").loc[policies]

# %%
rho_line = np.linspace(0.3, 0.9, 61)
ax = plot.latency_vs_utilization(
    p99_all[p99_all["stable"]],
    theory={"M/M/1": (rho_line, balance.mm1_response_quantile(0.99, rho_line)),
            "M/M/10 central queue": (rho_line, balance.mmc_response_quantile(0.99, SERVERS, rho_line))},
    title=f"p99 response time, {SERVERS} servers, exponential service (mean 1 s); "
          f"mean of {len(tail_seeds)} seeds, 95% t band")
ax.set_ylabel("p99 response time (s)")
display(Markdown(
    "Left out of the chart (a backend offered more than it can serve; offered load of the "
    "busiest backend in brackets in the table): " + (", ".join(
        f"`{r.policy}` at ρ = {r.utilization:g} ({r.busiest_offered:.2f})"
        for r in unstable.itertuples()) or "none") + "."))
# with equal speeds, weighted round robin *is* round robin, and with one balancer and fresh
# reports JSQ and least-outstanding make the same choices: those pairs of lines coincide
ax.figure.set_size_inches(9, 5.5)

# %% [markdown]
# ### Servers of different speeds
#
# With equal servers, weighted round robin *is* round robin. Give the servers speeds
# 1, 1, 1, 1, 2, 2, 4, 4 (total 16) at ρ = 0.7: random and round robin send each server an
# eighth of the traffic, 0.7 × 16 / 8 = 1.4 units of work per second, which the speed-1
# servers cannot keep up with. Weighted round robin (weights = speeds) offers each server
# 0.7 of its capacity; least-outstanding and power of two choices can adapt without being
# told the speeds, since a slow server's queue grows.
# <!-- inputs: 1, 2, 4, 0.7; given: 16, 8, 1.4 (the arithmetic of the text) -->

# %%
speeds = [1, 1, 1, 1, 2, 2, 4, 4]
speed_seeds = range(5, 7 if quick else 10)
rows, runs_speed = [], []
for policy in ["random", "round_robin", "weighted_round_robin", "power_of_d", "least_outstanding"]:
    for seed in speed_seeds:
        r = balance.simulate(len(speeds), policy=policy, speeds=speeds, utilization=0.7,
                             requests=N_REQ, seed=seed)
        loads = balance.server_loads(r, warmup=WARMUP)
        rows += [dict(label=policy, load=u) for u in loads["utilization"]]
        p = balance.latency_percentiles(r, q=[0.5, 0.99], warmup=WARMUP)["latency"].tolist()
        runs_speed.append(dict(policy=policy, seed=seed, p50=p[0], p99=p[1],
                               busiest=loads["utilization"].max(),
                               busiest_offered=loads["offered_load"].max()))
ax = plot.load_spread(pd.DataFrame(rows), ylabel="fraction of time busy (1 = saturated)",
                      title="backend utilisation, speeds 1,1,1,1,2,2,4,4 at ρ = 0.7\n"
                            f"(every backend of {len(speed_seeds)} seeds)")
ax.figure.set_size_inches(9, 4.5)
plt.show()
runs_speed = pd.DataFrame(runs_speed)
# per policy: means over the seeds with 95% t intervals; a policy overloads a backend if any
# seed offered it more work than it can do
ss = summarize(runs_speed, by="policy", metrics=["p50", "p99", "busiest"], ci=0.95)
ss["half"] = (ss["ci_high"] - ss["ci_low"]) / 2
order = runs_speed["policy"].unique()
mean = ss.pivot(index="policy", columns="metric", values="mean").loc[order]
half = ss.pivot(index="policy", columns="metric", values="half").loc[order]
speed_summary = mean.assign(
    busiest_offered=runs_speed.groupby("policy")["busiest_offered"].max().loc[order])
# mean over the seeds ± the half-width of its 95% t interval; offered load: largest over seeds
display(pd.DataFrame(
    {label: [f"{m:.2f} ± {h:.2f}" for m, h in zip(mean[k], half[k])]
     for k, label in (("p50", "p50 (s)"), ("p99", "p99 (s)"),
                      ("busiest", "busiest backend, time busy"))}
    | {"busiest backend, offered load (max)": speed_summary["busiest_offered"].round(2)},
    index=order))
busy = speed_summary["busiest"]
# a policy counts as overloaded if a backend was offered more than it can serve in any seed
# (that seed's p99 then measures the run's length, and so would a mean including it)
steady = speed_summary[speed_summary["busiest_offered"] < 1]
over = speed_summary[speed_summary["busiest_offered"] >= 1]
over_seeds = [int((runs_speed.loc[runs_speed["policy"] == p, "busiest_offered"] >= 1).sum())
              for p in over.index]
if len(steady):
    speed_best, speed_worst = steady["p99"].idxmin(), steady["p99"].idxmax()
    separated = (mean.loc[speed_best, "p99"] + half.loc[speed_best, "p99"]
                 < mean.loc[speed_worst, "p99"] - half.loc[speed_worst, "p99"])
display(Markdown(
    f"Means over {len(speed_seeds)} seeds. Busiest server's share of time busy: " + ", ".join(
        f"`{p}` {b:.2f}" for p, b in busy.items())
    + (f". Among the policies that kept every server below its capacity in every seed, p99 "
       f"response time went from {steady['p99'].min():.1f} s (`{steady['p99'].idxmin()}`) to "
       f"{steady['p99'].max():.1f} s (`{steady['p99'].idxmax()}`); their 95% intervals "
       + ("do not overlap" if separated else "overlap") if len(steady) else "")
    + (". " + ", ".join(f"`{p}`" for p in over.index) + " offered a slow server up to "
       + ", ".join(f"{o:.2f}" for o in over["busiest_offered"]) + " of its capacity "
       f"(the largest over the seeds; {', '.join(str(k) for k in over_seeds)} of "
       f"{len(speed_seeds)} seeds above 1): a queue that grows for the run's length, so "
       "their mean p99 (" + ", ".join(f"{v:.0f} s" for v in over["p99"]) + ") measures the "
       "run's length, not a steady state" if len(over) else "") + "."))

# %% [markdown]
# ## 3. The power of two choices
#
# Mitzenmacher's supermarket model: with `n → ∞` servers and each request joining the
# shorter of `d` random queues, the fraction of queues holding at least `i` requests is
# `ρ^((dⁱ − 1)/(d − 1))` — doubly exponential in `i` for `d ≥ 2`, against `ρⁱ` for random
# (`d = 1`). We run 100 servers at ρ = 0.9.
# <!-- inputs: 100, 0.9 -->
#
# A caveat for `d = 1`: an M/M/1 queue at ρ = 0.9 started empty approaches steady state
# only over its relaxation time, about `1 / (μ (1 − √ρ)²) ≈ 380` service times, so a run
# of a few hundred seconds per server underestimates its long tail. The `d ≥ 2` systems
# settle within a few service times.

# %%
rho, SUPER_N = 0.9, 100
runs, super_means = [], {}
for d in (1, 2, 3):
    r = balance.simulate(SUPER_N, policy="power_of_d", utilization=rho, d=d, requests=N_SUPER,
                         seed=2)
    t = balance.queue_tail(r, warmup=WARMUP_SUPER).assign(run=f"d = {d} (simulated)")
    runs.append(t)
    super_means[d] = (balance.response_times(r, warmup=WARMUP_SUPER).mean(),
                      float(balance.supermarket_mean_response(rho, d=d)))
    print(f"d={d}: mean response {super_means[d][0]:.2f} s, limit {super_means[d][1]:.2f} s")
super_tail = pd.concat(runs)
i = np.arange(0, 41)
ax = plot.queue_length_tail(
    super_tail, hue="run",
    theory={f"d = {d}": (i, balance.supermarket_tail(i, rho, d=d)) for d in (1, 2, 3)},
    title="fraction of queues with ≥ i requests, 100 servers, ρ = 0.9")
ax.set_ylim(1e-5, 1.5)
ax.figure.set_size_inches(8, 5)

# %% [markdown]
# ## 4. Stale information hurts JSQ
#
# Join-the-shortest-queue is optimal when the balancer knows the queue lengths *now*. Here
# every load report (and completion notice) reaches the balancer `info_delay` seconds late —
# Mitzenmacher's "old information" model. JSQ then sends every request to the queue that
# *was* shortest, all at once ("herding"). Power of two choices herds less because it only
# compares two random queues; least-outstanding counts its own requests the moment it
# sends them, so its view is never empty of its own decisions.

# %%
delays = [0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
rows = []
for policy in ["jsq", "power_of_d", "least_outstanding", "random"]:
    for delay in delays:
        r = balance.simulate(SERVERS, policy=policy, utilization=0.8, requests=N_REQ, seed=3,
                             info_delay=delay)
        rt = balance.response_times(r, warmup=WARMUP)
        m, h = balance.batch_means(rt.to_numpy(), level=0.95)
        rows.append(dict(policy=policy, info_delay=delay, mean=m, low=m - h, high=m + h,
                         p99=rt.quantile(0.99)))
stale = pd.DataFrame(rows)
fig, ax = plt.subplots(figsize=(8, 4.5))
for policy, g in stale.groupby("policy", sort=False):
    ax.errorbar(g["info_delay"], g["mean"], yerr=[g["mean"] - g["low"], g["high"] - g["mean"]],
                marker="o", capsize=3, label=policy, color=plot.series_color(policy, "policy"))
ax.set_xscale("symlog", linthresh=0.25)
ax.set_xticks(delays, [f"{d:g}" for d in delays])
ax.set_xlabel("age of load information, info_delay (s = service times)")
ax.set_ylabel("mean response time (s)\n(95% CI by batch means)")
ax.set_title(f"stale load information, {SERVERS} servers at ρ = 0.8")
ax.legend(title="policy", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
ax.grid(alpha=0.3, which="both")
stale.pivot(index="info_delay", columns="policy", values="mean").round(2)

# %% [markdown]
# ## 5. Consistent hashing: keys that move, and load spread
#
# Requests carry keys. Consistent hashing (Karger et al. 1997) keeps each key on the same
# backend, and when a backend joins only about `1/(n+1)` of keys move — all of them to the
# newcomer. Virtual nodes make each backend's share of the ring even; with one point per
# backend the shares are very uneven, but the *expected* movement is the same. Below, the
# share of 3,000 keys that move, over many rings with different seeds.
# <!-- inputs: 3,000 -->

# %%
from scipy import stats
seeds = range(4 if quick else 30)
keys = range(3000)
rows = []
for vnodes in (1, 100):
    for n in (2, 4, 8, 16, 32):
        moved = []
        for s in seeds:
            ring = balance.ConsistentHashRing([f"n{k}" for k in range(1, n + 1)], vnodes=vnodes, seed=s)
            grown = ring.copy(); grown.add(f"n{n + 1}")
            moved.append(balance.key_movement(ring, grown, keys))
        m = np.mean(moved); h = stats.t.ppf(0.975, len(moved) - 1) * np.std(moved, ddof=1) / np.sqrt(len(moved))
        rows.append(dict(n=n, vnodes=f"{vnodes} vnode{'' if vnodes == 1 else 's'} per backend", moved=m, low=m - h, high=m + h))
movement = pd.DataFrame(rows)
n_line = np.arange(2, 33)
ax = plot.key_movement(movement, hue="vnodes", theory={"1/(n+1)": (n_line, balance.expected_key_movement(n_line))},
                       title="keys moved when one backend is added (mean and 95% CI over rings)")
ax.set_xscale("log", base=2)
ax.set_xticks([2, 4, 8, 16, 32], ["2", "4", "8", "16", "32"])
movement.round(3)

# %% [markdown]
# Consistent hashing ignores load, so a backend that owns more of the ring, or a few hot
# keys, gets more than its share. Bounded loads (Mirrokni, Thorup & Zadimoghaddam 2018) cap
# every backend at `⌈(1 + ε) × mean⌉` outstanding requests and send the overflow clockwise
# to the next backend with room. Below: the requests each backend served, relative to the
# mean, with uniform and Zipf-skewed keys (ε = 0.25, ρ = 0.7).
# <!-- inputs: 0.25, 0.7 -->

# %%
EPSILON = 0.25
ring_seeds = range(4, 6 if quick else 9)
rows, runs_ring = [], []
for skew in (0.0, 1.0):
    for policy in ("consistent_hash", "consistent_hash_bounded"):
        label = ("bounded" if policy.endswith("bounded") else "plain") + (", Zipf keys" if skew else ", uniform keys")
        for seed in ring_seeds:
            r = balance.simulate(SERVERS, policy=policy, utilization=0.7, requests=N_REQ,
                                 seed=seed, key_skew=skew, keys=1000, epsilon=EPSILON)
            loads = balance.server_loads(r, warmup=WARMUP)
            rows += [dict(label=label, load=v) for v in loads["requests"] / loads["requests"].mean()]
            p99 = balance.latency_percentiles(r, q=[0.99], warmup=WARMUP)["latency"].iloc[0]
            verdict = balance.check(r)  # causality, FIFO, and the (1 + ε) cap for the bounded ring
            runs_ring.append(dict(configuration=label, seed=seed,
                                  imbalance=balance.imbalance(r, warmup=WARMUP),
                                  busiest_offered=loads["offered_load"].max(), p99=p99,
                                  ok=bool(verdict), verdict=str(verdict),
                                  redirected=verdict.info.get("redirected", 0)))
ax = plot.load_spread(pd.DataFrame(rows), ylabel="requests served / mean over backends",
                      title=f"load per backend, consistent hashing, {SERVERS} servers\n"
                            f"(every backend of {len(ring_seeds)} seeds)")
ax.figure.set_size_inches(9, 4.5)
runs_ring = pd.DataFrame(runs_ring)
rs = summarize(runs_ring, by="configuration", metrics=["imbalance", "p99"], ci=0.95)
rs["half"] = (rs["ci_high"] - rs["ci_low"]) / 2
order = runs_ring["configuration"].unique()
by_conf = runs_ring.groupby("configuration", sort=False)
ring_summary = rs.pivot(index="configuration", columns="metric", values="mean").loc[order]
ring_half = rs.pivot(index="configuration", columns="metric", values="half").loc[order]
ring_summary = ring_summary.assign(busiest_offered=by_conf["busiest_offered"].max(),
                                   passed=by_conf["ok"].sum(), runs=by_conf.size(),
                                   redirected=by_conf["redirected"].mean())
# means over the seeds ± the half-width of their 95% t intervals; p99 only where no seed
# offered a backend more than it can serve (else "unstable" and the largest offered load)
display(pd.DataFrame({
    "busiest / mean": [f"{m:.2f} ± {h:.2f}" for m, h in zip(ring_summary["imbalance"],
                                                           ring_half["imbalance"])],
    "p99 (s)": [f"{m:.1f} ± {h:.1f}" if o < 1 else f"unstable ({o:.2f})" for m, h, o in zip(
        ring_summary["p99"], ring_half["p99"], ring_summary["busiest_offered"])],
    "runs whose checks passed": [f"{p} of {n}" for p, n in zip(ring_summary["passed"],
                                                               ring_summary["runs"])],
    "redirected per run (mean)": ring_summary["redirected"].round(0),
    "first failed check": [next(iter(runs_ring.loc[(runs_ring["configuration"] == c)
                                                   & ~runs_ring["ok"], "verdict"]), "—")
                           for c in order]}, index=order))

# %%
from dsalgo.report import Conclusion

c = Conclusion("What the charts showed")
c.add("**The simulator {agrees} theory:** {inside} of {checks} theoretical values (the `M/M/1` "
      "mean response, Erlang C waiting probability, at ρ from {lo:g} to {hi:g}) fell inside "
      "the simulated {level:.0%} confidence intervals (batch means).", level=0.95,
      agrees="agrees with" if check["inside CI"].all() else "mostly agrees with",
      inside=int(check["inside CI"].sum()), checks=len(check), lo=check["rho"].min(),
      hi=check["rho"].max())
p99 = p99_all[p99_all["stable"]].pivot(index="utilization", columns="policy",
                                         values="latency")
low, high = p99.iloc[0].dropna(), p99.iloc[-1].dropna()
c.add("**The policy matters more the fuller the cluster.** At ρ = {r0:g} the p99 response "
      "times of the policies spanned {l0:.1f}–{h0:.1f} s (a factor of {f0:.1f}); at ρ = {r1:g} "
      "{l1:.1f}–{h1:.1f} s (a factor of {f1:.1f}), lowest for `{best}` and highest for `{worst}`"
      "{left}.",
      r0=p99.index[0], l0=low.min(), h0=low.max(), f0=low.max() / low.min(),
      r1=p99.index[-1], l1=high.min(), h1=high.max(), f1=high.max() / high.min(),
      best=high.idxmin(), worst=high.idxmax(),
      left="" if unstable.empty else " (left out, a backend offered more than it could "
      "serve: " + ", ".join(f"`{r.policy}` at ρ = {r.utilization:g}"
                           for r in unstable.itertuples()) + ")")
st = stale.pivot(index="info_delay", columns="policy", values="mean")
lo = stale.pivot(index="info_delay", columns="policy", values="low")
hi = stale.pivot(index="info_delay", columns="policy", values="high")
worse = st.index[lo["jsq"] > hi["random"]] if "random" in st else []
worst = st.iloc[-1].idxmax()
if len(worse) and (lo["jsq"] > hi["random"]).loc[worse[0]:].all():
    c.add("**Stale information {turns} JSQ into the worst policy:** its mean response time "
          "rose from {j0:.2f} s with fresh reports to {j1:.2f} s with reports {d1:g} service "
          "times old, and was worse than random ({r:.2f} s; {level:.0%} intervals apart) from "
          "{d:g} service times on.", turns="turns" if worst == "jsq" else "does NOT turn",
          j0=st["jsq"].iloc[0], j1=st["jsq"].iloc[-1], d1=st.index[-1],
          r=st["random"].iloc[-1], level=0.95, d=worse[0])
else:
    c.add("**Stale information.** JSQ's mean response time rose from {j0:.2f} s with fresh "
          "reports to {j1:.2f} s with reports {d1:g} service times old.",
          j0=st["jsq"].iloc[0], j1=st["jsq"].iloc[-1], d1=st.index[-1])
if len(steady):
    c.add("**Servers of different speeds.** {over}Among the policies that kept every server "
          "below capacity, p99 (mean of {k} seeds) went from {lo:.1f} s (`{best}`) to "
          "{hi:.1f} s (`{worst}`); their {level:.0%} intervals {sep}.", k=len(speed_seeds),
          level=0.95, sep="do not overlap" if separated else "overlap",
          over="" if over.empty else ", ".join(
              f"`{p}` offered a backend up to {o:.2f} of its capacity"
              for p, o in over["busiest_offered"].items()) + " (the largest over the seeds): "
              "more work than it can do. ",
          lo=steady["p99"].min(), best=speed_best, hi=steady["p99"].max(), worst=speed_worst)
c.add("**Power of d choices** at ρ = {rho:g} on {n} servers: mean response {lines}; at "
      "d = {d1} the run stays {d1_side}.", d1=min(super_means),
      rho=rho, n=SUPER_N, d1_side="below the limit, as the relaxation-time caveat says"
      if super_means[min(super_means)][0] < super_means[min(super_means)][1]
      else "at or above the limit",
      lines="; ".join(f"d = {d}: {m:.2f} s simulated against {lim:.2f} s in the limit"
                      for d, (m, lim) in super_means.items()))
zipf = ring_summary.loc[[i for i in ring_summary.index if "Zipf" in i]]
zh = ring_half.loc[zipf.index, "imbalance"]
c.add("**Bounded loads** with Zipf-skewed keys: the busiest backend served {plain:.2f} ± "
      "{plain_h:.2f}× the mean with plain consistent hashing and {bounded:.2f} ± "
      "{bounded_h:.2f}× with bounded loads (ε = {eps:g}); with uniform keys {plain_u:.2f} ± "
      "{plain_uh:.2f}× and {bounded_u:.2f} ± {bounded_uh:.2f}× (means of {k} seeds, {level:.0%} "
      "t intervals).", k=len(ring_seeds), level=0.95,
      plain=zipf["imbalance"].iloc[0], bounded=zipf["imbalance"].iloc[1], eps=EPSILON,
      plain_h=zh.iloc[0], bounded_h=zh.iloc[1],
      plain_u=ring_summary["imbalance"].iloc[0], bounded_u=ring_summary["imbalance"].iloc[1],
      plain_uh=ring_half["imbalance"].iloc[0], bounded_uh=ring_half["imbalance"].iloc[1])
mv = movement.copy()
mv["theory"] = balance.expected_key_movement(mv["n"].to_numpy())
mv["inside"] = (mv["low"] <= mv["theory"]) & (mv["theory"] <= mv["high"])
widths = (mv["high"] - mv["low"]).groupby(mv["vnodes"], sort=False).mean()
c.add("**Consistent hashing moves `1/(n+1)` of the keys:** the theoretical fraction fell "
      "inside the measured interval at {inside} of {points} points ({seeds} rings each); the "
      "mean width of the interval was {widths}.",
      inside=int(mv["inside"].sum()), points=len(mv), seeds=len(seeds),
      widths=", ".join(f"{w:.3f} with {v}" for v, w in widths.items()))
c
