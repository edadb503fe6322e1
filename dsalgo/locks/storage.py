"""The storage service a lock protects, with fencing tokens (Kleppmann 2016).

Martin Kleppmann, "How to do distributed locking" (2016), section "Making the lock safe
with fencing": a lock service that can expire a lock while its holder is paused or its
messages are delayed cannot, by itself, stop the old holder from touching the protected
resource afterwards.  The fix belongs to the resource: each lock grant carries a
*fencing token*, a number that increases with every grant, and the storage service
remembers the highest token it has seen and refuses any request carrying an older one.

The resource here is one integer counter per key.  A lock holder's critical section is a
read-modify-write: :class:`Read` the value and its version, work, :class:`Write` the value
plus one together with the version it read.  The service does *not* compare versions (it
is a plain register, not compare-and-set), so two holders at once can lose an update;
the checker (:func:`dsalgo.locks.check`) finds such lost updates from the ``write``
events this node emits.

Safety property enforced here: with fencing, no request is accepted with a token lower
than one accepted before.  The service checks the token on reads as well as writes: a
holder with a newer token that has *read* must not be overtaken by an older holder's
write, or its own write would silently overwrite that one (a lost update that token order
alone does not show).

Simplifications: one storage node named ``storage``, durable (its state is in
``ctx.disk``, so a crash and restart lose nothing); requests without a token (RedLock's
clients, which get none from the algorithm) are always accepted.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .. import sim

__all__ = ["STORAGE", "Read", "ReadReply", "StorageServer", "Write", "WriteReply"]

STORAGE = "storage"
"""The node id of the storage service in every lock simulation."""


class Read(NamedTuple):
    """Read ``key``; ``token`` is the fencing token or ``None``."""
    req: int
    key: str
    token: int | None = None


class ReadReply(NamedTuple):
    """``ok`` is False when the token was older than one seen before."""
    req: int
    ok: bool
    value: int = 0
    version: int = 0


class Write(NamedTuple):
    """Write ``value`` to ``key``, computed from the value read at ``read_version``."""
    req: int
    key: str
    value: int
    read_version: int
    token: int | None = None


class WriteReply(NamedTuple):
    req: int
    accepted: bool


class StorageServer(sim.Node):
    """A durable register per key that fences requests by token.

    Emits a ``write`` event per write request with fields ``client, key, token, accepted,
    value, read_version, version`` (``version`` is the key's version after the request).

    Examples
    --------
    >>> from dsalgo import sim
    >>> from dsalgo.locks.storage import StorageServer, Read, Write
    >>> node, ctx = StorageServer(), sim.RecordingContext("storage")
    >>> node.on_start(ctx)
    >>> node.on_message(ctx, "c1", Read(req=1, key="lock", token=34))
    >>> node.on_message(ctx, "c2", Write(req=1, key="lock", value=1, read_version=0, token=33))
    >>> ctx.take()[-1]
    Send(dst='c2', msg=WriteReply(req=1, accepted=False))
    """

    def on_start(self, ctx):
        disk = ctx.disk
        if "values" not in disk:
            disk["values"], disk["versions"], disk["max_token"] = {}, {}, {}
        self.values = disk["values"]
        self.versions = disk["versions"]
        self.max_token = disk["max_token"]

    def _fenced(self, key: str, token: Any) -> bool:
        """Whether a request with ``token`` is refused; remembers the highest token seen."""
        if token is None:
            return False
        highest = self.max_token.get(key)
        # The safety line: a token older than one already seen belongs to a holder whose
        # lock has since been granted to someone else, so its request must not land.
        if highest is not None and token < highest:
            return True
        self.max_token[key] = token
        return False

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Read):
            if self._fenced(msg.key, msg.token):
                ctx.send(src, ReadReply(msg.req, False))
            else:
                ctx.send(src, ReadReply(msg.req, True, self.values.get(msg.key, 0),
                                        self.versions.get(msg.key, 0)))
        elif isinstance(msg, Write):
            accepted = not self._fenced(msg.key, msg.token)
            if accepted:
                self.values[msg.key] = msg.value
                self.versions[msg.key] = self.versions.get(msg.key, 0) + 1
            ctx.emit("write", client=src, key=msg.key, token=msg.token, accepted=accepted,
                     value=msg.value, read_version=msg.read_version,
                     version=self.versions.get(msg.key, 0))
            ctx.send(src, WriteReply(msg.req, accepted))
