"""Resource usage on the real engine, checked against `docker stats` in the same
test: a container that burns one core, one that holds 200 MiB in a tmpfs, an
idle one, one killed for memory, and one removed between the list and the read.
Both readers (the cgroup files and the engine's one-shot stats) are compared."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest
from helpers import docker, wait_for

from mltui.core.engine import Engine
from mltui.core.inventory import Inventory
from mltui.core.stats import (
    CgroupFiles,
    ContainerStats,
    StatsReader,
    StatsTarget,
    snapshot_targets,
    target_from_inspect,
)

pytestmark = pytest.mark.engine

MIB = 1024 * 1024
UNITS = {
    "B": 1,
    "KiB": 1024,
    "MiB": MIB,
    "GiB": 1024 * MIB,
    "kB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
}


def parse_size(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)\s*([A-Za-z]+)", text.strip())
    assert m, text
    return float(m.group(1)) * UNITS[m.group(2)]


def docker_stats(*names: str) -> dict[str, dict[str, float]]:
    out = docker("stats", "--no-stream", "--format", "{{json .}}", *names)
    figures: dict[str, dict[str, float]] = {}
    for line in out.splitlines():
        row = json.loads(line)
        used, _, limit = row["MemUsage"].partition("/")
        figures[row["Name"]] = {
            "cpu": float(row["CPUPerc"].rstrip("%")),
            "mem": parse_size(used),
            "limit": parse_size(limit),
        }
    return figures


def targets(engine: Engine, *names: str) -> dict[str, StatsTarget]:
    return {n: target_from_inspect(*_id_inspect(engine, n)) for n in names}


def _id_inspect(engine: Engine, name: str) -> tuple[str, dict]:
    data = engine.inspect_container(name)
    return data["Id"], data


def close(a: float | None, b: float | None, rel: float = 0.10) -> bool:
    assert a is not None and b is not None
    return abs(a - b) <= rel * max(abs(a), abs(b))


@pytest.fixture
def engine():
    e = Engine()
    yield e
    e.close()


def test_busy_idle_and_200mib_match_docker_stats_on_both_readers(container_factory, engine):
    burn = container_factory("burn", command=("sh", "-c", "yes > /dev/null"))
    idle = container_factory("idle")
    hold = container_factory(
        "hold",
        "-m",
        "512m",
        "--tmpfs",
        "/t:size=300m",
        command=("sh", "-c", "dd if=/dev/zero of=/t/f bs=1M count=200 && exec sleep infinity"),
    )
    t = targets(engine, burn, idle, hold)
    local = StatsReader(engine, use_cgroups=True, use_api=False)
    api = StatsReader(engine, use_cgroups=False)
    assert local.cgroups is not None and api.cgroups is None
    wait_for(
        "the tmpfs file written",
        lambda: (local.read([t[hold]])[t[hold].container_id].memory_bytes or 0) >= 200 * MIB,
    )
    all_targets = list(t.values())
    burn_id = t[burn].container_id

    def busy_sample():
        """Both readers' figures and docker stats' over one window, once the busy
        container shows as busy in all three (a loaded machine can leave `yes`
        under half a core for a window: the next one is taken, up to a deadline)."""
        local.read(all_targets)
        api.read(all_targets)
        time.sleep(1.0)  # the CPU sampling window: the measurement itself
        by_cgroups, by_api = local.read(all_targets), api.read(all_targets)
        reference = docker_stats(burn, idle, hold)
        figures = (by_cgroups[burn_id].cpu_percent, by_api[burn_id].cpu_percent)
        busy = all(c is not None and c > 50 for c in figures) and reference[burn]["cpu"] > 50
        return (by_cgroups, by_api, reference) if busy else None

    try:
        by_cgroups, by_api, reference = wait_for("yes > /dev/null over half a core", busy_sample)
    finally:
        api.close()

    for figures, source in ((by_cgroups, "cgroup"), (by_api, "api")):
        f = {name: figures[t[name].container_id] for name in t}
        assert all(x.source == source for x in f.values()), f
        # CPU: the sampling windows differ from docker stats', so busy vs idle
        assert f[burn].cpu_percent is not None and f[burn].cpu_percent > 50, f[burn]
        assert reference[burn]["cpu"] > 50
        assert f[idle].cpu_percent is not None and f[idle].cpu_percent < 5, f[idle]
        assert reference[idle]["cpu"] < 5
        # memory as docker stats counts it, within 10%
        assert f[hold].memory_bytes is not None and f[hold].memory_bytes >= 200 * MIB
        assert close(f[hold].memory_bytes, reference[hold]["mem"]), (f[hold], reference[hold])
        assert f[hold].memory_limit_bytes == 512 * MIB == reference[hold]["limit"]
        assert f[burn].memory_limit_bytes is None  # unlimited
        assert f[burn].pids is not None and f[burn].pids >= 1
        assert f[burn].net_rx_bytes is not None and f[burn].net_tx_bytes is not None
        assert f[hold].oom_killed is False
    # both readers give the same numbers within 10%
    for name in (burn, hold):
        cid = t[name].container_id
        assert close(by_cgroups[cid].memory_bytes, by_api[cid].memory_bytes), name
        assert close(by_cgroups[cid].pids, by_api[cid].pids), name
    cid = t[burn].container_id
    assert close(by_cgroups[cid].cpu_percent, by_api[cid].cpu_percent), (
        by_cgroups[cid],
        by_api[cid],
    )


def test_killed_for_memory_says_so(container_factory, engine):
    name = container_factory(
        "oom",
        "-m",
        "32m",
        "--memory-swap",
        "32m",
        command=("python3", "-c", "b = b'x' * (200 * 1024 * 1024)"),
    )
    wait_for(
        "the container to be killed",
        lambda: not engine.inspect_container(name)["State"]["Running"],
    )
    inventory = Inventory(engine)
    snap = inventory.snapshot()
    cid = engine.inspect_container(name)["Id"]
    wanted = [x for x in snapshot_targets(snap, inventory.inspected) if x.container_id == cid]
    assert len(wanted) == 1
    reader = StatsReader(engine)
    try:
        figures = reader.read(wanted)[cid]
    finally:
        reader.close()
    assert figures.oom_killed is True
    assert figures.exit_code == 137
    assert figures.memory_bytes is None and figures.cpu_percent is None


def test_removed_between_list_and_read_gives_none(container_factory, engine):
    name = container_factory("gone")
    inventory = Inventory(engine)
    snap = inventory.snapshot()
    cid = engine.inspect_container(name)["Id"]
    wanted = [x for x in snapshot_targets(snap, inventory.inspected) if x.container_id == cid]
    assert wanted and wanted[0].running
    docker("rm", "-f", name)
    wait_for("the cgroup gone", lambda: CgroupFiles().locate(cid) is None)
    for reader in (StatsReader(engine), StatsReader(engine, use_cgroups=False)):
        try:
            figures = reader.read(wanted)[cid]
        finally:
            reader.close()
        assert figures == ContainerStats(cid, error=figures.error)
        assert figures.error  # why: "No such container" from the engine


def test_ps_stats_json_and_table(container_factory):
    burn = container_factory("psburn", "-m", "256m", command=("sh", "-c", "yes > /dev/null"))
    env = {**os.environ, "NO_COLOR": "1"}
    run = [sys.executable, "-m", "mltui", "ps", "--stats"]

    def busy_service():
        """The service of `ps --stats --json` once its replica shows over half a
        core (one 1 s window each run; a loaded machine may need another)."""
        out = subprocess.run([*run, "--json"], capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 0, out.stderr
        services = [s for st in json.loads(out.stdout)["stacks"] for s in st["services"]]
        svc = next(s for s in services if s["name"] == burn)
        return svc if (svc["replicas"][0]["cpu_percent"] or 0) > 50 else None

    svc = wait_for("ps --stats: yes > /dev/null over half a core", busy_service, timeout=120)
    rep = svc["replicas"][0]
    assert rep["cpu_percent"] > 50
    assert rep["memory_limit_bytes"] == 256 * MIB
    assert rep["memory_bytes"] > 0 and rep["pids"] >= 1
    assert rep["net_rx_bytes"] is not None and rep["net_tx_bytes"] is not None
    assert svc["cpu_percent"] == rep["cpu_percent"] and svc["memory_bytes"] == rep["memory_bytes"]
    table = subprocess.run(run, capture_output=True, text=True, env=env, timeout=60)
    assert table.returncode == 0, table.stderr
    header = table.stdout.splitlines()[1].split()
    assert header[-2:] == ["CPU", "MEM"]
    line = next(x for x in table.stdout.splitlines() if x.strip().startswith(burn))
    assert re.search(r"\d+\.\d%\s+\S+ / 256\.0MiB", line), line
    plain = subprocess.run(run[:-1], capture_output=True, text=True, env=env, timeout=60)
    assert "CPU" not in plain.stdout.splitlines()[1]
