"""The notebooks screen: each Jupyter server's URL on this machine, token masked."""

from __future__ import annotations

import webbrowser
from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Static

from ..core.engine import Engine, EngineUnavailable
from ..core.inventory import Inventory, Snapshot
from ..core.jupyter import Notebook, find_notebooks
from ..core.textsafe import safe_text
from .subscreen import SubScreen, back_binding

STATUS_STYLE = {
    "reachable": "green",
    "starting": "yellow",
    "not published": "yellow",
    "not running": "dim",
}


class NotebookScreen(SubScreen):
    BINDINGS = [
        back_binding("jupyter"),
        Binding(
            "v", "reveal", "Reveal token", tooltip="Show or mask the tokens", id="jupyter.reveal"
        ),
        Binding(
            "c",
            "copy",
            "Copy URL",
            tooltip="Copy the URL with its token to the clipboard (OSC 52)",
            id="jupyter.copy",
        ),
        Binding(
            "o",
            "open",
            "Open in browser",
            tooltip="Open the URL in a web browser on this machine",
            id="jupyter.open",
        ),
        Binding(
            "r",
            "rescan",
            "Check again",
            tooltip="Ask the notebook servers again",
            id="jupyter.rescan",
        ),
    ]

    def __init__(
        self,
        engine_factory: Callable[[], Engine] | None,
        snapshot: Snapshot | None,
        service: str | None = None,
        *,
        notebooks: list[Notebook] | None = None,
    ) -> None:
        super().__init__()
        self.engine_factory = engine_factory
        self.snapshot = snapshot
        self.service = service
        self.notebooks: list[Notebook] = notebooks or []
        self.revealed = False
        self.scanning = notebooks is None
        self.problem = ""

    def compose(self) -> ComposeResult:
        yield Static(id="nb-bar")
        with Vertical(id="nb-body"):
            table: DataTable = DataTable(id="nb-table", cursor_type="row")
            table.add_columns("SERVICE", "REPLICA", "STATUS", "URL")
            yield table
            yield Static(id="nb-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        if self.scanning:
            self._scan()
        self._show()

    # -- scanning (a worker: exec, logs and HTTP checks) -------------------------------
    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="jupyter",
        description="find notebooks",
    )
    def _scan(self) -> None:
        if self.engine_factory is None:
            return
        engine = self.engine_factory()
        try:
            snapshot = self.snapshot or Inventory(engine).snapshot()
            scan = find_notebooks(engine, snapshot, service=self.service)
            found, problem = scan.notebooks, ""
        except EngineUnavailable as exc:
            found, problem = [], exc.message
        except LookupError as exc:
            found, problem = [], str(exc)
        finally:
            engine.close()
        self.app.call_from_thread(self._scanned, found, problem)

    def _scanned(self, found: list[Notebook], problem: str) -> None:
        self.notebooks = found
        self.problem = problem
        self.scanning = False
        self._show()

    # -- showing ------------------------------------------------------------------------
    def _url_text(self, nb: Notebook) -> str:
        return nb.url if self.revealed else nb.masked_url

    def _show(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for i, nb in enumerate(self.notebooks):
            style = STATUS_STYLE.get(nb.status, "red")
            table.add_row(
                safe_text(nb.service, 40),
                safe_text(nb.replica, 40),
                Text(safe_text(nb.status, 40), style=style),
                Text(safe_text(self._url_text(nb), 300) or "—", style="bold" if nb.url else "dim"),
                key=str(i),
            )
        if self.notebooks:
            table.move_cursor(row=min(max(row, 0), len(self.notebooks) - 1))
        bar = Text(" NOTEBOOKS ", style="bold reverse")
        if self.scanning:
            bar.append(
                "  looking for Jupyter servers (exec, logs, a request to each)…", style="yellow"
            )
        elif self.problem:
            bar.append(f"  {safe_text(self.problem, 200)}", style="red")
        else:
            count = len(self.notebooks)
            bar.append(f"  {count} server{'s' if count != 1 else ''}", style="bold")
            bar.append(
                "  · tokens " + ("shown (v hides)" if self.revealed else "masked (v shows)"),
                style="dim",
            )
        self.query_one("#nb-bar", Static).update(bar)
        self._detail()

    def _selected(self) -> Notebook | None:
        table = self.query_one(DataTable)
        if not self.notebooks or table.cursor_row < 0:
            return None
        return self.notebooks[min(table.cursor_row, len(self.notebooks) - 1)]

    def _detail(self) -> None:
        nb = self._selected()
        detail = self.query_one("#nb-detail", Static)
        if nb is None:
            text = Text(
                "No notebook server found." if not self.scanning else "",
                style="dim",
            )
            if not self.scanning and not self.problem:
                text.append(
                    "\nmltui looks for Jupyter images (jupyter/*, quay.io/jupyter/*), a jupyter "
                    "command, or container port 8888.",
                    style="dim",
                )
            detail.update(text)
            return
        text = Text()
        text.append(f"{safe_text(nb.service, 60)}  {safe_text(nb.replica, 60)}  ", style="bold")
        port = str(nb.container_port) if nb.container_port else "unknown"
        text.append(f"container port {port}", style="dim")
        if nb.source:
            text.append(
                f"  · from {'jupyter … list --json' if nb.source == 'exec' else 'its log'}",
                style="dim",
            )
        if nb.note:
            text.append("\n" + safe_text(nb.note, 300), style="yellow")
        if nb.url:
            # the whole URL, whatever the table's column had room for
            text.append("\n" + safe_text(self._url_text(nb), 300), style="bold")
            text.append("\nc copies the whole URL, o opens it in the browser", style="dim")
        detail.update(text)

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._detail()

    # -- actions --------------------------------------------------------------------------
    def action_reveal(self) -> None:
        self.revealed = not self.revealed
        self._show()

    def action_copy(self) -> None:
        nb = self._selected()
        if nb is None or not nb.url:
            self.notify("no URL to copy", severity="warning")
            return
        self.app.copy_to_clipboard(nb.url)  # OSC 52 through the terminal
        self.notify(f"copied {safe_text(nb.masked_url, 300)}", markup=False)

    def action_open(self) -> None:
        nb = self._selected()
        if nb is None or not nb.url:
            self.notify("no URL to open", severity="warning")
            return
        self._open(nb.url, nb.masked_url)

    @work(thread=True, exit_on_error=False, group="browser", description="open the browser")
    def _open(self, url: str, shown: str) -> None:
        try:
            opened = webbrowser.open(url)
        except Exception:
            opened = False
        message = (
            f"opened {safe_text(shown, 300)}"
            if opened
            else "no browser to open here: c copies the URL"
        )
        self.app.call_from_thread(self.notify, message, markup=False)

    def action_rescan(self) -> None:
        if self.engine_factory is None:
            return
        self.scanning = True
        self.snapshot = getattr(self.app, "snapshot", None)
        self._show()
        self._scan()
