"""dsalgo.histories: Jepsen log and EDN readers, Porcupine JSON and ShiViz writers."""

import json
import math
import re

import pandas as pd
import pytest

from dsalgo import sim
from dsalgo.check import linearizable
from dsalgo.check.models import Register
from dsalgo.histories import (
    HISTORY_COLUMNS,
    history_table,
    read_edn,
    read_jepsen_log,
    to_porcupine_json,
    to_shiviz,
)
from dsalgo.histories.edn import EDNError, parse_edn

LOG = """\
2017-01-01 00:00:00 some other log line that is ignored
INFO  jepsen.util - Relative time begins now
INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 1   :invoke :cas    [1 2]
INFO  jepsen.util - 0\t:ok\t:read\t1
INFO  jepsen.util - 1\t:fail\t:cas\t[1 2]
INFO  jepsen.util - 2\t:invoke\t:write\t4
INFO  jepsen.util - 2\t:info\t:write\t:timed-out
INFO  jepsen.util - 3\t:invoke\t:read\tnil
INFO  jepsen.util - 3\t:fail\t:read\t:timed-out
INFO  jepsen.util - :nemesis\t:info\t:start\tnil
INFO  jepsen.util - 4\t:invoke\t:write\t5
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# ----------------------------------------------------------------- Jepsen logs


def test_read_jepsen_log(tmp_path):
    h = read_jepsen_log(write(tmp_path, "j.log", LOG))
    assert list(h.columns) == HISTORY_COLUMNS
    assert h["f"].tolist() == ["get", "cas", "put", "get", "put"]
    assert h["status"].tolist() == ["ok", "fail", "info", "fail", "info"]
    assert h["value"].tolist() == [None, [1, 2], 4, None, 5]
    assert h["result"].tolist() == [1, None, None, None, None]
    assert h["t_invoke"].tolist() == [3.0, 4.0, 7.0, 9.0, 12.0]
    assert h["t_complete"].tolist()[:2] == [5.0, 6.0]
    assert math.isnan(h["t_complete"][2]) and math.isnan(h["t_complete"][4])
    assert h["t_complete"][3] == 10.0
    assert str(h["status"].dtype) == "category"


def test_jepsen_log_is_checked(tmp_path):
    h = read_jepsen_log(write(tmp_path, "j.log", LOG))
    assert not linearizable(h)          # the read of 1 before anything wrote 1
    ok = LOG.replace(":ok\t:read\t1", ":ok\t:read\tnil")
    assert bool(linearizable(read_jepsen_log(write(tmp_path, "k.log", ok))))


@pytest.mark.parametrize("line, message", [
    ("INFO  jepsen.util - 0\t:invoke", r"line 2: expected '<process> :<type> :<f> <value>'"),
    ("INFO  jepsen.util - x\t:invoke\t:read\tnil", r"line 2: expected an integer process"),
    ("INFO  jepsen.util - 0\t:start\t:read\tnil", (r"line 2: expected an event type :invoke, "
                                                  r":ok, :fail or :info; got :start")),
    ("INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2", (r"line 2: expected an EDN value after "
                                                   r":cas; unclosed '\['")),
    ("INFO  jepsen.util - 5\t:ok\t:read\t1", (r"line 2: a :ok completion for process 5 with "
                                             r"no pending :invoke")),
    ("INFO  jepsen.util - 0\t:invoke\t:read\tnil", (r"line 2: process 0 invokes get while its "
                                                   r"operation from line 1 is still pending")),
    ("INFO  jepsen.util - 0\t:ok\t:write\t1", (r"line 2: a :ok :put completes process 0's "
                                              r":invoke :get from line 1; expected :get")),
])
def test_malformed_jepsen_lines(tmp_path, line, message):
    p = write(tmp_path, "bad.log", "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n" + line + "\n")
    with pytest.raises(ValueError, match=re.escape(str(p)) + ", " + message):
        read_jepsen_log(p)


def test_missing_log_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_jepsen_log(tmp_path / "nope.log")


# ----------------------------------------------------------------- EDN


def test_read_edn_with_keys_and_times(tmp_path):
    text = ('{:process 0, :type :invoke, :f :write, :key "a", :value 1, :time 1000000000}\n'
            '\n'
            '{:process :nemesis, :type :info, :f :start, :value nil}\n'
            '{:process 1, :type :invoke, :f :read, :key "a", :value nil, :time 1500000000}\n'
            '{:process 0, :type :ok, :f :write, :key "a", :value 1, :time 2000000000}\n'
            '{:process 1, :type :ok, :f :read, :key "a", :value 1, :time 2500000000}\n')
    h = read_edn(write(tmp_path, "h.edn", text))
    assert h["f"].tolist() == ["put", "get"]
    assert h["key"].tolist() == ["a", "a"]
    assert h["t_invoke"].tolist() == [1.0, 1.5] and h["t_complete"].tolist() == [2.0, 2.5]
    assert h["result"].tolist() == [None, 1]
    assert bool(linearizable(h, "kv"))


@pytest.mark.parametrize("line, message", [
    ('{:process 0, :type :ok', r"line 2: expected EDN maps; unclosed '\{' opened at column 0"),
    ('[:process 0]', r"line 2: expected an EDN map \{:process …, :type …, :f …\}; got list"),
    ('{:process 0, :f :get}', r"line 2: expected keys :process, :type and :f; missing :type"),
    ('{:process 0, :type :ok, :f :put, :value 1}',
     r"line 2: a :ok :put completes process 0's :invoke :get from line 1"),
    ('{:process 0, :type :ok, :f}', (r"line 2: expected EDN maps; map opened at column 0 has "
                                    r"an odd number of forms")),
])
def test_malformed_edn_lines(tmp_path, line, message):
    first = '{:process 0, :type :invoke, :f :get, :key "k", :value nil}\n'
    p = write(tmp_path, "bad.edn", first + line + "\n")
    with pytest.raises(ValueError, match=re.escape(str(p)) + ", " + message):
        read_edn(p)


@pytest.mark.parametrize("text, value", [
    ("nil", None), ("true", True), ("-12", -12), ("3N", 3), ("1.5", 1.5), ('"a b"', "a b"),
    (":ok", "ok"), ("[1 [2 nil]]", [1, [2, None]]), ("(1 2)", [1, 2]), ("#{1}", frozenset({1})),
    ("{:a 1, :b [2]}", {"a": 1, "b": [2]}), ("[1 #_ 2 3]", [1, 3]), ('"q\\"x\\n"', 'q"x\n'),
    ("#inst \"2017\"", "2017"), ("; note\n5", 5),
])
def test_parse_edn_values(text, value):
    assert parse_edn(text) == value


@pytest.mark.parametrize("text, message", [
    ("[1 2", "unclosed '\\['"), ("]", "unexpected '\\]' at character 0"),
    ("1 2", "expected one EDN form; found 2"), ("12abc", "not a number: '12abc'"),
    ('"open', "unexpected character '\"' at character 0"),
])
def test_parse_edn_errors(text, message):
    with pytest.raises(EDNError, match=message):
        parse_edn(text)


# ----------------------------------------------------------------- writers


def _history():
    return history_table([(0, "c1", "put", "x", 1, None, 0.0, 0.5, "ok"),
                          (1, "c2", "cas", "x", [1, 2], None, 0.2, 0.7, "fail"),
                          (2, "c1", "get", "x", None, 1, 1.0, float("nan"), "info")])


def test_to_porcupine_json(tmp_path):
    p = tmp_path / "h.json"
    to_porcupine_json(_history(), p)
    ops = json.loads(p.read_text())
    assert [o["ClientId"] for o in ops] == [0, 1, 0]
    assert [o["Call"] for o in ops] == [0, 200_000_000, 1_000_000_000]
    assert ops[0]["Return"] == 500_000_000 and ops[1]["Return"] == 700_000_000
    assert ops[2]["Return"] == 1_000_000_001 and ops[2]["Output"]["unknown"] is True
    assert ops[1]["Input"] == {"op": "cas", "key": "x", "value": [1, 2]}
    assert ops[1]["Output"] == {"value": None, "status": "fail", "unknown": False}


def test_to_porcupine_json_bad_input(tmp_path):
    with pytest.raises(TypeError, match="history must be a pandas DataFrame .*got dict"):
        to_porcupine_json({}, tmp_path / "x.json")
    with pytest.raises(ValueError, match=r"history is missing columns \['status'\]"):
        to_porcupine_json(_history().drop(columns="status"), tmp_path / "x.json")
    assert not list(tmp_path.iterdir())


def test_failed_write_leaves_no_partial_file(tmp_path):
    h = _history()
    h.loc[0, "value"] = object()          # not JSON-serialisable
    with pytest.raises(TypeError):
        to_porcupine_json(h, tmp_path / "x.json")
    assert not list(tmp_path.iterdir())


class _Relay(sim.Node):
    def on_start(self, ctx):
        if ctx.id == "n1":
            ctx.send("n2", ("Ping", 0))

    def on_message(self, ctx, src, msg):
        if msg[1] < 3:
            ctx.send("n3" if ctx.id == "n2" else "n2", ("Ping", msg[1] + 1))


def test_to_shiviz_vector_clocks(tmp_path):
    s = sim.Simulation(seed=1, network=sim.Network(latency=sim.Constant(0.01)))
    for n in ("n1", "n2", "n3"):
        s.add_node(n, _Relay)
    run = s.run(until=1.0)
    p = tmp_path / "run.log"
    to_shiviz(run, p)
    lines = p.read_text().splitlines()
    assert lines[0] == r"(?<host>\S*) (?<clock>{.*})\n(?<event>.*)" and lines[1] == ""
    events = list(zip(lines[2::2], lines[3::2]))
    assert len(events) == 2 * len(run.messages)       # a send and a delivery each
    hosts = [e[0].split(" ", 1)[0] for e in events]
    clocks = [json.loads(e[0].split(" ", 1)[1]) for e in events]
    assert hosts[:2] == ["n1", "n2"]
    assert clocks[-1] == {"n1": 1, "n2": 4, "n3": 3}   # n2 -> n3 -> n2 -> n3 relay
    assert events[0][1].startswith("send ")


def test_to_shiviz_dropped_message(tmp_path):
    msgs = pd.DataFrame({"msg_id": [0], "src": ["n1"], "dst": ["n2"], "type": ["Ping"],
                         "t_send": [0.0], "t_deliver": [float("nan")], "status": ["dropped"]})
    to_shiviz(msgs, tmp_path / "d.log")
    assert (tmp_path / "d.log").read_text().splitlines()[2:] == [
        'n1 {"n1": 1}', "send Ping to n2 (msg 0) t=0s [dropped]"]


def test_to_shiviz_bad_input(tmp_path):
    with pytest.raises(TypeError, match="run.messages must be a pandas DataFrame"):
        to_shiviz(42, tmp_path / "x.log")
    with pytest.raises(ValueError, match=r"run.messages is missing columns \['t_deliver'\]"):
        to_shiviz(pd.DataFrame({"msg_id": [], "src": [], "dst": [], "type": [], "t_send": [],
                                "status": []}), tmp_path / "x.log")


# ---------------------------------------------- malformed EDN times name the file and the line
def _write_edn(tmp_path, text):
    p = tmp_path / "h.edn"
    p.write_text(text)
    return p


def test_non_numeric_time_names_file_and_line(tmp_path):
    p = _write_edn(tmp_path, '{:process 0, :type :invoke, :f :put, :value 1, :time "abc"}\n')
    with pytest.raises(ValueError, match=r"h\.edn, line 1: expected :time to be a finite "
                                         r"number of nanoseconds; got 'abc'"):
        read_edn(p)


def test_mixing_time_and_no_time_follows_the_file(tmp_path):
    # as Knossos does: without a :time on every event the file order decides (before, the
    # invoke got t = 1.0, a line number, and the completion t = 5e-9 s)
    p = _write_edn(tmp_path, "{:process 0, :type :invoke, :f :put, :value 1}\n"
                         "{:process 0, :type :ok, :f :put, :value 1, :time 5}\n")
    h = read_edn(p)
    assert h.attrs["clock"] == "file order"
    assert h[["t_invoke", "t_complete"]].values.tolist() == [[1.0, 2.0]]


def test_times_that_go_back_follow_the_file(tmp_path):
    # a completion stamped before its invocation: :time disagrees with the file, which wins
    p = _write_edn(tmp_path, "{:process 0, :type :invoke, :f :put, :value 1, :time 5000}\n"
                         "{:process 0, :type :ok, :f :put, :value 1, :time 10}\n")
    h = read_edn(p)
    assert h.attrs["clock"] == "file order"
    assert h[["t_invoke", "t_complete"]].values.tolist() == [[1.0, 2.0]]


def test_file_order_decides_a_verdict_that_time_would_flip(tmp_path):
    # p1's read of 1 starts after p0's write completes in the file; by :time it would be
    # concurrent with it.  In file order the read of nil (p2) after the write is stale only
    # under porcupine rules; the read of 0 after the write is stale under both.
    text = ("{:process 0, :type :invoke, :f :write, :value 1, :time 100}\n"
            "{:process 0, :type :ok, :f :write, :value 1, :time 300}\n"
            "{:process 1, :type :invoke, :f :read, :value nil, :time 200}\n"
            "{:process 1, :type :ok, :f :read, :value 0, :time 400}\n")
    h = read_edn(_write_edn(tmp_path, text))
    assert h.attrs["clock"] == "file order"
    assert not linearizable(h, Register(initial=0))
    by_time = h.assign(t_invoke=[100e-9, 200e-9], t_complete=[300e-9, 400e-9])
    assert linearizable(by_time, Register(initial=0))


def test_consistent_times_still_read(tmp_path):
    p = _write_edn(tmp_path, "{:process 0, :type :invoke, :f :put, :value 1, :time 1000}\n"
                         "{:process 0, :type :ok, :f :put, :value 1, :time 3000}\n")
    h = read_edn(p)
    assert h[["t_invoke", "t_complete"]].values.tolist() == [[1e-6, 3e-6]]
