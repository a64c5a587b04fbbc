"""The logs screen: one replica, or a whole service merged across its replicas."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, Static

from ..core.engine import Engine
from ..core.inventory import Service, Snapshot
from ..core.logs import (
    DEFAULT_MAX_LINES,
    LineFormatter,
    LogBuffer,
    LogSession,
    colour_of,
    sources_of,
)
from ..core.textsafe import safe_text
from .logview import LogView
from .subscreen import SubScreen, back_binding

TAILS: tuple[int | None, ...] = (1000, 10_000, None, 100)
SINCES: tuple[tuple[str, float | None], ...] = (
    ("all", None),
    ("5m", 300.0),
    ("1h", 3600.0),
    ("24h", 86400.0),
)
FRAME_S = 1 / 30  # how often new lines are taken from the session


class LogBar(Static):
    """What is shown and in which state: replicas, tail/since, follow or paused."""


class LogScreen(SubScreen):
    BINDINGS = [
        back_binding("logs"),
        Binding(
            "slash",
            "search",
            "Search",
            tooltip="Search: highlight what matches (a regular expression), n and N move between matches",
            id="logs.search",
        ),
        Binding("n", "next_match", "Next", tooltip="Next match of the search", id="logs.next"),
        Binding(
            "N",
            "previous_match",
            "Previous",
            tooltip="Previous match of the search",
            id="logs.previous",
        ),
        Binding(
            "f",
            "filter",
            "Filter",
            tooltip="Filter: show only the lines that match a regular expression",
            id="logs.filter",
        ),
        Binding(
            "r",
            "replica",
            "Replica",
            tooltip="Show one replica, then the next, then all merged again",
            id="logs.replica",
        ),
        Binding(
            "t",
            "timestamps",
            "Timestamps",
            tooltip="Show or hide the engine's timestamps",
            id="logs.timestamps",
        ),
        Binding(
            "w", "wrap", "Wrap", tooltip="Wrap long lines, or cut them at the edge", id="logs.wrap"
        ),
        Binding(
            "T",
            "tail",
            "Tail",
            tooltip="How many lines of history to read: 1,000, 10,000, all or 100",
            id="logs.tail",
        ),
        Binding(
            "S",
            "since",
            "Since",
            tooltip="From when to read: all, the last 5 minutes, hour or day",
            id="logs.since",
        ),
        Binding(
            "end,G",
            "follow",
            "Follow",
            tooltip="Follow new lines at the end (scrolling up pauses)",
            id="logs.follow",
        ),
        Binding(
            "home,g", "top", "Top", show=False, tooltip="Go to the oldest line kept", id="logs.top"
        ),
        Binding(
            "s",
            "save",
            "Save",
            tooltip="Save the lines shown (filter applied) to a file in the current folder",
            id="logs.save",
        ),
    ]

    def __init__(
        self,
        engine_factory: Callable[[], Engine],
        service: Service,
        replica: int | None = None,
        *,
        max_lines: int = DEFAULT_MAX_LINES,
        save_dir: Path | None = None,
        timestamps: bool = True,
        wrap: bool = False,
    ) -> None:
        super().__init__()
        self.start_timestamps = timestamps
        self.start_wrap = wrap
        self.engine_factory = engine_factory
        self.service = service
        self.replica = replica
        self.max_lines = max_lines
        self.save_dir = save_dir or Path.cwd()
        self.buffer = LogBuffer(max_lines)
        self.names: list[str] = []
        self.tail_choice = 0
        self.since_choice = 0
        self.session: LogSession | None = None
        self._engine: Engine | None = None
        self._prompt: str | None = None  # "search" | "filter" while the input is open
        self.lines_taken = 0
        self._bar_state: tuple | None = None

    @property
    def title_text(self) -> str:
        where = self.service.label
        if self.replica is not None:
            where += f" replica {self.replica}"
        return safe_text(where, 80)

    def compose(self) -> ComposeResult:
        yield LogBar(id="log-bar")
        with Vertical(id="log-body"):
            yield LogView(self.buffer, self.names, id="log-view")
        yield Input(id="log-input", classes="-hidden")
        yield Footer()

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        view = self.view
        view.timestamps = self.start_timestamps
        view.wrap = self.start_wrap
        self._open_session()
        self.set_interval(FRAME_S, self._take)
        view.focus()

    def on_unmount(self) -> None:
        self._close_session()

    # -- the session (core) ---------------------------------------------------------
    def _open_session(self) -> None:
        self._close_session()
        self._engine = self.engine_factory()
        since_s = SINCES[self.since_choice][1]
        self.session = LogSession(
            self._engine,
            sources_of(self.service, self.replica),
            tail=TAILS[self.tail_choice],
            since=None if since_s is None else time.time() - since_s,
            follow=True,
            max_lines=self.max_lines,
        ).start()
        self.buffer.clear()
        self.names[:] = self.session.names()
        self.view.match_line = None
        self.view.rebuild()
        self._show_bar()

    def _close_session(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.close()
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()

    def update_snapshot(self, snapshot: Snapshot, _info: object = None) -> None:
        """The inventory changed: follow replicas that replaced others."""
        svc = snapshot.service(self.service.key)
        if svc is None or self.session is None:
            return
        self.service = svc
        self.session.update(sources_of(svc, self.replica))

    def _take(self) -> None:
        session = self.session
        if session is None:
            return
        chunk = session.take()
        self.names[:] = session.names()
        if chunk.lines or chunk.dropped:
            start = self.buffer.end
            dropped = self.buffer.extend(chunk.lines, chunk.origins)
            self.buffer.first += chunk.dropped  # lines the session could not hand over
            self.lines_taken += len(chunk.lines)
            self.view.appended(start, dropped + chunk.dropped)
        self._show_bar()

    def _show_bar(self) -> None:
        session = self.session
        view = self.view
        state = (
            tuple(self.names),
            tuple(session.state_of(i) for i in range(len(self.names))) if session else (),
            session.loading if session else None,
            view.following,
            view.new_while_paused,
            view.filter,
            view.only_replica,
            view.search,
            view.wrap,
            view.count,
            len(self.buffer),
            self.buffer.dropped,
            self.tail_choice,
            self.since_choice,
        )
        if state == self._bar_state:
            return  # nothing changed: no layout work at the frame rate
        self._bar_state = state
        text = Text()
        text.append(" LOGS ", style="bold reverse")
        text.append(f" {self.title_text} ", style="bold")
        if session is not None:
            for i, name in enumerate(self.names):
                replica_state = session.state_of(i)
                ended = replica_state == "ended"
                style = colour_of(i) + (" dim strike" if ended else "")
                text.append("○ " if ended else "● ", style=style)
                text.append(f"{safe_text(name, 30)} ", style=style)
        tail = TAILS[self.tail_choice]
        text.append(f"· tail {'all' if tail is None else tail} ", style="dim")
        text.append(f"· since {SINCES[self.since_choice][0]} ", style="dim")
        if session is not None and session.loading:
            text.append("· loading… ", style="yellow")
        elif view.following:
            text.append("· following ", style="green")
        else:
            text.append(
                f"· paused, {view.new_while_paused:,} new lines (End to follow) ",
                style="bold yellow",
            )
        if view.filter is not None:
            text.append(f"· filter /{safe_text(view.filter.pattern, 30)}/ ", style="magenta")
        if view.only_replica is not None and view.only_replica < len(self.names):
            text.append(f"· only {safe_text(self.names[view.only_replica], 30)} ", style="magenta")
        if view.search is not None:
            text.append(f"· search /{safe_text(view.search.pattern, 30)}/ ", style="cyan")
        if view.wrap:
            text.append("· wrap ", style="dim")
        shown = f"{view.count:,}" if view.filtered else f"{len(self.buffer):,}"
        text.append(f"· {shown} lines", style="dim")
        if self.buffer.dropped:
            text.append(f" ({self.buffer.dropped:,} older dropped)", style="dim yellow")
        self.query_one(LogBar).update(text)

    # -- actions --------------------------------------------------------------------
    def action_back(self) -> None:
        if self._prompt is not None:
            self._close_prompt()
            return
        super().action_back()

    def _open_prompt(self, kind: str, placeholder: str, value: str) -> None:
        self._prompt = kind
        box = self.query_one("#log-input", Input)
        box.placeholder = placeholder
        box.value = value
        box.remove_class("-hidden")
        self.set_focus(box)  # at once: keys typed right after the key go to the box

    def _close_prompt(self) -> None:
        self._prompt = None
        box = self.query_one("#log-input", Input)
        box.add_class("-hidden")
        self.set_focus(self.view)

    def action_search(self) -> None:
        current = self.view.search.pattern if self.view.search is not None else ""
        self._open_prompt("search", "search (regular expression; plain text works too)", current)

    def action_filter(self) -> None:
        current = self.view.filter.pattern if self.view.filter is not None else ""
        self._open_prompt("filter", "show only lines matching (empty: all lines)", current)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        kind, value = self._prompt, event.value
        self._close_prompt()
        pattern = _compile(value)
        view = self.view
        if kind == "search":
            view.search = pattern
            view.match_line = None
            view.clear_cache()
            if pattern is not None and view.find(forward=False) is None:
                self.notify(
                    f"no line matches {safe_text(value, 60)}", severity="warning", markup=False
                )
        elif kind == "filter":
            view.filter = pattern
            view.rebuild()
        self._show_bar()

    def action_next_match(self) -> None:
        if self.view.search is None:
            self.action_search()
        elif self.view.find(forward=True) is None:
            self.notify("no match", severity="warning")
        self._show_bar()

    def action_previous_match(self) -> None:
        if self.view.search is not None and self.view.find(forward=False) is None:
            self.notify("no match", severity="warning")
        self._show_bar()

    def action_replica(self) -> None:
        view = self.view
        count = len(self.names)
        if count <= 1:
            return
        current = -1 if view.only_replica is None else view.only_replica
        nxt = current + 1
        view.only_replica = None if nxt >= count else nxt
        view.rebuild()
        self._show_bar()

    def action_timestamps(self) -> None:
        self.view.set_timestamps(not self.view.timestamps)

    def action_wrap(self) -> None:
        self.view.set_wrap(not self.view.wrap)
        self._show_bar()

    def action_tail(self) -> None:
        self.tail_choice = (self.tail_choice + 1) % len(TAILS)
        self._open_session()

    def action_since(self) -> None:
        self.since_choice = (self.since_choice + 1) % len(SINCES)
        self._open_session()

    def action_follow(self) -> None:
        self.view.follow()
        self._show_bar()

    def action_top(self) -> None:
        self.view.pause()
        self.view.scroll_home(animate=False)
        self._show_bar()

    def action_save(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self.service.stack}-{self.service.name}")
        path = self.save_dir / f"mltui-logs-{name.strip('_')}-{stamp}.log"
        self._save(path, self.view.visible_lines(), list(self.names))

    @work(thread=True, exit_on_error=False, group="logs-save", description="save the logs view")
    def _save(self, path: Path, lines: list[tuple[str, int]], names: list[str]) -> None:
        # as `mltui logs --timestamps` prints them: the engine's times, no colour
        text = LineFormatter(names, timestamps=True).format_pairs(lines)
        try:
            with path.open("w", encoding="utf-8") as out:
                out.writelines(f"{line}\n" for line in text)
        except OSError as exc:
            self.app.notify(
                f"could not save the logs: {safe_text(str(exc), 300)}",
                severity="error",
                markup=False,
            )
            return
        self.app.notify(f"saved {len(lines):,} lines to {safe_text(str(path), 300)}", markup=False)


def _compile(value: str) -> re.Pattern[str] | None:
    """A regular expression, or the plain text when it is not one; all lower case
    means case-insensitive (as in less and vim's smartcase)."""
    if not value:
        return None
    flags = re.IGNORECASE if value.islower() else 0
    try:
        return re.compile(value, flags)
    except re.error:
        return re.compile(re.escape(value), flags)
