"""The message path: links between nodes, latency draws, loss, duplication, FIFO order,
partitions, and one recorded row per message copy.

Each directed link ``src → dst`` draws from its own random stream, derived from (seed,
src, dst), so traffic on one link never reshuffles another.  A message row is a list
``[src_code, dst_code, type_code, t_send, t_deliver, fate]`` written "delivered" when
the copy is put on the wire; the engine rewrites the fate of a copy that is dropped at a
crashed node, and :meth:`dsalgo.sim.Run.from_rows` turns the rows into ``run.messages``.

There are two send paths with the same behaviour: :meth:`Wire.fast_sender` builds a
closure for the common case (recording on, no loss, duplication, FIFO bound or
partition on the link), and :meth:`Wire.send` handles everything.  A test pins that both
give identical tables.
"""

from __future__ import annotations

import math
from heapq import heappush
from math import log

from ._core import DELIVER, DELIVERED, LOSS, PARTITION, Scheduler
from ._rng import stream
from .latency import Exponential

__all__ = ["Link", "Wire"]

NaN = math.nan


class Link:
    """One directed link's settings, random stream and state."""

    __slots__ = (
        "blocked",
        "draw",
        "drop",
        "dst",
        "dst_code",
        "dst_state",
        "dup",
        "fifo",
        "last",
        "plain",
        "rand",
        "rate",
        "rng",
        "src",
        "src_code",
    )

    def refresh(self, record: bool, fast: bool = True) -> None:
        """Whether the fast path applies: recording on and nothing special on the link."""
        self.plain = fast and record and not (self.blocked or self.drop or self.dup or self.fifo)


def type_name(msg) -> str:
    """The message type recorded in ``run.messages``: a dict's ``"type"`` entry, else the
    class name."""
    if isinstance(msg, dict):
        return str(msg.get("type", "dict"))
    return msg.__class__.__name__


class Wire:
    """Links, message recording and delivery scheduling for one simulation.

    Parameters
    ----------
    clock : Scheduler
        The simulation's heap and clock.
    seed : int
        The simulation's seed (each link's stream derives from it).
    network : Network
        Per-link settings.
    states : dict
        Node id → node state (the engine's; the wire only reads it).
    record : bool
        Keep one row per message copy.
    fast : bool
        Use the fast send path where it applies (off only to test that both paths agree).
    """

    def __init__(self, clock: Scheduler, seed: int, network, states: dict, record: bool,
                 fast: bool = True):
        self.clock = clock
        self.seed = seed
        self.network = network
        self.states = states
        self.record = record
        self.fast = fast
        self.links: dict[tuple[str, str], Link] = {}
        self.rows: list = []          # one per message copy
        self.dup_rows: list = []      # indices of rows that are duplicate copies
        self.type_codes: dict = {}    # message class -> type code
        self.type_names: dict = {}    # type name -> type code
        self.blocked: set = set()     # (src, dst) pairs a partition cuts now

    # ------------------------------------------------------------------ links
    def link(self, src: str, dst: str) -> Link:
        """The link ``src → dst``, built on first use."""
        link = self.links.get((src, dst))
        if link is not None:
            return link
        dst_state = self.states.get(dst)
        if dst_state is None:
            raise ValueError(f"dst {dst!r} is not a node of this simulation; nodes are "
                             f"{', '.join(self.states)}")
        cfg = self.network.link_config(src, dst)
        link = Link()
        link.src, link.dst, link.dst_state = src, dst, dst_state
        link.src_code, link.dst_code = self.states[src].code, dst_state.code
        link.rng = stream(self.seed, "link", src, dst)
        lat = cfg["latency"]
        link.draw = lat.sampler(link.rng)
        link.rate = 1.0 / lat.mean if type(lat) is Exponential else 0.0
        link.rand = link.rng.random
        link.drop = cfg["drop_rate"]
        link.dup = cfg["duplicate_rate"]
        link.fifo = cfg["fifo"]
        link.last = 0.0
        link.blocked = (src, dst) in self.blocked
        link.refresh(self.record, self.fast)
        self.links[(src, dst)] = link
        return link

    def reconfigure(self, src: str, dst: str) -> Link | None:
        """Rebuild link ``src → dst`` after its settings changed, keeping its random stream
        and FIFO bound; returns the new link (``None`` if it was never used)."""
        old = self.links.pop((src, dst), None)
        if old is None:
            return None
        new = self.link(src, dst)
        new.rng, new.last = old.rng, old.last
        new.draw = self.network.link_config(src, dst)["latency"].sampler(new.rng)
        new.rand = new.rng.random
        # entries already in the heap still point at the old link object: it keeps src and
        # dst_state, which is all a delivery needs
        return new

    def set_blocked(self, pairs: set) -> None:
        """Cut exactly the ``(src, dst)`` pairs in ``pairs`` (the partitions in force)."""
        self.blocked = pairs
        for pair, link in self.links.items():
            link.blocked = pair in pairs
            link.refresh(self.record, self.fast)

    # ------------------------------------------------------------------ sending
    def type_code(self, msg) -> int:
        code = self.type_codes.get(msg.__class__)
        if code is not None:
            return code
        code = self.type_names.setdefault(type_name(msg), len(self.type_names))
        if not isinstance(msg, dict):  # dict messages are typed by their "type" entry
            self.type_codes[msg.__class__] = code
        return code

    def fast_sender(self, src: str, out: dict):
        """``send(dst, msg)`` for node ``src``, as a closure over what it needs.

        The hot path of every simulation: its state lives in cells, which are cheaper to
        read than attributes.  Behaviour is exactly :meth:`send`'s.
        """
        out_get = out.get
        type_code = self.type_codes.get
        slow_code = self.type_code
        rows_append = self.rows.append
        clock = self.clock
        heap = clock.heap
        seq = clock.seq
        make_link = self.link
        slow = self.send

        def send(dst, msg):
            link = out_get(dst)
            if link is None:
                link = out[dst] = make_link(src, dst)
            if link.plain:
                code = type_code(msg.__class__)
                if code is None:
                    code = slow_code(msg)
                now = clock.now
                rate = link.rate
                if rate:  # exponential latency, inlined: what random.expovariate computes
                    t = now - log(1.0 - link.rand()) / rate
                else:
                    t = now + link.draw()
                # fate "delivered" unless something intervenes
                rec = [link.src_code, link.dst_code, code, now, t, 1]
                rows_append(rec)
                heappush(heap, (t, next(seq), 0, rec, msg, link))
            else:
                slow(link, msg)

        return send

    def send(self, link: Link, msg) -> None:
        """Send with loss, duplication, FIFO order, a partition, or recording off."""
        code = self.type_code(msg)
        now = self.clock.now
        record = self.record
        rows = self.rows
        if link.blocked:
            if record:
                rows.append([link.src_code, link.dst_code, code, now, NaN, PARTITION])
            return
        rng = link.rng
        if link.drop and rng.random() < link.drop:
            if record:
                rows.append([link.src_code, link.dst_code, code, now, NaN, LOSS])
        else:
            self._put_on_wire(link, code, msg, now)
        if link.dup and rng.random() < link.dup:
            if record:
                self.dup_rows.append(len(rows))
            self._put_on_wire(link, code, msg, now)

    def _put_on_wire(self, link, code, msg, now):
        if link.rate:  # the same draw as the fast path
            t = now - log(1.0 - link.rand()) / link.rate
        else:
            t = now + link.draw()
        if link.fifo:
            t = max(t, link.last)
            link.last = t
        rec = [link.src_code, link.dst_code, code, now, t, DELIVERED]
        if self.record:
            self.rows.append(rec)
        clock = self.clock
        heappush(clock.heap, (t, next(clock.seq), DELIVER, rec, msg, link))
