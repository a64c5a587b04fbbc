"""The inventory's values: stacks, services, replicas and what they asked for in GPUs.

Plain frozen dataclasses, built by :mod:`.builder` from the engine's JSON and
read by the report, the screens and the command line.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..engine import EngineInfo

NO_STACK = ""  # the stack name of containers that belong to none


@dataclass(frozen=True)
class GpuRequest:
    """What a container or service asked for in the way of GPUs."""

    count: int | None = None  # -1: all GPUs
    device_ids: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    driver: str = ""
    runtime: str = ""  # "nvidia" when the container runs with that runtime
    visible_devices: str = ""  # NVIDIA_VISIBLE_DEVICES
    generic: tuple[tuple[str, str], ...] = ()  # swarm generic resources (kind, value)

    @property
    def summary(self) -> str:
        parts: list[str] = []
        if self.count == -1:
            parts.append("all GPUs")
        elif self.count:
            parts.append(f"{self.count} GPU" + ("s" if self.count > 1 else ""))
        if self.device_ids:
            parts.append("GPU " + ",".join(self.device_ids))
        if not parts and self.capabilities:
            parts.append("GPU (" + ",".join(self.capabilities) + ")")
        for kind, value in self.generic:
            parts.append(f"{kind}={value}")
        if self.runtime == "nvidia":
            parts.append("nvidia runtime")
        if self.visible_devices and not parts:
            parts.append(f"NVIDIA_VISIBLE_DEVICES={self.visible_devices}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Replica:
    key: str  # container id, or task id for swarm
    name: str
    kind: str  # "container" | "task"
    slot: int | None
    state: str
    since: float | None  # epoch seconds when the current state began
    image: str
    ports: tuple[str, ...] = ()
    health: str = ""  # healthy | unhealthy | starting | ""
    restarts: int = 0
    exit_code: int | None = None
    error: str = ""
    gpu: GpuRequest | None = None
    container_id: str = ""
    node: str = ""
    oneoff: bool = False
    desired_state: str = ""
    oom_killed: bool = False  # State.OOMKilled: the kernel killed it for memory
    memory_limit: int | None = None  # HostConfig.Memory in bytes; None: unlimited or unknown

    @property
    def running(self) -> bool:
        return self.state == "running"


@dataclass(frozen=True)
class Service:
    key: str  # "compose:PROJECT/SERVICE", "swarm:ID" or "container:ID"
    name: str
    stack: str
    kind: str  # compose | swarm | container
    desired: int
    running: int
    image: str
    ports: tuple[str, ...]
    replicas: tuple[Replica, ...]
    gpu: GpuRequest | None = None
    restarts: int = 0
    crashloop: bool = False
    last_exit: int | None = None
    last_error: str = ""
    mode: str = ""  # swarm: replicated | global
    service_id: str = ""
    full_name: str = ""  # the engine's name: "stack_svc" for swarm, container name for loose ones

    @property
    def label(self) -> str:
        """How mltui names it to the user: "stack/service", or the bare name when it
        belongs to no stack (what `mltui logs` and the other commands accept)."""
        if self.stack and not self.stack.startswith("("):
            return f"{self.stack}/{self.name}"
        return self.name

    @property
    def state(self) -> str:
        """One word for the service as a whole."""
        if self.crashloop:
            return "crashloop"
        if self.desired == 0:
            return "stopped" if self.kind != "swarm" else "scaled to 0"
        if self.running >= self.desired:
            return "running"
        if self.running == 0:
            states = {r.state for r in self.replicas}
            if states & {
                "pending",
                "assigned",
                "preparing",
                "starting",
                "new",
                "accepted",
                "ready",
                "allocated",
            }:
                return "starting"
            if "restarting" in states:
                return "restarting"
            if self.kind != "swarm" and states == {"created"}:
                return "created"
            if self.kind != "swarm" and "paused" in states:
                return "paused"
            return "down" if self.kind == "swarm" else "exited"
        return "degraded"


@dataclass(frozen=True)
class Stack:
    name: str  # "" for containers in no stack
    kind: str  # compose | swarm | none
    services: tuple[Service, ...]
    working_dir: str = ""
    config_files: tuple[str, ...] = ()
    compose_version: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def title(self) -> str:
        if self.kind == "none":
            return "(no stack)"
        if not self.name:
            return "(swarm, no stack)"  # services made with `docker service create`
        return self.name


@dataclass(frozen=True)
class Snapshot:
    engine: EngineInfo
    stacks: tuple[Stack, ...]
    taken_at: float = field(default_factory=time.time)
    calls: int = 0  # engine API calls spent on this snapshot
    inspects: int = 0  # of which container inspects

    def services(self) -> Iterable[Service]:
        for stack in self.stacks:
            yield from stack.services

    def service(self, key: str) -> Service | None:
        for svc in self.services():
            if svc.key == key:
                return svc
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine.as_dict(),
            "taken_at": self.taken_at,
            "stacks": [_stack_dict(s) for s in self.stacks],
        }


def _stack_dict(stack: Stack) -> dict[str, Any]:
    return {
        "name": stack.name,
        "kind": stack.kind,
        "working_dir": stack.working_dir,
        "config_files": list(stack.config_files),
        "compose_version": stack.compose_version,
        "services": [_service_dict(s) for s in stack.services],
    }


def _service_dict(svc: Service) -> dict[str, Any]:
    return {
        "key": svc.key,
        "name": svc.name,
        "full_name": svc.full_name or svc.name,
        "kind": svc.kind,
        "state": svc.state,
        "running": svc.running,
        "desired": svc.desired,
        "image": svc.image,
        "ports": list(svc.ports),
        "gpu": svc.gpu.summary if svc.gpu else "",
        "gpu_request": asdict(svc.gpu) if svc.gpu else None,
        "restarts": svc.restarts,
        "crashloop": svc.crashloop,
        "last_exit": svc.last_exit,
        "last_error": svc.last_error,
        "mode": svc.mode,
        "replicas": [_replica_dict(r) for r in svc.replicas],
    }


def _replica_dict(rep: Replica) -> dict[str, Any]:
    out = asdict(rep)
    out["ports"] = list(rep.ports)
    out["gpu"] = rep.gpu.summary if rep.gpu else ""
    out.pop("key")
    out["id"] = rep.key
    return out
