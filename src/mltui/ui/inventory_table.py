"""The services table and the engine line above it: widgets of the main screen."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from ..core.engine import EngineInfo
from ..core.inventory.model import Snapshot
from ..core.inventory.times import human_age
from ..core.report import engine_line
from ..core.textsafe import safe_text


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _look(text: Text) -> tuple[str, str, list]:
    """What a cell looks like; rich's Text equality ignores the base style."""
    return text.plain, str(text.style), text.spans


class InventoryTable(DataTable):
    """A keyed table updated in place: rows that left are removed, changed cells
    updated, new rows added, and the order restored, without a clear."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drawn_widths: list[int] = []

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
        for key in placed[first:]:
            row = self.rows[key]
            height = None if row.auto_height else row.height
            moved[key.value] = (self.get_row(key), height, row.label)
            self.remove_row(key)
        for name in keys[first:]:
            cells, height, label = moved[name]
            self.add_row(*cells, key=name, height=height, label=label)

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
