"""The main screen: every stack, service and replica on the engine."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
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
from ..core.report import COLUMNS, Level, Row, Tone, rows
from ..core.stats import StatsReader, StatsTarget
from ..core.usage import (
    Usage,
    needed_targets,
    next_sort,
    sort_snapshot,
    usage_containers,
    usage_detail,
    with_usage,
)
from .action_keys import ActionKeys
from .inventory_table import WIDTH_HOLD_S, EngineBar, InventoryTable, _look
from .requests import OpenGpu, OpenLogs, OpenNotebooks, OpenPredict, OpenRoll, app_state
from .services_bindings import SERVICES_BINDINGS
from .usage import StatsFeed, UsagePane, detail_text

__all__ = ["EngineBar", "InventoryTable", "ServicesScreen"]

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


def _detail_text(pieces: Detail) -> Text:
    return detail_text(pieces, TONE_STYLES)


# under this many columns the table drops IMAGE, PORTS and RESTARTS (shown below it)
NARROW = 120
COMPACT_COLUMNS = ("NAME", "STATE", "READY", "HEALTH", "GPU", "AGE")
COMPACT_WITH_USAGE = ("NAME", "STATE", "READY", "HEALTH", "AGE")


class ServicesScreen(ActionKeys):
    # how often the AGE column is brought up to date (no engine call: local arithmetic)
    AGE_TICK_S = 5.0
    BINDINGS = SERVICES_BINDINGS

    def __init__(self) -> None:
        super().__init__()
        self.compact = False  # under NARROW columns: image and ports only below the table
        self._cols = list(range(len(COLUMNS)))
        self.collapsed: set[str] = set()
        self.snapshot: Snapshot | None = None
        self.info: EngineInfo | None = None
        self._rows: dict[str, Row] = {}  # what each table row shows, by key
        self._shown: dict[str, list[Text]] = {}  # the cells as rendered, to diff against
        self._folded: dict[str, bool] = {}  # whether each row was drawn folded
        self._order: list[str] = []
        self.sort_key = "name"  # name | cpu | mem (core/usage.py SORT_KEYS)
        self.usage: Usage | None = None  # None: stats are off
        self._feed: StatsFeed | None = None
        self._usage_columns: tuple[str, ...] = ()  # the usage columns the table has now

    def compose(self) -> ComposeResult:
        yield EngineBar(id="engine-bar")
        with Vertical(id="body"):
            table = InventoryTable(id="inventory", cursor_type="row", zebra_stripes=False)
            table.add_columns(*COLUMNS)
            yield table
            yield Static(id="detail")
            yield UsagePane(id="usage")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(self.AGE_TICK_S, self._tick_ages)
        # columns widen at once and narrow at this pace (see WIDTH_HOLD_S)
        self.set_interval(WIDTH_HOLD_S, self._narrow_columns)
        self.query_one(InventoryTable).focus()
        self.query_one(UsagePane).display = False
        self._fit(self.app.size.width)
        if app_state(self.app).config.stats:
            self._stats_on()

    def on_unmount(self) -> None:
        if self._feed is not None:
            self._feed.close()

    def on_screen_suspend(self) -> None:
        # another screen covers this one: no reads for a table nobody sees
        if self._feed is not None:
            self._feed.stop()

    def on_screen_resume(self) -> None:
        if self._feed is not None and self.usage is not None:
            self._feed.start()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int, force: bool = False) -> None:
        """Under NARROW columns the table keeps NAME, STATE, READY, HEALTH, GPU and AGE
        (and CPU and MEM, the limit left to the detail); image, ports and restarts
        are in the detail below, so no column is cut."""
        compact = 0 < width < NARROW
        usage_columns = self.usage.columns if self.usage is not None else ()
        # the column the table is sorted by says so in its title
        marks = {"cpu": "CPU", "mem": "MEM"}
        usage_columns = tuple(
            c + " ▼" if marks.get(self.sort_key) == c else c for c in usage_columns
        )
        if compact == self.compact and usage_columns == self._usage_columns and not force:
            return
        self.compact = compact
        # narrow, the footer's keys sit closer together so every one still shows
        self.query_one(Footer).compact = compact
        self._usage_columns = usage_columns
        # narrow, with CPU and MEM, the GPU request also goes to the detail
        keep = COMPACT_COLUMNS if not usage_columns else COMPACT_WITH_USAGE
        self._cols = [i for i, c in enumerate(COLUMNS) if not compact or c in keep]
        table = self.table
        cursor = self.cursor_key()
        with self.app.batch_update():
            table.clear(columns=True)
            base = [COLUMNS[i] for i in self._cols]
            at = self._usage_at()
            table.add_columns(*base[:at], *usage_columns, *base[at:])
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
        return not self.query_children(EngineBar)  # a child: no walk of the whole DOM

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
        snapshot, usage = self.snapshot, self.usage
        if usage is not None:
            snapshot = sort_snapshot(snapshot, usage.stats, self.sort_key)
        new_rows = rows(snapshot, collapsed=frozenset(self.collapsed), now=self.now())
        if usage is not None:
            new_rows = with_usage(new_rows, snapshot, usage, compact=self.compact)
        cursor_key = self.cursor_key()
        new_keys = [r.key for r in new_rows]
        new_map = {r.key: r for r in new_rows}
        with self.app.batch_update():
            for key in list(self._rows):
                if key not in new_map:
                    table.remove_row(key)
                    del self._rows[key]
                    del self._shown[key]
                    del self._folded[key]
            for row in new_rows:
                self._apply_row(row)
            if new_keys != self._order:
                table.reorder(new_keys)
                self._order = new_keys
            self._restore_cursor(cursor_key, new_keys)
        self._update_detail()

    def _apply_row(self, row: Row) -> None:
        """Add the row, or update just the cells whose text or style changed."""
        shown = self._shown.get(row.key)
        folded = row.key in self.collapsed
        if shown is not None and self._rows.get(row.key) == row and self._folded[row.key] == folded:
            return  # drawn as it is: its cells follow from the row and its fold
        table = self.table
        every = self._cells(row)
        base = [every[i] for i in self._cols]
        at = self._usage_at()
        # CPU and MEM right after READY: in view without scrolling sideways
        cells = base[:at] + every[len(COLUMNS) :] + base[at:]
        if shown is None:
            table.add_row(*cells, key=row.key)
        else:
            column_keys = list(table.columns)
            for col, (before, after) in enumerate(zip(shown, cells, strict=True)):
                if _look(before) != _look(after):
                    # a cell may grow (n/a -> 259.0MiB, "" -> healthy): the column follows
                    table.update_cell(row.key, column_keys[col], after, update_width=True)
        self._rows[row.key] = row
        self._shown[row.key] = cells
        self._folded[row.key] = folded

    def _usage_at(self) -> int:
        """Where the usage columns go among the columns shown: after READY."""
        return [COLUMNS[i] for i in self._cols].index("READY") + 1

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
        return cells + [
            Text(value, style=TONE_STYLES[tone], justify="right")
            for value, tone in zip(row.usage, row.usage_tones, strict=True)
        ]

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

    def _narrow_columns(self) -> None:
        if not self._torn_down():
            self.table.narrow_columns()

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
        text = _detail_text(pieces)
        if text != detail_pane.content:  # the same text again would lay the screen out again
            detail_pane.update(text)
        self._update_usage_pane()

    # -- resource usage ------------------------------------------------------------
    def _update_usage_pane(self) -> None:
        pane = self.query_one(UsagePane)
        row = self.cursor_row()
        row_id = row.id if row is not None else None
        if self.usage is None or self.snapshot is None or row_id is None:
            pane.display = False
            return
        ids = usage_containers(self.snapshot, row_id)
        history = self._feed.history.series(ids) if self._feed is not None else None
        read = [self.usage.stats.get(c) for c in ids]
        pane.display = bool(history) or any(f is not None and f.source for f in read)
        if pane.display and history is not None:
            figures = usage_detail(self.snapshot, row_id, self.usage)
            pane.show(history, _detail_text(figures))

    @property
    def stats_live(self) -> bool:
        """True while stats are read at their interval (on, and this screen shown)."""
        return self._feed is not None and self._feed.running

    @property
    def stats_reads(self) -> int:
        """Stats reads applied to the table so far."""
        return self._feed.reads if self._feed is not None else 0

    def _stats_targets(self) -> list[StatsTarget]:
        """The containers of the rows on screen (and what their sums need); none
        while the engine is away (the last figures stay, dimmed with the table)."""
        if self.snapshot is None or self.info is None or not self.info.connected:
            return []
        table = self.table
        first = int(table.scroll_y)
        keys = self._order[first : first + table.size.height + 1]
        shown = [self._rows[k].id for k in keys if k in self._rows]
        inspected = app_state(self.app).inventory.inspected
        return needed_targets(self.snapshot, shown, inspected)

    def _usage_read(self, usage: Usage) -> None:
        if self.usage is None or self._torn_down():
            return  # turned off while the read ran
        self.usage = usage
        self._fit(self.app.size.width)  # a GPU column may come
        self._render_rows()

    def _stats_on(self) -> None:
        state = app_state(self.app)
        if self._feed is None:
            engine = state.engine
            self._feed = StatsFeed(
                self,
                lambda: StatsReader(engine),
                self._stats_targets,
                self._usage_read,
                interval=state.config.stats_interval,
                nvml_factory=state.nvml_factory,
            )
        self.usage = Usage()
        self._feed.start()

    def action_toggle_stats(self) -> None:
        """Stats off: no reads, no columns; on again: reads at once."""
        if self.usage is None:
            self._stats_on()
            self.notify("CPU and memory: on", timeout=3)
        else:
            self.usage = None
            if self._feed is not None:
                self._feed.stop()
            self.notify("CPU and memory: off (no stats reads)", timeout=3)
        self._fit(self.app.size.width)
        self._update_detail()

    def action_sort(self) -> None:
        if self.usage is None:
            self.notify("sorting by CPU or memory needs the stats on", severity="warning")
            return
        self.sort_key = next_sort(self.sort_key)
        self._fit(self.app.size.width)  # the column sorted by is marked in its title
        self._render_rows()

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

    def action_roll(self) -> None:
        """Roll out and check the serving service under the cursor (asks first)."""
        self.post_message(OpenRoll(self._selected_service()))

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
