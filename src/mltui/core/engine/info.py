"""What the header shows about the engine, connected or not."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EngineInfo:
    """What the header shows about the engine; also the 'down' state."""

    target: str
    state: str = "connecting"  # connecting | connected | reconnecting | down
    message: str = ""
    server_version: str = ""
    api_version: str = ""
    name: str = ""
    os: str = ""
    swarm: str = "inactive"  # inactive | pending | active | error | locked
    swarm_manager: bool = False
    node_id: str = ""
    runtimes: tuple[str, ...] = ()
    default_runtime: str = ""
    containers: int = 0
    cdi_spec_dirs: tuple[str, ...] | None = None  # None: the engine does not report CDI
    checked_at: float = field(default_factory=time.time)

    @property
    def connected(self) -> bool:
        return self.state == "connected"

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "state": self.state,
            "message": self.message,
            "server_version": self.server_version,
            "api_version": self.api_version,
            "name": self.name,
            "os": self.os,
            "swarm": self.swarm,
            "swarm_manager": self.swarm_manager,
            "runtimes": list(self.runtimes),
            "default_runtime": self.default_runtime,
            "cdi_spec_dirs": None if self.cdi_spec_dirs is None else list(self.cdi_spec_dirs),
        }
