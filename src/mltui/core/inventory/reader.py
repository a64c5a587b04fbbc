"""The reader that talks to the engine: snapshots with cached container inspects.

A snapshot costs a constant number of list calls: ``GET /containers/json?all=1``,
and on a swarm manager ``GET /services`` and ``GET /tasks``. What only a
container inspect knows (device requests, runtime, restart count, start time,
last exit code, health) is read once per container and kept until the engine
says the container changed (an event, or a new state in the list), so a
steady engine with 200 containers costs three calls a refresh and no inspects.

A refresh after a burst of events (:class:`~.coalesce.Changes`) reads less: the
containers the events named (one filtered list call, and their inspects), and
the services and tasks only when an event was about the swarm; the rest comes
from the previous read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..engine import Engine, EngineError, EngineInfo, EngineUnavailable
from .builder import build_snapshot
from .coalesce import Changes
from .model import Snapshot

# More containers named than this in one burst: one full list is as cheap.
NARROW_MAX = 40


class Inventory:
    """Takes snapshots from an :class:`Engine`, caching container inspects."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._inspects: dict[str, dict[str, Any]] = {}
        self._seen_state: dict[str, str] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()  # guards _dirty, written from the event thread
        self._snapshot_lock = threading.Lock()
        self._info: EngineInfo | None = None
        # the last lists read, for refreshes that read only what changed
        self._listed: dict[str, dict[str, Any]] | None = None
        self._services: list[dict[str, Any]] = []
        self._tasks: list[dict[str, Any]] = []
        self.full_reads = 0  # snapshots that listed everything
        self.narrow_reads = 0  # snapshots that read only what a burst of events named

    def invalidate(self, container_id: str | None = None) -> None:
        """Forget what an inspect said about one container (or all, with None)."""
        with self._lock:
            if container_id is None:
                self._inspects.clear()
                self._seen_state.clear()
                self._listed = None
            else:
                self._dirty.add(container_id)

    def forget_info(self) -> None:
        """The engine's own description changed (swarm joined/left): read /info again."""
        self._info = None

    def engine_info(self) -> EngineInfo:
        if self._info is None:
            self._info = self.engine.info()
        return self._info

    def set_info(self, info: EngineInfo) -> None:
        """Use a description the caller already read (saves the /info round trip)."""
        self._info = info

    def inspected(self, container_id: str) -> dict[str, Any] | None:
        """The cached inspect of a container (None: not inspected yet); no engine call."""
        return self._inspects.get(container_id)

    def snapshot(self, inspect_new: bool = True, changes: Changes | None = None) -> Snapshot:
        """Raises :class:`EngineUnavailable` when the engine does not answer.

        With ``inspect_new=False`` containers not inspected yet are shown from
        the list alone (no start time, restart count or GPU request): the first
        screen appears after three calls, and the next snapshot fills in.
        With ``changes`` (what a burst of events named) only that is read again,
        when a previous full read can supply the rest.
        Snapshots from several threads are taken one at a time.
        """
        with self._snapshot_lock:
            return self._snapshot(inspect_new, changes)

    def _snapshot(self, inspect_new: bool, changes: Changes | None) -> Snapshot:
        before = sum(self.engine.calls.values())
        before_inspects = self.engine.calls["inspect_container"]
        if changes is not None and changes.engine:
            self._info = None
        if changes is not None:
            with self._lock:
                self._dirty |= changes.containers
        info = self.engine_info()
        manager = info.swarm == "active" and info.swarm_manager
        narrow = self._narrow(changes, manager)
        if narrow is not None:
            containers, services, tasks = narrow
            self.narrow_reads += 1
        else:
            containers, services, tasks = self._read_all(info)
            self.full_reads += 1
        inspects = self._refresh_inspects(containers, inspect_new)
        after = sum(self.engine.calls.values())
        return build_snapshot(
            info,
            containers,
            services,
            tasks,
            inspects,
            now=self.clock(),
            calls=after - before,
            inspect_calls=self.engine.calls["inspect_container"] - before_inspects,
        )

    def _narrow(
        self, changes: Changes | None, manager: bool
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]] | None:
        """The lists with only what ``changes`` names read again; None when a full
        read is needed (nothing read before, or changes that cannot be narrowed)."""
        listed = self._listed
        if (
            changes is None
            or changes.everything
            or listed is None
            or len(changes.containers) > NARROW_MAX
        ):
            return None
        if changes.containers:
            fresh = {str(c.get("Id", "")): c for c in self.engine.containers(changes.containers)}
            for cid in changes.containers:
                listed.pop(cid, None)  # destroyed: not in the answer
            listed.update(fresh)
        if manager and changes.swarm:
            self._read_swarm()
        elif not manager:
            self._services, self._tasks = [], []
        # newest first, as the engine lists them
        containers = sorted(listed.values(), key=lambda c: -_created(c))
        return containers, self._services, self._tasks

    def _read_all(
        self, info: EngineInfo
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        self._listed = None  # stays unset when a read below fails
        containers = self.engine.containers()
        self._services, self._tasks = [], []
        if info.swarm == "active" and info.swarm_manager:
            self._read_swarm()
        self._listed = {str(c.get("Id", "")): c for c in containers}
        return containers, self._services, self._tasks

    def _read_swarm(self) -> None:
        services: list[dict[str, Any]] = []
        tasks: list[dict[str, Any]] = []
        try:
            services = self.engine.services()
            tasks = self.engine.tasks()
        except EngineError as exc:
            if isinstance(exc, EngineUnavailable):
                raise
            # left the swarm since /info was read: read it again next time
            if exc.status == 503:
                self._info = None
                services, tasks = [], []
            else:
                raise
        self._services, self._tasks = services, tasks

    def _refresh_inspects(
        self, containers: list[dict[str, Any]], inspect_new: bool = True
    ) -> dict[str, dict[str, Any]]:
        if not inspect_new:
            listed = {str(c.get("Id", "")) for c in containers}
            return {cid: data for cid, data in self._inspects.items() if cid in listed}
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        live: set[str] = set()
        wanted: list[str] = []
        for entry in containers:
            cid = str(entry.get("Id", ""))
            live.add(cid)
            state = str(entry.get("State", ""))
            if cid not in self._inspects or cid in dirty or self._seen_state.get(cid) != state:
                wanted.append(cid)
            self._seen_state[cid] = state
        for cid in wanted:
            try:
                self._inspects[cid] = self.engine.inspect_container(cid)
            except EngineUnavailable:
                raise
            except EngineError:
                # removed between the list and the inspect: the next list drops it
                self._inspects.pop(cid, None)
        for cid in list(self._inspects):
            if cid not in live:
                del self._inspects[cid]
                self._seen_state.pop(cid, None)
        return dict(self._inspects)


def _created(entry: dict[str, Any]) -> float:
    created = entry.get("Created")
    return float(created) if isinstance(created, (int, float)) else 0.0


class WarmStart:
    """The engine's description and a first, list-only snapshot, read in a thread
    while the UI starts. The command line starts it before it imports the UI framework, so
    the round trips overlap that import instead of following it."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.inventory = Inventory(engine, clock)
        self.found: list[EngineInfo | Snapshot | EngineUnavailable] = []
        self._thread = threading.Thread(target=self._run, name="mltui-connect", daemon=True)

    def start(self) -> WarmStart:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            info = self.engine.info()
            self.inventory.set_info(info)
            self.found.append(info)
            self.found.append(self.inventory.snapshot(inspect_new=False))
        except EngineUnavailable as exc:
            self.found.append(exc)

    def take(self) -> list[EngineInfo | Snapshot | EngineUnavailable]:
        """What it found (waits for it); empty the second time."""
        self._thread.join()
        found, self.found = self.found, []
        return found
