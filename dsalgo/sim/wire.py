"""The message path: links between nodes, latency draws, loss, duplication, FIFO order,
partitions, and one recorded row per message copy.

Each directed link ``src → dst`` draws from its own random stream, derived from (seed,
src, dst), so traffic on one link never reshuffles another.

Message rows are recorded column-wise (:class:`MessageLog`): three typed arrays, 24 bytes
a message and no Python object per row, so recording feeds the garbage collector nothing.
A row is written "delivered" when the copy is put on the wire and the heap entry carries
its index; the engine rewrites the fate of a copy dropped at a crashed node, and
:mod:`dsalgo.sim.run` turns the columns into ``run.messages``.

There are two send paths with the same behaviour: :meth:`Wire.fast_sender` builds a
closure for the common case (no loss, duplication, FIFO bound or partition on the link),
one with recording and one without, and :meth:`Wire.send` handles everything.  A test pins that both
give identical tables.
"""

from __future__ import annotations

import math
from array import array
from heapq import heappush
from math import log

from ._core import ARRIVE, DELIVER, DELIVERED, LOSS, PARTITION, Scheduler
from ._rng import bare_stream, full_stream
from .latency import Constant, Empirical, Exponential, Uniform

__all__ = ["Link", "MessageLog", "Wire"]

NaN = math.nan

# latency models whose sampler draws through rng.random() alone (Exponential's draw is
# inlined), so a link using them can keep the bare C generator
_BARE_OK = (Exponential, Constant, Uniform, Empirical)

# A message row's codes packed in one int64: src | dst << 20 | type << 40 | fate << 60.
DST_SHIFT, TYPE_SHIFT, FATE_SHIFT = 20, 40, 60
CODE_LIMIT = 1 << 20            # node and message type codes must stay below this
FATE_MASK = 0b111 << FATE_SHIFT


class MessageLog:
    """The message rows, column-wise: ``codes`` (int64, packed as above), ``t_send`` and
    ``t_deliver`` (float64), the row indices of duplicate copies, and for messages to
    nodes with a processing model, the rows whose service began and when."""

    __slots__ = ("codes", "dup_rows", "handled_rows", "handled_t", "t_deliver", "t_send")

    def __init__(self):
        self.codes = array("q")
        self.t_send = array("d")
        self.t_deliver = array("d")
        self.dup_rows = array("q")
        self.handled_rows = array("q")
        self.handled_t = array("d")

    def __len__(self):
        return len(self.codes)

    def append(self, key: int, type_code: int, fate: int, t_send: float, t_deliver: float) -> int:
        """Record one row (``key`` = the link's packed src/dst); returns its index."""
        i = len(self.codes)
        self.codes.append((key & ~FATE_MASK) | type_code | (fate << FATE_SHIFT))
        self.t_send.append(t_send)
        self.t_deliver.append(t_deliver)
        return i

    def set_fate(self, i: int, fate: int) -> None:
        codes = self.codes
        codes[i] = (codes[i] & ~FATE_MASK) | (fate << FATE_SHIFT)


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
        "key",
        "last",
        "plain",
        "rand",
        "rate",
        "rng",
        "src",
        "src_code",
    )

    def refresh(self, fast: bool = True) -> None:
        """Whether the fast path applies: nothing special on the link, and no processing
        model at its destination."""
        self.plain = fast and not (self.blocked or self.drop or self.dup or self.fifo
                                   or self.dst_state.cpu is not None)


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
        self.log = MessageLog()       # one row per message copy
        self.type_codes: dict = {}    # message class -> type code << TYPE_SHIFT
        self.type_names: dict = {}    # type name -> type code
        self.blocked: set = set()     # (src, dst) pairs a partition cuts now
        # delayed duplicates catching now: [fault, left to catch, draw delay, on_catch]
        # (while any is active every link takes the general path, which looks for them)
        self.catches: list = []

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
        if link.src_code >= CODE_LIMIT or link.dst_code >= CODE_LIMIT:
            raise ValueError(f"a simulation records at most {CODE_LIMIT:,} nodes")
        link.key = link.src_code | link.dst_code << DST_SHIFT | DELIVERED << FATE_SHIFT
        lat = cfg["latency"]
        # the (seed, src, dst) stream; the bare generator unless the latency model needs
        # more than random() (the same draws either way)
        link.rng = bare_stream(self.seed, "link", src, dst)
        if type(lat) is Exponential:
            link.rate, link.draw = 1.0 / lat.mean, None   # drawn inline by both paths
        else:
            if type(lat) not in _BARE_OK:
                link.rng = full_stream(link.rng)
            link.rate, link.draw = 0.0, lat.sampler(link.rng)
        link.rand = link.rng.random
        link.drop = cfg["drop_rate"]
        link.dup = cfg["duplicate_rate"]
        link.fifo = cfg["fifo"]
        link.last = 0.0
        link.blocked = (src, dst) in self.blocked
        link.refresh(self.fast and not self.catches)
        self.links[(src, dst)] = link
        return link

    def reconfigure(self, src: str, dst: str) -> Link | None:
        """Rebuild link ``src → dst`` after its settings changed, keeping its random stream
        and FIFO bound; returns the new link (``None`` if it was never used)."""
        old = self.links.pop((src, dst), None)
        if old is None:
            return None
        new = self.link(src, dst)
        lat = self.network.link_config(src, dst)["latency"]
        new.rng, new.last = old.rng, old.last
        if type(lat) not in _BARE_OK:
            new.rng = full_stream(old.rng)
        new.draw = None if type(lat) is Exponential else lat.sampler(new.rng)
        new.rand = new.rng.random
        # entries already in the heap still point at the old link object: it keeps src and
        # dst_state, which is all a delivery needs
        return new

    def set_blocked(self, pairs: set) -> None:
        """Cut exactly the ``(src, dst)`` pairs in ``pairs`` (the partitions in force)."""
        self.blocked = pairs
        fast = self.fast and not self.catches
        for pair, link in self.links.items():
            link.blocked = pair in pairs
            link.refresh(fast)

    def add_catch(self, catch: list) -> None:
        """Start catching messages for a delayed duplicate: ``catch`` is ``[fault, count,
        draw, on_catch]`` (``fault.matches(src, dst, type)`` picks the messages,
        ``draw()`` gives each copy's delay and ``on_catch(link, type, t_send, t_deliver)``
        is told of each copy)."""
        self.catches.append(catch)
        self._refresh_all()

    def remove_catch(self, catch: list) -> None:
        """Stop catching for ``catch`` (no effect if it already stopped)."""
        if catch in self.catches:
            self.catches.remove(catch)
            self._refresh_all()

    def _refresh_all(self):
        fast = self.fast and not self.catches
        for link in self.links.values():
            link.refresh(fast)

    # ------------------------------------------------------------------ sending
    def type_code(self, msg) -> int:
        """The type code of ``msg``, shifted into place in a packed row code."""
        code = self.type_codes.get(msg.__class__)
        if code is not None:
            return code
        code = self.type_names.setdefault(type_name(msg), len(self.type_names))
        if code >= CODE_LIMIT:
            raise ValueError(f"a simulation records at most {CODE_LIMIT:,} message types")
        code <<= TYPE_SHIFT
        if not isinstance(msg, dict):  # dict messages are typed by their "type" entry
            self.type_codes[msg.__class__] = code
        return code

    def fast_sender(self, src: str, out: dict):
        """``send(dst, msg)`` for node ``src``, as a closure over what it needs.

        The hot path of every simulation: its state lives in cells, which are cheaper to
        read than attributes.  Behaviour is exactly :meth:`send`'s.
        """
        out_get = out.get
        clock = self.clock
        heap = clock.heap
        seq = clock.seq
        make_link = self.link
        slow = self.send
        if not self.record:
            def send_unrecorded(dst, msg):
                link = out_get(dst)
                if link is None:
                    link = out[dst] = make_link(src, dst)
                if link.plain:
                    rate = link.rate
                    if rate:  # exponential latency, inlined: what random.expovariate computes
                        t = clock.now - log(1.0 - link.rand()) / rate
                    else:
                        t = clock.now + link.draw()
                    heappush(heap, (t, next(seq), 0, -1, msg, link))
                else:
                    slow(link, msg)

            return send_unrecorded

        type_code = self.type_codes.get
        slow_code = self.type_code
        log_ = self.log
        codes = log_.codes
        codes_append = codes.append
        sent_append = log_.t_send.append
        due_append = log_.t_deliver.append

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
                # fate "delivered" (in link.key) unless something intervenes
                i = len(codes)
                codes_append(link.key | code)
                sent_append(now)
                due_append(t)
                heappush(heap, (t, next(seq), 0, i, msg, link))
            else:
                slow(link, msg)

        return send

    def send(self, link: Link, msg) -> None:
        """Send with loss, duplication, FIFO order, a partition, or recording off."""
        code = self.type_code(msg)
        now = self.clock.now
        record = self.record
        log_ = self.log
        if link.blocked:
            if record:
                log_.append(link.key, code, PARTITION, now, NaN)
            return
        rng = link.rng
        if link.drop and rng.random() < link.drop:
            if record:
                log_.append(link.key, code, LOSS, now, NaN)
        else:
            self._put_on_wire(link, code, msg, now)
        if link.dup and rng.random() < link.dup:
            if record:
                log_.dup_rows.append(len(log_))
            self._put_on_wire(link, code, msg, now)
        if self.catches:
            self._catch(link, code, msg, now)

    def _catch(self, link, code, msg, now):
        """Delayed duplicates: a late copy of ``msg`` for each catch it matches."""
        name = type_name(msg)
        for catch in list(self.catches):
            if not catch[0].matches(link.src, link.dst, name):
                continue
            catch[1] -= 1
            if catch[1] <= 0:
                self.remove_catch(catch)
            t = now + catch[2]()
            i = -1
            if self.record:
                log_ = self.log
                log_.dup_rows.append(len(log_))
                i = log_.append(link.key, code, DELIVERED, now, t)
            clock = self.clock
            kind = DELIVER if link.dst_state.cpu is None else ARRIVE
            heappush(clock.heap, (t, next(clock.seq), kind, i, msg, link))
            catch[3](link, name, now, t)

    def _put_on_wire(self, link, code, msg, now):
        if link.rate:  # the same draw as the fast path
            t = now - log(1.0 - link.rand()) / link.rate
        else:
            t = now + link.draw()
        if link.fifo:
            t = max(t, link.last)
            link.last = t
        # the heap entry carries the row index, -1 when nothing is recorded
        i = self.log.append(link.key, code, DELIVERED, now, t) if self.record else -1
        clock = self.clock
        kind = DELIVER if link.dst_state.cpu is None else ARRIVE
        heappush(clock.heap, (t, next(clock.seq), kind, i, msg, link))
