"""The model panel: a served model's versions, states, signatures, labels and metrics.

Opened from the predict screen (its URL and model). Enter picks the version under
the cursor for the predict screen's runs; `a` and `b` mark two versions, ctrl+k
compares them on the predict screen's folder (:mod:`.compare`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Footer, Static

from ..core.engine import Engine, EngineError
from ..core.predict import PredictError
from ..core.predict.metrics import MetricsProblem, ModelMetrics, scrape, summarize_metrics
from ..core.predict.models import ModelReport, TensorSpec, VersionInfo, describe
from ..core.predict.server_config import configured_labels
from ..core.textsafe import safe_text
from .subscreen import SubScreen


@dataclass(frozen=True)
class Pick:
    """A version (or the version a label names) picked in the panel."""

    version: str = ""
    label: str = ""

    @property
    def words(self) -> str:
        if self.label:
            return f"label {self.label}"
        return f"version {self.version}" if self.version else "latest"


@dataclass(frozen=True)
class ComparePick:
    a: Pick
    b: Pick


def _tensors(specs: tuple[TensorSpec, ...], kind: str) -> str:
    shown = []
    for t in specs:
        if t.kind == kind:
            shape = "?" if t.shape is None else "x".join(map(str, t.shape))
            shown.append(f"{safe_text(t.name, 30)} {safe_text(t.dtype, 12)} {shape}")
    return "; ".join(shown)


class ModelScreen(SubScreen):
    """Dismissed with a :class:`Pick` (enter), a :class:`ComparePick` (ctrl+k) or None."""

    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the predict screen", id="model.back"),
        Binding("ctrl+r", "refresh", "Refresh", tooltip="Ask the server again", id="model.refresh"),
        Binding(
            "enter",
            "use",
            "Predict this",
            tooltip="Send the predict screen's runs to the version under the cursor",
            id="model.use",
        ),
        Binding("a", "mark('a')", "Mark A", tooltip="Compare from this version", id="model.mark_a"),
        Binding("b", "mark('b')", "Mark B", tooltip="Compare to this version", id="model.mark_b"),
        Binding(
            "ctrl+k",
            "compare",
            "Compare A B",
            tooltip="Send the predict screen's folder to A and B and compare them",
            id="model.compare",
        ),
    ]

    def __init__(
        self,
        url: str,
        model: str,
        engine_factory: Callable[[], Engine] | None = None,
        *,
        report: ModelReport | None = None,
        metrics: list[ModelMetrics] | None = None,
        metrics_problem: str = "",
        interval: float = 1.0,
    ) -> None:
        super().__init__()
        self.url, self.model = url, model
        self.engine_factory = engine_factory
        self.report = report
        self.metrics = metrics or []
        self.metrics_problem = metrics_problem
        self.interval = interval
        self.problem = ""
        self.loading = False
        self.marks: dict[str, Pick] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="md-bar")
        table: DataTable = DataTable(id="md-table", cursor_type="row")
        table.add_columns("VERSION", "STATE", "LABELS", "INPUTS", "OUTPUTS", "")
        yield table
        yield Static(id="md-info")
        yield Footer()

    def on_mount(self) -> None:
        self._fill()
        if self.report is None:
            self.action_refresh()

    # -- reading ------------------------------------------------------------------------
    def action_refresh(self) -> None:
        if self.loading:
            return
        self.loading = True
        self.problem = ""
        self._show()
        self._read(self.url, self.model)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="model",
        description="read the model",
    )
    def _read(self, url: str, model: str) -> None:
        notes: list[str] = []
        labels: list[tuple[str, str]] = []
        if self.engine_factory is not None:
            try:
                engine = self.engine_factory()
                try:
                    labels, note = configured_labels(engine, url, model)
                finally:
                    engine.close()
                notes.append(note)
            except EngineError as exc:
                notes.append(f"labels: the engine did not answer ({safe_text(exc.message, 200)})")
        try:
            report = describe(url, model, config_labels=labels)
        except PredictError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        report.notes[:0] = notes
        metrics: list[ModelMetrics] = []
        problem = ""
        try:
            first = scrape(url)
            time.sleep(self.interval)  # the window the rates are measured over
            metrics = summarize_metrics(scrape(url), first)
        except MetricsProblem as exc:
            problem = exc.message
        self.app.call_from_thread(self._read_done, report, metrics, problem)

    def _failed(self, message: str) -> None:
        self.loading = False
        self.problem = message
        self._show()

    def _read_done(self, report: ModelReport, metrics: list[ModelMetrics], problem: str) -> None:
        self.loading = False
        self.report, self.metrics, self.metrics_problem = report, metrics, problem
        self._fill()

    # -- showing ------------------------------------------------------------------------
    def _labels_of(self, version: str) -> str:
        if self.report is None:
            return ""
        return ", ".join(
            safe_text(lb.label, 20) for lb in self.report.labels if lb.version == version
        )

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for v in self.report.versions if self.report else []:
            self._add(table, v)
        self._show()

    def _add(self, table: DataTable, v: VersionInfo) -> None:
        state_style = (
            "green" if not v.problem else "yellow" if v.state in ("START", "LOADING") else "red"
        )
        marks = "".join(k.upper() for k, p in sorted(self.marks.items()) if p.version == v.version)
        problem = v.problem or v.signature_problem
        table.add_row(
            safe_text(v.version, 24) or "-",
            Text(safe_text(v.state, 14), style=state_style),
            self._labels_of(v.version),
            _tensors(v.signature, "input"),
            _tensors(v.signature, "output"),
            self._last_cell(marks, problem),
            key=v.version or "-",
        )

    @staticmethod
    def _last_cell(marks: str, problem: str) -> Text:
        cell = Text()
        if marks:
            cell.append(f" {marks} ", style="bold reverse")
            cell.append(" ")
        cell.append(safe_text(problem, 120), style="red")
        return cell

    def _show(self) -> None:
        bar = Text(" MODEL ", style="bold reverse")
        protocol = self.report.protocol if self.report else "?"
        bar.append(f"  {protocol} · {safe_text(self.url, 80)} · {safe_text(self.model, 40)}")
        if self.loading:
            bar.append("  reading…", style="yellow")
        if self.problem:
            bar.append(f"  {safe_text(self.problem, 200)}", style="red")
        if self.marks:
            bar.append(
                "  · "
                + ", ".join(f"{k.upper()}: {p.words}" for k, p in sorted(self.marks.items())),
                style="bold",
            )
        self.query_one("#md-bar", Static).update(bar)
        self.query_one("#md-info", Static).update(self._info())

    def _info(self) -> Text:
        text = Text()
        report = self.report
        if report is None:
            return Text("reading the server…", style="dim")
        if report.labels:
            text.append("labels  ", style="bold")
            for lb in report.labels:
                text.append(f"{safe_text(lb.label, 30)} → {safe_text(lb.version, 24) or '?'}")
                if lb.source == "option":
                    text.append(" (named)", style="dim")
                if lb.problem:
                    text.append(f" {safe_text(lb.problem, 160)}", style="red")
                text.append("   ")
            text.append("\n")
        for note in report.notes:
            text.append(f"{safe_text(note, 200)}\n", style="dim")
        if self.metrics_problem:
            text.append("metrics  ", style="bold")
            text.append(safe_text(self.metrics_problem, 300), style="yellow")
            return text
        mine = [m for m in self.metrics if m.model == report.model]
        if not mine and not self.loading:
            text.append("metrics  ", style="bold")
            text.append("the server's page counts no request for this model yet", style="dim")
        for m in mine:
            text.append("metrics  ", style="bold")
            statuses = ", ".join(f"{safe_text(s, 20)} {n:.0f}" for s, n in m.by_status)
            text.append(f"{m.requests:.0f} requests ({statuses or 'none'})")
            if m.rate_per_s is not None:
                text.append(f"   {m.rate_per_s:.1f} req/s")
            if m.error_rate_per_s:
                text.append(f" ({m.error_rate_per_s:.1f} errors/s)", style="red")
            if m.p50_ms is not None and m.p95_ms is not None:
                text.append(f"   latency p50 ~{m.p50_ms:.1f} ms, p95 ~{m.p95_ms:.1f} ms")
        return text

    # -- picking ------------------------------------------------------------------------
    def _current(self) -> Pick | None:
        table = self.query_one(DataTable)
        if not 0 <= table.cursor_row < table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return Pick(version="" if key in (None, "-") else str(key))

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_use()  # enter on the table: the table has the keys

    def action_use(self) -> None:
        pick = self._current()
        if pick is not None:
            self.dismiss(pick)

    def action_mark(self, which: str) -> None:
        pick = self._current()
        if pick is None:
            return
        self.marks[which] = pick
        row = self.query_one(DataTable).cursor_row
        self._fill()
        self.query_one(DataTable).move_cursor(row=row)

    def action_compare(self) -> None:
        a, b = self.marks.get("a"), self.marks.get("b")
        if a is None or b is None:
            self.notify("mark two versions first: a on one, b on the other", severity="warning")
            return
        self.dismiss(ComparePick(a, b))

    def action_back(self) -> None:
        self.dismiss(None)
