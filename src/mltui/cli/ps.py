"""`mltui ps`: stacks, services and replicas, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .common import engine_snapshot

if TYPE_CHECKING:
    from rich.console import Console

    from ..core.engine import Engine, EngineInfo
    from ..core.inventory import Inventory, Snapshot
    from ..core.usage import Usage


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ps", help="list stacks, services and replicas")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument("--services", action="store_true", help="services only, no replica rows")
    p.add_argument(
        "--stats",
        action="store_true",
        help="add CPU, memory, network and PIDs per replica and service (samples 1 s); "
        "on a GPU host, the GPU memory of each replica's processes (NVML)",
    )


def run(args: argparse.Namespace) -> int:
    return run_with_nvml(args, None)


def run_with_nvml(args: argparse.Namespace, nvml_factory: Callable[[], Any] | None) -> int:
    """``nvml_factory``: NVML for the GPU figures (None: nvidia-ml-py itself)."""

    def down(info: EngineInfo) -> None:
        if args.json:
            print(json.dumps({"engine": info.as_dict(), "stacks": []}, indent=2))

    engine, inventory, snapshot = engine_snapshot(args.host, "mltui", on_down=down)
    usage: Usage | None = None
    try:
        if getattr(args, "stats", False):
            usage = _read_usage(engine, inventory, snapshot, nvml_factory)
    finally:
        engine.close()
    if args.json:
        data = snapshot.as_dict()
        if usage is not None:
            _add_stats(data, snapshot, usage)
        print(json.dumps(data, indent=2))
        return 0
    _print_table(snapshot, replicas=not args.services, usage=usage)
    return 0


def _read_usage(
    engine: Engine,
    inventory: Inventory,
    snapshot: Snapshot,
    nvml_factory: Callable[[], Any] | None = None,
) -> Usage:
    from ..core.stats import StatsReader, read_rates, snapshot_targets
    from ..core.usage import GpuReads, Usage

    reader = StatsReader(engine)
    try:
        stats = read_rates(reader, snapshot_targets(snapshot, inventory.inspected))
    finally:
        reader.close()
    return Usage(stats, GpuReads(nvml_factory).read())


def _add_stats(data: dict[str, Any], snapshot: Snapshot, usage: Usage) -> None:
    """Per replica its figures, per service their sums, in the snapshot's JSON;
    ``gpu_memory_bytes`` of each (null without a GPU, or without a GPU process)."""
    from ..core.stats import ContainerStats, service_stats
    from ..core.usage import gpu_memory

    stats = usage.stats
    for stack, sdata in zip(snapshot.stacks, data["stacks"], strict=True):
        for svc, vdata in zip(stack.services, sdata["services"], strict=True):
            vdata.update(service_stats(svc, stats).as_dict())
            vdata["gpu_memory_bytes"] = gpu_memory(svc.replicas, usage.gpu)
            for rep, rdata in zip(svc.replicas, vdata["replicas"], strict=True):
                figures = stats.get(rep.container_id) or ContainerStats(rep.container_id)
                rdata.update(figures.as_dict())
                rdata["gpu_memory_bytes"] = gpu_memory((rep,), usage.gpu)


def _print_table(
    snapshot: Snapshot,
    replicas: bool,
    usage: Usage | None = None,
    out: Console | None = None,
) -> None:
    """The table on stdout, or on ``out`` (`mltui top` draws each frame in one write)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..core.report import COLUMNS, engine_line, rows

    out = out or Console(
        width=None if sys.stdout.isatty() else 200,
        highlight=False,
        soft_wrap=False,
        no_color=not sys.stdout.isatty() or "NO_COLOR" in os.environ,
    )
    out.print(Text(engine_line(snapshot.engine)))
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    columns = COLUMNS + (usage.columns if usage is not None else ())
    for col in columns:
        table.add_column(col, no_wrap=True, overflow="ellipsis")
    shown = rows(snapshot, replicas=replicas)
    if usage is not None:
        from ..core.usage import with_usage

        # the same cells as the TUI's: replicas, and the sums of services and stacks
        shown = with_usage(shown, snapshot, usage)
    for row in shown:
        name = ("" if row.level == 0 else "  " * row.level) + row.cells[0]
        style = "bold" if row.level == 0 else ""
        extra = row.usage
        table.add_row(Text(name, style=style), *(Text(c) for c in row.cells[1:] + extra))
        if row.note and row.level == 1:
            table.add_row(
                Text("    └ " + row.note, style="red"), *([Text("")] * (len(columns) - 1))
            )
    out.print(table)
