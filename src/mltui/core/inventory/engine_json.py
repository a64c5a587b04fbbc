"""Reading the Engine API's JSON: labels, ports, health, GPU requests.

The engine's JSON is input like any other: every reader here checks what it is
given (an object where one is expected, an int that is one) and falls back to
nothing rather than raise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .model import GpuRequest

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


def json_object(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one: engine JSON is checked, not trusted."""
    return value if isinstance(value, Mapping) else {}


def json_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def image_name(value: Any) -> str:
    """The image as the list names it; a bare ID (its tag was removed) shortened
    the way the docker CLI shows IDs."""
    text = str(value or "")
    if text.startswith("sha256:") and len(text) > 19:
        return text[:19]
    return text


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    raw = json_object(obj.get("Labels"))
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def container_name(entry: Mapping[str, Any]) -> str:
    names = json_list(entry.get("Names"))
    if names and isinstance(names, list):
        return str(names[0]).lstrip("/")
    return str(entry.get("Id", ""))[:12]


def json_int(value: Any, default: int | None = None) -> int | None:
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
    for port in json_list(entry.get("Ports")):
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
    if not out and json_object(entry.get("HostConfig")).get("NetworkMode") == "host":
        return ("host network",)  # every port it listens on is the host's own
    return tuple(out)


def service_ports(service: Mapping[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    endpoint = json_object(service.get("Endpoint"))
    ports = json_list(endpoint.get("Ports")) or json_list(
        json_object(json_object(service.get("Spec")).get("EndpointSpec")).get("Ports")
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


def task_ports(task: Mapping[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    for port in json_list(
        json_object(json_object(task.get("Status")).get("PortStatus")).get("Ports")
    ):
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


def oom_killed(inspect: Mapping[str, Any] | None) -> bool:
    """State.OOMKilled of a container inspect: the kernel killed it for memory."""
    return json_object(json_object(inspect).get("State")).get("OOMKilled") is True


def memory_limit(inspect: Mapping[str, Any] | None) -> int | None:
    """HostConfig.Memory of a container inspect in bytes; None when unlimited (0) or unknown."""
    limit = json_int(json_object(json_object(inspect).get("HostConfig")).get("Memory"))
    return limit if limit is not None and limit > 0 else None


def gpu_from_inspect(inspect: Mapping[str, Any] | None) -> GpuRequest | None:
    if not inspect:
        return None
    host = json_object(inspect.get("HostConfig"))
    count: int | None = None
    ids: list[str] = []
    caps: list[str] = []
    driver = ""
    found = False
    for req in json_list(host.get("DeviceRequests")):
        if not isinstance(req, Mapping):
            continue
        flat = [str(c) for group in json_list(req.get("Capabilities")) for c in json_list(group)]
        req_driver = str(req.get("Driver") or "")
        if "gpu" not in flat and req_driver != "nvidia":
            continue
        found = True
        driver = driver or req_driver
        n = json_int(req.get("Count"), 0) or 0
        if n == -1 or count == -1:
            count = -1
        elif n:
            count = (count or 0) + n
        ids.extend(str(i) for i in json_list(req.get("DeviceIDs")))
        caps.extend(c for c in flat if c not in caps)
    runtime = str(host.get("Runtime") or "")
    visible = ""
    for item in json_list(json_object(inspect.get("Config")).get("Env")):
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
    reservations = json_object(json_object(resources).get("Reservations"))
    generic: list[tuple[str, str]] = []
    for item in json_list(reservations.get("GenericResources")):
        if not isinstance(item, Mapping):
            continue
        for spec_key in ("DiscreteResourceSpec", "NamedResourceSpec"):
            spec = item.get(spec_key)
            if isinstance(spec, Mapping) and spec.get("Kind"):
                generic.append((str(spec["Kind"]), str(spec.get("Value", ""))))
    if not generic:
        return None
    return GpuRequest(generic=tuple(generic))


def merge_gpu(requests: Iterable[GpuRequest | None]) -> GpuRequest | None:
    for req in requests:
        if req is not None:
            return req
    return None
