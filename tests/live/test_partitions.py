"""Partitions between real servers, inside a private network namespace made for the run.

The gating finding (deterministic): an etcd leader cut from the majority for 3 s keeps
answering *serializable* reads from its own state while the majority elects a new leader
and accepts writes — the reads are stale by more than a second and the history is not
linearizable; *linearizable* reads (ReadIndex, through a quorum) stay linearizable under
the same partition.  Around it: the rules are only ever written inside the run's own
namespace, the partition is healed and recorded, and nothing is left running.
"""

import math
import os
import shutil
import subprocess
import threading
import time

import pytest
from conftest import need

from dsalgo import check, live

LIN = "linearizability"
FAST = dict(heartbeat_interval=0.05, election_timeout=0.5)
CUT = [live.Partition([["leader"]], at=0.5, duration=3.0)]


def need_netns():
    try:
        live.require_netns()
    except live.LiveUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"live tests must run in CI: {e}")
        pytest.skip(str(e))


def host_tables():
    """The nftables tables of the machine's own namespace (read, never written)."""
    nft = shutil.which("nft") or "/usr/sbin/nft"
    return subprocess.run([nft, "list", "tables"], capture_output=True, text=True,
                          check=True).stdout


def etcd_cut(reads, seed):
    return live.isolated_kv("etcd", n=3, server=FAST, clients=6, ops=1000, reads=reads,
                            seed=seed, rate=40, time_limit=20, keys=4,
                            mix=(0.8, 0.15, 0.05), nemesis=CUT, timeout=0.5,
                            max_seconds=120)


def check_contained(run):
    assert live.netns_processes(run.params["netns"]) == []
    assert run.params["netns"] != os.stat("/proc/self/ns/net").st_ino
    assert "dsalgo" not in host_tables()


def test_etcd_serializable_reads_on_a_leader_cut_from_the_majority_are_stale():
    need("etcd")
    need_netns()
    before = host_tables()
    run = etcd_cut("serializable", seed=1)
    check_contained(run)
    assert host_tables() == before
    cut = run.faults.iloc[0]
    assert run.faults["kind"].tolist() == ["partition"]
    old, rest = cut["target"].split(" | ")
    assert sorted(rest.split(",") + [old]) == ["n1", "n2", "n3"]
    assert 2.9 <= cut["t_end"] - cut["t_start"] <= 3.5
    assert check.linearizable(run.history, "kv").status == "violated"
    stale = live.stale_reads(run)
    # the clients pinned to the old leader (c1 and c4 on n1, c2 and c5 on n2, ...)
    on_old = {f"c{i + 1}" for i in range(6) if f"n{i % 3 + 1}" == old}
    during = stale[(stale["t_invoke"] >= cut["t_start"]) & (stale["t_invoke"] <= cut["t_end"])]
    # the old leader's clients read values stale by far more than a follower's lag behind the
    # leader (milliseconds); a majority-side follower may lag a little too, which is allowed
    cut_off = during[during["process"].isin(on_old)]
    assert len(cut_off) >= 2 and cut_off["stale_by"].max() > 0.5
    others = during[~during["process"].isin(on_old)]
    assert others.empty or others["stale_by"].max() < cut_off["stale_by"].max()
    print(f"\n{len(stale)} stale reads ({len(during)} during the partition, from "
          f"{sorted(set(during['process']))} on {old}), up to "
          f"{during['stale_by'].max():.2f} s stale")


def test_etcd_linearizable_reads_hold_under_the_same_partition():
    need("etcd")
    need_netns()
    run = etcd_cut("linearizable", seed=1)
    check_contained(run)
    assert run.faults["kind"].tolist() == ["partition"]
    assert check.linearizable(run.history, "kv").status == "ok"
    assert live.stale_reads(run).empty
    # the cut-off clients learnt nothing: their requests failed or timed out
    old = run.faults["target"].iloc[0].split(" | ")[0]
    on_old = [f"c{i + 1}" for i in range(6) if f"n{i % 3 + 1}" == old]
    h = run.history
    cut = run.faults.iloc[0]
    inside = h[h["process"].isin(on_old) & (h["t_invoke"] > cut["t_start"] + 0.1)
               & (h["t_invoke"] < cut["t_end"] - 1.0)]
    assert len(inside) and not (inside["status"] == "ok").any()


def test_a_one_way_partition_is_recorded_with_the_simulator_notation():
    need("etcd")
    need_netns()
    run = live.isolated_kv("etcd", n=3, server=FAST, clients=3, ops=200, rate=40,
                           seed=2, keys=3, time_limit=20,
                           nemesis=[live.Partition([["n1"], ["n2", "n3"]], at=0.2,
                                                   duration=1.0, one_way=True)])
    check_contained(run)
    f = run.faults.iloc[0]
    assert (f["kind"], f["target"]) == ("partition", "n1 -> n2,n3")
    assert "one way" in f["detail"]
    assert check.linearizable(run.history, "kv").status == "ok"


def test_partition_rules_are_never_written_in_the_machines_own_namespace():
    need("etcd")
    from dsalgo.live import netns

    with pytest.raises(RuntimeError, match="refusing to write nftables rules"):
        netns._nft("table inet x {}\n")
    with live.etcd(n=3) as c:
        assert all(m.uid is None for m in c.members)
        with pytest.raises(RuntimeError, match="own user id"):
            live.Partition([["n1"]], duration=0.1).apply(c, live.Recorder(),
                                                         threading.Event())
        with pytest.raises(RuntimeError, match="the nemesis failed"):
            live.kv_workload(c, clients=1, ops=50, rate=50, time_limit=5,
                             nemesis=[live.Partition([["leader"]], at=0.1, duration=0.1)])
    assert "dsalgo" not in host_tables()


def test_an_isolated_run_is_bounded_and_leaves_nothing_behind():
    need("etcd")
    need_netns()
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="max_seconds=3") as e:   # servers up, load slow
        live.isolated_kv("etcd", n=3, clients=1, ops=1000, rate=1, time_limit=60,
                         max_seconds=3)
    assert time.monotonic() - t0 < 25
    assert e.value.netns is not None and live.netns_processes(e.value.netns) == []
    with pytest.raises(RuntimeError, match="reads must be one of") as e:
        live.isolated_kv("etcd", n=3, reads="eventual", max_seconds=60)
    assert live.netns_processes(e.value.netns) == []
    assert "dsalgo" not in host_tables()


def test_partition_arguments():
    with pytest.raises(ValueError, match="disjoint"):
        live.Partition([["n1", "n2"], ["n2"]])
    with pytest.raises(TypeError, match="sequence of groups"):
        live.Partition("n1")
    with pytest.raises(ValueError, match="duration must be"):
        live.Partition([["n1"]], duration=-1)
    with pytest.raises(ValueError, match="one_way needs"):
        live.Partition([["n1"], ["n2"], ["n3"]], one_way=True)
    assert live.Partition([["n1"]], at=1, duration=2).at == 1.0
    assert not math.isnan(live.Partition([["n1"]]).duration)
