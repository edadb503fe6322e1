"""A recording context: drive one node by hand and see exactly what it asked for.

"One message in, exact effects out": a unit test builds a node, hands it a
:class:`RecordingContext`, calls one handler, and compares :attr:`RecordingContext.effects`
with the list it expects.  Nothing is sent anywhere and no timer fires; the context only
records, in order, ``Send``, ``SetTimer``, ``CancelTimer``, ``Emit``, ``Invoke`` and
``Complete`` effects.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, NamedTuple

from .._validate import check_int, check_number, check_range

__all__ = ["RecordingContext", "Send", "SetTimer", "CancelTimer", "Emit", "Invoke", "Complete",
           "table_digest", "run_digests"]


class Send(NamedTuple):
    dst: str
    msg: Any


class SetTimer(NamedTuple):
    name: str
    delay: Any  # the number or (low, high) range exactly as the node gave it


class CancelTimer(NamedTuple):
    name: str


class Emit(NamedTuple):
    kind: str
    fields: dict


class Invoke(NamedTuple):
    op_id: int
    f: str
    key: Any
    value: Any


class Complete(NamedTuple):
    op_id: int
    status: str
    result: Any


class RecordingContext:
    """A stand-in for the simulator's context that records every effect.

    Parameters
    ----------
    id : str
        The node id the handler sees as ``ctx.id``.
    now : float
        The local clock; set ``ctx.now`` to move time.
    disk : dict, optional
        Durable storage to start from (kept by reference, so a test can inspect it).
    seed : int
        Seed of ``ctx.rng``.

    Examples
    --------
    >>> from dsalgo import sim
    >>> class Echo(sim.Node):
    ...     def on_message(self, ctx, src, msg):
    ...         ctx.send(src, msg)
    ...         ctx.set_timer("idle", (1.0, 2.0))
    >>> ctx = sim.RecordingContext("n1")
    >>> Echo().on_message(ctx, "n2", "hi")
    >>> ctx.take()
    [Send(dst='n2', msg='hi'), SetTimer(name='idle', delay=(1.0, 2.0))]
    >>> ctx.effects
    []
    """

    def __init__(self, id: str = "n1", *, now: float = 0.0, disk: dict | None = None,
                 seed: int = 0):
        if not isinstance(id, str):
            raise TypeError(f"id must be a node id (str); got {id!r}")
        self.id = id
        self.now = check_number("now", now)
        self.disk = {} if disk is None else disk
        self.rng = random.Random(check_int("seed", seed))
        self.effects: list = []
        self.timers: dict[str, Any] = {}
        self._next_op = 0

    def send(self, dst, msg):
        self.effects.append(Send(dst, msg))

    def broadcast(self, dsts, msg):
        for d in dsts:
            self.send(d, msg)

    def set_timer(self, name, delay):
        if isinstance(delay, tuple):
            check_range("delay", delay)
        else:
            check_number("delay", delay, low=0.0)
        self.timers[name] = delay
        self.effects.append(SetTimer(name, delay))

    def cancel_timer(self, name):
        self.timers.pop(name, None)
        self.effects.append(CancelTimer(name))

    def timer_set(self, name) -> bool:
        return name in self.timers

    def emit(self, kind, **fields):
        self.effects.append(Emit(kind, fields))

    #: no storage model here: every write is durable at once
    durable_at_once = True

    def sync(self, then=None, *, send=()):
        """As :meth:`Context.sync` without a storage model: the writes are durable at once,
        so the sends are recorded and ``then()`` is called here."""
        if then is not None and not callable(then):
            raise TypeError(f"then must be a callable of no arguments (or None); got {then!r}")
        if type(send) is not list and type(send) is not tuple:
            raise TypeError(f"send must be a list of (dst, msg) pairs; got {send!r}")
        for dst, msg in send:
            self.send(dst, msg)
        if then is not None:
            then()

    @property
    def next_op_id(self) -> int:
        return self._next_op

    def invoke(self, f, key=None, value=None, *, process=None):
        op_id = self._next_op
        self._next_op += 1
        self.effects.append(Invoke(op_id, f, key, value))
        return op_id

    def complete(self, op_id, status, result=None):
        self.effects.append(Complete(op_id, status, result))

    def take(self) -> list:
        """Return the effects recorded so far and start a fresh list."""
        out, self.effects = self.effects, []
        return out

    def sent(self) -> list:
        """Just the ``Send`` effects so far (without clearing)."""
        return [e for e in self.effects if isinstance(e, Send)]

    def fire(self, node, name: str) -> list:
        """Fire timer ``name`` on ``node`` (as the simulator would) and return the effects."""
        if name not in self.timers:
            raise ValueError(f"timer {name!r} is not set; set timers are {sorted(self.timers)}")
        del self.timers[name]
        self.take()
        node.on_timer(self, name)
        return self.take()


def table_digest(df, length: int | None = 16) -> str:
    """A hash of one table's dtypes and values (floats written exactly), for pinning.

    Two tables have the same digest exactly when their columns, dtypes and values print the
    same; a changed random stream, dtype or column changes it.  Tests pin a run's tables with
    it ("same seed, same tables"; "defaults leave the tables as they were").

    Parameters
    ----------
    df : pandas.DataFrame
    length : int or None
        Hex digits kept (``None``: the whole SHA-256).

    Examples
    --------
    >>> import pandas as pd
    >>> table_digest(pd.DataFrame({"t": [0.1]})) == table_digest(pd.DataFrame({"t": [0.1]}))
    True
    >>> table_digest(pd.DataFrame({"t": [0.1]})) == table_digest(pd.DataFrame({"t": [0.2]}))
    False
    """
    text = str(list(df.dtypes.astype(str).items())) + df.to_csv(float_format=repr)
    h = hashlib.sha256(text.encode()).hexdigest()
    return h if length is None else h[:length]


def run_digests(run, length: int | None = 16) -> tuple:
    """:func:`table_digest` of a run's four tables (messages, events, history, faults).

    Examples
    --------
    >>> from dsalgo import raft
    >>> a, b = (raft.simulate(3, seed=1, duration=0.5) for _ in range(2))
    >>> run_digests(a) == run_digests(b)
    True
    """
    from .run import TABLES
    return tuple(table_digest(getattr(run, t), length) for t in TABLES)
