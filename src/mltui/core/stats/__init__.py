"""Resource usage per container (CPU, memory, network, block I/O, PIDs, OOM),
as ``docker stats`` counts it.

- :mod:`.model`: :class:`StatsTarget` (what to read), :class:`RawSample` (counters
  of one moment), :class:`ContainerStats` (the figures) and the arithmetic;
- :mod:`.cgroup`: the local reader, straight from cgroup v1/v2 files and /proc;
- :mod:`.api`: the engine's one-shot stats, parsed;
- :mod:`.reader`: :class:`StatsReader`, one interface over both.
"""

from .api import sample_from_api
from .cgroup import CgroupFiles
from .model import (
    ContainerStats,
    RawSample,
    StatsTarget,
    cpu_percent,
    memory_used,
    target_from_inspect,
)
from .reader import StatsReader

__all__ = [
    "CgroupFiles",
    "ContainerStats",
    "RawSample",
    "StatsReader",
    "StatsTarget",
    "cpu_percent",
    "memory_used",
    "sample_from_api",
    "target_from_inspect",
]
