"""What a stats read hands back: raw counters of one moment, and the figures
a screen or ``ps --stats`` shows, computed from two of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StatsTarget:
    """A container to read, with what the inventory's inspect already knows
    (no engine call is made to learn it)."""

    container_id: str
    running: bool = True
    pid: int | None = None  # State.Pid: its /proc/<pid>/net/dev gives the network
    memory_limit: int | None = None  # HostConfig.Memory; None: unlimited or unknown
    limit_known: bool = False  # True when an inspect said what the limit is
    oom_killed: bool = False
    exit_code: int | None = None


def target_from_inspect(container_id: str, inspect: Mapping[str, Any] | None) -> StatsTarget:
    """The target for one container, from its inspect (None: not inspected yet,
    read as running; the figures a read cannot give stay None)."""
    if not isinstance(inspect, Mapping):
        return StatsTarget(container_id)
    state = inspect.get("State")
    state = state if isinstance(state, Mapping) else {}
    host = inspect.get("HostConfig")
    host = host if isinstance(host, Mapping) else {}
    pid = state.get("Pid")
    limit = host.get("Memory")
    code = state.get("ExitCode")
    running = bool(state.get("Running", True))
    if running:
        code = None  # a running container's ExitCode is 0: it has not exited
    return StatsTarget(
        container_id=container_id,
        running=running,
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None,
        memory_limit=limit if isinstance(limit, int) and limit > 0 else None,
        limit_known=isinstance(limit, int),
        oom_killed=state.get("OOMKilled") is True,
        exit_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
    )


@dataclass(frozen=True)
class RawSample:
    """Counters of one container at one moment; None where they could not be read."""

    source: str  # "cgroup" | "api"
    cpu_ns: int | None = None  # the container's CPU time since it started
    system_ns: int | None = None  # the host's CPU time (all cores), as /proc/stat counts it
    online_cpus: int | None = None
    memory_usage: int | None = None
    memory_inactive_file: int | None = None
    memory_limit: int | None = None  # None: unlimited
    pids: int | None = None
    block_read: int | None = None
    block_write: int | None = None
    net_rx: int | None = None
    net_tx: int | None = None


@dataclass(frozen=True)
class ContainerStats:
    """The figures of one container, as ``docker stats`` counts them."""

    container_id: str
    cpu_percent: float | None = None  # % of one core
    memory_bytes: int | None = None  # usage less inactive file cache
    memory_limit_bytes: int | None = None  # None: unlimited
    net_rx_bytes: int | None = None
    net_tx_bytes: int | None = None
    block_read_bytes: int | None = None
    block_write_bytes: int | None = None
    pids: int | None = None
    oom_killed: bool = False
    exit_code: int | None = None
    source: str = ""  # "cgroup" | "api" | "" when nothing could be read
    error: str = ""  # why the figures are missing ("n/a" on a screen)

    JSON_FIELDS = (
        "cpu_percent",
        "memory_bytes",
        "memory_limit_bytes",
        "net_rx_bytes",
        "net_tx_bytes",
        "block_read_bytes",
        "block_write_bytes",
        "pids",
        "oom_killed",
    )

    def as_dict(self) -> dict[str, Any]:
        return figures_dict(self, self.JSON_FIELDS)


def figures_dict(figures: Any, names: Sequence[str]) -> dict[str, Any]:
    """The named figures for JSON, in that order; the CPU % to two decimals
    (``ps --stats --json``: a replica's figures and a service's sums alike)."""
    out = {name: getattr(figures, name) for name in names}
    if out.get("cpu_percent") is not None:
        out["cpu_percent"] = round(out["cpu_percent"], 2)
    return out


def memory_used(sample: RawSample) -> int | None:
    """Usage less the inactive file cache, as docker CLI's
    ``calculateMemUsageUnixNoCache`` (total_inactive_file on v1, inactive_file on v2)."""
    usage = sample.memory_usage
    if usage is None:
        return None
    inactive = sample.memory_inactive_file
    if inactive is not None and inactive < usage:
        return usage - inactive
    return usage


def cpu_percent(previous: RawSample | None, current: RawSample) -> float | None:
    """% of one core between two samples, as docker CLI's ``calculateCPUPercentUnix``:
    container delta / system delta x online CPUs x 100. None without a usable
    previous sample, or when a counter went backwards (the container restarted)."""
    if previous is None or previous.source != current.source:
        return None
    if None in (previous.cpu_ns, current.cpu_ns, previous.system_ns, current.system_ns):
        return None
    cpu_delta = int(current.cpu_ns or 0) - int(previous.cpu_ns or 0)
    system_delta = int(current.system_ns or 0) - int(previous.system_ns or 0)
    if cpu_delta < 0 or system_delta < 0:
        return None
    online = current.online_cpus or 0
    if system_delta == 0 or online <= 0:
        return None if online <= 0 else 0.0
    return cpu_delta / system_delta * online * 100.0


def figures(target: StatsTarget, previous: RawSample | None, current: RawSample) -> ContainerStats:
    limit = current.memory_limit
    if current.source == "api" and target.limit_known:
        # the engine reports the host's memory for a container without a limit
        limit = target.memory_limit
    return ContainerStats(
        container_id=target.container_id,
        cpu_percent=cpu_percent(previous, current),
        memory_bytes=memory_used(current),
        memory_limit_bytes=limit,
        net_rx_bytes=current.net_rx,
        net_tx_bytes=current.net_tx,
        block_read_bytes=current.block_read,
        block_write_bytes=current.block_write,
        pids=current.pids,
        oom_killed=target.oom_killed,
        exit_code=target.exit_code,
        source=current.source,
    )
