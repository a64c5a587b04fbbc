"""Stats for what a snapshot shows: the targets of its replicas (from the
inventory's cached inspects), the sums per service, and the figures as text
(``12.3%``, ``512.0MiB / 2.0GiB``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .model import ContainerStats, StatsTarget, figures_dict, target_from_inspect

if TYPE_CHECKING:
    from ..inventory import Service, Snapshot


def snapshot_targets(
    snapshot: Snapshot, inspected: Callable[[str], Mapping[str, Any] | None]
) -> list[StatsTarget]:
    """One target per replica that has a container, in the snapshot's order."""
    out: list[StatsTarget] = []
    seen: set[str] = set()
    for stack in snapshot.stacks:
        for svc in stack.services:
            for rep in svc.replicas:
                cid = rep.container_id
                if cid and cid not in seen:
                    seen.add(cid)
                    out.append(target_from_inspect(cid, inspected(cid)))
    return out


@dataclass(frozen=True)
class ServiceStats:
    """The sums over a service's replicas (None when no replica had the figure)."""

    cpu_percent: float | None = None
    memory_bytes: int | None = None
    memory_limit_bytes: int | None = None  # None when any replica is unlimited
    net_rx_bytes: int | None = None
    net_tx_bytes: int | None = None
    pids: int | None = None

    JSON_FIELDS = (
        "cpu_percent",
        "memory_bytes",
        "memory_limit_bytes",
        "net_rx_bytes",
        "net_tx_bytes",
        "pids",
    )

    def as_dict(self) -> dict[str, Any]:
        return figures_dict(self, self.JSON_FIELDS)


def _sum(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def service_stats(svc: Service, stats: Mapping[str, ContainerStats]) -> ServiceStats:
    figures = [stats[r.container_id] for r in svc.replicas if r.container_id in stats]
    read = [f for f in figures if f.source]
    limits = [f.memory_limit_bytes for f in read]
    return ServiceStats(
        cpu_percent=_sum([f.cpu_percent for f in read]),
        memory_bytes=_sum([f.memory_bytes for f in read]),
        memory_limit_bytes=sum(x for x in limits if x) if limits and all(limits) else None,
        net_rx_bytes=_sum([f.net_rx_bytes for f in read]),
        net_tx_bytes=_sum([f.net_tx_bytes for f in read]),
        pids=_sum([f.pids for f in read]),
    )


def format_bytes(value: int | None) -> str:
    """``512.0MiB``, as docker stats writes sizes (binary units)."""
    if value is None:
        return "n/a"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1024
    raise AssertionError("unreachable")


def format_cpu(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def format_memory(used: int | None, limit: int | None) -> str:
    if used is None:
        return "n/a"
    return format_bytes(used) + (f" / {format_bytes(limit)}" if limit else "")
