"""Resource usage in the services table: the CPU, MEM (and GPU MEM) cells of
each row, the order the table is sorted in, and which containers the rows on
screen need read.

The screen only lays out what this module builds: the text of each usage cell
and its :class:`.report.Tone`. Figures come from :mod:`.stats` (per container)
and from NVML's process list (:mod:`.gpu`, per container as well).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .detail import Detail, Piece
from .gpu import HostGpus, read_host
from .inventory.model import Replica, Service, Snapshot, Stack
from .report import Level, Row, RowId, Tone
from .stats import (
    ContainerStats,
    ServiceStats,
    StatsTarget,
    format_bytes,
    format_cpu,
    format_memory,
    service_stats,
    target_from_inspect,
)
from .textsafe import safe_text

SORT_KEYS = ("name", "cpu", "mem")  # what the sort key cycles through
USAGE_COLUMNS = ("CPU", "MEM")
GPU_COLUMN = "GPU MEM"
NEAR_LIMIT = 0.9  # memory at this share of its limit is shown as a warning


def next_sort(key: str) -> str:
    """The sort after ``key``: name -> cpu -> mem -> name."""
    index = SORT_KEYS.index(key) if key in SORT_KEYS else -1
    return SORT_KEYS[(index + 1) % len(SORT_KEYS)]


@dataclass(frozen=True)
class GpuUse:
    """What one container uses of the host's GPUs, from NVML's process list."""

    memory_bytes: int | None  # summed over its processes; None when NVML could not say
    utilization: int | None  # % busy of the busiest GPU it runs on (NVML counts per GPU)
    gpus: tuple[int, ...] = ()  # the indexes of those GPUs


def gpu_use(host: HostGpus) -> dict[str, GpuUse]:
    """Per container id, the GPU memory of its processes and the GPUs they run on."""
    memory: dict[str, int | None] = {}
    busy: dict[str, int | None] = {}
    where: dict[str, list[int]] = {}
    for gpu in host.gpus:
        for proc in gpu.processes:
            cid = proc.container_id
            if not cid:
                continue
            used = None if proc.memory_mib is None else int(proc.memory_mib * 2**20)
            if cid not in memory:
                memory[cid] = used
            elif used is not None:
                memory[cid] = (memory[cid] or 0) + used
            if gpu.index not in where.setdefault(cid, []):
                where[cid].append(gpu.index)
            if gpu.utilization is not None:
                busy[cid] = max(busy.get(cid) or 0, gpu.utilization)
    return {cid: GpuUse(memory[cid], busy.get(cid), tuple(where.get(cid, ()))) for cid in memory}


GPU_RETRY_S = 300.0  # a host without GPUs is asked again after this


class GpuReads:
    """What each container uses of the GPUs, read from NVML at each :meth:`read`.
    A host where NVML shows no GPU is asked again only every ``GPU_RETRY_S`` (no
    driver, no cost per refresh; a driver still loading at the first ask is seen
    later). ``nvml_factory``: None for nvidia-ml-py itself."""

    def __init__(
        self,
        nvml_factory: Callable[[], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.nvml_factory = nvml_factory
        self.gpu_host: bool | None = None  # None: not asked yet
        self._clock = clock
        self._ask_again = 0.0  # when a host without GPUs is asked again

    def read(self) -> dict[str, GpuUse] | None:
        """Per container its GPU use; None when the host has no GPU NVML can read."""
        if self.gpu_host is False and self._clock() < self._ask_again:
            return None
        host = read_host(self.nvml_factory() if self.nvml_factory else None)
        if not self.gpu_host:  # once a GPU host, a failed read keeps the column
            self.gpu_host = bool(host.gpus)
            if not self.gpu_host:
                self._ask_again = self._clock() + GPU_RETRY_S
        return gpu_use(host) if self.gpu_host else None


@dataclass(frozen=True)
class Usage:
    """The figures the table shows: per container id its stats, and on a GPU host
    (``gpu`` not None) what it uses of the GPUs."""

    stats: Mapping[str, ContainerStats] = field(default_factory=dict)
    gpu: Mapping[str, GpuUse] | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return USAGE_COLUMNS + ((GPU_COLUMN,) if self.gpu is not None else ())


def _services_by_key(snapshot: Snapshot) -> dict[str, Service]:
    """Each service by its key (the first of that key, as Snapshot.service finds)."""
    out: dict[str, Service] = {}
    for svc in snapshot.services():
        out.setdefault(svc.key, svc)
    return out


# -- sums ------------------------------------------------------------------------
def stack_stats(stack: Stack, stats: Mapping[str, ContainerStats]) -> ServiceStats:
    """The sums over every service of a stack (None where no replica had the figure)."""
    sums = [service_stats(svc, stats) for svc in stack.services]

    def total(name: str) -> Any:
        values = [getattr(s, name) for s in sums if getattr(s, name) is not None]
        return sum(values) if values else None

    limits = [s.memory_limit_bytes for s in sums if s.memory_bytes is not None]
    return ServiceStats(
        cpu_percent=total("cpu_percent"),
        memory_bytes=total("memory_bytes"),
        memory_limit_bytes=sum(x for x in limits if x) if limits and all(limits) else None,
        net_rx_bytes=total("net_rx_bytes"),
        net_tx_bytes=total("net_tx_bytes"),
        pids=total("pids"),
    )


def _gpu_sum(replicas: Iterable[Replica], gpu: Mapping[str, GpuUse]) -> int | None:
    values = [gpu[r.container_id].memory_bytes for r in replicas if r.container_id in gpu]
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def gpu_memory(replicas: Iterable[Replica], gpu: Mapping[str, GpuUse] | None) -> int | None:
    """The GPU memory the replicas' processes hold, summed; None without a GPU
    (``gpu`` None) or when NVML lists no process of theirs."""
    return None if gpu is None else _gpu_sum(replicas, gpu)


# -- the order ---------------------------------------------------------------------
def _figure(key: str, sums: ServiceStats | ContainerStats | None) -> float | None:
    if sums is None:
        return None
    return sums.cpu_percent if key == "cpu" else sums.memory_bytes


def _ordered(items: Sequence[Any], figure: Callable[[Any], float | None]) -> tuple[Any, ...]:
    """Largest first; those without a figure after, each group in its old order."""
    known = [(i, figure(x)) for i, x in enumerate(items)]
    have = sorted((p for p in known if p[1] is not None), key=lambda p: -float(p[1] or 0))
    rest = [p for p in known if p[1] is None]
    return tuple(items[i] for i, _ in have + rest)


def sort_snapshot(snapshot: Snapshot, stats: Mapping[str, ContainerStats], key: str) -> Snapshot:
    """The snapshot with stacks, services and replicas in the order of ``key``:
    "name" keeps the inventory's order; "cpu" and "mem" put the largest first."""
    if key not in ("cpu", "mem"):
        return snapshot

    def replicas(svc: Service) -> Service:
        ordered = _ordered(svc.replicas, lambda r: _figure(key, stats.get(r.container_id)))
        return replace(svc, replicas=ordered)

    stacks = []
    for stack in snapshot.stacks:
        services = _ordered(
            [replicas(s) for s in stack.services], lambda s: _figure(key, service_stats(s, stats))
        )
        stacks.append(replace(stack, services=services))
    ordered = _ordered(stacks, lambda s: _figure(key, stack_stats(s, stats)))
    return replace(snapshot, stacks=ordered)


# -- the cells -------------------------------------------------------------------
def short_cpu(value: float | None) -> str:
    """CPU % in a narrow table: whole percents (``25%``)."""
    return "n/a" if value is None else f"{value:.0f}%"


def short_bytes(value: int | None) -> str:
    """A size in a narrow table: ``259M``, ``1.2G`` (binary units, as docker stats)."""
    if value is None:
        return "n/a"
    size = float(value)
    for unit in ("B", "K", "M", "G", "T"):
        if size < 1024 or unit == "T":
            return f"{size:.1f}{unit}" if size < 10 and unit != "B" else f"{size:.0f}{unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _cpu_text(value: float | None, compact: bool) -> str:
    return short_cpu(value) if compact else format_cpu(value)


def _memory_text(used: int | None, limit: int | None, compact: bool) -> str:
    return short_bytes(used) if compact else format_memory(used, limit)


def _memory_tone(used: int | None, limit: int | None) -> Tone:
    if used is not None and limit and used >= NEAR_LIMIT * limit:
        return Tone.WARN
    return Tone.PLAIN


def _sum_cells(sums: ServiceStats, running: bool, compact: bool) -> list[tuple[str, Tone]]:
    if sums.cpu_percent is None and sums.memory_bytes is None:
        return [("n/a", Tone.DIM)] * 2 if running else [("", Tone.PLAIN)] * 2
    return [
        (_cpu_text(sums.cpu_percent, compact), Tone.PLAIN),
        (
            _memory_text(sums.memory_bytes, sums.memory_limit_bytes, compact),
            _memory_tone(sums.memory_bytes, sums.memory_limit_bytes),
        ),
    ]


def _replica_cells(figures: ContainerStats | None, compact: bool) -> list[tuple[str, Tone]]:
    if figures is None or figures.error == "not running":
        return [("", Tone.PLAIN)] * 2
    if not figures.source:
        return [("n/a", Tone.DIM)] * 2  # the read failed or timed out
    used, limit = figures.memory_bytes, figures.memory_limit_bytes
    cpu_tone = Tone.PLAIN if figures.cpu_percent is not None else Tone.DIM
    return [
        (_cpu_text(figures.cpu_percent, compact), cpu_tone),
        (_memory_text(used, limit, compact), _memory_tone(used, limit)),
    ]


def _gpu_cell(value: int | None, compact: bool) -> tuple[str, Tone]:
    if value is None:
        return ("", Tone.PLAIN)
    return (short_bytes(value) if compact else format_bytes(value), Tone.ACCENT)


def with_usage(
    rows: Sequence[Row], snapshot: Snapshot, usage: Usage, *, compact: bool = False
) -> list[Row]:
    """``rows`` with their usage cells: a replica's own figures, a service's and a
    stack's sums. ``compact``: short figures (``25%``, ``259M``), MEM without
    its limit (the detail names it)."""
    stats, gpu = usage.stats, usage.gpu
    stacks = {s.key: s for s in snapshot.stacks}
    by_key = _services_by_key(snapshot)
    out: list[Row] = []
    for row in rows:
        cells: list[tuple[str, Tone]]
        reps: Iterable[Replica]
        if row.id.level is Level.STACK:
            stack = stacks.get(row.id.stack)
            services = stack.services if stack is not None else ()
            reps = [r for s in services for r in s.replicas]
            running = any(r.running for r in reps)
            sums = stack_stats(stack, stats) if stack is not None else ServiceStats()
            cells = _sum_cells(sums, running, compact)
        elif row.id.level is Level.SERVICE:
            svc = by_key.get(row.id.service)
            reps = svc.replicas if svc is not None else ()
            running = any(r.running for r in reps)
            sums = service_stats(svc, stats) if svc is not None else ServiceStats()
            cells = _sum_cells(sums, running, compact)
        else:
            svc = by_key.get(row.id.service)
            rep = next((r for r in svc.replicas if r.key == row.id.replica), None) if svc else None
            reps = [rep] if rep is not None else []
            cells = _replica_cells(stats.get(rep.container_id) if rep else None, compact)
        if gpu is not None:
            cells.append(_gpu_cell(_gpu_sum(reps, gpu), compact))
        out.append(
            replace(row, usage=tuple(c[0] for c in cells), usage_tones=tuple(c[1] for c in cells))
        )
    return out


# -- what to read ----------------------------------------------------------------
def needed_targets(
    snapshot: Snapshot,
    shown: Iterable[RowId],
    inspected: Callable[[str], Mapping[str, Any] | None],
) -> list[StatsTarget]:
    """The containers the rows on screen need: a replica row its own, a service
    row its replicas (for the sums), a stack row every replica in it."""
    wanted: dict[str, bool] = {}  # container id -> running
    stacks = {s.key: s for s in snapshot.stacks}
    by_key = _services_by_key(snapshot)
    for row in shown:
        if row.level is Level.STACK:
            stack = stacks.get(row.stack)
            services: Iterable[Service] = stack.services if stack is not None else ()
        else:
            svc = by_key.get(row.service)
            services = (svc,) if svc is not None else ()
        for svc in services:
            for rep in svc.replicas:
                if row.level is Level.REPLICA and rep.key != row.replica:
                    continue
                if rep.container_id:
                    wanted[rep.container_id] = rep.running
    out = []
    for cid, running in wanted.items():
        inspect = inspected(cid)
        target = target_from_inspect(cid, inspect)
        if inspect is None:
            # not inspected yet (the first paint lists only): the engine's stats
            # would give the host's memory as the limit; show none until it is known
            target = replace(target, limit_known=True)
        # the inventory's state is newer than a cached inspect
        out.append(target if running else replace(target, running=False))
    return out


# -- the detail pane ---------------------------------------------------------------
def usage_containers(snapshot: Snapshot, row: RowId | None) -> list[str]:
    """The containers whose figures the detail of ``row`` shows (a service's
    replicas, or one replica); none for a stack."""
    if row is None or row.level is Level.STACK:
        return []
    svc = snapshot.service(row.service)
    if svc is None:
        return []
    reps = [r for r in svc.replicas if row.level is Level.SERVICE or r.key == row.replica]
    return [r.container_id for r in reps if r.container_id]


def _pair(a: int | None, b: int | None) -> str:
    return f"{format_bytes(a)} / {format_bytes(b)}"


def usage_detail(snapshot: Snapshot, row: RowId | None, usage: Usage) -> Detail:
    """The figures under the sparklines: CPU, memory and its limit, network,
    block I/O, PIDs, and on a GPU host the GPU memory and how busy its GPUs are."""
    ids = usage_containers(snapshot, row)
    if not ids:
        return ()
    read = [usage.stats[c] for c in ids if c in usage.stats and usage.stats[c].source]
    if not read:
        failed = [usage.stats[c].error for c in ids if c in usage.stats and usage.stats[c].error]
        why = next((e for e in failed if e != "not running"), "")
        if why:
            return (Piece("usage n/a: " + safe_text(why, 120), Tone.DIM),)
        return (Piece("usage: not running" if failed else "usage: reading…", Tone.DIM),)

    def total(name: str) -> Any:
        values = [getattr(f, name) for f in read if getattr(f, name) is not None]
        return sum(values) if values else None

    used = total("memory_bytes")
    limits = [f.memory_limit_bytes for f in read]
    limit = sum(x for x in limits if x) if all(limits) else None
    # CPU and memory themselves head the sparklines; here, what goes with them
    out = [
        Piece(
            f"limit {format_bytes(limit)}" if limit else "no memory limit",
            _memory_tone(used, limit),
        ),
        Piece(f"   net rx/tx {_pair(total('net_rx_bytes'), total('net_tx_bytes'))}"),
        Piece(f"   block r/w {_pair(total('block_read_bytes'), total('block_write_bytes'))}"),
        Piece(f"   PIDs {total('pids') if total('pids') is not None else 'n/a'}"),
    ]
    if usage.gpu is not None:
        gpus = [usage.gpu[c] for c in ids if c in usage.gpu]
        if gpus:
            memory = [g.memory_bytes for g in gpus if g.memory_bytes is not None]
            busy = [g.utilization for g in gpus if g.utilization is not None]
            where = sorted({i for g in gpus for i in g.gpus})
            text = f"\nGPU {','.join(map(str, where))}: memory "
            text += format_bytes(sum(memory)) if memory else "n/a"
            text += f", GPU busy {max(busy)}%" if busy else ""
            out.append(Piece(text, Tone.ACCENT))
        else:
            out.append(Piece("\nno GPU process", Tone.DIM))
    return tuple(out)
