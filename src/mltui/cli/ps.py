"""`mltui ps`: stacks, services and replicas, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from .common import engine_snapshot

if TYPE_CHECKING:
    from ..core.engine import EngineInfo
    from ..core.inventory import Snapshot


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ps", help="list stacks, services and replicas")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument("--services", action="store_true", help="services only, no replica rows")


def run(args: argparse.Namespace) -> int:
    def down(info: EngineInfo) -> None:
        if args.json:
            print(json.dumps({"engine": info.as_dict(), "stacks": []}, indent=2))

    engine, _inventory, snapshot = engine_snapshot(args.host, "mltui", on_down=down)
    engine.close()
    if args.json:
        print(json.dumps(snapshot.as_dict(), indent=2))
        return 0
    _print_table(snapshot, replicas=not args.services)
    return 0


def _print_table(snapshot: Snapshot, replicas: bool) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..core.report import COLUMNS, engine_line, rows

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
