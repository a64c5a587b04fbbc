"""`mltui` with no command: the dashboard in this terminal."""

from __future__ import annotations

import argparse
from dataclasses import replace

from .common import connect, load_config


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-lines",
        type=_positive,
        metavar="N",
        help="lines a logs view keeps before it drops the oldest (default: the config's "
        "logs.max_lines, else 100,000)",
    )
    parser.add_argument(
        "--no-stats",
        action="store_true",
        help="start without the CPU and memory columns and their reads (as `stats = false` "
        "in the config; `t` turns them on; `stats_interval` sets how often they are read)",
    )
    parser.add_argument(
        "--read-only",
        dest="tui_read_only",
        action="store_true",
        help="hide and refuse every action (scale, restart, stop, start, down, rollback, up, "
        "shell, roll), as `read_only = true` in the config",
    )


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give a whole number of lines, at least 1")
    return number


def run(args: argparse.Namespace) -> int:
    from ..core.inventory import WarmStart

    # the first round trips to the engine run while Textual is imported
    warm = WarmStart(connect(args.host)).start()
    from ..ui.app import MltuiApp

    config, problems = load_config(args, quiet=True)
    if getattr(args, "no_stats", False):
        config = replace(config, stats=False)
    if getattr(args, "tui_read_only", False):
        config = replace(config, read_only=True)
    app = MltuiApp(
        engine_factory=lambda: connect(args.host),
        log_lines=args.log_lines or config.logs.max_lines,
        config=config,
        config_problems=problems,
        warm=warm,
    )
    app.run()
    return app.return_code or 0
