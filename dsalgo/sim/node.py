"""What a simulated node is: :class:`Node`, a sans-I/O state machine.

A node's handlers read its own state and the message, and tell the context they are
handed (:class:`~dsalgo.sim.context.Context`) what to do — send, arm or cancel a timer,
emit an event, persist to ``ctx.disk``, record a client operation — and the simulator
performs it.  Nothing here reads a wall clock or a global random generator, so a node can
be driven by hand with a :class:`~dsalgo.sim.testing.RecordingContext` in a unit test.

This module imports nothing of the simulator: the layers are ``node`` ← ``_core`` ←
``wire`` ← ``context`` ← ``engine``, each importing only those before it.
"""

from __future__ import annotations

__all__ = ["Node"]


class Node:
    """Base class of simulated nodes: a sans-I/O state machine.

    Override any of :meth:`on_start`, :meth:`on_message`, :meth:`on_timer`.  A subclass need
    not call ``super().__init__()``; the simulator keeps its bookkeeping elsewhere.

    Examples
    --------
    >>> from dsalgo import sim
    >>> class Echo(sim.Node):
    ...     def on_message(self, ctx, src, msg):
    ...         ctx.send(src, msg)
    """

    def on_start(self, ctx) -> None:
        """Called when the node starts, and again after every restart."""

    def on_message(self, ctx, src: str, msg) -> None:
        """Called for each delivered message."""

    def on_timer(self, ctx, name: str) -> None:
        """Called when the timer ``name`` fires."""
