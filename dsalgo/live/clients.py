"""Key-value adapters for real servers, with the outcome of every request classified.

Each adapter answers ``get(key)``, ``put(key, value)`` and ``cas(key, old, new)`` with an
:class:`Outcome`.  The classification is the part that must be right, because a wrong one
produces false violations:

``ok``
    the server answered that the request took effect (a ``get``'s value in ``result``);
``fail``
    the request definitely took no effect.  For ``cas`` this means *the compare was
    evaluated and was false* — the checker counts it as an observation of the value;
``refused``
    the request definitely took no effect and nothing was observed: the connection was
    refused, the client was not connected, or the server answered with an error before
    evaluating it.  A refused ``get``/``put`` is recorded ``fail``; a refused ``cas`` is
    left out of the history (a ``fail`` would claim a compare that never happened);
``info``
    the outcome is unknown: a timeout or a reset after the request may have been sent.

Client libraries' own retries are off: redis-py 8 retries every command three times by
default (which can apply a write twice), so the Redis adapter talks through one
``redis.Connection`` with ``Retry(NoBackoff(), 0)``; etcd's gateway is called with plain
``urllib`` (one request, no retry); kazoo's commands are never retried (its
``command_retry`` is not used) and its reconnection only restores the session.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import time
import urllib.error
import urllib.request
from typing import NamedTuple

__all__ = ["Outcome", "RedisKV", "EtcdKV", "ZooKeeperKV", "adapter", "READ_MODES"]

# kazoo reports every lost connection as a warning; the outcomes say it here
logging.getLogger("kazoo").addHandler(logging.NullHandler())

#: the read modes of each system (the first is the default)
READ_MODES = {
    "redis": ("default",),
    "etcd": ("linearizable", "serializable"),
    "zookeeper": ("sync", "plain"),
}


class Outcome(NamedTuple):
    """What came back: ``status`` (ok / fail / refused / info), ``result``, ``error``."""

    status: str
    result: object = None
    error: str = ""


def _ok(result=None):
    return Outcome("ok", result)


def _num(raw):
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode()
    if raw == "":
        return None
    return int(raw)


# ------------------------------------------------------------------ Redis
_CAS_LUA = ("local v = redis.call('GET', KEYS[1]) "
            "if v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0")


class RedisKV:
    """One connection to one Redis server (``cas`` is a Lua script, atomic on the server).

    Errors: the connect step failing is ``refused``; an error reply (``-LOADING``,
    ``-MISCONF``, ``-BUSY`` …) is ``refused`` (Redis runs a command whole or not at all and
    says so); a timeout or a reset after sending is ``info``.
    """

    def __init__(self, port: int, *, timeout: float = 1.0, host: str = "127.0.0.1",
                 namespace: str = ""):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._redis = redis
        self.ns = namespace
        self.conn = redis.Connection(host=host, port=port, socket_timeout=timeout,
                                     socket_connect_timeout=timeout,
                                     retry=Retry(NoBackoff(), 0), retry_on_timeout=False,
                                     protocol=2)

    def _call(self, *args):
        r = self._redis
        try:
            self.conn.connect()
        except (r.ConnectionError, r.TimeoutError, OSError) as e:
            self.conn.disconnect()
            return Outcome("refused", None, f"connect: {e}")
        try:
            self.conn.send_command(*args)
            reply = self.conn.read_response()
        except (r.ResponseError, r.BusyLoadingError) as e:
            # an error reply: the command was not run (redis-py files -LOADING under
            # ConnectionError, but the server answered and refused it)
            return Outcome("refused", None, f"error reply: {e}")
        except (r.ConnectionError, r.TimeoutError, OSError) as e:
            self.conn.disconnect()
            return Outcome("info", None, f"{type(e).__name__}: {e}")
        return Outcome("ok", reply)

    def get(self, key):
        o = self._call("GET", f"{self.ns}k{key}")
        return o if o.status != "ok" else _ok(_num(o.result))

    def put(self, key, value):
        o = self._call("SET", f"{self.ns}k{key}", str(value))
        return o if o.status != "ok" else _ok()

    def cas(self, key, old, new):
        o = self._call("EVAL", _CAS_LUA, 1, f"{self.ns}k{key}", str(old), str(new))
        if o.status != "ok":
            return o
        return _ok() if int(o.result) == 1 else Outcome("fail")

    def close(self):
        self.conn.disconnect()


# ------------------------------------------------------------------ etcd
def _b64(s) -> str:
    return base64.b64encode(str(s).encode()).decode()


class EtcdKV:
    """Requests to one etcd member through its HTTP/JSON gateway (``/v3/kv/...``).

    Errors: a connection refused (nothing sent) is ``refused``; a timeout or reset is
    ``info``; an error answer from etcd (``request timed out``, ``leader changed``, ``no
    leader`` …) is ``info`` for writes (the proposal may be in the log) and ``refused`` for
    reads (a read changes nothing, so either way it constrains nothing).
    """

    def __init__(self, port: int, *, timeout: float = 1.0, read: str = "linearizable",
                 namespace: str = ""):
        self.ns = namespace
        self.url = f"http://127.0.0.1:{port}"
        self.timeout = timeout
        self.serializable = read == "serializable"

    def _post(self, path, body, write: bool):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return Outcome("ok", json.loads(r.read()))
        except urllib.error.HTTPError as e:
            try:
                detail = json.loads(e.read()).get("error", "")
            except (ValueError, OSError):
                detail = str(e)
            return Outcome("info" if write else "refused", None, f"HTTP {e.code}: {detail}")
        except urllib.error.URLError as e:
            reason = e.reason
            if isinstance(reason, ConnectionRefusedError):
                return Outcome("refused", None, f"connect: {reason}")
            return Outcome("info", None, f"{type(reason).__name__}: {reason}")
        except (TimeoutError, ConnectionError, OSError, ValueError) as e:
            return Outcome("info", None, f"{type(e).__name__}: {e}")

    def get(self, key):
        body = {"key": _b64(f"{self.ns}k{key}")}
        if self.serializable:
            body["serializable"] = True
        o = self._post("/v3/kv/range", body, write=False)
        if o.status != "ok":
            return o
        kvs = o.result.get("kvs") or []
        return _ok(_num(base64.b64decode(kvs[0].get("value", ""))) if kvs else None)

    def put(self, key, value):
        o = self._post("/v3/kv/put", {"key": _b64(f"{self.ns}k{key}"), "value": _b64(value)},
                       True)
        return o if o.status != "ok" else _ok()

    def cas(self, key, old, new):
        k = _b64(f"{self.ns}k{key}")
        o = self._post("/v3/kv/txn", {
            "compare": [{"key": k, "target": "VALUE", "result": "EQUAL", "value": _b64(old)}],
            "success": [{"requestPut": {"key": k, "value": _b64(new)}}]}, True)
        if o.status != "ok":
            return o
        return _ok() if o.result.get("succeeded") else Outcome("fail")

    def close(self):
        pass


# ------------------------------------------------------------------ ZooKeeper
class ZooKeeperKV:
    """One kazoo session pinned to one server; a key is the znode ``/kv/<namespace>k<key>``.

    ``read="sync"`` calls ``sync()`` before each read (ZooKeeper's linearizable read);
    ``"plain"`` reads whatever the connected server has applied.  ``cas`` reads the value
    and its version, then sets with that version: a different value is a failed compare
    (``fail``, observed by the read); a version that moved in between is ``refused`` (the
    value may still equal ``old``: nothing was learnt about the compare).

    Errors: not connected or session expired before sending is ``refused``; a connection
    loss with the request in flight, or a timeout, is ``info``.
    """

    def __init__(self, port: int, *, timeout: float = 1.0, read: str = "sync",
                 session_timeout: float = 4.0, namespace: str = ""):
        from kazoo.client import KazooClient
        from kazoo.retry import KazooRetry

        self.timeout = timeout
        self.ns = namespace
        self.sync = read == "sync"
        # connection_retry only re-opens the session; commands are never retried
        self.zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=session_timeout,
                              connection_retry=KazooRetry(max_tries=-1, delay=0.05,
                                                          max_delay=0.2),
                              command_retry=None)
        self.zk.start(timeout=10)

    def _wait(self, async_result, write: bool):
        from kazoo import exceptions as ke

        try:
            return Outcome("ok", async_result.get(timeout=self.timeout))
        except ke.NoNodeError:
            return Outcome("ok", None)
        except (ke.SessionExpiredError, ke.ConnectionClosedError) as e:
            return Outcome("refused", None, type(e).__name__)
        except ke.ConnectionLoss as e:
            return Outcome("info", None, type(e).__name__)
        except ke.BadVersionError as e:
            return Outcome("refused", None, type(e).__name__)
        except ke.KazooException as e:
            return Outcome("info" if write else "refused", None, f"{type(e).__name__}: {e}")
        except Exception as e:  # noqa: BLE001 - kazoo's timeout class varies by handler
            return Outcome("info", None, f"{type(e).__name__}: {e}")

    def _connected(self):
        from kazoo.protocol.states import KazooState

        return self.zk.state == KazooState.CONNECTED

    def path(self, key):
        return f"/kv/{self.ns}k{key}"

    def ensure(self, keys):
        """Create the znode of each key (empty data: no value yet)."""
        from kazoo.exceptions import NodeExistsError

        self.zk.ensure_path("/kv")
        for k in keys:
            with contextlib.suppress(NodeExistsError):   # another client made it
                self.zk.create(self.path(k), b"")

    def _read(self, key):
        if not self._connected():
            return Outcome("refused", None, "not connected")
        if self.sync:
            o = self._wait(self.zk.sync_async(self.path(key)), write=False)
            if o.status != "ok":
                return o
        o = self._wait(self.zk.get_async(self.path(key)), write=False)
        if o.status != "ok" or o.result is None:
            return o
        data, stat = o.result
        return Outcome("ok", (_num(data), stat.version))

    def get(self, key):
        o = self._read(key)
        if o.status != "ok":
            return o
        return _ok(None if o.result is None else o.result[0])

    def put(self, key, value):
        if not self._connected():
            return Outcome("refused", None, "not connected")
        o = self._wait(self.zk.set_async(self.path(key), str(value).encode()), write=True)
        return o if o.status != "ok" else _ok()

    def cas(self, key, old, new):
        o = self._read(key)
        if o.status != "ok":
            return Outcome("refused", None, f"read before cas: {o.status} {o.error}")
        if o.result is None or o.result[0] != old:
            return Outcome("fail")
        if not self._connected():
            return Outcome("refused", None, "not connected")
        w = self._wait(self.zk.set_async(self.path(key), str(new).encode(),
                                         version=o.result[1]), write=True)
        return w if w.status != "ok" else _ok()

    def close(self):
        try:
            self.zk.stop()
            self.zk.close()
        except Exception:  # noqa: BLE001 - closing a dead session
            pass


def adapter(cluster, member, *, read=None, timeout: float = 1.0, namespace: str = ""):
    """A key-value adapter to ``member`` of ``cluster`` with the read mode ``read``; keys
    are stored under ``namespace`` (each workload takes a fresh one, so runs on one cluster
    all start from absent keys)."""
    system = cluster.system
    modes = READ_MODES[system]
    read = modes[0] if read is None else read
    if read not in modes:
        raise ValueError(f"reads must be one of {', '.join(map(repr, modes))} for "
                         f"{system}; got {read!r}")
    m = cluster.member(member)
    if system == "redis":
        return RedisKV(m.port, timeout=timeout, namespace=namespace)
    if system == "etcd":
        return EtcdKV(m.port, timeout=timeout, read=read, namespace=namespace)
    return ZooKeeperKV(m.port, timeout=timeout, read=read, namespace=namespace,
                       session_timeout=max(4.0, 20 * cluster.settings["tick"]))


def wait_until(pred, timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())
