"""The services table and the engine line above it: widgets of the main screen."""

from __future__ import annotations

from typing import Any

from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.renderables.styled import Styled
from textual.strip import Strip
from textual.widgets import DataTable, Static
from textual.widgets.data_table import CellType, ColumnKey, RowKey

from ..core.engine import EngineInfo
from ..core.inventory.model import Snapshot
from ..core.inventory.times import human_age
from ..core.report import engine_line
from ..core.textsafe import safe_text

_HEADER = RowKey("\0header")  # the header line's place among the kept lines
_BLANK = RowKey("\0blank")  # the lines under the last row, all alike
# A column narrows only to the widest cell it was given over this long: a
# crash-looping replica's state flips between "running" and a long reason every
# few seconds, and a column that followed it would move every column to its
# right and redraw every row each time.
WIDTH_HOLD_S = 60.0


_EMPTY = Text(no_wrap=True, end="")  # what DataTable draws for an empty cell
DRAWN_CONTENTS = 4096  # cell drawings kept by what they show (see _draw_content)


def _cell_width(value: object) -> int:
    """A one-line cell's width in terminal cells (every cell of this table is a Text)."""
    return value.cell_len if isinstance(value, Text) else Text(str(value)).cell_len


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _look(text: Text) -> tuple[str, str, list]:
    """What a cell looks like; rich's Text equality ignores the base style."""
    return text.plain, str(text.style), text.spans


class InventoryTable(DataTable):
    """A keyed table updated in place: rows that left are removed, changed cells
    updated, new rows added, and the order restored, without a clear.

    It keeps the drawn line of each row: DataTable draws every visible row again
    after any cell update (its caches are keyed by a table-wide update count),
    which with usage columns refreshing every interval was most of mltui's CPU.
    A row's line is drawn again only when something it shows changed: its cells
    (a version per row, bumped by every cell update), its place, the widths, the
    scroll, the styles, the focus or the cursor. The row under the mouse (while
    the mouse is over the table) is always drawn by DataTable itself."""

    _refresh_row_only: RowKey | None = None  # an update_cell under way: its row

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drawn_widths: list[int] = []
        self._versions: dict[RowKey, int] = {}  # row -> version of its cells
        self._version = 0  # the last version given
        self._layout = 0  # bumped when every row's line may change (columns, styles)
        self._lines: dict[RowKey, tuple[tuple[Any, ...], Strip]] = {}  # row -> (key, line)
        self._single_height = True  # every row one line high (else no line is kept)
        self._frame: tuple[Any, ...] = ()  # what every line of this frame depends on
        self._places = (0, 0, -2, -2)  # this frame's scroll, header, hover and cursor rows
        self._header: tuple[tuple[Any, ...], Strip] | None = None  # the header's line
        self._blank: tuple[tuple[Any, ...], Strip] | None = None  # a line under the rows
        self._widest: dict[ColumnKey, int] = {}  # widest cell put in each column lately
        # a cell's drawing by what it shows, without the row and column DataTable
        # marks it with: a row whose AGE changed renders one cell again, not eleven,
        # and a crash loop's cells come back to the same few words
        self._contents: LRUCache[tuple[Any, ...], Any] = LRUCache(DRAWN_CONTENTS)
        self._marks: dict[tuple[int, int], Style] = {}  # (row, column) -> that mark

    # -- the versions of the rows' cells ---------------------------------------------
    def _bump(self, row_key: RowKey) -> None:
        self._version += 1
        self._versions[row_key] = self._version

    def add_row(
        self,
        *cells: CellType,
        height: int | None = 1,
        key: str | None = None,
        label: Any = None,
    ) -> RowKey:
        row_key = super().add_row(*cells, height=height, key=key, label=label)
        if height != 1:
            self._single_height = False
        self._bump(row_key)
        return row_key

    def remove_row(self, row_key: RowKey | str) -> None:
        super().remove_row(row_key)
        key = RowKey(row_key) if isinstance(row_key, str) else row_key
        self._versions.pop(key, None)
        self._lines.pop(key, None)

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: CellType,
        *,
        update_width: bool = False,
    ) -> None:
        """As DataTable's, except that ``update_width`` only ever widens the column:
        it narrows in :meth:`narrow_columns`, to what it held over a while."""
        row = RowKey(row_key) if isinstance(row_key, str) else row_key
        col = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        if update_width:
            width = _cell_width(value)
            self._widest[col] = max(self._widest.get(col, 0), width)
            column = self.columns.get(col)
            update_width = column is None or width > column.content_width
        # DataTable refreshes the whole table after a cell update: only its row here
        self._refresh_row_only = row
        try:
            super().update_cell(row_key, column_key, value, update_width=update_width)
        finally:
            self._refresh_row_only = None
        self._bump(row)

    def refresh(self, *regions: Region, **kwargs: Any) -> Any:
        row_key = self._refresh_row_only
        if row_key is None or regions or any(kwargs.get(k) for k in ("layout", "recompose")):
            return super().refresh(*regions, **kwargs)
        index = self._row_locations.get(row_key)
        if index is None:
            return super().refresh(**kwargs)
        if not self._single_height or self.fixed_rows:
            return self.refresh_row(index)
        # the row's region only (when on screen); every row one line high, so its
        # place is its index (DataTable's refresh_row adds up the heights above it)
        header = self.header_height if self.show_header else 0
        widths = sum(c.get_render_width(self) for c in self.columns.values())
        width = max(self.size.width, widths + self._row_label_column_width)
        return self._refresh_region(Region(0, index + header, width, 1))

    def narrow_columns(self) -> bool:
        """Narrow each column wider than its label, the cells it holds and every
        cell put in it since the last call (the caller calls this every
        WIDTH_HOLD_S); True when one narrowed."""
        narrowed = False
        for key, column in self.columns.items():
            if not column.auto_width:
                continue
            cells = (_cell_width(cell) for cell in self.get_column(key))
            width = max(_cell_width(column.label), self._widest.get(key, 0), *cells, 0)
            if width < column.content_width:
                column.content_width = width
                narrowed = True
        self._widest.clear()
        if narrowed:
            # DataTable works the new virtual size out on idle (then watch_virtual_size)
            self._require_update_dimensions = True
            self.check_idle()
        return narrowed

    def add_column(self, *args: Any, **kwargs: Any) -> ColumnKey:
        self._forget_lines()
        return super().add_column(*args, **kwargs)

    def remove_column(self, column_key: ColumnKey | str) -> None:
        self._forget_lines()
        super().remove_column(column_key)

    def clear(self, columns: bool = False) -> Any:
        self._forget_lines()
        self._versions.clear()
        self._widest.clear()
        self._single_height = True
        return super().clear(columns)

    def sort(self, *args: Any, **kwargs: Any) -> Any:
        self._forget_lines()
        return super().sort(*args, **kwargs)

    def notify_style_update(self) -> None:
        self._forget_lines()
        super().notify_style_update()

    def _forget_lines(self) -> None:
        self._layout += 1
        self._lines.clear()
        self._header = None
        self._blank = None
        self._contents.clear()
        self._marks.clear()

    # -- drawing ---------------------------------------------------------------------
    def render_lines(self, crop: Region) -> list[Strip]:
        self._frame = (
            self._layout,
            self.size.width,
            self.scroll_offset.x,
            tuple(c.get_render_width(self) for c in self.columns.values()),
            self.rich_style,
            self.get_pseudo_class_state(),
            self.cursor_type,
            self.show_row_labels,
            self.fixed_columns,
            self.zebra_stripes,
        )
        # the row under the mouse is highlighted only while the mouse is over the
        # table (DataTable drops its hover cursor when the mouse leaves)
        self._places = (
            self.scroll_offset.y,
            self.header_height if self.show_header else 0,
            self.hover_coordinate.row if self.mouse_hover else -2,
            self.cursor_coordinate.row if self.show_cursor else -2,
        )
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        row_key, key = self._line_key(y)
        if row_key is None:
            return super().render_line(y)
        if row_key is _HEADER:
            kept = self._header
        elif row_key is _BLANK:
            kept = self._blank
        else:
            kept = self._lines.get(row_key)
        if kept is not None and kept[0] == key:
            return kept[1]
        strip = super().render_line(y)
        if row_key is _HEADER:
            self._header = (key, strip)
        elif row_key is _BLANK:
            self._blank = (key, strip)
        else:
            self._lines[row_key] = (key, strip)
        return strip

    def _line_key(self, y: int) -> tuple[RowKey | None, tuple[Any, ...]]:
        """The row drawn on line ``y`` of the widget (or _HEADER, or _BLANK under
        the last row) and what its
        line depends on; no row when DataTable should draw the line itself (the
        row under the mouse, rows of several lines, a column cursor)."""
        if not self._single_height or self.fixed_rows or self.cursor_type not in ("row", "none"):
            return None, ()
        if not self._frame:
            return None, ()
        scroll_y, header, hover, cursor = self._places
        if y < header:
            if header != 1 or hover == -1:
                return None, ()  # the mouse over the header highlights a label
            return _HEADER, self._frame
        index = scroll_y + y - header
        if index >= self.row_count:
            return _BLANK, self._frame
        if index == hover:
            return None, ()
        row_key = self.coordinate_to_cell_key(Coordinate(index, 0)).row_key
        version = self._versions.get(row_key)
        if version is None:
            return None, ()
        # the index too: DataTable marks each cell with its row index (for the mouse)
        return row_key, (version, index, index == cursor, *self._frame)

    def reorder(self, keys: list[str]) -> None:
        """Put the rows in the order of ``keys`` (every row's key, once).

        DataTable.sort() sees cells, not row keys, and add_row() appends: the rows
        from the first one out of place on are taken out and added again in order,
        with their cells, height and label; the rows above it stay as they are."""
        placed = [
            self.coordinate_to_cell_key(Coordinate(i, 0)).row_key for i in range(self.row_count)
        ]
        first = next(
            (i for i, (a, b) in enumerate(zip(placed, keys, strict=True)) if a.value != b), None
        )
        if first is None:
            return
        moved: dict[str | None, tuple[list[Any], int | None, Text | None]] = {}
        # the same cells: their version goes with them, and their drawn line (good
        # again if they come back to the same index)
        kept: dict[str | None, tuple[int | None, Any]] = {}
        for key in placed[first:]:
            row = self.rows[key]
            height = None if row.auto_height else row.height
            moved[key.value] = (self.get_row(key), height, row.label)
            kept[key.value] = (self._versions.get(key), self._lines.get(key))
            self.remove_row(key)
        for name in keys[first:]:
            cells, height, label = moved[name]
            row_key = self.add_row(*cells, key=name, height=height, label=label)
            version, line = kept[name]
            if version is not None:
                self._versions[row_key] = version
                if line is not None:
                    self._lines[row_key] = line

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Any,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        """DataTable's cell drawing, kept by what the cell shows (_draw_content):
        DataTable keys its cell cache by a table-wide update count, so one changed
        cell rendered every cell of a changed row again. The header, row labels,
        fixed rows or columns and rows of several lines are left to DataTable."""
        simple = not (self.fixed_rows or self.fixed_columns) and self._single_height
        if simple and row_index >= 0 and column_index >= 0:
            lines = self._draw_content(row_index, column_index, base_style, width, cursor, hover)
            if lines is not None:
                return lines
        return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)

    def _draw_content(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> Any:
        """DataTable's drawing of a one-line Text cell, as DataTable does it (the
        same styles, padding and console), kept by what the cell shows; then
        marked with its row and column as DataTable marks it. None: not such a
        cell, left to DataTable."""
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return None
        value = self._data[row_key][column_key]
        if not isinstance(value, Text) or "\n" in value.plain:
            return None
        shown = value or _EMPTY
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        key = (
            shown.plain,
            str(shown.style),
            tuple(shown.spans),
            shown.justify,
            shown.overflow,
            shown.no_wrap,
            shown.end,
            width,
            base_style,
            component_style,
            post_style,
        )
        drawn = self._contents.get(key)
        if drawn is None:
            options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
            drawn = self.app.console.render_lines(
                Styled(
                    Padding(shown, (0, self.cell_padding)),
                    pre_style=base_style + component_style,
                    post_style=post_style,
                ),
                options,
            )
            self._contents[key] = drawn
        mark = self._marks.get((row_index, column_index))
        if mark is None:
            mark = Style.from_meta({"row": row_index, "column": column_index})
            self._marks[(row_index, column_index)] = mark
        return [
            [
                Segment(text, None if control else (style + mark if style else mark), control)
                for text, style, control in line
            ]
            for line in drawn
        ]

    def watch_virtual_size(self) -> None:
        # DataTable measures new cells on idle, after a frame may already have
        # been drawn (and its lines cached) with the old column widths; the
        # measurement ends by setting virtual_size. When a width changed, drop
        # those cached lines (notify_style_update clears the table's render
        # caches and refreshes) so the frame is drawn again at full width.
        widths = [c.get_render_width(self) for c in self.columns.values()]
        if widths != self._drawn_widths:
            self._drawn_widths = widths
            self.notify_style_update()


class EngineBar(Static):
    """The connection line at the top: where the engine is and what state it is in."""

    def show(self, info: EngineInfo, snapshot: Snapshot | None, now: float) -> None:
        dot = {"connected": "●", "connecting": "◌", "reconnecting": "◌", "down": "○"}.get(
            info.state, "○"
        )
        style = {
            "connected": "green",
            "connecting": "yellow",
            "reconnecting": "yellow",
            "down": "red",
        }.get(info.state, "red")
        text = Text()
        text.append(f" {dot} {info.state} ", style=f"bold {style}")
        text.append(safe_text(engine_line(info) if info.connected else info.target))
        if not info.connected and info.message:
            text.append("  " + safe_text(info.message, 200), style=style)
        if snapshot is not None:
            services = sum(len(s.services) for s in snapshot.stacks)
            stacks = sum(1 for s in snapshot.stacks if s.name)
            text.append(f"   {_count(stacks, 'stack')}, {_count(services, 'service')}", style="dim")
            if not info.connected:
                text.append(f" (as of {human_age(now - snapshot.taken_at)} ago)", style="dim")
        self.set_class(info.state != "connected", "-offline")
        if text != self.content:  # each snapshot shows it again, mostly the same
            self.update(text, layout=False)  # one line high (mltui.tcss): no layout
