"""What several benches share: processes read from /proc (a viewer's tree, its
CPU ticks and memory), viewers started on screen in a detached tmux, idle
containers made from the test image, this checkout's mltui on the command
line, the demo stack on a free port, and the result table printed as markdown.

Imported by the bench scripts as ``_common`` (bench/ is on sys.path when a
script in it runs).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLK = os.sysconf("SC_CLK_TCK")

Sh = Callable[..., str]  # runs a command, returns its stdout


# -- /proc --------------------------------------------------------------------------
def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, depth first (children, then theirs)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            child = int(entry.name)
            out.append(child)
            out.extend(descendants(child))
    return out


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    return [pid, *descendants(pid)]


def cpu_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def status_kib(pid: int, key: str) -> int:
    """A ``kB`` line of /proc/<pid>/status (VmRSS, VmHWM); 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# -- viewers on screen ------------------------------------------------------------------
def tmux_launch(
    sh: Sh,
    session: str,
    command: str,
    marker: str,
    size: tuple[int, int],
    timeout: float,
    poll: float,
) -> tuple[float, list[int]]:
    """``command`` on screen in a detached tmux session of ``size`` (columns,
    rows): the seconds until ``marker`` was on screen, and its process tree
    then. RuntimeError (the session killed) when it is not on screen in time."""
    sh("tmux", "kill-session", "-t", session, check=False)
    start = time.perf_counter()
    cols, rows = size
    sh("tmux", "new-session", "-d", "-s", session, "-x", str(cols), "-y", str(rows), command)
    deadline = start + timeout
    screen = ""
    while time.perf_counter() < deadline:
        screen = sh("tmux", "capture-pane", "-p", "-t", session, check=False)
        if marker in screen:
            took = time.perf_counter() - start
            pane = int(sh("tmux", "display-message", "-p", "-t", session, "#{pane_pid}").strip())
            return took, process_tree(pane)
        time.sleep(poll)
    sh("tmux", "kill-session", "-t", session, check=False)
    raise RuntimeError(f"{marker!r} not on screen after {timeout:.0f}s:\n{screen}")


# -- containers ---------------------------------------------------------------------------
def run_sleepers(sh: Sh, image: str, count: int, prefix: str, label: str) -> list[str]:
    """``count`` idle containers (``sleep infinity``) named ``<prefix>000`` on,
    labelled ``<label>=1``; their ids."""
    return [
        sh(
            "docker", "run", "-d", "--label", f"{label}=1", "--name", f"{prefix}{i:03d}",
            image, "sleep", "infinity",
        ).strip()
        for i in range(count)
    ]  # fmt: skip


def remove_labelled(sh: Sh, label: str) -> None:
    ids = sh("docker", "ps", "-aq", "--filter", f"label={label}", check=False).split()
    if ids:
        sh("docker", "rm", "-f", *ids, check=False)


# -- mltui and the demo stack ---------------------------------------------------------------
def mltui(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """This checkout's mltui (its demo image recipe), whatever is installed."""
    full = {**(env if env is not None else os.environ), "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, "-m", "mltui", *args], capture_output=True, text=True, check=False,
        env=full, cwd=REPO,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def demo_stack(name: str) -> Iterator[str]:
    """The demo stack up (``mltui demo up --detach``) on a free port, for the
    block; its URL. Taken down after, also on an error."""
    port = free_port()
    up = mltui("demo", "up", "--detach", "--name", name, "--port", str(port),
               "--notebook-port", str(free_port()))  # fmt: skip
    if up.returncode != 0:
        raise SystemExit(f"demo up failed:\n{up.stderr}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        mltui("demo", "down", "--name", name)


# -- the report ----------------------------------------------------------------------------
def print_table(
    rows: Iterable[tuple[str, ...]],
    header: tuple[str, ...] = ("measure", "mltui", "baseline, same run"),
    gap: bool = True,
) -> None:
    """The results as a markdown table (after an empty line with ``gap``)."""
    if gap:
        print()
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
