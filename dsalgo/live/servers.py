"""Real servers on 127.0.0.1: start, probe, pause, kill, restart and always clean up.

Each context manager (:func:`redis`, :func:`etcd`, :func:`zookeeper`) owns its processes,
ports and a temporary folder holding one data directory per member.  Everything listens on
127.0.0.1 only, on ports the kernel reports free.  Cleanup never leaks a process: every
child is started in its own session and registered; on leaving the ``with`` block (on an
exception too) and at interpreter exit each one gets SIGCONT (a stopped process cannot die
of SIGTERM) then SIGTERM, and SIGKILL if it has not exited within a second.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from .._validate import check_int, check_number

__all__ = ["LiveCluster", "Member", "LiveUnavailable", "redis", "etcd", "zookeeper",
           "require", "live_processes", "PACKAGES"]

#: the Debian package of each system, for the install hint
PACKAGES = {"redis": "redis-server", "etcd": "etcd-server", "zookeeper": "zookeeper"}
ZK_JAR = "/usr/share/java/zookeeper.jar"
ZK_CONF = "/etc/zookeeper/conf"
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

#: members started inside a run's private network namespace run as user ids
#: MEMBER_UID_BASE + 1 … + 7 (ids with no account; the data directories are theirs)
MEMBER_UID_BASE = 47100
#: set by dsalgo.live.netns.isolated for its child: the id of the machine's own namespace
HOST_NETNS_ENV = "DSALGO_LIVE_HOST_NETNS"

_LOCK = threading.Lock()
_LIVE: dict[int, subprocess.Popen] = {}   # pid -> process, every child still possibly alive
_HANDED: set[int] = set()                 # ports handed out by this interpreter


class LiveUnavailable(RuntimeError):
    """A server binary is missing (the message names the Debian package to install)."""


def _hint(system: str) -> str:
    pkg = PACKAGES[system]
    return (f"install the Debian package {pkg!r}: `make live-deps` (as root), or "
            f"`apt-get install {pkg}`")


def require(system: str) -> list[str]:
    """The command prefix that runs ``system``'s server; :class:`LiveUnavailable` if absent.

    Examples
    --------
    >>> from dsalgo import live
    >>> try:
    ...     _ = live.require("redis")
    ... except live.LiveUnavailable as e:
    ...     assert "redis-server" in str(e)
    >>> live.require("mongodb")
    Traceback (most recent call last):
    ValueError: system must be one of 'redis', 'etcd', 'zookeeper'; got 'mongodb'
    """
    if system not in PACKAGES:
        raise ValueError(f"system must be one of 'redis', 'etcd', 'zookeeper'; got {system!r}")
    if system == "redis":
        exe = shutil.which("redis-server")
        if exe is None:
            raise LiveUnavailable(f"redis-server is not on PATH; {_hint(system)}")
        return [exe]
    if system == "etcd":
        exe = shutil.which("etcd")
        if exe is None:
            raise LiveUnavailable(f"etcd is not on PATH; {_hint(system)}")
        return [exe]
    java = shutil.which("java")
    if java is None or not os.path.isfile(ZK_JAR):
        what = "java" if java is None else ZK_JAR
        raise LiveUnavailable(f"ZooKeeper needs {what}, which is missing; {_hint(system)}")
    return [java, "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-cp", f"{ZK_CONF}:{ZK_JAR}"]


def netns_id(pid="self") -> int:
    """The inode number of the network namespace of process ``pid`` (default: this one)."""
    return os.stat(f"/proc/{pid}/ns/net").st_ino


def in_private_netns() -> bool:
    """True when this process runs in a private namespace made by
    :func:`dsalgo.live.isolated` (its parent recorded another namespace id)."""
    host = os.environ.get(HOST_NETNS_ENV)
    return bool(host) and host.isdigit() and int(host) != netns_id()


def live_processes() -> list[int]:
    """The pids of server processes started here that may still be alive (for tests)."""
    with _LOCK:
        return [pid for pid, p in _LIVE.items() if p.poll() is None]


def free_port() -> int:
    """A TCP port on 127.0.0.1 the kernel reports free, never handed out twice here."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with _LOCK:
            if port not in _HANDED:
                _HANDED.add(port)
                return port
    raise RuntimeError("no free port on 127.0.0.1 after 100 tries")  # pragma: no cover


def _terminate(proc: subprocess.Popen, grace: float = 1.0) -> None:
    if proc.poll() is None:
        for sig in (signal.SIGCONT, signal.SIGTERM):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    with _LOCK:
        _LIVE.pop(proc.pid, None)


@atexit.register
def _cleanup_all():  # pragma: no cover - runs at interpreter exit
    with _LOCK:
        procs = list(_LIVE.values())
    for p in procs:
        _terminate(p, grace=0.5)


class Member:
    """One server process: its name, ports, data directory and command line."""

    def __init__(self, system: str, name: str, argv: list[str], data_dir: Path, port: int,
                 env: dict | None = None, uid: int | None = None, **ports):
        self.system, self.name, self.argv = system, name, argv
        self.data_dir, self.port, self.ports = data_dir, port, ports
        self.env = env
        #: the user id the process runs as: inside a run's private network namespace each
        #: member has its own, so that partition rules can tell members' packets apart
        self.uid = uid
        self.proc: subprocess.Popen | None = None
        self.paused = False
        self.log = data_dir.parent / f"{name}.log"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.alive else None

    def start(self) -> None:
        if self.alive:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(self.env or {})
        as_user = {}
        if self.uid is not None:
            for path in [self.data_dir, *self.data_dir.rglob("*")]:
                os.chown(path, self.uid, self.uid)
            env["HOME"] = str(self.data_dir)
            as_user = dict(user=self.uid, group=self.uid, extra_groups=[])
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.data_dir,
                                         env=env, start_new_session=True, **as_user)
        with _LOCK:
            _LIVE[self.proc.pid] = self.proc
        self.paused = False

    def pause(self) -> None:
        """SIGSTOP the process (it keeps its sockets; peers see silence)."""
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGCONT)
        self.paused = False

    def kill(self) -> None:
        """kill -9 (after SIGCONT), and wait for the process to be gone."""
        if self.proc is not None and self.proc.poll() is None:
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
            self.proc.wait(5)
        if self.proc is not None:
            with _LOCK:
                _LIVE.pop(self.proc.pid, None)
        self.paused = False

    def stop(self) -> None:
        if self.proc is not None:
            _terminate(self.proc)
        self.paused = False

    def log_tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def __repr__(self):
        state = "paused" if self.paused else ("up" if self.alive else "down")
        return f"<Member {self.name} {self.system} 127.0.0.1:{self.port} {state}>"


class LiveCluster:
    """Real servers of one system, owned by a ``with`` block.

    Attributes
    ----------
    system : str
        ``"redis"``, ``"etcd"`` or ``"zookeeper"``.
    members : list of Member
        ``n1 … nN`` in order.
    settings : dict
        What the servers were configured with (timeouts, persistence, …); recorded in
        the ``params`` of every run made on the cluster.
    """

    system = ""

    def __init__(self, n: int, *, ready_timeout: float = 30.0, **settings):
        self.n = check_int("n", n, low=1, high=7)
        self.ready_timeout = check_number("ready_timeout", ready_timeout, low=0.5)
        self.settings = settings
        self.prefix = require(self.system)
        self.tmp: Path | None = None
        self.members: list[Member] = []

    # -------------------------------------------------------------- lifecycle
    def __enter__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix=f"dsalgo-live-{self.system}-"))
        try:
            self.members = self._members()
            if in_private_netns():   # one user id per member, for partition rules
                self.tmp.chmod(0o755)
                for i, m in enumerate(self.members, 1):
                    m.uid = MEMBER_UID_BASE + i
            for m in self.members:
                m.start()
            self.wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        """Stop every member (SIGCONT, SIGTERM, then SIGKILL) and remove the folder."""
        for m in self.members:
            m.stop()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def wait_ready(self, members=None, timeout: float | None = None) -> None:
        """Block until every member (or ``members``) answers its probe."""
        members = self.members if members is None else members
        deadline = time.monotonic() + (self.ready_timeout if timeout is None else timeout)
        for m in members:
            while not self.probe(m):
                if not m.alive:
                    raise RuntimeError(f"{self.system} member {m.name} exited during start-up:"
                                       f"\n{m.log_tail()}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.system} member {m.name} not ready after "
                                       f"{self.ready_timeout:g}s:\n{m.log_tail()}")
                time.sleep(0.05)

    def restart(self, member) -> None:
        """Start a killed member again on the same data directory, and wait until ready."""
        m = self.member(member)
        m.start()
        self.wait_ready([m])

    # -------------------------------------------------------------- lookup
    def member(self, name) -> Member:
        if isinstance(name, Member):
            return name
        for m in self.members:
            if m.name == name:
                return m
        raise ValueError(f"member must be one of {[m.name for m in self.members]} or "
                         f"'leader'/'follower' where the system has one; got {name!r}")

    def resolve(self, target) -> Member:
        """``"leader"``, ``"follower"`` or a member name, as a :class:`Member`."""
        if target == "leader":
            return self.leader()
        if target == "follower":
            lead = self.leader()
            return next(m for m in self.members if m is not lead)
        return self.member(target)

    def leader(self) -> Member:
        return self.members[0]

    def ports_of(self, member) -> list[int]:
        """Every port ``member`` listens on (client, peer, quorum, election)."""
        m = self.member(member)
        return [m.port, *m.ports.values()]

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.members]

    def pids(self) -> list[int]:
        return [m.pid for m in self.members if m.pid is not None]

    def __repr__(self):
        return f"<{type(self).__name__} {self.members}>"

    # -------------------------------------------------------------- per system
    def _members(self) -> list[Member]:  # pragma: no cover - abstract
        raise NotImplementedError

    def probe(self, member: Member) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


def _tcp_exchange(port: int, payload: bytes, timeout: float = 0.5) -> bytes:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(payload)
            chunks = []
            while True:
                b = s.recv(4096)
                if not b:
                    break
                chunks.append(b)
                if payload.startswith(b"PING") and b"\r\n" in b"".join(chunks):
                    break
            return b"".join(chunks)
    except OSError:
        return b""


class RedisCluster(LiveCluster):
    """``n`` independent Redis masters (RedLock uses them all; key-value work uses ``n1``)."""

    system = "redis"

    def _members(self):
        out = []
        fsync = self.settings.get("appendfsync")
        for i in range(1, self.n + 1):
            port = free_port()
            d = self.tmp / f"n{i}"
            argv = self.prefix + ["--bind", "127.0.0.1", "--port", str(port), "--dir", str(d),
                                  "--save", "", "--daemonize", "no", "--protected-mode", "yes"]
            argv += (["--appendonly", "no"] if fsync is None
                     else ["--appendonly", "yes", "--appendfsync", fsync])
            out.append(Member("redis", f"n{i}", argv, d, port))
        return out

    def probe(self, member):
        return _tcp_exchange(member.port, b"PING\r\n").startswith(b"+PONG")


class EtcdCluster(LiveCluster):
    """An etcd cluster of ``n`` members, clients through the HTTP/JSON gateway (``/v3``)."""

    system = "etcd"

    def _members(self):
        ports = [(free_port(), free_port()) for _ in range(self.n)]
        initial = ",".join(f"n{i}=http://127.0.0.1:{pp}" for i, (_, pp) in enumerate(ports, 1))
        hb = round(self.settings["heartbeat_interval"] * 1000)
        el = round(self.settings["election_timeout"] * 1000)
        out = []
        for i, (cp, pp) in enumerate(ports, 1):
            d = self.tmp / f"n{i}"
            argv = self.prefix + [
                "--name", f"n{i}", "--data-dir", str(d),
                "--listen-client-urls", f"http://127.0.0.1:{cp}",
                "--advertise-client-urls", f"http://127.0.0.1:{cp}",
                "--listen-peer-urls", f"http://127.0.0.1:{pp}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{pp}",
                "--initial-cluster", initial, "--initial-cluster-state", "new",
                "--initial-cluster-token", self.tmp.name,
                "--heartbeat-interval", str(hb), "--election-timeout", str(el),
                "--log-level", "warn", "--logger", "zap"]
            out.append(Member("etcd", f"n{i}", argv, d, cp, peer=pp))
        return out

    def request(self, member, path: str, body: dict, timeout: float = 1.0) -> dict:
        m = self.member(member)
        req = urllib.request.Request(f"http://127.0.0.1:{m.port}{path}",
                                     data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def status(self, member) -> dict | None:
        try:
            return self.request(member, "/v3/maintenance/status", {}, timeout=0.5)
        except (OSError, urllib.error.URLError, ValueError):
            return None

    def probe(self, member):
        s = self.status(member)
        if not s or s.get("leader", "0") == "0":
            return False
        try:  # a linearizable read goes through raft: the member has a working leader
            self.request(member, "/v3/kv/range", {"key": base64.b64encode(b"probe").decode()},
                         timeout=0.5)
        except (OSError, urllib.error.URLError, ValueError):
            return False
        return True

    def leader(self, timeout: float = 10.0) -> Member:
        deadline = time.monotonic() + timeout
        while True:
            for m in self.members:
                if not m.alive or m.paused:
                    continue
                s = self.status(m)
                if s and s.get("leader") not in (None, "0") and s["leader"] == s.get(
                        "header", {}).get("member_id"):
                    return m
            if time.monotonic() > deadline:
                raise TimeoutError(f"etcd has no leader after {timeout:g}s")
            time.sleep(0.02)


class ZooKeeperCluster(LiveCluster):
    """A ZooKeeper ensemble of ``n`` servers (``n == 1``: standalone)."""

    system = "zookeeper"

    def _members(self):
        ports = [(free_port(), free_port(), free_port()) for _ in range(self.n)]
        tick = round(self.settings["tick"] * 1000)
        skew = self.settings.get("clock_skew") or {}
        out = []
        for i, (cp, qp, ep) in enumerate(ports, 1):
            d = self.tmp / f"n{i}"
            d.mkdir(parents=True)
            (d / "myid").write_text(f"{i}\n")
            lines = [f"tickTime={tick}", "initLimit=20", "syncLimit=5", f"dataDir={d}",
                     f"clientPort={cp}", "clientPortAddress=127.0.0.1",
                     "admin.enableServer=false", "4lw.commands.whitelist=ruok,srvr,mntr",
                     f"minSessionTimeout={2 * tick}", f"maxSessionTimeout={40 * tick}"]
            if self.n > 1:
                lines += [f"server.{j}=127.0.0.1:{q}:{e}"
                          for j, (_, q, e) in enumerate(ports, 1)]
            cfg = self.tmp / f"n{i}.cfg"
            cfg.write_text("\n".join(lines) + "\n")
            argv = self.prefix + [f"-Dzookeeper.log.dir={d}", "-XX:-UsePerfData",
                                  "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(cfg)]
            env = None
            if f"n{i}" in skew:
                env = {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": f"{skew[f'n{i}']:+g}s",
                       "DONT_FAKE_MONOTONIC": "1"}
            out.append(Member("zookeeper", f"n{i}", argv, d, cp, quorum=qp, election=ep,
                              env=env))
        return out

    def mode(self, member) -> str | None:
        out = _tcp_exchange(self.member(member).port, b"srvr", timeout=0.5).decode(
            errors="replace")
        for line in out.splitlines():
            if line.startswith("Mode:"):
                return line.split(":", 1)[1].strip()
        return None

    def probe(self, member):
        return self.mode(member) in ("leader", "follower", "standalone")

    def leader(self, timeout: float = 10.0) -> Member:
        deadline = time.monotonic() + timeout
        while True:
            for m in self.members:
                if m.alive and not m.paused and self.mode(m) in ("leader", "standalone"):
                    return m
            if time.monotonic() > deadline:
                raise TimeoutError(f"ZooKeeper has no leader after {timeout:g}s")
            time.sleep(0.02)

    def hosts(self, members=None) -> str:
        members = self.members if members is None else [self.member(m) for m in members]
        return ",".join(f"127.0.0.1:{m.port}" for m in members)


def redis(n: int = 1, *, appendfsync: str | None = None, ready_timeout: float = 30.0):
    """``n`` independent Redis servers on 127.0.0.1, as a context manager.

    Parameters
    ----------
    n : int
        Servers (1 for key-value work; 3 or 5 for RedLock).
    appendfsync : {None, "always", "everysec", "no"}
        None: no persistence at all (no RDB, no AOF), Debian's defaults aside; otherwise
        the append-only file with that fsync policy.

    Examples
    --------
    >>> from dsalgo import live
    >>> live.redis(appendfsync="sometimes")
    Traceback (most recent call last):
    ValueError: appendfsync must be None, 'always', 'everysec' or 'no'; got 'sometimes'
    """
    if appendfsync not in (None, "always", "everysec", "no"):
        raise ValueError(f"appendfsync must be None, 'always', 'everysec' or 'no'; got "
                         f"{appendfsync!r}")
    return RedisCluster(n, appendfsync=appendfsync, ready_timeout=ready_timeout)


def etcd(n: int = 3, *, heartbeat_interval: float = 0.1, election_timeout: float = 1.0,
         ready_timeout: float = 30.0):
    """An etcd cluster of ``n`` members on 127.0.0.1, as a context manager.

    ``heartbeat_interval`` and ``election_timeout`` are etcd's flags, in seconds (etcd's
    defaults: 0.1 and 1.0; etcd randomizes the timeout in ``[T, 2T)`` in ticks).

    Examples
    --------
    >>> from dsalgo import live
    >>> live.etcd(heartbeat_interval=0.5, election_timeout=0.2)
    Traceback (most recent call last):
    ValueError: election_timeout must be at least 5 × heartbeat_interval (etcd's own rule); got 0.2 with heartbeat_interval 0.5
    """
    heartbeat_interval = check_number("heartbeat_interval", heartbeat_interval, low=0.01)
    election_timeout = check_number("election_timeout", election_timeout, low=0.05)
    if election_timeout < 5 * heartbeat_interval:
        raise ValueError(f"election_timeout must be at least 5 × heartbeat_interval (etcd's "
                         f"own rule); got {election_timeout:g} with heartbeat_interval "
                         f"{heartbeat_interval:g}")
    return EtcdCluster(n, heartbeat_interval=heartbeat_interval,
                       election_timeout=election_timeout, ready_timeout=ready_timeout)


def zookeeper(n: int = 3, *, tick: float = 0.1, clock_skew: dict | None = None,
              ready_timeout: float = 60.0):
    """A ZooKeeper ensemble of ``n`` servers on 127.0.0.1, as a context manager.

    Parameters
    ----------
    tick : float
        ``tickTime`` in seconds; sessions may last 2 to 40 ticks.
    clock_skew : dict, optional
        ``{member: seconds}``: start that member under libfaketime with its wall clock
        shifted (the JVM honours it; the monotonic clock is left alone, since ZooKeeper's
        timeouts use it and the JVM hangs when it is faked).

    Examples
    --------
    >>> from dsalgo import live
    >>> live.zookeeper(n=3, clock_skew={"n9": 1.0})
    Traceback (most recent call last):
    ValueError: clock_skew names members n1…n3; got 'n9'
    """
    tick = check_number("tick", tick, low=0.01)
    for k in clock_skew or {}:
        if k not in {f"n{i}" for i in range(1, n + 1)}:
            raise ValueError(f"clock_skew names members n1…n{n}; got {k!r}")
    if clock_skew and not os.path.isfile(FAKETIME_LIB):
        raise LiveUnavailable("clock_skew needs libfaketime; install the Debian package "
                              "'libfaketime' (`make live-deps`)")
    return ZooKeeperCluster(n, tick=tick, clock_skew=dict(clock_skew or {}),
                            ready_timeout=ready_timeout)
