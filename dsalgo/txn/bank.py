"""The bank both transaction protocols move money in: sharded accounts, transfers, reads.

This is the *workload* side of :mod:`dsalgo.txn` (Style §6): it knows nothing about
two-phase commit or sagas.  A bank is a set of shards ``n1 … nN``; shard ``nK`` holds the
accounts ``"nK:0" … "nK:{accounts-1}"`` (an account names its shard, so a transfer says
where each of its legs runs).  Every account starts with the same balance.

A **transfer** is a tuple of *legs* ``((account, delta), …)``, one leg per shard it spans,
whose deltas sum to zero: one source account pays ``amount`` to each of the other legs.
Money is therefore conserved by every transfer that is applied whole — which is what the
protocols must guarantee and what :func:`dsalgo.txn.check` verifies at quiescence.

A **read** asks every shard for the committed balances of all its accounts and returns
them as one dict.  It takes no locks and the shards answer independently, so a read that
overlaps a transfer may observe it half applied (money "in flight").  Such reads are the
isolation anomaly :func:`dsalgo.txn.check` *measures*; they are not violations.

Shards record what they do as events: ``init`` (the opening balances, once) and, with
every change, the new balances of the accounts changed (a ``balances`` field), so the
checker can rebuild the final state of the bank from ``run.events`` alone.

**A run** (:func:`run_bank`, what both families' ``simulate`` end with) has two parts:
clients issue operations for ``duration`` seconds (the load), then the run goes on for
``drain`` more seconds with no new operation, so that every transaction in flight can end
(the checker judges conservation only at quiescence).  ``run.until`` is
``duration + drain``; ``run.params["duration"]`` is the load period and
``run.params["workload"]["drain"]`` the tail.  The workload's knobs are the fields of
:class:`WorkloadConfig`.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

from .. import sim
from .._validate import check_int, check_number, check_probability
from ..sim import checks, knob

__all__ = ["account_names", "shard_of", "BankWorkload", "BankClient", "Shard",
           "Transfer", "TransferDone", "Read", "Balances", "WorkloadConfig", "run_bank"]


# ------------------------------------------------------------------ messages
@dataclass(frozen=True, slots=True)
class Transfer:
    """Client → coordinator: run transfer ``op_id`` with these ``legs``."""
    op_id: int
    legs: tuple


@dataclass(frozen=True, slots=True)
class TransferDone:
    """Coordinator → client: transfer ``op_id`` committed (``True``) or had no effect."""
    op_id: int
    committed: bool


@dataclass(frozen=True, slots=True)
class Read:
    """Client → shard: send me your committed balances."""
    op_id: int


@dataclass(frozen=True, slots=True)
class Balances:
    """Shard → client: the committed balances of every account on ``shard``."""
    op_id: int
    shard: str
    balances: dict


# ------------------------------------------------------------------ accounts
def account_names(shard: str, accounts: int) -> list:
    """The accounts held by ``shard``.

    Examples
    --------
    >>> account_names("n2", 3)
    ['n2:0', 'n2:1', 'n2:2']
    """
    return [f"{shard}:{i}" for i in range(accounts)]


def shard_of(account: str) -> str:
    """The shard that holds ``account``.

    Examples
    --------
    >>> shard_of("n3:1")
    'n3'
    """
    return account.split(":", 1)[0]


class BankWorkload(sim.Workload):
    """Transfers spanning ``span`` shards, and reads of every balance.

    Parameters
    ----------
    shards : list of str
        The shard ids, e.g. ``["n1", "n2", "n3"]``.
    accounts : int
        Accounts per shard.
    span : int, optional
        Shards a transfer touches (one leg each); all of them when omitted.  At least 2.
    read_fraction : float
        Probability that an operation is a read rather than a transfer.
    max_amount : int
        Each credited leg receives a uniform integer amount in ``[1, max_amount]``; the
        source pays the sum.
    ordered : bool
        Keep the legs in shard order (a saga runs its steps in that order); otherwise the
        source leg comes first.

    Examples
    --------
    >>> import random
    >>> w = BankWorkload(["n1", "n2"], accounts=1, read_fraction=0.0)
    >>> w.next_op(random.Random(1), 0, {})
    ('transfer', 'n2:0', (('n1:0', 4), ('n2:0', -4)))
    """

    def __init__(self, shards, *, accounts: int = 2, span: int | None = None,
                 read_fraction: float = 0.2, max_amount: int = 5, ordered: bool = True):
        self.shards = list(shards)
        if len(self.shards) < 2:
            raise ValueError(f"shards must name at least 2 shards; got {self.shards!r}")
        self.accounts = check_int("accounts", accounts, low=1)
        self.span = len(self.shards) if span is None else check_int(
            "span", span, low=2, high=len(self.shards))
        self.read_fraction = check_probability("read_fraction", read_fraction)
        self.max_amount = check_int("max_amount", max_amount, low=1)
        self.ordered = ordered

    def next_op(self, rng, op_id, seen):
        if rng.random() < self.read_fraction:
            return "read", None, None
        idx = sorted(rng.sample(range(len(self.shards)), self.span))
        accts = [f"{self.shards[i]}:{rng.randrange(self.accounts)}" for i in idx]
        src = rng.randrange(len(accts))
        amounts = [rng.randint(1, self.max_amount) for _ in accts]
        amounts[src] = 0
        legs = [(a, amounts[i]) for i, a in enumerate(accts)]
        legs[src] = (accts[src], -sum(amounts))
        if not self.ordered:
            legs.insert(0, legs.pop(src))
        return "transfer", accts[src], tuple(legs)

    def __repr__(self):
        return (f"BankWorkload(shards={self.shards!r}, accounts={self.accounts}, "
                f"span={self.span}, read_fraction={self.read_fraction})")


class BankClient(sim.Client):
    """Sends transfers to a coordinator and reads to every shard; records the answers.

    A transfer is sent once (it is not idempotent at the client's level); its answer
    ``TransferDone`` finishes it ``ok`` with result ``"committed"`` or ``fail`` with
    ``"aborted"`` (definitely no effect).  No answer before ``timeout`` leaves it ``info``.
    A read finishes ``ok`` with ``{account: balance}`` once every shard has answered.

    Parameters
    ----------
    workload : BankWorkload
        What to ask.
    coordinator : str
        Node that runs transfers (``"tm"`` or ``"orch"``).
    **kwargs
        Passed to :class:`dsalgo.sim.Client` (``concurrency``, ``timeout``, ``stop`` …).

    Examples
    --------
    >>> from dsalgo import sim
    >>> c = BankClient(BankWorkload(["n1", "n2"], read_fraction=1.0), "tm", max_ops=1)
    >>> ctx = sim.RecordingContext("c1")
    >>> c.on_start(ctx); c.on_timer(ctx, "next:0"); ctx.sent()
    [Send(dst='n1', msg=Read(op_id=0)), Send(dst='n2', msg=Read(op_id=0))]
    """

    def __init__(self, workload: BankWorkload, coordinator: str, **kwargs):
        if not isinstance(workload, BankWorkload):
            raise TypeError(f"workload must be a BankWorkload; got {workload!r}")
        super().__init__(workload, **kwargs)
        self.coordinator = coordinator
        self.reads: dict = {}

    def submit(self, ctx, op_id, f, key, value):
        if f == "read":
            self.reads[op_id] = {}
            ctx.broadcast(self.workload.shards, Read(op_id))
        else:
            ctx.send(self.coordinator, Transfer(op_id, value))

    def on_message(self, ctx, src, msg):
        if isinstance(msg, TransferDone):
            if msg.committed:
                self.finish(ctx, msg.op_id, "ok", "committed")
            else:
                self.finish(ctx, msg.op_id, "fail", "aborted")
        elif isinstance(msg, Balances):
            got = self.reads.get(msg.op_id)
            if got is None or msg.op_id not in self.outstanding:
                return
            got[msg.shard] = msg.balances
            if len(got) == len(self.workload.shards):
                del self.reads[msg.op_id]
                merged = {}
                for shard in self.workload.shards:      # a stable order, whatever arrived first
                    merged.update(got[shard])
                self.finish(ctx, msg.op_id, "ok", merged)

    def on_timeout(self, ctx, op_id):
        self.reads.pop(op_id, None)
        self.finish(ctx, op_id, "info")


class Shard(sim.Node):
    """Base of a node that holds accounts durably and answers reads.

    The balances live in ``ctx.disk["balance"]`` (the shard's database, which survives a
    crash).  On its very first start a shard opens its accounts and emits ``init``.
    Subclasses call :meth:`apply` to change balances (it emits nothing itself; the caller
    emits its own event with the returned ``balances`` field).

    Parameters
    ----------
    accounts : int
        Number of accounts on this shard.
    initial_balance : int
        Opening balance of every account.
    """

    def __init__(self, *, accounts: int = 2, initial_balance: int = 100):
        self.accounts = check_int("accounts", accounts, low=1)
        self.initial_balance = check_int("initial_balance", initial_balance, low=0)

    def open(self, ctx) -> dict:
        """The durable balances, created (and announced with ``init``) on first start."""
        bal = ctx.disk.get("balance")
        if bal is None:
            bal = ctx.disk["balance"] = {a: self.initial_balance
                                         for a in account_names(ctx.id, self.accounts)}
            ctx.emit("init", balances=dict(bal))
        return bal

    def apply(self, ctx, legs) -> dict:
        """Add each leg's delta to its account; return the new balances of those accounts."""
        bal = ctx.disk["balance"]
        for account, delta in legs:
            bal[account] += delta
        return {account: bal[account] for account, _ in legs}

    def answer_read(self, ctx, src, msg: Read) -> None:
        ctx.send(src, Balances(msg.op_id, ctx.id, dict(ctx.disk["balance"])))


def check_timeout(name, value):
    """A positive number of seconds (the nodes' timer settings)."""
    return check_number(name, value, low=0.0, low_open=True)


# ------------------------------------------------------------------ the workload's knobs
@dataclasses.dataclass(frozen=True)
class WorkloadConfig(sim.Config):
    """The bank workload's knobs, shared by two-phase commit and sagas.

    Examples
    --------
    >>> WorkloadConfig(clients=3, drain=1.0).to_params()["clients"]
    3
    >>> WorkloadConfig(mode="open")
    Traceback (most recent call last):
    ...
    ValueError: rate must be given (operations per second per client) when mode='open'
    """

    clients: int = knob(2, "Bank clients c1… issuing transfers and reads.",
                        checks.integer(low=1))
    concurrency: int = knob(1, "Closed loop: operations each client keeps outstanding.",
                            checks.integer(low=1))
    accounts: int = knob(2, "Accounts per shard.", checks.integer(low=1))
    initial_balance: int = knob(100, "Opening balance of every account.",
                                checks.integer(low=0))
    read_fraction: float = knob(0.2, "Share of operations that are reads of every balance.",
                                checks.probability)
    client_timeout: float = knob(1.0, "Seconds a client waits for an answer before it "
                                 "records the operation as info (outcome unknown).",
                                 checks.positive)
    drain: float = knob(2.0, "Seconds of quiet tail after duration, with no new operation, "
                        "so that transactions in flight end (the run lasts duration + "
                        "drain).", checks.non_negative)
    mode: str = knob("closed", "'closed' (concurrency operations outstanding per client) or "
                     "'open' (Poisson arrivals at rate).", checks.choice("closed", "open"))
    rate: float = knob(None, "Open loop: operations per second per client.",
                       checks.optional(checks.positive))
    think: float = knob(0.0, "Closed loop: seconds between a completion and the next "
                        "invocation.", checks.non_negative)

    def validate(self):
        if self.mode == "open" and self.rate is None:
            raise ValueError("rate must be given (operations per second per client) when "
                             "mode='open'")

    def client_options(self) -> dict:
        """Keyword arguments for :class:`BankClient` (a :class:`dsalgo.sim.Client`)."""
        return {"mode": self.mode, "concurrency": self.concurrency, "rate": self.rate,
                "timeout": self.client_timeout, "think": self.think}


def default_network() -> sim.Network:
    """The network of both families unless one is given: exponential latency, mean 1 ms."""
    return sim.Network(latency=sim.Exponential(mean=0.001))


def run_bank(cluster: sim.Cluster, workload: WorkloadConfig, entry: str, *, duration: float,
             faults=(), progress: bool = False, span: int | None = None,
             close: bool = False) -> sim.Run:
    """Add the bank's clients to ``cluster`` and run it: ``duration`` seconds of load, then
    ``workload.drain`` seconds of quiet tail (see the module docstring).

    Clients send transfers to ``entry`` (the coordinator, or the first service) and reads
    to every server of the cluster (the shards).  Returns the run, with
    ``run.params["duration"]`` the load period and ``run.until = duration + drain``.
    ``close`` closes the cluster after the run (see :meth:`dsalgo.sim.Cluster.run`).
    """
    duration = check_number("duration", duration, low=0.0, low_open=True)
    bank = BankWorkload(cluster.servers, accounts=workload.accounts, span=span,
                        read_fraction=workload.read_fraction)
    options = workload.client_options()
    cluster.add_clients(workload.clients,
                        lambda cid: BankClient(bank, entry, stop=duration, **options))
    return cluster.run(duration, faults, tail=workload.drain, progress=progress, close=close)


def renamed_size(knobs: dict, old: str, n: int, *, default: int = 3, low: int = 2) -> int:
    """``n``, or the value of the deprecated keyword ``old`` popped from ``knobs``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     renamed_size({"steps": 4}, "steps", 3), w[0].category.__name__
    (4, 'DeprecationWarning')
    """
    if old not in knobs:
        return n
    value = check_int(old, knobs.pop(old), low=low)
    if n != default and n != value:
        raise TypeError(f"give the size once, as n; got n={n!r} and {old}={value!r}")
    warnings.warn(f"{old}= is deprecated; the size is n (n={value})", DeprecationWarning,
                  stacklevel=3)
    return value
