"""A line-virtualised log widget: only the rows on screen are ever rendered.

Lines live in a :class:`~mltui.core.logs.LogBuffer` (stored lines and their
origins); a :class:`~mltui.core.logs.LineFormatter` gives the parts of each (time,
replica name, stream, text) and this widget only lays them out. It keeps, at
most, the absolute numbers of the lines a filter lets through, and turns a line
into a Strip only when its row is on screen (with a small cache). Appending is
list work, so a flood of 100k lines/s costs the UI thread a few milliseconds a
frame.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..core.logs import LineFormatter, LogBuffer, Stream, plain_text

_CACHE = 400


class LogView(ScrollView, can_focus=True):
    """Shows the lines of a LogBuffer, filtered, searched, following the end."""

    def __init__(self, buffer: LogBuffer, names: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.buffer = buffer
        self.names = names  # replica index -> name (shared with the screen)
        self.formatter = LineFormatter(names, timestamps=True, local_time=True)
        self.following = True
        self.new_while_paused = 0
        self.filter: re.Pattern[str] | None = None
        self.only_replica: int | None = None  # source index
        self.search: re.Pattern[str] | None = None
        self.match_line: int | None = None  # absolute number of the current match
        self._visible: array | None = None  # absolute numbers, when filtered
        self._width = 0
        self._cache: LRUCache[int, list[Strip]] = LRUCache(_CACHE)
        self._name_width = 0
        self._auto = False  # True while the view scrolls itself (following)
        self.wrap = False
        self._ends = array("q")  # wrap: cumulative rows up to each shown line
        self._wrap_base = 0
        self._wrap_width = 0

    # -- what is shown -------------------------------------------------------------
    @property
    def filtered(self) -> bool:
        return self.filter is not None or self.only_replica is not None

    @property
    def timestamps(self) -> bool:
        return self.formatter.timestamps

    @timestamps.setter
    def timestamps(self, on: bool) -> None:
        self.formatter.timestamps = on

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
            self._visible = array("q", self.buffer.select(self.filter, self.only_replica))
        else:
            self._visible = None
        self._name_width = self.formatter.name_width()
        self._cache.clear()
        self._width = max(map(len, self.buffer.lines), default=0) + 20
        self._rewrap()
        self._resize()
        if self.following:
            self._stick()
        self.refresh()

    # -- wrapping: each shown line takes one or more rows ----------------------------
    @property
    def prefix_width(self) -> int:
        return self.formatter.stamp_width + self._name_width + 3

    def _body_width(self) -> int:
        return max(8, self.scrollable_content_region.width - self.prefix_width)

    def _rows_of(self, line: str, width: int) -> int:
        body = plain_text(line)
        cells = len(body) if body.isascii() else cell_len(body)
        return max(1, -(-cells // width))

    def _rewrap(self) -> None:
        """Row counts of every shown line (wrap on), from scratch."""
        self._wrap_width = self._body_width()
        self._ends = array("q")
        self._wrap_base = 0
        if not self.wrap:
            return
        self._extend_wrap(range(self.count))

    def _extend_wrap(self, shown: range) -> None:
        buf, width, ends = self.buffer, self._wrap_width, self._ends
        total = ends[-1] if ends else self._wrap_base
        for j in shown:
            total += self._rows_of(buf.lines[self.absolute(j) - buf.first], width)
            ends.append(total)

    @property
    def rows(self) -> int:
        """Rows the shown lines take."""
        if not self.wrap:
            return self.count
        return (self._ends[-1] - self._wrap_base) if self._ends else 0

    def locate(self, row: int) -> tuple[int, int]:
        """(shown line, row within it) of display row ``row``."""
        if not self.wrap:
            return row, 0
        target = self._wrap_base + row
        j = bisect.bisect_right(self._ends, target)
        start = self._ends[j - 1] if j else self._wrap_base
        return j, target - start

    def first_row(self, j: int) -> int:
        if not self.wrap:
            return j
        return (self._ends[j - 1] if j else self._wrap_base) - self._wrap_base

    def _stick(self) -> None:
        """Show the end (following); once the layout knows the view's size."""

        def go() -> None:
            # after the refresh the user may have scrolled away: then it stays put
            if self.following:
                self._scroll_self(self.max_scroll_y)

        if self.size.height:
            go()
        self.call_after_refresh(go)

    def _scroll_self(self, y: float) -> None:
        self._auto = True
        try:
            self.scroll_to(y=max(0, y), animate=False, immediate=True, force=True)
        finally:
            self._auto = False

    def on_resize(self) -> None:
        if self.wrap and self._body_width() != self._wrap_width:
            self._cache.clear()
            self._rewrap()
            self._resize()
        if self.following:
            self._stick()

    def watch_show_horizontal_scrollbar(self, shown: bool) -> None:
        # the scrollbar takes a row without a resize: the last line must stay in view
        if self.following:
            self._stick()

    def _resize(self) -> None:
        if self.wrap:
            self.virtual_size = Size(self.scrollable_content_region.width, self.rows)
        else:
            self.virtual_size = Size(self._width + self._name_width + 16, self.count)

    def appended(self, start: int, dropped: int) -> None:
        """Lines from absolute number ``start`` on are new; ``dropped`` old ones went."""
        buf = self.buffer
        new_lines = buf.lines[start - buf.first :]
        if new_lines:
            self._width = max(self._width, max(map(len, new_lines)))
        name_width = self.formatter.name_width()
        if name_width != self._name_width:
            self._name_width = name_width
            self._cache.clear()
            if self.wrap:
                self._rewrap()
        gone = 0  # shown lines that went
        if self._visible is not None:
            if dropped:
                gone = bisect.bisect_left(self._visible, buf.first)
                del self._visible[:gone]
            before = len(self._visible)
            self._visible.extend(buf.select(self.filter, self.only_replica, start))
            added = len(self._visible) - before
        else:
            gone = min(dropped, len(self._ends)) if self.wrap else dropped
            added = len(new_lines)
        gone_rows = gone
        if self.wrap:
            if gone:
                gone_rows = self._ends[gone - 1] - self._wrap_base
                self._wrap_base = self._ends[gone - 1]
                del self._ends[:gone]
            self._extend_wrap(range(len(self._ends), self.count))
        self._resize()
        if self.following:
            self._stick()
        else:
            self.new_while_paused += added
            if gone_rows:  # keep the same lines under the user's eyes
                self._scroll_self(self.scroll_y - gone_rows)
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

    def set_timestamps(self, on: bool) -> None:
        """Only the prefix changes: redraw what is on screen (rows again if wrapping)."""
        self.timestamps = on
        self._cache.clear()
        if self.wrap:
            self._rewrap()
            self._resize()
            if self.following:
                self._stick()
        self.refresh()

    def set_wrap(self, wrap: bool) -> None:
        self.wrap = wrap
        self.rebuild()
        if not self.following and self.match_line is not None:
            j = self.row_of(self.match_line)
            if j is not None:
                self._scroll_self(self.first_row(j) - self.size.height // 2)

    # -- rendering -----------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        j, sub = self.locate(scroll_y + y)
        if j >= self.count:
            return Strip.blank(width, self.rich_style)
        absolute = self.absolute(j)
        strips = self._cache.get(absolute)
        if strips is None:
            strips = self._strips_of(absolute)
            self._cache[absolute] = strips
        if sub >= len(strips):
            return Strip.blank(width, self.rich_style)
        if self.wrap:
            scroll_x = 0
        style = self.rich_style
        return strips[sub].crop_extend(scroll_x, scroll_x + width, style).apply_style(style)

    def _strips_of(self, absolute: int) -> list[Strip]:
        buf = self.buffer
        parts = self.formatter.parts(buf.line(absolute), buf.origin(absolute), self._name_width)
        stream, body = parts.line.stream, parts.line.text
        console = self.app.console
        prefix = Text(no_wrap=True, end="")
        if parts.stamp:
            prefix.append(parts.stamp + " ", style="dim")
        prefix.append(parts.name, style=parts.colour)
        prefix.append(" │ ", style="dim" if stream != Stream.STDERR else "red")
        if stream == Stream.NOTE:
            text = Text(body, style="italic dim", no_wrap=True, end="")
        elif "\x1b" in body:
            text = _coloured(body, parts.line.plain)
        else:
            text = Text(body, no_wrap=True, end="")
        if self.search is not None:
            style = "black on yellow" if absolute == self.match_line else "reverse"
            for m in self.search.finditer(text.plain):
                if m.end() > m.start():
                    text.stylize(style, m.start(), m.end())
        head = _strip(prefix, console)
        rest = _strip(text, console)
        if not self.wrap:
            return [Strip.join([head, rest])]
        width = self._wrap_width
        cuts = [*range(width, rest.cell_length, width), rest.cell_length]
        pieces = rest.divide(cuts) if rest.cell_length > width else [rest]
        indent = Strip.blank(head.cell_length)
        return [Strip.join([head if k == 0 else indent, p]) for k, p in enumerate(pieces)]

    def clear_cache(self) -> None:
        self._cache.clear()
        self.refresh()

    # -- search ----------------------------------------------------------------------
    def find(self, forward: bool = True) -> int | None:
        """Move to the next (or previous) line that matches the search; its shown index."""
        if self.search is None or self.count == 0:
            return None
        count = self.count
        if self.match_line is not None and (j := self.row_of(self.match_line)) is not None:
            start = j + (1 if forward else -1)
        else:
            top = self.locate(int(self.scroll_y))[0]
            bottom = self.locate(int(self.scroll_y) + self.size.height - 1)[0]
            start = top if forward else min(bottom, count - 1)
        buf = self.buffer
        step = 1 if forward else -1
        for k in range(count):
            j = (start + step * k) % count
            absolute = self.absolute(j)
            if self.search.search(buf.plain(absolute)):
                self.match_line = absolute
                self.pause()
                row = self.first_row(j)
                if not (self.scroll_y <= row < self.scroll_y + self.size.height):
                    self._scroll_self(row - self.size.height // 2)
                self._cache.clear()
                self.refresh()
                return j
        return None

    def visible_lines(self) -> list[tuple[str, int]]:
        """(line, origin) of every line the view shows now (for saving)."""
        return self.buffer.pairs(self._visible)


def _coloured(body: str, plain: str) -> Text:
    """A line's text with its SGR colour; its plain text if Rich cannot read the colour.

    The core hands over only SGR it rebuilt (bounded numbers, no conceal), so the
    fallback is the last guard: one line Rich's parser chokes on (a parameter of
    thousands of digits raised ValueError) shows uncoloured instead of ending the app.
    """
    try:
        text = Text.from_ansi(body, no_wrap=True, end="")
    except Exception:  # any failure of Rich's parser on one line
        return Text(plain, no_wrap=True, end="")
    for span in text.spans:  # never hide text (SGR 8 is removed earlier too)
        if isinstance(span.style, Style) and span.style.conceal:
            text.stylize(Style(conceal=False), span.start, span.end)
    return text


def _strip(text: Text, console: Console) -> Strip:
    segments = [s for s in text.render(console) if s.text != "\n"]
    return Strip(segments or [Segment("")])
