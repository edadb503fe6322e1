"""The acceptor: the only Paxos role with durable state, shared by every variant.

Lamport, "Paxos Made Simple" (2001), §2.2, in its one-slot-per-entry form of §3 and of
van Renesse & Altinbuken, "Paxos Made Moderately Complex" (2015), §3 ("Acceptor"):

* on ``Prepare(b, s)``: if ``b`` is at least the ballot promised, promise ``b`` and answer
  with every proposal accepted at slots ``>= s``; otherwise refuse with a ``Nack``;
* on ``Accept(b, s, v)``: if ``b`` is at least the ballot promised, accept ``(b, v)`` at
  slot ``s``; otherwise refuse.

Both rules compare with ``>=`` rather than ``>``: a ballot belongs to one proposer, so a
second ``Prepare`` with the promised ballot is a retransmission (or a network duplicate),
and answering it again is harmless.  This is also why ``duplicate_ballots`` is unsafe:
two proposers sharing a ballot both pass the test.

The promise and the accepted proposals live in ``ctx.disk``: an acceptor that forgot its
promise after a restart could accept a lower ballot and let two values be chosen.  The
``forgetful`` flag keeps them in memory instead (the ``acceptor_forgets_promise`` bug).

Sans-I/O: each method takes a message and returns the reply; the node sends it.  The
one exception is observation: given the node's ``ctx``, ``on_accept`` emits an
``accepted`` event (slot, ballot, value) for every proposal it accepts, so the checker
can tell which values a phase-2 quorum *chose* -- including ones no learner ever heard
of, such as the votes a preempted proposer or a deposed leader stops counting.
"""

from __future__ import annotations

from .messages import ZERO_BALLOT, Accepted, Nack, Promise

__all__ = ["Acceptor"]


class Acceptor:
    """Acceptor state over a dict (``ctx.disk``, or a volatile dict when forgetful).

    Examples
    --------
    >>> from dsalgo.paxos.messages import Accept, Prepare
    >>> a = Acceptor({})
    >>> a.on_prepare(Prepare((1, "n1"), 0))
    Promise(ballot=(1, 'n1'), accepted=())
    >>> a.on_accept(Accept((1, "n1"), 0, "x"))
    Accepted(ballot=(1, 'n1'), slot=0)
    >>> a.on_prepare(Prepare((2, "n2"), 0))
    Promise(ballot=(2, 'n2'), accepted=((0, (1, 'n1'), 'x'),))
    >>> a.on_accept(Accept((1, "n1"), 1, "y"))
    Nack(ballot=(1, 'n1'), promised=(2, 'n2'))

    With a context, an accepted proposal is also recorded as an event:

    >>> from dsalgo import sim
    >>> ctx = sim.RecordingContext("n1")
    >>> a.on_accept(Accept((2, "n2"), 0, "z"), ctx)
    Accepted(ballot=(2, 'n2'), slot=0)
    >>> ctx.take()
    [Emit(kind='accepted', fields={'slot': 0, 'ballot': (2, 'n2'), 'value': 'z'})]

    Parameters
    ----------
    store : dict
        Where the promise and the accepted proposals live.
    label : callable, optional
        Maps an accepted value to what the ``accepted`` event records, so that it matches
        the ``value`` of the node's ``decided`` events (Multi-Paxos records a command's
        ``op_id``).  Default: the value itself.
    bugs : set of str
        Deliberate defects of :data:`dsalgo.paxos.BUGS` the acceptor plays:
        ``"accept_below_promise"`` (an Accept is compared with the highest ballot
        accepted instead of the promise) and ``"reply_before_write"`` (writes wait in
        ``pending`` until :meth:`flush`, which the node calls after replying).
    """

    __slots__ = ("bugs", "label", "pending", "store")

    def __init__(self, store: dict, label=None, bugs=frozenset()):
        self.store = store
        self.label = label
        self.bugs = frozenset(bugs)
        # BUG reply_before_write: writes wait here until the node has replied (flush)
        self.pending = [] if "reply_before_write" in self.bugs else None
        store.setdefault("promised", ZERO_BALLOT)
        store.setdefault("accepted", {})  # slot -> (ballot, value)

    @property
    def promised(self) -> tuple:
        return self.store["promised"]

    def on_prepare(self, msg):
        store = self.store
        if msg.ballot >= store["promised"]:
            # The promise must be durable before it is sent: it is what stops an older
            # proposer from getting a value chosen behind the new one's back.
            accepted = store["accepted"]
            entries = tuple((s, b, v) for s, (b, v) in accepted.items() if s >= msg.slot)
            self._write(msg.ballot, None, None)
            return Promise(msg.ballot, entries)
        return Nack(msg.ballot, store["promised"])

    def on_accept(self, msg, ctx=None):
        """Accept ``msg`` unless a higher ballot was promised; emit ``accepted`` on ``ctx``."""
        store = self.store
        promised = store["promised"]
        bar = promised
        if "accept_below_promise" in self.bugs:
            # BUG: compare with the highest ballot accepted, not with the promise
            bar = max((b for b, _v in store["accepted"].values()), default=ZERO_BALLOT)
        if msg.ballot >= bar:
            self._write(max(promised, msg.ballot), msg.slot, (msg.ballot, msg.value))
            if ctx is not None:
                # Emitted on every acceptance, retransmissions included: the checker
                # takes the set of acceptors per (slot, ballot, value), so repeats are
                # harmless, and a missing one could hide a chosen value.
                value = msg.value if self.label is None else self.label(msg.value)
                ctx.emit("accepted", slot=msg.slot, ballot=msg.ballot, value=value)
            return Accepted(msg.ballot, msg.slot)
        return Nack(msg.ballot, promised)

    def _write(self, promised, slot, entry):
        if self.pending is not None:
            self.pending.append((promised, slot, entry))
            return
        store = self.store
        store["promised"] = promised
        if slot is not None:
            store["accepted"][slot] = entry

    def flush(self) -> None:
        """Make the writes of the ``reply_before_write`` bug (no effect otherwise)."""
        pending, self.pending = self.pending, []
        store = self.store
        for promised, slot, entry in pending or ():
            store["promised"] = max(store["promised"], promised)
            if slot is not None:
                store["accepted"][slot] = entry
        if pending is None:
            self.pending = None


class DurableReplies:
    """What both Paxos nodes share about answering as an acceptor: a promise or an
    acceptance goes out only once the acceptor state it reports on is durable (Lamport's
    acceptors "remember" before they answer), and a message to oneself is handled without a
    network hop.  The node provides ``instant`` (no storage model), ``bugs``, ``acceptor``
    and ``_record_accept(ctx, msg)``.

    Each answer is recorded as it goes out: ``accepted`` events (by ``_record_accept``)
    and ``promise`` events (``ballot``), so the checker can follow every acceptor's
    ballots.
    """

    def _durable_reply(self, ctx, dst, reply, accept=None):
        """Answer ``dst`` once durable (and record the acceptance ``accept`` then); at once
        without a storage model — or, with the ``reply_before_sync`` bug, before the write
        is durable; with the ``reply_before_write`` bug, before the write is even made."""
        if "reply_before_write" in self.bugs:
            self._record(ctx, reply, accept)
            self._reply(ctx, dst, reply)
            self.acceptor.flush()    # the write comes after the answer (the bug)
            if not self.instant:
                ctx.sync()
            return
        if self.instant or "reply_before_sync" in self.bugs:
            self._record(ctx, reply, accept)
            self._reply(ctx, dst, reply)
            if not self.instant:
                ctx.sync()   # the write still happens, after the answer (the bug)
            return

        def durable():
            self._record(ctx, reply, accept)
            self._reply(ctx, dst, reply)

        ctx.sync(then=durable)

    def _record(self, ctx, reply, accept):
        if reply.__class__ is Promise:
            ctx.emit("promise", ballot=reply.ballot)
        else:
            self._record_accept(ctx, accept)

    def _reply(self, ctx, dst, msg):
        if dst == ctx.id:
            self.on_message(ctx, dst, msg)
        else:
            ctx.send(dst, msg)
