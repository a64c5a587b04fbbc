"""A line-virtualised log widget: only the rows on screen are ever rendered.

Lines live in a :class:`~mltui.core.logs.LogBuffer` (plain strings and a tag per
line); this widget keeps, at most, the absolute numbers of the lines a filter
lets through, and turns a line into a Strip only when its row is on screen
(with a small cache). Appending is list work, so a flood of 100k lines/s costs
the UI thread a few milliseconds a frame.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..core.logs import NOTE, LogBuffer, colour_of
from ..core.logstream import STDERR, TS_LEN, strip_sgr

_CACHE = 400
_LOCAL = datetime.now().astimezone().tzinfo


def local_time(ts: str) -> str:
    """The engine's UTC timestamp as local wall-clock time, to the millisecond."""
    try:
        moment = datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return " " * 12
    return moment.astimezone(_LOCAL).strftime("%H:%M:%S") + "." + ts[20:23]


class LogView(ScrollView, can_focus=True):
    """Shows the lines of a LogBuffer, filtered, searched, following the end."""

    def __init__(self, buffer: LogBuffer, names: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.buffer = buffer
        self.names = names  # tag index -> replica name (shared with the screen)
        self.timestamps = True
        self.following = True
        self.new_while_paused = 0
        self.filter: re.Pattern[str] | None = None
        self.only_replica: int | None = None  # source index
        self.search: re.Pattern[str] | None = None
        self.match_line: int | None = None  # absolute number of the current match
        self._visible: array | None = None  # absolute numbers, when filtered
        self._width = 0
        self._cache: OrderedDict[int, Strip] = OrderedDict()
        self._tag_width = 0
        self._auto = False  # True while the view scrolls itself (following)

    # -- what is shown -------------------------------------------------------------
    @property
    def filtered(self) -> bool:
        return self.filter is not None or self.only_replica is not None

    def _passes(self, line: str, tag: int) -> bool:
        if self.only_replica is not None and tag >> 2 != self.only_replica:
            return False
        return self.filter is None or bool(self.filter.search(strip_sgr(line[TS_LEN + 1 :])))

    @property
    def count(self) -> int:
        return len(self._visible) if self._visible is not None else len(self.buffer)

    def absolute(self, row: int) -> int:
        if self._visible is not None:
            return self._visible[row]
        return self.buffer.first + row

    def row_of(self, absolute: int) -> int | None:
        if self._visible is None:
            row = absolute - self.buffer.first
            return row if 0 <= row < len(self.buffer) else None
        i = bisect.bisect_left(self._visible, absolute)
        return i if i < len(self._visible) and self._visible[i] == absolute else None

    def rebuild(self) -> None:
        """After a filter or a display option changed: recompute and redraw all."""
        if self.filtered:
            buf = self.buffer
            self._visible = array(
                "q",
                (
                    buf.first + i
                    for i, (line, tag) in enumerate(zip(buf.lines, buf.tags, strict=True))
                    if self._passes(line, tag)
                ),
            )
        else:
            self._visible = None
        self._tag_width = max((len(n) for n in self.names), default=0)
        self._cache.clear()
        self._width = max((len(line) for line in self.buffer.lines), default=0) + 20
        self._resize()
        if self.following:
            self._stick()
        self.refresh()

    def _stick(self) -> None:
        """Show the end (following); once the layout knows the view's size."""

        def go() -> None:
            self._auto = True
            try:
                self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
            finally:
                self._auto = False

        if self.size.height:
            go()
        self.call_after_refresh(go)

    def on_resize(self) -> None:
        if self.following:
            self._stick()

    def _resize(self) -> None:
        self.virtual_size = Size(self._width + self._tag_width + 16, self.count)

    def appended(self, start: int, dropped: int) -> None:
        """Lines from absolute number ``start`` on are new; ``dropped`` old ones went."""
        buf = self.buffer
        new_lines = buf.lines[start - buf.first :]
        if new_lines:
            self._width = max(self._width, max(map(len, new_lines)))
        tag_width = max((len(n) for n in self.names), default=0)
        if tag_width != self._tag_width:
            self._tag_width = tag_width
            self._cache.clear()
        gone_rows = 0
        if self._visible is not None:
            if dropped:
                gone_rows = bisect.bisect_left(self._visible, buf.first)
                del self._visible[:gone_rows]
            before = len(self._visible)
            offset = start - buf.first
            for i, (line, tag) in enumerate(
                zip(new_lines, buf.tags[offset:], strict=True), start=start
            ):
                if self._passes(line, tag):
                    self._visible.append(i)
            added = len(self._visible) - before
        else:
            gone_rows = dropped
            added = len(new_lines)
        if gone_rows:
            self._cache.clear()
        self._resize()
        if self.following:
            self._stick()
        else:
            self.new_while_paused += added
            if gone_rows:  # keep the same lines under the user's eyes
                self._auto = True
                try:
                    self.scroll_to(
                        y=max(0, self.scroll_y - gone_rows), animate=False, immediate=True
                    )
                finally:
                    self._auto = False
        self.refresh()

    def follow(self) -> None:
        self.following = True
        self.new_while_paused = 0
        self._stick()

    def pause(self) -> None:
        if self.following:
            self.following = False
            self.new_while_paused = 0

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._auto:
            return
        # the user scrolled: up pauses, back down to the end follows again (no
        # scrolling from here: this may run inside a scroll animation's step)
        if new >= self.max_scroll_y:
            self.following = True
            self.new_while_paused = 0
        elif new < old:
            self.pause()

    # -- rendering -----------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.scrollable_content_region.width
        if row >= self.count:
            return Strip.blank(width, self.rich_style)
        absolute = self.absolute(row)
        strip = self._cache.get(absolute)
        if strip is None:
            strip = self._render(absolute)
            self._cache[absolute] = strip
            if len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _render(self, absolute: int) -> Strip:
        buf = self.buffer
        i = absolute - buf.first
        line, tag = buf.lines[i], buf.tags[i]
        index, stream = tag >> 2, tag & 3
        name = self.names[index] if index < len(self.names) else "?"
        body = line[TS_LEN + 1 :]
        text = Text(no_wrap=True, end="")
        if self.timestamps:
            text.append(local_time(line[:TS_LEN]) + " ", style="dim")
        text.append(name.ljust(self._tag_width), style=colour_of(index))
        text.append(" │ ", style="dim" if stream != STDERR else "red")
        if stream == NOTE:
            text.append(body, style="italic dim")
        elif "\x1b" in body:
            coloured = Text.from_ansi(body, no_wrap=True, end="")
            for span in coloured.spans:  # never hide text (SGR 8 is removed earlier too)
                if isinstance(span.style, Style) and span.style.conceal:
                    coloured.stylize(Style(conceal=False), span.start, span.end)
            text.append_text(coloured)
        else:
            text.append(body)
        if self.search is not None:
            start = len(text) - len(strip_sgr(body)) if stream != NOTE else len(text) - len(body)
            style = "black on yellow" if absolute == self.match_line else "reverse"
            for m in self.search.finditer(text.plain, start):
                if m.end() > m.start():
                    text.stylize(style, m.start(), m.end())
        segments = list(text.render(self.app.console))
        return Strip([s for s in segments if s.text != "\n"] or [Segment("")])

    def clear_cache(self) -> None:
        self._cache.clear()
        self.refresh()

    # -- search ----------------------------------------------------------------------
    def find(self, forward: bool = True) -> int | None:
        """Move to the next (or previous) line that matches the search; its row."""
        if self.search is None or self.count == 0:
            return None
        rows = self.count
        if self.match_line is not None and (row := self.row_of(self.match_line)) is not None:
            start = row + (1 if forward else -1)
        else:
            start = int(self.scroll_y) if forward else int(self.scroll_y) + self.size.height - 1
        buf = self.buffer
        step = 1 if forward else -1
        for k in range(rows):
            row = (start + step * k) % rows
            absolute = self.absolute(row)
            if self.search.search(strip_sgr(buf.lines[absolute - buf.first][TS_LEN + 1 :])):
                self.match_line = absolute
                self.pause()
                if not (self.scroll_y <= row < self.scroll_y + self.size.height):
                    self._auto = True
                    try:
                        self.scroll_to(
                            y=max(0, row - self.size.height // 2), animate=False, immediate=True
                        )
                    finally:
                        self._auto = False
                self._cache.clear()
                self.refresh()
                return row
        return None

    def visible_lines(self) -> list[tuple[str, int]]:
        """(line, tag) of every line the view shows now (for saving)."""
        buf = self.buffer
        if self._visible is None:
            return list(zip(buf.lines, buf.tags, strict=True))
        return [(buf.lines[a - buf.first], buf.tags[a - buf.first]) for a in self._visible]
