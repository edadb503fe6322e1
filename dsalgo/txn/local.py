"""The local transactions of a saga service: a step, and its compensation.

Both saga forms (:mod:`dsalgo.txn.saga`, :mod:`dsalgo.txn.choreography`) run the same
local transactions; only who asks for them differs.  A *step* adds a delta to one account,
or fails with no effect (it would overdraw, or the service rejects it with probability
``step_failure``).  A *compensation* undoes a step that ran, and never fails
(Garcia-Molina & Salem assume compensations cannot fail).  How it undoes it is the ``compensation`` knob:

- ``"inverse"`` (the default, and the semantic compensation the paper asks for) adds the
  opposite delta.  Updates by other sagas in between survive.
- ``"restore"`` writes back the balance the account had before the step (a before-image,
  as a physical undo log would).  Any update another saga made to the account in between
  is *lost* — and money is created or destroyed.  It is here to be measured: the checker
  counts such lost updates from the events, and conservation catches the damage.
"""

from __future__ import annotations

from .._validate import check_choice, check_probability
from .bank import Shard

__all__ = ["SagaShard", "COMPENSATIONS", "Durably"]

COMPENSATIONS = ("inverse", "restore")


class Durably:
    """A handler's context whose emits and sends wait until its disk writes are durable.

    With a storage model (``simulate(storage=…)``) a saga node must not tell anyone about
    a local transaction (nor record it as an event) before the transaction is durable:
    a crash would lose it while its news went on.  A handler runs on a ``Durably(ctx)``
    instead of ``ctx``; everything else (``disk``, ``rng``, timers) goes to ``ctx`` at
    once, and :meth:`release` hands the held emits, sends and callbacks, in order, to one
    ``ctx.sync``.  Without a storage model they happen at once, at the release.

    Examples
    --------
    >>> from dsalgo import sim
    >>> ctx = sim.RecordingContext("n1")
    >>> d = Durably(ctx)
    >>> d.disk["x"] = 1; d.send("n2", "hello"); ctx.sent()
    []
    >>> d.release(); ctx.sent()
    [Send(dst='n2', msg='hello')]
    """

    __slots__ = ("ctx", "effects")

    def __init__(self, ctx):
        self.ctx = ctx
        self.effects: list = []

    def emit(self, kind, **fields):
        self.effects.append((self.ctx.emit, (kind,), fields))

    def send(self, dst, msg):
        self.effects.append((self.ctx.send, (dst, msg), {}))

    def later(self, fn):
        """Call ``fn()`` once durable, after the effects held before it."""
        self.effects.append((fn, (), {}))

    def __getattr__(self, name):
        return getattr(self.ctx, name)

    def release(self):
        """Ask for a sync; then perform the held effects in order."""
        effects = self.effects

        def durable():
            for fn, args, kwargs in effects:
                fn(*args, **kwargs)

        self.ctx.sync(then=durable)


class SagaShard(Shard):
    """A shard that runs saga steps and compensations (see the module docstring).

    Parameters
    ----------
    accounts, initial_balance : int
        See :class:`dsalgo.txn.bank.Shard`.
    step_failure : float
        Probability that a step is rejected (no effect) for business reasons.
    compensation : {"inverse", "restore"}
        Undo a step by its opposite delta, or by restoring the balance it overwrote.
    bugs : collection of str
        ``"non_idempotent_retry"`` runs every request it receives, ignoring its key.

    Examples
    --------
    >>> from dsalgo import sim
    >>> svc, ctx = SagaShard(accounts=1, compensation="restore"), sim.RecordingContext("n1")
    >>> svc.open(ctx) and svc.run_step(ctx, "s1", 0, "n1:0", -30)
    True
    >>> ctx.disk["balance"]["n1:0"] = 50                  # another saga took 20 more
    >>> svc.run_compensation(ctx, "s1", 0, "n1:0", 30)
    True
    >>> ctx.disk["balance"]                                # back to 100: the 20 are lost
    {'n1:0': 100}
    """

    def __init__(self, *, accounts: int = 2, initial_balance: int = 100,
                 step_failure: float = 0.0, compensation: str = "inverse", bugs=()):
        super().__init__(accounts=accounts, initial_balance=initial_balance)
        self.step_failure = check_probability("step_failure", step_failure)
        self.compensation = check_choice("compensation", compensation, COMPENSATIONS)
        self.bugs = frozenset(bugs)

    def run_step(self, ctx, saga: str, step: int, account: str, delta: int) -> bool:
        """Apply ``delta`` to ``account`` as step ``step`` of ``saga``, or fail; emits ``step``."""
        bal = ctx.disk["balance"]
        if bal[account] + delta < 0:
            reason = "insufficient_funds"
        elif self.step_failure and ctx.rng.random() < self.step_failure:
            reason = "rejected"
        else:
            before = ctx.disk.setdefault("before", {})
            before[f"{saga}:{step}"] = bal[account]        # the before-image, for "restore"
            new = self.apply(ctx, [(account, delta)])
            ctx.emit("step", saga=saga, step=step, ok=True, account=account, balances=new)
            return True
        ctx.emit("step", saga=saga, step=step, ok=False, account=account, reason=reason)
        return False

    def run_compensation(self, ctx, saga: str, step: int, account: str, delta: int) -> bool:
        """Undo step ``step`` of ``saga`` (``delta`` is the opposite of the step's); emits
        ``compensate``.  Never fails (returns True); may overdraw."""
        if self.compensation == "restore":
            bal = ctx.disk["balance"]
            image = ctx.disk.get("before", {}).get(f"{saga}:{step}", bal[account] + delta)
            new = self.apply(ctx, [(account, image - bal[account])])
        else:
            new = self.apply(ctx, [(account, delta)])
        ctx.emit("compensate", saga=saga, step=step, account=account, balances=new)
        return True
