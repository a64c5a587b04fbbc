"""Counters read straight from the kernel's files, for containers of the local
engine: no engine call. cgroup v1 (one hierarchy per controller) and v2
(unified), with the cgroupfs and the systemd drivers; the network from the
container's own /proc/<pid>/net/dev. Every figure that cannot be read (file
missing, permission, a container gone) is None; nothing here raises.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from .model import RawSample, StatsTarget

UNLIMITED_V1 = 1 << 62  # memory.limit_in_bytes of an unlimited cgroup is ~2**63 rounded to a page


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _keyed(text: str | None) -> dict[str, int]:
    """``key value`` lines (memory.stat, cpu.stat)."""
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                continue
    return out


def parse_blkio_v1(text: str | None) -> tuple[int | None, int | None]:
    """blkio.throttle.io_service_bytes_recursive: ``8:0 Read 4096`` lines, ``Total N`` last."""
    if text is None:
        return None, None
    read = write = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        try:
            value = int(parts[2])
        except ValueError:
            continue
        if parts[1].lower() == "read":
            read += value
        elif parts[1].lower() == "write":
            write += value
    return read, write


def parse_io_stat_v2(text: str | None) -> tuple[int | None, int | None]:
    """io.stat: ``8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0`` lines."""
    if text is None:
        return None, None
    read = write = 0
    for line in text.splitlines():
        for field in line.split()[1:]:
            key, _, value = field.partition("=")
            if key in ("rbytes", "wbytes"):
                try:
                    number = int(value)
                except ValueError:
                    continue
                if key == "rbytes":
                    read += number
                else:
                    write += number
    return read, write


def parse_net_dev(text: str | None) -> tuple[int | None, int | None]:
    """/proc/<pid>/net/dev, every interface but lo summed (what the engine counts)."""
    if text is None:
        return None, None
    rx = tx = 0
    seen = False
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        fields = rest.split()
        if not sep or len(fields) < 9 or name.strip() == "lo":
            continue
        try:
            rx += int(fields[0])
            tx += int(fields[8])
        except ValueError:
            continue
        seen = True
    return (rx, tx) if seen or text.strip() else (None, None)


def system_cpu_ns(proc: Path) -> int | None:
    """The host's CPU time in ns as the engine counts it: the first seven fields of
    /proc/stat's ``cpu`` line (user .. softirq), in clock ticks."""
    text = _read(proc / "stat")
    if text is None:
        return None
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            try:
                ticks = sum(int(p) for p in parts[1:8])
            except ValueError:
                return None
            return ticks * 1_000_000_000 // (os.sysconf("SC_CLK_TCK") or 100)
    return None


def online_cpus() -> int | None:
    try:
        return int(os.sysconf("SC_NPROCESSORS_ONLN"))
    except (ValueError, OSError):
        return None


class CgroupFiles:
    """Reads one container's counters from the cgroup filesystem at ``root``."""

    V1_CONTROLLERS = ("memory", "cpuacct", "pids", "blkio")

    def __init__(self, root: str | Path = "/sys/fs/cgroup", proc: str | Path = "/proc") -> None:
        self.root = Path(root)
        self.proc = Path(proc)
        self.unified = (self.root / "cgroup.controllers").exists()
        self._where: dict[str, Path] = {}  # container id -> its cgroup, relative to a hierarchy

    def _candidates(self, container_id: str) -> tuple[Path, ...]:
        return (
            Path("system.slice") / f"docker-{container_id}.scope",  # systemd driver
            Path("docker") / container_id,  # cgroupfs driver
        )

    def locate(self, container_id: str) -> Path | None:
        """The container's cgroup directory (v2) or its path inside each v1
        hierarchy; None when there is none (gone, rootless, another host)."""
        if not container_id or "/" in container_id or container_id.startswith("."):
            return None
        base = self.root if self.unified else self.root / "memory"
        known = self._where.get(container_id)
        if known is not None and (base / known).is_dir():
            return known
        for rel in self._candidates(container_id):
            if (base / rel).is_dir():
                self._where[container_id] = rel
                return rel
        self._where.pop(container_id, None)
        return None

    def forget(self, container_id: str) -> None:
        self._where.pop(container_id, None)

    def system_ns(self) -> int | None:
        """The host's CPU time now (one read of /proc/stat serves a whole refresh)."""
        return system_cpu_ns(self.proc)

    def sample(self, target: StatsTarget, system_ns: int | None = None) -> RawSample | None:
        """The counters now; None when the container has no cgroup here (the
        caller may ask the engine instead). ``system_ns``: the host's CPU time
        read just before, for all containers of one refresh."""
        rel = self.locate(target.container_id)
        if rel is None:
            return None
        system = system_cpu_ns(self.proc) if system_ns is None else system_ns
        where = self.root / rel if self.unified else self.root / "memory" / rel
        sample = self._v2(where) if self.unified else self._v1(rel)
        rx, tx = (None, None)
        if target.pid:
            rx, tx = parse_net_dev(_read(self.proc / str(target.pid) / "net" / "dev"))
        if sample.memory_usage is None and sample.cpu_ns is None and not where.is_dir():
            return None  # the directory went away while it was read: the container is gone
        # the cgroup files give the container's counters; the host's CPU time and
        # the network (from the container's /proc) are added here
        return replace(sample, system_ns=system, online_cpus=online_cpus(), net_rx=rx, net_tx=tx)

    def _v1(self, rel: Path) -> RawSample:
        def path(controller: str, name: str) -> Path:
            return self.root / controller / rel / name

        cpu = _int(_read(path("cpuacct", "cpuacct.usage")))
        if cpu is None:
            cpu = _int(_read(self.root / "cpu,cpuacct" / rel / "cpuacct.usage"))
        stat = _keyed(_read(path("memory", "memory.stat")))
        limit = _int(_read(path("memory", "memory.limit_in_bytes")))
        blkio = _read(path("blkio", "blkio.throttle.io_service_bytes_recursive"))
        if blkio is None:
            blkio = _read(path("blkio", "blkio.io_service_bytes_recursive"))
        read, write = parse_blkio_v1(blkio)
        return RawSample(
            source="cgroup",
            cpu_ns=cpu,
            memory_usage=_int(_read(path("memory", "memory.usage_in_bytes"))),
            memory_inactive_file=stat.get("total_inactive_file"),
            memory_limit=None if limit is None or limit >= UNLIMITED_V1 else limit,
            pids=_int(_read(path("pids", "pids.current"))),
            block_read=read,
            block_write=write,
        )

    def _v2(self, where: Path) -> RawSample:
        cpu_stat = _keyed(_read(where / "cpu.stat"))
        usec = cpu_stat.get("usage_usec")
        stat = _keyed(_read(where / "memory.stat"))
        raw_max = _read(where / "memory.max")
        limit = None if raw_max is None or raw_max.strip() == "max" else _int(raw_max)
        read, write = parse_io_stat_v2(_read(where / "io.stat"))
        return RawSample(
            source="cgroup",
            cpu_ns=None if usec is None else usec * 1000,
            memory_usage=_int(_read(where / "memory.current")),
            memory_inactive_file=stat.get("inactive_file"),
            memory_limit=limit,
            pids=_int(_read(where / "pids.current")),
            block_read=read,
            block_write=write,
        )
