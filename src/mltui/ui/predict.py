"""The predict screen: a folder of images against a model server, results as they come."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Footer, Input, Label, Static

from ..core import predict as core
from ..core.config import PredictConfig
from ..core.engine import Engine
from ..core.inventory import Service
from ..core.paths import display_path
from ..core.roles import serving_url
from ..core.textsafe import safe_text
from ..deploy.stacks import DEMO_DIR
from .model import ComparePick, Pick
from .subscreen import SubScreen, back_binding


def guess_url(service: Service | None) -> str:
    """The host URL of a serving service (the rule is :func:`..core.roles.serving_url`)."""
    return serving_url(service)


def default_folder() -> str:
    demo = DEMO_DIR / "test-images"
    return display_path(demo) if demo.is_dir() else "."


class PredictScreen(SubScreen):
    BINDINGS = [
        back_binding("predict"),
        Binding(
            "ctrl+r",
            "run",
            "Run",
            tooltip="Send every image of the folder to the model server",
            id="predict.run",
        ),
        Binding(
            "ctrl+o",
            "export",
            "Export CSV+JSON",
            tooltip="Write the results as CSV and JSON in the current folder",
            id="predict.export",
        ),
        Binding(
            "ctrl+s",
            "sort",
            "Sort",
            tooltip="Order the rows: by file, failures and misses first, least confident "
            "first, slowest first, as answers came (or click a column's title)",
            id="predict.sort",
        ),
        Binding(
            "ctrl+l",
            "load_test",
            "Load test",
            tooltip="Load-test this server with the folder's images: throughput and "
            "latency by concurrency",
            show=False,  # in the palette and the help; the footer is full
            id="predict.load",
        ),
        Binding(
            "ctrl+n",
            "model",
            "Model",
            tooltip="The model's versions, labels and metrics: pick one for the runs, "
            "or compare two",
            id="predict.model",
        ),
    ]
    # ctrl+s steps through these; "arrival" is the order answers came in
    SORT_CYCLE = ("arrival", "image", "problems", "confidence", "latency")
    # a click on a column's title sorts by it (again: the other way)
    COLUMN_SORTS = ("image", "expected", "predicted", "confidence", "latency", "problems")

    def __init__(
        self,
        url: str = "http://127.0.0.1:8501",
        engine_factory: Callable[[], Engine] | None = None,
        container_id: str = "",
        model: str = "my_model",
        folder: str | None = None,
        classes: str = "",
        *,
        results: list[core.Result] | None = None,
        summary: core.Summary | None = None,
        endpoint: core.ServedModel | None = None,
        defaults: PredictConfig | None = None,
        service: str = "",
        engine_name: str = "",
    ) -> None:
        super().__init__()
        # a run on a known service is kept as its last run (`mltui roll` reruns it)
        self.service, self.engine_name = service, engine_name
        self.defaults = defaults or PredictConfig()
        # a model server named in the config for this service wins over the guesses
        known = self.defaults.endpoint_for(service=service) if service else None
        if known is not None:
            url, model = known.url, known.model
            classes = classes or known.classes
            folder = folder or known.folder or None
            container_id = ""  # no need to ask the container for MODEL_NAME
        self.start = {
            "url": url,
            "model": model,
            "folder": folder or default_folder(),
            "classes": classes,
            "concurrency": str(self.defaults.concurrency),
            "batch": str(self.defaults.batch),
        }
        if not classes and Path(self.start["folder"], "classes.txt").is_file():
            self.start["classes"] = display_path(Path(self.start["folder"], "classes.txt"))
        self.results: list[core.Result] = results or []
        self.sort = "arrival"
        self.sort_reverse = False
        self.summary = summary
        self.endpoint = endpoint
        self.running = False
        self.problem = ""
        self.export_dir = Path.cwd()
        self.engine_factory = engine_factory
        self.container_id = container_id
        self.target = Pick()  # the version the runs go to: latest unless picked

    def compose(self) -> ComposeResult:
        yield Static(id="pr-bar")
        with Container(id="pr-form"):
            for key, label in (
                ("url", "URL"),
                ("model", "model"),
                ("folder", "folder"),
                ("classes", "classes"),
                ("concurrency", "at once"),
                ("batch", "per request"),
            ):
                with Vertical(classes="pr-field"):
                    yield Label(label)
                    yield Input(self.start[key], id=f"pr-{key}", compact=True)
        table: DataTable = DataTable(id="pr-table", cursor_type="row")
        table.add_columns("IMAGE", "EXPECTED", "PREDICTED", "CONFIDENCE", "LATENCY", "")
        yield table
        yield Static(id="pr-summary")
        yield Footer()

    def on_mount(self) -> None:
        self._fill_table()
        self._show()
        self.query_one("#pr-folder", Input).focus()
        if self.engine_factory is not None and self.container_id:
            self._model_name()

    @work(thread=True, exit_on_error=False, group="predict-model", description="read MODEL_NAME")
    def _model_name(self) -> None:
        assert self.engine_factory is not None
        engine = self.engine_factory()
        try:
            name = core.model_name_of(engine, self.container_id, "")
        finally:
            engine.close()
        if name:
            self.app.call_from_thread(self._set_model, name)

    def _set_model(self, name: str) -> None:
        box = self.query_one("#pr-model", Input)
        if box.value == self.start["model"]:  # the user has not typed one
            box.value = name

    # -- running ----------------------------------------------------------------------
    def _field(self, key: str) -> str:
        return self.query_one(f"#pr-{key}", Input).value.strip()

    def action_run(self) -> None:
        if self.running:
            return
        self.results = []
        self.summary = None
        self.problem = ""
        self.query_one(DataTable).clear()
        try:
            options = core.RunOptions(
                concurrency=int(self._field("concurrency")),
                batch=int(self._field("batch")),
                scale=self.defaults.scale,
                top_k=self.defaults.top_k,
                timeout=self.defaults.timeout_s,
            )
            if options.concurrency < 1 or options.batch < 1:
                raise ValueError
        except ValueError:
            self.problem = "at once and per request: whole numbers, at least 1"
            self._show()
            return
        self.running = True
        self._show()
        self._run(
            self._field("url"),
            self._field("model"),
            self._field("folder"),
            self._field("classes"),
            options,
        )

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_run()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="predict",
        description="predict a folder",
    )
    def _run(
        self, url: str, model: str, folder: str, classes_file: str, options: core.RunOptions
    ) -> None:
        try:
            path = Path(folder).expanduser()
            if not path.is_dir():
                raise core.PredictError(f"{folder}: not a folder")
            if not core.list_images(path)[0]:
                raise core.PredictError(f"{folder}: no image in it")
            classes = core.load_classes(Path(classes_file).expanduser() if classes_file else None)
            endpoint = core.detect(
                url,
                model,
                shape=self.defaults.shape,
                version=self.target.version,
                label=self.target.label,
            )
        except (core.PredictError, OSError, ValueError) as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._started, endpoint)
        start = time.perf_counter()
        results = core.run(
            endpoint,
            path,
            classes,
            options,
            on_result=lambda r: self.app.call_from_thread(self._arrived, r),
        )
        summary = core.summarize(results, time.perf_counter() - start)
        self._keep(url, model, path, classes_file, options, results, summary)
        self.app.call_from_thread(self._finished, results, summary)

    def _keep(
        self,
        url: str,
        model: str,
        folder: Path,
        classes_file: str,
        options: core.RunOptions,
        results: list[core.Result],
        summary: core.Summary,
    ) -> None:
        """The run as the service's last run; a failed write is shown, never fatal."""
        from ..core.predict import lastrun

        if not (self.service and self.engine_name) or self.target.version or self.target.label:
            return
        o = options
        kept = str(Path(classes_file).expanduser().resolve()) if classes_file else ""
        ordered = sorted(results, key=lambda r: r.image)
        run = lastrun.SavedRun(
            str(folder.resolve()), kept, url, model, o.concurrency, o.batch, o.scale,
            o.top_k, o.timeout, "", summary, ordered, time.time(),
        )  # fmt: skip
        problem = lastrun.save_run(lastrun.run_path(self.engine_name, self.service), run)
        if problem:
            self.app.call_from_thread(self.notify, problem, severity="warning")

    def _failed(self, message: str) -> None:
        self.running = False
        self.problem = message
        self._show()

    def _started(self, endpoint: core.ServedModel) -> None:
        self.endpoint = endpoint
        self._show()

    def _arrived(self, result: core.Result) -> None:
        self.results.append(result)
        self._add_row(result, len(self.results) - 1)  # sorted when the run ends
        if len(self.results) % 20 == 0:
            self._show()

    def _finished(self, results: list[core.Result], summary: core.Summary) -> None:
        self.running = False
        self.summary = summary
        if self.sort != "arrival":
            self._fill_table()
        self._show()

    # -- showing -----------------------------------------------------------------------
    def _order(self) -> list[int]:
        """Indexes into ``self.results`` in the order the table shows them."""
        indexes = list(range(len(self.results)))
        if self.sort == "arrival":
            return indexes[::-1] if self.sort_reverse else indexes
        return core.sort_order(self.results, self.sort, self.sort_reverse)

    def _fill_table(self) -> None:
        """The rows again in the current order, from the top: what a sort puts first
        is what the user wants to see."""
        table = self.query_one(DataTable)
        table.clear()
        for i in self._order():
            self._add_row(self.results[i], i)
        table.move_cursor(row=0, scroll=False)
        table.scroll_home(animate=False)

    def _add_row(self, r: core.Result, index: int) -> None:
        if r.ok:
            mark = {
                True: Text("hit", style="green"),
                False: Text("MISS", style="bold red"),
                None: Text(""),
            }[r.hit]
            cells = [
                safe_text(r.image, 50),
                safe_text(r.expected or "", 20),
                safe_text(r.predicted or "", 20),
                f"{r.confidence:.3f}" if r.confidence is not None else "",
                f"{r.latency_ms:.1f} ms" if r.latency_ms is not None else "",
                mark,
            ]
        else:
            style = "dim" if not r.failed else "red"
            cells = [
                safe_text(r.image, 50),
                safe_text(r.expected or "", 20),
                Text(safe_text(r.error_kind, 20), style=style),
                "",
                "",
                Text(safe_text(r.error, 80), style=style),
            ]
        self.query_one(DataTable).add_row(*cells, key=str(index))

    def _show(self) -> None:
        bar = Text(" PREDICT ", style="bold reverse")
        ep = self.endpoint
        if ep is not None:
            sig = ep.signature
            bar.append(
                f"  {ep.protocol} · {safe_text(ep.model, 40)} v{','.join(ep.versions) or '?'} "
                f"{safe_text(ep.state, 20)} · input {safe_text(sig.input_name or '?', 30)} "
                f"{sig.dtype} {'x'.join(map(str, sig.shape))} ({sig.source})"
            )
        if self.target.version or self.target.label:
            bar.append(f"  → {safe_text(self.target.words, 60)}", style="bold")
        if self.problem:
            bar.append(f"  {safe_text(self.problem, 200)}", style="red")
        elif self.running:
            bar.append(f"  running… {len(self.results)} done", style="yellow")
        if self.sort != "arrival":
            label = core.SORTS[self.sort].label
            bar.append(
                f"  · sorted {label}{' (reversed)' if self.sort_reverse else ''}", style="dim"
            )
        self.query_one("#pr-bar", Static).update(bar)
        self.query_one("#pr-summary", Static).update(self._summary_text())

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.query_one("#pr-summary", Static).update(self._summary_text())

    def _selected(self) -> core.Result | None:
        """The result under the cursor (rows are keyed by their index in results)."""
        table = self.query_one(DataTable)
        if not 0 <= table.cursor_row < table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return self.results[int(key)] if key is not None else None

    def _summary_text(self) -> Text:
        text = self._summary_only()
        picked = self._selected()
        if picked is not None and picked.top:
            text.append(f"\n{safe_text(picked.image, 60)}: ", style="bold")
            text.append(
                "   ".join(f"{safe_text(name, 20)} {score:.3f}" for name, score in picked.top)
            )
        return text

    def _summary_only(self) -> Text:
        s = self.summary
        if s is None:
            return Text(
                "ctrl+r runs the folder against the server; rows appear as answers come.",
                style="dim",
            )
        text = Text()
        text.append(
            f"{s.images} images in {s.seconds:.2f} s ({s.images_per_s:.1f}/s)", style="bold"
        )
        if s.accuracy is not None:
            style = "green" if s.accuracy >= 0.9 else "yellow" if s.accuracy >= 0.5 else "red"
            text.append(f"   accuracy {s.accuracy:.1%} of {s.labelled}", style=f"bold {style}")
        if s.p50_ms is not None:
            text.append(
                f"   latency p50 {s.p50_ms:.1f} ms, p95 {s.p95_ms:.1f} ms, max {s.max_ms:.1f} ms"
            )
        if s.skipped:
            text.append(f"   {s.skipped_line}", style="dim")
        if s.errors:
            text.append(
                "\nerrors: " + ", ".join(f"{k} {v}" for k, v in sorted(s.errors.items())),
                style="red",
            )
        if s.confused:
            text.append(
                "\nmost confused: " + ", ".join(f"{a}→{b} ×{n}" for a, b, n in s.confused),
                style="yellow",
            )
        return text

    # -- actions ---------------------------------------------------------------------------
    def action_load_test(self) -> None:
        from .load import LoadScreen

        self.app.push_screen(
            LoadScreen(self._field("url"), self._field("model"), self._field("folder"))
        )

    def action_sort(self) -> None:
        cycle = self.SORT_CYCLE
        self.sort = (
            cycle[(cycle.index(self.sort) + 1) % len(cycle)] if self.sort in cycle else cycle[1]
        )
        self.sort_reverse = False
        self._fill_table()
        self._show()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        if not 0 <= event.column_index < len(self.COLUMN_SORTS):
            return
        by = self.COLUMN_SORTS[event.column_index]
        self.sort_reverse = not self.sort_reverse if by == self.sort else False
        self.sort = by
        self._fill_table()
        self._show()

    def action_export(self) -> None:
        if self.summary is None or self.endpoint is None:
            self.notify("nothing to export yet: run first", severity="warning")
            return
        import json

        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = self.export_dir / f"mltui-predict-{stamp}"
        try:
            core.write_csv(base.with_suffix(".csv"), self.results)
            data = core.to_json(self.endpoint, self.results, self.summary)
            base.with_suffix(".json").write_text(json.dumps(data, indent=1))
        except OSError as exc:
            self.notify(
                f"could not export: {safe_text(str(exc), 300)}", severity="error", markup=False
            )
            return
        self.notify(f"wrote {safe_text(str(base), 300)}.csv and .json", markup=False)

    # -- the model panel and compare view --------------------------------------------------
    def action_model(self) -> None:
        from .model import ModelScreen

        self.app.push_screen(
            ModelScreen(self._field("url"), self._field("model"), self.engine_factory),
            self._picked,
        )

    def _picked(self, choice: Pick | ComparePick | None) -> None:
        if isinstance(choice, Pick):
            self.target = choice
            self._show()
        elif isinstance(choice, ComparePick):
            self._compare(choice)

    def _compare(self, picks: ComparePick) -> None:
        from .compare import CompareScreen

        try:
            folder = Path(self._field("folder")).expanduser()
            classes_file = self._field("classes")
            classes = core.load_classes(Path(classes_file).expanduser() if classes_file else None)
            options = core.RunOptions(
                concurrency=int(self._field("concurrency")),
                batch=int(self._field("batch")),
                scale=self.defaults.scale,
                top_k=self.defaults.top_k,
                timeout=self.defaults.timeout_s,
            )
        except (core.PredictError, OSError, ValueError) as exc:
            self.problem = str(exc)
            self._show()
            return
        if not folder.is_dir():
            self.problem = f"{safe_text(str(folder), 200)}: not a folder"
            self._show()
            return
        self.app.push_screen(
            CompareScreen(
                url=self._field("url"),
                model=self._field("model"),
                picks=picks,
                folder=folder,
                classes=classes,
                options=options,
                shape=self.defaults.shape,
            )
        )
