"""The inventory of an engine: stacks, services and replicas.

One module per concern:

- :mod:`.model`: the values (GpuRequest, Replica, Service, Stack, Snapshot)
- :mod:`.times`: engine times in, ages out
- :mod:`.engine_json`: reading the Engine API's JSON (labels, ports, health, GPUs)
- :mod:`.builder`: the pure snapshot builder, JSON in, Snapshot out
- :mod:`.reader`: the reader that talks to the engine (Inventory) and WarmStart
- :mod:`.events`: which engine events change what the inventory shows

The names below are what the rest of mltui imports from ``mltui.core.inventory``.
"""

from __future__ import annotations

from .builder import CRASHLOOP_WINDOW, TASK_FAILED, build_snapshot
from .engine_json import (
    COMPOSE_FILES,
    COMPOSE_NUMBER,
    COMPOSE_ONEOFF,
    COMPOSE_PROJECT,
    COMPOSE_SERVICE,
    COMPOSE_VERSION,
    COMPOSE_WORKDIR,
    STACK_NAMESPACE,
    SWARM_SERVICE_ID,
    SWARM_SERVICE_NAME,
    SWARM_TASK_ID,
    container_ports,
    gpu_from_inspect,
    gpu_from_resources,
    health_from_status,
    service_ports,
)
from .events import QUIET_ACTIONS, event_changes_engine, event_container_id, event_matters
from .model import NO_STACK, GpuRequest, Replica, Service, Snapshot, Stack
from .reader import Inventory, WarmStart
from .times import human_age, parse_time

__all__ = [
    "COMPOSE_FILES",
    "COMPOSE_NUMBER",
    "COMPOSE_ONEOFF",
    "COMPOSE_PROJECT",
    "COMPOSE_SERVICE",
    "COMPOSE_VERSION",
    "COMPOSE_WORKDIR",
    "CRASHLOOP_WINDOW",
    "NO_STACK",
    "QUIET_ACTIONS",
    "STACK_NAMESPACE",
    "SWARM_SERVICE_ID",
    "SWARM_SERVICE_NAME",
    "SWARM_TASK_ID",
    "TASK_FAILED",
    "GpuRequest",
    "Inventory",
    "Replica",
    "Service",
    "Snapshot",
    "Stack",
    "WarmStart",
    "build_snapshot",
    "container_ports",
    "event_changes_engine",
    "event_container_id",
    "event_matters",
    "gpu_from_inspect",
    "gpu_from_resources",
    "health_from_status",
    "human_age",
    "parse_time",
    "service_ports",
]
