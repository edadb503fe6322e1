"""The network: latency, loss, duplication, ordering, and per-link overrides.

A :class:`Network` is configuration only.  The simulator turns it into one link per
ordered pair of nodes, each with its own random stream (a function of the seed and the
pair, see :mod:`dsalgo.sim._rng`), so the draws on one link never depend on traffic
elsewhere.
"""

from __future__ import annotations

from .._validate import check_bool, check_probability
from .latency import Exponential, Latency, as_latency

__all__ = ["Network"]

_UNSET = object()


class Network:
    """Message delivery model shared by every link unless overridden.

    Parameters
    ----------
    latency : Latency or float, default ``Exponential(mean=0.005)``
        One-way delay model; a plain number means ``Constant(number)`` seconds.
    drop_rate : float, default 0.0
        Probability that a message copy is lost on the wire, in [0, 1].
    duplicate_rate : float, default 0.0
        Probability that a sent message is delivered twice (the copy has its own delay).
    fifo : bool, default False
        If True, each link delivers in send order (a later message never overtakes an
        earlier one); if False, independent delays reorder messages.

    Examples
    --------
    >>> from dsalgo import sim
    >>> net = sim.Network(latency=sim.Exponential(mean=0.002), drop_rate=0.01)
    >>> net.set_link("n1", "n2", latency=sim.Constant(0.100))   # one slow link, both ways
    >>> net.link_config("n2", "n1")["latency"]
    Constant(delay=0.1)
    """

    def __init__(self, latency: Latency | float | None = None, drop_rate: float = 0.0,
                 duplicate_rate: float = 0.0, fifo: bool = False):
        self.latency = Exponential(mean=0.005) if latency is None else as_latency(latency)
        self.drop_rate = check_probability("drop_rate", drop_rate)
        self.duplicate_rate = check_probability("duplicate_rate", duplicate_rate)
        self.fifo = check_bool("fifo", fifo)
        self._overrides: dict[tuple[str, str], dict] = {}

    def __setattr__(self, name, value):
        # the simulator caches the default links' settings; a changed default invalidates it
        object.__setattr__(self, name, value)
        object.__setattr__(self, "_version", getattr(self, "_version", -1) + 1)

    def set_link(self, src: str, dst: str, *, latency=_UNSET, drop_rate=_UNSET,
                 duplicate_rate=_UNSET, fifo=_UNSET, symmetric: bool = True) -> None:
        """Override the settings of the link ``src → dst`` (and ``dst → src`` if symmetric).

        Only the keywords given are overridden; the rest follow the network defaults.
        """
        for name, v in (("src", src), ("dst", dst)):
            if not isinstance(v, str):
                raise TypeError(f"{name} must be a node id (str); got {v!r}")
        cfg = {}
        if latency is not _UNSET:
            cfg["latency"] = as_latency(latency)
        if drop_rate is not _UNSET:
            cfg["drop_rate"] = check_probability("drop_rate", drop_rate)
        if duplicate_rate is not _UNSET:
            cfg["duplicate_rate"] = check_probability("duplicate_rate", duplicate_rate)
        if fifo is not _UNSET:
            cfg["fifo"] = check_bool("fifo", fifo)
        pairs = [(src, dst), (dst, src)] if symmetric else [(src, dst)]
        for pair in pairs:
            self._overrides.setdefault(pair, {}).update(cfg)
        # a simulation using this network learns of the change by the version
        object.__setattr__(self, "_version", self._version + 1)

    def link_config(self, src: str, dst: str) -> dict:
        """The effective settings of the link ``src → dst``."""
        cfg = {"latency": self.latency, "drop_rate": self.drop_rate,
               "duplicate_rate": self.duplicate_rate, "fifo": self.fifo}
        cfg.update(self._overrides.get((src, dst), {}))
        return cfg

    def overridden_nodes(self) -> set[str]:
        return {n for pair in self._overrides for n in pair}

    def __repr__(self):
        extra = f", {len(self._overrides)} link overrides" if self._overrides else ""
        return (f"Network(latency={self.latency!r}, drop_rate={self.drop_rate!r}, "
                f"duplicate_rate={self.duplicate_rate!r}, fifo={self.fifo!r}{extra})")
