"""Engine API JSON -> stacks, services and replicas: the pure builder.

:func:`build_snapshot` takes the JSON of the engine's list calls (and the
container inspects the reader kept) and returns a :class:`.model.Snapshot`;
it calls nothing, which is what the unit tests feed with recorded engine output.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..engine import EngineInfo
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
    SWARM_TASK_ID,
    container_name,
    container_ports,
    gpu_from_inspect,
    gpu_from_resources,
    health_from_status,
    image_name,
    json_int,
    json_object,
    labels_of,
    memory_limit,
    merge_gpu,
    oom_killed,
    service_ports,
    task_ports,
)
from .model import NO_STACK, Replica, Service, Snapshot, Stack
from .times import parse_time

# Task states that end a task badly.
TASK_FAILED = {"failed", "rejected", "orphaned"}
CRASHLOOP_WINDOW = 300.0  # seconds of task history that count towards a crash loop
# Exit codes of a container stopped from outside rather than by its own program:
# SIGKILL (a restarting engine kills what it finds), SIGTERM, and 255 (the shim
# went with the daemon, so the exit was never seen).
ENGINE_STOP_EXITS = frozenset({137, 143, 255})
# A task still running since this long before a failure survived that moment.
SURVIVOR_MARGIN_S = 1.0


def _container_replica(
    entry: Mapping[str, Any], inspect: Mapping[str, Any] | None, slot: int | None
) -> Replica:
    labels = labels_of(entry)
    state = str(entry.get("State") or "unknown")
    status = str(entry.get("Status") or "")
    st = json_object(json_object(inspect).get("State"))
    since: float | None = None
    if state in ("running", "paused", "restarting"):
        since = parse_time(st.get("StartedAt"))
    elif state in ("exited", "dead"):
        since = parse_time(st.get("FinishedAt"))
    if since is None:
        since = parse_time(json_object(inspect).get("Created")) if state == "created" else None
    if since is None and state == "created":
        created = entry.get("Created")
        since = float(created) if isinstance(created, (int, float)) and 0 < created < 1e11 else None
    exit_code = json_int(st.get("ExitCode")) if st else None
    if exit_code is None and state == "exited":
        match = re.match(r"Exited \((-?\d+)\)", status)
        exit_code = int(match.group(1)) if match else None
    health = str(json_object(st.get("Health")).get("Status") or "")
    health = health or health_from_status(status)
    return Replica(
        key=str(entry.get("Id", "")),
        name=container_name(entry),
        kind="container",
        slot=slot,
        state=state,
        since=since,
        image=image_name(entry.get("Image")),
        ports=container_ports(entry),
        health=health,
        restarts=json_int(json_object(inspect).get("RestartCount"), 0) or 0,
        exit_code=exit_code if state != "running" or exit_code else None,
        error=str(st.get("Error") or ""),
        gpu=gpu_from_inspect(inspect),
        container_id=str(entry.get("Id", "")),
        oneoff=labels.get(COMPOSE_ONEOFF, "").lower() == "true",
        oom_killed=oom_killed(inspect) and state != "running",
        memory_limit=memory_limit(inspect),
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
        labels = labels_of(entry)
        replicas.append(_container_replica(entry, inspect, json_int(labels.get(COMPOSE_NUMBER))))
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
        gpu=merge_gpu(r.gpu for r in replicas),
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
    status = json_object(task.get("Status"))
    return parse_time(status.get("Timestamp")) or parse_time(task.get("UpdatedAt")) or 0.0


def _task_exit(task: Mapping[str, Any]) -> int | None:
    status = json_object(task.get("Status"))
    code = json_int(json_object(status.get("ContainerStatus")).get("ExitCode"))
    if code is None:
        match = re.search(r"non-zero exit \((-?\d+)\)", str(status.get("Err") or ""))
        code = int(match.group(1)) if match else None
    return code


def engine_stop_failures(tasks: Sequence[Mapping[str, Any]]) -> set[str]:
    """The ids of failed tasks that ended because their engine went away, not their program.

    Swarm events do not say why a task failed, so this reads it from the task list
    (recorded in tests/unit/data/swarm-engine-restart.json): when dockerd restarts,
    it kills what it finds (exit 137, or 255 when the exit was lost with the daemon)
    and every task of that node fails at the same moment. The rule: a failed task
    was stopped by its engine when its exit code is one of :data:`ENGINE_STOP_EXITS`
    and no task of the same node, of any service, was running from before that
    moment and is running still (nothing on the node survived it). A program that
    crashes (any other exit code), or one killed while its neighbours kept running,
    counts towards a crash loop as before. Known limit: a service alone on its node
    whose replicas are all OOM-killed together (137) reads as an engine stop.
    """
    running_since: dict[str, list[float]] = {}
    for task in tasks:
        if str(json_object(task.get("Status")).get("State") or "") == "running":
            running_since.setdefault(str(task.get("NodeID") or ""), []).append(_task_time(task))
    stopped: set[str] = set()
    for task in tasks:
        state = str(json_object(task.get("Status")).get("State") or "")
        if state not in TASK_FAILED or _task_exit(task) not in ENGINE_STOP_EXITS:
            continue
        moment = _task_time(task)
        survivors = running_since.get(str(task.get("NodeID") or ""), [])
        if not any(since < moment - SURVIVOR_MARGIN_S for since in survivors):
            stopped.add(str(task.get("ID", "")))
    return stopped


def _swarm_service(
    svc: Mapping[str, Any],
    tasks: list[Mapping[str, Any]],
    containers: Mapping[str, Mapping[str, Any]],
    inspects: Mapping[str, Mapping[str, Any]],
    now: float,
    engine_stops: frozenset[str] | set[str] = frozenset(),
) -> Service:
    spec = json_object(svc.get("Spec"))
    labels = labels_of(spec)
    full_name = str(spec.get("Name") or svc.get("ID", ""))
    stack = labels.get(STACK_NAMESPACE, "")
    # `docker stack deploy` names services STACK_SERVICE; show the part the compose file named
    name = full_name[len(stack) + 1 :] if stack and full_name.startswith(stack + "_") else full_name
    template = json_object(spec.get("TaskTemplate"))
    image = str(json_object(template.get("ContainerSpec")).get("Image") or "")
    image = image.split("@sha256:", 1)[0]
    mode_spec = json_object(spec.get("Mode"))
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
            slot = json_int(current.get("Slot"))
            desired_now = json_int(json_object(mode_spec.get("Replicated")).get("Replicas"), 0) or 0
            if slot is not None and slot > desired_now:
                continue
        older = [t for t in history if t is not current]
        restarts += len(older)
        for t in history:
            state = str(json_object(t.get("Status")).get("State") or "")
            if (
                state in TASK_FAILED
                and now - _task_time(t) < CRASHLOOP_WINDOW
                and str(t.get("ID", "")) not in engine_stops
            ):
                recent_failures.append(t)
        replicas.append(_task_replica(current, len(older), containers, inspects, full_name))

    replicas.sort(key=lambda r: (r.slot if r.slot is not None else 1 << 30, r.node, r.name))
    running = sum(1 for r in replicas if r.running and r.desired_state in ("running", ""))
    if mode == "replicated":
        desired = json_int(json_object(mode_spec.get("Replicated")).get("Replicas"), 0) or 0
    else:
        desired = sum(1 for r in replicas if r.desired_state == "running")
    failed_all = [
        t for t in tasks if str(json_object(t.get("Status")).get("State") or "") in TASK_FAILED
    ]
    failed_all.sort(key=_task_time, reverse=True)
    last = failed_all[0] if failed_all else None
    last_exit = None
    last_error = ""
    if last is not None:
        status = json_object(last.get("Status"))
        last_exit = json_int(json_object(status.get("ContainerStatus")).get("ExitCode"))
        last_error = str(status.get("Err") or status.get("Message") or "")
    pending_errors = [r.error for r in replicas if r.state == "pending" and r.error]
    if not last_error and pending_errors:
        last_error = pending_errors[0]
    gpu = gpu_from_resources(template.get("Resources")) or merge_gpu(r.gpu for r in replicas)
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
    status = json_object(task.get("Status"))
    cstatus = json_object(status.get("ContainerStatus"))
    cid = str(cstatus.get("ContainerID") or "")
    entry = containers.get(cid) if cid else None
    slot = json_int(task.get("Slot"))
    task_id = str(task.get("ID", ""))
    suffix = str(slot) if slot is not None else str(task.get("NodeID", ""))[:12]
    name = f"{service_name}.{suffix}"
    health = health_from_status(str(entry.get("Status") or "")) if entry else ""
    inspect = inspects.get(cid) if cid else None
    exit_code = json_int(cstatus.get("ExitCode"))
    state = str(status.get("State") or "unknown")
    spec = json_object(task.get("Spec"))
    gpu = gpu_from_resources(spec.get("Resources")) or gpu_from_inspect(inspect)
    return Replica(
        key=task_id,
        name=name,
        kind="task",
        slot=slot,
        state=state,
        since=_task_time(task) or None,
        image=str(json_object(spec.get("ContainerSpec")).get("Image") or "").split("@sha256:", 1)[
            0
        ],
        ports=task_ports(task) or (container_ports(entry) if entry else ()),
        health=health,
        restarts=restarts,
        exit_code=exit_code if state not in ("running",) else None,
        error=str(status.get("Err") or ""),
        gpu=gpu,
        container_id=cid,
        node=str(task.get("NodeID") or ""),
        desired_state=str(task.get("DesiredState") or ""),
        oom_killed=oom_killed(inspect) and state != "running",
        memory_limit=memory_limit(inspect),
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
    engine_stops = engine_stop_failures(tasks)
    swarm_stacks: dict[str, list[Service]] = {}
    for svc in services:
        if not isinstance(svc, Mapping):
            continue
        built = _swarm_service(
            svc,
            tasks_by_service.get(str(svc.get("ID", "")), []),
            by_id,
            inspects,
            now,
            engine_stops,
        )
        swarm_stacks.setdefault(built.stack, []).append(built)

    compose: dict[str, dict[str, list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]]] = {}
    compose_meta: dict[str, dict[str, str]] = {}
    standalone: list[Service] = []
    for cid, entry in by_id.items():
        labels = labels_of(entry)
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
