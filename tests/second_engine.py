"""A second, disposable Docker engine for fault tests: its own socket, data-root,
exec-root, containerd and bridge, started, killed and restarted by the test.

The recipe is the one in the design notes. Never `--bridge=none` (a dockerd started
so deletes the main engine's docker0), never the main engine's ports: its swarm
listens on 127.0.0.1 at a free port and uses a free data-path port. The gossip port
(7946) cannot be moved in 20.10 and the main engine holds it, so the second
engine's network agent does not start; services without published ports and
overlay networks (what these tests deploy) run all the same.

Cleaning up (processes by the ids this module started or found under its own
folder, mounts under that folder, the folder, the bridge) happens even when the
start or the test fails.
"""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

START_TIMEOUT_S = 60.0  # a restart after SIGKILL waits for the old containerd's shims


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _free_udp_port(low: int = 20000, high: int = 49151) -> int:
    """A UDP port in the range swarm accepts for its data path (1024-49151)."""
    for _ in range(200):
        port = random.randint(low, high)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free UDP port for the swarm data path")


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 under 10.213.0.0/16 that no interface of this host uses."""
    out = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True).stdout
    used = []
    for field in out.split():
        if "/" in field and field[0].isdigit():
            try:
                used.append(ipaddress.ip_interface(field).network)
            except ValueError:
                pass
    candidates = list(range(100, 250))
    random.shuffle(candidates)
    for third in candidates:
        net = ipaddress.ip_network(f"10.213.{third}.0/24")
        if not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free /24 under 10.213.0.0/16 for the second engine's bridge")


def _ping(sock: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(sock)
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b" 200 " in s.recv(64).split(b"\r\n", 1)[0]
    except OSError:
        return False


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def wait_for(predicate: Callable[[], object], timeout: float, what: str, every: float = 0.2):
    """Poll ``predicate`` until it is true (its value is returned); bounded in time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


class SecondEngine:
    """One disposable dockerd; :meth:`close` undoes everything :meth:`start` did."""

    def __init__(self) -> None:
        # short paths: containerd's socket lives under the exec-root (108-byte limit)
        self.dir = Path(tempfile.mkdtemp(prefix="mltuid2-", dir="/tmp"))
        self.sock = str(self.dir / "docker.sock")
        self.url = f"unix://{self.sock}"
        self.bridge = "mltuid" + uuid.uuid4().hex[:6]
        self.gwbridge = ""  # its swarm's gateway bridge device, once it has a swarm
        self.subnet: ipaddress.IPv4Network | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    # -- the daemon ---------------------------------------------------------------
    def _make_bridge(self) -> None:
        self.subnet = _free_subnet()
        gateway = f"{next(self.subnet.hosts())}/{self.subnet.prefixlen}"
        for cmd in (
            ["ip", "link", "add", self.bridge, "type", "bridge"],
            ["ip", "addr", "add", gateway, "dev", self.bridge],
            ["ip", "link", "set", self.bridge, "up"],
        ):
            subprocess.run(cmd, check=True, capture_output=True)

    def start(self) -> None:
        """Start dockerd (the bridge first, once) and wait until it answers."""
        if self.subnet is None:
            self._make_bridge()
        self.starts += 1
        log = open(self.dir / f"dockerd-{self.starts}.log", "wb")  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                [
                    "dockerd",
                    "--data-root",
                    str(self.dir / "root"),
                    "--exec-root",
                    str(self.dir / "exec"),
                    "-H",
                    self.url,
                    "--pidfile",
                    str(self.dir / "pid"),
                    f"--bridge={self.bridge}",  # never none: that deletes the main docker0
                    "--iptables=false",
                    "--ip-masq=false",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        proc = self.proc

        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"the second dockerd exited:\n{self.log_tail()}")
            return _ping(self.sock)

        wait_for(up, START_TIMEOUT_S, "the second dockerd to answer")

    def kill(self) -> None:
        """SIGKILL the daemon, as a crash would, and reap it (its containers' shims stay)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None
        (self.dir / "pid").unlink(missing_ok=True)  # reaped: its pid may be reused
        # Its containerd dies with it, but stays a zombie until this host's init
        # reaps it, and a dockerd started meanwhile takes the zombie for a live
        # containerd ("containerd is still running") and times out connecting.
        pidfile = self.dir / "exec" / "containerd" / "containerd.pid"
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        wait_for(lambda: not alive(pid), 30, "the killed engine's containerd to end")
        pidfile.unlink(missing_ok=True)

    def stop(self) -> None:
        """Stop the daemon the gentle way (it stops its containers), then firmly."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)

    def log_tail(self, lines: int = 30) -> str:
        logs = sorted(self.dir.glob("dockerd-*.log"))
        if not logs:
            return ""
        return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-lines:])

    # -- using it -----------------------------------------------------------------
    def docker(self, *args: str, input: bytes | None = None, timeout: float = 120) -> str:
        env = dict(os.environ, DOCKER_HOST=self.url)
        for key in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
            env.pop(key, None)
        result = subprocess.run(
            ["docker", *args], env=env, input=input, capture_output=True, timeout=timeout
        )
        if result.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} on the second engine failed:\n"
                f"{result.stderr.decode(errors='replace')}"
            )
        return result.stdout.decode(errors="replace")

    def load_image(self, image: str) -> None:
        """Copy an image of the main engine over, without a registry."""
        saved = subprocess.run(["docker", "save", image], capture_output=True, check=True).stdout
        self.docker("load", input=saved, timeout=300)

    def swarm_init(self) -> None:
        """A one-node swarm on ports the main engine's swarm does not use, whose
        gateway bridge is a device of its own. Left to itself, swarm init takes
        the host's docker_gwbridge device (the main engine's) and re-addresses
        it, and the main swarm's host-mode ports stop answering on 127.0.0.1."""
        self.gwbridge = "mltuig" + self.bridge[-6:]
        self.docker(
            *("network", "create", "--driver", "bridge", "--subnet", str(_free_subnet())),
            *("--opt", f"com.docker.network.bridge.name={self.gwbridge}"),
            *("--opt", "com.docker.network.bridge.enable_icc=false"),
            *("--opt", "com.docker.network.bridge.enable_ip_masquerade=false"),
            "docker_gwbridge",
        )
        self.docker(
            "swarm",
            "init",
            "--advertise-addr",
            "127.0.0.1",
            "--listen-addr",
            f"127.0.0.1:{_free_tcp_port()}",
            "--data-path-port",
            str(_free_udp_port()),
            "--default-addr-pool",
            "10.214.0.0/16",
        )

    # -- cleaning up --------------------------------------------------------------
    def _own_processes(self) -> list[int]:
        """Processes whose command line names this engine's folder (its containerd,
        the shims of its containers), and their children (the containers'
        processes): all started by this module, none of the main engine's."""
        mine = []
        marker = str(self.dir).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker in cmdline:
                mine.append(int(entry.name))
        found = list(mine)
        while mine:
            pid = mine.pop()
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    children = [int(c) for c in task.read_text().split()]
                except OSError:
                    continue
                mine.extend(children)
                found.extend(children)
        return found

    def _unmount(self) -> None:
        prefix = str(self.dir) + "/"
        with open("/proc/self/mounts") as mounts:
            points = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
        for point in sorted(points, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True)

    def close(self) -> None:
        try:
            if self.proc is not None and self.proc.poll() is None:
                # what a test left running goes first (killed: `sleep` ignores
                # SIGTERM), so the daemon stops at once
                try:
                    self.docker("swarm", "leave", "--force", timeout=30)
                    left = self.docker("ps", "-aq", timeout=30).split()
                    if left:
                        self.docker("rm", "-f", *left, timeout=60)
                except (AssertionError, subprocess.TimeoutExpired):
                    pass
            self.stop()
        finally:
            for pid in self._own_processes():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self._unmount()
            shutil.rmtree(self.dir, ignore_errors=True)
            if self.subnet is not None:
                subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
            if self.gwbridge:
                subprocess.run(["ip", "link", "del", self.gwbridge], capture_output=True)
