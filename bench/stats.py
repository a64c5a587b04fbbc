"""Stats benchmark: what watching costs, mltui against lazydocker, in one run.

Scenarios (issue 13, "How it must stay cheap"):

- ``idle``: N idle containers (``sleep infinity``, the local test image). Each
  viewer runs on screen in its own detached tmux session (160x45, the main
  screen with its columns) and the CPU seconds of its process tree plus
  dockerd's (and containerd's, which reads the cgroups for the Engine API's
  stats) are counted from /proc over S seconds. mltui is measured at its default
  stats interval (2 s) and at lazydocker's own rate (1 s: lazydocker streams
  every container's stats, the engine sends one sample a second, and it redraws
  every second); mltui's peak RSS (VmHWM) with the N containers is read after.
- ``churn``: the demo stack (``mltui demo up``) plus one swarm service that
  crash-loops (its task exits after ~2 s, restart condition any, delay 1 s);
  the same measures, both viewers, same run; and the viewers' own processes
  compared alone (mltui against lazydocker, without dockerd), since restarting
  the crash loop costs dockerd the same whoever watches; and what watching
  adds: each viewer's own process plus dockerd above the engine's floor.

By default everything runs on a private engine the bench starts and removes
(tests/second_engine.py: its own dockerd, containerd, bridge and one-node
swarm), because the machine's engine is shared with other work whose events and
calls would be counted in dockerd's figure and would wake both viewers. There
the churn scenario runs a stand-in for the demo (the demo's shape: 4 model
replicas, a balancer and a notebook, each ``sleep infinity`` from the test
image, as a swarm stack) since the demo's images are too large to copy over;
``--engine shared`` uses the machine's engine and the real demo stack.

The viewers run one after the other, never together: dockerd's CPU cannot be
split between two clients, and both would compete for the same two cores.
"Nobody watching" (no viewer at all) is measured first in each scenario: the
engine's own floor, the same for both, which the churn itself costs.

Ratios are printed against lazydocker measured in the same run. lazydocker is
found through $LAZYDOCKER, else PATH; without it mltui is measured alone and
the script says so (and still exits 0).

Run: ``python bench/stats.py`` (``--quick``: 20 containers, 10 s windows).
It creates containers labelled ``mltui.bench.stats``, a swarm service
``mltuibench-crashloop`` and the stack ``mltuibench-demo``, and removes them
at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import (
    CLK,
    REPO,
    print_table,
    process_tree,
    remove_labelled,
    run_sleepers,
    status_kib,
    tmux_launch,
)
from _common import cpu_ticks as ticks
from _common import mltui as run_mltui

sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))
from second_engine import SecondEngine
from testimages import TEST_BASE

from mltui.core.config import Config
from mltui.deploy.images import ensure_image

LABEL = "mltui.bench.stats"
PREFIX = "mltuibenchstats"
CRASHLOOP = "mltuibench-crashloop"
DEMO = "mltuibench-demo"
DEMO_PORT, NOTEBOOK_PORT = "18581", "18898"
SESSIONS = ("mltuibench-stats-mltui", "mltuibench-stats-lazy")
COLS, ROWS = 160, 45
WARM_UP_S = 5.0  # after the first rows are on screen: start-up work (inspects) settles
LAZYDOCKER_RATE_S = 1.0


# the engine every docker call, viewer and measure goes to (DOCKER_HOST and its pids)
ENGINE: dict[str, str] = {}


def engine_env() -> dict[str, str]:
    env = dict(os.environ)
    if "DOCKER_HOST" in ENGINE:
        env["DOCKER_HOST"] = ENGINE["DOCKER_HOST"]
        for key in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
            env.pop(key, None)
    return env


def sh(*cmd: str, check: bool = True, stdin: str | None = None) -> str:
    return subprocess.run(
        cmd, capture_output=True, text=True, check=check, env=engine_env(), input=stdin
    ).stdout


# -- /proc ----------------------------------------------------------------------------
def pid_of(name: str) -> int:
    """The engine's dockerd or containerd (the private engine's, when there is one)."""
    if f"{name}_pid" in ENGINE:
        return int(ENGINE[f"{name}_pid"])
    out = sh("pidof", "-s", name, check=False).split()
    return int(out[0]) if out else 0


def own_containerd(folder: str) -> int:
    """The containerd a private dockerd started (its command line names the folder)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"containerd") and folder.encode() in b" ".join(cmdline):
            return int(entry.name)
    return 0


@dataclass
class Window:
    """Percent of one core over a measured window."""

    viewer: float
    dockerd: float
    containerd: float
    seconds: float
    rss_peak_mib: float = 0.0
    note: str = ""

    @property
    def total(self) -> float:
        return self.viewer + self.dockerd


def measure(pids: list[int], seconds: float) -> Window:
    """CPU of ``pids`` (a viewer's process tree; re-read at the end for children
    started meanwhile), dockerd and containerd over ``seconds``."""
    engine, shim = pid_of("dockerd"), pid_of("containerd")
    before = {p: ticks(p) for p in pids}
    before_d, before_c = ticks(engine), ticks(shim)
    start = time.monotonic()
    time.sleep(seconds)  # the measured window itself, not a synchronisation
    took = time.monotonic() - start
    after_pids = set(pids)
    if pids:
        after_pids.update(process_tree(pids[0]))
    used = sum(ticks(p) - before.get(p, 0) for p in after_pids)
    d, c = ticks(engine) - before_d, ticks(shim) - before_c

    def pct(n: int) -> float:
        return 100.0 * n / CLK / took

    return Window(pct(used), pct(d), pct(c), took)


# -- viewers in tmux --------------------------------------------------------------------
def launch(session: str, command: str, marker: str, timeout: float = 60.0) -> list[int]:
    """``command`` on screen in a detached tmux session; its process tree once
    ``marker`` is on screen."""
    return tmux_launch(sh, session, command, marker, (COLS, ROWS), timeout, 0.1)[1]


@dataclass
class Viewers:
    lazydocker: str | None
    scratch: Path
    has_stats_interval: bool = field(init=False)

    def __post_init__(self) -> None:
        # before the stats columns land, Config has no stats_interval: then both
        # mltui runs are the same configuration, and the report says so
        self.has_stats_interval = hasattr(Config(), "stats_interval")

    def mltui_command(self, interval: float) -> str:
        config = self.scratch / f"config-{interval:g}.toml"
        config.write_text(
            f"stats_interval = {interval:g}\n" if self.has_stats_interval else "", encoding="utf-8"
        )
        env = {
            **({"DOCKER_HOST": ENGINE["DOCKER_HOST"]} if "DOCKER_HOST" in ENGINE else {}),
            "PYTHONPATH": str(REPO / "src"),
            "MLTUI_CONFIG": str(config),
            "XDG_STATE_HOME": str(self.scratch / "state"),
            "TERM": "xterm-256color",
        }
        assigns = " ".join(f"{k}={v}" for k, v in env.items())
        return f"cd {REPO} && exec env {assigns} {sys.executable} -m mltui"

    def lazydocker_command(self) -> str:
        assert self.lazydocker
        home = self.scratch / "lazy"
        home.mkdir(exist_ok=True)
        host = f"DOCKER_HOST={ENGINE['DOCKER_HOST']} " if "DOCKER_HOST" in ENGINE else ""
        return f"exec env {host}XDG_CONFIG_HOME={home} TERM=xterm-256color {self.lazydocker}"

    def run_mltui(self, interval: float, marker: str, seconds: float) -> Window:
        pids = launch(SESSIONS[0], self.mltui_command(interval), marker)
        try:
            time.sleep(WARM_UP_S)  # start-up work (first inspects) is not the steady cost
            window = measure(pids, seconds)
            window.rss_peak_mib = status_kib(pids[0], "VmHWM") / 1024
            return window
        finally:
            sh("tmux", "kill-session", "-t", SESSIONS[0], check=False)

    def run_lazydocker(self, marker: str, seconds: float) -> Window | None:
        if not self.lazydocker:
            return None
        pids = launch(SESSIONS[1], self.lazydocker_command(), marker)
        try:
            time.sleep(WARM_UP_S)
            window = measure(pids, seconds)
            window.rss_peak_mib = status_kib(pids[0], "VmHWM") / 1024
            return window
        finally:
            sh("tmux", "kill-session", "-t", SESSIONS[1], check=False)


# -- what each scenario starts, and removes ------------------------------------------------
def make_containers(image: str, count: int) -> None:
    run_sleepers(sh, image, count, PREFIX, LABEL)


def remove_containers() -> None:
    remove_labelled(sh, LABEL)


def mltui_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_mltui(*args, env=engine_env())


STAND_IN = """version: "3.8"
services:
  model:
    image: {image}
    command: ["sleep", "infinity"]
    deploy: {{replicas: 4, endpoint_mode: dnsrr}}
  lb:
    image: {image}
    command: ["sleep", "infinity"]
    deploy: {{replicas: 1, endpoint_mode: dnsrr}}
  notebook:
    image: {image}
    command: ["sleep", "infinity"]
    deploy: {{replicas: 1, endpoint_mode: dnsrr}}
"""


def start_churn(image: str, demo: str) -> str:
    """The demo stack (``demo``: "real", or "stand-in" for its shape in sleeping
    containers, or "none") and the crash-looping service; a note on what runs."""
    note = "demo stack + 1 crash-looping swarm service"
    if demo == "stand-in":
        sh(
            "docker",
            "stack",
            "deploy",
            "--resolve-image",
            "never",
            "-c",
            "-",
            DEMO,
            stdin=STAND_IN.format(image=image),
        )
        note = "stand-in for the demo (4+1+1 sleeping replicas, swarm) + 1 crash-looping service"
    elif demo == "real":
        done = mltui_cli(
            "demo",
            "up",
            "--detach",
            "--name",
            DEMO,
            "--port",
            DEMO_PORT,
            "--notebook-port",
            NOTEBOOK_PORT,
            "--timeout",
            "240",
        )
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
            note = f"demo stack failed ({' '.join(tail)}): crash-looping service only"
    else:
        note = "crash-looping swarm service only (--no-demo)"
    sh(
        "docker",
        "service",
        "create",
        "--detach",
        "--no-resolve-image",
        "--name",
        CRASHLOOP,
        "--label",
        f"{LABEL}=1",
        "--restart-condition",
        "any",
        "--restart-delay",
        "1s",
        image,
        "sh",
        "-c",
        "sleep 2; exit 1",
    )
    return note


def settle_churn(timeout: float = 180.0) -> None:
    """Until every service but the crash loop runs all its replicas and the crash
    loop has restarted at least twice: deploying is not the cost measured."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = sh("docker", "service", "ls", "--format", "{{.Name}} {{.Replicas}}").splitlines()
        steady = all(
            name == CRASHLOOP or have == want
            for name, replicas in (line.split(" ", 1) for line in lines)
            for have, want in [replicas.split(" ")[0].split("/")]
        )
        tasks = sh("docker", "service", "ps", "-q", CRASHLOOP, check=False).split()
        if steady and len(tasks) >= 3:
            return
        time.sleep(1.0)  # polling the engine's own state, bounded by the deadline
    raise RuntimeError(f"the churn scenario did not settle within {timeout:.0f}s")


def stop_churn() -> None:
    sh("docker", "service", "rm", CRASHLOOP, check=False)
    if DEMO in sh("docker", "stack", "ls", "--format", "{{.Name}}", check=False).split():
        sh("docker", "stack", "rm", DEMO, check=False)


def cleanup() -> None:
    for session in SESSIONS:
        sh("tmux", "kill-session", "-t", session, check=False)
    stop_churn()
    remove_containers()


# -- the scenarios ------------------------------------------------------------------
Row = tuple[str, str, str]


def compare(name: str, ours: Window, theirs: Window | None) -> Row:
    mine = (
        f"mltui {ours.viewer:.2f}% + dockerd {ours.dockerd:.2f}% = {ours.total:.2f}%"
        f" (containerd {ours.containerd:.2f}%)"
    )
    if theirs is None:
        return (name, mine, "lazydocker not found ($LAZYDOCKER or PATH): mltui alone")
    ratio = theirs.total / ours.total if ours.total > 0 else float("inf")
    return (
        name,
        mine,
        f"lazydocker {theirs.viewer:.2f}% + dockerd {theirs.dockerd:.2f}% = {theirs.total:.2f}%"
        f" (containerd {theirs.containerd:.2f}%); ratio {ratio:.1f}x",
    )


def own_row(name: str, ours: Window, theirs: Window | None) -> Row:
    """The viewers' own processes alone, without dockerd: under churn dockerd's
    cost of restarting the crash loop is in both combined figures and is no
    viewer's doing."""
    mine = f"mltui {ours.viewer:.2f}%"
    if theirs is None:
        return (name, mine, "lazydocker not found ($LAZYDOCKER or PATH): mltui alone")
    ratio = theirs.viewer / ours.viewer if ours.viewer > 0 else float("inf")
    return (name, mine, f"lazydocker {theirs.viewer:.2f}%; ratio {ratio:.1f}x")


def added_row(name: str, floor: Window, ours: Window, theirs: Window | None) -> Row:
    """What watching adds: the viewer's own process plus dockerd above its floor
    (the same engine with nobody watching, measured just before). Under churn the
    floor is most of either combined figure and no viewer's doing."""

    def added(w: Window) -> float:
        return w.viewer + max(0.0, w.dockerd - floor.dockerd)

    mine = f"mltui {ours.viewer:.2f}% + dockerd +{max(0.0, ours.dockerd - floor.dockerd):.2f}%"
    mine += f" = {added(ours):.2f}%"
    if theirs is None:
        return (name, mine, "lazydocker not found ($LAZYDOCKER or PATH): mltui alone")
    ratio = added(theirs) / added(ours) if added(ours) > 0 else float("inf")
    extra = max(0.0, theirs.dockerd - floor.dockerd)
    return (
        name,
        mine,
        f"lazydocker {theirs.viewer:.2f}% + dockerd +{extra:.2f}% = {added(theirs):.2f}%;"
        f" ratio {ratio:.1f}x",
    )


def floor_row(name: str, w: Window) -> Row:
    return (
        name,
        f"dockerd {w.dockerd:.2f}% (containerd {w.containerd:.2f}%)",
        "nobody watching: the engine's own cost, in both figures",
    )


def scenario_rows(
    viewers: Viewers, marker: str, seconds: float, label: str, rss: bool, own: bool = False
) -> list[Row]:
    """The engine's floor, then both viewers; ``rss``: mltui's peak memory too;
    ``own``: the viewers' own CPU compared without dockerd's."""
    rows: list[Row] = []
    floor = measure([], seconds)
    rows.append(floor_row(f"{label}: engine alone, {seconds:.0f} s", floor))
    lazy = viewers.run_lazydocker(marker, seconds)
    at_default = viewers.run_mltui(2.0, marker, seconds)
    at_lazy = viewers.run_mltui(LAZYDOCKER_RATE_S, marker, seconds)
    same = "" if viewers.has_stats_interval else " (no stats columns in this mltui yet)"
    rows.append(compare(f"{label}: CPU, mltui stats every 2 s{same}", at_default, lazy))
    rows.append(
        compare(f"{label}: CPU, mltui stats every {LAZYDOCKER_RATE_S:g} s{same}", at_lazy, lazy)
    )
    if own:
        rate = f"{LAZYDOCKER_RATE_S:g} s"
        rows.append(own_row(f"{label}: viewer's own CPU, mltui stats every 2 s", at_default, lazy))
        rows.append(own_row(f"{label}: viewer's own CPU, mltui stats every {rate}", at_lazy, lazy))
        rows.append(
            added_row(
                f"{label}: what watching adds, mltui stats every 2 s", floor, at_default, lazy
            )
        )
        rows.append(
            added_row(
                f"{label}: what watching adds, mltui stats every {rate}", floor, at_lazy, lazy
            )
        )
    if rss:
        peak = max(at_default.rss_peak_mib, at_lazy.rss_peak_mib)
        theirs = f"lazydocker {lazy.rss_peak_mib:.0f} MiB" if lazy else ""
        rows.append((f"{label}: peak RSS (VmHWM)", f"mltui {peak:.0f} MiB", theirs))
    return rows


def private_engine(image: str) -> SecondEngine:
    """Start the private engine, give it the test image and a one-node swarm; the
    docker calls, viewers and measures below all go to it."""
    engine = SecondEngine()
    engine.start()
    assert engine.proc is not None
    ENGINE["DOCKER_HOST"] = engine.url
    ENGINE["dockerd_pid"] = str(engine.proc.pid)
    ENGINE["containerd_pid"] = str(own_containerd(str(engine.dir)))
    engine.load_image(image)
    engine.swarm_init()
    return engine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0, help="each measured window")
    parser.add_argument("--scenario", choices=("idle", "churn", "all"), default="all")
    parser.add_argument("--quick", action="store_true", help="20 containers, 10 s windows")
    parser.add_argument(
        "--engine",
        choices=("private", "shared"),
        default="private",
        help="a private engine started for the bench (default), or the machine's own",
    )
    parser.add_argument(
        "--no-demo", action="store_true", help="churn without the demo stack (a small box)"
    )
    args = parser.parse_args()
    if args.quick:
        args.containers, args.seconds = min(args.containers, 20), min(args.seconds, 10.0)
    lazydocker = os.environ.get("LAZYDOCKER") or shutil.which("lazydocker")
    if lazydocker and not os.access(lazydocker, os.X_OK):
        print(f"$LAZYDOCKER={lazydocker} is not an executable: measuring mltui alone")
        lazydocker = None
    if not lazydocker:
        print("lazydocker not found ($LAZYDOCKER or PATH): measuring mltui alone, no ratios")

    def interrupted(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    image = ensure_image(TEST_BASE, print)
    rows: list[Row] = []
    private: SecondEngine | None = None
    demo = "none" if args.no_demo else ("real" if args.engine == "shared" else "stand-in")
    try:
        if args.engine == "private":
            print("starting a private engine for the bench", flush=True)
            private = private_engine(image)
        cleanup()
        with tempfile.TemporaryDirectory(prefix="mltuibench-stats-") as scratch:
            viewers = Viewers(lazydocker, Path(scratch))
            if args.scenario in ("idle", "all"):
                print(f"idle: starting {args.containers} containers", flush=True)
                make_containers(image, args.containers)
                rows += scenario_rows(
                    viewers, f"{PREFIX}000", args.seconds, f"idle, {args.containers} ctrs", True
                )
                remove_containers()
            if args.scenario in ("churn", "all"):
                note = start_churn(image, demo)
                print(f"churn: {note}", flush=True)
                settle_churn()
                rows += scenario_rows(viewers, CRASHLOOP, args.seconds, "churn", False, own=True)
                rows.append(("churn: what runs", note, f"engine: {args.engine}"))
    except KeyboardInterrupt:
        print("interrupted: removing what the bench started", file=sys.stderr)
        return 130
    finally:
        cleanup()
        if private is not None:
            private.close()
        ENGINE.clear()
    print()
    print(f"engine: {args.engine}; {'lazydocker ' + lazydocker if lazydocker else 'no lazydocker'}")
    header = (f"measure (% of one core, {args.seconds:.0f} s windows)", "mltui")
    print_table(rows, (*header, "lazydocker, same run"), gap=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
