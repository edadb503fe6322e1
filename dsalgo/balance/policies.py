"""Load-balancing policies: given what a balancer knows, pick a backend for one request.

A policy is a small sans-I/O object.  The :class:`~dsalgo.balance.cluster.Balancer` node
owns the knowledge — which backends it believes are up, how many requests it has itself
sent to each and not yet seen finish (``outstanding``), and the queue lengths backends last
reported (``reported``, possibly stale) — and hands it to :meth:`Policy.choose` as a
:class:`View` with the balancer's random stream.  The policy returns a backend id, or
``None`` to hold the request at the balancer until something changes (only the central
queue does that).

The policies and where they come from:

- ``random`` — uniform over the backends that are up.  With ``c`` equal exponential
  servers each one is an M/M/1 queue (Poisson splitting).
- ``round_robin`` and ``weighted_round_robin`` — the "smooth" weighted round robin of
  nginx (each pick adds every weight to a running credit and takes the largest credit,
  which then pays back the total), so a backend of weight 3 gets 3 of every ``sum(w)``
  requests, interleaved rather than in bursts.
- ``least_outstanding`` — fewest requests this balancer has in flight at a backend; it
  needs no reports from the backends, only their answers, so a stale report cannot fool
  it, but with several balancers each one sees only its own traffic.
- ``jsq`` — join the shortest queue as reported by the backends (Winston 1977 shows it
  optimal for identical exponential servers with fresh information).
- ``power_of_d`` — sample ``d`` distinct backends uniformly, join the shortest reported
  queue among them (Mitzenmacher 2001; the supermarket model samples with replacement,
  which differs by ``O(1/n)``).
- ``consistent_hash`` and ``consistent_hash_bounded`` — by request key on a hash ring
  (Karger et al. 1997) and with the load cap of Mirrokni, Thorup & Zadimoghaddam 2018,
  counting this balancer's outstanding requests as the load; see
  :mod:`dsalgo.balance.hashing`.
- ``central_queue`` — one shared FIFO queue at the balancer feeding idle backends, the
  fastest idle one first: M/M/c, the reference no per-server queue can beat on waiting.

Ties are broken uniformly at random (from the balancer's stream), never by index, so no
backend is favoured by its name.
"""

from __future__ import annotations

from .._validate import check_int, check_number
from .hashing import ConsistentHashRing

__all__ = [
    "POLICIES",
    "BoundedConsistentHash",
    "CentralQueue",
    "ConsistentHash",
    "JoinShortestQueue",
    "LeastOutstanding",
    "Policy",
    "PowerOfD",
    "Random",
    "RoundRobin",
    "View",
    "WeightedRoundRobin",
    "make_policy",
]


class View:
    """What a balancer knows when it places a request.

    Attributes
    ----------
    backends : list of str
        Every backend, in order.
    speeds : dict of str to float
        Relative service speed of each backend.
    up : list of str
        Backends the balancer believes are up (all of them without health checks).
    outstanding : dict of str to int
        Requests this balancer sent to each backend whose completion it has not yet heard.
    reported : dict of str to int
        Queue length (waiting plus in service) each backend last reported.

    Examples
    --------
    >>> v = View(["n1", "n2"])
    >>> v.up, v.outstanding, v.reported
    (['n1', 'n2'], {'n1': 0, 'n2': 0}, {'n1': 0, 'n2': 0})
    """

    __slots__ = ("backends", "outstanding", "reported", "speeds", "up")

    def __init__(self, backends, speeds=None):
        self.backends = list(backends)
        self.speeds = dict(speeds) if speeds else dict.fromkeys(self.backends, 1.0)
        self.up = list(self.backends)
        self.outstanding = dict.fromkeys(self.backends, 0)
        self.reported = dict.fromkeys(self.backends, 0)


def _least(rng, candidates, scores):
    """The candidate of least score (``scores[i]`` is ``candidates[i]``'s); ties broken
    uniformly at random, among the tied in candidate order."""
    best = min(scores)
    if scores.count(best) == 1:
        return candidates[scores.index(best)]
    ties = [b for b, s in zip(candidates, scores) if s == best]
    return ties[int(rng.random() * len(ties))]


class Policy:
    """Base class.  Subclasses set :attr:`name` and implement :meth:`choose`.

    Attributes
    ----------
    name : str
        The name :func:`~dsalgo.balance.simulate` knows it by.
    needs_completions : bool
        The balancer must hear when each of its requests finishes (``Done`` messages).
    needs_load : bool
        Backends must report their queue length on every change (``Load`` messages).
    holds : bool
        :meth:`choose` may return ``None`` and keep the request queued at the balancer.
    """

    name = "policy"
    needs_completions = False
    needs_load = False
    holds = False

    def reset(self, view: View) -> None:
        """Called when the balancer starts (and restarts) with its initial view."""

    def choose(self, rng, key, view: View):
        """Return the backend for a request with ``key``, or ``None`` to hold it."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Random(Policy):
    """Uniformly random backend.

    Examples
    --------
    >>> import random
    >>> Random().choose(random.Random(0), None, View(["n1", "n2", "n3"])) in ("n1", "n2", "n3")
    True
    """

    name = "random"

    def choose(self, rng, key, view):
        up = view.up
        return up[int(rng.random() * len(up))]


class RoundRobin(Policy):
    """Each backend in turn, skipping those that are down.

    Examples
    --------
    >>> import random
    >>> p, v = RoundRobin(), View(["n1", "n2", "n3"])
    >>> p.reset(v)
    >>> [p.choose(random.Random(0), None, v) for _ in range(4)]
    ['n1', 'n2', 'n3', 'n1']
    """

    name = "round_robin"

    def reset(self, view):
        self._next = 0

    def choose(self, rng, key, view):
        backends, up = view.backends, view.up
        n = len(backends)
        for step in range(n):
            b = backends[(self._next + step) % n]
            if b in up:
                self._next = (self._next + step + 1) % n
                return b
        raise RuntimeError("no backend is up")  # the balancer never asks with none up


class WeightedRoundRobin(Policy):
    """Smooth weighted round robin (nginx): weights default to the backends' speeds.

    Parameters
    ----------
    weights : dict of str to float or sequence of float, optional
        Weight per backend (``> 0``); by default the backend speeds.

    Examples
    --------
    >>> import random
    >>> p, v = WeightedRoundRobin(), View(["n1", "n2"], speeds={"n1": 1.0, "n2": 3.0})
    >>> p.reset(v)
    >>> [p.choose(random.Random(0), None, v) for _ in range(8)]
    ['n2', 'n1', 'n2', 'n2', 'n2', 'n1', 'n2', 'n2']
    """

    name = "weighted_round_robin"

    def __init__(self, weights=None):
        self.weights = weights

    def reset(self, view):
        w = self.weights
        if w is None:
            w = view.speeds
        elif not isinstance(w, dict):
            w = list(w)
            if len(w) != len(view.backends):
                raise ValueError(f"weights must give one weight per backend "
                                 f"({len(view.backends)}); got {len(w)}")
            w = dict(zip(view.backends, w))
        missing = [b for b in view.backends if b not in w]
        if missing:
            raise ValueError(f"weights must give a weight to every backend; missing "
                             f"{', '.join(missing)}")
        self._w = {b: check_number(f"weights[{b!r}]", w[b], low=0.0, low_open=True)
                   for b in view.backends}
        self._credit = dict.fromkeys(view.backends, 0.0)

    def choose(self, rng, key, view):
        credit, w = self._credit, self._w
        total, best = 0.0, None
        for b in view.up:
            credit[b] += w[b]
            total += w[b]
            if best is None or credit[b] > credit[best]:
                best = b
        credit[best] -= total
        return best

    def __repr__(self):
        return f"WeightedRoundRobin(weights={self.weights!r})"


class LeastOutstanding(Policy):
    """Fewest requests outstanding from this balancer (ties at random).

    Examples
    --------
    >>> import random
    >>> v = View(["n1", "n2", "n3"]); v.outstanding.update(n1=2, n2=0, n3=1)
    >>> LeastOutstanding().choose(random.Random(0), None, v)
    'n2'
    """

    name = "least_outstanding"
    needs_completions = True

    def choose(self, rng, key, view):
        out, up = view.outstanding, view.up
        return _least(rng, up, [out[b] for b in up])


class JoinShortestQueue(Policy):
    """Shortest queue as last reported by the backends (ties at random).

    Examples
    --------
    >>> import random
    >>> v = View(["n1", "n2", "n3"]); v.reported.update(n1=3, n2=1, n3=1)
    >>> JoinShortestQueue().choose(random.Random(0), None, v) in ("n2", "n3")
    True
    """

    name = "jsq"
    needs_load = True

    def choose(self, rng, key, view):
        rep, up = view.reported, view.up
        return _least(rng, up, [rep[b] for b in up])


class PowerOfD(Policy):
    """Sample ``d`` distinct backends uniformly; join the shortest reported queue among them.

    Parameters
    ----------
    d : int
        Backends sampled per request, ``>= 1`` (``d = 1`` is random, ``d = n`` is JSQ).
        When fewer than ``d`` backends are up, all the up ones are compared.

    Examples
    --------
    >>> import random
    >>> v = View(["n1", "n2"]); v.reported.update(n1=5, n2=0)
    >>> PowerOfD(d=2).choose(random.Random(0), None, v)
    'n2'
    """

    name = "power_of_d"
    needs_load = True

    def __init__(self, d: int = 2):
        self.d = check_int("d", d, low=1)

    def choose(self, rng, key, view):
        up = view.up
        picks = rng.sample(up, self.d) if self.d < len(up) else up
        rep = view.reported
        return _least(rng, picks, [rep[b] for b in picks])

    def __repr__(self):
        return f"PowerOfD(d={self.d})"


class ConsistentHash(Policy):
    """The key's owner on a hash ring with ``vnodes`` points per backend.

    A request whose owner is down goes to the next backend clockwise.

    Parameters
    ----------
    vnodes : int
        Virtual nodes per backend.
    seed : int
        Salt of the ring's point hashes.

    Examples
    --------
    >>> import random
    >>> p, v = ConsistentHash(vnodes=32), View(["n1", "n2", "n3"])
    >>> p.reset(v)
    >>> p.choose(random.Random(0), "k1", v) == p.choose(random.Random(9), "k1", v)
    True
    """

    name = "consistent_hash"

    def __init__(self, vnodes: int = 100, seed: int = 0):
        self.vnodes = check_int("vnodes", vnodes, low=1)
        self.seed = check_int("seed", seed)

    def reset(self, view):
        self.ring = ConsistentHashRing(view.backends, vnodes=self.vnodes, seed=self.seed)

    def _down(self, view):
        return () if len(view.up) == len(view.backends) else set(view.backends) - set(view.up)

    def choose(self, rng, key, view):
        return self.ring.lookup(key, exclude=self._down(view))

    def __repr__(self):
        return f"{type(self).__name__}(vnodes={self.vnodes}, seed={self.seed})"


class BoundedConsistentHash(ConsistentHash):
    """Consistent hashing with bounded loads: no request placed above ``(1+epsilon)`` × mean load.

    The load is this balancer's outstanding requests per backend; the cap is
    ``ceil((1 + epsilon) * (outstanding + 1) / up)`` (Mirrokni et al. 2018).

    Parameters
    ----------
    epsilon : float
        Allowed overshoot over the mean load, ``> 0``.
    vnodes, seed
        As in :class:`ConsistentHash`.
    ignore_cap : bool
        The planted bug ``ignore_cap`` (:data:`~dsalgo.balance.BUGS`): place every request
        on its key's owner, as plain consistent hashing does, while claiming the cap.

    Examples
    --------
    >>> import random
    >>> p, v = BoundedConsistentHash(epsilon=0.5, vnodes=32), View(["n1", "n2", "n3"])
    >>> p.reset(v)
    >>> home = p.choose(random.Random(0), "k1", v)
    >>> v.outstanding[home] = 4                      # cap = ceil(1.5 * 5 / 3) = 3
    >>> p.choose(random.Random(0), "k1", v) != home
    True
    """

    name = "consistent_hash_bounded"
    needs_completions = True

    def __init__(self, epsilon: float = 0.25, vnodes: int = 100, seed: int = 0,
                 ignore_cap: bool = False):
        super().__init__(vnodes=vnodes, seed=seed)
        self.epsilon = check_number("epsilon", epsilon, low=0.0, low_open=True)
        self.ignore_cap = ignore_cap

    def choose(self, rng, key, view):
        if self.ignore_cap:
            return super().choose(rng, key, view)
        return self.ring.lookup_bounded(key, view.outstanding, self.epsilon,
                                        exclude=self._down(view))

    def __repr__(self):
        return (f"BoundedConsistentHash(epsilon={self.epsilon}, vnodes={self.vnodes}, "
                f"seed={self.seed})")


class CentralQueue(Policy):
    """One FIFO queue at the balancer; a request goes to an idle backend, else waits.

    The fastest idle backend is taken (ties at random), so equal servers make M/M/c.

    Examples
    --------
    >>> import random
    >>> v = View(["n1", "n2"]); v.outstanding.update(n1=1, n2=1)
    >>> CentralQueue().choose(random.Random(0), None, v) is None      # all busy: hold
    True
    >>> v.outstanding["n2"] = 0
    >>> CentralQueue().choose(random.Random(0), None, v)
    'n2'
    """

    name = "central_queue"
    needs_completions = True
    holds = True
    _equal_speeds = False  # until reset() looks at the speeds

    def reset(self, view):
        self._equal_speeds = len(set(view.speeds.values())) <= 1

    def choose(self, rng, key, view):
        out = view.outstanding
        if 0 not in out.values():  # every backend busy (the common case under load)
            return None
        idle = [b for b in view.up if out[b] == 0]
        if len(idle) < 2:
            return idle[0] if idle else None
        if self._equal_speeds:  # every idle backend ties
            return idle[int(rng.random() * len(idle))]
        speeds = view.speeds
        return _least(rng, idle, [-speeds[b] for b in idle])


POLICIES = {cls.name: cls for cls in (Random, RoundRobin, WeightedRoundRobin,
                                       LeastOutstanding, JoinShortestQueue, PowerOfD,
                                       ConsistentHash, BoundedConsistentHash, CentralQueue)}


def make_policy(name: str, *, d: int = 2, vnodes: int = 100, epsilon: float = 0.25,
                weights=None, ring_seed: int = 0, bugs=frozenset()) -> Policy:
    """Build the policy called ``name``, passing on the knobs it uses.

    Parameters
    ----------
    name : str
        One of ``POLICIES``: ``random``, ``round_robin``, ``weighted_round_robin``,
        ``least_outstanding``, ``jsq``, ``power_of_d``, ``consistent_hash``,
        ``consistent_hash_bounded``, ``central_queue``.
    d : int
        Choices of ``power_of_d``.
    vnodes, ring_seed : int
        Ring of the consistent-hash policies.
    epsilon : float
        Load overshoot of ``consistent_hash_bounded``.
    weights : optional
        Weights of ``weighted_round_robin`` (default: backend speeds).
    bugs : collection of str
        Planted bugs (``ignore_cap`` is the one a policy knows).

    Examples
    --------
    >>> make_policy("power_of_d", d=3)
    PowerOfD(d=3)
    >>> make_policy("fastest")
    Traceback (most recent call last):
    ...
    ValueError: policy must be one of 'random', 'round_robin', 'weighted_round_robin', 'least_outstanding', 'jsq', 'power_of_d', 'consistent_hash', 'consistent_hash_bounded', 'central_queue'; got 'fastest'
    """
    if not isinstance(name, str):
        raise TypeError(f"policy must be a policy name (str) or a Policy; got {name!r}")
    if name not in POLICIES:
        accepted = ", ".join(repr(p) for p in POLICIES)
        raise ValueError(f"policy must be one of {accepted}; got {name!r}")
    if name == "power_of_d":
        return PowerOfD(d=d)
    if name == "weighted_round_robin":
        return WeightedRoundRobin(weights=weights)
    if name == "consistent_hash":
        return ConsistentHash(vnodes=vnodes, seed=ring_seed)
    if name == "consistent_hash_bounded":
        return BoundedConsistentHash(epsilon=epsilon, vnodes=vnodes, seed=ring_seed,
                                     ignore_cap="ignore_cap" in bugs)
    return POLICIES[name]()
