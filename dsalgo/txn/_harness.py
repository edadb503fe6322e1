"""Pieces both ``simulate`` harnesses share: argument checks and building the simulation."""

from __future__ import annotations

from .. import sim
from .._validate import check_choice


def check_bugs(bugs, known) -> frozenset:
    """``bugs`` as a frozenset of names from ``known``, or a clear error."""
    if isinstance(bugs, str):
        raise TypeError(f"bugs must be a collection of names such as {{{known[0]!r}}}, "
                        f"not a single string; got {bugs!r}")
    try:
        bugs = frozenset(bugs)
    except TypeError:
        raise TypeError(f"bugs must be a collection of names; got {bugs!r}") from None
    for b in sorted(bugs, key=repr):
        check_choice("bugs entry", b, known)
    return bugs


def new_simulation(seed, network) -> sim.Simulation:
    """A simulation on ``network`` (default: exponential latency, mean 1 ms, no loss)."""
    if network is None:
        network = sim.Network(latency=sim.Exponential(mean=0.001))
    elif not isinstance(network, sim.Network):
        raise TypeError(f"network must be a dsalgo.sim.Network; got {network!r}")
    return sim.Simulation(seed=seed, network=network)


def add_faults(s: sim.Simulation, faults) -> None:
    """Schedule ``faults`` (one fault or an iterable of them) once the nodes exist."""
    if isinstance(faults, sim.Fault):
        faults = [faults]
    try:
        faults = list(faults)
    except TypeError:
        raise TypeError(f"faults must be an iterable of dsalgo.sim faults; got {faults!r}") from None
    for f in faults:
        if not isinstance(f, sim.Fault):
            raise TypeError(f"faults must hold dsalgo.sim faults (Crash, Partition, Nemesis…); "
                            f"got {f!r}")
    s.add_faults(faults)
