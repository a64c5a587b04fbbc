"""Command line: `mltui` opens the TUI; sub-commands print the same facts headlessly."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from . import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mltui",
        description="A terminal dashboard for the container stacks of machine learning: "
        "compose projects and swarm stacks, replicas, logs, notebooks, GPUs and model servers.",
    )
    parser.add_argument("--version", action="version", version=f"mltui {__version__}")
    parser.add_argument(
        "-H",
        "--host",
        help="Docker engine address (default: DOCKER_HOST, then the current docker context, then the local socket)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    ps = sub.add_parser("ps", help="list stacks, services and replicas")
    ps.add_argument("--json", action="store_true", help="print JSON for scripts")
    ps.add_argument("--services", action="store_true", help="services only, no replica rows")
    return parser


def _engine(host: str | None):
    from .core.engine import Engine, EngineTarget, resolve_target

    if host:
        return Engine(EngineTarget(host, "--host"))
    return Engine(resolve_target())


def cmd_ps(args: argparse.Namespace) -> int:
    from .core.engine import EngineUnavailable
    from .core.inventory import Inventory

    engine = _engine(args.host)
    try:
        snapshot = Inventory(engine).snapshot()
    except EngineUnavailable as exc:
        if args.json:
            print(
                json.dumps(
                    {"engine": engine.down_info(exc.message).as_dict(), "stacks": []}, indent=2
                )
            )
        print(f"mltui: {exc.message}", file=sys.stderr)
        return 2
    finally:
        engine.close()
    if args.json:
        print(json.dumps(snapshot.as_dict(), indent=2))
        return 0
    _print_table(snapshot, replicas=not args.services)
    return 0


def _print_table(snapshot, replicas: bool) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .core.report import COLUMNS, engine_line, rows

    out = Console(
        width=None if sys.stdout.isatty() else 200,
        highlight=False,
        soft_wrap=False,
        no_color=not sys.stdout.isatty() or "NO_COLOR" in os.environ,
    )
    out.print(Text(engine_line(snapshot.engine)))
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for col in COLUMNS:
        table.add_column(col, no_wrap=True, overflow="ellipsis")
    for row in rows(snapshot, replicas=replicas):
        name = ("" if row.level == 0 else "  " * row.level) + row.cells[0]
        style = "bold" if row.level == 0 else ""
        table.add_row(Text(name, style=style), *(Text(c) for c in row.cells[1:]))
        if row.note and row.level == 1:
            table.add_row(
                Text("    └ " + row.note, style="red"), *([Text("")] * (len(COLUMNS) - 1))
            )
    out.print(table)


def cmd_tui(args: argparse.Namespace) -> int:
    from .ui.app import MltuiApp

    app = MltuiApp(engine_factory=lambda: _engine(args.host))
    app.run()
    return app.return_code or 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "ps":
        return cmd_ps(args)
    return cmd_tui(args)


if __name__ == "__main__":
    sys.exit(main())
