"""core/usage.py (the usage cells, sums, sort and what to read), core/stats/history.py,
the OOM state of a replica, and the stats keys of the config."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from nvml_fake import A10, H100, FakeNvml

from mltui.core.config import parse
from mltui.core.detail import detail
from mltui.core.engine import EngineInfo
from mltui.core.gpu import read_host
from mltui.core.inventory import Replica, Service, Snapshot, Stack, build_snapshot
from mltui.core.report import Level, RowId, Tone, rows
from mltui.core.stats import ContainerStats, StatsHistory
from mltui.core.usage import (
    GPU_COLUMN,
    USAGE_COLUMNS,
    Usage,
    gpu_use,
    needed_targets,
    next_sort,
    short_bytes,
    sort_snapshot,
    usage_detail,
    with_usage,
)

INFO = EngineInfo(target="unix:///var/run/docker.sock", state="connected")
MIB = 2**20


def rep(name: str, cid: str, state: str = "running", **kw) -> Replica:
    return Replica(
        key=cid, name=name, kind="container", slot=1, state=state, since=None, image="img",
        container_id=cid, **kw,
    )  # fmt: skip


def svc(name: str, *replicas: Replica) -> Service:
    running = sum(r.running for r in replicas)
    return Service(
        key=f"compose:p/{name}", name=name, stack="p", kind="compose", desired=len(replicas),
        running=running, image="img", ports=(), replicas=replicas,
    )  # fmt: skip


def snapshot() -> Snapshot:
    small = svc("small", rep("small-1", "a1"))
    big = svc("big", rep("big-1", "b1"), rep("big-2", "b2"))
    gone = svc("gone", rep("gone-1", "c1", state="exited", exit_code=0))
    other = Stack("q", "compose", (svc("lone", rep("lone-1", "d1")),))
    return Snapshot(INFO, (Stack("p", "compose", (small, big, gone)), other), taken_at=0)


def figures(cid: str, cpu: float | None, mem: int | None, limit: int | None = None):
    return ContainerStats(cid, cpu_percent=cpu, memory_bytes=mem, memory_limit_bytes=limit,
                          pids=2, net_rx_bytes=10, net_tx_bytes=20, source="cgroup")  # fmt: skip


STATS = {
    "a1": figures("a1", 90.0, 11 * MIB, 12 * MIB),
    "b1": figures("b1", 5.0, 300 * MIB),
    "b2": figures("b2", 10.0, 200 * MIB),
    "c1": ContainerStats("c1", error="not running"),
    "d1": ContainerStats("d1", error="timed out"),
}


def by_name(shown):
    return {r.cells[0]: r for r in shown}


def test_cells_per_replica_and_sums_per_service_and_stack():
    snap = snapshot()
    shown = by_name(with_usage(rows(snap, now=0), snap, Usage(STATS)))
    assert shown["big-1"].usage == ("5.0%", "300.0MiB")
    assert shown["big"].usage == ("15.0%", "500.0MiB")  # the replicas summed
    assert shown["small-1"].usage == ("90.0%", "11.0MiB / 12.0MiB")  # limit where one is set
    assert shown["small-1"].usage_tones[1] is Tone.WARN  # near its limit
    assert shown["p"].usage == ("105.0%", "511.0MiB")  # the stack: every service
    assert shown["gone-1"].usage == ("", "")  # not running: nothing to show
    assert shown["lone"].usage == ("n/a", "n/a")  # a read that failed or hung
    assert shown["lone"].usage_tones == (Tone.DIM, Tone.DIM)


def test_narrow_cells_are_short_and_leave_the_limit_to_the_detail():
    snap = snapshot()
    shown = by_name(with_usage(rows(snap, now=0), snap, Usage(STATS), compact=True))
    assert shown["small-1"].usage == ("90%", "11M")
    assert shown["big"].usage == ("15%", "500M")
    assert (short_bytes(1536 * MIB), short_bytes(None), short_bytes(512)) == ("1.5G", "n/a", "512B")


def test_sorting_by_cpu_and_memory_puts_the_largest_first_at_every_level():
    snap = snapshot()
    order = [r.cells[0] for r in rows(sort_snapshot(snap, STATS, "cpu"), now=0)]
    assert order[:5] == ["p", "small", "small-1", "big", "big-2"]
    order = [r.cells[0] for r in rows(sort_snapshot(snap, STATS, "mem"), now=0)]
    assert order[:5] == ["p", "big", "big-1", "big-2", "small"]
    assert order[-3:] == ["q", "lone", "lone-1"]  # no figure: after those with one
    assert sort_snapshot(snap, STATS, "name") is snap
    assert [next_sort(k) for k in ("name", "cpu", "mem", "junk")] == ["cpu", "mem", "name", "name"]


def test_only_the_containers_of_the_rows_on_screen_are_read():
    snap = snapshot()
    inspected = {"b1": {"State": {"Running": True, "Pid": 7}, "HostConfig": {"Memory": 0}}}.get
    one = needed_targets(
        snap, [RowId(Level.REPLICA, "compose:p", "compose:p/big", "b1")], inspected
    )
    assert [(t.container_id, t.pid) for t in one] == [("b1", 7)]
    service = needed_targets(snap, [RowId(Level.SERVICE, "compose:p", "compose:p/big")], inspected)
    assert [t.container_id for t in service] == ["b1", "b2"]  # the sum needs both
    stack = needed_targets(snap, [RowId(Level.STACK, "compose:p")], inspected)
    assert [t.container_id for t in stack] == ["a1", "b1", "b2", "c1"]
    assert [t.running for t in stack] == [True, True, True, False]


def test_history_is_bounded_and_sums_a_service_read_by_read():
    history = StatsHistory(points=3)
    for i in range(5):
        history.record({"b1": figures("b1", float(i), 100), "b2": figures("b2", 1.0, 50)})
    series = history.series(["b1", "b2"])
    assert series.cpu == (3.0, 4.0, 5.0) and series.memory == (150.0, 150.0, 150.0)
    for _ in range(3):
        history.record({"b2": figures("b2", 1.0, 50)})
    assert len(history) == 1 and not history.series(["b1"])  # gone long enough: forgotten


def test_usage_detail_names_network_pids_and_the_limit():
    snap = snapshot()
    row = RowId(Level.REPLICA, "compose:p", "compose:p/small", "a1")
    text = "".join(p.text for p in usage_detail(snap, row, Usage(STATS)))
    assert "limit 12.0MiB" in text and "PIDs 2" in text
    assert "net rx/tx 10B / 20B" in text
    failed = RowId(Level.SERVICE, "compose:q", "compose:p/lone")
    assert "timed out" in "".join(p.text for p in usage_detail(snap, failed, Usage(STATS)))


def test_gpu_memory_per_container_from_nvml_processes(tmp_path):
    cid = "a" * 64
    (tmp_path / "4242").mkdir()
    (tmp_path / "4242" / "cgroup").write_text(f"0::/system.slice/docker-{cid}.scope\n")
    use = gpu_use(read_host(FakeNvml([H100, A10]), tmp_path))
    assert use[cid].memory_bytes == 1000 * MIB and use[cid].utilization == 37
    assert use[cid].gpus == (0,)
    snap = Snapshot(INFO, (Stack("p", "compose", (svc("gpu", rep("gpu-1", cid)),)),), taken_at=0)
    usage = Usage({cid: figures(cid, 1.0, MIB)}, use)
    assert usage.columns == (*USAGE_COLUMNS, GPU_COLUMN)
    shown = by_name(with_usage(rows(snap, now=0), snap, usage))
    assert shown["gpu"].usage[2] == "1000.0MiB" and shown["gpu"].usage_tones[2] is Tone.ACCENT
    row = RowId(Level.SERVICE, "compose:p", "compose:p/gpu")
    assert "GPU 0: memory 1000.0MiB, GPU busy 37%" in "".join(
        p.text for p in usage_detail(snap, row, usage)
    )
    assert Usage().columns == USAGE_COLUMNS  # no GPU host: no column


def test_an_oom_killed_replica_says_so_in_its_state_and_detail():
    data = json.loads((Path(__file__).parent / "data" / "engine-swarm-sample.json").read_text())
    plain = next(c for c in data["containers"] if c["Names"] == ["/plain"])
    cid = plain["Id"]
    plain.update(State="exited", Status="Exited (137) 2 seconds ago")
    inspect = data["inspect"][cid]
    inspect["State"].update(Running=False, OOMKilled=True, ExitCode=137)
    inspect["HostConfig"]["Memory"] = 32 * MIB
    snap = build_snapshot(INFO, data["containers"], data["services"], data["tasks"],
                          data["inspect"], now=0)  # fmt: skip
    shown = by_name(rows(snap, now=0))
    assert shown["plain"].cells[1] == "oom-killed (137)" and shown["plain"].tones[1] is Tone.BAD
    replica = next(r for s in snap.services() for r in s.replicas if r.container_id == cid)
    assert replica.oom_killed and replica.memory_limit == 32 * MIB
    said = "".join(p.text for p in detail(snap, shown["plain"].id, 0))
    assert "OOMKilled" in said and "exit 137" in said and "32.0MiB" in said
    assert snap.as_dict()["stacks"][-1]["services"][-1]["replicas"][0]["oom_killed"] is True
    # a running container's old OOMKilled (a restart since) is not a kill now
    alive = replace(replica, state="running", oom_killed=False)
    assert alive.oom_killed is False


def test_the_stats_keys_of_the_config():
    config, problems = parse("stats = false\nstats_interval = 5\n")
    assert (config.stats, config.stats_interval, problems) == (False, 5.0, [])
    config, problems = parse('stats = "no"\nstats_interval = 0.01\n')
    assert (config.stats, config.stats_interval) == (True, 2.0)
    said = [str(p) for p in problems]
    assert any("stats: should be true or false" in s for s in said)
    assert any("stats_interval: should be a number from 0.5 to 3600" in s for s in said)
    assert "stats = false" in parse("stats = false\n")[0].to_toml()


def test_a_host_without_gpus_is_asked_again_after_a_while_not_every_read():
    from mltui.core.usage import GPU_RETRY_S, GpuReads

    now = [0.0]
    answers = [FakeNvml([]), FakeNvml([H100])]  # the driver was still loading at first
    asked = []

    def factory():
        asked.append(now[0])
        return answers[min(len(asked), len(answers)) - 1]

    reads = GpuReads(factory, clock=lambda: now[0])
    assert reads.read() is None and reads.gpu_host is False
    now[0] = GPU_RETRY_S / 2
    assert reads.read() is None and asked == [0.0]  # not asked again yet
    now[0] = GPU_RETRY_S + 1
    assert reads.read() is not None and reads.gpu_host is True
    assert asked == [0.0, GPU_RETRY_S + 1]
