"""The cgroup v1 and v2 readers and the stats arithmetic, on file trees shaped
like the kernel's (copied from a real host), written in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mltui.core.stats import (
    CgroupFiles,
    RawSample,
    StatsReader,
    StatsTarget,
    cpu_percent,
    memory_used,
    sample_from_api,
    target_from_inspect,
)
from mltui.core.stats.cgroup import parse_blkio_v1, parse_io_stat_v2, parse_net_dev

CID = "d09c8497980ec6f799057cd91633b6e7c84b30e722111cbf0c1aa83470f1373d"

NET_DEV = """Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:     736       8    0    0    0     0          0         0      120       2    0    0    0     0       0          0
"""
PROC_STAT = "cpu  586157 29070 125495 1305314 8507 0 5066 92418 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def proc_tree(tmp_path: Path, stat: str = PROC_STAT) -> Path:
    proc = tmp_path / "proc"
    write(proc, "stat", stat)
    write(proc, "4242/net/dev", NET_DEV)
    return proc


def v1_tree(tmp_path: Path, limit: str = "536870912\n") -> Path:
    root = tmp_path / "cg1"
    d = f"docker/{CID}"
    write(root, f"cpuacct/{d}/cpuacct.usage", "39091711\n")
    write(root, f"memory/{d}/memory.usage_in_bytes", "221184000\n")
    write(
        root,
        f"memory/{d}/memory.stat",
        "cache 209715200\nrss 1024000\ninactive_file 9953280\n"
        "total_cache 209715200\ntotal_rss 1024000\ntotal_inactive_file 9953280\n",
    )
    write(root, f"memory/{d}/memory.limit_in_bytes", limit)
    write(root, f"pids/{d}/pids.current", "2\n")
    write(
        root,
        f"blkio/{d}/blkio.throttle.io_service_bytes_recursive",
        "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Total 12288\n"
        "8:16 Read 100\n8:16 Write 0\nTotal 12388\n",
    )
    return root


def v2_tree(tmp_path: Path, systemd: bool = True, memory_max: str = "max\n") -> Path:
    root = tmp_path / "cg2"
    write(root, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
    d = f"system.slice/docker-{CID}.scope" if systemd else f"docker/{CID}"
    write(
        root,
        f"{d}/cpu.stat",
        "usage_usec 39091\nuser_usec 30000\nsystem_usec 9091\n"
        "nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
    )
    write(root, f"{d}/memory.current", "221184000\n")
    write(
        root,
        f"{d}/memory.stat",
        "anon 1024000\nfile 209715200\nactive_file 0\ninactive_file 9953280\nshmem 209715200\n",
    )
    write(root, f"{d}/memory.max", memory_max)
    write(root, f"{d}/pids.current", "3\n")
    write(
        root,
        f"{d}/io.stat",
        "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
        "8:16 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
    )
    return root


def test_v1_reads_every_figure(tmp_path):
    files = CgroupFiles(v1_tree(tmp_path), proc_tree(tmp_path))
    assert not files.unified
    s = files.sample(StatsTarget(CID, pid=4242))
    assert s is not None and s.source == "cgroup"
    assert s.cpu_ns == 39091711
    ticks = 586157 + 29070 + 125495 + 1305314 + 8507 + 0 + 5066
    assert s.system_ns == ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    assert memory_used(s) == 221184000 - 9953280  # total_inactive_file, as docker CLI
    assert s.memory_limit == 536870912
    assert (s.pids, s.block_read, s.block_write) == (2, 4196, 8192)
    assert (s.net_rx, s.net_tx) == (736, 120)  # lo left out


def test_v1_unlimited_memory_is_none(tmp_path):
    files = CgroupFiles(v1_tree(tmp_path, "9223372036854771712\n"), proc_tree(tmp_path))
    s = files.sample(StatsTarget(CID))
    assert s is not None and s.memory_limit is None
    assert (s.net_rx, s.net_tx) == (None, None)  # no pid known: no network


@pytest.mark.parametrize("systemd", [True, False])
def test_v2_reads_every_figure(tmp_path, systemd):
    files = CgroupFiles(v2_tree(tmp_path, systemd=systemd), proc_tree(tmp_path))
    assert files.unified
    s = files.sample(StatsTarget(CID, pid=4242))
    assert s is not None
    assert s.cpu_ns == 39091 * 1000
    assert memory_used(s) == 221184000 - 9953280
    assert s.memory_limit is None  # "max"
    assert (s.pids, s.block_read, s.block_write) == (3, 4196, 8192)
    assert (s.net_rx, s.net_tx) == (736, 120)


def test_v2_limit(tmp_path):
    files = CgroupFiles(v2_tree(tmp_path, memory_max="536870912\n"), proc_tree(tmp_path))
    s = files.sample(StatsTarget(CID))
    assert s is not None and s.memory_limit == 536870912


def test_missing_and_unreadable_files_give_none(tmp_path):
    root = v2_tree(tmp_path)
    d = root / f"system.slice/docker-{CID}.scope"
    (d / "memory.stat").unlink()
    (d / "io.stat").unlink()
    (d / "cpu.stat").write_text("garbage\n")
    s = CgroupFiles(root, tmp_path / "noproc").sample(StatsTarget(CID, pid=4242))
    assert s is not None
    assert s.cpu_ns is None and s.system_ns is None
    assert memory_used(s) == 221184000  # no inactive_file: usage as is
    assert (s.block_read, s.net_rx) == (None, None)


def test_container_without_cgroup_is_none(tmp_path):
    files = CgroupFiles(v1_tree(tmp_path), proc_tree(tmp_path))
    assert files.sample(StatsTarget("0" * 64)) is None
    assert files.sample(StatsTarget("../etc")) is None


def test_cpu_percent_as_docker_counts_it():
    a = RawSample("cgroup", cpu_ns=1_000, system_ns=10_000, online_cpus=2)
    b = RawSample("cgroup", cpu_ns=5_000, system_ns=18_000, online_cpus=2)
    assert cpu_percent(a, b) == pytest.approx(4_000 / 8_000 * 2 * 100)
    assert cpu_percent(None, b) is None
    # a restart: the counter went backwards
    assert cpu_percent(b, a) is None
    assert cpu_percent(a, RawSample("api", cpu_ns=5_000, system_ns=18_000, online_cpus=2)) is None


def test_parsers_on_odd_input():
    assert parse_blkio_v1(None) == (None, None)
    assert parse_blkio_v1("Total 0\n") == (0, 0)
    assert parse_io_stat_v2("") == (0, 0)
    assert parse_io_stat_v2("8:0 rbytes=x wbytes=5\n") == (0, 5)
    assert parse_net_dev(None) == (None, None)


def test_api_answer_parsed():
    data = {
        "cpu_stats": {
            "cpu_usage": {"total_usage": 5000},
            "system_cpu_usage": 18000,
            "online_cpus": 2,
        },
        "memory_stats": {
            "usage": 221184000,
            "limit": 8_000_000_000,
            "stats": {"total_inactive_file": 9953280},
        },
        "pids_stats": {"current": 2},
        "blkio_stats": {
            "io_service_bytes_recursive": [
                {"major": 8, "minor": 0, "op": "read", "value": 4096},
                {"major": 8, "minor": 0, "op": "write", "value": 8192},
            ]
        },
        "networks": {"eth0": {"rx_bytes": 736, "tx_bytes": 120}},
    }
    s = sample_from_api(data)
    assert s is not None
    assert (s.cpu_ns, s.system_ns, s.online_cpus) == (5000, 18000, 2)
    assert memory_used(s) == 221184000 - 9953280
    assert (s.block_read, s.block_write, s.net_rx, s.net_tx, s.pids) == (4096, 8192, 736, 120, 2)
    # a stopped container answers with empty sections
    assert sample_from_api({"cpu_stats": {}, "memory_stats": {}}) is None
    assert sample_from_api("nonsense") is None


def test_target_from_inspect():
    t = target_from_inspect(
        CID,
        {
            "State": {"Running": False, "Pid": 0, "OOMKilled": True, "ExitCode": 137},
            "HostConfig": {"Memory": 33554432},
        },
    )
    assert (t.running, t.pid, t.oom_killed, t.exit_code) == (False, None, True, 137)
    assert (t.memory_limit, t.limit_known) == (33554432, True)
    unlimited = target_from_inspect(
        CID, {"State": {"Running": True, "Pid": 7}, "HostConfig": {"Memory": 0}}
    )
    assert (unlimited.memory_limit, unlimited.limit_known, unlimited.pid) == (None, True, 7)
    assert target_from_inspect(CID, None) == StatsTarget(CID)


def test_reader_two_samples_give_cpu(tmp_path):
    root = v1_tree(tmp_path)
    proc = proc_tree(tmp_path)
    reader = StatsReader(None, cgroups=CgroupFiles(root, proc), use_cgroups=True)
    first = reader.read([StatsTarget(CID, pid=4242)])[CID]
    assert first.cpu_percent is None and first.memory_bytes == 221184000 - 9953280
    (root / f"cpuacct/docker/{CID}/cpuacct.usage").write_text(str(39091711 + 10**9))
    tick = os.sysconf("SC_CLK_TCK")
    (proc / "stat").write_text(
        f"cpu  {586157 + 2 * tick} 29070 125495 1305314 8507 0 5066 92418 0 0\n"
    )
    second = reader.read([StatsTarget(CID, pid=4242)])[CID]
    cpus = os.sysconf("SC_NPROCESSORS_ONLN")
    assert second.cpu_percent == pytest.approx(10**9 / (2 * 10**9) * cpus * 100)
    # gone between list and read, no engine to ask: None figures, no exception
    gone = reader.read(
        [StatsTarget("f" * 64), StatsTarget(CID, running=False, exit_code=137, oom_killed=True)]
    )
    assert gone["f" * 64].memory_bytes is None and gone["f" * 64].error
    assert gone[CID].oom_killed and gone[CID].exit_code == 137 and gone[CID].cpu_percent is None


class _HungEngine:
    """An engine whose stats call for one container never answers (until released)."""

    class target:
        base_url = "tcp://remote:2375"

    def __init__(self):
        import threading

        self.release = threading.Event()

    def container_stats(self, cid, timeout):
        from mltui.core.engine import EngineError

        if cid == "hung":
            self.release.wait(30)
            raise EngineError("released", 0)
        if cid == "gone":
            raise EngineError("No such container: gone", 404)
        return {
            "cpu_stats": {"cpu_usage": {"total_usage": 1}, "system_cpu_usage": 2, "online_cpus": 1},
            "memory_stats": {"usage": 100, "limit": 1000, "stats": {"inactive_file": 10}},
        }


def test_api_reader_bounds_a_hung_call():
    import time

    engine = _HungEngine()
    reader = StatsReader(engine, timeout=0.3)  # type: ignore[arg-type]
    assert reader.cgroups is None  # a remote engine: no cgroup files
    started = time.monotonic()
    try:
        out = reader.read([StatsTarget("hung"), StatsTarget("gone"), StatsTarget("ok")])
    finally:
        engine.release.set()
        reader.close()
    assert time.monotonic() - started < 3
    assert out["hung"].memory_bytes is None and out["hung"].error == "timed out"
    assert out["gone"].memory_bytes is None and "No such container" in out["gone"].error
    assert out["ok"].memory_bytes == 90 and out["ok"].source == "api"
    # no HostConfig seen: the engine's limit as is
    assert out["ok"].memory_limit_bytes == 1000
