"""The detail under the services table: what the row under the cursor is, in full.

:func:`detail` returns pieces of text, each with a :class:`.report.Tone`; the
screen only joins them in its colours. Every string that came from the engine
is made safe here, once.
"""

from __future__ import annotations

from dataclasses import dataclass

from .engine import EngineInfo
from .inventory.model import GpuRequest, Replica, Service, Snapshot, Stack
from .inventory.times import human_age
from .report import Level, RowId, Tone
from .stats.snapshot import format_bytes
from .textsafe import safe_text

STACK_KINDS = {
    "compose": "compose project",
    "swarm": "swarm stack",
    "none": "containers in no stack",
}


@dataclass(frozen=True)
class Piece:
    text: str
    tone: Tone = Tone.PLAIN


Detail = tuple[Piece, ...]


def stack_of(snapshot: Snapshot, row: RowId) -> Stack | None:
    return next((s for s in snapshot.stacks if s.key == row.stack), None)


def service_of(snapshot: Snapshot, row: RowId) -> Service | None:
    """The service of a service or replica row; None on a stack row or once it is gone."""
    if row.level is Level.STACK:
        return None
    return snapshot.service(row.service)


def replica_of(snapshot: Snapshot, row: RowId) -> Replica | None:
    """The replica of a replica row; None on other rows or once it is gone."""
    svc = service_of(snapshot, row)
    if svc is None or row.level is not Level.REPLICA:
        return None
    return next((r for r in svc.replicas if r.key == row.replica), None)


def row_ids_to(snapshot: Snapshot, service_key: str) -> tuple[RowId, RowId] | None:
    """The rows of a service and of its stack (to unfold the stack and go to it)."""
    for stack in snapshot.stacks:
        if any(s.key == service_key for s in stack.services):
            return RowId(Level.STACK, stack.key), RowId(Level.SERVICE, stack.key, service_key)
    return None


def service_row_ids(snapshot: Snapshot) -> list[RowId]:
    """Every service's row, folded or not."""
    return [
        RowId(Level.SERVICE, stack.key, svc.key)
        for stack in snapshot.stacks
        for svc in stack.services
    ]


def waiting(info: EngineInfo | None) -> Detail:
    """The detail before the first snapshot: connecting, or why the engine is down."""
    if info is not None and not info.connected:
        message = info.message or "connecting to the Docker engine…"
        out = [Piece(safe_text(message, 300), Tone.BAD if info.state == "down" else Tone.WARN)]
        if info.message:
            out.append(
                Piece("\nmltui keeps trying and fills in as soon as the engine answers.", Tone.DIM)
            )
        return tuple(out)
    return (Piece("reading the inventory…", Tone.DIM),)


def detail(snapshot: Snapshot, row: RowId | None, now: float) -> Detail:
    """The detail of the stack, service or replica ``row`` names; empty when it is gone."""
    if row is None:
        return ()
    if row.level is Level.REPLICA:
        rep = replica_of(snapshot, row)
        return _replica(rep, now) if rep is not None else ()
    if row.level is Level.SERVICE:
        svc = service_of(snapshot, row)
        return _service(svc) if svc is not None else ()
    stack = stack_of(snapshot, row)
    return _stack(stack) if stack is not None else ()


def _image_ports_gpu(image: str, ports: tuple[str, ...], gpu: GpuRequest | None) -> list[Piece]:
    out = [Piece("\nimage " + safe_text(image, 120))]
    if ports:
        out.append(Piece("   ports " + safe_text(", ".join(ports), 120)))
    if gpu:
        out.append(Piece("\nGPU request: " + safe_text(gpu.summary, 120), Tone.ACCENT))
    return out


def _replica(rep: Replica, now: float) -> Detail:
    out = [
        Piece(safe_text(rep.name, 120), Tone.TITLE),
        Piece(f"   {rep.kind} {rep.key[:12]}, {rep.state}"),
    ]
    if rep.since:
        out.append(Piece(f" for {human_age(now - rep.since)}"))
    if rep.exit_code not in (None, 0):
        out.append(Piece(f"  exit {rep.exit_code}", Tone.BAD))
    if rep.oom_killed:
        out.append(Piece("\n" + oom_sentence(rep), Tone.BAD))
    out += _image_ports_gpu(rep.image, rep.ports, rep.gpu)
    if rep.error:
        out.append(Piece("\n" + safe_text(rep.error, 300), Tone.BAD))
    return tuple(out)


def oom_sentence(rep: Replica) -> str:
    """What an OOM kill says: OOMKilled, the exit code and the limit it hit."""
    code = rep.exit_code if rep.exit_code not in (None, 0) else 137
    limit = (
        f"its memory limit of {format_bytes(rep.memory_limit)}"
        if rep.memory_limit
        else "the host's memory (no limit set)"
    )
    return f"OOMKilled: the kernel killed it for memory (exit {code}) at {limit}"


def _service(svc: Service) -> Detail:
    out = [
        Piece(safe_text(svc.name, 120), Tone.TITLE),
        Piece(f"   {svc.kind} service, {svc.running}/{svc.desired} running, {svc.state}"),
    ]
    if svc.mode:
        out.append(Piece(f"  ({svc.mode})"))
    out += _image_ports_gpu(svc.image, svc.ports, svc.gpu)
    if svc.restarts:
        out.append(Piece(f"\nrestarts {svc.restarts}", Tone.WARN))
        if svc.last_exit not in (None, 0):
            out.append(Piece(f", last exit code {svc.last_exit}", Tone.WARN))
    if svc.last_error:
        out.append(Piece("\nlast error: " + safe_text(svc.last_error, 300), Tone.BAD))
    killed = next((r for r in svc.replicas if r.oom_killed), None)
    if killed is not None:
        out.append(Piece(f"\n{safe_text(killed.name, 80)}: " + oom_sentence(killed), Tone.BAD))
    return tuple(out)


def _stack(stack: Stack) -> Detail:
    count = len(stack.services)
    out = [
        Piece(safe_text(stack.title, 120), Tone.TITLE),
        Piece(f"   {STACK_KINDS[stack.kind]}, {count} service{'s' if count != 1 else ''}"),
    ]
    if stack.compose_version:
        out.append(Piece(f"  (Compose {safe_text(stack.compose_version, 20)})"))
    if stack.working_dir:
        out.append(Piece("\n" + safe_text(stack.working_dir, 200)))
    out += [Piece("\n" + safe_text(f, 200), Tone.DIM) for f in stack.config_files]
    return tuple(out)
