"""A short history of each container's CPU and memory, for the sparklines of
the detail pane: a bounded ring per container, and the series of a service (its
replicas summed read by read)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import ContainerStats

DEFAULT_POINTS = 150  # 5 minutes at the default 2 s interval


@dataclass(frozen=True)
class Series:
    """CPU % and memory bytes, oldest first, one point per read (0 where a read
    had no figure, so the points of several containers line up)."""

    cpu: tuple[float, ...] = ()
    memory: tuple[float, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.cpu)


class StatsHistory:
    """The last ``points`` reads of each container. A container missing from
    ``points`` reads in a row is forgotten, so the memory stays bounded."""

    def __init__(self, points: int = DEFAULT_POINTS) -> None:
        self.points = max(2, points)
        self._read = 0  # reads so far
        self._rings: dict[str, deque[tuple[int, float, float]]] = {}

    def record(self, stats: Mapping[str, ContainerStats]) -> None:
        """One read: the figures of every container it had."""
        self._read += 1
        for cid, figures in stats.items():
            if not figures.source or figures.cpu_percent is None:
                continue  # unread, or a first sample (no CPU % yet): no point
            ring = self._rings.get(cid)
            if ring is None:
                ring = self._rings[cid] = deque(maxlen=self.points)
            ring.append((self._read, figures.cpu_percent or 0.0, float(figures.memory_bytes or 0)))
        oldest = self._read - self.points
        for cid in [c for c, ring in self._rings.items() if not ring or ring[-1][0] <= oldest]:
            del self._rings[cid]

    def series(self, container_ids: Iterable[str]) -> Series:
        """The containers' figures summed read by read, from the first read any of
        them has on."""
        cpu: dict[int, float] = {}
        memory: dict[int, float] = {}
        for cid in container_ids:
            for read, c, m in self._rings.get(cid, ()):
                cpu[read] = cpu.get(read, 0.0) + c
                memory[read] = memory.get(read, 0.0) + m
        if not cpu:
            return Series()
        reads = range(min(cpu), self._read + 1)
        return Series(
            tuple(cpu.get(r, 0.0) for r in reads), tuple(memory.get(r, 0.0) for r in reads)
        )

    def __len__(self) -> int:
        return len(self._rings)
