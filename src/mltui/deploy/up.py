"""`up`: deploy a compose file on the engine mltui watches, building first.

``docker stack deploy`` ignores ``build:``; mltui builds every service that has
one (the classic builder, tagged as its ``image:`` says), then deploys the file
as a swarm stack (the engine is a swarm manager) or a Compose project, then
waits until every service runs the replicas it asks for, or a new task or
container exits (a crashing rollout, named with its error).

:func:`plan_up` checks everything it can before anything changes (the file,
the images that are neither built nor present); :func:`execute_up` runs the
plan. Both reach the engine through the docker CLI with its address passed on.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.engine import EngineError, EngineTarget
from ..core.inventory import Inventory, Service, Snapshot
from ..core.textsafe import safe_text
from .actions import ActionError, Plan, Result, _engine_name, made_by_v1
from .composefile import ComposeError, ComposeFile, load, project_name
from .dockercli import Call, compose_env, docker_argv, find_compose, run_call
from .ports import check_ports
from .stackfiles import remember_deployed

BUILD_TIMEOUT_S = 1800.0
COMPOSE_ENV = "MLTUI_COMPOSE"  # a Compose command line to use instead of the one found


def image_present(target: EngineTarget | None, image: str) -> bool:
    call = Call((*docker_argv(target), "image", "inspect", "--format", "{{.Id}}", image))
    return run_call(call, timeout=60).ok


def _compose_for(
    snapshot: Snapshot, name: str, resolve: Callable[[bool], tuple[str, ...] | None]
) -> tuple[str, ...]:
    """$MLTUI_COMPOSE, else the family that made an existing project of this name,
    else Compose v2, else v1."""
    chosen = os.environ.get(COMPOSE_ENV, "").strip()
    if chosen:
        return tuple(shlex.split(chosen))
    existing = next(
        (s for s in snapshot.stacks if s.name == name and s.kind == "compose" and s.config_files),
        None,
    )
    order = [made_by_v1(existing)] if existing else [False, True]
    for v1 in order:
        found = resolve(v1)
        if found:
            return found
    raise ActionError("no Compose is installed: install docker compose (v2) or docker-compose")


def _is_v1(compose: tuple[str, ...]) -> bool:
    from .dockercli import compose_version

    return compose_version(compose).startswith("1.")


def build_call(target: EngineTarget | None, svc_tags: tuple[str, ...], build: object) -> Call:
    from .composefile import Build

    assert isinstance(build, Build)
    argv = [*docker_argv(target), "build", "--force-rm"]
    for tag in svc_tags:
        argv += ["-t", tag]
    if build.dockerfile:
        argv += ["-f", os.path.join(build.context, build.dockerfile)]
    for key, value in build.args:
        argv += ["--build-arg", f"{key}={value}"]
    if build.target:
        argv += ["--target", build.target]
    argv.append(build.context)
    return Call(tuple(argv), (("DOCKER_BUILDKIT", "0"),))


def plan_up(
    snapshot: Snapshot,
    file: str,
    target: EngineTarget | None = None,
    name: str = "",
    mode: str = "",  # "" (swarm when the engine is a manager) | swarm | compose
    build: bool = True,
    resolve: Callable[[bool], tuple[str, ...] | None] = find_compose,
    present: Callable[[EngineTarget | None, str], bool] = image_present,
    ports: Callable[[ComposeFile, str, str, EngineTarget | None, str], str] = check_ports,
) -> Plan:
    """The builds and the deployment of ``file``. Runs ``docker image inspect`` for
    images that are not built, and checks that no port the file publishes is in use
    (``ports``: the engine's list, and this host's when the engine is local; call it
    from a worker)."""
    try:
        compose = load(file)
    except ComposeError as exc:
        raise ActionError(str(exc)) from None
    project = project_name(name) if name else compose.folder_name
    if name and project != name:
        raise ActionError(
            f"{safe_text(name)!r} is not a stack name: lower case letters, digits, - and _"
        )
    manager = snapshot.engine.swarm == "active" and snapshot.engine.swarm_manager
    engine = _engine_name(snapshot, target)
    if mode == "swarm" and not manager:
        raise ActionError(f"{engine} is not a swarm manager: deploy with --compose")
    kind = mode or ("swarm" if manager else "compose")
    clash = ports(compose, project, kind, target, engine)
    if clash:
        raise ActionError(clash)
    builds: list[Call] = []
    details: list[str] = []
    for svc in compose.services:
        tags = svc.tags(project)
        if svc.build is not None and build:
            if not os.path.isdir(svc.build.context):
                raise ActionError(
                    f"service {svc.name}: its build folder {safe_text(svc.build.context)} does not exist"
                )
            if kind == "swarm" and not svc.image:
                raise ActionError(
                    f"service {svc.name} has a build but no image: docker stack deploy "
                    "needs an image: name to run what was built"
                )
            builds.append(build_call(target, tags, svc.build))
            details.append(f"build {svc.name} as {tags[0]}")
        elif not any(present(target, tag) for tag in tags):
            has = "--no-build was asked" if svc.build is not None else "it has no build"
            raise ActionError(
                f"service {svc.name}: image {safe_text(tags[0])} does not exist on {engine} "
                f"and {has} (nothing is pulled)"
            )
    if kind == "swarm":
        deploy = Call(
            (
                *docker_argv(target),
                "stack",
                "deploy",
                "--resolve-image",
                "never",
                "-c",
                compose.path,
                project,
            )
        )
    else:
        argv = _compose_for(snapshot, project, resolve)
        extra = ("--compatibility",) if _is_v1(argv) else ()  # v1 honours deploy.replicas so
        deploy = Call(
            (*argv, *extra, "-p", project, "-f", compose.path, "up", "-d", "--no-build"),
            compose_env(target),
            os.path.dirname(compose.path),
        )
    return Plan(
        "up",
        project,
        kind,
        engine,
        (*builds, deploy),
        details=tuple(details),
        file=compose.path,
        expect=tuple((s.name, s.replicas) for s in compose.services),
    )


# -- running it -------------------------------------------------------------------
@dataclass
class _Build:
    """What a running build said: the last line, and the lines of the current step."""

    last: str = ""
    step: list[str] | None = None

    def feed(self, line: str) -> None:
        line = safe_text(line.rstrip(), 300)
        if not line:
            return
        if line.startswith("Step ") or self.step is None:
            self.step = []
        self.step.append(line)
        del self.step[:-40]
        self.last = line


def run_build(call: Call, report: Callable[[str], None], who: str) -> Result:
    """Run one ``docker build``, reporting its last output line; on failure the
    failing step's output."""
    seen = _Build()
    env = {**os.environ, **dict(call.env)}
    try:
        proc = subprocess.Popen(
            call.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env=env,
        )
    except OSError as exc:
        return Result(False, f"{who}: {call.argv[0]}: {exc.strerror or exc}")
    assert proc.stdout is not None
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    for line in proc.stdout:
        seen.feed(line)
        if line.strip():
            report(f"{who}: {seen.last}")
        if time.monotonic() > deadline:
            proc.kill()
    code = proc.wait()
    if code == 0:
        return Result(True, f"{who}: done")
    step = "\n".join(seen.step or [seen.last])
    return Result(False, f"{who} failed (exit {code}):\n{step}")


def port_message(output: str, engine: str) -> str:
    """The deploy's error, with a port in use said plainly."""
    lowered = output.lower()
    for marker in ("port is already allocated", "address already in use", "port already in use"):
        if marker in lowered:
            return f"a port the file publishes is already in use on {engine}: {output}"
    return output


def crashed(
    svc: Service,
    since: float,
    restarts_before: int,
    exit_of: Callable[[str], int | None] = lambda _cid: None,
) -> str:
    """Why a service's new tasks or containers are crashing ("" when they are not).
    ``exit_of(container id)`` reads a container's last exit code afresh (a
    container that restarts in place may have been read while it ran)."""
    for rep in svc.replicas:
        fresh = (rep.since or 0) >= since - 1
        failed = rep.state in ("failed", "rejected", "exited", "dead", "complete", "restarting")
        if fresh and failed and (rep.exit_code or rep.error or rep.state != "complete"):
            code = rep.exit_code
            if not code and rep.container_id:
                fresh_code = exit_of(rep.container_id)
                if fresh_code is None and rep.state == "restarting" and not rep.error:
                    # its exit code cannot be read now (gone meanwhile, as Compose v1
                    # replaces it): look again next time rather than name a wrong
                    # "exit code 0" read while it ran
                    continue
                code = fresh_code if fresh_code is not None else code
            why = rep.error or (f"exit code {code}" if code is not None else "")
            return f"{rep.name} {rep.state}" + (f": {why}" if why else "")
        if rep.state == "pending" and rep.error and fresh and "port" in rep.error:
            return f"{rep.name} cannot start: {rep.error}"
    if svc.restarts > restarts_before and (svc.last_error or svc.last_exit):
        why = svc.last_error or f"exit code {svc.last_exit}"
        return f"a new task of {svc.label} exited: {why}"
    return ""


def up_state(
    snapshot: Snapshot,
    plan: Plan,
    since: float,
    restarts: dict[str, int],
    exit_of: Callable[[str], int | None] = lambda _cid: None,
    renewed: frozenset[str] = frozenset(),
) -> tuple[bool, str, str, str]:
    """(done, what is seen, why it failed or "", and the swarm service
    ("stack/service") whose new tasks crash: "" when none, a Compose project has
    no previous spec). A service in ``renewed`` (swarm: its task template
    changed) counts only replicas that started since."""
    found = {
        s.name: s
        for st in snapshot.stacks
        if st.name == plan.target and st.kind == plan.kind
        for s in st.services
    }
    parts = []
    done = True
    for name, want in plan.expect:
        svc = found.get(name)
        have = svc.running if svc else 0
        if svc is not None and name in renewed:
            have = sum(1 for r in svc.replicas if r.running and (r.since or 0) >= since - 1)
        parts.append(f"{name} {have}/{want}")
        if svc is not None:
            why = crashed(svc, since, restarts.get(name, 0), exit_of)
            if why:
                swarm = svc.kind == "swarm"
                back = f" (mltui rollback {svc.label} goes back)" if swarm else ""
                label = svc.label if swarm else ""
                return False, ", ".join(parts), f"crashing rollout: {why}{back}", label
        if svc is None or have < want or (svc.kind == "swarm" and svc.desired != want):
            done = False
    return done, "running: " + ", ".join(parts), "", ""


def _exit_of(inventory: Inventory, container_id: str) -> int | None:
    try:
        state = inventory.engine.inspect_container(container_id).get("State") or {}
    except EngineError:
        return None
    code = state.get("ExitCode") if isinstance(state, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _swarm_specs(inventory: Inventory, stack: str) -> dict[str, Mapping[str, Any]]:
    """The stack's services as the engine has them, by their name in the file."""
    found: dict[str, Mapping[str, Any]] = {}
    for item in inventory.engine.services():
        spec = item.get("Spec")
        spec = spec if isinstance(spec, dict) else {}
        labels = spec.get("Labels")
        labels = labels if isinstance(labels, dict) else {}
        if labels.get("com.docker.stack.namespace") == stack:
            found[str(spec.get("Name", "")).removeprefix(f"{stack}_")] = item
    return found


def _renewed(
    before: dict[str, Mapping[str, Any]], after: dict[str, Mapping[str, Any]]
) -> frozenset[str]:
    """The services whose tasks the deployment replaces: new ones, and those
    whose task template changed (a change of replicas alone replaces none)."""
    names = set()
    for name, item in after.items():
        old = before.get(name)
        spec = item.get("Spec") or {}
        if old is None or (old.get("Spec") or {}).get("TaskTemplate") != spec.get("TaskTemplate"):
            names.add(name)
    return frozenset(names)


UNBEGUN_S = 15.0  # tasks running this long count when swarm shows no update
UPDATE_FAILED = ("paused", "rollback_started", "rollback_paused", "rollback_completed")


def update_verdict(item: Mapping[str, Any], before: Mapping[str, Any] | None) -> str:
    """The state of this up's update of a swarm service: "" while swarm has not
    begun it (no UpdateStatus, or still the one the service had before the
    deploy, told apart by its start time as the engine wrote it: no clock of
    this host is compared with the engine's)."""
    status = item.get("UpdateStatus")
    if not isinstance(status, dict):
        return ""
    old = (before or {}).get("UpdateStatus")
    if isinstance(old, dict) and old.get("StartedAt") == status.get("StartedAt"):
        return ""
    return safe_text(str(status.get("State") or ""), 40)


def _updates(
    inventory: Inventory,
    stack: str,
    names: frozenset[str],
    before: dict[str, Mapping[str, Any]],
) -> tuple[str, str, str]:
    """(what is still waited for: "updating", "unbegun" when swarm shows no
    update of this up yet, or ""; why it failed or ""; the failed service's
    label) for the swarm services ``names`` of ``stack`` whose task template
    this up changed."""
    found = _swarm_specs(inventory, stack)
    waiting = ""
    for name in sorted(names):
        item = found.get(name)
        if item is None:
            continue
        state = update_verdict(item, before.get(name))
        if state in UPDATE_FAILED:
            status = item.get("UpdateStatus")
            said = status.get("Message") if isinstance(status, dict) else ""
            label = f"{stack}/{name}"
            why = f"swarm's update of {label} is {state.replace('_', ' ')}"
            if said:
                why += f": {safe_text(str(said), 300)}"
            return "", f"crashing rollout: {why} (mltui rollback {label} goes back)", label
        if state == "":
            waiting = waiting or "unbegun"
        elif state != "completed":
            waiting = "updating"
    return waiting, "", ""


def execute_up(
    plan: Plan,
    inventory: Inventory,
    report: Callable[[str], None],
    timeout: float,
    detach: bool = False,
) -> Result:
    before = inventory.snapshot()
    restarts = {
        s.name: s.restarts
        for st in before.stacks
        if st.name == plan.target and st.kind == plan.kind
        for s in st.services
    }
    *builds, deploy = plan.calls
    for call in builds:
        tag = call.argv[call.argv.index("-t") + 1]
        report(f"building {tag}: {call.shown}")
        result = run_build(call, report, f"build {tag}")
        if not result.ok:
            return result
    swarm = plan.kind == "swarm"
    specs = _swarm_specs(inventory, plan.target) if swarm else {}
    started = time.time()
    report(f"running: {deploy.shown}")
    outcome = run_call(deploy)
    if not outcome.ok:
        why = port_message(outcome.output, plan.engine)
        return Result(False, f"deploying {plan.target} failed (exit {outcome.code}): {why}")
    remember_deployed(plan, report)  # for `mltui roll --build` (stackfiles.py)
    if detach:
        return Result(True, f"up {plan.target}: deployed (not waited for)")
    # swarm replaces tasks after deploy returns: until then the old ones run
    renewed = _renewed(specs, _swarm_specs(inventory, plan.target)) if swarm else frozenset()
    updated = frozenset(name for name in renewed if name in specs)  # changed, not new
    inventory.invalidate()
    deadline = time.monotonic() + timeout
    seen = ""
    unbegun_since = 0.0
    while True:
        done, text, failed, label = up_state(
            inventory.snapshot(),
            plan,
            started,
            restarts,
            lambda cid: _exit_of(inventory, cid),
            renewed,
        )
        if not failed and updated:
            # swarm's own verdict on a changed service: a task that ran a moment
            # and then crashed can look running to one read; the update is done
            # only once swarm says "completed" (after its monitor period)
            waiting, failed, label = _updates(inventory, plan.target, updated, specs)
            if done and waiting == "unbegun":
                # an engine that never shows the update: the tasks alone decide,
                # once they have run a while
                unbegun_since = unbegun_since or time.monotonic()
                waiting = "" if time.monotonic() - unbegun_since > UNBEGUN_S else waiting
            done = done and not waiting
        if failed:
            return Result(False, f"up {plan.target}: {failed}", crashed=label)
        if text != seen:
            report(text)
            seen = text
        if done:
            return Result(True, f"up {plan.target}: {text}")
        if time.monotonic() >= deadline:
            return Result(False, f"up {plan.target} did not come up in {timeout:.0f}s: {text}")
        time.sleep(0.5)


__all__ = ["ComposeFile", "execute_up", "plan_up", "run_build", "up_state"]
