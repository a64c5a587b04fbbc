"""The services table and the engine line above it: widgets of the main screen."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable, Static
from textual.widgets.data_table import CellType, ColumnKey, RowKey

from ..core.engine import EngineInfo
from ..core.inventory.model import Snapshot
from ..core.inventory.times import human_age
from ..core.report import engine_line
from ..core.textsafe import safe_text

_HEADER = RowKey("\0header")  # the header line's place among the kept lines


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
        super().update_cell(row_key, column_key, value, update_width=update_width)
        self._bump(RowKey(row_key) if isinstance(row_key, str) else row_key)

    def add_column(self, *args: Any, **kwargs: Any) -> ColumnKey:
        self._forget_lines()
        return super().add_column(*args, **kwargs)

    def remove_column(self, column_key: ColumnKey | str) -> None:
        self._forget_lines()
        super().remove_column(column_key)

    def clear(self, columns: bool = False) -> Any:
        self._forget_lines()
        self._versions.clear()
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
        kept = self._lines.get(row_key) if row_key is not _HEADER else self._header
        if kept is not None and kept[0] == key:
            return kept[1]
        strip = super().render_line(y)
        if row_key is _HEADER:
            self._header = (key, strip)
        else:
            self._lines[row_key] = (key, strip)
        return strip

    def _line_key(self, y: int) -> tuple[RowKey | None, tuple[Any, ...]]:
        """The row drawn on line ``y`` of the widget (or _HEADER) and what its
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
        if index >= self.row_count or index == hover:
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
        self.update(text)
