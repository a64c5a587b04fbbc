"""Engine responses recorded from a real Docker 20.10 swarm node, replayed for
pixel-stable SVG snapshots (live engines differ in ids and ages run to run).
Only the snapshot tests use this; every behaviour test talks to the real engine."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from mltui.core.engine import Engine, EngineTarget
from mltui.core.inventory import parse_time

DATA = json.loads(
    (Path(__file__).parent.parent / "unit" / "data" / "engine-swarm-sample.json").read_text()
)
RECORDED_AT = max(parse_time(t["Status"]["Timestamp"]) for t in DATA["tasks"]) + 5


class _QuietStream:
    def __init__(self) -> None:
        self._closed = threading.Event()

    def __iter__(self):
        self._closed.wait(0.5)
        return iter(())

    def close(self) -> None:
        self._closed.set()


class RecordedEngine(Engine):
    def __init__(self) -> None:
        super().__init__(EngineTarget("unix:///var/run/docker.sock", "recorded"))

    def _call(self, name, fn, *args, **kwargs):  # pragma: no cover - never reaches a socket
        raise AssertionError("the recorded engine makes no calls")

    def info(self):
        from mltui.core.engine import EngineInfo

        info, version = DATA["info"], DATA["version"]
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
        return DATA["containers"]

    def services(self):
        self.calls["services"] += 1
        return DATA["services"]

    def tasks(self):
        self.calls["tasks"] += 1
        return DATA["tasks"]

    def inspect_container(self, container_id):
        self.calls["inspect_container"] += 1
        return DATA["inspect"][container_id]

    def events(self, since=None, until=None):
        return _QuietStream()
