"""Draw the README's two pictures into this folder: spacetime.png and nines.png.

spacetime.png is a space-time diagram of a ping/pong run around a crash and a pause (as in
the quickstart notebook); nines.png is how many nines a majority of n replicas buys.

Run: python notebooks/figures/readme_figures.py
"""
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dsalgo import plot, sim  # noqa: E402


@dataclass(frozen=True)
class Ping:
    sent_at: float


@dataclass(frozen=True)
class Pong:
    sent_at: float


PEERS = ["n1", "n2", "n3"]


class Pinger(sim.Node):
    def on_start(self, ctx):
        ctx.set_timer("tick", (0.04, 0.06))

    def on_timer(self, ctx, name):
        ctx.broadcast([p for p in PEERS if p != ctx.id], Ping(ctx.now))
        ctx.set_timer("tick", (0.04, 0.06))

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Ping):
            ctx.send(src, Pong(msg.sent_at))


s = sim.Simulation(seed=42, network=sim.Network(latency=sim.Exponential(mean=0.005), drop_rate=0.01))
for n in PEERS:
    s.add_node(n, Pinger)
s.add_faults([sim.Crash("n3", at=1.6), sim.Restart("n3", at=1.9),
              sim.Pause("n2", at=1.7, duration=0.25)])
run = s.run(until=2.1)
fig, ax = plt.subplots(figsize=(11, 3.6))
plot.spacetime(run, ax=ax, time_range=(1.55, 2.0))
ax.set_title("dsalgo.plot.spacetime: n3 crashes (messages to it dropped), n2 pauses 250 ms "
             "(messages queue, handled at resume)")
fig.tight_layout()
out = Path(__file__).resolve().parent / "spacetime.png"
fig.savefig(out, dpi=110)
print("wrote", out)

# The second picture: how many nines a majority of n replicas buys (dsalgo.quorum).
import numpy as np  # noqa: E402

from dsalgo.quorum import availability_table, majority  # noqa: E402

systems = {f"majority of {n}": majority(n) for n in (3, 5, 7, 9)}
df = availability_table(systems, np.geomspace(1e-4, 0.3, 40))
fig, ax = plt.subplots(figsize=(7.5, 4.2))
plot.availability_nines(df, ax=ax)
ax.axhline(4, color="0.4", ls=":", lw=1)
ax.annotate("four nines", (1.1e-4, 4.15), fontsize="small", color="0.3")
ax.set_title("dsalgo.quorum: nines of a live majority vs per-node failure probability")
fig.tight_layout()
out = Path(__file__).resolve().parent / "nines.png"
fig.savefig(out, dpi=110)
print("wrote", out)
