"""`stop` and `start`: a Compose service's containers, or a whole project's,
through ``compose stop|start`` on the project's own files.

Swarm has no stopped service: stopping one is scaling it to 0, which
``mltui scale STACK/SERVICE 0`` does (and scaling back up starts it).
"""

from __future__ import annotations

from collections.abc import Callable

from ..core.engine import EngineTarget
from ..core.inventory import Snapshot, Stack
from ..core.textsafe import safe_text
from .actions import ActionError, Plan, _compose, _compose_base, _engine_name, _service
from .dockercli import Call, find_compose


def _swarm_refusal(verb: str, label: str) -> ActionError:
    hint = f"mltui scale {label} 0" if verb == "stop" else f"mltui scale {label} N"
    return ActionError(
        f"{label} is a swarm service: swarm has no stopped services, "
        f"{verb} means scaling it ({hint})"
    )


def _target(snapshot: Snapshot, name: str) -> tuple[Stack, str]:
    """A whole project (its name) or one service of it ("project/service")."""
    projects = [s for s in snapshot.stacks if s.name == name and s.kind in ("compose", "swarm")]
    if len(projects) == 1:
        return projects[0], ""
    stack, svc = _service(snapshot, name)
    return stack, svc.name


def plan_stop_start(
    snapshot: Snapshot,
    verb: str,
    name: str,
    target: EngineTarget | None = None,
    resolve: Callable[[bool], tuple[str, ...] | None] = find_compose,
) -> Plan:
    if verb not in ("stop", "start"):
        raise ValueError(verb)
    stack, service = _target(snapshot, name)
    label = f"{stack.name}/{service}" if service else stack.name
    if stack.kind == "swarm":
        raise _swarm_refusal(verb, safe_text(label))
    base = _compose_base(stack, target, _compose(stack, resolve))
    args = (verb, service) if service else (verb,)
    call = Call((*base.argv, *args), base.env, base.cwd)
    return Plan(verb, label, "compose", _engine_name(snapshot, target), (call,), service=service)


def plan_stop(
    snapshot: Snapshot,
    name: str,
    target: EngineTarget | None = None,
    resolve: Callable[[bool], tuple[str, ...] | None] = find_compose,
) -> Plan:
    return plan_stop_start(snapshot, "stop", name, target, resolve)


def plan_start(
    snapshot: Snapshot,
    name: str,
    target: EngineTarget | None = None,
    resolve: Callable[[bool], tuple[str, ...] | None] = find_compose,
) -> Plan:
    return plan_stop_start(snapshot, "start", name, target, resolve)


def stop_start_progress(snapshot: Snapshot, plan: Plan) -> tuple[bool, str]:
    project = plan.target.split("/", 1)[0]
    services = [
        svc
        for st in snapshot.stacks
        if st.name == project and st.kind == "compose"
        for svc in st.services
        if not plan.service or svc.name == plan.service
    ]
    if not services:
        return False, f"{plan.target} is gone from the engine"
    replicas = [r for svc in services for r in svc.replicas if not r.oneoff]
    running = sum(1 for r in replicas if r.running)
    if plan.verb == "stop":
        return (
            running == 0,
            "stopped" if not running else f"{running}/{len(replicas)} still running",
        )
    return running == len(replicas), f"{running}/{len(replicas)} running"
