"""Engine responses recorded from a real Docker 20.10 swarm node, replayed for
pixel-stable SVG snapshots (live engines differ in ids and ages run to run).
Only the snapshot tests use this; every behaviour test talks to the real engine."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

from mltui.core.engine import Engine, EngineTarget
from mltui.core.inventory import parse_time

DATA = json.loads(
    (Path(__file__).parent.parent / "unit" / "data" / "engine-swarm-sample.json").read_text()
)
RECORDED_AT = max(parse_time(t["Status"]["Timestamp"]) for t in DATA["tasks"]) + 5
# a 4-replica swarm service printing together: lists, inspects and its raw log
# streams, written by tools/record-engine.py
LOGS_DATA = json.loads((Path(__file__).parent / "logs-sample.json").read_text())
LOGS_RECORDED_AT = max(parse_time(t["Status"]["Timestamp"]) for t in LOGS_DATA["tasks"]) + 60


class _QuietStream:
    def __init__(self) -> None:
        self._closed = threading.Event()

    def __iter__(self):
        self._closed.wait(0.5)
        return iter(())

    def close(self) -> None:
        self._closed.set()


class _ReplayStream:
    """The recorded bytes of a logs response; a follow-up stream stays quiet until closed."""

    def __init__(self, body: bytes, chunked: bool, quiet: bool) -> None:
        self._body = body
        self.chunked = chunked
        self._quiet = quiet
        self._closed = threading.Event()

    def read(self, size: int = 1 << 18) -> bytes:
        if self._quiet:
            self._closed.wait()
            return b""
        piece, self._body = self._body[:size], self._body[size:]
        return piece

    def close(self) -> None:
        self._closed.set()


class RecordedEngine(Engine):
    def __init__(self, data: dict | None = None) -> None:
        super().__init__(EngineTarget("unix:///var/run/docker.sock", "recorded"))
        self.data = DATA if data is None else data
        self._stats_calls: dict[str, int] = {}
        self._stats_lock = threading.Lock()

    def _call(self, name, fn, *args, **kwargs):  # pragma: no cover - never reaches a socket
        raise AssertionError("the recorded engine makes no calls")

    def info(self):
        from mltui.core.engine import EngineInfo

        info, version = self.data["info"], self.data["version"]
        return EngineInfo(
            target=self.target.base_url,
            state="connected",
            server_version=version["Version"],
            api_version=version["ApiVersion"],
            swarm=info["Swarm"]["LocalNodeState"],
            swarm_manager=info["Swarm"]["ControlAvailable"],
        )

    def containers(self):
        self.calls["containers"] += 1
        return self.data["containers"]

    def services(self):
        self.calls["services"] += 1
        return self.data["services"]

    def tasks(self):
        self.calls["tasks"] += 1
        return self.data["tasks"]

    def inspect_container(self, container_id):
        self.calls["inspect_container"] += 1
        return self.data["inspect"][container_id]

    def events(self, since=None, until=None):
        return _QuietStream()

    def container_stats(self, container_id, timeout=2.0):
        """One-shot stats, shaped as the engine's, that give the same figures at
        every read (the CPU counters grow by the same step each call), so the
        usage columns are pixel-stable: CPU 25%-100% of a core, memory 67-259 MiB."""
        k = 1 + int(container_id[-2:], 16) % 4
        with self._stats_lock:
            n = self._stats_calls[container_id] = self._stats_calls.get(container_id, 0) + 1
        return {
            "cpu_stats": {
                "cpu_usage": {"total_usage": n * k * 125_000_000},
                "system_cpu_usage": n * 1_000_000_000,
                "online_cpus": 2,
            },
            "memory_stats": {
                "usage": (k * 64 + 3) * 2**20 + 4096,
                "limit": 8 * 2**30,
                "stats": {"total_inactive_file": 4096},
            },
            "pids_stats": {"current": 3 * k},
            "networks": {"eth0": {"rx_bytes": 1500 * k, "tx_bytes": 700 * k}},
            "blkio_stats": {"io_service_bytes_recursive": [{"op": "Read", "value": 4096 * k}]},
        }

    def open_logs(self, path, params, *, follow):
        self.calls["logs"] += 1
        key = path.split("/")[2]
        logs = self.data.get("logs", {}).get(key, {"body": "", "chunked": False})
        return _ReplayStream(base64.b64decode(logs["body"]), logs["chunked"], quiet=follow)
