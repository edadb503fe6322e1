"""The message path: links between nodes, latency draws, loss, duplication, FIFO order,
partitions, and one recorded row per message copy.

Each directed link ``src → dst`` draws from its own random stream, a pure function of
(seed, src, dst) and the draw's index, so traffic on one link never reshuffles another
(:mod:`dsalgo.sim._rng` gives the derivation).  A link is cheap to build: its first
``COUNTER_DRAWS`` draws are hashed from a counter and only a link that draws more seeds a
generator, so a thousand nodes talking all to all do not build a million generators.

Message rows are recorded column-wise (:class:`MessageLog`): three typed arrays written
through memoryviews, 24 bytes a message (about 32 at most held, with the room the arrays keep
ahead) and no Python object per row, so recording feeds the garbage collector nothing.
A row is written "delivered" when the copy is put on the wire and the heap entry carries
its index; the engine rewrites the fate of a copy dropped at a crashed node, and
:mod:`dsalgo.sim.run` turns the columns into ``run.messages``.

There are two send paths with the same behaviour: :meth:`Wire.fast_sender` builds a
closure for the common case (no loss, duplication, FIFO bound or partition on the link),
one with recording and one without, and :meth:`Wire.send` handles everything.  A test pins that both
give identical tables.

A link costs nothing until it needs state of its own.  While the network's defaults are
plain (exponential latency, no loss, duplication or FIFO bound, no partition and no
delayed duplicate catching) and the link has no override, the fast path sends on a link
that was never built from the link's key and a count of its draws alone (one entry in a
dict per source, no object), and the heap entry (kind ``UNBUILT``) carries
``(src, destination state)`` instead of a :class:`Link`.  The link is built, at the same
position in its stream, when it draws past its counter or anything above stops holding,
so its draws are the ones a built link makes: a thousand nodes that each talk to
hundreds of peers a few times pay a few dict operations per link, not an object the
garbage collector walks.
"""

from __future__ import annotations

import _random
import math
from array import array
from heapq import heappush
from itertools import count
from math import log

from ._core import ARRIVE, DELIVER, DELIVERED, LOSS, PARTITION, UNBUILT, Scheduler
from ._rng import (
    COUNTER_DRAWS,
    GAMMA,
    MASK,
    MIX1,
    MIX2,
    UNIT,
    LinkStream,
    derive_seed,
)
from .latency import Constant, Empirical, Exponential, Uniform

__all__ = ["Link", "MessageLog", "Wire"]

NaN = math.nan
# Link.random's counter increments, (k + 1) * GAMMA mod 2**64 for draw k
GAMMAS = tuple(((k + 1) * GAMMA) & MASK for k in range(COUNTER_DRAWS))

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
    nodes with a processing model, the rows whose service began and when.

    The three row columns are typed arrays with room to spare (``cap`` rows, at most a
    quarter more than written, about 32 bytes held per message at most, with what
    ``array`` itself keeps ahead), written through
    memoryviews ``mq``, ``ms`` and ``md``: storing into a memoryview costs about half of
    ``array.append``, which parses its argument on every call.  Row indices come from the
    counter ``rows``; the counter and the views are only ever replaced together (the old
    views released).  A writer holding them (the send closures keep them in cells) claims
    ``i = next(rows)`` and stores; when the store fails it asks :meth:`row` for the row to
    write and the current counter and views.  So no row is skipped or written twice, and
    the arrays themselves stay the same objects.
    """

    __slots__ = ("cap", "codes", "dup_rows", "handled_rows", "handled_t", "md", "mq", "ms",
                 "rows", "t_deliver", "t_send")

    def __init__(self):
        self.codes = array("q")
        self.t_send = array("d")
        self.t_deliver = array("d")
        self.cap = 0
        self.rows = count()
        self._views()
        self.dup_rows = array("q")
        self.handled_rows = array("q")
        self.handled_t = array("d")

    def _views(self) -> None:
        self.mq = memoryview(self.codes)
        self.ms = memoryview(self.t_send)
        self.md = memoryview(self.t_deliver)

    def _release(self) -> None:
        self.mq.release()
        self.ms.release()
        self.md.release()

    def _grow(self, i: int) -> None:
        """Room for row ``i``, taken from the counter: the columns grow by a quarter (at
        least 256 rows), and the counter and views are replaced together, as always, so a
        writer whose views fail holds a number from a counter no longer used."""
        cap = max(i + 1 + (i + 1) // 4, 256)
        self.rows = count(i + 1)
        self._release()
        extra = bytes(8 * (cap - self.cap))
        self.codes.frombytes(extra)
        self.t_send.frombytes(extra)
        self.t_deliver.frombytes(extra)
        self.cap = cap
        self._views()

    def row(self, i: int, mq: memoryview):
        """For a writer whose store of row ``i`` through ``mq`` failed: returns
        ``(i, rows, mq, ms, md)``, the row to write and the current counter and views.

        If ``mq`` is the current view the store failed for room (``IndexError``): the
        columns grow and row ``i`` stays the writer's.  Otherwise ``mq`` was released
        (``ValueError``: the columns grew or were counted) and ``i`` came from a counter
        no longer used: the writer takes a row from the current one."""
        if mq is not self.mq:
            i = next(self.rows)
        if i >= self.cap:
            self._grow(i)
        return i, self.rows, self.mq, self.ms, self.md

    def __len__(self):
        """The rows written.  Counting takes a row number from the counter, so the
        counter is replaced (starting at that number) and the views released, which
        sends every writer to :meth:`row` for its next row."""
        n = next(self.rows)
        self.rows = count(n)
        self._release()
        self._views()
        return n

    def append(self, key: int, type_code: int, fate: int, t_send: float, t_deliver: float) -> int:
        """Record one row (``key`` = the link's packed src/dst); returns its index."""
        i = next(self.rows)
        if i >= self.cap:
            self._grow(i)
        self.codes[i] = (key & ~FATE_MASK) | type_code | (fate << FATE_SHIFT)
        self.t_send[i] = t_send
        self.t_deliver[i] = t_deliver
        return i

    def set_fate(self, i: int, fate: int) -> None:
        codes = self.codes
        codes[i] = (codes[i] & ~FATE_MASK) | (fate << FATE_SHIFT)


class Profile:
    """The settings links share (those of the network's defaults, or of one override):
    latency model, loss, duplication, FIFO order, and how a link draws its delays."""

    __slots__ = ("draw", "drop", "dup", "fifo", "full", "lat", "rate", "special", "version")

    def __init__(self, cfg: dict, version: int = -1):
        lat = self.lat = cfg["latency"]
        self.drop, self.dup, self.fifo = cfg["drop_rate"], cfg["duplicate_rate"], cfg["fifo"]
        self.special = bool(self.drop or self.dup or self.fifo)
        # exponential delays are drawn inline by both send paths; a constant one draws
        # nothing (one sampler serves every link); the rest take a sampler per link
        self.rate = 1.0 / lat.mean if type(lat) is Exponential else 0.0
        self.draw = lat.sampler(None) if type(lat) is Constant else None
        # a latency model that needs more than random() draws through a LinkStream
        self.full = type(lat) not in _BARE_OK
        self.version = version


class Link:
    """One directed link's settings, random stream and state.

    While the link is new its stream is its own :meth:`random`, counter-based (``k``
    draws taken, key ``x``); at draw ``COUNTER_DRAWS`` it seeds its generator ``mt`` and
    the send paths draw from that directly.  A link whose latency model needs more than
    ``random()`` draws through a :class:`~dsalgo.sim._rng.LinkStream` instead.  ``rng``
    is whichever of the three draws now, ``rand`` its ``random``.
    """

    __slots__ = (
        "blocked",
        "draw",
        "dst",
        "dst_state",
        "k",
        "key",
        "last",
        "mt",
        "plain",
        "prof",
        "rand",
        "rate",
        "rng",
        "src",
        "x",
    )

    def random(self) -> float:
        """The link's next draw (the arithmetic of :func:`~dsalgo.sim._rng.counter_random`,
        inlined)."""
        k = self.k
        if k < COUNTER_DRAWS:
            self.k = k + 1
            z = (self.x + (k + 1) * GAMMA) & MASK
            z = ((z ^ (z >> 30)) * MIX1) & MASK
            z = ((z ^ (z >> 27)) * MIX2) & MASK
            return ((z ^ (z >> 31)) >> 11) * UNIT
        mt = self.mt
        if mt is None:  # the first draw past the counter: seed the generator, draw from it
            mt = self.mt = _random.Random(self.x)
            if self.rng is self:
                self.bind(mt)
        return mt.random()

    def bind(self, rng) -> None:
        """Draw from ``rng`` from now on (``rand`` and the latency sampler)."""
        self.rng, self.rand = rng, rng.random
        prof = self.prof
        if prof.rate or prof.draw is not None:
            self.draw = prof.draw
        else:
            self.draw = prof.lat.sampler(rng)

    def stream(self):
        """The link's stream as a ``random.Random`` at its current position (the link
        draws from it from now on)."""
        rng = self.rng
        if isinstance(rng, LinkStream):
            return rng
        mt = self.mt
        full = LinkStream(self.x, self.k, None if mt is None else mt.getstate())
        self.bind(full)
        return full

    def unhook(self) -> None:
        """Drop the link's stream (it will not draw again): a link drawing from its
        counter is its own stream (``rng`` is the link, ``rand`` its bound method), a
        cycle that would wait for the garbage collector."""
        self.rng = self.rand = self.draw = None

    def refresh(self, fast: bool = True) -> None:
        """Whether the fast path applies: nothing special on the link, and no processing
        model at its destination."""
        self.plain = fast and not (self.blocked or self.prof.special
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
        # source -> {destination: draws taken} for links not built yet (the fast path's
        # unbuilt links, see the module's description); built links take their count
        self.fresh: dict[str, dict[str, int]] = {}
        self.outs: dict[str, dict] = {}  # source -> its sender's map of built links
        # the network version under which unbuilt links may send (-2: they may not now)
        self._unbuilt_version = -2
        self._srcs: dict = {}         # node id -> (link-src key, node code)
        self._dsts: dict = {}         # node id -> (state, link-dst key, packed dst code)
        self._default: Profile | None = None   # the profile of links with no override
        self.log = MessageLog()       # one row per message copy
        self.type_codes: dict = {}    # message class -> type code << TYPE_SHIFT
        self.type_names: dict = {}    # type name -> type code
        self.blocked: set = set()     # (src, dst) pairs a partition cuts now
        # delayed duplicates catching now: [fault, left to catch, draw delay, on_catch]
        # (while any is active every link takes the general path, which looks for them)
        self.catches: list = []
        self._unbuilt_update()

    def close(self) -> None:
        """Drop the links and the per-node maps (:meth:`Simulation.close`): links refer
        to node states, and the send paths to the links, so they form cycles.  The
        message columns stay as they are."""
        for link in self.links.values():
            link.unhook()
            link.dst_state = None
        for d in (self.links, self.fresh, self.outs, self._srcs, self._dsts):
            d.clear()
        self.catches.clear()

    # ------------------------------------------------------------------ links
    def link(self, src: str, dst: str) -> Link:
        """The link ``src → dst``, built on first use.

        Whoever calls this for a sender keeps the link in that sender's ``out`` map (as
        :meth:`fast_sender`'s closures, ``Context.send`` and ``Simulation.set_link`` do):
        the unbuilt path looks only there, so a built link missing from it would draw
        its stream again from its first unbuilt position.
        """
        self._current_default()  # settle unbuilt links first if the network changed
        pair = (src, dst)
        link = self.links.get(pair)
        if link is not None:
            return link
        net = self.network
        if pair in net._overrides:
            prof = Profile(net.link_config(src, dst))
        else:
            prof = self._default
        fresh = self.fresh.get(src)
        k = fresh.pop(dst, 0) if fresh else 0   # draws an unbuilt link already took
        return self._build(src, dst, prof, k)

    def _build(self, src: str, dst: str, prof: Profile, k: int) -> Link:
        """Build link ``src → dst`` with settings ``prof``, ``k`` draws into its stream."""
        d = self._dsts.get(dst)
        if d is None:
            d = self._node_dst(dst)
        dst_state, kd, dst_bits = d
        s = self._srcs.get(src)
        if s is None:
            s = self._node_src(src)
        link = Link()
        link.src, link.dst, link.dst_state, link.prof = src, dst, dst_state, prof
        link.key = s[1] | dst_bits
        link.x, link.k, link.mt, link.last, link.rate = s[0] ^ kd, k, None, 0.0, prof.rate
        if prof.full:
            link.bind(LinkStream(link.x, k))
        else:  # the link is its own stream while it draws from the counter
            link.rng, link.rand = link, link.random
            link.draw = prof.draw if prof.rate or prof.draw is not None else \
                prof.lat.sampler(link)
        pair = (src, dst)
        blocked = link.blocked = pair in self.blocked
        link.plain = self.fast and not (blocked or prof.special or self.catches
                                        or dst_state.cpu is not None)
        self.links[pair] = link
        return link

    def _current_default(self) -> Profile:
        """The settings of links without an override, for the network as it is now.

        When the network changed (a default set, or ``Network.set_link``) since links
        last sent unbuilt, each of those links is first built with the settings it drew
        under and put in its sender's ``out``: a built link keeps the settings it was
        built with, and a link that sent unbuilt counts as built at its first message.
        """
        net = self.network
        prof = self._default
        if prof is not None and prof.version == net._version:
            return prof
        if prof is not None:
            for src, fresh in self.fresh.items():
                out = self.outs.get(src)
                for dst, k in fresh.items():
                    link = self._build(src, dst, prof, k)
                    if out is not None:
                        out[dst] = link
                fresh.clear()
        prof = self._default = Profile(net.link_config(None, None), net._version)
        self._unbuilt_update()
        return prof

    def _unbuilt_update(self) -> None:
        """Whether links may send unbuilt now (see the module's description); after
        partitions or catches change, and each time the default settings are rebuilt."""
        prof = self._current_default()   # (if it rebuilds them, it calls this first)
        # exponential latency only: a link with a constant delay draws nothing, so it is
        # built at its first message and every later one takes the built fast path
        ok = (self.fast and not self.blocked and not self.catches and not prof.special
              and prof.rate > 0.0)
        self._unbuilt_version = prof.version if ok else -2

    def _node_src(self, src, st=None):
        st = self.states[src] if st is None else st
        if st.code >= CODE_LIMIT:
            raise ValueError(f"a simulation records at most {CODE_LIMIT:,} nodes")
        s = self._srcs[src] = (derive_seed(self.seed, "link-src", src), st.code)
        return s

    def _node_dst(self, dst):
        st = self.states.get(dst)
        if st is None:
            raise ValueError(f"dst {dst!r} is not a node of this simulation; nodes are "
                             f"{', '.join(self.states)}")
        if st.code >= CODE_LIMIT:
            raise ValueError(f"a simulation records at most {CODE_LIMIT:,} nodes")
        d = self._dsts[dst] = (st, derive_seed(self.seed, "link-dst", dst),
                               st.code << DST_SHIFT | DELIVERED << FATE_SHIFT)
        return d

    def reconfigure(self, src: str, dst: str) -> Link | None:
        """Rebuild link ``src → dst`` after its settings changed, keeping its random stream
        (at its position) and FIFO bound; returns the new link (``None`` if it was never
        built: a link that has not sent, or one still sending unbuilt under unchanged
        network settings, takes the new settings when it is next used)."""
        self._current_default()  # a changed network first settles the unbuilt links
        old = self.links.pop((src, dst), None)
        if old is None:
            return None
        new = self.link(src, dst)
        new.last, new.k, new.mt = old.last, old.k, old.mt
        if new.prof.full or isinstance(old.rng, LinkStream):
            new.bind(old.stream())
        elif old.mt is not None:
            new.bind(old.mt)
        else:
            new.bind(new)
        out = self.outs.get(src)
        if out is not None:   # the sender keeps its built links: point it at the new one
            out[dst] = new
        # entries already in the heap still point at the old link object: it keeps src and
        # dst_state, which is all a delivery needs; its stream moved to the new link
        old.unhook()
        return new

    def set_blocked(self, pairs: set) -> None:
        """Cut exactly the ``(src, dst)`` pairs in ``pairs`` (the partitions in force)."""
        self.blocked = pairs
        fast = self.fast and not self.catches
        for pair, link in self.links.items():
            link.blocked = pair in pairs
            link.refresh(fast)
        self._unbuilt_update()

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
        self._unbuilt_update()

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

    def fast_sender(self, src: str, out: dict, state=None):
        """``send(dst, msg)`` for node ``src``, as a closure over what it needs.

        The hot path of every simulation: its state lives in cells, which are cheaper to
        read than attributes.  Behaviour is exactly :meth:`send`'s.  ``out`` holds the
        links ``src`` built (destination → :class:`Link`); a link not built yet sends
        from its entry in ``self.fresh[src]`` while it may (see the module's description).
        ``state`` is the node state of ``src`` (needed when it is not in ``states`` yet).
        """
        out_get = out.get
        clock = self.clock
        heap = clock.heap
        nowq_append = clock.nowq.append
        seq = clock.seq
        make_link = self.link
        slow = self.send
        wire = self
        net = self.network
        overrides = net._overrides
        self.outs[src] = out
        fresh = self.fresh.setdefault(src, {})
        fresh_get = fresh.get
        dsts_get = self._dsts.get
        node_dst = self._node_dst
        s = self._srcs.get(src)
        if s is None:
            s = self._node_src(src, state)
        ks = s[0]

        record = self.record
        type_code = self.type_codes.get
        slow_code = self.type_code
        log_ = self.log
        row = log_.row
        # the row columns' counter and views (see MessageLog): replaced when they grow
        rows, mq, ms, md = log_.rows, log_.mq, log_.ms, log_.md
        src_bits = s[1]

        def unbuilt(dst, msg) -> bool:
            """Send unrecorded on the unbuilt link to ``dst`` if it may (True), else False.
            (The recording sender below does the same inline, with the row.)"""
            d = dsts_get(dst) or node_dst(dst)
            st = d[0]
            k = fresh_get(dst, 0)
            if (k >= COUNTER_DRAWS or st.cpu is not None
                    or (overrides and (src, dst) in overrides)):
                return False
            fresh[dst] = k + 1  # Link.random's counter draw and the exponential, inlined
            z = ((ks ^ d[1]) + GAMMAS[k]) & MASK
            z = ((z ^ (z >> 30)) * MIX1) & MASK
            z = ((z ^ (z >> 27)) * MIX2) & MASK
            t = clock.now - log(1.0 - ((z ^ (z >> 31)) >> 11) * UNIT) / wire._default.rate
            heappush(heap, (t, next(seq), UNBUILT, -1, msg, (src, st)))
            return True

        if not record:
            def send_unrecorded(dst, msg):
                link = out_get(dst)
                if link is None:
                    if net._version == wire._unbuilt_version and unbuilt(dst, msg):
                        return
                    link = out[dst] = make_link(src, dst)
                if link.plain:
                    rate = link.rate
                    if rate:  # exponential latency, inlined: what random.expovariate computes
                        heappush(heap, (clock.now - log(1.0 - link.rand()) / rate, next(seq),
                                        0, -1, msg, link))
                    else:
                        d = link.draw()
                        if d:
                            heappush(heap, (clock.now + d, next(seq), 0, -1, msg, link))
                        else:  # due now: the scheduler's FIFO of events due now
                            nowq_append((clock.now, next(seq), 0, -1, msg, link))
                else:
                    slow(link, msg)

            return send_unrecorded

        def send(dst, msg):
            nonlocal rows, mq, ms, md
            link = out_get(dst)
            if link is None:
                if net._version == wire._unbuilt_version:  # unbuilt(), inline: a call fewer
                    d = dsts_get(dst) or node_dst(dst)
                    st = d[0]
                    k = fresh_get(dst, 0)
                    if (k < COUNTER_DRAWS and st.cpu is None
                            and not (overrides and (src, dst) in overrides)):
                        fresh[dst] = k + 1  # Link.random's counter draw and the exponential
                        z = ((ks ^ d[1]) + GAMMAS[k]) & MASK
                        z = ((z ^ (z >> 30)) * MIX1) & MASK
                        z = ((z ^ (z >> 27)) * MIX2) & MASK
                        now = clock.now
                        t = now - log(1.0 - ((z ^ (z >> 31)) >> 11) * UNIT) / wire._default.rate
                        code = type_code(msg.__class__)
                        if code is None:
                            code = slow_code(msg)
                        i = next(rows)
                        try:
                            mq[i] = src_bits | d[2] | code
                        except (IndexError, ValueError):  # no room, or views released
                            i, rows, mq, ms, md = row(i, mq)
                            mq[i] = src_bits | d[2] | code
                        ms[i] = now
                        md[i] = t
                        heappush(heap, (t, next(seq), UNBUILT, i, msg, (src, st)))
                        return
                link = out[dst] = make_link(src, dst)
            if link.plain:
                code = type_code(msg.__class__)
                if code is None:
                    code = slow_code(msg)
                now = clock.now
                rate = link.rate
                # the row's fate is "delivered" (in link.key) unless something intervenes
                i = next(rows)
                try:
                    mq[i] = link.key | code
                except (IndexError, ValueError):  # no room, or views released: see row()
                    i, rows, mq, ms, md = row(i, mq)
                    mq[i] = link.key | code
                ms[i] = now
                if rate:  # exponential latency, inlined: what random.expovariate computes
                    t = now - log(1.0 - link.rand()) / rate
                    md[i] = t
                    heappush(heap, (t, next(seq), 0, i, msg, link))
                else:
                    t = now + link.draw()
                    md[i] = t
                    if t == now:  # due now: the scheduler's FIFO of events due now
                        nowq_append((t, next(seq), 0, i, msg, link))
                    else:
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
        prof = link.prof
        if prof.drop and link.rand() < prof.drop:
            if record:
                log_.append(link.key, code, LOSS, now, NaN)
        else:
            self._put_on_wire(link, code, msg, now)
        if prof.dup and link.rand() < prof.dup:
            i = self._put_on_wire(link, code, msg, now)
            if record:
                log_.dup_rows.append(i)
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
                i = log_.append(link.key, code, DELIVERED, now, t)
                log_.dup_rows.append(i)
            clock = self.clock
            kind = DELIVER if link.dst_state.cpu is None else ARRIVE
            heappush(clock.heap, (t, next(clock.seq), kind, i, msg, link))
            catch[3](link, name, now, t)

    def _put_on_wire(self, link, code, msg, now):
        if link.rate:  # the same draw as the fast path
            t = now - log(1.0 - link.rand()) / link.rate
        else:
            t = now + link.draw()
        if link.prof.fifo:
            t = max(t, link.last)
            link.last = t
        # the heap entry carries the row index, -1 when nothing is recorded
        i = self.log.append(link.key, code, DELIVERED, now, t) if self.record else -1
        clock = self.clock
        kind = DELIVER if link.dst_state.cpu is None else ARRIVE
        heappush(clock.heap, (t, next(clock.seq), kind, i, msg, link))
        return i
