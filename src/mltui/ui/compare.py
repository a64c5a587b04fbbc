"""The compare view: two versions (or labels) of a model on the same images,
disagreements first, with each side's accuracy and latency, the agreement, the
change per class and McNemar's exact test."""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from ..core import predict as core
from ..core.predict.compare import Comparison, compare, sorted_disagreements, to_json
from ..core.textsafe import safe_text
from .model import ComparePick
from .subscreen import SubScreen


class CompareScreen(SubScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the predict screen", id="compare.back"),
        Binding(
            "ctrl+o",
            "export",
            "Export JSON",
            tooltip="Write the comparison as JSON in the current folder",
            id="compare.export",
        ),
    ]

    def __init__(
        self,
        comparison: Comparison | None = None,
        *,
        url: str = "",
        model: str = "",
        picks: ComparePick | None = None,
        folder: Path | None = None,
        classes: list[str] | None = None,
        options: core.RunOptions | None = None,
        shape: tuple[int, int, int] | None = None,
    ) -> None:
        super().__init__()
        self.comparison = comparison
        self.url, self.model, self.picks = url, model, picks
        self.folder, self.class_names, self.options, self.shape = folder, classes, options, shape
        self.problem = ""
        self.running = comparison is None
        self.export_dir = Path.cwd()

    def compose(self) -> ComposeResult:
        yield Static(id="cmp-bar")
        yield Static(id="cmp-summary")
        table: DataTable = DataTable(id="cmp-table", cursor_type="row")
        table.add_columns("IMAGE", "EXPECTED", "A", "A CONF", "B", "B CONF", "")
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self._fill()
        if self.comparison is None and self.picks is not None and self.folder is not None:
            self._run()

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare", description="compare")
    def _run(self) -> None:
        assert self.picks is not None and self.folder is not None
        try:
            a = core.detect(self.url, self.model, shape=self.shape,
                            version=self.picks.a.version, label=self.picks.a.label)  # fmt: skip
            b = core.detect(self.url, self.model, shape=self.shape,
                            version=self.picks.b.version, label=self.picks.b.label)  # fmt: skip
        except core.PredictError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        result = compare(a, b, self.folder, self.class_names, self.options)
        self.app.call_from_thread(self._done, result)

    def _failed(self, message: str) -> None:
        self.running = False
        self.problem = message
        self._fill()

    def _done(self, comparison: Comparison) -> None:
        self.running = False
        self.comparison = comparison
        self._fill()

    # -- showing ------------------------------------------------------------------------
    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        cmp = self.comparison
        if cmp is not None:
            differ = sorted_disagreements(cmp)
            for d in differ:
                table.add_row(
                    safe_text(d.image, 50),
                    safe_text(d.expected or "", 16),
                    self._answer(d.a, d.expected),
                    "" if d.a_confidence is None else f"{d.a_confidence:.3f}",
                    self._answer(d.b, d.expected),
                    "" if d.b_confidence is None else f"{d.b_confidence:.3f}",
                    Text("differ", style="bold yellow"),
                    key=f"d:{d.image}",
                )
            shown = {d.image for d in differ}
            by_image = {r.image: r for r in cmp.b.results}
            for ra in sorted(cmp.a.results, key=lambda r: r.image):
                rb = by_image.get(ra.image)
                if ra.image in shown or rb is None or not (ra.ok and rb.ok):
                    continue
                table.add_row(
                    safe_text(ra.image, 50),
                    safe_text(ra.expected or "", 16),
                    self._answer(ra.predicted, ra.expected),
                    f"{ra.confidence or 0:.3f}",
                    self._answer(rb.predicted, rb.expected),
                    f"{rb.confidence or 0:.3f}",
                    Text("same", style="dim"),
                    key=f"s:{ra.image}",
                )
        self._show()

    @staticmethod
    def _answer(predicted: str | None, expected: str | None) -> Text:
        if predicted is None:
            return Text("failed", style="red")
        style = "" if expected is None else "green" if predicted == expected else "bold red"
        return Text(safe_text(predicted, 16), style=style)

    def _show(self) -> None:
        bar = Text(" COMPARE ", style="bold reverse")
        cmp = self.comparison
        if cmp is not None:
            bar.append(
                f"  A: {safe_text(cmp.a.served.target, 60)}  ·  B: {safe_text(cmp.b.served.target, 60)}"
                f"  · {safe_text(cmp.a.served.model, 40)} at {safe_text(cmp.a.served.url, 60)}"
            )
        elif self.picks is not None:
            bar.append(f"  A: {self.picks.a.words}  ·  B: {self.picks.b.words}")
        if self.problem:
            bar.append(f"  {safe_text(self.problem, 200)}", style="red")
        elif self.running:
            bar.append("  comparing… both sides get every image", style="yellow")
        self.query_one("#cmp-bar", Static).update(bar)
        self.query_one("#cmp-summary", Static).update(self._summary())

    def _summary(self) -> Text:
        cmp = self.comparison
        if cmp is None:
            return Text("")
        text = Text()
        for key, side in (("A", cmp.a), ("B", cmp.b)):
            s = side.summary
            text.append(f"{key} ", style="bold")
            acc = "-" if s.accuracy is None else f"{s.accuracy:.1%} of {s.labelled}"
            lat = "-" if s.p50_ms is None else f"p50 {s.p50_ms:.1f} ms, p95 {s.p95_ms:.1f} ms"
            text.append(f"accuracy {acc}   latency {lat}   {s.failed} failed\n")
        agreement = "-" if cmp.agreement is None else f"{cmp.agreement:.1%}"
        text.append(f"agreement {agreement}", style="bold")
        text.append(f" ({cmp.agreed} of {cmp.paired})")
        change = cmp.accuracy_change
        if change is not None:
            style = "green" if change > 0 else "red" if change < 0 else ""
            text.append(f"   accuracy change {change:+.1%}", style=f"bold {style}".strip())
        text.append(
            f"   McNemar exact p = {cmp.p_value:.3g} "
            f"(A only right {cmp.a_only}, B only right {cmp.b_only})"
        )
        moved = [c for c in cmp.per_class if abs(c.change) > 1e-12]
        if moved:
            text.append("\nper class  ", style="bold")
            text.append(
                "  ".join(
                    f"{safe_text(c.name, 16)} {c.a_accuracy:.0%}→{c.b_accuracy:.0%}" for c in moved
                )
            )
        for note in cmp.notes:
            text.append(f"\n{safe_text(note, 300)}", style="yellow")
        return text

    def action_export(self) -> None:
        if self.comparison is None:
            self.notify("nothing to export yet", severity="warning")
            return
        path = self.export_dir / f"mltui-compare-{time.strftime('%Y%m%d-%H%M%S')}.json"
        try:
            path.write_text(json.dumps(to_json(self.comparison), indent=1))
        except OSError as exc:
            self.notify(
                f"could not export: {safe_text(str(exc), 300)}", severity="error", markup=False
            )
            return
        self.notify(f"wrote {safe_text(str(path), 300)}", markup=False)
