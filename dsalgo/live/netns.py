"""Network partitions between real servers, inside a private network namespace.

A partition needs firewall rules, and this module only ever writes them inside a network
namespace made for the run, never in the machine's own:

- :func:`isolated` runs a function in a child Python process started under ``unshare
  --net`` (util-linux).  The child brings up its own loopback, installs a conntrack marking
  table (nftables), then calls the function, which starts the servers *and* runs the
  workload there; the :class:`~dsalgo.sim.Run` it returns is saved with ``Run.save`` and
  loaded back here with :func:`dsalgo.sim.load_run`.  When the child ends (or is stopped at
  ``max_seconds``), every process still in its namespace is killed, so the namespace, its
  rules included, is gone: nothing is named, mounted or left behind.
- Inside it, each server member runs as its own user id, and every new TCP connection is
  marked with the member that opened it (``ct mark``; the workload's clients, as root,
  mark 0).  A connection between two members is thus known by its mark (who opened it)
  and by the listening port of the other: that is what :class:`Partition`'s rules match,
  both directions or one way.
- :class:`Partition` is a nemesis of :func:`dsalgo.live.kv_workload`: at ``at`` seconds
  it adds the rules that drop every packet between the groups, and removes them
  ``duration`` seconds later, on an error too; the row in ``run.faults`` has kind
  ``"partition"`` and the simulator's target notation (``"n1 | n2,n3"``, or ``"->"``
  one way).  It refuses to run outside a namespace made by :func:`isolated`.

Clients are not partitioned: each keeps reaching the member it is pinned to, as a client
co-located with a server would.

Examples
--------
>>> from dsalgo import live
>>> live.Partition([["leader"]], at=1.0, duration=2.0)
Partition(groups=(('leader',),), at=1.0, duration=2.0, one_way=False)
>>> live.Partition([["n1"], ["n1", "n2"]])
Traceback (most recent call last):
ValueError: groups must be disjoint; 'n1' is in two groups
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from .._validate import check_bool, check_number
from .servers import (
    HOST_NETNS_ENV,
    MEMBER_UID_BASE,
    LiveUnavailable,
    etcd,
    in_private_netns,
    netns_id,
    redis,
    zookeeper,
)

__all__ = ["Partition", "isolated", "isolated_kv", "netns_processes", "require_netns",
           "NETNS_PACKAGES"]

#: the tools a partition needs and the Debian package of each
NETNS_PACKAGES = {"unshare": "util-linux", "nft": "nftables", "ip": "iproute2"}
MARK_TABLE = "dsalgo_live_mark"
CUT_TABLE = "dsalgo_live_partition"
_CUT_LOCK = threading.Lock()


def require_netns() -> dict[str, str]:
    """The paths of ``unshare``, ``nft`` and ``ip``; :class:`LiveUnavailable` naming the
    Debian package when one is missing, or when this process is not root.

    Examples
    --------
    >>> from dsalgo import live
    >>> try:
    ...     tools = live.require_netns()
    ... except live.LiveUnavailable as e:
    ...     assert "make live-deps" in str(e) or "root" in str(e)
    ... else:
    ...     assert sorted(tools) == ["ip", "nft", "unshare"]
    """
    out = {}
    for tool, pkg in NETNS_PACKAGES.items():
        path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin:/usr/bin")
        if path is None:
            raise LiveUnavailable(f"{tool} is not installed; install the Debian package "
                                  f"{pkg!r}: `make live-deps` (as root), or `apt-get install "
                                  f"{pkg}`")
        out[tool] = path
    if os.geteuid() != 0:
        raise LiveUnavailable("partitions need root (a private network namespace and "
                              "nftables rules inside it); run as root, as CI does")
    return out


def netns_processes(ns: int) -> list[int]:
    """The pids of every process in the network namespace with inode ``ns``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}/ns/net").st_ino == ns:
                    pids.append(int(entry))
    return pids


def _nft(script: str) -> None:
    if not in_private_netns():   # the one guard every rule goes through
        raise RuntimeError("refusing to write nftables rules outside a private network "
                           "namespace made by dsalgo.live.isolated")
    r = subprocess.run([shutil.which("nft") or "/usr/sbin/nft", "-f", "-"], input=script,
                       text=True, capture_output=True, timeout=10)
    if r.returncode != 0:
        raise RuntimeError(f"nft failed ({r.returncode}): {r.stderr.strip()}\n{script}")


def _mark_script() -> str:
    """Mark every new connection with the member (1…7) whose user id opened it."""
    rules = "\n".join(f"    ct state new meta skuid {MEMBER_UID_BASE + i} ct mark set {i}"
                      for i in range(1, 8))
    return (f"table inet {MARK_TABLE} {{\n  chain out {{\n    type filter hook output "
            f"priority -10; policy accept;\n{rules}\n  }}\n}}\n")


# ------------------------------------------------------------------ the nemesis
@dataclass(frozen=True)
class Partition:
    """Cut the network between groups of members at ``at`` seconds for ``duration``.

    Parameters
    ----------
    groups : sequence of sequences of str
        Member names, ``"leader"`` or ``"follower"`` (resolved when the partition starts).
        One group: it is cut from every other member.  Several: every pair of groups is
        cut; members in no group keep talking to everyone.
    at, duration : float
        Start, seconds from the start of the workload, and length; the rules are always
        removed when it ends (or the workload ends first, or on an error).
    one_way : bool
        Drop only the packets from the first group to the second (two groups), as the
        simulator's ``Partition(..., one_way=True)``.
    """

    groups: tuple
    at: float = 1.0
    duration: float = 2.0
    one_way: bool = False

    def __post_init__(self):
        if isinstance(self.groups, str) or not hasattr(self.groups, "__iter__"):
            raise TypeError(f"groups must be a sequence of groups of member names; got "
                            f"{self.groups!r}")
        groups = []
        for g in self.groups:
            if isinstance(g, str) or not hasattr(g, "__iter__"):
                raise TypeError(f"groups must be a sequence of groups of member names; got "
                                f"the group {g!r}")
            g = tuple(g)
            if not g or not all(isinstance(x, str) for x in g):
                raise ValueError(f"each group must hold member names; got {g!r}")
            groups.append(g)
        if not groups:
            raise ValueError("groups must hold at least one group; got none")
        seen = set()
        for g in groups:
            for x in g:
                if x in seen:
                    raise ValueError(f"groups must be disjoint; {x!r} is in two groups")
                seen.add(x)
        object.__setattr__(self, "groups", tuple(groups))
        object.__setattr__(self, "at", check_number("at", self.at, low=0, high=600))
        object.__setattr__(self, "duration",
                           check_number("duration", self.duration, low=0, high=600))
        object.__setattr__(self, "one_way", check_bool("one_way", self.one_way))
        if self.one_way and len(groups) not in (1, 2):
            raise ValueError(f"one_way needs one or two groups (from the first to the "
                             f"second); got {len(groups)}")

    def resolve(self, cluster) -> list[list]:
        """The groups as lists of :class:`~dsalgo.live.Member` (a single group gets the
        rest of the members as the other side)."""
        groups = [[cluster.resolve(x) for x in g] for g in self.groups]
        named = {m.name for g in groups for m in g}
        if len(named) != sum(map(len, groups)):
            raise ValueError(f"the groups {self.groups!r} name one member twice once "
                             f"'leader'/'follower' are resolved")
        if len(groups) == 1:
            rest = [m for m in cluster.members if m.name not in named]
            if not rest:
                raise ValueError(f"the group {self.groups[0]!r} holds every member: "
                                 f"nothing to cut it from")
            groups.append(rest)
        return groups

    def rules(self, cluster, groups) -> str:
        """The nftables script that cuts ``groups`` (lists of members)."""
        def uid_mark(m):
            if m.uid is None:
                raise RuntimeError(f"member {m.name} does not run under its own user id; "
                                   f"partitions work on clusters started inside "
                                   f"dsalgo.live.isolated")
            return m.uid - MEMBER_UID_BASE

        pairs = []
        for i, a in enumerate(groups):
            for j, b in enumerate(groups):
                if i != j and (not self.one_way or (i, j) == (0, 1)):
                    pairs.append((a, b))
        lines = []
        for a_group, b_group in pairs:       # drop every packet from a member of a to one of b
            for a in a_group:
                for b in b_group:
                    pa = ", ".join(map(str, cluster.ports_of(a)))
                    pb = ", ".join(map(str, cluster.ports_of(b)))
                    # a opened the connection to one of b's ports: a's packets
                    lines.append(f"    ct mark {uid_mark(a)} tcp dport {{ {pb} }} drop")
                    # b opened the connection to one of a's ports: a's answers
                    lines.append(f"    ct mark {uid_mark(b)} tcp sport {{ {pa} }} drop")
        body = "\n".join(lines)
        return (f"table inet {CUT_TABLE} {{\n  chain out {{\n    type filter hook output "
                f"priority 0; policy accept;\n{body}\n  }}\n}}\n")

    def apply(self, cluster, rec, stop: threading.Event):
        groups = self.resolve(cluster)
        script = self.rules(cluster, groups)
        sep = " -> " if self.one_way else " | "
        target = sep.join(",".join(m.name for m in g) for g in groups)
        with _CUT_LOCK:
            t0 = rec.now()
            try:
                _nft(script)
                stop.wait(self.duration)
            finally:
                _heal()
                rec.fault("partition", target, t0, rec.now(),
                          f"nftables drop by port inside the run's network namespace"
                          f"{', one way' if self.one_way else ''} ({self.groups!r})")


def _heal() -> None:
    """Remove the partition table if it is there (the marking table stays)."""
    with contextlib.suppress(RuntimeError):
        _nft(f"table inet {CUT_TABLE} {{}}\ndelete table inet {CUT_TABLE}\n")


# ------------------------------------------------------------------ the isolated child
def isolated(fn, *args, max_seconds: float = 300.0, **kwargs):
    """``fn(*args, **kwargs)`` in a child process inside a private network namespace.

    ``fn`` must be importable (a module-level function) and its arguments picklable.  The
    child starts under ``unshare --net``, brings up loopback, installs the connection
    marking :class:`Partition` needs, and calls ``fn``; a :class:`~dsalgo.sim.Run` comes
    back through ``Run.save``/``load_run`` (with ``params["netns"]``, the namespace's
    inode), anything else through pickle.  At the end, or after ``max_seconds`` (SIGTERM,
    then SIGKILL), every process left in the namespace is killed, so the namespace and
    its rules are gone.  An error in the child is raised here as ``RuntimeError`` with the
    child's traceback (its ``netns`` attribute is the namespace's inode).

    Examples
    --------
    >>> from dsalgo import live
    >>> live.isolated(print, max_seconds=0.5)
    Traceback (most recent call last):
    ValueError: max_seconds must be in [1, 3600]; got 0.5
    """
    max_seconds = check_number("max_seconds", max_seconds, low=1, high=3600)
    if not callable(fn):
        raise TypeError(f"fn must be a module-level function; got {fn!r}")
    tools = require_netns()
    from .. import sim

    tmp = Path(tempfile.mkdtemp(prefix="dsalgo-netns-"))
    ns = None
    try:
        with open(tmp / "call.pkl", "wb") as f:
            pickle.dump((fn, args, kwargs), f)
        env = dict(os.environ, **{HOST_NETNS_ENV: str(netns_id())})
        with open(tmp / "child.log", "wb") as log:
            proc = subprocess.Popen([tools["unshare"], "--net", "--", sys.executable, "-m",
                                     "dsalgo.live.netns", str(tmp)],
                                    stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True)
        timed_out = False
        try:
            proc.wait(max_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)   # the child closes its servers
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        finally:
            if (tmp / "netns").is_file():
                ns = int((tmp / "netns").read_text())
                _reap(ns)
        if timed_out:
            raise _failed(f"the run inside the private network namespace was stopped after "
                          f"max_seconds={max_seconds:g} (its servers closed, every process "
                          f"in it killed)", ns)
        if (tmp / "error.txt").is_file():
            raise _failed("the run inside the private network namespace failed:\n"
                          + (tmp / "error.txt").read_text(), ns)
        if (tmp / "run" / "meta.json").is_file():
            run = sim.load_run(tmp / "run")
            run.params["netns"] = ns
            return run
        if (tmp / "result.pkl").is_file():
            with open(tmp / "result.pkl", "rb") as f:
                return pickle.load(f)
        log = (tmp / "child.log").read_text(errors="replace")[-3000:]
        raise _failed(f"the run inside the private network namespace gave no result "
                      f"(exit status {proc.returncode}):\n{log}", ns)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _failed(message: str, ns) -> RuntimeError:
    e = RuntimeError(message)
    e.netns = ns     # the namespace's inode, to verify that nothing is left in it
    return e


def _reap(ns: int) -> None:
    """SIGCONT and SIGKILL every process in namespace ``ns`` and wait until none is left
    (a namespace with no process, and nothing naming it, is freed by the kernel)."""
    if ns == netns_id():   # never the machine's own namespace
        return
    deadline = time.monotonic() + 10
    while True:
        left = netns_processes(ns)
        if not left:
            return
        for pid in left:
            for sig in (signal.SIGCONT, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
        for pid in left:     # our own children: collect them
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes {left} survive in the run's network namespace")
        time.sleep(0.05)


def _child(folder: str) -> int:
    tmp = Path(folder)
    if not in_private_netns():
        (tmp / "error.txt").write_text("not in a private network namespace: refusing to "
                                       "run (no rule is ever written in the machine's own)")
        return 2
    (tmp / "netns").write_text(str(netns_id()))

    def _term(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, _term)
    try:
        ip = shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")
        subprocess.run([ip, "link", "set", "lo", "up"], check=True, timeout=10,
                       capture_output=True)
        _nft(_mark_script())
        with open(tmp / "call.pkl", "rb") as f:
            fn, args, kwargs = pickle.load(f)
        result = fn(*args, **kwargs)
        from .. import sim

        if isinstance(result, sim.Run):
            result.save(tmp / "run")
        else:
            with open(tmp / "result.pkl", "wb") as f:
                pickle.dump(result, f)
        return 0
    except BaseException:  # noqa: BLE001 - handed to the parent
        (tmp / "error.txt").write_text(traceback.format_exc())
        return 1
    finally:
        _heal()


# ------------------------------------------------------------------ a workload in isolation
_FACTORIES = {"redis": redis, "etcd": etcd, "zookeeper": zookeeper}


def _kv_inside(system, n, server, workload):
    from .workload import kv_workload

    with _FACTORIES[system](n=n, **server) as c:
        return kv_workload(c, **workload)


def isolated_kv(system: str, *, n: int = 3, server: dict | None = None,
                max_seconds: float = 300.0, **workload):
    """:func:`dsalgo.live.kv_workload` on a fresh cluster inside a private network
    namespace (the way to run :class:`Partition` faults).

    Parameters
    ----------
    system : {"redis", "etcd", "zookeeper"}
    n : int
        Members.
    server : dict, optional
        Settings for :func:`dsalgo.live.etcd` / ``zookeeper`` / ``redis``.
    max_seconds : float
        Bound on the whole child (start-up, load, close), seconds.
    **workload
        :func:`~dsalgo.live.kv_workload`'s arguments (``nemesis`` may hold partitions).

    Examples
    --------
    >>> from dsalgo import live
    >>> live.isolated_kv("mongodb")
    Traceback (most recent call last):
    ValueError: system must be one of 'redis', 'etcd', 'zookeeper'; got 'mongodb'
    """
    if system not in _FACTORIES:
        raise ValueError(f"system must be one of 'redis', 'etcd', 'zookeeper'; got "
                         f"{system!r}")
    return isolated(_kv_inside, system, n, dict(server or {}), dict(workload),
                    max_seconds=max_seconds)


if __name__ == "__main__":   # pragma: no cover - the child of isolated()
    sys.exit(_child(sys.argv[1]))
