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
# # Quickstart: a simulated cluster, some faults, and the tables a run gives you
#
# **Question:** what does one run of a protocol look like in dsalgo — which messages flew,
# which were lost and why, what the nodes did — and how do a partition, a crash and a
# stop-the-world pause show up in it?
#
# We build a three-node network running a tiny ping/pong protocol, inject a partition, a
# crash and a pause, and look at the four tables every run produces, a space-time diagram,
# a delivery-latency CDF, and a save/reload round trip.

# %% tags=["parameters"]
quick = False  # papermill parameter: a shorter run for the test suite

# %%
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from dsalgo import plot, sim

pd.set_option("display.max_colwidth", None)   # whole cells in the report, no "…"

DURATION = 2.0 if quick else 4.0   # seconds of simulated time


# %% [markdown]
# ## A protocol is a sans-I/O state machine
#
# A node never sleeps, reads a clock or draws a random number itself: it asks its context
# `ctx` to send, to arm a timer (here a randomised one, `(low, high)`), and to emit events.
# Every `PING_EVERY` seconds each node pings the others; a pong carries the ping's send time
# back, so the sender can record a round-trip time (measured on its *local* clock).

# %%
@dataclass(frozen=True)
class Ping:
    sent_at: float          # sender's local clock, seconds


@dataclass(frozen=True)
class Pong:
    sent_at: float


PEERS = ["n1", "n2", "n3"]
PING_EVERY = (0.040, 0.060)  # seconds, drawn per tick


class Pinger(sim.Node):
    def on_start(self, ctx):
        self.pongs = 0                      # volatile: lost in a crash
        ctx.disk.setdefault("starts", 0)    # durable: survives a crash
        ctx.disk["starts"] += 1
        ctx.emit("started", starts=ctx.disk["starts"])
        ctx.set_timer("tick", PING_EVERY)

    def on_timer(self, ctx, name):
        ctx.broadcast([p for p in PEERS if p != ctx.id], Ping(ctx.now))
        ctx.set_timer("tick", PING_EVERY)

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Ping):
            ctx.send(src, Pong(msg.sent_at))
        else:
            self.pongs += 1
            ctx.emit("rtt", peer=src, rtt=ctx.now - msg.sent_at)


# %% [markdown]
# ## The network and the faults
#
# Latency is exponential with a 5 ms mean and 1 % of messages are lost. Between 1.0 and
# 1.5 s `n1` is cut off from `n2` and `n3`; at 1.6 s `n3` crashes, and it restarts at 1.9 s;
# at 1.7 s `n2` stops the world for 250 ms (a long GC pause).
# <!-- inputs: 5 ms, 1 %, 1.0, 1.5, 1.6, 1.9, 1.7, 250 ms -->

# %%
net = sim.Network(latency=sim.Exponential(mean=0.005), drop_rate=0.01)
faults = [
    sim.Partition([["n1"], ["n2", "n3"]], at=1.0, until=1.5),
    sim.Crash("n3", at=1.6), sim.Restart("n3", at=1.9),
    sim.Pause("n2", at=1.7, duration=0.25),
]


def simulate(seed=42):
    s = sim.Simulation(seed=seed, network=net)
    for n in PEERS:
        s.add_node(n, Pinger)
    s.add_faults(faults)
    return s.run(until=DURATION)


run = simulate()
run

# %% [markdown]
# ## The four tables
#
# `run.summary()` counts what happened; messages dropped are split by reason.

# %%
run.summary()

# %%
run.messages.head()

# %%
run.faults

# %%
# engine events (partition, crash, restart, pause, resume) and the nodes' own "started":
# n3 starts twice; its volatile state was lost, its disk kept the count of starts
run.events[run.events["kind"] != "rtt"].dropna(axis=1, how="all")

# %%
drops = (run.messages[run.messages["status"] == "dropped"]
         .groupby(["reason"], observed=True).size().rename("messages dropped"))
drops

# %% [markdown]
# ## Space-time diagrams
#
# **How to read a space-time diagram.** Each node is a horizontal line and time runs to the
# right. An arrow from one line to another is one message: it leaves the sender when it is
# sent and lands on the receiver when it is delivered, so a steeper arrow is a faster
# message. Colour is the message type (the same colour for a type in every diagram of a
# notebook). A dashed stub ending in a cross is a message that was dropped, and the shaded
# bands are faults (a partition, a crash, a pause). Look for where arrows stop, bunch up or
# fan in: that is where the protocol is waiting.
#
# Below, the top diagram zooms on the start of the partition and the bottom one on the
# crash of `n3` and the pause of `n2`. What to look for: dashed stubs between `n1` and the
# others while the partition lasts, stubs into `n3` while it is down, and arrows into the
# paused `n2` that all land at its resume instant, a fan converging on one point. The
# counts are in the conclusion at the end.

# %%
fig, axes = plt.subplots(2, 1, figsize=(11, 7))
plot.spacetime(run, ax=axes[0], time_range=(0.95, 1.15))
axes[0].set_title("Partition n1 | n2,n3 from 1.0 s: cross-group messages dropped")
plot.spacetime(run, ax=axes[1], time_range=(1.55, 1.98))
axes[1].set_title("Crash of n3 (1.6–1.9 s) and a 250 ms pause of n2 (1.7–1.95 s)")
fig.tight_layout()

# %% [markdown]
# ## Delivery latency and round-trip times
#
# **How to read a CDF (of latency, or of downtime in later notebooks).** The curve at `x`
# gives the fraction of messages (or failovers) that took at most `x`: read across from
# 0.5 for the median and from 0.99 for the 99th percentile. A curve further left is faster;
# a long flat tail to the right is the few slow cases that dominate what users notice; a
# curve that never reaches 1 means some cases never finished within the run.
# <!-- given: 0.5, 0.99, 1 (reading a CDF) -->

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
plot.latency_cdf(run.messages, by="type", ax=axes[0], log=True)
axes[0].set_title("One-way delivery latency by message type")
rtt = run.events[run.events["kind"] == "rtt"]
for node, g in rtt.groupby("node", observed=True):
    axes[1].plot(g["time"], g["rtt"] * 1000, ".", ms=3, label=str(node),
                 color=plot.node_color(node))       # the node's colour in every chart
shade = {"partition": dict(color="tab:red", alpha=0.08), "crash": dict(color="0.35", alpha=0.35),
         "pause": dict(color="tab:orange", alpha=0.35)}     # as in the space-time diagrams
for f in run.faults.itertuples():
    axes[1].axvspan(f.t_start, f.t_end, lw=0, label=f"{f.kind}: {f.target}",
                    **shade.get(f.kind, dict(color="0.6", alpha=0.2)))
axes[1].set_yscale("log")
axes[1].set(title="Round-trip time seen by each node (faults shaded)", xlabel="time (s)",
            ylabel="round-trip time (ms)")
axes[1].legend(title="measured at; faults", loc="upper left", bbox_to_anchor=(1.01, 1.0),
               frameon=False, markerscale=3)
fig.tight_layout()
summary = rtt.groupby("node", observed=True)["rtt"].describe(percentiles=[0.5, 0.99])
summary[["mean", "50%", "99%", "max"]].mul(1000).round(1).add_suffix(" (ms)")

# %%
from IPython.display import Markdown, display

pause = run.faults[run.faults["kind"] == "pause"].iloc[0]
# a round trip measured at `time` took `rtt`; it went through the paused node (to it, or
# from it) and overlapped its pause, or it did not
involved = (rtt["node"] == pause.target) | (rtt["peer"] == pause.target)
spans = involved & (rtt["time"] - rtt["rtt"] < pause.t_end) & (rtt["time"] > pause.t_start)
across, rest = rtt[spans], rtt[~spans]
by_node = across.groupby("node", observed=True)["rtt"].agg(["size", "max"])
by_node = by_node[by_node["size"] > 0]
own = across[across["node"] == pause.target]
limit = rest["rtt"].quantile(0.99)
stretched = [n for n in summary.index if summary.loc[n, "99%"] > 2 * limit]
display(Markdown(
    f"{len(across)} round trips went through `{pause.target}` while it was paused "
    f"({pause.t_start:g}–{pause.t_end:g} s), measured by " + ", ".join(
        f"`{n}` ({int(r['size'])}, up to {r['max'] * 1000:.0f} ms)" for n, r in by_node.iterrows())
    + f". A ping sent to `{pause.target}` waits until it resumes to be answered"
    + (f"; {len(own)} of `{pause.target}`'s own pings had their replies arrive during the "
       "pause, handled only at its resume" if len(own) else "")
    + f". Without them the 99th percentile over every node's round trips is "
      f"{limit * 1000:.1f} ms"
    + ("; those few stretch " + ", ".join(
        f"`{n}`'s 99th percentile to {summary.loc[n, '99%'] * 1000:.0f} ms (median "
        f"{summary.loc[n, '50%'] * 1000:.1f} ms)" for n in stretched) if stretched else "")
    + ": the pause, not the network."))

# %% [markdown]
# ## Save, reload, and determinism
#
# A run saves to Parquet and loads back with the same dtypes; the same seed gives the same tables.

# %%
folder = Path(tempfile.mkdtemp()) / "quickstart-run"
run.save(folder)
back = sim.load_run(folder)
print(sorted(p.name for p in folder.iterdir()))
print("identical after reload:", back == run)

print("same seed, same tables:", simulate(seed=42) == run)
print("another seed, other tables:", not simulate(seed=43).messages.equals(run.messages))

# %%
from dsalgo.report import Conclusion

m = run.messages
t_part = run.faults[run.faults["kind"] == "partition"].iloc[0]
in_part = m[(m["t_send"] >= t_part.t_start) & (m["t_send"] < t_part.t_end)]
cross = in_part[(in_part["src"] == "n1") != (in_part["dst"] == "n1")]
inside = in_part[(in_part["src"] != "n1") & (in_part["dst"] != "n1")]
crash = run.faults[run.faults["kind"] == "crash"].iloc[0]
pause = run.faults[run.faults["kind"] == "pause"].iloc[0]
to_n3 = m[(m["dst"] == "n3") & (m["status"] == "dropped") & (m["reason"] == "node_down")]
to_n2 = m[(m["dst"] == "n2") & (m["t_deliver"].isna() | (m["t_deliver"] >= pause.t_start))
          & (m["t_send"] >= pause.t_start) & (m["t_send"] < pause.t_end)]
lat = (m["t_deliver"] - m["t_send"]).dropna() * 1000
mean_ms = net.latency.mean * 1000
rtt_ms = rtt["rtt"] * 1000

c = Conclusion("What the charts showed")
c.add("**Partition.** Of the {n_cross} messages sent across the cut while it lasted, "
      "{n_cross_drop} were dropped with reason `partition`; `n2` and `n3` kept talking "
      "({n_inside_ok} of {n_inside} of their messages delivered, {n_inside_lost} lost at "
      "random).",
      n_cross=len(cross), n_cross_drop=int((cross["reason"] == "partition").sum()),
      n_inside=len(inside), n_inside_ok=int((inside["status"] == "delivered").sum()),
      n_inside_lost=int((inside["reason"] == "loss").sum()))
c.add("**Crash and pause.** The crash of `n3` dropped {n_down} messages addressed to it "
      "(reason `node_down`); of the {n_paused} messages sent to the paused `n2`, "
      "{n_paused_lost} were dropped by anything but random loss and {n_at_resume} were "
      "handled at the resume instant ({resume:g} s), which is what makes pauses dangerous for "
      "lease-based protocols (see the locks notebook).",
      n_down=len(to_n3), n_paused=len(to_n2),
      n_paused_lost=int(((to_n2["status"] == "dropped") & (to_n2["reason"] != "loss")).sum()),
      n_at_resume=int((to_n2["t_handle"] == pause.t_end).sum()), resume=pause.t_end)
c.add("**Latency.** The median one-way delivery took {med:.2f} ms against "
      "{theory:.2f} ms for the exponential of mean {mean:g} ms ($\\text{{mean}} \\times \\ln 2$); "
      "the longest round trip, across the pause, took {worst:.0f} ms, {ratio:.0f} times "
      "the median round trip of {rtt_med:.1f} ms.",
      med=lat.median(), theory=mean_ms * math.log(2), mean=mean_ms, worst=rtt_ms.max(),
      ratio=rtt_ms.max() / rtt_ms.median(), rtt_med=rtt_ms.median())
c.add("**Determinism.** Reloaded from Parquet the run was {same_reload}; rerun with the "
      "same seed it was {same_seed}.",
      same_reload="identical" if back == run else "DIFFERENT",
      same_seed="identical" if simulate(seed=42) == run else "DIFFERENT")
c
