"""Counters from the Engine API's one-shot stats
(``GET /containers/{id}/stats?stream=false&one-shot=true``): for remote engines
and containers whose cgroup files cannot be read here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import RawSample


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _num(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def sample_from_api(data: Any) -> RawSample | None:
    """The counters in one stats answer; None when it holds none (a container
    that stopped answers with empty sections)."""
    if not isinstance(data, Mapping):
        return None
    cpu = _obj(data.get("cpu_stats"))
    usage = _obj(cpu.get("cpu_usage"))
    memory = _obj(data.get("memory_stats"))
    mstats = _obj(memory.get("stats"))
    inactive = _num(mstats.get("total_inactive_file"))  # cgroup v1
    if inactive is None:
        inactive = _num(mstats.get("inactive_file"))  # cgroup v2
    online = _num(cpu.get("online_cpus"))
    if not online:
        percpu = usage.get("percpu_usage")
        online = len(percpu) if isinstance(percpu, list) else None
    read = write = None
    entries = _obj(data.get("blkio_stats")).get("io_service_bytes_recursive")
    if isinstance(entries, list):
        read = write = 0
        for entry in entries:
            op = str(_obj(entry).get("op") or "")[:1].lower()
            value = _num(_obj(entry).get("value")) or 0
            if op == "r":
                read += value
            elif op == "w":
                write += value
    rx = tx = None
    networks = data.get("networks")
    if isinstance(networks, Mapping):
        rx = sum(_num(_obj(n).get("rx_bytes")) or 0 for n in networks.values())
        tx = sum(_num(_obj(n).get("tx_bytes")) or 0 for n in networks.values())
    sample = RawSample(
        source="api",
        cpu_ns=_num(usage.get("total_usage")),
        system_ns=_num(cpu.get("system_cpu_usage")),
        online_cpus=online,
        memory_usage=_num(memory.get("usage")),
        memory_inactive_file=inactive,
        memory_limit=_num(memory.get("limit")) or None,
        pids=_num(_obj(data.get("pids_stats")).get("current")),
        block_read=read,
        block_write=write,
        net_rx=rx,
        net_tx=tx,
    )
    if sample.memory_usage is None and not sample.system_ns:
        return None
    return sample
