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
# # Distributed transactions: two-phase commit and Sagas
#
# **Question:** moving money between accounts on different shards, what do two-phase commit
# and Sagas cost, and what do they guarantee? How long does 2PC *block* when its coordinator
# fails, and does the cooperative termination protocol help? How do throughput and latency
# change with the number of participants and with the failure rate? How often do Sagas,
# which give up isolation, show their intermediate states?
#
# Both protocols run the same bank (`dsalgo.txn.bank`): shards `n1…` hold accounts, clients
# `c1…` issue transfers (one leg per shard, summing to zero) and reads of every balance.
# 2PC (`dsalgo.txn.twopc`) follows Gray & Lamport (2006) with Mohan et al.'s presumed abort;
# Sagas (`dsalgo.txn.saga`) follow Garcia-Molina & Salem (1987), orchestrated, with
# idempotency keys. Every run is checked by `txn.check`.

# %% tags=["parameters"]
quick = False  # papermill parameter: smaller samples for the test suite

# %%
import matplotlib.pyplot as plt
import pandas as pd

from dsalgo import plot, sim, txn
from dsalgo.soak import soak
from dsalgo.sweep import sweep

pd.set_option("display.max_colwidth", None)   # whole cells in the report, no "…"

SEEDS = range(1) if quick else range(6)           # seeds per point of every sweep
LOAD = 0.2 if quick else 0.6                      # seconds of client load per run
RECOVERY = [0.1, 0.4] if quick else [0.05, 0.1, 0.2, 0.4, 0.8]   # coordinator downtime, s
SIZES = [2, 4] if quick else [2, 3, 4, 6]         # participants (2PC) = steps (sagas)
FAILURE = [0.0, 0.3] if quick else [0.0, 0.1, 0.3]
CONCURRENCY = [1, 4] if quick else [1, 2, 4, 8]
SOAK_RUNS = 2 if quick else 40
ISO_SEEDS = range(2) if quick else range(6)       # seeds per protocol of the isolation table
pd.set_option("display.precision", 4)

# %% [markdown]
# ## 1. One run of each, with faults, checked
#
# A 2PC bank of three shards under a nemesis (crashes, restarts and partitions of `tm` and
# the shards for the first 2 s), on a network that loses and duplicates 5 % of messages,
# then a fault-free tail so that every in-doubt transaction resolves. `txn.check` verifies
# atomicity, commit validity and conservation of money at quiescence, and reports what it
# measured.
# <!-- inputs: 2 s, 5 % -->

# %%
net = sim.Network(latency=sim.Exponential(mean=0.002), drop_rate=0.05, duplicate_rate=0.05)
chaos = [sim.Nemesis(crash=1.0, partition=0.5, mean_duration=0.3, end=2.0)]
run_2pc = txn.twopc.simulate(3, seed=4, duration=2.0, drain=2.0, network=net, faults=chaos,
                             clients=3, concurrency=2, accounts=4, client_timeout=0.25)
v = txn.check(run_2pc)
print(v)
pd.Series(v.info, name="measured").to_frame()

# %%
run_saga = txn.saga.simulate(3, step_failure=0.1, seed=4, duration=2.0, drain=2.0, network=net,
                             faults=chaos, clients=3, concurrency=2, accounts=4,
                             client_timeout=0.25)
v = txn.check(run_saga)
print(v)
pd.Series(v.info, name="measured").to_frame()

# %% [markdown]
# What a transaction looks like on the wire: one client, no faults, the first
# three transfers. The client's `Transfer` reaches `tm`, which sends `Prepare` to each shard;
# each answers with its `Vote`; with three yes votes `tm` writes its commit record and sends
# `Commit`, answers the client (`TransferDone`) and collects the `Ack`s before forgetting
# the transaction.

# %%
clean = txn.twopc.simulate(3, seed=1, duration=0.02, drain=0.01, clients=1, read_fraction=0.0)
ax = plot.spacetime(clean, nodes=["c1", "tm", "n1", "n2", "n3"], time_range=(0.0, 0.012))
ax.set_title("2PC on the wire: the first transfers of one client");


# %% [markdown]
# ## 2. Blocking time against coordinator recovery time
#
# A participant that voted yes is *prepared*: it has promised to commit if told to, so it
# holds its locks and may not decide alone. If the coordinator crashes before telling it,
# it is blocked until it learns the outcome. Here `tm` crashes at $t = 0.5$ s in the middle
# of a steady load and restarts after a *recovery time*; we measure, for every participant
# prepared at the crash on a transaction `tm` had not yet decided, how long it stayed
# blocked (`txn.metrics.blocking_times`: from its yes vote to learning the outcome). The
# network loses 10 % of messages, so some `Prepare`s never arrive.
# <!-- inputs: 10 % -->
#
# With `termination="cooperative"` a blocked participant also asks the other participants.
# One that aborted (it refused the prepare), or that has not voted yet because its `Prepare`
# was lost (it then aborts on the spot, durably, so it will vote no if the `Prepare` comes
# later), can answer; if *every* participant voted yes, nobody knows the outcome and all wait
# for `tm`.

# %%
def outage(recovery_time, termination, seed):
    faults = [sim.Crash("tm", at=0.5), sim.Restart("tm", at=0.5 + recovery_time)]
    lossy = sim.Network(latency=sim.Exponential(mean=0.001), drop_rate=0.1)
    run = txn.twopc.simulate(3, seed=seed, duration=1.5, drain=1.0, clients=4, concurrency=2,
                             accounts=10, vote_no=0.1, termination=termination,
                             inquire_interval=0.02, client_timeout=0.1, network=lossy,
                             faults=faults)
    assert txn.check(run), txn.check(run)
    b = txn.metrics.blocking_times(run)
    ev = run.events
    decided = set(ev.loc[(ev["kind"] == "decide") & (ev["time"] < 0.5), "txn"])
    yes = ev[(ev["kind"] == "vote") & (ev["yes"] == True)].groupby("txn").size()
    b = b[(b["t_prepared"] < 0.5) & (b["t_prepared"] + b["blocked"] > 0.5)
          & ~b["txn"].isin(decided)].copy()
    b["everyone_voted_yes"] = b["txn"].map(yes).fillna(0).to_numpy() == 3
    # blocked until tm was back (its restart), or freed earlier by a peer
    b["until_restart"] = b["t_prepared"] + b["blocked"] >= 0.5 + recovery_time - 1e-9
    return b[["txn", "node", "blocked", "everyone_voted_yes", "until_restart"]]


blocking = sweep(outage, {"recovery_time": RECOVERY, "termination": ["wait", "cooperative"]},
                 seeds=SEEDS, progress=False)
assert blocking["error"].isna().all()
votes = blocking["everyone_voted_yes"].map({True: "every vote yes", False: "a vote not yes"})
ax = plot.blocking_time(blocking.assign(case=blocking["termination"] + ", " + votes), hue="case")
ax.get_legend().set_title("termination, votes")

# %%
(blocking.groupby(["termination", "everyone_voted_yes"])["blocked"]
         .agg(participants="size", mean_blocked_s="mean", max_blocked_s="max"))


# %% [markdown]
# ## 3. Throughput and latency against participants and failure rate
#
# Fault-free runs (LAN latency, exponential with mean 1 ms), four closed-loop clients with two
# transfers outstanding each, 50 accounts per shard. A 2PC transfer spans every participant;
# a saga has one step per service. The *failure rate* is the probability that a participant
# votes no (2PC, `vote_no`) or that a service rejects a step (sagas, `step_failure`).
# Throughput counts transfers that took effect, per second of load. Sagas run in both forms:
# orchestrated (each step is a round trip from `orch`) and choreographed (each service hands
# the saga to the next).
#
# A 2PC participant refuses a prepare on an account another transaction holds locked
# (no-wait locking: no deadlocks, but aborts under contention), so 2PC aborts even at failure
# rate 0; a saga locks nothing across steps and fails only when a step fails or would
# overdraw.
# <!-- inputs: 1 ms, 50, 0 -->

# %%
LAN = sim.Network(latency=sim.Exponential(mean=0.001))


def bank(algorithm, size, failure, seed):
    common = dict(seed=seed, duration=LOAD, drain=0.5, clients=4, concurrency=2, accounts=50,
                  network=LAN)
    if algorithm == "2PC":
        run = txn.twopc.simulate(size, vote_no=failure, **common)
    else:
        form = "choreographed" if "choreographed" in algorithm else "orchestrated"
        run = txn.saga.simulate(size, step_failure=failure, form=form, **common)
    status = txn.metrics.transfers(run)["status"]
    return {**txn.metrics.summary(run), "answered": int(status.isin(["ok", "fail"]).sum()),
            "aborted": int((status == "fail").sum())}


perf = sweep(bank, {"algorithm": ["2PC", "saga", "saga choreographed"], "size": SIZES,
                    "failure": FAILURE},
             seeds=SEEDS, progress=False)
assert perf["error"].isna().all() and perf["ok"].all()
perf["latency_p50_ms"] = perf["latency_p50"] * 1e3
perf["setting"] = perf["algorithm"] + ", failure " + perf["failure"].astype(str)

from matplotlib.ticker import MaxNLocator

# one panel per metric (rows) and failure rate (columns), three algorithms in each
metrics = [("throughput", "transfers committed\nper second"),
           ("latency_p50_ms", "median latency of\ncommitted transfers (ms)"),
           ("abort_rate", "share of transfers\naborted / compensated")]
failures = sorted(perf["failure"].unique())
fig, axes = plt.subplots(len(metrics), len(failures), figsize=(4.2 * len(failures) + 2, 9),
                         sharex=True, sharey="row", squeeze=False)
for r, (y, label) in enumerate(metrics):
    for col, fr in enumerate(failures):
        ax = axes[r][col]
        plot.sweep_lines(perf[perf["failure"] == fr], x="size", y=y, hue="algorithm", ax=ax)
        ax.get_legend().remove()
        ax.set_title(f"step failure rate {fr:g}" if r == 0 else "")
        ax.set_xlabel("participants (2PC) = saga steps" if r == len(metrics) - 1 else "")
        ax.set_ylabel(label if col == 0 else "")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # whole participants
handles, labels = axes[0][0].get_legend_handles_labels()
fig.legend(handles, [lab.split("=", 1)[-1] for lab in labels], loc="upper left",
           bbox_to_anchor=(1.0, 0.95), title="algorithm", frameon=False)
fig.tight_layout()

# %% [markdown]
# **The abort rate, derived.** With $n$ participants each refusing independently
# with probability $p$, a transfer goes through only if all $n$ accept: it aborts with
# probability $1-(1-p)^n$ — for 2PC (any no vote aborts) and for sagas alike (any failed
# step compensates). Lock conflicts (2PC) and overdrafts add to it, so the measured rate should
# sit near the formula for sagas and above it for 2PC. The measured rate pools every
# answered transfer of the point's seeds, with a 95 % Wilson interval (how often the
# formula falls inside it is in the conclusion):
# <!-- inputs: 95 % -->

# %%
from dsalgo.analysis import wilson

rates = (perf[perf["failure"] > 0].groupby(["algorithm", "failure", "size"])
         [["aborted", "answered"]].sum().reset_index())
rates["measured"] = rates["aborted"] / rates["answered"]
rates["ci_low"], rates["ci_high"] = wilson(rates["aborted"], rates["answered"], ci=0.95)
rates["1-(1-p)^n"] = 1 - (1 - rates["failure"]) ** rates["size"]
rates["formula inside CI"] = rates["1-(1-p)^n"].between(rates["ci_low"], rates["ci_high"])
rates["measured above formula"] = rates["ci_low"] > rates["1-(1-p)^n"]
rates.assign(**{"95% CI": [f"{lo:.3f}–{hi:.3f}" for lo, hi in zip(rates["ci_low"],
                                                                rates["ci_high"])]})[
    ["algorithm", "failure", "size", "answered", "measured", "95% CI", "1-(1-p)^n",
     "formula inside CI"]].rename(columns={"failure": "p", "size": "n"})


# %% [markdown]
# Why 2PC transfers abort, by the reason the refusing participant gave (the same runs as in
# the sweep above, 2PC with 4 participants; quick mode uses its largest size):
# <!-- inputs: 4 -->

# %%
def refusals(size, failure, seed):
    run = txn.twopc.simulate(size, vote_no=failure, seed=seed, duration=LOAD, drain=0.5,
                             clients=4, concurrency=2, accounts=50, network=LAN)
    votes = run.events[(run.events["kind"] == "vote") & (run.events["yes"] == False)]
    return votes["reason"].value_counts().to_dict()


why = sweep(refusals, {"size": [SIZES[-1] if quick else 4], "failure": FAILURE}, seeds=SEEDS,
            progress=False)
why.drop(columns=["seed", "wall_time", "error"]).groupby(["size", "failure"]).sum()


# %% [markdown]
# ## 4. Saga anomalies against concurrency
#
# Sagas release each local transaction as soon as it commits, so other sagas and readers see
# intermediate states. We count two anomalies (`txn.check` measures them; they are not
# violations):
#
# * **intermediate reads** — a read of every balance whose sum differs from the bank's total:
#   it saw a transfer half done (money "in flight");
# * **dirty reads** — a step applied to an account between another saga's step on that
#   account and that step's compensation: it used a state that was later undone.
#
# 2PC is shown for comparison: its reads take no locks and ask each shard separately, so a
# read can still fall between two shards' commits of one transaction — 2PC gives atomicity,
# not isolation for unlocked reads. (The isolation check of 4b judges the committed
# transfers only, which is why 2PC with locks at prepare is serializable there while its
# unlocked reads here still see money in flight.) Failure rate 0.1 for both; two clients, each with `concurrency` transfers
# outstanding, 3 shards of 2 accounts.
# <!-- inputs: 0.1, 3, 2 -->

# %%
def anomalies(algorithm, concurrency, seed):
    common = dict(seed=seed, duration=LOAD, drain=0.5, clients=2, concurrency=concurrency,
                  accounts=2, read_fraction=0.3)
    if algorithm == "2PC":
        run = txn.twopc.simulate(3, vote_no=0.1, **common)
    else:
        run = txn.saga.simulate(3, step_failure=0.1, **common)
    return txn.metrics.summary(run)


anom = sweep(anomalies, {"algorithm": ["2PC", "saga"], "concurrency": CONCURRENCY},
             seeds=SEEDS, progress=False)
assert anom["error"].isna().all() and anom["ok"].all()
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.5))
plot.sweep_lines(anom, x="concurrency", y="intermediate_read_rate", hue="algorithm", ax=ax1,
                 hue_label="algorithm")
ax1.set_title("Reads that saw money in flight")
ax1.set_ylabel("share of reads (mean, 95% CI)")
plot.sweep_lines(anom[anom["algorithm"] == "saga"], x="concurrency", y="dirty_reads_per_saga",
                 hue="algorithm", ax=ax2, hue_label="algorithm")
ax2.set_title("Saga steps that used a state later compensated")
ax2.set_ylabel("dirty reads per saga (mean, 95% CI)")
for ax in (ax1, ax2):
    ax.set_xlabel("transfers outstanding per client")
fig.tight_layout()


# %% [markdown]
# **Lost updates, and why a compensation must be an inverse.** Our compensations
# add the opposite delta (a semantic undo), so a compensation never overwrites another
# saga's update. Compensating instead by restoring the balance the step overwrote (a
# before-image, as a physical undo log would) loses every update other sagas made to the
# account in between. `txn.check` measures lost updates from the reported balances (a
# compensation that does not move the balance by exactly minus its step's effect), and the
# damage shows as a conservation violation. Same runs, both ways, four transfers
# outstanding per client:

# %%
def compensating(compensation, seed):
    run = txn.saga.simulate(3, step_failure=0.1, seed=seed, duration=LOAD, drain=0.5,
                            clients=2, concurrency=4, accounts=2, compensation=compensation)
    v = txn.check(run)
    return {"lost_updates_per_saga": v.info["lost_updates"] / v.info["sagas"],
            "dirty_reads_per_saga": v.info["dirty_reads"] / v.info["sagas"],
            "money_created": v.info["final_total"] - v.info["total"],
            "conservation_holds": v.holds("conservation")}


lost = sweep(compensating, {"compensation": ["inverse", "restore"]}, seeds=SEEDS, progress=False)
assert lost["error"].isna().all()
lost.drop(columns=["wall_time", "error"])

# %% [markdown]
# ## 4b. Isolation: which histories have a serial explanation?
#
# Atomicity says every participant reaches the same outcome; it says nothing about what
# *concurrent* transactions saw. `txn.isolation` builds the dependency graph of a bank run
# (write–write, write–read and read–write edges between committed transactions, from the
# shards' own versions) and names every cycle as one of Adya's anomalies (G0, G1a, G1b, G1c,
# G-single, G2), beside two cheap invariants (the total balance, no negative balance).
# Below: the same faulty workload on 2PC with locks taken at prepare, 2PC without them (the
# planted bug `no_locks_at_prepare`), and both saga forms.

# %%
iso = txn.isolation.compare(seeds=ISO_SEEDS)
iso_sum = iso.groupby("variant", sort=False)[
    ["transactions", *txn.isolation.ANOMALIES, "serializable", "no_negative_balance",
     "atomic"]].sum()
iso_sum

# %% [markdown]
# The smallest case: two transfers debit the same account without locks at prepare. The
# cycle below is the evidence, a G-single (a cycle with exactly one read–write edge): one
# transfer read the balance before the other's debit (`rw`: the other then overwrote what it
# read), and wrote its own new balance over the other's (`ww`) — a lost update.

# %%
unlocked = txn.isolation.check(txn.scenarios.no_locks_at_prepare())
print(unlocked)
assert unlocked.violations["detail"].str.startswith("G-single").any()
fig, ax = plt.subplots(figsize=(4, 4))
plot.anomaly_cycle(unlocked, ax=ax)
plt.show()

# %% [markdown]
# ## 5. Always, and sometimes
#
# <!-- given: 1,000 (the soaks' own run count, not this notebook's) -->
# The soaks (`python -m dsalgo.soak twopc saga`) run 1,000 faulty runs of each; here a
# sample. Every run must pass `txn.check`, and the counts show the interesting things did
# happen: transactions aborted, `tm` crashed while participants were prepared, compensations
# ran, `orch` crashed mid-saga.

# %%
soaks = {}
for name in ("twopc", "saga"):
    result = soaks[name] = soak(name, runs=SOAK_RUNS)
    print(result.report())
    assert result.passed == result.runs

# %%
from dsalgo.report import Conclusion

c = Conclusion("What the charts showed")
b = blocking.groupby(["termination", "recovery_time"])["blocked"].mean()
wait_excess = (b["wait"] - b["wait"].index.to_numpy()).mean() * 1000
coop = blocking[blocking["termination"] == "cooperative"]
wait = blocking[blocking["termination"] == "wait"]
c.add("**2PC blocks.** With `termination=\"wait\"`, {whole} of {prepared} participants "
      "prepared when `tm` crashed stayed blocked until it restarted, on average {excess:.0f} ms "
      "longer than the outage itself, across outages of {lo:g}–{hi:g} s.",
      whole=int(wait["until_restart"].sum()), prepared=len(wait),
      excess=wait_excess, lo=min(RECOVERY), hi=max(RECOVERY))
# a t interval needs at least two participants in each sample compared
samples = {"a vote not yes, cooperative": coop.loc[~coop["everyone_voted_yes"], "blocked"],
           "every vote yes, cooperative": coop.loc[coop["everyone_voted_yes"], "blocked"],
           "every vote yes, wait": wait.loc[wait["everyone_voted_yes"], "blocked"]}
too_few = [k for k, v in samples.items() if len(v) < 2]
if not too_few:
    from scipy import stats

    def mean_ci(values):
        values = values.to_numpy() * 1000
        half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / len(values) ** 0.5
        return values.mean(), half

    (no, no_h), (yes, yes_h), (w_yes, w_yes_h) = map(mean_ci, samples.values())
    c.add("**Cooperative termination helps only part of the time:** participants whose "
          "transaction had a vote other than yes were blocked {no:.0f} ± {no_h:.0f} ms on "
          "average (they learnt the outcome from that peer; {n_no} participants), those whose "
          "every vote was yes {yes:.0f} ± {yes_h:.0f} ms ({n_yes}), against {w:.0f} ± {w_h:.0f} "
          "ms for the same kind with `wait` (means with {level:.0%} t intervals).",
          no=no, no_h=no_h, yes=yes, yes_h=yes_h, w=w_yes, w_h=w_yes_h, level=0.95,
          n_no=int((~coop["everyone_voted_yes"]).sum()),
          n_yes=int(coop["everyone_voted_yes"].sum()))
else:
    c.skipped("Cooperative termination split", "fewer than two participants, too few for "
              "a t interval, in the sample of: " + "; ".join(too_few))
p50 = perf[perf["failure"] == 0].groupby(["algorithm", "size"])["latency_p50_ms"].median()
c.add("**Participants: 2PC asks in parallel, a saga in sequence.** Without failures the "
      "median latency went {lines}.",
      lines="; ".join(f"{alg} from {g.iloc[0]:.1f} ms at {g.index[0][1]} participants to "
                      f"{g.iloc[-1]:.1f} ms at {g.index[-1][1]}"
                      for alg, g in p50.groupby(level=0)))
at_fr0 = why[why["failure"] == why["failure"].min()]  # one row per seed at the lowest rate
gap = (rates["measured"] - rates["1-(1-p)^n"])
sg = rates[rates["algorithm"].str.startswith("saga")]
tp = rates[rates["algorithm"] == "2PC"]
c.add("**Failure rate.** Sagas' abort rate was within {saga_gap:.2f} of $1-(1-p)^n$, the "
      "formula inside the {level:.0%} Wilson interval at {inside} of {points} points "
      "(at {below} of the others the formula lay above the interval: fewer aborts than it "
      "predicts); 2PC "
      "aborted up to {tpc_gap:.2f} more than that (significantly above the formula at {above} "
      "of {tpc_points} points), since participants also refuse a prepare on a locked account "
      "({locked:.0f} `locked` refusals per run at failure rate {fr:g}).",
      saga_gap=(sg["measured"] - sg["1-(1-p)^n"]).abs().max(), level=0.95,
      inside=int(sg["formula inside CI"].sum()), points=len(sg),
      below=int((sg["1-(1-p)^n"] > sg["ci_high"]).sum()),
      tpc_gap=gap[rates["algorithm"] == "2PC"].max(),
      above=int(tp["measured above formula"].sum()), tpc_points=len(tp),
      locked=at_fr0["locked"].fillna(0).mean() if "locked" in at_fr0 else 0.0,
      fr=at_fr0["failure"].iloc[0])
sa = anom[anom["algorithm"] == "saga"].groupby("concurrency")[
    ["intermediate_read_rate", "dirty_reads_per_saga"]].mean()
tpc_reads = anom[anom["algorithm"] == "2PC"].groupby("concurrency")["intermediate_read_rate"].mean()
c.add("**Anomalies {trend} with concurrency for sagas:** from {c0} to {c1} transfers "
      "outstanding per client, the share of reads that saw money in flight went from {r0:.0%} "
      "to {r1:.0%}, and dirty reads from {d0:.2f} to {d1:.2f} per saga. {tpc}",
      tpc=(f"2PC's unlocked reads saw money in flight too ({tpc_reads.loc[sa.index[0]]:.0%} "
           f"at {sa.index[0]}, {tpc_reads.loc[sa.index[-1]]:.0%} at {sa.index[-1]}): "
           "atomicity is not isolation for reads that take no locks."
           if tpc_reads.max() > 0 else "2PC's reads never saw money in flight."),
      trend="grow" if (sa.iloc[-1] > sa.iloc[0]).all() else "do not clearly grow",
      r0=sa["intermediate_read_rate"].iloc[0], c0=sa.index[0],
      r1=sa["intermediate_read_rate"].iloc[-1], c1=sa.index[-1],
      d0=sa["dirty_reads_per_saga"].iloc[0], d1=sa["dirty_reads_per_saga"].iloc[-1])
lu = lost.groupby("compensation").agg(lost=("lost_updates_per_saga", "mean"),
                                      held=("conservation_holds", "mean"))
c.add("**Lost updates.** Inverse compensations lost {inv:.2f} updates per saga "
      "(conservation held in {inv_ok:.0%} of runs); compensating by before-image lost "
      "{res:.2f} (conservation held in {res_ok:.0%}).",
      inv=lu.loc["inverse", "lost"], inv_ok=lu.loc["inverse", "held"],
      res=lu.loc["restore", "lost"], res_ok=lu.loc["restore", "held"])
locked_row = iso_sum.loc["2PC (locks at prepare)"]
anomalies = iso_sum[list(txn.isolation.ANOMALIES)].sum(axis=1)
c.add("**Isolation.** Over {seeds} faulty runs per protocol, 2PC with locks at prepare had "
      "{locked_anomalies} anomalies ({serial} of {seeds} runs serializable); without locks "
      "{unlocked_anomalies}, orchestrated sagas {orch}, choreographed sagas {chor} — while "
      "atomicity (semantic atomicity for sagas) held in {atomic} of {total} runs.",
      seeds=len(ISO_SEEDS), locked_anomalies=int(anomalies["2PC (locks at prepare)"]),
      serial=int(locked_row["serializable"]),
      unlocked_anomalies=int(anomalies["2PC without locks"]),
      orch=int(anomalies["saga (orchestrated)"]), chor=int(anomalies["saga (choreographed)"]),
      atomic=int(iso_sum["atomic"].sum()), total=len(iso))
c.add("**Always and sometimes.** {lines} passed `txn.check`.",
      lines=" and ".join(f"{r.passed} of {r.runs} faulty `{name}` runs"
                         for name, r in soaks.items()))
c
