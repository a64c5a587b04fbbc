"""Engine API JSON -> stacks, services and replicas.

A snapshot costs a constant number of list calls: ``GET /containers/json?all=1``,
and on a swarm manager ``GET /services`` and ``GET /tasks``. What only a
container inspect knows (device requests, runtime, restart count, start time,
last exit code, health) is read once per container and kept until the engine
says the container changed (an event, or a new state in the list), so a
steady engine with 200 containers costs three calls a refresh and no inspects.

:func:`build_snapshot` is pure: it takes the JSON and returns dataclasses, which
is what the unit tests feed with recorded engine output.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from .engine import Engine, EngineError, EngineInfo, EngineUnavailable

COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_NUMBER = "com.docker.compose.container-number"
COMPOSE_ONEOFF = "com.docker.compose.oneoff"
COMPOSE_VERSION = "com.docker.compose.version"
COMPOSE_WORKDIR = "com.docker.compose.project.working_dir"
COMPOSE_FILES = "com.docker.compose.project.config_files"
STACK_NAMESPACE = "com.docker.stack.namespace"
SWARM_SERVICE_ID = "com.docker.swarm.service.id"
SWARM_SERVICE_NAME = "com.docker.swarm.service.name"
SWARM_TASK_ID = "com.docker.swarm.task.id"

NO_STACK = ""  # the stack name of containers that belong to none

# Task states that end a task badly.
TASK_FAILED = {"failed", "rejected", "orphaned"}
CRASHLOOP_WINDOW = 300.0  # seconds of task history that count towards a crash loop


# -- values ------------------------------------------------------------------
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


# -- parsing helpers -----------------------------------------------------------
_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: Any) -> float | None:
    """Docker's RFC 3339 times (nanoseconds, 'Z') -> epoch seconds; zero time -> None."""
    if not value or not isinstance(value, str) or value.startswith("0001-01-01"):
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp()


def human_age(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return ""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d{(seconds % 86400) // 3600}h"


def _obj(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one: engine JSON is checked, not trusted."""
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _image_name(value: Any) -> str:
    """The image as the list names it; a bare ID (its tag was removed) shortened
    the way the docker CLI shows IDs."""
    text = str(value or "")
    if text.startswith("sha256:") and len(text) > 19:
        return text[:19]
    return text


def _labels(obj: Mapping[str, Any]) -> dict[str, str]:
    raw = _obj(obj.get("Labels"))
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def _container_name(entry: Mapping[str, Any]) -> str:
    names = _list(entry.get("Names"))
    if names and isinstance(names, list):
        return str(names[0]).lstrip("/")
    return str(entry.get("Id", ""))[:12]


def _int(value: Any, default: int | None = None) -> int | None:
    if isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return default


def container_ports(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """Published ports of a container list entry, like the docker CLI shows them."""
    out: list[str] = []
    seen: set[str] = set()
    for port in _list(entry.get("Ports")):
        if not isinstance(port, Mapping):
            continue
        private = port.get("PrivatePort")
        proto = port.get("Type") or "tcp"
        public = port.get("PublicPort")
        if public:
            ip = port.get("IP") or "0.0.0.0"
            if ip in ("::", "0.0.0.0"):
                text = f"{public}->{private}/{proto}"
            else:
                text = f"{ip}:{public}->{private}/{proto}"
        else:
            continue  # exposed but not published: nothing the host can reach
        if text not in seen:
            seen.add(text)
            out.append(text)
    if not out and _obj(entry.get("HostConfig")).get("NetworkMode") == "host":
        return ("host network",)  # every port it listens on is the host's own
    return tuple(out)


def service_ports(service: Mapping[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    endpoint = _obj(service.get("Endpoint"))
    ports = _list(endpoint.get("Ports")) or _list(
        _obj(_obj(service.get("Spec")).get("EndpointSpec")).get("Ports")
    )
    for port in ports:
        if not isinstance(port, Mapping):
            continue
        target = port.get("TargetPort")
        published = port.get("PublishedPort")
        proto = port.get("Protocol") or "tcp"
        mode = port.get("PublishMode") or "ingress"
        if published:
            text = f"{published}->{target}/{proto}" + (" (host)" if mode == "host" else "")
            if text not in out:
                out.append(text)
    return tuple(out)


def _task_ports(task: Mapping[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    for port in _list(_obj(_obj(task.get("Status")).get("PortStatus")).get("Ports")):
        if isinstance(port, Mapping) and port.get("PublishedPort"):
            text = (
                f"{port['PublishedPort']}->{port.get('TargetPort')}/{port.get('Protocol') or 'tcp'}"
            )
            if text not in out:
                out.append(text)
    return tuple(out)


_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


def health_from_status(status: str) -> str:
    match = _HEALTH.search(status or "")
    if not match:
        return ""
    word = match.group(1)
    return "starting" if word == "health: starting" else word


def gpu_from_inspect(inspect: Mapping[str, Any] | None) -> GpuRequest | None:
    if not inspect:
        return None
    host = _obj(inspect.get("HostConfig"))
    count: int | None = None
    ids: list[str] = []
    caps: list[str] = []
    driver = ""
    found = False
    for req in _list(host.get("DeviceRequests")):
        if not isinstance(req, Mapping):
            continue
        flat = [str(c) for group in _list(req.get("Capabilities")) for c in _list(group)]
        req_driver = str(req.get("Driver") or "")
        if "gpu" not in flat and req_driver != "nvidia":
            continue
        found = True
        driver = driver or req_driver
        n = _int(req.get("Count"), 0) or 0
        if n == -1 or count == -1:
            count = -1
        elif n:
            count = (count or 0) + n
        ids.extend(str(i) for i in _list(req.get("DeviceIDs")))
        caps.extend(c for c in flat if c not in caps)
    runtime = str(host.get("Runtime") or "")
    visible = ""
    for item in _list(_obj(inspect.get("Config")).get("Env")):
        if isinstance(item, str) and item.startswith("NVIDIA_VISIBLE_DEVICES="):
            visible = item.split("=", 1)[1]
    if runtime != "nvidia":
        runtime = ""
    if visible in ("void", "none", ""):
        visible = "" if visible != "none" else visible
    if not (found or runtime or visible):
        return None
    return GpuRequest(
        count=count,
        device_ids=tuple(ids),
        capabilities=tuple(caps),
        driver=driver,
        runtime=runtime,
        visible_devices=visible,
    )


def gpu_from_resources(resources: Mapping[str, Any] | None) -> GpuRequest | None:
    """Swarm generic resources (``--generic-resource NVIDIA-GPU=1``) of a service or task."""
    reservations = _obj(_obj(resources).get("Reservations"))
    generic: list[tuple[str, str]] = []
    for item in _list(reservations.get("GenericResources")):
        if not isinstance(item, Mapping):
            continue
        for spec_key in ("DiscreteResourceSpec", "NamedResourceSpec"):
            spec = item.get(spec_key)
            if isinstance(spec, Mapping) and spec.get("Kind"):
                generic.append((str(spec["Kind"]), str(spec.get("Value", ""))))
    if not generic:
        return None
    return GpuRequest(generic=tuple(generic))


def _merge_gpu(requests: Iterable[GpuRequest | None]) -> GpuRequest | None:
    for req in requests:
        if req is not None:
            return req
    return None


# -- the pure builder ------------------------------------------------------------
def _container_replica(
    entry: Mapping[str, Any], inspect: Mapping[str, Any] | None, slot: int | None
) -> Replica:
    labels = _labels(entry)
    state = str(entry.get("State") or "unknown")
    status = str(entry.get("Status") or "")
    st = _obj(_obj(inspect).get("State"))
    since: float | None = None
    if state in ("running", "paused", "restarting"):
        since = parse_time(st.get("StartedAt"))
    elif state in ("exited", "dead"):
        since = parse_time(st.get("FinishedAt"))
    if since is None:
        since = parse_time(_obj(inspect).get("Created")) if state == "created" else None
    if since is None and state == "created":
        created = entry.get("Created")
        since = float(created) if isinstance(created, (int, float)) and 0 < created < 1e11 else None
    exit_code = _int(st.get("ExitCode")) if st else None
    if exit_code is None and state == "exited":
        match = re.match(r"Exited \((-?\d+)\)", status)
        exit_code = int(match.group(1)) if match else None
    health = str(_obj(st.get("Health")).get("Status") or "")
    health = health or health_from_status(status)
    return Replica(
        key=str(entry.get("Id", "")),
        name=_container_name(entry),
        kind="container",
        slot=slot,
        state=state,
        since=since,
        image=_image_name(entry.get("Image")),
        ports=container_ports(entry),
        health=health,
        restarts=_int(_obj(inspect).get("RestartCount"), 0) or 0,
        exit_code=exit_code if state != "running" or exit_code else None,
        error=str(st.get("Error") or ""),
        gpu=gpu_from_inspect(inspect),
        container_id=str(entry.get("Id", "")),
        oneoff=labels.get(COMPOSE_ONEOFF, "").lower() == "true",
    )


def _container_crashloop(rep: Replica, now: float) -> bool:
    if rep.state == "restarting":
        return True
    if rep.restarts >= 3 and rep.exit_code not in (None, 0):
        return rep.since is None or now - rep.since < CRASHLOOP_WINDOW
    return False


def _compose_service(
    project: str,
    name: str,
    entries: list[tuple[Mapping[str, Any], Mapping[str, Any] | None]],
    now: float,
) -> Service:
    replicas: list[Replica] = []
    for entry, inspect in entries:
        labels = _labels(entry)
        replicas.append(_container_replica(entry, inspect, _int(labels.get(COMPOSE_NUMBER))))
    replicas.sort(key=lambda r: (r.oneoff, r.slot if r.slot is not None else 1 << 30, r.name))
    main = [r for r in replicas if not r.oneoff]
    running = sum(1 for r in main if r.running)
    last_bad = max(
        (r for r in main if r.exit_code not in (None, 0)),
        key=lambda r: r.since or 0,
        default=None,
    )
    ports: list[str] = []
    for r in main:
        ports.extend(p for p in r.ports if p not in ports)
    images = [r.image for r in main] or [r.image for r in replicas]
    return Service(
        key=f"compose:{project}/{name}",
        name=name,
        stack=project,
        kind="compose",
        desired=len(main),
        running=running,
        image=images[0] if images else "",
        ports=tuple(ports),
        replicas=tuple(replicas),
        gpu=_merge_gpu(r.gpu for r in replicas),
        restarts=sum(r.restarts for r in main),
        crashloop=any(_container_crashloop(r, now) for r in main),
        last_exit=last_bad.exit_code if last_bad else None,
        last_error=last_bad.error if last_bad else "",
    )


def _standalone_service(
    entry: Mapping[str, Any], inspect: Mapping[str, Any] | None, now: float
) -> Service:
    rep = _container_replica(entry, inspect, None)
    return Service(
        key=f"container:{rep.key}",
        name=rep.name,
        stack=NO_STACK,
        kind="container",
        desired=1,
        running=1 if rep.running else 0,
        image=rep.image,
        ports=rep.ports,
        replicas=(rep,),
        gpu=rep.gpu,
        restarts=rep.restarts,
        crashloop=_container_crashloop(rep, now),
        last_exit=rep.exit_code if rep.exit_code not in (None, 0) else None,
        last_error=rep.error,
    )


def _task_time(task: Mapping[str, Any]) -> float:
    status = _obj(task.get("Status"))
    return parse_time(status.get("Timestamp")) or parse_time(task.get("UpdatedAt")) or 0.0


def _swarm_service(
    svc: Mapping[str, Any],
    tasks: list[Mapping[str, Any]],
    containers: Mapping[str, Mapping[str, Any]],
    inspects: Mapping[str, Mapping[str, Any]],
    now: float,
) -> Service:
    spec = _obj(svc.get("Spec"))
    labels = _labels(spec)
    full_name = str(spec.get("Name") or svc.get("ID", ""))
    stack = labels.get(STACK_NAMESPACE, "")
    # `docker stack deploy` names services STACK_SERVICE; show the part the compose file named
    name = full_name[len(stack) + 1 :] if stack and full_name.startswith(stack + "_") else full_name
    template = _obj(spec.get("TaskTemplate"))
    image = str(_obj(template.get("ContainerSpec")).get("Image") or "")
    image = image.split("@sha256:", 1)[0]
    mode_spec = _obj(spec.get("Mode"))
    mode = "global" if "Global" in mode_spec else "replicated"

    # Group the task history by slot (replicated) or node (global); the newest
    # task of a group is the replica, the older ones are its restarts.
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for task in tasks:
        group = f"slot:{task.get('Slot')}" if mode == "replicated" else f"node:{task.get('NodeID')}"
        groups.setdefault(group, []).append(task)

    replicas: list[Replica] = []
    recent_failures: list[Mapping[str, Any]] = []
    restarts = 0
    for history in groups.values():
        history.sort(key=_task_time, reverse=True)
        active = [
            t for t in history if (t.get("DesiredState") or "") in ("running", "ready", "accepted")
        ]
        current = active[0] if active else history[0]
        if not active and mode == "replicated":
            # a slot with no task that should run: an old slot left after a scale-down
            slot = _int(current.get("Slot"))
            desired_now = _int(_obj(mode_spec.get("Replicated")).get("Replicas"), 0) or 0
            if slot is not None and slot > desired_now:
                continue
        older = [t for t in history if t is not current]
        restarts += len(older)
        for t in history:
            state = str(_obj(t.get("Status")).get("State") or "")
            if state in TASK_FAILED and now - _task_time(t) < CRASHLOOP_WINDOW:
                recent_failures.append(t)
        replicas.append(_task_replica(current, len(older), containers, inspects, full_name))

    replicas.sort(key=lambda r: (r.slot if r.slot is not None else 1 << 30, r.node, r.name))
    running = sum(1 for r in replicas if r.running and r.desired_state in ("running", ""))
    if mode == "replicated":
        desired = _int(_obj(mode_spec.get("Replicated")).get("Replicas"), 0) or 0
    else:
        desired = sum(1 for r in replicas if r.desired_state == "running")
    failed_all = [t for t in tasks if str(_obj(t.get("Status")).get("State") or "") in TASK_FAILED]
    failed_all.sort(key=_task_time, reverse=True)
    last = failed_all[0] if failed_all else None
    last_exit = None
    last_error = ""
    if last is not None:
        status = _obj(last.get("Status"))
        last_exit = _int(_obj(status.get("ContainerStatus")).get("ExitCode"))
        last_error = str(status.get("Err") or status.get("Message") or "")
    pending_errors = [r.error for r in replicas if r.state == "pending" and r.error]
    if not last_error and pending_errors:
        last_error = pending_errors[0]
    gpu = gpu_from_resources(template.get("Resources")) or _merge_gpu(r.gpu for r in replicas)
    return Service(
        key=f"swarm:{svc.get('ID', '')}",
        name=name,
        stack=stack,
        kind="swarm",
        desired=desired,
        running=running,
        image=image,
        ports=service_ports(svc) or tuple(p for r in replicas for p in r.ports),
        replicas=tuple(replicas),
        gpu=gpu,
        restarts=restarts,
        crashloop=len(recent_failures) >= 2 and running < max(desired, 1),
        last_exit=last_exit,
        last_error=last_error,
        mode=mode,
        service_id=str(svc.get("ID", "")),
        full_name=full_name,
    )


def _task_replica(
    task: Mapping[str, Any],
    restarts: int,
    containers: Mapping[str, Mapping[str, Any]],
    inspects: Mapping[str, Mapping[str, Any]],
    service_name: str,
) -> Replica:
    status = _obj(task.get("Status"))
    cstatus = _obj(status.get("ContainerStatus"))
    cid = str(cstatus.get("ContainerID") or "")
    entry = containers.get(cid) if cid else None
    slot = _int(task.get("Slot"))
    task_id = str(task.get("ID", ""))
    suffix = str(slot) if slot is not None else str(task.get("NodeID", ""))[:12]
    name = f"{service_name}.{suffix}"
    health = health_from_status(str(entry.get("Status") or "")) if entry else ""
    inspect = inspects.get(cid) if cid else None
    exit_code = _int(cstatus.get("ExitCode"))
    state = str(status.get("State") or "unknown")
    spec = _obj(task.get("Spec"))
    gpu = gpu_from_resources(spec.get("Resources")) or gpu_from_inspect(inspect)
    return Replica(
        key=task_id,
        name=name,
        kind="task",
        slot=slot,
        state=state,
        since=_task_time(task) or None,
        image=str(_obj(spec.get("ContainerSpec")).get("Image") or "").split("@sha256:", 1)[0],
        ports=_task_ports(task) or (container_ports(entry) if entry else ()),
        health=health,
        restarts=restarts,
        exit_code=exit_code if state not in ("running",) else None,
        error=str(status.get("Err") or ""),
        gpu=gpu,
        container_id=cid,
        node=str(task.get("NodeID") or ""),
        desired_state=str(task.get("DesiredState") or ""),
    )


def build_snapshot(
    engine: EngineInfo,
    containers: Sequence[Mapping[str, Any]],
    services: Sequence[Mapping[str, Any]] | None = None,
    tasks: Sequence[Mapping[str, Any]] | None = None,
    inspects: Mapping[str, Mapping[str, Any]] | None = None,
    now: float | None = None,
    calls: int = 0,
    inspect_calls: int = 0,
) -> Snapshot:
    """Turn the engine's list JSON into stacks; pure, no engine calls."""
    now = time.time() if now is None else now
    # engine JSON is input like any other: drop what is not even an object
    inspects = {k: v for k, v in (inspects or {}).items() if isinstance(v, Mapping)}
    services = [s for s in services or [] if isinstance(s, Mapping)]
    tasks = [t for t in tasks or [] if isinstance(t, Mapping)]
    containers = [c for c in containers or [] if isinstance(c, Mapping)]
    by_id = {str(c.get("Id", "")): c for c in containers if isinstance(c, Mapping)}

    # swarm services, grouped by stack
    swarm_service_ids = {str(s.get("ID", "")) for s in services}
    tasks_by_service: dict[str, list[Mapping[str, Any]]] = {}
    for task in tasks:
        if isinstance(task, Mapping):
            tasks_by_service.setdefault(str(task.get("ServiceID", "")), []).append(task)
    swarm_stacks: dict[str, list[Service]] = {}
    for svc in services:
        if not isinstance(svc, Mapping):
            continue
        built = _swarm_service(
            svc, tasks_by_service.get(str(svc.get("ID", "")), []), by_id, inspects, now
        )
        swarm_stacks.setdefault(built.stack, []).append(built)

    compose: dict[str, dict[str, list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]]] = {}
    compose_meta: dict[str, dict[str, str]] = {}
    standalone: list[Service] = []
    for cid, entry in by_id.items():
        labels = _labels(entry)
        if (
            labels.get(SWARM_TASK_ID) is not None
            and labels.get(SWARM_SERVICE_ID) in swarm_service_ids
        ):
            continue  # shown under its swarm service
        project = labels.get(COMPOSE_PROJECT)
        service = labels.get(COMPOSE_SERVICE)
        if project and service:
            compose.setdefault(project, {}).setdefault(service, []).append(
                (entry, inspects.get(cid))
            )
            meta = compose_meta.setdefault(project, {})
            for key in (COMPOSE_WORKDIR, COMPOSE_FILES, COMPOSE_VERSION):
                if labels.get(key) and not meta.get(key):
                    meta[key] = labels[key]
            continue
        standalone.append(_standalone_service(entry, inspects.get(cid), now))

    stacks: list[Stack] = []
    for project, svcs in compose.items():
        meta = compose_meta.get(project, {})
        built_services = [
            _compose_service(project, name, entries, now) for name, entries in svcs.items()
        ]
        built_services.sort(key=lambda s: s.name)
        files = tuple(f for f in meta.get(COMPOSE_FILES, "").split(",") if f)
        stacks.append(
            Stack(
                name=project,
                kind="compose",
                services=tuple(built_services),
                working_dir=meta.get(COMPOSE_WORKDIR, ""),
                config_files=files,
                compose_version=meta.get(COMPOSE_VERSION, ""),
            )
        )
    loose_swarm: list[Service] = []
    for stack_name, swarm_svcs in swarm_stacks.items():
        swarm_svcs.sort(key=lambda s: s.name)
        if stack_name:
            stacks.append(Stack(name=stack_name, kind="swarm", services=tuple(swarm_svcs)))
        else:
            loose_swarm.extend(swarm_svcs)
    stacks.sort(key=lambda s: (s.name.lower(), s.kind))
    if loose_swarm:
        # swarm services created with `docker service create`, outside any stack
        stacks.append(Stack(name="", kind="swarm", services=tuple(loose_swarm)))
    if standalone:
        standalone.sort(key=lambda s: s.name.lower())
        stacks.append(Stack(name=NO_STACK, kind="none", services=tuple(standalone)))
    return Snapshot(
        engine=engine, stacks=tuple(stacks), taken_at=now, calls=calls, inspects=inspect_calls
    )


# -- the reader that talks to the engine ------------------------------------------
class Inventory:
    """Takes snapshots from an :class:`Engine`, caching container inspects."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._inspects: dict[str, dict[str, Any]] = {}
        self._seen_state: dict[str, str] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()  # guards _dirty, written from the event thread
        self._snapshot_lock = threading.Lock()
        self._info: EngineInfo | None = None

    def invalidate(self, container_id: str | None = None) -> None:
        """Forget what an inspect said about one container (or all, with None)."""
        with self._lock:
            if container_id is None:
                self._inspects.clear()
                self._seen_state.clear()
            else:
                self._dirty.add(container_id)

    def forget_info(self) -> None:
        """The engine's own description changed (swarm joined/left): read /info again."""
        self._info = None

    def engine_info(self) -> EngineInfo:
        if self._info is None:
            self._info = self.engine.info()
        return self._info

    def set_info(self, info: EngineInfo) -> None:
        """Use a description the caller already read (saves the /info round trip)."""
        self._info = info

    def snapshot(self, inspect_new: bool = True) -> Snapshot:
        """Raises :class:`EngineUnavailable` when the engine does not answer.

        With ``inspect_new=False`` containers not inspected yet are shown from
        the list alone (no start time, restart count or GPU request): the first
        screen appears after three calls, and the next snapshot fills in.
        Snapshots from several threads are taken one at a time.
        """
        with self._snapshot_lock:
            return self._snapshot(inspect_new)

    def _snapshot(self, inspect_new: bool) -> Snapshot:
        before = sum(self.engine.calls.values())
        before_inspects = self.engine.calls["inspect_container"]
        info = self.engine_info()
        containers = self.engine.containers()
        services: list[dict[str, Any]] = []
        tasks: list[dict[str, Any]] = []
        if info.swarm == "active" and info.swarm_manager:
            try:
                services = self.engine.services()
                tasks = self.engine.tasks()
            except EngineError as exc:
                if isinstance(exc, EngineUnavailable):
                    raise
                # left the swarm since /info was read: read it again next time
                if exc.status == 503:
                    self._info = None
                    services, tasks = [], []
                else:
                    raise
        inspects = self._refresh_inspects(containers, inspect_new)
        after = sum(self.engine.calls.values())
        return build_snapshot(
            info,
            containers,
            services,
            tasks,
            inspects,
            now=self.clock(),
            calls=after - before,
            inspect_calls=self.engine.calls["inspect_container"] - before_inspects,
        )

    def _refresh_inspects(
        self, containers: list[dict[str, Any]], inspect_new: bool = True
    ) -> dict[str, dict[str, Any]]:
        if not inspect_new:
            listed = {str(c.get("Id", "")) for c in containers}
            return {cid: data for cid, data in self._inspects.items() if cid in listed}
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        live: set[str] = set()
        wanted: list[str] = []
        for entry in containers:
            cid = str(entry.get("Id", ""))
            live.add(cid)
            state = str(entry.get("State", ""))
            if cid not in self._inspects or cid in dirty or self._seen_state.get(cid) != state:
                wanted.append(cid)
            self._seen_state[cid] = state
        for cid in wanted:
            try:
                self._inspects[cid] = self.engine.inspect_container(cid)
            except EngineUnavailable:
                raise
            except EngineError:
                # removed between the list and the inspect: the next list drops it
                self._inspects.pop(cid, None)
        for cid in list(self._inspects):
            if cid not in live:
                del self._inspects[cid]
                self._seen_state.pop(cid, None)
        return dict(self._inspects)


def event_container_id(event: Mapping[str, Any]) -> str | None:
    """The container an engine event is about, if it is about one."""
    if event.get("Type") != "container":
        return None
    actor = _obj(event.get("Actor"))
    cid = actor.get("ID") or event.get("id")
    return str(cid) if cid else None


def event_changes_engine(event: Mapping[str, Any]) -> bool:
    """Node and daemon events can mean the swarm state changed: re-read /info."""
    return event.get("Type") in ("node", "daemon")


# Events that say nothing the inventory shows; everything else triggers a refresh.
QUIET_ACTIONS = (
    "exec_create",
    "exec_start",
    "exec_die",
    "top",
    "attach",
    "resize",
    "export",
    "archive-path",
    "commit",
    "copy",
)


def event_matters(event: Mapping[str, Any]) -> bool:
    action = str(event.get("Action") or event.get("status") or "")
    return not action.startswith(QUIET_ACTIONS)


class WarmStart:
    """The engine's description and a first, list-only snapshot, read in a thread
    while the UI starts. The command line starts it before it imports the UI framework, so
    the round trips overlap that import instead of following it."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.inventory = Inventory(engine, clock)
        self.found: list[EngineInfo | Snapshot | EngineUnavailable] = []
        self._thread = threading.Thread(target=self._run, name="mltui-connect", daemon=True)

    def start(self) -> WarmStart:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            info = self.engine.info()
            self.inventory.set_info(info)
            self.found.append(info)
            self.found.append(self.inventory.snapshot(inspect_new=False))
        except EngineUnavailable as exc:
            self.found.append(exc)

    def take(self) -> list[EngineInfo | Snapshot | EngineUnavailable]:
        """What it found (waits for it); empty the second time."""
        self._thread.join()
        found, self.found = self.found, []
        return found
