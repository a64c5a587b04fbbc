"""Logs benchmark: core ingest, the merged view under a flood, memory at the bound.

Every figure comes with a baseline measured in the same run on the same engine
(these machines are noisy: only ratios within one run mean anything):

1. Core ingest (read + demultiplex + timestamp parse + sanitise + merge) of a
   container that has written 500,000 lines of ~100 bytes, against
   `docker logs -t ID > /dev/null` on the same container; also docker-py's
   `logs(stream=True)` (line by line) and `logs(stream=False)` for reference.
   Runs alternate, best of 3 each.
2. The merged, replica-coloured view of 4 replicas flooding together (each
   writes as fast as it can): lines per second into the UI, and the latency of
   key presses (`t`, which re-renders the view) while the flood runs, p50/p95.
3. Memory: the process's RSS with the default 100,000-line view bound full,
   and, with `--minute`, under a 20,000 lines/s flood for 60 s (the bound must
   hold: RSS flat, the view at 100,000 lines, the rest counted as dropped).

Run: `python bench/logs.py [--lines 500000] [--minute]`. Containers are
labelled `mltui.bench` and removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

sys.path.insert(0, str(REPO / "tests"))
from testimages import TEST_BASE  # noqa: E402

from mltui.core.engine import Engine  # noqa: E402
from mltui.core.logs import LogSession, LogSource  # noqa: E402
from mltui.deploy.images import ensure_image  # noqa: E402

PREFIX = "mltuibenchlogs"


def sh(*cmd: str, check: bool = True) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=check).stdout


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def writer(count: int, rate: int | None = None) -> str:
    """Python that prints ``count`` lines of ~100 bytes (at ``rate`` lines/s, or flat out)."""
    pace = (
        f"    if i % 200 == 199:\n        time.sleep(max(0, start + (i + 1) / {rate} - time.time()))\n"
        if rate
        else ""
    )
    return (
        "import os, sys, time\n"
        "host = os.uname().nodename\n"
        "w = sys.stdout.write\n"
        "start = time.time()\n"
        f"for i in range({count}):\n"
        "    w(f'{host} {i:09d} INFO step={i} loss=0.{i % 9973:04d} lr=3e-4 "
        "batch=256 the rest of a typical training log line\\n')\n"
        f"{pace}"
        "sys.stdout.flush()\n"
        "time.sleep(86400)\n"
    )


def run_container(image: str, name: str, script: str, delay: float = 0) -> str:
    """A container running ``script``, after ``delay`` seconds (time to open a view)."""
    return sh(
        "docker", "run", "-d", "--label", "mltui.bench=1", "--name", name, image,
        "sh", "-c", f"sleep {delay}; exec python3 -c \"$0\"", script,
    ).strip()  # fmt: skip


def wait_lines(cid: str, count: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(
            ["docker", "logs", "--tail", "1", cid], capture_output=True, text=True, check=False
        ).stdout.split()
        if len(out) > 1 and out[1].isdigit() and int(out[1]) == count - 1:
            return
        time.sleep(0.5)
    raise SystemExit(f"container {cid[:12]} did not write {count} lines in {timeout:.0f} s")


def remove_all() -> None:
    ids = sh("docker", "ps", "-aq", "--filter", "label=mltui.bench=1", check=False).split()
    if ids:
        sh("docker", "rm", "-f", *ids, check=False)


# -- 1. core ingest ----------------------------------------------------------------
def ingest_mltui(cid: str) -> tuple[float, int]:
    engine = Engine()
    start = time.perf_counter()
    session = LogSession(
        engine, [LogSource(cid, "r")], tail=None, follow=False, max_lines=10**7
    ).start()
    count = 0
    while True:
        more = session.wait(1.0)
        count += len(session.take().lines)
        if not more and session.finished:
            count += len(session.take().lines)
            break
    took = time.perf_counter() - start
    session.close()
    engine.close()
    return took, count


def ingest_cli(cid: str) -> float:
    start = time.perf_counter()
    subprocess.run(["docker", "logs", "-t", cid], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def ingest_dockerpy(cid: str, stream: bool) -> tuple[float, int]:
    import docker

    api = docker.APIClient(version="auto")
    start = time.perf_counter()
    if stream:
        count = sum(1 for _ in api.logs(cid, stream=True, follow=False, timestamps=True))
    else:
        count = api.logs(cid, stream=False, timestamps=True).count(b"\n")
    took = time.perf_counter() - start
    api.close()
    return took, count


# -- 2. the merged view under a flood -------------------------------------------------
async def flood_view(image: str, per_replica: int, size: tuple[int, int]) -> dict[str, float]:
    """Four containers writing flat out, the view following them from their start."""
    from textual import events

    from mltui.core.inventory import Inventory
    from mltui.core.logs import find_service
    from mltui.ui.app import MltuiApp
    from mltui.ui.logs import LogScreen

    sh("docker", "service", "rm", f"{PREFIX}flood", check=False)
    sh(
        "docker", "service", "create", "--detach", "--name", f"{PREFIX}flood", "--replicas", "4",
        "--restart-condition", "none", "--container-label", "mltui.bench=1",
        image, "sh", "-c", "sleep 4; exec python3 -c \"$0\"", writer(per_replica),
    )  # fmt: skip
    engine = Engine()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        svc = find_service(Inventory(engine).snapshot(), f"{PREFIX}flood")
        if svc.running == 4:
            break
        time.sleep(0.2)
    engine.close()
    app = MltuiApp()
    result: dict[str, float] = {}
    try:
        async with app.run_test(size=size) as pilot:
            for _ in range(100):
                if app.snapshot is not None:
                    break
                await pilot.pause(0.05)
            app.open_logs(svc)
            await pilot.pause(0.1)
            screen = app.screen
            assert isinstance(screen, LogScreen)
            total = 4 * per_replica
            latencies: list[float] = []
            first_at = None
            start = time.perf_counter()
            while screen.lines_taken < total and time.perf_counter() - start < 120:
                if first_at is None and screen.lines_taken:
                    first_at = time.perf_counter()
                before = screen.view.timestamps
                sent = time.perf_counter()
                app.post_message(events.Key("t", "t"))
                while screen.view.timestamps == before and time.perf_counter() - sent < 5:
                    await asyncio.sleep(0.0005)
                latencies.append(time.perf_counter() - sent)
                await asyncio.sleep(0.1)
            done = time.perf_counter()
            result["lines"] = screen.lines_taken
            result["rate"] = screen.lines_taken / (done - (first_at or start))
            latencies.sort()
            result["p50_ms"] = statistics.median(latencies) * 1000
            result["p95_ms"] = latencies[int(0.95 * (len(latencies) - 1))] * 1000
            result["keys"] = len(latencies)
            result["view_lines"] = len(screen.buffer)
            result["dropped"] = screen.buffer.dropped
            result["rss_full"] = rss_mib()
    finally:
        sh("docker", "service", "rm", f"{PREFIX}flood", check=False)
    return result


async def baseline_rss(size: tuple[int, int]) -> float:
    """RSS of the app in this process before any log view (the same interpreter)."""
    from mltui.ui.app import MltuiApp

    app = MltuiApp()
    async with app.run_test(size=size) as pilot:
        for _ in range(100):
            if app.snapshot is not None:
                break
            await pilot.pause(0.05)
        return rss_mib()


# -- 3. a minute at 20k lines/s ------------------------------------------------------
async def minute_flood(image: str, rate: int, seconds: int) -> dict[str, float]:
    from mltui.core.inventory import Inventory
    from mltui.core.logs import find_service
    from mltui.ui.app import MltuiApp
    from mltui.ui.logs import LogScreen

    name = f"{PREFIX}minute"
    # the view opens before the first line: every line written must be taken
    cid = run_container(image, name, writer(rate * seconds, rate), delay=4)
    engine = Engine()
    svc = find_service(Inventory(engine).snapshot(), name)
    engine.close()
    app = MltuiApp()
    samples: list[float] = []
    async with app.run_test(size=(160, 45)) as pilot:
        app.open_logs(svc)
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, LogScreen)
        start = time.monotonic()
        while time.monotonic() - start < seconds + 5:
            await pilot.pause(5)
            samples.append(rss_mib())
            print(
                f"  {time.monotonic() - start:4.0f} s: {screen.lines_taken:,} lines taken, "
                f"view {len(screen.buffer):,}, dropped {screen.buffer.dropped:,}, "
                f"RSS {samples[-1]:.0f} MiB",
                flush=True,
            )
        written = int(
            subprocess.run(
                f"docker logs {cid} | wc -l", shell=True, capture_output=True, text=True
            ).stdout
        )
        out = {
            "written": written,
            "taken": screen.lines_taken,
            "view": len(screen.buffer),
            "dropped": screen.buffer.dropped,
            "rss_first": samples[1] if len(samples) > 1 else samples[0],
            "rss_max": max(samples),
            "rss_last": samples[-1],
        }
    sh("docker", "rm", "-f", cid, check=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--flood", type=int, default=150_000, help="lines per flooding replica")
    parser.add_argument("--minute", action="store_true", help="also the 60 s flood at 20k/s")
    parser.add_argument("--only-minute", action="store_true", help="just the 60 s flood")
    args = parser.parse_args()

    image = ensure_image(TEST_BASE)
    remove_all()
    rows: list[tuple[str, str, str]] = []
    try:
        if args.only_minute:
            print(asyncio.run(minute_flood(image, 20_000, 60)))
            return
        cid = run_container(image, f"{PREFIX}ingest", writer(args.lines))
        print(f"writing {args.lines:,} lines…", flush=True)
        wait_lines(cid, args.lines)
        ours, cli = [], []
        for _ in range(3):
            took, count = ingest_mltui(cid)
            assert count == args.lines, count
            ours.append(took)
            cli.append(ingest_cli(cid))
        stream_t, n1 = ingest_dockerpy(cid, stream=True)
        whole_t, _ = ingest_dockerpy(cid, stream=False)
        best, best_cli = min(ours), min(cli)
        print(f"ingest: mltui {ours}, docker logs {cli}", flush=True)
        rows.append(
            (
                f"core ingest of {args.lines:,} lines (read, demultiplex, timestamps, "
                "sanitise, merge)",
                f"{best:.2f} s, {args.lines / best / 1000:.0f}k lines/s",
                f"`docker logs -t` {best_cli:.2f} s, {args.lines / best_cli / 1000:.0f}k lines/s "
                f"(ratio {best_cli / best:.2f}); docker-py stream=True "
                f"{n1 / stream_t / 1000:.0f}k/s, stream=False {args.lines / whole_t / 1000:.0f}k/s",
            )
        )
        sh("docker", "rm", "-f", cid, check=False)

        base = asyncio.run(baseline_rss((160, 45)))
        print("flood of 4 replicas into the merged view…", flush=True)
        flood = asyncio.run(flood_view(image, args.flood, (160, 45)))
        print(f"flood: {flood}", flush=True)
        rows.append(
            (
                f"merged view, 4 replicas flooding ({4 * args.flood:,} lines)",
                f"{flood['rate'] / 1000:.0f}k lines/s into the UI",
                "target 100k lines/s",
            )
        )
        rows.append(
            (
                f"key latency during the flood ({flood['keys']:.0f} presses of `t`)",
                f"p50 {flood['p50_ms']:.0f} ms, p95 {flood['p95_ms']:.0f} ms",
                "target p95 < 50 ms",
            )
        )
        rows.append(
            (
                f"RSS, view bound full ({flood['view_lines']:,.0f} lines, "
                f"{flood['dropped']:,.0f} dropped)",
                f"{flood['rss_full']:.0f} MiB",
                f"the same app before opening logs: {base:.0f} MiB; target < 150 MiB",
            )
        )
        if args.minute:
            print("60 s at 20,000 lines/s…", flush=True)
            minute = asyncio.run(minute_flood(image, 20_000, 60))
            rows.append(
                (
                    f"60 s at 20k lines/s ({minute['written']:,.0f} written, "
                    f"{minute['taken']:,.0f} taken, view "
                    f"{minute['view']:,.0f}, {minute['dropped']:,.0f} dropped)",
                    f"RSS {minute['rss_first']:.0f} MiB after 5 s, max {minute['rss_max']:.0f}, "
                    f"last {minute['rss_last']:.0f}",
                    "bound holds: RSS flat once the view is full; taken = written",
                )
            )
    finally:
        remove_all()
        sh("docker", "service", "rm", f"{PREFIX}flood", check=False)

    print()
    print("| measure | mltui | baseline, same run |")
    print("| --- | --- | --- |")
    for name, ours_s, theirs in rows:
        print(f"| {name} | {ours_s} | {theirs} |")


if __name__ == "__main__":
    main()
