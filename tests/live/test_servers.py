"""Starting and stopping real servers: probes, restarts, and cleanup that leaks nothing."""

import os
import shutil
import subprocess
import sys

import pytest
from conftest import need

from dsalgo import live


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie still answers kill 0; its state says it is dead
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize("system,package", [("redis", "redis-server"), ("etcd", "etcd-server"),
                                            ("zookeeper", "zookeeper")])
def test_a_missing_binary_names_the_debian_package(monkeypatch, system, package):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(live.LiveUnavailable, match=f"'{package}'.*make live-deps"):
        getattr(live, system)()


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="appendfsync must be"):
        live.redis(appendfsync="always!")
    with pytest.raises(ValueError, match="election_timeout must be at least"):
        live.etcd(heartbeat_interval=0.1, election_timeout=0.2)
    with pytest.raises(ValueError, match="clock_skew names members"):
        live.zookeeper(n=1, clock_skew={"n2": 3})


def test_paused_servers_are_killed_when_the_block_raises():
    need("redis")
    with pytest.raises(RuntimeError, match="boom"), live.redis(n=2) as c:
        pids = c.pids()
        tmp = c.tmp
        for m in c.members:
            m.pause()
        raise RuntimeError("boom")
    assert all(_gone(p) for p in pids)
    assert not tmp.exists()


def test_servers_left_open_die_at_interpreter_exit():
    need("redis")
    code = ("from dsalgo import live\n"
            "c = live.redis(n=1).__enter__()\n"
            "c.members[0].pause()\n"
            "print(c.members[0].pid, flush=True)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    pid = int(out.stdout.split()[0])
    assert _gone(pid)


def test_kill_and_restart_on_the_same_data_directory():
    need("redis")
    with live.redis(appendfsync="always") as c:
        kv = live.adapter(c, "n1")
        assert kv.put(7, 42).status == "ok"
        old = c.members[0].pid
        c.members[0].kill()
        assert _gone(old)
        assert kv.get(7).status in ("refused", "info")
        c.restart("n1")
        kv2 = live.adapter(c, "n1")
        assert kv2.get(7) == live.Outcome("ok", 42)
        kv.close()
        kv2.close()


def test_etcd_and_zookeeper_find_their_leader():
    need("etcd")
    need("zookeeper")
    with live.etcd(n=3) as e:
        assert e.resolve("leader").name in e.names
        assert e.resolve("follower") is not e.resolve("leader")
    with live.zookeeper(n=3) as z:
        assert z.mode(z.resolve("leader")) == "leader"
        assert {z.mode(m) for m in z.members} == {"leader", "follower"}
