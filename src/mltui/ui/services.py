"""The main screen: every stack, service and replica on the engine."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ..core.detail import (
    Detail,
    detail,
    replica_of,
    row_ids_to,
    service_of,
    service_row_ids,
    waiting,
)
from ..core.engine import EngineInfo
from ..core.inventory.model import Service, Snapshot
from ..core.inventory.times import human_age
from ..core.report import COLUMNS, Level, Row, Tone, engine_line, rows
from ..core.textsafe import safe_text
from .requests import OpenGpu, OpenLogs, OpenNotebooks, OpenPredict, app_state

# the colour of each tone core gives a cell or a piece of the detail
TONE_STYLES = {
    Tone.PLAIN: "",
    Tone.OK: "green",
    Tone.WARN: "yellow",
    Tone.BAD: "red",
    Tone.ALERT: "bold red",
    Tone.BUSY: "cyan",
    Tone.DIM: "dim",
    Tone.ACCENT: "magenta",
    Tone.TITLE: "bold",
}


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _detail_text(pieces: Detail) -> Text:
    text = Text()
    for piece in pieces:
        text.append(piece.text, style=TONE_STYLES[piece.tone])
    return text


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


# under this many columns the table drops IMAGE, PORTS and RESTARTS (shown below it)
NARROW = 120
COMPACT_COLUMNS = ("NAME", "STATE", "READY", "HEALTH", "GPU", "AGE")


class ServicesScreen(Screen):
    # how often the AGE column is brought up to date (no engine call: local arithmetic)
    AGE_TICK_S = 5.0
    BINDINGS = [
        Binding(
            "enter",
            "toggle_row",
            "Fold/unfold",
            tooltip="Fold or unfold the stack or service under the cursor (or click it)",
            id="services.toggle",
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Read the inventory again now; it also updates by itself on engine events",
            id="services.refresh",
        ),
        Binding(
            "minus",
            "collapse_all",
            "Fold all",
            show=False,
            tooltip="Fold every service to one row",
            id="services.collapse_all",
        ),
        Binding(
            "plus,equals_sign",
            "expand_all",
            "Unfold all",
            show=False,
            tooltip="Unfold every stack and service",
            id="services.expand_all",
        ),
        Binding(
            "g",
            "goto",
            "Go to service",
            show=False,
            tooltip="Go to a service by name, through the command palette",
            id="services.goto",
        ),
        Binding(
            "l",
            "logs",
            "Logs",
            tooltip="Logs of the service under the cursor, every replica merged in time order; on a replica row, of that replica",
            id="services.logs",
        ),
        Binding(
            "j",
            "jupyter",
            "Notebooks",
            tooltip="Jupyter URLs with token: of the notebook under the cursor, else of every notebook",
            id="services.jupyter",
        ),
        Binding(
            "p",
            "predict",
            "Predict",
            tooltip="Send a folder of test images to the model server under the cursor",
            id="services.predict",
        ),
        Binding(
            "G",
            "gpu",
            "GPU",
            tooltip="GPUs on the host (NVML), the engine's runtimes and a verdict per service",
            id="services.gpu",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.compact = False  # under NARROW columns: image and ports only below the table
        self._cols = list(range(len(COLUMNS)))
        self.collapsed: set[str] = set()
        self.snapshot: Snapshot | None = None
        self.info: EngineInfo | None = None
        self._rows: dict[str, Row] = {}  # what each table row shows, by key
        self._shown: dict[str, list[Text]] = {}  # the cells as rendered, to diff against
        self._order: list[str] = []

    def compose(self) -> ComposeResult:
        yield EngineBar(id="engine-bar")
        with Vertical(id="body"):
            table = InventoryTable(id="inventory", cursor_type="row", zebra_stripes=False)
            table.add_columns(*COLUMNS)
            yield table
            yield Static(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(self.AGE_TICK_S, self._tick_ages)
        self.query_one(InventoryTable).focus()
        self._fit(self.app.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        """Under NARROW columns the table keeps NAME, STATE, READY, HEALTH, GPU and AGE;
        image, ports and restarts are in the detail below, so no column is cut."""
        compact = 0 < width < NARROW
        if compact == self.compact:
            return
        self.compact = compact
        self._cols = [i for i, c in enumerate(COLUMNS) if not compact or c in COMPACT_COLUMNS]
        table = self.table
        cursor = self.cursor_key()
        with self.app.batch_update():
            table.clear(columns=True)
            table.add_columns(*(COLUMNS[i] for i in self._cols))
            self._rows.clear()
            self._shown.clear()
            self._order = []
            self._render_rows()
            if cursor is not None and cursor in self._rows:
                table.move_cursor(row=table.get_row_index(cursor), animate=False)

    def now(self) -> float:
        return app_state(self.app).clock()

    @property
    def table(self) -> InventoryTable:
        return self.query_one(InventoryTable)

    # -- data in -------------------------------------------------------------------
    def _torn_down(self) -> bool:
        """True while the app is closing: the screen's widgets are gone, and a
        message from an engine worker may still arrive."""
        return not self.query(EngineBar)

    def show_engine(self, info: EngineInfo) -> None:
        self.info = info
        if self._torn_down():
            return
        self.query_one(EngineBar).show(info, self.snapshot, self.now())
        self.set_class(not info.connected, "-offline")
        if self.snapshot is None:
            self._update_detail()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        if self._torn_down():
            return
        if self.info is not None:
            self.query_one(EngineBar).show(self.info, snapshot, self.now())
        self._render_rows()

    def _render_rows(self) -> None:
        if self.snapshot is None:
            return
        table = self.table
        new_rows = rows(self.snapshot, collapsed=frozenset(self.collapsed), now=self.now())
        cursor_key = self.cursor_key()
        new_keys = [r.key for r in new_rows]
        new_map = {r.key: r for r in new_rows}
        with self.app.batch_update():
            for key in list(self._rows):
                if key not in new_map:
                    table.remove_row(key)
                    del self._rows[key]
                    del self._shown[key]
            for row in new_rows:
                self._apply_row(row)
            if new_keys != self._order:
                table.reorder(new_keys)
                self._order = new_keys
            self._restore_cursor(cursor_key, new_keys)
        self._update_detail()

    def _apply_row(self, row: Row) -> None:
        """Add the row, or update just the cells whose text or style changed."""
        table = self.table
        every = self._cells(row)
        cells = [every[i] for i in self._cols]
        shown = self._shown.get(row.key)
        if shown is None:
            table.add_row(*cells, key=row.key)
        else:
            column_keys = list(table.columns)
            for col, (before, after) in enumerate(zip(shown, cells, strict=True)):
                if _look(before) != _look(after):
                    table.update_cell(row.key, column_keys[col], after)
        self._rows[row.key] = row
        self._shown[row.key] = cells

    def _cells(self, row: Row) -> list[Text]:
        name = row.cells[0]
        if row.id.level is Level.STACK:
            mark = "▶ " if row.key in self.collapsed else "▼ "
            name = mark + name
        elif row.id.level is Level.SERVICE:
            folded = row.key in self.collapsed
            name = ("\u00a0\u00a0▸\u00a0" if folded else "\u00a0\u00a0\u00a0\u00a0") + name
        else:
            name = "\u00a0" * 6 + name
        bold = "bold" if row.id.folds else ""
        cells = [Text(name, style=bold or TONE_STYLES[row.tones[0]])]
        for value, tone in zip(row.cells[1:], row.tones[1:], strict=True):
            cells.append(Text(value, style=TONE_STYLES[tone]))
        return cells

    def _restore_cursor(self, key: str | None, keys: list[str]) -> None:
        table = self.table
        if not keys:
            return
        if key is not None and key in self._rows:
            index = table.get_row_index(key)
        else:
            index = min(table.cursor_row, len(keys) - 1)
        if index != table.cursor_row:
            table.move_cursor(row=index, animate=False, scroll=False)

    def _tick_ages(self) -> None:
        """Bring the AGE cells of the rows on screen up to date; nothing else changes."""
        if self.snapshot is None or self.info is None or not self.info.connected:
            return
        table = self.table
        first = int(table.scroll_y)
        visible = self._order[first : first + table.size.height + 1]
        now = self.now()
        for key in visible:
            row = self._rows.get(key)
            if row is None or row.since is None:
                continue
            age = human_age(now - row.since)
            if age != row.cells[-1]:
                self._apply_row(replace(row, cells=(*row.cells[:-1], age)))

    # -- the selection ------------------------------------------------------------
    def cursor_key(self) -> str | None:
        table = self.table
        if table.row_count == 0:
            return None
        try:
            row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        except Exception:
            return None
        return row_key.value

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._update_detail()

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        # the table takes enter (and a click on the cursor row) for itself
        self.action_toggle_row()

    def cursor_row(self) -> Row | None:
        key = self.cursor_key()
        return self._rows.get(key) if key is not None else None

    def _selected_service(self) -> Service | None:
        row = self.cursor_row()
        if row is None or self.snapshot is None:
            return None
        return service_of(self.snapshot, row.id)

    def _update_detail(self) -> None:
        detail_pane = self.query_one("#detail", Static)
        if self.snapshot is None:
            detail_pane.update(_detail_text(waiting(self.info)))
            return
        row = self.cursor_row()
        pieces = detail(self.snapshot, row.id if row is not None else None, self.now())
        detail_pane.update(_detail_text(pieces))

    # -- actions -----------------------------------------------------------------
    def action_toggle_row(self) -> None:
        row = self.cursor_row()
        if row is None or not row.id.folds:
            return
        key = row.key
        if key in self.collapsed:
            self.collapsed.discard(key)
        else:
            self.collapsed.add(key)
        self._render_rows()

    def action_collapse_all(self) -> None:
        if self.snapshot is None:
            return
        self.collapsed = {row.key for row in service_row_ids(self.snapshot)}
        self._render_rows()

    def action_expand_all(self) -> None:
        self.collapsed.clear()
        self._render_rows()

    def action_logs(self) -> None:
        """Logs of the service under the cursor (all replicas merged), or of the replica."""
        svc = self._selected_service()
        if svc is None:
            self.notify("put the cursor on a service or a replica first", severity="warning")
            return
        row = self.cursor_row()
        rep = replica_of(self.snapshot, row.id) if row is not None and self.snapshot else None
        slot = rep.slot if rep is not None and len(svc.replicas) > 1 else None
        self.post_message(OpenLogs(svc, slot))

    def action_jupyter(self) -> None:
        """Notebook URLs: of the service under the cursor if it is a notebook, else all."""
        svc = self._selected_service()
        self.post_message(OpenNotebooks(svc))

    def action_predict(self) -> None:
        """A folder of images against the serving service under the cursor."""
        self.post_message(OpenPredict(self._selected_service()))

    def action_gpu(self) -> None:
        self.post_message(OpenGpu())

    async def action_refresh(self) -> None:
        await self.run_action("app.refresh")

    def action_goto(self) -> None:
        self.app.action_command_palette()

    def goto_service(self, key: str) -> None:
        """Put the cursor on a service row, unfolding its stack if needed."""
        if self.snapshot is None:
            return
        found = row_ids_to(self.snapshot, key)
        if found is None:
            return
        stack_row, service_row = found
        if stack_row.key in self.collapsed:
            self.collapsed.discard(stack_row.key)
            self._render_rows()
        row_key = service_row.key
        if row_key in self._rows:
            self.table.move_cursor(row=self.table.get_row_index(row_key), animate=False)
            self.table.focus()
