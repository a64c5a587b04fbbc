"""Changing a stack: scale, restart and remove (down) swarm services and stacks
and Compose projects, each first a plan, then run and waited for.

A :class:`Plan` names the target, the engine and the exact docker command lines
(what the confirmation shows and the action log records); :func:`execute` runs
them through :mod:`.dockercli` against the engine mltui watches and then reads
the inventory until the change took effect or a bound passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.engine import EngineTarget, EngineUnavailable
from ..core.inventory import Inventory, Service, Snapshot, Stack
from ..core.logs import find_service
from ..core.textsafe import safe_text
from .dockercli import Call, compose_env, docker_argv, find_compose, run_call, run_output

MAX_REPLICAS = 1000  # more than this is a typo, not a plan
WAIT_S = 180.0


class ActionError(Exception):
    """The action cannot start: one sentence, nothing was changed."""


@dataclass(frozen=True)
class Plan:
    verb: str  # scale | restart | down | up | rollback | stop | start
    target: str  # "stack/service", or the stack or project for down
    kind: str  # swarm | compose
    engine: str  # the engine's address, as mltui shows it
    calls: tuple[Call, ...]
    replicas: int | None = None  # scale: the number asked for
    slot: int | None = None  # restart: the one replica asked for
    # restart: the replicas before, (container id, started at); checked after
    before: tuple[tuple[str, float | None], ...] = field(default=(), compare=False)
    # what the confirmation shows besides the question: rollback's spec diff, up's builds
    details: tuple[str, ...] = ()
    # down --volumes: the named volumes that go too (the second, explicit choice)
    volumes: tuple[str, ...] = ()
    # up: the compose file, and each service with the replicas it should run
    file: str = ""
    expect: tuple[tuple[str, int], ...] = ()
    # stop/start: the one service of a project, "" for the whole project
    service: str = ""
    # rollback: the image the previous spec runs
    image: str = ""

    @property
    def second_question(self) -> str:
        """A second, explicit question, asked after :attr:`question` ("" when none)."""
        if self.volumes:
            return safe_text(
                f"Also delete the volumes {', '.join(self.volumes)} of {self.target}? "
                "Their data is lost for good."
            )
        return ""

    @property
    def commands(self) -> str:
        return "; ".join(c.shown for c in self.calls)

    @property
    def question(self) -> str:
        what = {
            "scale": f"Scale {self.target} on {self.engine} to {self.replicas}?",
            "restart": f"Restart {self.target}"
            + (f" replica {self.slot}" if self.slot is not None else "")
            + f" on {self.engine}?",
            "down": f"Remove {self.target} on {self.engine}"
            + (f" and delete its volumes {', '.join(self.volumes)}" if self.volumes else "")
            + "?",
            "up": f"Deploy {self.file} as {self.kind} "
            + ("stack" if self.kind == "swarm" else "project")
            + f" {self.target} on {self.engine}?",
            "rollback": f"Roll {self.target} on {self.engine} back to its previous spec?",
            "stop": f"Stop {self.target} on {self.engine}?",
            "start": f"Start {self.target} on {self.engine}?",
        }[self.verb]
        more = (" " + "; ".join(self.details) + ".") if self.details else ""
        # a path or a name from outside may hold escapes: one printable line
        return safe_text(f"{what}{more} The equivalent: {self.commands}")


# -- plans ----------------------------------------------------------------------
def _service(snapshot: Snapshot, name: str) -> tuple[Stack, Service]:
    try:
        svc = find_service(snapshot, name)
    except LookupError as exc:
        raise ActionError(f"{exc} on {snapshot.engine.target or 'this engine'}") from None
    stack = next(s for s in snapshot.stacks if svc in s.services)
    if svc.kind not in ("swarm", "compose"):
        raise ActionError(f"{svc.label} is a plain container, not a swarm or Compose service")
    return stack, svc


def _compose_base(stack: Stack, target: EngineTarget | None, compose: tuple[str, ...]) -> Call:
    files: list[str] = []
    for path in stack.config_files:
        files += ["-f", path]
    return Call((*compose, "-p", stack.name, *files), compose_env(target), stack.working_dir)


def made_by_v1(stack: Stack) -> bool:
    """Compose v1 made the project: its version label says 1.x (v2 writes its own
    version, and absolute config_files, which v1 does not)."""
    if stack.compose_version:
        return stack.compose_version.startswith("1.")
    return not all(f.startswith("/") for f in stack.config_files)


def _compose(stack: Stack, resolve: Callable[[bool], tuple[str, ...] | None]) -> tuple[str, ...]:
    if not stack.config_files:
        raise ActionError(
            f"{stack.name} has no com.docker.compose.project.config_files label: "
            "mltui cannot tell which compose files made it"
        )
    v1 = made_by_v1(stack)
    found = resolve(v1)
    if found is None:
        family = "v1 (docker-compose 1.x)" if v1 else "v2 (docker compose)"
        raise ActionError(f"{stack.name} was made by Compose {family}, and none is installed")
    return found


def _engine_name(snapshot: Snapshot, target: EngineTarget | None) -> str:
    return safe_text(target.display if target else snapshot.engine.target or "the engine", 200)


def plan_scale(
    snapshot: Snapshot,
    name: str,
    replicas: int,
    target: EngineTarget | None = None,
    resolve: Callable[[bool], tuple[str, ...] | None] = find_compose,
) -> Plan:
    if replicas < 0:
        raise ActionError(f"cannot scale to {replicas}: a replica count is 0 or more")
    if replicas > MAX_REPLICAS:
        raise ActionError(f"cannot scale to {replicas}: more than {MAX_REPLICAS} is refused")
    stack, svc = _service(snapshot, name)
    if svc.kind == "swarm":
        if svc.mode == "global":
            raise ActionError(f"{svc.label} is a global service: it runs one replica per node")
        call = Call(
            (*docker_argv(target), "service", "scale", "--detach", f"{svc.full_name}={replicas}")
        )
    else:
        base = _compose_base(stack, target, _compose(stack, resolve))
        args = ("up", "-d", "--no-recreate", "--scale", f"{svc.name}={replicas}", svc.name)
        call = Call((*base.argv, *args), base.env, base.cwd)
    return Plan("scale", svc.label, svc.kind, _engine_name(snapshot, target), (call,), replicas)


def plan_restart(
    snapshot: Snapshot, name: str, target: EngineTarget | None = None, replica: int | None = None
) -> Plan:
    _stack, svc = _service(snapshot, name)
    docker = docker_argv(target)
    running = [r for r in svc.replicas if r.running and r.container_id]
    if replica is not None:
        running = [r for r in running if r.slot == replica]
        if not running:
            raise ActionError(f"{svc.label} has no running replica {replica}")
    if not running and (svc.kind != "swarm" or replica is not None):
        raise ActionError(f"{svc.label} has no running replica to restart")
    before = tuple((r.container_id, r.since) for r in running)
    if svc.kind == "swarm" and replica is None:
        calls: tuple[Call, ...] = (
            Call((*docker, "service", "update", "--force", "--detach", svc.full_name)),
        )
    elif svc.kind == "swarm":  # swarm replaces the task whose container stopped
        calls = (Call((*docker, "stop", running[0].container_id[:12])),)
    else:  # Compose: one container at a time
        calls = tuple(Call((*docker, "restart", r.container_id[:12])) for r in running)
    return Plan(
        "restart",
        svc.label,
        svc.kind,
        _engine_name(snapshot, target),
        calls,
        slot=replica,
        before=before,
    )


def project_volumes(target: EngineTarget | None, project: str) -> tuple[str, ...]:
    """The named volumes Compose made for ``project`` (its label says so)."""
    label = f"label=com.docker.compose.project={project}"
    out = run_output(Call((*docker_argv(target), "volume", "ls", "-q", "--filter", label)))
    if not out.ok:
        raise ActionError(f"the volumes of {project} cannot be listed: {out.output}")
    return tuple(sorted(safe_text(v, 200) for v in out.output.split()))


def plan_down(
    snapshot: Snapshot,
    name: str,
    target: EngineTarget | None = None,
    volumes: bool = False,
    resolve: Callable[[bool], tuple[str, ...] | None] = find_compose,
    list_volumes: Callable[[EngineTarget | None, str], tuple[str, ...]] = project_volumes,
) -> Plan:
    """With ``volumes`` the project's named volumes are listed (a docker CLI
    call: run it from a worker) and named in a second question."""
    stacks = [s for s in snapshot.stacks if s.name == name and s.kind in ("swarm", "compose")]
    if not stacks:
        raise ActionError(f"no swarm stack or Compose project named {safe_text(name)!r}")
    if len(stacks) > 1:
        raise ActionError(f"{safe_text(name)!r} is both a swarm stack and a Compose project")
    stack = stacks[0]
    if stack.kind == "swarm":
        if volumes:
            raise ActionError("--volumes is for Compose projects: docker stack rm keeps volumes")
        call = Call((*docker_argv(target), "stack", "rm", stack.name))
    else:
        base = _compose_base(stack, target, _compose(stack, resolve))
        args = ("down", "-v") if volumes else ("down",)
        call = Call((*base.argv, *args), base.env, base.cwd)
    named = list_volumes(target, stack.name) if volumes else ()
    return Plan(
        "down",
        stack.name,
        stack.kind,
        _engine_name(snapshot, target),
        (call,),
        details=("it has no named volumes",) if volumes and not named else (),
        volumes=named,
    )


# -- did it take effect ---------------------------------------------------------
def _find(snapshot: Snapshot, plan: Plan) -> Service | None:
    stack, _, name = plan.target.rpartition("/")
    for svc in snapshot.services():
        if svc.stack == stack and svc.name == name and svc.kind == plan.kind:
            return svc
    return None


def _rollback_progress(svc: Service, plan: Plan) -> tuple[bool, str]:
    running = [r for r in svc.replicas if r.running]
    old = {cid for cid, _ in plan.before}
    stale = [r for r in running if r.container_id in old]
    want = svc.desired if plan.replicas is None else plan.replicas
    wrong = [r for r in running if plan.image and r.image != plan.image]
    done = not stale and not wrong and svc.desired == want and len(running) == want
    on_it = sum(1 for r in running if r.container_id not in old and r not in wrong)
    return done, f"{on_it}/{want} on the previous spec"


def progress(snapshot: Snapshot, plan: Plan) -> tuple[bool, str]:
    """Whether ``plan`` took effect in ``snapshot``, and what is seen (or missing)."""
    if plan.verb in ("stop", "start"):
        from .startstop import stop_start_progress

        return stop_start_progress(snapshot, plan)
    if plan.verb == "down":
        left = [s for s in snapshot.stacks if s.name == plan.target and s.kind == plan.kind]
        count = sum(len(r.replicas) for s in left for r in s.services)
        return not left, "removed" if not left else f"{count} replicas still there"
    svc = _find(snapshot, plan)
    if svc is None:
        return False, f"{plan.target} is gone from the engine"
    running = [r for r in svc.replicas if r.running]
    if plan.verb == "rollback":
        return _rollback_progress(svc, plan)
    if plan.verb == "scale":
        text = f"{len(running)}/{plan.replicas} running"
        return len(running) == plan.replicas and svc.desired == plan.replicas, text
    old = {cid for cid, _ in plan.before}
    started = dict(plan.before)
    if plan.kind == "compose":
        fresh = [r for r in running if r.container_id in old and r.since != started[r.container_id]]
        return len(fresh) == len(old), f"{len(fresh)}/{len(old)} restarted"
    fresh = [r for r in running if r.container_id not in old]
    if plan.slot is not None:
        done = any(r.slot == plan.slot for r in fresh)
        return done, f"replica {plan.slot} " + ("replaced" if done else "not yet replaced")
    stale = [r for r in running if r.container_id in old]
    done = not stale and len(fresh) >= svc.desired
    return done, f"{len(fresh)}/{svc.desired} replaced"


@dataclass(frozen=True)
class Result:
    ok: bool
    message: str
    # False: refused before anything ran (another action holds the target)
    started: bool = True
    # a swarm service ("stack/service") whose new tasks crashed: what a rollback undoes
    crashed: str = ""


def execute(
    plan: Plan,
    inventory: Inventory,
    report: Callable[[str], None],
    timeout: float = WAIT_S,
    detach: bool = False,
) -> Result:
    """Run the plan's command lines in order, then wait (bounded) until the
    inventory shows the change; a failed command stops at once. While it runs
    it holds the target's lock: a second action on the same target, from this
    process or another, is refused (``started`` False) and changes nothing."""
    from .actionlock import Busy, target_lock

    said: list[str] = []  # the last progress line: where it stopped, if the engine goes

    def tell(line: str) -> None:
        said[:] = [line]
        report(line)

    try:
        with target_lock(plan.engine, plan.target, f"{plan.verb} {plan.target}"):
            if plan.verb == "up":
                from .up import execute_up

                return execute_up(plan, inventory, tell, timeout, detach)
            return _execute(plan, inventory, tell, timeout, detach)
    except Busy as exc:
        return Result(False, str(exc), started=False)
    except EngineUnavailable as exc:
        where = f"; it stopped at: {safe_text(said[0], 300)}" if said else ""
        return Result(
            False,
            f"{plan.verb} {plan.target}: the engine went away while it ran ({exc.message}){where}; "
            "what it had done so far stays: look again once the engine answers",
        )


def _execute(
    plan: Plan,
    inventory: Inventory,
    report: Callable[[str], None],
    timeout: float,
    detach: bool,
) -> Result:
    for call in plan.calls:
        report(f"running: {call.shown}")
        outcome = run_call(call)
        if not outcome.ok:
            return Result(False, f"{call.shown} failed (exit {outcome.code}): {outcome.output}")
    if detach:
        return Result(True, f"{plan.verb} {plan.target}: submitted (not waited for)")
    # a container restarted in place keeps its id: its cached inspect (when it
    # started) is stale now
    inventory.invalidate()
    deadline = time.monotonic() + timeout
    seen = ""
    while True:
        done, text = progress(inventory.snapshot(), plan)
        if text != seen:
            report(text)
            seen = text
        if done:
            return Result(True, f"{plan.verb} {plan.target}: {text}")
        if time.monotonic() >= deadline:
            return Result(
                False, f"{plan.verb} {plan.target} did not take effect in {timeout:.0f}s: {text}"
            )
        time.sleep(0.5)
