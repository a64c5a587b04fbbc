"""Which engine events change what the inventory shows, and what changes without one."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ..engine import Backoff
from .engine_json import json_object
from .model import Snapshot


def event_container_id(event: Mapping[str, Any]) -> str | None:
    """The container an engine event is about, if it is about one."""
    if event.get("Type") != "container":
        return None
    actor = json_object(event.get("Actor"))
    cid = actor.get("ID") or event.get("id")
    return str(cid) if cid else None


def event_changes_engine(event: Mapping[str, Any]) -> bool:
    """Node and daemon events can mean the swarm state changed: re-read /info."""
    return event.get("Type") in ("node", "daemon")


# Events that say nothing the inventory shows; everything else triggers a refresh.
QUIET_ACTIONS = (
    "exec_create",
    "exec_start",
    "exec_die",
    "top",
    "attach",
    "resize",
    "export",
    "archive-path",
    "commit",
    "copy",
)


def event_matters(event: Mapping[str, Any]) -> bool:
    action = str(event.get("Action") or event.get("status") or "")
    return not action.startswith(QUIET_ACTIONS)


# Swarm task states on the way to running (or to the end of a task). The engine's
# event stream says nothing when a task moves between them, so while one is shown
# the inventory has to read the task list again to see the move.
TASK_TRANSITIONAL = frozenset(
    {"new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting"}
)
# Desired states that mean "this task is being stopped": a task still running
# with one of them is about to change too.
TASK_ENDING = frozenset({"shutdown", "remove", "complete"})


def tasks_settling(snapshot: Snapshot) -> bool:
    """Whether a swarm replica in ``snapshot`` is between states (see
    :data:`TASK_TRANSITIONAL`): no event will announce where it lands, so the
    caller reads the task list again soon, until this is False. A task the
    scheduler cannot place (pending, with an error) is not counted."""
    for service in snapshot.services():
        if service.kind != "swarm":
            continue
        for replica in service.replicas:
            if replica.state == "pending" and replica.error:
                # "no suitable node": it waits for a change that sends an event of
                # its own (a node joins, another task ends), not for time to pass
                continue
            if replica.state in TASK_TRANSITIONAL:
                return True
            if replica.state == "running" and replica.desired_state in TASK_ENDING:
                return True
    return False


class SettleSchedule:
    """When to read the inventory again while it is still moving and no event will
    say so: a swarm task between states (:func:`tasks_settling`), or the first
    ``after_reconnect`` seconds after a reconnect (an engine that restarted shows
    its old tasks as running until it has stopped them, without an event).

    The delays start at ``first`` and back off to ``maximum`` while the replicas
    between states stay where they are (a slow image pull costs a list call every
    few seconds, no more); they start again from ``first`` when one moves, and
    once everything has settled.
    """

    def __init__(
        self,
        first: float = 1.0,
        maximum: float = 5.0,
        after_reconnect: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.after_reconnect = after_reconnect
        self.clock = clock
        self._backoff = Backoff(first, maximum)
        self._until = 0.0
        self._last: tuple[tuple[str, str, str], ...] = ()
        self._lost = False

    def reconnected(self) -> None:
        self._until = self.clock() + self.after_reconnect
        self._backoff.reset()

    def engine_changed(self, was_connected: bool, connected: bool) -> None:
        """Follow the engine's state: connected again after losing it is a reconnect."""
        if was_connected and not connected:
            self._lost = True
        elif connected and self._lost:
            self._lost = False
            self.reconnected()

    def recovering(self) -> bool:
        """Within ``after_reconnect`` seconds of a reconnect: containers may change
        without an event too, so a check reads everything, not only the tasks."""
        return self.clock() < self._until

    def next_delay(self, snapshot: Snapshot) -> float | None:
        """Seconds until the next read, or None when ``snapshot`` has settled."""
        where = _task_states(snapshot)
        if where != self._last:
            self._backoff.reset()
            self._last = where
        if tasks_settling(snapshot) or self.clock() < self._until:
            return self._backoff.next()
        self._backoff.reset()
        return None


def _task_states(snapshot: Snapshot) -> tuple[tuple[str, str, str], ...]:
    return tuple(
        (r.key, r.state, r.desired_state)
        for s in snapshot.services()
        if s.kind == "swarm"
        for r in s.replicas
    )
