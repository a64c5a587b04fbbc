"""On the real engine: a container killed for memory says so (inventory, row,
detail, `ps --json`), and `mltui top` draws frames (one frame through a pipe,
live frames on a pseudo-terminal that quit on q)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shlex
import struct
import subprocess
import sys
import termios
import time
import uuid

import pytest
from helpers import docker, wait_for

from mltui.core.detail import detail
from mltui.core.engine import Engine
from mltui.core.inventory import Inventory
from mltui.core.report import Tone, rows

pytestmark = pytest.mark.engine

MIB = 2**20
ENV = {**os.environ, "NO_COLOR": "1"}
MLTUI = [sys.executable, "-m", "mltui"]


def test_a_container_killed_for_memory_says_so(container_factory):
    name = container_factory(
        "h13ui-oom",
        "--memory",
        "32m",
        "--memory-swap",
        "32m",
        command=("sh", "-c", "head -c 100m /dev/zero | tail"),
    )
    engine = Engine()
    try:
        wait_for(
            "the container killed",
            lambda: not engine.inspect_container(name)["State"]["Running"],
        )
        assert engine.inspect_container(name)["State"]["OOMKilled"] is True
        snap = Inventory(engine).snapshot()
    finally:
        engine.close()
    svc = next(s for s in snap.services() if s.name == name)
    (rep,) = svc.replicas
    assert rep.oom_killed and rep.exit_code == 137 and rep.memory_limit == 32 * MIB
    row = next(r for r in rows(snap, now=time.time()) if r.cells[0] == name)
    assert row.cells[1] == "oom-killed (137)" and row.tones[1] is Tone.BAD
    said = "".join(p.text for p in detail(snap, row.id, time.time()))
    assert "OOMKilled" in said and "exit 137" in said and "32.0MiB" in said

    out = subprocess.run([*MLTUI, "ps", "--json"], capture_output=True, text=True, env=ENV,
                         timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    services = [s for st in json.loads(out.stdout)["stacks"] for s in st["services"]]
    (replica,) = next(s for s in services if s["name"] == name)["replicas"]
    assert replica["oom_killed"] is True and replica["exit_code"] == 137
    assert replica["memory_limit"] == 32 * MIB
    table = subprocess.run([*MLTUI, "ps"], capture_output=True, text=True, env=ENV, timeout=60)
    line = next(x for x in table.stdout.splitlines() if x.strip().startswith(name))
    assert "oom-killed (137)" in line


def test_top_once_prints_one_frame(container_factory):
    burn = container_factory("h13ui-topburn", command=("sh", "-c", "yes > /dev/null"))
    out = subprocess.run([*MLTUI, "top", "--once", "--sort", "cpu"], capture_output=True,
                         text=True, env=ENV, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[1].split()[-2:] == ["CPU", "MEM"]
    line = next(x for x in lines if x.strip().startswith(burn))
    cpu = float(line.split()[-2].rstrip("%"))
    assert cpu > 10, line  # busy (the 2 cores here are shared: not a full one always)
    assert "\x1b[" not in out.stdout  # not a terminal: no screen clearing, no colour
    # through a pipe, without --once: the same single frame
    piped = subprocess.run([*MLTUI, "top"], capture_output=True, text=True, env=ENV, timeout=60)
    assert piped.returncode == 0 and burn in piped.stdout


def _read_until(fd: int, wanted, timeout: float = 60.0) -> str:
    """What the terminal showed, read until ``wanted(text)`` holds; bounded in time."""
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
        if wanted(seen.decode("utf-8", "replace")):
            return seen.decode("utf-8", "replace")
    raise AssertionError(f"timed out; the terminal showed: {seen[-2000:]!r}")


def test_top_on_a_terminal_redraws_and_quits_on_q(container_factory):
    hold = container_factory("h13ui-tophold")
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    proc = subprocess.Popen([*MLTUI, "top", "--interval", "0.5"], stdin=child, stdout=child,
                            stderr=child, env={**ENV, "TERM": "xterm"}, close_fds=True)  # fmt: skip
    os.close(child)
    try:
        # three whole frames: a frame is whole once the next one has begun (the
        # terminal may get a frame in several writes)
        shown = _read_until(main, lambda t: t.count("\x1b[H\x1b[2J") >= 4)
        frames = shown.split("\x1b[H\x1b[2J")[1:-1]  # each frame redrawn on a cleared screen
        assert len(frames) >= 3
        assert all("mltui top: q or Ctrl-C quits" in frame for frame in frames)
        assert hold in frames[-1]  # the last whole frame lists the container
        os.write(main, b"q")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)


def _tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], capture_output=True, text=True, check=False, timeout=10
    ).stdout


def test_the_dashboard_with_no_stats_then_t_in_a_real_terminal(container_factory):
    name = container_factory("h13ui-tmux", "-m", "64m")
    session = "h13ui-" + uuid.uuid4().hex[:6]
    command = shlex.join([*MLTUI, "--no-stats"])
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "45", command],
                   check=True, env=env, timeout=10)  # fmt: skip

    def screen_with(*words: str):
        def probe() -> str | None:
            pane = _tmux("capture-pane", "-p", "-t", session)
            return pane if all(w in pane for w in words) else None

        return probe

    try:
        screen = wait_for("the dashboard", screen_with(name, "NAME"), timeout=30, interval=0.2)
        header = next(line for line in screen.splitlines() if line.split()[:1] == ["NAME"])
        assert "CPU" not in header and "MEM" not in header
        _tmux("send-keys", "-t", session, "t")
        screen = wait_for("the usage columns", screen_with(" / 64.0MiB"), timeout=30, interval=0.2)
        header = next(line for line in screen.splitlines() if line.split()[:1] == ["NAME"])
        assert header.split()[:5] == ["NAME", "STATE", "READY", "CPU", "MEM"]
        _tmux("send-keys", "-t", session, "q")
        wait_for("q to end mltui", lambda: session not in _tmux("list-sessions"), timeout=10,
                 interval=0.1)  # fmt: skip
    finally:
        _tmux("kill-session", "-t", session)


def test_ps_stats_and_top_carry_gpu_memory_from_nvml(container_factory, capsys):
    """GPU memory per replica and per service in `ps --stats [--json]` and `top`,
    from NVML's process list (the fake NVML names a real container's process,
    as the TUI's GPU MEM test does); null and no column where NVML sees no GPU."""
    from nvml_fake import H100, FakeNvml

    from mltui.cli import build_parser, ps, top
    from mltui.core.stats import format_bytes

    gpu = container_factory("h13ps-gpu")
    plain = container_factory("h13ps-plain")
    pid = int(docker("inspect", "-f", "{{.State.Pid}}", gpu).strip())
    host = [{**H100, "procs": [(pid, 1500 * MIB)]}]

    def ps_json(nvml):
        args = build_parser().parse_args(["ps", "--stats", "--json"])
        assert ps.run_with_nvml(args, nvml) == 0
        data = json.loads(capsys.readouterr().out)
        return {s["name"]: s for st in data["stacks"] for s in st["services"]}

    services = ps_json(lambda: FakeNvml(host))
    assert services[gpu]["replicas"][0]["gpu_memory_bytes"] == 1500 * MIB
    assert services[gpu]["gpu_memory_bytes"] == 1500 * MIB  # the service's sum
    assert services[plain]["replicas"][0]["gpu_memory_bytes"] is None  # no GPU process
    assert services[plain]["gpu_memory_bytes"] is None
    assert services[gpu]["replicas"][0]["memory_bytes"] > 0  # the other figures still there
    no_gpu = ps_json(lambda: FakeNvml([]))
    assert no_gpu[gpu]["replicas"][0]["gpu_memory_bytes"] is None
    assert no_gpu[gpu]["gpu_memory_bytes"] is None

    for argv in (["ps", "--stats"], ["top", "--once", "--interval", "0.5"]):
        module = ps if argv[0] == "ps" else top
        assert module.run_with_nvml(build_parser().parse_args(argv), lambda: FakeNvml(host)) == 0
        lines = capsys.readouterr().out.splitlines()
        header = next(x for x in lines if x.lstrip().startswith("NAME"))
        assert header.split()[-4:] == ["CPU", "MEM", "GPU", "MEM"], header
        line = next(x for x in lines if x.strip().startswith(gpu))
        assert line.rstrip().endswith(format_bytes(1500 * MIB)), line
        other = next(x for x in lines if x.strip().startswith(plain))
        assert format_bytes(1500 * MIB) not in other, other
    assert (
        top.run_with_nvml(
            build_parser().parse_args(["top", "--once", "--interval", "0.5"]),
            lambda: FakeNvml([]),
        )
        == 0
    )
    assert "GPU MEM" not in capsys.readouterr().out
