"""`rollback`: a swarm service back to its previous spec, with what changes
(image, replicas, environment) shown before the confirmation.

The engine keeps one previous spec per service (``PreviousSpec``, set by each
update); ``docker service update --rollback`` swaps it in, honouring the
service's rollback_config. Compose keeps no previous spec: refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.engine import Engine, EngineTarget
from ..core.inventory import Snapshot
from ..core.textsafe import safe_text
from .actions import ActionError, Plan, _engine_name, _service
from .dockercli import Call, docker_argv


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _image(spec: Mapping[str, Any]) -> str:
    container = _obj(_obj(spec.get("TaskTemplate")).get("ContainerSpec"))
    return str(container.get("Image") or "").split("@sha256:", 1)[0]


def _replicas(spec: Mapping[str, Any]) -> int | None:
    value = _obj(_obj(spec.get("Mode")).get("Replicated")).get("Replicas")
    return value if isinstance(value, int) else None


def _env(spec: Mapping[str, Any]) -> dict[str, str]:
    container = _obj(_obj(spec.get("TaskTemplate")).get("ContainerSpec"))
    found = {}
    for item in container.get("Env") or []:
        key, _, value = str(item).partition("=")
        found[key] = value
    return found


def _short(text: str, size: int = 60) -> str:
    return safe_text(text if len(text) <= size else text[: size - 1] + "…", size + 10)


def spec_diff(spec: Mapping[str, Any], previous: Mapping[str, Any]) -> tuple[str, ...]:
    """What a rollback changes, one line each: from the current spec to the previous."""
    lines: list[str] = []
    now_image, then_image = _image(spec), _image(previous)
    if now_image != then_image:
        lines.append(f"image {_short(now_image)} -> {_short(then_image)}")
    now_n, then_n = _replicas(spec), _replicas(previous)
    if now_n != then_n and then_n is not None:
        lines.append(f"replicas {now_n} -> {then_n}")
    now_env, then_env = _env(spec), _env(previous)
    for key in sorted(now_env.keys() | then_env.keys()):
        if key not in then_env:
            lines.append(f"env {_short(key, 40)} removed")
        elif key not in now_env:
            lines.append(f"env {_short(key, 40)}={_short(then_env[key])} added")
        elif now_env[key] != then_env[key]:
            lines.append(f"env {_short(key, 40)} {_short(now_env[key])} -> {_short(then_env[key])}")
    template_same = _obj(spec.get("TaskTemplate")) == _obj(previous.get("TaskTemplate"))
    if not lines:
        lines.append(
            "no change to image, replicas or environment"
            + ("" if template_same else " (other settings differ)")
        )
    return tuple(lines)


def service_json(engine: Engine, service_id: str) -> Mapping[str, Any]:
    for item in engine.services():
        if item.get("ID") == service_id:
            return item
    return {}


def plan_rollback(
    snapshot: Snapshot,
    name: str,
    target: EngineTarget | None = None,
    engine: Engine | None = None,
) -> Plan:
    """Reads the service's specs from ``engine`` (one made for ``target`` when
    None, closed after): call it from a worker."""
    _stack, svc = _service(snapshot, name)
    if svc.kind != "swarm":
        raise ActionError(
            f"{svc.label} is a Compose service: Compose keeps no previous spec to roll back to"
        )
    own = engine is None
    if engine is None:
        engine = Engine(target)
    try:
        data = service_json(engine, svc.service_id)
    finally:
        if own:
            engine.close()
    if not data:
        raise ActionError(f"{svc.label} is gone from the engine")
    spec, previous = _obj(data.get("Spec")), _obj(data.get("PreviousSpec"))
    if not previous:
        raise ActionError(f"{svc.label} has no previous spec: it was never updated")
    changed = _obj(spec.get("TaskTemplate")) != _obj(previous.get("TaskTemplate"))
    image = _image(previous)
    running = [r for r in svc.replicas if r.running and r.container_id]
    if image != _image(spec):
        # a replica already on the previous image (an update still under way)
        # is not replaced: only the others must go
        running = [r for r in running if r.image != image]
    call = Call(
        (*docker_argv(target), "service", "update", "--rollback", "--detach", svc.full_name)
    )
    return Plan(
        "rollback",
        svc.label,
        "swarm",
        _engine_name(snapshot, target),
        (call,),
        replicas=_replicas(previous),
        # the containers that must be replaced (none when only the replicas change)
        before=tuple((r.container_id, r.since) for r in running) if changed else (),
        details=spec_diff(spec, previous),
        image=image,
    )
