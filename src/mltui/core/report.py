"""Rows for the inventory as the table in `mltui ps` and the TUI show it.

One place decides what each column says, so the headless table and the screen
never disagree. Every string that came from the engine goes through
:func:`safe_text` here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .engine import EngineInfo
from .inventory import Replica, Service, Snapshot, Stack, human_age
from .textsafe import safe_text

COLUMNS = ("NAME", "STATE", "READY", "IMAGE", "PORTS", "HEALTH", "RESTARTS", "GPU", "AGE")
NAME_LIMIT = 60
CELL_LIMIT = 48


@dataclass(frozen=True)
class Row:
    key: str  # stable across refreshes: stack:KIND:NAME, svc:KEY, rep:ID
    level: int  # 0 stack, 1 service, 2 replica
    cells: tuple[str, ...]
    state: str  # a word the UI colours by
    note: str = ""  # the last error of a crash-looping service, shown under it
    since: float | None = None  # what the AGE cell counts from

    @property
    def name(self) -> str:
        return self.cells[0]


def _state_word(replica: Replica) -> str:
    state = replica.state
    if replica.state in ("exited", "failed", "dead") and replica.exit_code not in (None, 0):
        return f"{state} ({replica.exit_code})"
    return state


def stack_row(stack: Stack) -> Row:
    running = sum(s.running for s in stack.services)
    desired = sum(s.desired for s in stack.services)
    kind = {"compose": "compose", "swarm": "swarm", "none": ""}[stack.kind]
    title = safe_text(stack.title, NAME_LIMIT)
    bad = sum(1 for s in stack.services if s.state not in ("running", "stopped", "scaled to 0"))
    state = f"{len(stack.services)} svc" + (f", {bad} not ok" if bad else "")
    return Row(
        key=f"stack:{stack.key}",
        level=0,
        cells=(title, state, f"{running}/{desired}", kind, "", "", "", "", ""),
        state="bad" if bad else "ok",
    )


def service_row(svc: Service, now: float) -> Row:
    state = svc.state
    if svc.crashloop and svc.last_exit not in (None, 0):
        state = f"crashloop (exit {svc.last_exit})"
    started = [r.since for r in svc.replicas if r.since and r.running]
    since = min(started) if started else None
    age = human_age(now - since) if since else ""
    health = _health_summary(svc)
    note = (
        safe_text(svc.last_error, 120)
        if (svc.crashloop or svc.state in ("down", "starting", "degraded"))
        else ""
    )
    return Row(
        key=f"svc:{svc.key}",
        level=1,
        cells=(
            safe_text(svc.name, NAME_LIMIT),
            state,
            f"{svc.running}/{svc.desired}",
            safe_text(svc.image, CELL_LIMIT),
            safe_text(", ".join(svc.ports), CELL_LIMIT),
            health,
            str(svc.restarts) if svc.restarts else "",
            safe_text(svc.gpu.summary if svc.gpu else "", CELL_LIMIT),
            age,
        ),
        state=svc.state,
        note=note,
        since=since,
    )


def replica_row(rep: Replica, now: float) -> Row:
    return Row(
        key=f"rep:{rep.key}",
        level=2,
        cells=(
            safe_text(rep.name, NAME_LIMIT),
            _state_word(rep),
            "",
            safe_text(rep.image, CELL_LIMIT),
            safe_text(", ".join(rep.ports), CELL_LIMIT),
            rep.health,
            str(rep.restarts) if rep.restarts else "",
            safe_text(rep.gpu.summary if rep.gpu else "", CELL_LIMIT),
            human_age(now - rep.since) if rep.since else "",
        ),
        state=rep.state,
        note=safe_text(rep.error, 120) if rep.error and not rep.running else "",
        since=rep.since,
    )


def _health_summary(svc: Service) -> str:
    words = [r.health for r in svc.replicas if r.health]
    if not words:
        return ""
    healthy = words.count("healthy")
    if healthy == len(words):
        return "healthy"
    if "unhealthy" in words:
        return f"unhealthy ({words.count('unhealthy')})"
    return f"{healthy}/{len(words)} healthy"


def rows(
    snapshot: Snapshot,
    *,
    replicas: bool = True,
    collapsed: frozenset[str] = frozenset(),
    now: float | None = None,
) -> list[Row]:
    """Flatten a snapshot into display rows, in display order."""
    now = time.time() if now is None else now
    out: list[Row] = []
    for stack in snapshot.stacks:
        srow = stack_row(stack)
        out.append(srow)
        if srow.key in collapsed:
            continue
        for svc in stack.services:
            vrow = service_row(svc, now)
            out.append(vrow)
            if not replicas or vrow.key in collapsed:
                continue
            # a standalone container is its own only replica: no second row
            if svc.kind == "container":
                continue
            out.extend(replica_row(r, now) for r in svc.replicas)
    return out


def engine_line(info: EngineInfo) -> str:
    """The engine in one line: where, which version, swarm state (or why not connected)."""
    if info.state != "connected":
        return f"{info.state}: {info.message}" if info.message else info.state
    swarm = info.swarm + (" (manager)" if info.swarm_manager else "")
    return f"{info.target}  Docker {info.server_version} (API {info.api_version})  swarm: {swarm}"
