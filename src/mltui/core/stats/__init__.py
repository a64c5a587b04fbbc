"""Resource usage per container (CPU, memory, network, block I/O, PIDs, OOM),
as ``docker stats`` counts it.

- :mod:`.model`: :class:`StatsTarget` (what to read), :class:`RawSample` (counters
  of one moment), :class:`ContainerStats` (the figures) and the arithmetic;
- :mod:`.cgroup`: the local reader, straight from cgroup v1/v2 files and /proc;
- :mod:`.api`: the engine's one-shot stats, parsed;
- :mod:`.reader`: :class:`StatsReader`, one interface over both;
- :mod:`.history`: :class:`StatsHistory`, a bounded ring per container for sparklines;
- :mod:`.snapshot`: the targets of a snapshot, sums per service, figures as text.
"""

from .api import sample_from_api
from .cgroup import CgroupFiles
from .history import Series, StatsHistory
from .model import (
    ContainerStats,
    RawSample,
    StatsTarget,
    cpu_percent,
    memory_used,
    target_from_inspect,
)
from .reader import StatsReader, read_rates
from .snapshot import (
    ServiceStats,
    format_bytes,
    format_cpu,
    format_memory,
    service_stats,
    snapshot_targets,
)

__all__ = [
    "CgroupFiles",
    "ContainerStats",
    "RawSample",
    "Series",
    "ServiceStats",
    "StatsHistory",
    "StatsReader",
    "StatsTarget",
    "cpu_percent",
    "format_bytes",
    "format_cpu",
    "format_memory",
    "memory_used",
    "read_rates",
    "sample_from_api",
    "service_stats",
    "snapshot_targets",
    "target_from_inspect",
]
