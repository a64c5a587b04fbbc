"""Bursts of engine events, coalesced into one refresh that reads only what changed.

A stack deploy, a scale or a crash-looping service sends the engine's event
stream dozens of events a second (create, attach, start, network connect, die,
destroy, ...). Each one used to ask for a full refresh; the :class:`EventCoalescer`
gathers a burst instead: the refresh runs once the stream has been quiet for
``quiet`` seconds after the last event, and never later than ``max_latency``
seconds after the first, so a flood still reaches the screen within that bound.
Under sustained churn (a crash loop, or a slow engine starting containers a
quarter of a second apart) two refreshes are at least ``min_gap`` seconds
apart: what happens meanwhile joins the next one. When bursts keep being held
back by that gap (a crash loop sends a die, a create, a destroy and a start
every few seconds), the gap widens to ``churn_gap``: each burst the gap held
back counts one up (to ``2 * churn_after``), each that came after it was over
one down, and from ``churn_after`` on the gap is wide. A quiet moment inside a
crash loop's cycle does not narrow it at once, and a gap that stays wide a few
bursts after the churn is over delays nothing: those bursts came after it. The latency is at most
``max(max_latency, churn_gap)``; for a single change, ``max_latency``.
What the burst named comes back as :class:`Changes`, which the
:class:`~mltui.core.inventory.reader.Inventory` reads instead of everything:
the containers the events named, and the swarm's services and tasks only when
an event was about the swarm.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .engine_json import SWARM_SERVICE_ID, json_object
from .events import event_changes_engine, event_container_id, event_matters

QUIET_S = 0.1  # the stream quiet this long after an event: refresh
MAX_LATENCY_S = 0.25  # a burst that goes on: refresh this long after its first event anyway
MIN_GAP_S = 1.0  # churn (a scale, a deploy): at most one refresh a second
CHURN_GAP_S = 2.0  # sustained churn (a crash loop): at most one every 2 s (the stats interval)
CHURN_AFTER = 2  # bursts held back by the gap (net): the churn is sustained


@dataclass
class Changes:
    """What a burst of engine events says changed since the last refresh."""

    containers: set[str] = field(default_factory=set)  # ids the events named
    swarm: bool = False  # a service, node or swarm task's container changed: services and tasks
    engine: bool = False  # node or daemon events: the engine's description (/info) too
    everything: bool = False  # what the events name cannot be narrowed: read it all
    events: int = 0

    def merge(self, other: Changes) -> None:
        self.containers |= other.containers
        self.swarm |= other.swarm
        self.engine |= other.engine
        self.everything |= other.everything
        self.events += other.events


def changes_of(event: Mapping[str, Any]) -> Changes | None:
    """What one engine event changes; None for events that change nothing shown."""
    if not event_matters(event):
        return None
    kind = event.get("Type")
    changes = Changes(events=1)
    if kind == "container":
        cid = event_container_id(event)
        if cid is None:
            changes.everything = True
        else:
            changes.containers.add(cid)
            attributes = json_object(json_object(event.get("Actor")).get("Attributes"))
            changes.swarm = bool(attributes.get(SWARM_SERVICE_ID))
    elif kind == "service":
        changes.swarm = True
    elif kind == "node":
        changes.swarm = changes.engine = True
    else:  # daemon events (a reload, a swarm joined or left) and anything unknown
        changes.everything = changes.engine = True
    if event_changes_engine(event):
        changes.engine = True
    return changes


class EventCoalescer:
    """Gathers engine events (from the watcher thread) into bursts that the UI
    thread takes when :meth:`due_in` says the burst is complete."""

    def __init__(
        self,
        quiet: float = QUIET_S,
        max_latency: float = MAX_LATENCY_S,
        min_gap: float = MIN_GAP_S,
        clock: Callable[[], float] = time.monotonic,
        churn_gap: float = CHURN_GAP_S,
        churn_after: int = CHURN_AFTER,
    ) -> None:
        self.quiet = quiet
        self.max_latency = max_latency
        self.min_gap = min_gap
        self.churn_gap = max(churn_gap, min_gap)
        self.churn_after = churn_after
        self._held = 0  # bursts the gap held back, less those it did not (0..2*churn_after)
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: Changes | None = None
        self._first = 0.0
        self._last = 0.0
        self._taken: float | None = None  # when the last burst was taken

    def add(self, event: Mapping[str, Any]) -> bool:
        """Note one event; True when it starts a new burst (the caller then
        schedules a look at :meth:`due_in`)."""
        changes = changes_of(event)
        return changes is not None and self._note(changes)

    def want_everything(self) -> bool:
        """A poll or the user's refresh key: the next refresh reads everything.
        True when this starts a new burst."""
        return self._note(Changes(everything=True))

    def want(self, changes: Changes) -> bool:
        """Read ``changes`` again with the next refresh (a swarm task between
        states, which no event announces); True when this starts a new burst."""
        return self._note(changes)

    def _note(self, changes: Changes) -> bool:
        now = self.clock()
        with self._lock:
            started = self._pending is None
            if self._pending is None:
                self._pending = changes
                self._first = now
            else:
                self._pending.merge(changes)
            self._last = now
            return started

    def due_in(self) -> float | None:
        """Seconds until the pending burst is due (0: now); None when none is pending."""
        with self._lock:
            if self._pending is None:
                return None
            due = min(self._last + self.quiet, self._first + self.max_latency)
            if self._taken is not None:
                due = max(due, self._taken + self.gap)
            return max(0.0, due - self.clock())

    @property
    def gap(self) -> float:
        """The least time between two refreshes now: ``churn_gap`` while the churn
        is sustained, else ``min_gap``."""
        return self.churn_gap if self._held >= self.churn_after else self.min_gap

    def take(self) -> Changes | None:
        """The pending burst (due or not), and start afresh; None when none is pending."""
        with self._lock:
            pending, self._pending = self._pending, None
            if pending is not None:
                # did the gap hold this burst back (it was due before the gap ended)?
                due = min(self._last + self.quiet, self._first + self.max_latency)
                held = self._taken is not None and due < self._taken + self.gap
                step = 1 if held else -1
                self._held = min(2 * self.churn_after, max(0, self._held + step))
                self._taken = self.clock()
            return pending
