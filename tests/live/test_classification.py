"""Outcome classification: the adapters must not turn an unknown outcome into a known one.

A refused request is ``fail`` (a refused ``cas`` is left out: its compare never ran); a
timeout or a reset after sending is ``info``; client libraries never resend a request.
Fake servers on loopback sockets make each case happen on purpose.
"""

import json
import math
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import need

from dsalgo import check, live


class FakeRedis:
    """Accepts connections and answers each command with ``reply`` (None: close at once),
    counting the commands it received."""

    def __init__(self, reply):
        self.reply = reply
        self.commands = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while self._answer(conn):
                    pass

    def _answer(self, conn) -> bool:
        data = conn.recv(65536)
        if not data:
            return False
        for command in data.split(b"*")[1:]:       # one RESP array per command
            if b"CLIENT" in command:                # redis-py's handshake: say OK
                conn.sendall(b"+OK\r\n")
                continue
            self.commands += 1
            if self.reply is None:
                return False   # close: a reset after the request was sent
            conn.sendall(self.reply)
        return True

    def close(self):
        self.sock.close()


def _closed_port():
    s = socket.create_server(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_redis_refused_connection_is_refused_and_sends_nothing():
    need("redis")
    kv = live.RedisKV(_closed_port(), timeout=0.5)
    for o in (kv.get(1), kv.put(1, 2), kv.cas(1, 2, 3)):
        assert o.status == "refused" and "connect" in o.error


def test_redis_reset_after_sending_is_info_and_never_retried():
    need("redis")
    fake = FakeRedis(None)
    kv = live.RedisKV(fake.port, timeout=0.5)
    try:
        assert kv.put(1, 2).status == "info"
        assert fake.commands == 1      # redis-py's default Retry would have resent it
        assert kv.cas(1, 2, 3).status == "info"
        assert fake.commands == 2
    finally:
        fake.close()


def test_redis_error_reply_is_refused():
    need("redis")
    fake = FakeRedis(b"-LOADING Redis is loading the dataset in memory\r\n")
    kv = live.RedisKV(fake.port, timeout=0.5)
    try:
        o = kv.cas(1, 2, 3)
        assert o.status == "refused" and "loading" in o.error
    finally:
        fake.close()


def test_redis_timeout_of_a_paused_server_is_info():
    need("redis")
    with live.redis() as c:
        kv = live.adapter(c, "n1", timeout=0.3)
        assert kv.put(1, 5).status == "ok"
        c.members[0].pause()
        assert kv.put(1, 6).status == "info"
        c.members[0].resume()
        kv.close()


class _Etcd(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"error": "etcdserver: request timed out", "code": 14}).encode()
        self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_etcd_error_answers_are_info_for_writes_and_refused_for_reads():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Etcd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        kv = live.EtcdKV(server.server_address[1], timeout=1.0)
        assert kv.put(1, 2).status == "info"
        assert kv.cas(1, 2, 3).status == "info"   # "timed out": the proposal may commit
        assert kv.get(1).status == "refused"
        refused = live.EtcdKV(_closed_port(), timeout=0.5)
        assert refused.cas(1, 2, 3).status == "refused"
    finally:
        server.shutdown()
        server.server_close()


class _Async:
    def __init__(self, exc):
        self.exc = exc

    def get(self, timeout=None):
        raise self.exc


@pytest.mark.parametrize("exc,write,status", [
    ("ConnectionLoss", True, "info"), ("ConnectionLoss", False, "info"),
    ("SessionExpiredError", True, "refused"), ("BadVersionError", True, "refused"),
    ("NoAuthError", True, "info"), ("NoAuthError", False, "refused")])
def test_zookeeper_errors(exc, write, status):
    need("zookeeper")
    from kazoo import exceptions

    kv = live.ZooKeeperKV.__new__(live.ZooKeeperKV)
    kv.timeout = 0.1
    assert kv._wait(_Async(getattr(exceptions, exc)()), write=write).status == status


def test_the_recorder_drops_a_refused_cas_and_keeps_info_open():
    rec = live.Recorder()
    outcomes = iter([live.Outcome("ok"), live.Outcome("refused", None, "connect"),
                     live.Outcome("refused", None, "connect"), live.Outcome("info"),
                     live.Outcome("fail")])
    answer = lambda: next(outcomes)
    rec.op("c1", "put", 0, 1, answer)
    rec.op("c1", "cas", 0, [1, 2], answer)         # never evaluated: not a failed compare
    rec.op("c1", "put", 0, 9, answer)              # refused put: fail
    rec.op("c2", "cas", 0, [1, 3], answer)         # unknown: info, no completion
    rec.op("c2", "cas", 0, [5, 6], answer)         # compare evaluated and false
    run = rec.run(params={}, seed=0, nodes=["n1"])
    h = run.history
    assert h["f"].tolist() == ["put", "put", "cas", "cas"]
    assert h["status"].tolist() == ["ok", "fail", "info", "fail"]
    assert math.isnan(h["t_complete"].iloc[2])
    assert (run.events["kind"] == "refused").sum() == 2
    assert check.linearizable(h, "kv").holds("linearizability")


def test_a_refused_cas_recorded_as_fail_would_be_a_false_violation():
    """Why the drop matters: the same refused cas as a failed compare breaks the history."""
    runs = []
    for answer in (live.Outcome("refused", None, "connect"), live.Outcome("fail")):
        rec = live.Recorder()
        rec.op("c1", "put", 0, 1, lambda: live.Outcome("ok"))
        rec.op("c1", "cas", 0, [1, 2], lambda a=answer: a)
        runs.append(rec.run(params={}, seed=0, nodes=["n1"]).history)
    good, bad = runs
    assert len(good) == 1 and len(bad) == 2
    assert check.linearizable(good, "kv").holds("linearizability")
    assert not check.linearizable(bad, "kv").holds("linearizability")
