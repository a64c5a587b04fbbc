"""Rows for the inventory as the table in `mltui ps` and the TUI show it.

One place decides what each column says, so the headless table and the screen
never disagree. Every string that came from the engine goes through
:func:`safe_text` here. A row carries typed values besides its text: which
stack, service or replica it is (:class:`RowId`), READY as ``(have, want)``, and
a :class:`Tone` per cell, so the screen only lays rows out and colours them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum, IntEnum

from .engine import EngineInfo
from .inventory.model import Replica, Service, Snapshot, Stack
from .inventory.times import human_age
from .textsafe import safe_text

COLUMNS = ("NAME", "STATE", "READY", "IMAGE", "PORTS", "HEALTH", "RESTARTS", "GPU", "AGE")
NAME_LIMIT = 60
CELL_LIMIT = 48


class Tone(Enum):
    """How a piece of text should look; the UI picks the colours."""

    PLAIN = "plain"
    OK = "ok"  # running, healthy, all replicas up
    WARN = "warn"  # degraded, some not ready, restarts
    BAD = "bad"  # exited, failed, unhealthy, an error
    ALERT = "alert"  # crash loop, restarting: worse than bad
    BUSY = "busy"  # on its way: starting, pending
    DIM = "dim"  # stopped, created, done, 0/0
    ACCENT = "accent"  # GPU requests, paused
    TITLE = "title"  # the name a detail is about


# the tone of a state word (services, replicas and the stack summary's ok/bad)
STATE_TONES = {
    "running": Tone.OK,
    "ok": Tone.PLAIN,
    "healthy": Tone.OK,
    "crashloop": Tone.ALERT,
    "bad": Tone.WARN,
    "degraded": Tone.WARN,
    "starting": Tone.BUSY,
    "pending": Tone.BUSY,
    "preparing": Tone.BUSY,
    "assigned": Tone.BUSY,
    "restarting": Tone.ALERT,
    "exited": Tone.BAD,
    "failed": Tone.BAD,
    "rejected": Tone.BAD,
    "down": Tone.BAD,
    "dead": Tone.BAD,
    "created": Tone.DIM,
    "stopped": Tone.DIM,
    "shutdown": Tone.DIM,
    "complete": Tone.DIM,
    "paused": Tone.ACCENT,
    "oom-killed": Tone.BAD,
}


class Level(IntEnum):
    STACK = 0
    SERVICE = 1
    REPLICA = 2


@dataclass(frozen=True)
class RowId:
    """Which stack, service or replica a row shows, as the inventory keys them."""

    level: Level
    stack: str  # Stack.key of the stack the row is in
    service: str = ""  # Service.key, on service and replica rows
    replica: str = ""  # Replica.key, on replica rows
    # a swarm replica's slot, on the row of the task meant to run in it: the row
    # keeps its key when swarm replaces that task (a crash loop does every few
    # seconds), so a table updates the row instead of removing and adding one
    place: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """The row's key in a table, stable across refreshes: stack:KIND:NAME,
        svc:KEY, rep:SERVICE#SLOT or rep:ID (an opaque name: read the fields, not
        this)."""
        if self.level is Level.STACK:
            return f"stack:{self.stack}"
        if self.level is Level.SERVICE:
            return f"svc:{self.service}"
        if self.place:
            return f"rep:{self.service}#{self.place}"
        return f"rep:{self.replica}"

    @property
    def folds(self) -> bool:
        """Stacks and services fold; replicas are leaves."""
        return self.level is not Level.REPLICA


@dataclass(frozen=True)
class Row:
    id: RowId
    cells: tuple[str, ...]
    tones: tuple[Tone, ...]  # one per cell
    state: str  # the state word of the service, replica or stack summary (ok | bad)
    ready: tuple[int, int] | None = None  # (have, want): stacks and services
    note: str = ""  # the last error of a crash-looping service, shown under it
    since: float | None = None  # what the AGE cell counts from
    # CPU, MEM (and GPU MEM on a GPU host) after the columns, when stats are on
    # (core/usage.py fills them): text and tone, one per usage column
    usage: tuple[str, ...] = ()
    usage_tones: tuple[Tone, ...] = ()

    @property
    def key(self) -> str:
        return self.id.key

    @property
    def level(self) -> int:
        """0 stack, 1 service, 2 replica."""
        return int(self.id.level)

    @property
    def name(self) -> str:
        return self.cells[0]


def state_tone(state: str) -> Tone:
    return STATE_TONES.get(state, Tone.PLAIN)


def ready_tone(have: int, want: int) -> Tone:
    if have != want:
        return Tone.WARN
    return Tone.OK if want else Tone.DIM


def _health_tone(words: list[str]) -> Tone:
    """The HEALTH cell's tone from the health words of the replicas it sums up."""
    if not words:
        return Tone.PLAIN
    if all(w == "healthy" for w in words):
        return Tone.OK
    if "unhealthy" in words:
        return Tone.BAD
    return Tone.WARN


def _tones(
    state: Tone,
    ready: Tone,
    health: Tone,
    restarts: str,
    gpu: str,
    name: Tone = Tone.PLAIN,
) -> tuple[Tone, ...]:
    """NAME, STATE, READY, IMAGE, PORTS, HEALTH, RESTARTS, GPU, AGE."""
    return (
        name,
        state,
        ready,
        Tone.PLAIN,
        Tone.PLAIN,
        health,
        Tone.WARN if restarts else Tone.PLAIN,
        Tone.ACCENT if gpu else Tone.PLAIN,
        Tone.PLAIN,
    )


def _state_word(replica: Replica) -> str:
    state = replica.state
    if replica.oom_killed and not replica.running:
        # killed for memory: the most common way a notebook "just dies"
        code = f" ({replica.exit_code})" if replica.exit_code not in (None, 0) else ""
        return f"oom-killed{code}"
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
    word = "bad" if bad else "ok"
    return Row(
        id=RowId(Level.STACK, stack.key),
        cells=(title, state, f"{running}/{desired}", kind, "", "", "", "", ""),
        tones=_tones(state_tone(word), ready_tone(running, desired), Tone.PLAIN, "", ""),
        state=word,
        ready=(running, desired),
    )


def _oom_killed(svc: Service) -> Replica | None:
    """A replica killed for memory that keeps the service below its desired count."""
    if svc.running >= svc.desired:
        return None
    return next((r for r in svc.replicas if r.oom_killed and not r.running), None)


def service_row(svc: Service, now: float, stack: str = "") -> Row:
    state = svc.state
    word = svc.state
    killed = _oom_killed(svc)
    if svc.crashloop and killed is not None:
        state = "crashloop (oom-killed)"
    elif svc.crashloop and svc.last_exit not in (None, 0):
        state = f"crashloop (exit {svc.last_exit})"
    elif killed is not None:
        state = word = "oom-killed"
        if killed.exit_code not in (None, 0):
            state += f" ({killed.exit_code})"
    started = [r.since for r in svc.replicas if r.since and r.running]
    since = min(started) if started else None
    age = human_age(now - since) if since else ""
    health = _health_summary(svc)
    note = (
        safe_text(svc.last_error, 120)
        if (svc.crashloop or svc.state in ("down", "starting", "degraded"))
        else ""
    )
    restarts = str(svc.restarts) if svc.restarts else ""
    gpu = safe_text(svc.gpu.summary if svc.gpu else "", CELL_LIMIT)
    return Row(
        id=RowId(Level.SERVICE, stack, svc.key),
        cells=(
            safe_text(svc.name, NAME_LIMIT),
            state,
            f"{svc.running}/{svc.desired}",
            safe_text(svc.image, CELL_LIMIT),
            safe_text(", ".join(svc.ports), CELL_LIMIT),
            health,
            restarts,
            gpu,
            age,
        ),
        tones=_tones(
            state_tone(word),
            ready_tone(svc.running, svc.desired),
            _health_tone([r.health for r in svc.replicas if r.health]),
            restarts,
            gpu,
        ),
        state=svc.state,
        ready=(svc.running, svc.desired),
        note=note,
        since=since,
    )


def replica_row(
    rep: Replica, now: float, stack: str = "", service: str = "", place: str = ""
) -> Row:
    restarts = str(rep.restarts) if rep.restarts else ""
    gpu = safe_text(rep.gpu.summary if rep.gpu else "", CELL_LIMIT)
    return Row(
        id=RowId(Level.REPLICA, stack, service, rep.key, place),
        cells=(
            safe_text(rep.name, NAME_LIMIT),
            _state_word(rep),
            "",
            safe_text(rep.image, CELL_LIMIT),
            safe_text(", ".join(rep.ports), CELL_LIMIT),
            rep.health,
            restarts,
            gpu,
            human_age(now - rep.since) if rep.since else "",
        ),
        tones=_tones(
            state_tone("oom-killed" if rep.oom_killed and not rep.running else rep.state),
            Tone.PLAIN,
            _health_tone([rep.health] if rep.health else []),
            restarts,
            gpu,
            name=Tone.DIM if rep.state in ("shutdown", "complete") else Tone.PLAIN,
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
            vrow = service_row(svc, now, stack.key)
            out.append(vrow)
            if not replicas or vrow.key in collapsed:
                continue
            # a standalone container is its own only replica: no second row
            if svc.kind == "container":
                continue
            places = _places(svc.replicas)
            out.extend(
                replica_row(r, now, stack.key, svc.key, places.get(r.key, "")) for r in svc.replicas
            )
    return out


def _places(replicas: tuple[Replica, ...]) -> dict[str, str]:
    """Replica key -> its slot, for the one swarm task per slot meant to run there
    (desired state running, or ready while swarm waits out a restart delay; the
    first one listed when several are)."""
    places: dict[str, str] = {}
    taken: set[int] = set()
    for rep in replicas:
        meant = rep.desired_state not in ("shutdown", "remove", "complete")
        if rep.kind == "task" and rep.slot is not None and meant and rep.slot not in taken:
            taken.add(rep.slot)
            places[rep.key] = str(rep.slot)
    return places


def engine_line(info: EngineInfo) -> str:
    """The engine in one line: where, which version, swarm state (or why not connected)."""
    if info.state != "connected":
        return f"{info.state}: {info.message}" if info.message else info.state
    swarm = info.swarm + (" (manager)" if info.swarm_manager else "")
    return f"{info.target}  Docker {info.server_version} (API {info.api_version})  swarm: {swarm}"
