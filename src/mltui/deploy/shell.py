"""`shell`: an interactive ``sh`` (``bash`` where the image has it) in one
replica, through ``docker exec -it`` against the engine mltui watches.

:func:`shell_argv` is the command line the TUI runs while suspended (and what
web mode copies for the user to paste, since a browser tab cannot be suspended
into); :func:`probe_shell` asks the container whether it has bash.
"""

from __future__ import annotations

import shlex
import subprocess

from ..core.engine import EngineTarget
from ..core.inventory import Replica, Snapshot
from .actions import ActionError
from .dockercli import Call, docker_argv, run_call


def pick_replica(snapshot: Snapshot, name: str, slot: int | None = None) -> Replica:
    """The running replica ``slot`` of a service (the first running one when
    None), or a loose container by name; ActionError when there is none."""
    from ..core.logs import find_service

    try:
        svc = find_service(snapshot, name)
    except LookupError as exc:
        raise ActionError(f"{exc} on {snapshot.engine.target or 'this engine'}") from None
    running = [r for r in svc.replicas if r.running and r.container_id]
    if slot is not None:
        running = [r for r in running if r.slot == slot]
        if not running:
            raise ActionError(f"{svc.label} has no running replica {slot}")
    if not running:
        remote = any(r.running for r in svc.replicas)
        raise ActionError(
            f"{svc.label} has no running replica on this node"
            if remote
            else f"{svc.label} has no running replica to open a shell in"
        )
    return running[0]


def probe_shell(target: EngineTarget | None, container: str) -> str:
    """``bash`` when the container has it, else ``sh``."""
    call = Call((*docker_argv(target), "exec", container, "sh", "-c", "command -v bash"))
    out = run_call(call, timeout=15)
    return "bash" if out.ok and out.output.strip().endswith("bash") else "sh"


def shell_argv(
    snapshot: Snapshot,
    name: str,
    slot: int | None = None,
    target: EngineTarget | None = None,
    shell: str = "",
) -> tuple[str, ...]:
    """``docker [-H URL] exec -it CONTAINER SHELL``; with no ``shell`` the
    container is asked whether it has bash (call it from a worker)."""
    replica = pick_replica(snapshot, name, slot)
    container = replica.container_id[:12]
    chosen = shell or probe_shell(target, container)
    return (*docker_argv(target), "exec", "-it", container, chosen)


def shell_line(argv: tuple[str, ...]) -> str:
    """The command line as a user pastes it."""
    return shlex.join(argv)


def run_interactive(argv: tuple[str, ...]) -> int:
    """Run ``argv`` on this terminal (the TUI suspended meanwhile); its exit status,
    127 when the docker CLI is not there."""
    try:
        return subprocess.run(list(argv), check=False).returncode
    except OSError:
        return 127
