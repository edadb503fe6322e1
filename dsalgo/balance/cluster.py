"""The serving cluster as simulator nodes: a client, balancers and backends.

The model (Mitzenmacher 2001, §2; Harchol-Balter 2013, ch. 24 on server farms):

- A **client** ``c1`` issues ``requests`` requests (or, with ``requests=None``, requests
  until the run ends) as a Poisson stream (open loop: it never waits for answers) and hands each to a balancer chosen uniformly at random.  It records
  each request in ``run.history`` from arrival (``t_invoke``) to the response reaching it
  (``t_complete``, with ``result`` the backend that served it).
- A **balancer** ``lb1…`` asks its :class:`~dsalgo.balance.policies.Policy` for a backend
  and forwards the request.  It counts its own outstanding requests per backend (from
  ``Done`` notices), keeps the queue lengths backends report (``Load``), and optionally
  probes backends every ``health_interval`` seconds, taking out of rotation any that did
  not answer the previous probe.
- A **backend** ``n1…`` is a single FIFO server: one request in service, the rest
  waiting.  A request's service time is drawn from the backend's ``service`` model and
  divided by its ``speed``.  It answers the client directly (direct server return), tells
  the dispatching balancer the request is done when the policy needs it, and reports its
  queue length (waiting plus in service) to every balancer on each change when the policy
  uses load information.  It emits a ``start`` event when service begins, with the
  request's ``op``, the seconds it ``queued`` at this backend and its ``service`` time.

Stale information is a delay on the backend→balancer links: a balancer sees each queue
length (and each completion) ``info_delay`` seconds late, Mitzenmacher's "continuous
update" model of old information ("How Useful Is Old Information?", IEEE TPDS 11(1), 2000).

Planted bugs (``bugs``, see :data:`~dsalgo.balance.BUGS`): ``lifo_service`` makes a
backend serve the newest waiting request next; ``no_drain_on_done`` makes a balancer place
held requests only when a new one arrives.

Simplified: backends have no request timeouts, no retries, no admission control; a crash
loses every request queued at the backend (the client, if given a ``timeout``, records
them as ``info``); a crashed balancer loses the requests it was holding.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from math import log
from typing import NamedTuple

from .. import sim
from .policies import Policy, View

__all__ = [
    "Backend",
    "Balancer",
    "Client",
    "Done",
    "Load",
    "Ping",
    "Pong",
    "Request",
    "Response",
]


class Request(NamedTuple):
    """A request: its history ``op_id``, its ``key`` (for hashing) and the ``client`` to answer."""
    op_id: int
    key: object
    client: str


class Response(NamedTuple):
    """The answer, sent by the ``backend`` straight to the client."""
    op_id: int
    backend: str


class Done(NamedTuple):
    """Backend → dispatching balancer: ``op_id`` finished; ``queue_length`` now."""
    op_id: int
    queue_length: int


class Load(NamedTuple):
    """Backend → every balancer: my queue length (waiting plus in service) is now this."""
    queue_length: int


class Ping(NamedTuple):
    """Balancer → backend health probe."""
    seq: int


class Pong(NamedTuple):
    """Backend → balancer answer to :class:`Ping` ``seq``."""
    seq: int


# Messages are named tuples; the hot paths build them with ``tuple.__new__`` directly, which
# skips the Python-level ``__new__`` a named tuple class has (the same object results).
_tuple = tuple.__new__


def _sampler(service, rng):
    """A no-argument draw from ``service`` through ``rng``: ``service.sampler(rng)``, with
    the exponential's draw inlined (what ``random.expovariate`` computes, so the same
    numbers)."""
    if type(service) is sim.Exponential:
        rate = 1.0 / service.mean
        rand = rng.random

        def draw():
            return -log(1.0 - rand()) / rate

        return draw
    return service.sampler(rng)


class Backend(sim.Node):
    """One FIFO server.

    Parameters
    ----------
    service : dsalgo.sim.Latency
        Service-time model (seconds at speed 1).
    speed : float
        Service rate multiplier: a request takes ``service.sample() / speed`` seconds.
    report_to : sequence of str
        Balancers to send a :class:`Load` report to on every queue change.
    notify_done : bool
        Send :class:`Done` to the dispatching balancer when a request finishes.
    bugs : collection of str
        Planted bugs (``lifo_service`` is the one a backend knows).

    Examples
    --------
    >>> from dsalgo import sim
    >>> b, ctx = Backend(sim.Constant(0.5), speed=2.0, notify_done=True), sim.RecordingContext("n1")
    >>> b.on_start(ctx)
    >>> b.on_message(ctx, "lb1", Request(0, "k", "c1"))
    >>> ctx.take()
    [Emit(kind='start', fields={'op': 0, 'queued': 0.0, 'service': 0.25}), SetTimer(name='service', delay=0.25)]
    >>> ctx.fire(b, "service")
    [Send(dst='c1', msg=Response(op_id=0, backend='n1')), Send(dst='lb1', msg=Done(op_id=0, queue_length=0))]
    """

    def __init__(self, service, speed: float = 1.0, report_to=(), notify_done: bool = False,
                 bugs=frozenset()):
        self.service = service
        self.speed = speed
        self.report_to = tuple(report_to)
        self.notify_done = notify_done
        self.lifo = "lifo_service" in bugs

    def on_start(self, ctx):
        # (request, balancer, arrival time or None if served on arrival); lost in a crash
        self.queue = deque()
        self._draw = _sampler(self.service, ctx.rng)

    def on_message(self, ctx, src, msg):
        if type(msg) is Request:
            queue = self.queue
            if queue:
                queue.append((msg, src, ctx.now))
            else:  # idle: serve at once (what on_timer does for the next); the arrival
                queue.append((msg, src, None))  # time of the request in service is not read
                service = self._draw() / self.speed
                ctx.emit("start", op=msg[0], queued=0.0, service=service)
                ctx.set_timer("service", service)
            if self.report_to:
                self._report(ctx)
        elif type(msg) is Ping:
            ctx.send(src, Pong(msg.seq))

    def on_timer(self, ctx, name):
        queue = self.queue
        req, via, _ = queue.popleft()
        send = ctx.send
        send(req[2], _tuple(Response, (req[0], ctx.id)))
        if self.notify_done:
            send(via, _tuple(Done, (req[0], len(queue))))
        if queue:
            if self.lifo:
                queue.rotate(1)  # the bug: the newest waiting request jumps the line
            nxt, _, arrived = queue[0]
            service = self._draw() / self.speed
            ctx.emit("start", op=nxt[0], queued=ctx.now - arrived, service=service)
            ctx.set_timer("service", service)
        if self.report_to:
            self._report(ctx)

    def _report(self, ctx):
        report_to = self.report_to
        load = _tuple(Load, (len(self.queue),))
        if len(report_to) == 1:
            ctx.send(report_to[0], load)
        else:
            ctx.broadcast(report_to, load)


class Balancer(sim.Node):
    """Places each request with its policy; holds requests the policy will not place yet.

    Parameters
    ----------
    policy : Policy
        A fresh policy object (the balancer owns and resets it).
    backends : sequence of str
        Backend ids.
    speeds : dict of str to float, optional
        Relative speeds, handed to the policy.
    health_interval : float, optional
        Seconds between health probes; a backend that has not answered the previous probe
        when the next is due is taken out of rotation (event ``backend_down``) until it
        answers again (``backend_up``).  ``None``: no probes, every backend is always up.
    bugs : collection of str
        Planted bugs (``no_drain_on_done`` is the one a balancer knows).

    Examples
    --------
    >>> from dsalgo import sim
    >>> from dsalgo.balance.policies import RoundRobin
    >>> lb, ctx = Balancer(RoundRobin(), ["n1", "n2"]), sim.RecordingContext("lb1")
    >>> lb.on_start(ctx)
    >>> lb.on_message(ctx, "c1", Request(0, None, "c1"))
    >>> lb.on_message(ctx, "c1", Request(1, None, "c1"))
    >>> ctx.take()
    [Send(dst='n1', msg=Request(op_id=0, key=None, client='c1')), Send(dst='n2', msg=Request(op_id=1, key=None, client='c1'))]
    """

    def __init__(self, policy: Policy, backends, speeds=None, health_interval=None,
                 bugs=frozenset()):
        self.policy = policy
        self.backends = list(backends)
        self.speeds = speeds
        self.health_interval = health_interval
        self.drain_on_done = "no_drain_on_done" not in bugs

    def on_start(self, ctx):
        self.view = View(self.backends, self.speeds)
        self.policy.reset(self.view)
        self._choose = self.policy.choose
        self.held = deque()
        if self.health_interval is not None:
            self.probe = 0
            self.heard = set(self.backends)
            self._probe(ctx)

    def on_message(self, ctx, src, msg):
        kind = type(msg)
        if kind is Request:
            held = self.held
            if not held:
                view = self.view
                if view.up:
                    b = self._choose(ctx.rng, msg[1], view)
                    if b is not None:
                        view.outstanding[b] += 1
                        ctx.send(b, msg)
                        return
            held.append(msg)
            if not self.drain_on_done:
                self._drain(ctx)  # the bug's only chance to place what it holds
        elif kind is Done:
            view = self.view
            out = view.outstanding
            n = out.get(src, 0)
            if n > 0:  # zero after the backend was marked down
                out[src] = n - 1
            view.reported[src] = msg[1]
            held = self.held
            if held and self.drain_on_done:  # _drain, inlined: the central queue's hot path
                choose, rng = self._choose, ctx.rng
                while held and view.up:
                    req = held[0]
                    b = choose(rng, req[1], view)
                    if b is None:
                        break
                    out[b] += 1
                    ctx.send(b, req)
                    held.popleft()
        elif kind is Load:
            self.view.reported[src] = msg[0]
        elif kind is Pong:
            view = self.view
            if msg.seq == self.probe:
                self.heard.add(src)
            if src not in view.up:
                view.up = [b for b in self.backends if b in view.up or b == src]
                ctx.emit("backend_up", backend=src)
                if self.held:
                    self._drain(ctx)

    def on_timer(self, ctx, name):
        view = self.view
        for b in self.backends:
            if b not in self.heard and b in view.up:
                view.up = [x for x in view.up if x != b]
                view.outstanding[b] = 0  # its queue is presumed lost
                view.reported[b] = 0
                ctx.emit("backend_down", backend=b)
        self._probe(ctx)

    def _probe(self, ctx):
        self.probe += 1
        self.heard = set()
        ctx.broadcast(self.backends, Ping(self.probe))
        ctx.set_timer("health", self.health_interval)

    def _drain(self, ctx):
        """Place held requests, oldest first, until the policy holds one."""
        held, view, choose, rng = self.held, self.view, self._choose, ctx.rng
        while held and view.up:
            req = held[0]
            b = choose(rng, req[1], view)
            if b is None:
                return
            view.outstanding[b] += 1
            ctx.send(b, req)
            held.popleft()


class Client(sim.Node):
    """Open-loop Poisson source of ``requests`` requests at ``rate`` per second (``None``:
    no end).

    Parameters
    ----------
    rate : float
        Arrivals per second.
    requests : int
        How many to issue; after the last is answered (or timed out) the client emits a
        ``drained`` event.
    balancers : sequence of str
        Where to send requests (one chosen uniformly per request).
    keys : int
        Requests carry keys ``0 … keys-1``.
    key_cum_weights : sequence of float, optional
        Cumulative popularity of the keys (e.g. Zipf); uniform when omitted.
    timeout : float, optional
        Seconds after which an unanswered request is recorded as ``info``.

    Examples
    --------
    >>> from dsalgo import sim
    >>> c, ctx = Client(rate=2.0, requests=1, balancers=["lb1"], keys=1), sim.RecordingContext("c1")
    >>> c.on_start(ctx)
    >>> [type(e).__name__ for e in ctx.take()]
    ['SetTimer']
    >>> ctx.fire(c, "arrival")
    [Invoke(op_id=0, f='request', key=0, value=None), Send(dst='lb1', msg=Request(op_id=0, key=0, client='c1'))]
    >>> c.on_message(ctx, "n1", Response(0, "n1")); ctx.take()
    [Complete(op_id=0, status='ok', result='n1'), Emit(kind='drained', fields={})]
    """

    def __init__(self, rate: float, requests: int | None, balancers, keys: int = 1,
                 key_cum_weights=None, timeout=None):
        self.rate = rate
        self.requests = requests
        self.balancers = list(balancers)
        self.keys = keys
        self.key_cum_weights = key_cum_weights
        self.timeout = timeout

    def on_start(self, ctx):
        self.issued = 0
        self.outstanding = set()
        if self.requests is None or self.requests > 0:
            ctx.set_timer("arrival", ctx.rng.expovariate(self.rate))

    def _key(self, rng):
        cum = self.key_cum_weights
        if cum is None:
            return int(rng.random() * self.keys)
        return min(bisect_right(cum, rng.random() * cum[-1]), self.keys - 1)

    def on_timer(self, ctx, name):
        if name != "arrival":
            op_id = int(name[1:])  # "t<op_id>": a timed-out request
            if op_id in self.outstanding:
                self.outstanding.discard(op_id)
                ctx.complete(op_id, "info")
                self._check_drained(ctx)
            return
        rng = ctx.rng
        if self.key_cum_weights is None:
            key = int(rng.random() * self.keys)
        else:
            key = self._key(rng)
        op_id = ctx.invoke("request", key, None)
        self.outstanding.add(op_id)
        lbs = self.balancers
        lb = lbs[0] if len(lbs) == 1 else lbs[int(rng.random() * len(lbs))]
        ctx.send(lb, _tuple(Request, (op_id, key, ctx.id)))
        if self.timeout is not None:
            ctx.set_timer(f"t{op_id}", self.timeout)
        self.issued += 1
        if self.requests is None or self.issued < self.requests:
            # what rng.expovariate(rate) computes, inlined
            ctx.set_timer("arrival", -log(1.0 - rng.random()) / self.rate)

    def on_message(self, ctx, src, msg):
        if type(msg) is Response:
            op_id = msg[0]
            outstanding = self.outstanding
            if op_id in outstanding:
                outstanding.discard(op_id)
                if self.timeout is not None:
                    ctx.cancel_timer(f"t{op_id}")
                ctx.complete(op_id, "ok", msg[1])
                if not outstanding and self.issued == self.requests:
                    ctx.emit("drained")

    def _check_drained(self, ctx):
        if self.issued == self.requests and not self.outstanding:
            ctx.emit("drained")
