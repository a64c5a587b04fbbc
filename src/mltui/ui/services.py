"""The main screen: every stack, service and replica on the engine."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.widgets.data_table import RowKey

from ..core.engine import EngineInfo
from ..core.inventory import GpuRequest, Service, Snapshot, human_age
from ..core.report import COLUMNS, Row, engine_line, rows
from ..core.textsafe import safe_text

STATE_STYLES = {
    "running": "green",
    "ok": "",
    "healthy": "green",
    "crashloop": "bold red",
    "bad": "yellow",
    "degraded": "yellow",
    "starting": "cyan",
    "pending": "cyan",
    "preparing": "cyan",
    "assigned": "cyan",
    "restarting": "bold red",
    "exited": "red",
    "failed": "red",
    "rejected": "red",
    "down": "red",
    "dead": "red",
    "created": "dim",
    "stopped": "dim",
    "shutdown": "dim",
    "complete": "dim",
    "paused": "magenta",
}


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _image_ports_gpu(
    text: Text, image: str, ports: tuple[str, ...], gpu: GpuRequest | None
) -> None:
    text.append("\nimage " + safe_text(image, 120))
    if ports:
        text.append("   ports " + safe_text(", ".join(ports), 120))
    if gpu:
        text.append("\nGPU request: " + safe_text(gpu.summary, 120), style="magenta")


def _look(text: Text) -> tuple[str, str, list]:
    """What a cell looks like; rich's Text equality ignores the base style."""
    return text.plain, str(text.style), text.spans


class InventoryTable(DataTable):
    """A keyed table updated in place: rows that left are removed, changed cells
    updated, new rows added, and the order restored, without a clear."""

    def reorder(self, keys: list[str]) -> None:
        # DataTable.sort() cannot see row keys; this is the same operation by key.
        from textual._two_way_dict import TwoWayDict

        self._row_locations = TwoWayDict({RowKey(k): i for i, k in enumerate(keys)})
        self._update_count += 1
        self.refresh()

    async def _on_idle(self, event: events.Idle) -> None:
        # DataTable measures new cells on idle, after a frame may already have
        # been drawn (and cached) with the old column widths; when a width
        # changed, drop that cache so the frame is drawn again at full width.
        before = [c.get_render_width(self) for c in self.columns.values()]
        await super()._on_idle(event)
        if [c.get_render_width(self) for c in self.columns.values()] != before:
            self._update_count += 1
            self.refresh()


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
            "toggle",
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
        return self.app.clock()  # type: ignore[attr-defined, no-any-return]

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
        if row.level == 0:
            mark = "▶ " if row.key in self.collapsed else "▼ "
            name_text = Text(mark + name, style="bold")
        elif row.level == 1:
            folded = row.key in self.collapsed
            name_text = Text(
                ("\u00a0\u00a0▸\u00a0" if folded else "\u00a0\u00a0\u00a0\u00a0") + name,
                style="bold",
            )
        else:
            name_text = Text(
                "\u00a0" * 6 + name, style="dim" if row.state in ("shutdown", "complete") else ""
            )
        state_style = STATE_STYLES.get(row.state, "")
        if row.cells[1].startswith("crashloop"):
            state_style = STATE_STYLES["crashloop"]
        cells = [name_text, Text(row.cells[1], style=state_style)]
        ready = row.cells[2]
        ready_style = ""
        if ready and "/" in ready:
            have, want = ready.split("/", 1)
            ready_style = (
                "green" if have == want and want != "0" else ("yellow" if have != want else "dim")
            )
        cells.append(Text(ready, style=ready_style))
        for i, value in enumerate(row.cells[3:], start=3):
            style = ""
            if COLUMNS[i] == "HEALTH" and value:
                style = (
                    "green"
                    if value == "healthy"
                    else ("red" if value.startswith("unhealthy") else "yellow")
                )
            elif COLUMNS[i] == "GPU" and value:
                style = "magenta"
            elif COLUMNS[i] == "RESTARTS" and value:
                style = "yellow"
            cells.append(Text(value, style=style))
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
        self.action_toggle()

    def _selected_service(self) -> Service | None:
        key = self.cursor_key()
        if not key or self.snapshot is None:
            return None
        if key.startswith("svc:"):
            return self.snapshot.service(key[4:])
        if key.startswith("rep:"):
            for svc in self.snapshot.services():
                if any(f"rep:{r.key}" == key for r in svc.replicas):
                    return svc
        return None

    def _update_detail(self) -> None:
        detail = self.query_one("#detail", Static)
        if self.snapshot is None:
            if self.info is not None and not self.info.connected:
                message = self.info.message or "connecting to the Docker engine…"
                text = Text(
                    safe_text(message, 300), style="red" if self.info.state == "down" else "yellow"
                )
                if self.info.message:
                    text.append(
                        "\nmltui keeps trying and fills in as soon as the engine answers.",
                        style="dim",
                    )
                detail.update(text)
            else:
                detail.update(Text("reading the inventory…", style="dim"))
            return
        key = self.cursor_key()
        text = Text()
        svc = self._selected_service()
        if key and key.startswith("rep:") and svc is not None:
            rep = next(r for r in svc.replicas if f"rep:{r.key}" == key)
            text.append(safe_text(rep.name, 120), style="bold")
            text.append(f"   {rep.kind} {rep.key[:12]}, {rep.state}")
            if rep.since:
                text.append(f" for {human_age(self.now() - rep.since)}")
            if rep.exit_code not in (None, 0):
                text.append(f"  exit {rep.exit_code}", style="red")
            _image_ports_gpu(text, rep.image, rep.ports, rep.gpu)
            if rep.error:
                text.append("\n" + safe_text(rep.error, 300), style="red")
        elif svc is not None:
            text.append(safe_text(svc.name, 120), style="bold")
            text.append(f"   {svc.kind} service, {svc.running}/{svc.desired} running, {svc.state}")
            if svc.mode:
                text.append(f"  ({svc.mode})")
            _image_ports_gpu(text, svc.image, svc.ports, svc.gpu)
            if svc.restarts:
                text.append(f"\nrestarts {svc.restarts}", style="yellow")
                if svc.last_exit not in (None, 0):
                    text.append(f", last exit code {svc.last_exit}", style="yellow")
            if svc.last_error:
                text.append("\nlast error: " + safe_text(svc.last_error, 300), style="red")
        elif key and key.startswith("stack:"):
            stack = next((s for s in self.snapshot.stacks if f"stack:{s.key}" == key), None)
            if stack is not None:
                text.append(safe_text(stack.title, 120), style="bold")
                kind = {
                    "compose": "compose project",
                    "swarm": "swarm stack",
                    "none": "containers in no stack",
                }[stack.kind]
                text.append(
                    f"   {kind}, {len(stack.services)} service{'s' if len(stack.services) != 1 else ''}"
                )
                if stack.compose_version:
                    text.append(f"  (Compose {safe_text(stack.compose_version, 20)})")
                if stack.working_dir:
                    text.append("\n" + safe_text(stack.working_dir, 200))
                for f in stack.config_files:
                    text.append("\n" + safe_text(f, 200), style="dim")
        detail.update(text)

    # -- actions -----------------------------------------------------------------
    def action_toggle(self) -> None:
        key = self.cursor_key()
        if not key or key.startswith("rep:"):
            return
        if key in self.collapsed:
            self.collapsed.discard(key)
        else:
            self.collapsed.add(key)
        self._render_rows()

    def action_collapse_all(self) -> None:
        if self.snapshot is None:
            return
        self.collapsed = {f"svc:{s.key}" for s in self.snapshot.services()}
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
        key = self.cursor_key() or ""
        slot = None
        if key.startswith("rep:"):
            rep = next((r for r in svc.replicas if f"rep:{r.key}" == key), None)
            if rep is not None and len(svc.replicas) > 1:
                slot = rep.slot
        self.app.open_logs(svc, slot)  # type: ignore[attr-defined]

    def action_jupyter(self) -> None:
        """Notebook URLs: of the service under the cursor if it is a notebook, else all."""
        svc = self._selected_service()
        self.app.open_notebooks(svc)  # type: ignore[attr-defined]

    def action_predict(self) -> None:
        """A folder of images against the serving service under the cursor."""
        self.app.open_predict(self._selected_service())  # type: ignore[attr-defined]

    def action_gpu(self) -> None:
        self.app.open_gpu()  # type: ignore[attr-defined]

    def action_refresh(self) -> None:
        self.app.action_refresh()  # type: ignore[attr-defined]

    def action_goto(self) -> None:
        self.app.action_command_palette()

    def goto_service(self, key: str) -> None:
        """Put the cursor on a service row, unfolding its stack if needed."""
        if self.snapshot is None:
            return
        svc = self.snapshot.service(key)
        if svc is None:
            return
        stack_key = next(
            (f"stack:{s.key}" for s in self.snapshot.stacks if svc in s.services), None
        )
        if stack_key in self.collapsed:
            self.collapsed.discard(stack_key)
            self._render_rows()
        row_key = f"svc:{key}"
        if row_key in self._rows:
            self.table.move_cursor(row=self.table.get_row_index(row_key), animate=False)
            self.table.focus()
