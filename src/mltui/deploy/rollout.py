"""Rolling a service onto a new image, and back: what `mltui roll` changes.

Images get unique tags: a build is tagged as its ``image:`` says and as
``REPO:SERVICE-<12 digits of its image id>``, so a rebuild under ``latest``
leaves the old image addressable. Before anything is built the running image is
tagged ``REPO:SERVICE-previous`` (Compose has no previous spec to go back to).

Swarm: ``docker service update --image UNIQUE`` (a rolling update, as the
service's update_config says); back: the ``image:`` name tagged onto the
previous image again, then ``docker service update --rollback``.
Compose: the ``image:`` name is tagged onto the new image, then one container
at a time is stopped and removed and Compose makes its successor (``up -d
--no-deps --no-build --no-recreate --scale SERVICE=N``: the same command on
Compose v1 and v2, and the project's files stay as they are); back: the
``image:`` name onto the previous image, the same way.
Each wait reads the inventory until every replica runs the image (and, with a
healthcheck, is healthy: Compose replaces the next container only then), or
one crashes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..core.engine import EngineError, EngineTarget
from ..core.inventory import Inventory, Service, Snapshot, Stack
from ..core.textsafe import safe_text
from .actions import ActionError, _compose, _compose_base, _service, made_by_v1
from .dockercli import Call, docker_argv, find_compose, run_call, run_output

WAIT_S = 180.0


@dataclass
class Target:
    stack: Stack
    svc: Service
    engine: str
    target: EngineTarget | None
    image_name: str  # Compose: the image: name its containers were made with; swarm: the spec's
    running_id: str  # the image id the replicas run now
    replicas: int


def repo_of(ref: str) -> str:
    """``registry:5000/name:tag`` -> ``registry:5000/name``."""
    ref = ref.split("@", 1)[0]
    head, sep, tail = ref.rpartition(":")
    return head if sep and "/" not in tail else ref


def unique_tag(image_name: str, service: str, image_id: str) -> str:
    digits = image_id.removeprefix("sha256:")[:12]
    return f"{repo_of(image_name)}:{service}-{digits}"


def previous_tag(image_name: str, service: str) -> str:
    return f"{repo_of(image_name)}:{service}-previous"


def image_id(target: EngineTarget | None, ref: str) -> str:
    """The id of image ``ref`` on the engine ("" when there is none)."""
    out = run_output(Call((*docker_argv(target), "image", "inspect", "--format", "{{.Id}}", ref)))
    return out.output.strip() if out.ok else ""


def tag_image(target: EngineTarget | None, source: str, ref: str) -> None:
    out = run_call(Call((*docker_argv(target), "tag", source, ref)))
    if not out.ok:
        raise ActionError(f"tagging {safe_text(ref)} failed: {out.output}")


def _container_image(inventory: Inventory, cid: str) -> tuple[str, str]:
    """(image id, the image name it was made with) of a container."""
    try:
        data = inventory.engine.inspect_container(cid)
    except EngineError:
        return "", ""
    config = data.get("Config") if isinstance(data.get("Config"), dict) else {}
    return str(data.get("Image") or ""), str((config or {}).get("Image") or "")


def find_target(
    snapshot: Snapshot, name: str, inventory: Inventory, target: EngineTarget | None, engine: str
) -> Target:
    stack, svc = _service(snapshot, name)
    if svc.kind == "swarm":
        if svc.mode == "global":
            raise ActionError(f"{svc.label} is a global service: roll it with docker stack deploy")
        current = image_id(target, svc.image)
        return Target(stack, svc, engine, target, svc.image, current, svc.desired)
    live = [r for r in svc.replicas if r.container_id and not r.oneoff]
    if not live:
        raise ActionError(f"{svc.label} has no container: start it before rolling it out")
    running = [r for r in live if r.running] or live
    iid, name_ = _container_image(inventory, running[0].container_id)
    if not iid or not name_:
        raise ActionError(f"the image of {svc.label}'s containers cannot be read")
    return Target(stack, svc, engine, target, name_, iid, max(1, len(running)))


def _find(snapshot: Snapshot, t: Target) -> Service | None:
    for svc in snapshot.services():
        if svc.stack == t.svc.stack and svc.name == t.svc.name and svc.kind == t.svc.kind:
            return svc
    return None


def _compose_fill(t: Target) -> Call:
    """Compose makes the containers the service lacks, from its image: name; the
    ones there stay as they are."""
    compose = _compose(t.stack, find_compose)
    base = _compose_base(t.stack, t.target, compose)
    extra = ("--compatibility",) if made_by_v1(t.stack) else ()
    scale = ("--scale", f"{t.svc.name}={t.replicas}")
    args = ("up", "-d", "--no-deps", "--no-build", "--no-recreate", *scale, t.svc.name)
    return Call((*base.argv[:1], *extra, *base.argv[1:], *args), base.env, base.cwd)


def rollout_calls(t: Target, new_ref: str) -> tuple[Call, ...]:
    """The command lines that put ``t`` on image ``new_ref``."""
    if t.svc.kind == "swarm":
        docker = docker_argv(t.target)
        return (
            Call(
                (
                    *docker,
                    "service",
                    "update",
                    "--detach",
                    "--no-resolve-image",
                    "--with-registry-auth=false",
                    "--image",
                    new_ref,
                    t.svc.full_name,
                )
            ),
        )
    tag = Call((*docker_argv(t.target), "tag", new_ref, t.image_name))
    return (tag, _compose_fill(t))


def rollback_calls(t: Target) -> tuple[Call, ...]:
    """Back to the image that ran before. Swarm: the ``image:`` name is tagged back
    onto it first (a build moved it; the previous spec names it), then swarm's
    rollback to the previous spec."""
    if t.svc.kind == "swarm":
        docker = docker_argv(t.target)
        back = Call((*docker, "tag", previous_tag(t.image_name, t.svc.name), t.image_name))
        undo = Call((*docker, "service", "update", "--rollback", "--detach", t.svc.full_name))
        return (back, undo)
    return rollout_calls(t, previous_tag(t.image_name, t.svc.name))


def _replica_lines(svc: Service, images: dict[str, str], want: str, back: bool) -> str:
    """Each replica: its name, state, and whether it runs the image wanted."""
    parts = []
    on, off = ("previous", "new") if back else ("new", "old")
    for r in sorted(svc.replicas, key=lambda r: (r.slot or 0, r.name)):
        if r.state in ("shutdown", "complete") and r.desired_state in ("shutdown", ""):
            continue
        which = on if images.get(r.key) == want else off
        health = f" ({r.health})" if r.health in ("starting", "unhealthy") else ""
        parts.append(f"{r.name} {r.state}{health} {which}")
    return ", ".join(parts) or "no replica yet"


def _swarm_update_state(inventory: Inventory, t: Target) -> str:
    for item in inventory.engine.services():
        spec = item.get("Spec") if isinstance(item.get("Spec"), dict) else {}
        if (spec or {}).get("Name") == t.svc.full_name:
            status = item.get("UpdateStatus")
            return str(status.get("State") or "") if isinstance(status, dict) else ""
    return ""


def wait_on(
    inventory: Inventory,
    t: Target,
    want_ref: str,
    want_id: str,
    report: Callable[[str], None],
    since: float,
    restarts_before: int,
    timeout: float = WAIT_S,
    rolling_back: bool = False,
    count: int | None = None,
) -> tuple[bool, str]:
    """Wait until every replica of ``t`` runs ``want_id`` (swarm: ``want_ref``), or
    ``count`` of them do; (True, what is seen) or (False, why not: a crash, a
    paused update, time)."""
    from .up import _exit_of, crashed

    deadline = time.monotonic() + timeout
    seen = ""
    inventory.invalidate()
    while True:
        snap = inventory.snapshot()
        svc = _find(snap, t)
        if svc is None:
            return False, f"{t.svc.label} is gone from the engine"
        images: dict[str, str] = {}
        for r in svc.replicas:
            if t.svc.kind == "swarm":
                images[r.key] = want_id if r.image == want_ref else r.image
            elif r.container_id:
                images[r.key] = _container_image(inventory, r.container_id)[0]
        for r in svc.replicas:
            if r.container_id and r.health in ("starting", "unhealthy"):
                inventory.invalidate(r.container_id)  # a cached inspect keeps the old health
        line = _replica_lines(svc, images, want_id, rolling_back)
        if line != seen:
            report(f"replicas: {line}")
            seen = line
        running = [r for r in svc.replicas if r.running]
        # a replica with a healthcheck counts once healthy: Compose replaces the next
        # one only then, so one replica keeps serving
        on_new = [
            r
            for r in running
            if images.get(r.key) == want_id and r.health not in ("starting", "unhealthy")
        ]
        want = t.replicas if t.svc.kind == "compose" else svc.desired
        if on_new and len(on_new) == len(running) == want:
            return True, f"{len(on_new)}/{want} replicas run {safe_text(want_ref)}"
        if count is not None and len(on_new) >= count:
            return True, f"{len(on_new)}/{want} replicas run {safe_text(want_ref)}"
        if not rolling_back:
            why = crashed(svc, since, restarts_before, lambda cid: _exit_of(inventory, cid))
            # a host-mode port the replica being replaced still holds frees when it stops
            if why and not (" cannot start: " in why and "port" in why):
                return False, f"the new replicas crash: {why}"
            if t.svc.kind == "swarm":
                state = _swarm_update_state(inventory, t)
                if state in ("paused", "rollback_started", "rollback_completed"):
                    return False, f"swarm's update of {t.svc.label} is {state.replace('_', ' ')}"
        if time.monotonic() >= deadline:
            return (
                False,
                f"not every replica runs {safe_text(want_ref)} after {timeout:.0f}s: {line}",
            )
        time.sleep(0.5)


def crash_of(inventory: Inventory, t: Target, since: float, restarts_before: int) -> str:
    """Why the replicas started since ``since`` are crashing ("" when they are not)."""
    from .up import _exit_of, crashed

    inventory.invalidate()
    svc = _find(inventory.snapshot(), t)
    if svc is None:
        return f"{t.svc.label} is gone from the engine"
    why = crashed(svc, since, restarts_before, lambda cid: _exit_of(inventory, cid))
    return f"the new replicas crash: {why}" if why else ""


def move(
    inventory: Inventory,
    t: Target,
    ref: str,
    want_id: str,
    report: Callable[[str], None],
    since: float,
    restarts_before: int,
    timeout: float = WAIT_S,
    back: bool = False,
) -> tuple[bool, str]:
    """Put ``t``'s replicas on image ``ref`` (id ``want_id``), or back on the
    previous one, and wait. Swarm rolls the update itself; Compose replaces one
    container at a time: stop and remove one, let Compose make its successor
    from the image: name (now the new image), wait until it runs, the next."""
    calls = rollback_calls(t) if back else rollout_calls(t, ref)
    wait_ref = t.image_name if back and t.svc.kind == "swarm" else ref
    if t.svc.kind == "swarm":
        failed = run_calls(calls, report)
        if failed:
            return False, failed
        return wait_on(
            inventory, t, wait_ref, want_id, report, since, restarts_before, timeout, back
        )
    tag, fill = calls
    failed = run_calls((tag,), report)
    if failed:
        return False, failed
    inventory.invalidate()
    svc = _find(inventory.snapshot(), t)
    old = [
        r
        for r in (svc.replicas if svc else ())
        if r.container_id
        and not r.oneoff
        and _container_image(inventory, r.container_id)[0] != want_id
    ]
    docker = docker_argv(t.target)
    for done, r in enumerate(sorted(old, key=lambda r: (not r.running, r.slot or 0, r.name))):
        cid = r.container_id[:12]
        stop = Call((*docker, "stop", "-t", "10", cid))
        remove = Call((*docker, "rm", "-f", cid))
        failed = run_calls((stop, remove, fill), report)
        if failed:
            return False, failed
        ok, text = wait_on(
            inventory, t, ref, want_id, report, since, restarts_before, timeout, back, done + 1
        )
        if not ok:
            return False, text
    failed = run_calls((fill,), report)  # none was old: the count as it should be
    if failed:
        return False, failed
    return wait_on(inventory, t, ref, want_id, report, since, restarts_before, timeout, back)


def run_calls(calls: tuple[Call, ...], report: Callable[[str], None]) -> str:
    """Run each; "" when all worked, else the failure."""
    for call in calls:
        report(f"running: {call.shown}")
        out = run_call(call)
        if not out.ok:
            return f"{call.shown} failed (exit {out.code}): {out.output}"
    return ""


__all__ = [
    "Target",
    "crash_of",
    "find_target",
    "image_id",
    "move",
    "previous_tag",
    "repo_of",
    "rollback_calls",
    "rollout_calls",
    "run_calls",
    "tag_image",
    "unique_tag",
    "wait_on",
]
