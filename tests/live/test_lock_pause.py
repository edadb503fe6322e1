"""A lock holder paused at a chosen point of its loop (``live.lock_pause(point=...)``).

``c1`` runs acquire → read → work → write → release and is paused once, past its lease;
``c2`` acquires when the lease lapses.  Where the pause falls decides what breaks: a pause
between the read and the write loses an update unless the store checks the fencing token;
a pause right after the acquire (same length) or just before the release leaves the store
safe, though both clients believed they held the lock at once.
"""

import pytest
from conftest import need

from dsalgo import live, locks


def _writes(run):
    ev = run.events
    return ev[ev["kind"].astype(str) == "write"].set_index("client")


def _pause(run):
    assert run.faults["kind"].tolist() == ["pause"]
    return run.faults.iloc[0]


def test_bad_pause_arguments_name_the_parameter():
    need("redis")
    with live.redis() as c:
        with pytest.raises(ValueError, match="point must be one of 'after_acquire', "
                           "'after_read', 'before_write', 'before_release'; got 'midway'"):
            live.lock_pause(c, point="midway")
        with pytest.raises(TypeError, match="point must be a str"):
            live.lock_pause(c, point=1)
        with pytest.raises(ValueError, match="pause"):
            live.lock_pause(c, point="before_write", pause=-1)


@pytest.mark.parametrize("point", list(live.PAUSE_POINTS))
def test_redlock_holder_paused_at_each_point(point):
    need("redis")
    with live.redis(n=3) as c:
        run = live.lock_pause(c, point=point, ttl=0.3, pause=0.8)
    v = locks.check(run)
    pause = _pause(run)
    w = _writes(run)
    assert run.params["point"] == point and run.params["pause"] == 0.8
    assert point in pause["detail"] and live.PAUSE_POINTS[point] in pause["detail"]
    assert pause["t_end"] - pause["t_start"] >= 0.8
    assert not v.holds("mutual_exclusion")        # both believed, at every point
    assert v.info["writes_accepted"] == 2 and v.info["writes_rejected"] == 0
    if point in ("after_read", "before_write"):
        # c1 read before c2's write and wrote after it: c2's update is lost
        assert not v.holds("storage_safety")
        assert w.loc["c1", "read_version"] == 0 and w.loc["c1", "time"] > w.loc["c2", "time"]
    elif point == "after_acquire":
        # c2 wrote during the pause; c1 read only after waking, so it saw that write
        assert w.loc["c2", "time"] < pause["t_end"]
        assert v.holds("storage_safety") and w.loc["c1", "read_version"] == 1
    else:   # before_release: c1 wrote before the pause, c2 read that write
        assert w.loc["c1", "time"] < pause["t_start"]
        assert v.holds("storage_safety") and w.loc["c2", "read_version"] == 1


@pytest.mark.parametrize("point", ["after_acquire", "before_write"])
def test_zookeeper_lock_holder_paused_at_a_point_with_and_without_fencing(point):
    """Same pause length at both points: before the write only fencing keeps the store
    safe; right after the acquire the store is safe either way (with fencing ``c1``'s late
    read is refused and it writes nothing)."""
    need("zookeeper")
    runs = {}
    with live.zookeeper(n=3) as c:
        for fencing in (True, False):
            runs[fencing] = live.lock_pause(c, point=point, session_timeout=1.0, pause=2.0,
                                            fencing=fencing)
    for fencing, run in runs.items():
        v = locks.check(run)
        pause = _pause(run)
        w = _writes(run)
        kinds = run.events["kind"].astype(str)
        assert run.params["point"] == point and run.params["fencing"] is fencing
        assert point in pause["detail"] and pause["t_end"] - pause["t_start"] >= 2.0
        assert not v.holds("mutual_exclusion")    # c1 still believed while c2 held
        assert "expire" in set(kinds)             # c1 learnt it lost its session, afterwards
        assert w.loc["c2", "time"] < pause["t_end"]   # c2 got the lock during the pause
        if point == "before_write":
            assert v.holds("storage_safety") is fencing
            assert v.info["writes_rejected"] == (1 if fencing else 0)
            assert "abort" not in set(kinds)
        else:
            assert v.holds("storage_safety")
            assert v.info["writes_rejected"] == 0
            if fencing:   # c1's read carried an older token than c2's: refused, no write
                assert "c1" not in w.index and "abort" in set(kinds)
                assert v.info["writes_accepted"] == 1
            else:         # c1 read c2's write after waking
                assert w.loc["c1", "read_version"] == 1 and v.info["writes_accepted"] == 2
