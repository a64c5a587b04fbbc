"""Which replicas of a service have logs to read, and how each is named."""

from __future__ import annotations

from dataclasses import dataclass

from ..inventory import Replica, Service, Snapshot
from ..textsafe import safe_text

# swarm task states after which a task has (had) a container with logs
_STARTED = frozenset({"starting", "running", "complete", "failed", "shutdown"})


@dataclass(frozen=True)
class LogSource:
    """One replica whose logs can be read."""

    key: str  # container id, or task id when its container is not on this engine
    tag: str  # the replica's name, that each of its lines is marked with: "model.1", "nb"
    kind: str = "container"  # container | task
    running: bool = True
    tty: bool = False

    @property
    def path(self) -> str:
        return f"/{'tasks' if self.kind == 'task' else 'containers'}/{self.key}/logs"


def replica_tag(service: Service, rep: Replica) -> str:
    """The name a replica's lines are marked with: ``service.slot`` for swarm and
    compose replicas, else the container's name (or short id)."""
    if rep.slot is not None and service.kind in ("swarm", "compose"):
        return f"{service.name}.{rep.slot}"
    return rep.name or rep.key[:12]


def sources_of(service: Service, replica: int | None = None) -> list[LogSource]:
    """The readable replicas of ``service`` (all of them, or slot/number ``replica``),
    by slot, oldest first within a slot. Tags are unique: a second replica in the
    same slot (swarm replaced one) gets its short id added."""
    out: list[LogSource] = []
    seen: set[str] = set()
    reps = sorted(
        service.replicas,
        key=lambda r: (r.slot if r.slot is not None else 1 << 30, r.since or 0.0, r.key),
    )
    for rep in reps:
        if replica is not None and rep.slot != replica:
            continue
        if rep.container_id:
            key, kind = rep.container_id, "container"
        elif rep.kind == "task" and rep.key and rep.state in _STARTED:
            key, kind = rep.key, "task"  # its container is on another node
        else:
            continue
        tag = replica_tag(service, rep)
        if tag in seen:
            tag = f"{tag}#{key[:4]}"
        seen.add(tag)
        out.append(LogSource(key=key, tag=tag, kind=kind, running=rep.running))
    return out


def find_service(snapshot: Snapshot, name: str) -> Service:
    """A service by ``name``, ``stack/name``, the engine's full name, or the name
    (or id prefix) of one of its containers. LookupError with the candidates."""
    services = [svc for stack in snapshot.stacks for svc in stack.services]
    exact = [
        svc
        for svc in services
        if name in (svc.name, f"{svc.stack}/{svc.name}", svc.full_name, svc.key)
    ]
    if not exact:
        exact = [
            svc
            for svc in services
            if any(
                name in (r.name, r.key) or (len(name) >= 4 and r.container_id.startswith(name))
                for r in svc.replicas
            )
        ]
    if len(exact) == 1:
        return exact[0]
    if not exact:
        raise LookupError(f"no service or container named {safe_text(name)!r}")
    names = ", ".join(sorted(f"{s.stack}/{s.name}" for s in exact))
    raise LookupError(f"{safe_text(name)!r} names several services: {names}; say which")
