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


def _read(path: str | Path) -> str | None:
    """The whole file, or None when it cannot be read (a few syscalls: a refresh
    reads several small files per container)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode()
    except (OSError, UnicodeDecodeError):
        return None
    finally:
        os.close(fd)


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


def _stat_value(text: str | None, key: str) -> int | None:
    """The value of the line ``key value`` in memory.stat, without splitting
    the other lines (memory.stat has dozens; one is needed)."""
    if text is None:
        return None
    at = text.find(key + " ")
    while at > 0 and text[at - 1] != "\n":
        at = text.find(key + " ", at + 1)
    if at < 0:
        return None
    end = text.find("\n", at)
    return _int(text[at + len(key) + 1 : end if end >= 0 else None])


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
    """Reads one container's counters from the cgroup filesystem at ``root``.

    A container's files are found once (its cgroup directory) and their paths
    kept as strings: a refresh then costs one open/read/close per file, no
    directory look-up; paths that stop answering are looked up again."""

    V1_CONTROLLERS = ("memory", "cpuacct", "pids", "blkio")

    def __init__(self, root: str | Path = "/sys/fs/cgroup", proc: str | Path = "/proc") -> None:
        self.root = Path(root)
        self.proc = Path(proc)
        self.unified = (self.root / "cgroup.controllers").exists()
        self._where: dict[str, Path] = {}  # container id -> its cgroup, relative to a hierarchy
        self._files: dict[str, dict[str, str]] = {}  # container id -> file name -> path
        self._cpus: int | None = None  # online CPUs, read with the host's CPU time

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
        self.forget(container_id)
        return None

    def forget(self, container_id: str) -> None:
        self._where.pop(container_id, None)
        self._files.pop(container_id, None)

    def system_ns(self) -> int | None:
        """The host's CPU time now (one read of /proc/stat serves a whole refresh);
        the count of online CPUs is read with it."""
        self._cpus = online_cpus()
        return system_cpu_ns(self.proc)

    def _paths(self, container_id: str) -> dict[str, str] | None:
        files = self._files.get(container_id)
        if files is not None:
            return files
        rel = self.locate(container_id)
        if rel is None:
            return None
        if self.unified:
            where = self.root / rel
            names = ("cpu.stat", "memory.stat", "memory.max", "memory.current")
            files = {n: str(where / n) for n in (*names, "pids.current", "io.stat")}
            files["dir"] = str(where)
        else:

            def at(controller: str, name: str) -> str:
                return str(self.root / controller / rel / name)

            files = {
                "cpu": at("cpuacct", "cpuacct.usage"),
                "cpu2": at("cpu,cpuacct", "cpuacct.usage"),
                "stat": at("memory", "memory.stat"),
                "limit": at("memory", "memory.limit_in_bytes"),
                "usage": at("memory", "memory.usage_in_bytes"),
                "pids": at("pids", "pids.current"),
                "blkio": at("blkio", "blkio.throttle.io_service_bytes_recursive"),
                "blkio2": at("blkio", "blkio.io_service_bytes_recursive"),
                "dir": str(self.root / "memory" / rel),
            }
        self._files[container_id] = files
        return files

    def sample(self, target: StatsTarget, system_ns: int | None = None) -> RawSample | None:
        """The counters now; None when the container has no cgroup here (the
        caller may ask the engine instead). ``system_ns``: the host's CPU time
        read just before, for all containers of one refresh."""
        cid = target.container_id
        files = self._paths(cid)
        if files is None:
            return None
        sample = self._v2(files) if self.unified else self._v1(files)
        if sample.memory_usage is None and sample.cpu_ns is None:
            # the kept paths may be stale (the container restarted elsewhere) or gone
            self.forget(cid)
            files = self._paths(cid)
            if files is None:
                return None
            sample = self._v2(files) if self.unified else self._v1(files)
            nothing = sample.memory_usage is None and sample.cpu_ns is None
            if nothing and not os.path.isdir(files["dir"]):
                return None  # the directory went away while it was read: gone
        if system_ns is None:
            system_ns = self.system_ns()
        rx, tx = (None, None)
        if target.pid:
            rx, tx = parse_net_dev(_read(f"{self.proc}/{target.pid}/net/dev"))
        cpus = self._cpus if self._cpus is not None else online_cpus()
        # the cgroup files give the container's counters; the host's CPU time and
        # the network (from the container's /proc) are added here
        return replace(sample, system_ns=system_ns, online_cpus=cpus, net_rx=rx, net_tx=tx)

    def _v1(self, files: dict[str, str]) -> RawSample:
        cpu = _int(_read(files["cpu"]))
        if cpu is None:
            cpu = _int(_read(files["cpu2"]))
        limit = _int(_read(files["limit"]))
        blkio = _read(files["blkio"])
        if blkio is None:
            blkio = _read(files["blkio2"])
        read, write = parse_blkio_v1(blkio)
        return RawSample(
            source="cgroup",
            cpu_ns=cpu,
            memory_usage=_int(_read(files["usage"])),
            memory_inactive_file=_stat_value(_read(files["stat"]), "total_inactive_file"),
            memory_limit=None if limit is None or limit >= UNLIMITED_V1 else limit,
            pids=_int(_read(files["pids"])),
            block_read=read,
            block_write=write,
        )

    def _v2(self, files: dict[str, str]) -> RawSample:
        cpu_stat = _keyed(_read(files["cpu.stat"]))
        usec = cpu_stat.get("usage_usec")
        raw_max = _read(files["memory.max"])
        limit = None if raw_max is None or raw_max.strip() == "max" else _int(raw_max)
        read, write = parse_io_stat_v2(_read(files["io.stat"]))
        return RawSample(
            source="cgroup",
            cpu_ns=None if usec is None else usec * 1000,
            memory_usage=_int(_read(files["memory.current"])),
            memory_inactive_file=_stat_value(_read(files["memory.stat"]), "inactive_file"),
            memory_limit=limit,
            pids=_int(_read(files["pids.current"])),
            block_read=read,
            block_write=write,
        )
