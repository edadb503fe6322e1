"""Clients and workloads: operations issued open- or closed-loop, recorded as intervals.

A :class:`Workload` says *what* to ask (``put``/``get``/``cas`` on a few keys); a
:class:`Client` node says *when* (closed loop: a fixed number outstanding; open loop:
Poisson arrivals at a rate) and records each operation in ``run.history`` with
:meth:`Context.invoke` / :meth:`Context.complete`.  A protocol's own client subclasses
:class:`Client` and implements :meth:`Client.submit` (send the request; retry as the
protocol likes) and calls :meth:`Client.finish` when the answer is in.  Neither knows
which faults are injected.

An operation whose answer never came (timeout, or the client crashed) stays open with
status ``info``: it may or may not have taken effect.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._validate import check_choice, check_int, check_number
from .node import Node

__all__ = ["Client", "KVWorkload", "Workload"]


class Workload:
    """What a client asks for.  Subclasses implement :meth:`next_op`."""

    def next_op(self, rng, op_id: int, seen: dict) -> tuple:
        """Return ``(f, key, value)`` for the next operation.

        ``rng`` is the client's random stream, ``op_id`` the id the history will give the
        operation (unique in the run, handy as a unique value to write) and ``seen`` the
        last value this client saw per key.
        """
        raise NotImplementedError


class KVWorkload(Workload):
    """Reads, writes and compare-and-sets on ``keys`` integer keys.

    Writes carry unique values (the operation id), which makes histories easy to check.
    A ``cas`` is ``[old, new]`` with ``old`` the last value this client saw for the key
    (``None`` if it saw none).

    Parameters
    ----------
    keys : int
        Number of keys, named ``0 … keys-1``.
    mix : dict
        Relative weights of ``"put"``, ``"get"`` and ``"cas"``.

    Examples
    --------
    >>> import random
    >>> KVWorkload(keys=1, mix={"put": 1}).next_op(random.Random(0), 7, {})
    ('put', 0, 7)
    """

    def __init__(self, keys: int = 5, mix: Mapping[str, float] | None = None):
        self.keys = check_int("keys", keys, low=1)
        mix = {"put": 0.45, "get": 0.45, "cas": 0.10} if mix is None else dict(mix)
        for f, w in mix.items():
            check_choice("mix key", f, ("put", "get", "cas"))
            check_number(f"mix[{f!r}]", w, low=0.0)
        if not mix or sum(mix.values()) <= 0:
            raise ValueError(f"mix must give a positive weight to at least one of put, get, "
                             f"cas; got {mix!r}")
        self.mix = mix
        self._fs = list(mix)
        self._ws = [mix[f] for f in self._fs]

    def next_op(self, rng, op_id, seen):
        f = rng.choices(self._fs, self._ws)[0] if len(self._fs) > 1 else self._fs[0]
        key = rng.randrange(self.keys)
        if f == "put":
            return f, key, op_id
        if f == "cas":
            return f, key, [seen.get(key), op_id]
        return f, key, None

    def __repr__(self):
        return f"KVWorkload(keys={self.keys}, mix={self.mix!r})"


class Client(Node):
    """A workload client.  Subclass it and implement :meth:`submit`.

    Parameters
    ----------
    workload : Workload
        What to ask.
    mode : {"closed", "open"}
        Closed loop keeps ``concurrency`` operations outstanding, each issued ``think``
        seconds after the last finished; open loop issues operations at Poisson ``rate``
        per second whatever is outstanding.
    concurrency : int
        Outstanding operations in closed loop.  With more than one, each slot records as its
        own process ``"c1/0"``, ``"c1/1"`` … so that a process is always sequential.
    rate : float
        Arrival rate (operations per second) in open loop.
    timeout : float
        Seconds after which an unanswered operation is given up as ``info`` (see
        :meth:`on_timeout`).
    think : float
        Pause between a completion and the next invocation in closed loop, seconds.
    start, stop : float
        Local times to start and to stop issuing operations.
    max_ops : int, optional
        Stop after this many operations.

    Examples
    --------
    >>> from dsalgo import sim
    >>> class Store(sim.Node):                 # a single server that applies every op
    ...     def on_start(self, ctx): self.data = {}
    ...     def on_message(self, ctx, src, msg):
    ...         op_id, f, key, value = msg
    ...         if f == "put": self.data[key] = value
    ...         ctx.send(src, (op_id, self.data.get(key)))
    >>> class StoreClient(sim.Client):
    ...     def submit(self, ctx, op_id, f, key, value):
    ...         ctx.send("n1", (op_id, f, key, value))
    ...     def on_message(self, ctx, src, msg):
    ...         op_id, result = msg
    ...         self.finish(ctx, op_id, "ok", result)
    >>> s = sim.Simulation(seed=3)
    >>> s.add_node("n1", Store)
    >>> s.add_node("c1", lambda: StoreClient(sim.KVWorkload(keys=2), max_ops=4), role="client")
    >>> run = s.run(until=1.0)
    >>> list(run.history["status"])
    ['ok', 'ok', 'ok', 'ok']
    """

    def __init__(self, workload: Workload, *, mode: str = "closed", concurrency: int = 1,
                 rate: float | None = None, timeout: float = 1.0, think: float = 0.0,
                 start: float = 0.0, stop: float | None = None, max_ops: int | None = None):
        if not isinstance(workload, Workload):
            raise TypeError(f"workload must be a dsalgo.sim.Workload; got {workload!r}")
        self.workload = workload
        self.mode = check_choice("mode", mode, ("closed", "open"))
        self.concurrency = check_int("concurrency", concurrency, low=1)
        if mode == "open":
            if rate is None:
                raise ValueError("rate must be given (operations per second) when mode='open'")
            self.rate = check_number("rate", rate, low=0.0, low_open=True)
        else:
            self.rate = None
        self.timeout = check_number("timeout", timeout, low=0.0, low_open=True)
        self.think = check_number("think", think, low=0.0)
        self.start = check_number("start", start, low=0.0)
        self.stop = None if stop is None else check_number("stop", stop, low=0.0)
        self.max_ops = None if max_ops is None else check_int("max_ops", max_ops, low=0)
        self.issued = 0
        self.outstanding: dict[int, dict] = {}
        self.seen: dict = {}

    # -------------------------------------------------------------- to implement
    def submit(self, ctx, op_id: int, f: str, key, value) -> None:
        """Start operation ``op_id``: send the request.  Called once per operation."""
        raise NotImplementedError

    def on_timeout(self, ctx, op_id: int) -> None:
        """The operation's ``timeout`` passed unanswered: by default record it as ``info``."""
        self.finish(ctx, op_id, "info")

    def on_client_timer(self, ctx, name: str) -> None:
        """Timers of the subclass's own (any name not used by :class:`Client`)."""

    # -------------------------------------------------------------- machinery
    def on_start(self, ctx):
        self.outstanding = {}
        if self.mode == "closed":
            for slot in range(self.concurrency):
                ctx.set_timer(f"next:{slot}", max(0.0, self.start - ctx.now))
        else:
            first = max(0.0, self.start - ctx.now) + ctx.rng.expovariate(self.rate)
            ctx.set_timer("arrival", first)

    def on_timer(self, ctx, name):
        if name.startswith("op:"):
            op_id = int(name[3:])
            if op_id in self.outstanding:
                self.on_timeout(ctx, op_id)
        elif name.startswith("next:"):
            self._issue(ctx, int(name[5:]))
        elif name == "arrival":
            if self._issue(ctx, None):
                ctx.set_timer("arrival", ctx.rng.expovariate(self.rate))
        else:
            self.on_client_timer(ctx, name)

    def _may_issue(self, ctx) -> bool:
        if self.max_ops is not None and self.issued >= self.max_ops:
            return False
        return self.stop is None or ctx.now < self.stop

    def _issue(self, ctx, slot) -> bool:
        if not self._may_issue(ctx):
            return False
        self.issued += 1
        process = ctx.id if slot is None or self.concurrency == 1 else f"{ctx.id}/{slot}"
        f, key, value = self.workload.next_op(ctx.rng, ctx.next_op_id, self.seen)
        op_id = ctx.invoke(f, key, value, process=process)
        self.outstanding[op_id] = {"slot": slot, "f": f, "key": key, "value": value,
                                   "t_invoke": ctx.now}
        ctx.set_timer(f"op:{op_id}", self.timeout)
        self.submit(ctx, op_id, f, key, value)
        return True

    def finish(self, ctx, op_id: int, status: str, result=None) -> None:
        """Record the end of ``op_id`` (``"ok"``, ``"fail"`` or ``"info"``) and go on.

        Finishing an operation that is no longer outstanding (a late duplicate answer) is
        ignored.
        """
        op = self.outstanding.pop(op_id, None)
        if op is None:
            return
        ctx.cancel_timer(f"op:{op_id}")
        ctx.complete(op_id, status, result)
        if status == "ok":
            if op["f"] == "get":
                self.seen[op["key"]] = result
            elif op["f"] == "put":
                self.seen[op["key"]] = op["value"]
            elif op["f"] == "cas" and result is not False:
                self.seen[op["key"]] = op["value"][1]
        if self.mode == "closed":
            ctx.set_timer(f"next:{op['slot']}", self.think)
