"""`mltui top`: a live ``ps --stats`` on a terminal, redrawn every interval.

Plain text, no Textual: the screen is cleared and the table printed again each
interval. ``q`` or Ctrl-C quits (the terminal is put back as it was). When
stdout is not a terminal, or with ``--once``, one frame is printed and it exits.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .common import connect, exits_when_down, load_config

if TYPE_CHECKING:
    from ..core.inventory import Inventory
    from ..core.stats import StatsReader
    from ..core.usage import GpuReads, Usage

CLEAR = "\x1b[H\x1b[2J"  # cursor home, clear the screen
FIRST_SAMPLE_S = 1.0  # the first frame's CPU % needs two samples this far apart


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "top",
        help="live CPU and memory of every replica: `ps --stats`, redrawn every interval "
        "(q or Ctrl-C quits)",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=None,
        metavar="S",
        help="seconds between frames (default: stats_interval in the config, 2)",
    )
    p.add_argument("--once", action="store_true", help="print one frame and exit")
    p.add_argument(
        "--sort",
        choices=("name", "cpu", "mem"),
        default="name",
        help="order stacks, services and replicas by name or by CPU or memory, largest first",
    )
    p.add_argument("--services", action="store_true", help="services only, no replica rows")


def run(args: argparse.Namespace) -> int:
    return run_with_nvml(args, None)


def run_with_nvml(args: argparse.Namespace, nvml_factory: Callable[[], Any] | None) -> int:
    """``nvml_factory``: NVML for the GPU MEM column (None: nvidia-ml-py itself)."""
    from ..core.inventory import Inventory
    from ..core.stats import StatsReader
    from ..core.usage import GpuReads

    interval = args.interval
    if interval is None:
        config, _ = load_config(args, quiet=True)
        interval = config.stats_interval
    if not 0.1 <= interval <= 3600:
        print("mltui top: --interval should be from 0.1 to 3600 seconds", file=sys.stderr)
        return 2
    live = not args.once and sys.stdout.isatty()
    engine = connect(args.host)
    inventory = Inventory(engine)
    reader = StatsReader(engine)
    gpu = GpuReads(nvml_factory)
    try:
        with exits_when_down("mltui top"):
            # the first frame: two reads a moment apart (CPU % is their difference)
            _frame(args, inventory, reader, gpu, pause=min(FIRST_SAMPLE_S, interval), live=live)
            if not live:
                return 0
            with _keys() as pressed:
                while not pressed(interval):
                    _frame(args, inventory, reader, gpu, pause=0.0, live=True)
    except KeyboardInterrupt:
        pass
    finally:
        reader.close()
        engine.close()
    if live:
        print()
    return 0


def _frame(
    args: argparse.Namespace,
    inventory: Inventory,
    reader: StatsReader,
    gpu: GpuReads,
    pause: float,
    live: bool,
) -> None:
    from ..core.stats import read_rates, snapshot_targets
    from ..core.usage import Usage, sort_snapshot

    snapshot = inventory.snapshot()
    targets = snapshot_targets(snapshot, inventory.inspected)
    stats = read_rates(reader, targets, interval=pause) if pause > 0 else reader.read(targets)
    snapshot = sort_snapshot(snapshot, stats, args.sort)
    usage = Usage(stats, gpu.read())  # GPU MEM per replica and its sums, on a GPU host
    text = _render(snapshot, usage, replicas=not args.services, live=live)
    if live:
        head = time.strftime("%H:%M:%S") + "  mltui top: q or Ctrl-C quits"
        sys.stdout.write(CLEAR + head + "\n" + text)
    else:
        sys.stdout.write(text)
    sys.stdout.flush()


def _render(snapshot: Any, usage: Usage, replicas: bool, live: bool) -> str:
    from rich.console import Console

    from .ps import _print_table

    # a terminal that tells no size (0 x 0) is taken as 100 x 40
    size = shutil.get_terminal_size((100, 40)) if live else None
    buffer = io.StringIO()
    out = Console(
        file=buffer,
        width=size.columns if size else 200,
        highlight=False,
        soft_wrap=False,
        force_terminal=live and "NO_COLOR" not in os.environ,
        no_color=not live or "NO_COLOR" in os.environ,
    )
    _print_table(snapshot, replicas=replicas, usage=usage, out=out)
    lines = buffer.getvalue().splitlines()
    if size is not None:
        lines = lines[: max(1, size.lines - 2)]  # one screen: the header and the cursor line
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _keys() -> Iterator[Any]:
    """A function that waits up to its argument in seconds and says whether q was
    pressed; the terminal reads keys one by one meanwhile (restored after)."""
    import select

    stdin = sys.stdin
    if not stdin.isatty():

        def wait_only(seconds: float) -> bool:
            time.sleep(seconds)
            return False

        yield wait_only
        return
    import termios
    import tty

    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def pressed(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], left)
            if ready and b"q" in os.read(fd, 32).lower():
                return True
        return False

    try:
        yield pressed
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
