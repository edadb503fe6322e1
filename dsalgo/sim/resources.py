"""Time a node spends besides the wire: a processing-time model and a storage model.

Both are optional per node (:meth:`Simulation.add_node`'s ``cpu=`` and ``storage=``);
without them a node handles a message in zero time and ``ctx.disk`` is durable at once,
exactly as before they existed.

- **Processing** (``cpu=``): a latency model, or a dict of them keyed by message type
  name (a timer is keyed ``"timer:<name>"``) with ``"*"`` for everything else (a type
  without an entry and no ``"*"`` takes no time).  Each delivered message and fired timer
  occupies the node for a service time drawn from the node's own ``cpu`` stream; work
  waits in FIFO order while the node is busy, and the handler runs when its service ends
  (so its sends leave then).  ``run.messages.t_handle`` is when service of a message
  began: ``t_handle - t_deliver`` is the queueing delay at the node.  A fired timer
  stays set (``ctx.timer_set``) until it is handled, and cancelling or re-arming it
  meanwhile withdraws that firing.  A pause freezes the service under way (it ends after
  the resume with the time it had left); a crash loses the queue (those messages are
  ``node_down``).
- **Storage** (``storage=Storage(sync=…)``): writes to ``ctx.disk`` are buffered until a
  sync, whose latency is drawn from the node's own ``storage`` stream.  ``ctx.sync(then=…,
  send=…)`` asks for one and names what to do once it completes.  A sync begins once the
  events already due at that instant when it was asked for have run, so their requests
  and writes share it (an event scheduled for that instant afterwards, a zero-delay timer
  say, finds it begun); syncs asked for while one is in flight share the next one
  (group commit: one ``sync`` row in ``run.events`` per disk sync, with the number of
  requests it served).  A crash loses what was not synced: a restarted node finds
  ``ctx.disk`` as the last completed sync left it, and the crash event says whether
  anything was lost (``unsynced_lost``).  What a sync makes durable is ``ctx.disk`` as it
  was when that sync began (a one-level copy: lists, dicts and sets are copied, their
  items shared).  The continuations run when the sync completes, outside the processing
  queue (they take no service time).

This module imports only :mod:`~dsalgo.sim.latency` and :mod:`~dsalgo.sim._rng`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._rng import bare_stream, full_stream
from .latency import Latency

__all__ = ["Storage", "cpu_sampler", "snapshot"]


class Storage:
    """A node's durable storage: a write is durable once a sync that began after it ends.

    Parameters
    ----------
    sync : Latency
        How long one sync (``fsync``) takes, e.g. ``sim.LogNormal(median=0.004,
        sigma=0.5)`` for a commodity SSD.

    Examples
    --------
    >>> from dsalgo import sim
    >>> sim.Storage(sync=sim.Constant(0.004))
    Storage(sync=Constant(delay=0.004))
    >>> sim.Storage(sync=0.004)
    Traceback (most recent call last):
    ...
    TypeError: sync must be a latency model such as sim.Constant(0.004) or sim.LogNormal(median=0.004, sigma=0.5); got 0.004
    """

    __slots__ = ("sync",)

    def __init__(self, sync: Latency):
        if not isinstance(sync, Latency):
            raise TypeError(f"sync must be a latency model such as sim.Constant(0.004) or "
                            f"sim.LogNormal(median=0.004, sigma=0.5); got {sync!r}")
        self.sync = sync

    def __repr__(self):
        return f"Storage(sync={self.sync!r})"

    def __eq__(self, other):
        return type(other) is Storage and other.sync == self.sync

    def __hash__(self):
        return hash(("Storage", repr(self.sync)))


def check_cpu(cpu):
    """``cpu`` validated: ``None``, a latency model, or a dict of them by message type."""
    if cpu is None or isinstance(cpu, Latency):
        return cpu
    if isinstance(cpu, Mapping):
        for key, model in cpu.items():
            if not isinstance(key, str) or not key:
                raise TypeError(f"cpu keys must be message type names (or 'timer:<name>', "
                                f"or '*'); got {key!r}")
            if not isinstance(model, Latency):
                raise TypeError(f"cpu[{key!r}] must be a latency model such as "
                                f"sim.Constant(2e-05); got {model!r}")
        return dict(cpu)
    raise TypeError(f"cpu must be a latency model such as sim.Constant(2e-05), or a dict "
                    f"of them by message type ({{'AppendEntries': …, '*': …}}); got {cpu!r}")


def check_storage(storage):
    """``storage`` validated: ``None`` or a :class:`Storage`."""
    if storage is None or isinstance(storage, Storage):
        return storage
    raise TypeError(f"storage must be a dsalgo.sim.Storage (e.g. "
                    f"sim.Storage(sync=sim.Constant(0.004))) or None; got {storage!r}")


def _zero():
    return 0.0


def cpu_sampler(cpu, seed: int, node: str):
    """``draw(key) -> seconds`` for a node's processing model, from its ``cpu`` stream.

    ``key`` is a message type name or ``"timer:<name>"``.  One shared stream per node, so
    the draws depend only on the order of the node's work.
    """
    rng = full_stream(bare_stream(seed, "cpu", node))
    if isinstance(cpu, Latency):
        one = cpu.sampler(rng)
        return lambda key: one()
    samplers = {k: m.sampler(rng) for k, m in cpu.items()}
    default = samplers.get("*", _zero)
    get = samplers.get
    return lambda key: get(key, default)()


def storage_sampler(storage: Storage, seed: int, node: str):
    """A zero-argument draw of one sync's latency, from the node's ``storage`` stream."""
    return storage.sync.sampler(full_stream(bare_stream(seed, "storage", node)))


_CONTAINERS = (list, dict, set, bytearray)


def snapshot(disk: dict) -> dict:
    """A copy of ``disk`` that later in-place changes of its lists, dicts and sets do not
    reach (one level deep: what the kernels keep there holds immutable entries)."""
    return {k: (v.copy() if type(v) in _CONTAINERS else v) for k, v in disk.items()}
