"""The load test screen: throughput and p95 against concurrency, drawn as the
levels run (textual-plotext), a progress bar per level, the figures below."""

from __future__ import annotations

import threading
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer, Input, Label, ProgressBar, Static
from textual_plotext import PlotextPlot

from ..core import predict as core
from ..core.predict import load
from ..core.predict.load_stats import LevelResult, find_knee
from ..core.textsafe import safe_text
from .subscreen import SubScreen

FIELDS = (
    ("url", "URL"),
    ("model", "model"),
    ("folder", "folder"),
    ("levels", "workers"),
    ("seconds", "s a level"),
    ("version", "version"),
)


class LoadScreen(SubScreen):
    BINDINGS = [
        Binding(
            "escape", "back", "Back", tooltip="Back (a running test is stopped)", id="load.back"
        ),
        Binding(
            "ctrl+r",
            "run",
            "Run",
            tooltip="Run the load test: each concurrency level in turn, bounded in time "
            "and requests",
            id="load.run",
        ),
        Binding(
            "ctrl+s",
            "stop",
            "Stop",
            tooltip="Stop the running test; the levels run so far are kept",
            id="load.stop",
        ),
    ]

    def __init__(
        self,
        url: str = "http://127.0.0.1:8501",
        model: str = "my_model",
        folder: str = ".",
        levels: str = "1,2,4,8,16",
        seconds: float = 10.0,
        *,
        report: load.LoadReport | None = None,
        max_requests: int = 50_000,
    ) -> None:
        super().__init__()
        self.start = {
            "url": url,
            "model": model,
            "folder": folder,
            "levels": levels,
            "seconds": f"{seconds:g}",
            "version": report.version or "" if report else "",
        }
        self.report = report
        self.levels: list[int] = [lv.concurrency for lv in report.levels] if report else []
        self.done: list[LevelResult] = list(report.levels) if report else []
        self.live: load.LoadProgress | None = None
        self.running = False
        self.problem = ""
        self.max_requests = max_requests
        self.stop_event = threading.Event()

    def compose(self) -> ComposeResult:
        yield Static(id="ld-bar")
        with Container(id="ld-form"):
            for key, label in FIELDS:
                with Vertical(classes="ld-field"):
                    yield Label(label)
                    yield Input(self.start[key], id=f"ld-{key}", compact=True)
        with Horizontal(id="ld-main"):
            yield PlotextPlot(id="ld-chart")
            yield VerticalScroll(id="ld-progress")
        yield Static(id="ld-table")
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#ld-folder", Input).focus()
        if self.report is not None:
            seconds = self.report.duration_s
            await self._make_bars(self.levels, seconds)
            for index, level in enumerate(self.done):
                self.query_one(f"#ld-level-bar-{index}", ProgressBar).update(progress=seconds)
                self._label(index, level.concurrency, level)
        self._show()

    def on_unmount(self) -> None:
        self.stop_event.set()  # a test still running ends with its level

    # -- running -------------------------------------------------------------------
    def _field(self, key: str) -> str:
        return self.query_one(f"#ld-{key}", Input).value.strip()

    async def action_run(self) -> None:
        if self.running:
            return
        try:
            levels = load.parse_levels(self._field("levels"))
            seconds = float(self._field("seconds"))
            if not 0 < seconds <= load.MAX_LEVEL_S:
                raise load.LoadError(f"s a level: more than 0, at most {load.MAX_LEVEL_S:g}")
        except ValueError as exc:  # LoadError is one
            message = str(exc) if isinstance(exc, load.LoadError) else "s a level: a number"
            self.problem = message
            self._show()
            return
        self.problem = ""
        self.report = None
        self.levels, self.done, self.live = list(levels), [], None
        self.stop_event = threading.Event()
        self.running = True
        await self._make_bars(self.levels, seconds)
        self._show()
        self._run(
            self._field("url"),
            self._field("model"),
            self._field("folder"),
            levels,
            seconds,
            self._field("version") or None,
            self.stop_event,
        )

    def action_stop(self) -> None:
        if self.running:
            self.stop_event.set()

    def action_back(self) -> None:
        self.stop_event.set()
        super().action_back()

    async def on_input_submitted(self, _event: Input.Submitted) -> None:
        await self.action_run()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load", description="load test")
    def _run(
        self,
        url: str,
        model: str,
        folder: str,
        levels: tuple[int, ...],
        seconds: float,
        version: str | None,
        stop: threading.Event,
    ) -> None:
        try:
            path = Path(folder).expanduser()
            if not path.is_dir():
                raise core.PredictError(f"{folder}: not a folder")
            endpoint = core.detect(url, model)
            bodies = load.load_bodies(endpoint, path)
            refused = load.probe(endpoint, bodies[0], version)
            if refused is not None and refused.kind == "server 4xx":
                raise core.PredictError(
                    f"the first request failed: {refused.status} {refused.message}"
                )
        except (core.PredictError, OSError, ValueError) as exc:
            self._from_thread(self._failed, str(exc))
            return
        report = load.run_load(
            endpoint,
            bodies,
            levels,
            seconds,
            self.max_requests,
            version,
            progress=lambda step: self._from_thread(self._progress, step),
            stop=stop,
        )
        self._from_thread(self._finished, report)

    def _from_thread(self, handler: object, *args: object) -> None:
        """Hand a result to the UI, unless the screen has gone (Back during a run)."""
        if self.is_attached:
            try:
                self.app.call_from_thread(handler, *args)  # type: ignore[arg-type]
            except RuntimeError:  # the app closed meanwhile
                pass

    def _failed(self, message: str) -> None:
        if not self.is_attached:
            return
        self.running = False
        self.problem = message
        self._show()

    def _progress(self, step: load.LoadProgress) -> None:
        if not self.is_attached:
            return
        bar = self.query_one(f"#ld-level-bar-{step.index}", ProgressBar)
        if step.done is not None:
            self.done.append(step.done)
            self.live = None
            bar.update(progress=step.duration_s)
            self._label(step.index, step.concurrency, step.done)
            self._draw()
        else:
            self.live = step
            bar.update(progress=min(step.elapsed_s, step.duration_s))
            self._label(step.index, step.concurrency, None, step)
            self._draw()
        self._show()

    def _finished(self, report: load.LoadReport) -> None:
        if not self.is_attached:
            return
        self.running = False
        self.report = report
        self.live = None
        self._show()

    # -- showing -------------------------------------------------------------------
    async def _make_bars(self, levels: list[int], seconds: float) -> None:
        box = self.query_one("#ld-progress", VerticalScroll)
        await box.remove_children()
        rows: list[Widget] = []
        for index, concurrency in enumerate(levels):
            rows.append(
                Label(
                    f"{concurrency} worker{'s' if concurrency > 1 else ''}", id=f"ld-label-{index}"
                )
            )
            rows.append(
                ProgressBar(
                    total=seconds,
                    show_eta=False,
                    id=f"ld-level-bar-{index}",
                    classes="ld-level-bar",
                )
            )
        await box.mount_all(rows)
        self._draw()

    def _label(
        self,
        index: int,
        concurrency: int,
        level: LevelResult | None,
        step: load.LoadProgress | None = None,
    ) -> None:
        text = Text(f"{concurrency} worker{'s' if concurrency > 1 else ''}", style="bold")
        if level is not None:
            text.append(f"  {level.throughput:.1f}/s")
            if level.p95_ms is not None:
                text.append(f"  p95 {level.p95_ms:.0f} ms")
            if level.failed:
                text.append(f"  {level.failed} err", style="red")
        elif step is not None:
            text.append(f"  {step.requests} requests", style="dim")
            if step.failed:
                text.append(f"  {step.failed} failed", style="red")
        self.query_one(f"#ld-label-{index}", Label).update(text)

    def _draw(self) -> None:
        """Throughput (left axis) and p95 (right axis) against the levels, at even
        steps (the levels usually double), the running level's throughput so far."""
        plt = self.query_one(PlotextPlot).plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("throughput and p95 latency by concurrency")
        plt.xlabel("workers")
        positions: list[float] = [float(i) for i in range(1, len(self.levels) + 1)]
        if positions:
            plt.xticks(positions, [str(n) for n in self.levels])
            plt.xlim(0.5, len(positions) + 0.5)
        xs = [self.levels.index(lv.concurrency) + 1 for lv in self.done]
        rps = [lv.throughput for lv in self.done]
        if self.live is not None and self.live.elapsed_s > 0:
            xs.append(self.live.index + 1)
            rps.append((self.live.requests - self.live.failed) / self.live.elapsed_s)
        if xs:
            plt.plot(xs, rps, label="req/s", marker="hd", color="cyan")
        timed = [(i, lv.p95_ms) for i, lv in zip(xs, self.done, strict=False) if lv.p95_ms]
        if timed:
            plt.plot(
                [i for i, _ in timed],
                [p for _, p in timed],
                label="p95 ms",
                marker="hd",
                color="orange",
                yside="right",
            )
        self.query_one(PlotextPlot).refresh()

    def _show(self) -> None:
        bar = Text(" LOAD TEST ", style="bold reverse")
        report = self.report
        if report is not None:
            bar.append(f"  {safe_text(report.url, 120)}")
        if self.problem:
            bar.append(f"  {safe_text(self.problem, 200)}", style="red")
        elif self.running:
            step = self.live
            where = f" level {step.index + 1}/{step.levels}" if step else ""
            bar.append(f"  running…{where}", style="yellow")
        elif report is not None and report.stopped:
            bar.append(f"  {report.stopped}", style="yellow")
        self.query_one("#ld-bar", Static).update(bar)
        self.query_one("#ld-table", Static).update(self._table())

    def _table(self) -> Text:
        if not self.done:
            return Text(
                "ctrl+r sends the folder's images from 1, 2, 4… workers at once, each level "
                "for its seconds; the chart fills in as levels end.",
                style="dim",
            )
        text = Text()
        text.append(
            f"{'workers':<7} {'requests':>8} {'failed':>6} {'req/s':>8} {'images/s':>8} "
            f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}\n",
            style="bold",
        )
        for lv in self.done:
            text.append(
                f"{lv.concurrency:<7} {lv.requests:>8} {lv.failed:>6} {lv.throughput:>8.1f} "
                f"{lv.images_per_s:>8.1f} {_ms(lv.p50_ms):>8} {_ms(lv.p95_ms):>8} "
                f"{_ms(lv.p99_ms):>8} {_ms(lv.max_ms):>8}\n"
            )
        knee = find_knee(self.done)
        if knee is None:
            text.append("knee: none so far (throughput still growing)", style="green")
        else:
            text.append(
                f"knee: {knee} worker{'s' if knee > 1 else ''} (past it throughput grows less than 10% while p95 rises)",
                style="bold yellow",
            )
        errors = [(lv.concurrency, k, n) for lv in self.done for k, n in lv.errors.items()]
        if errors:
            errors.sort(key=lambda e: -e[2])
            text.append(
                "\nerrors: "
                + "; ".join(
                    f"{c} workers: {n} {k.kind}{f' {k.status}' if k.status else ''} "
                    f"{safe_text(k.message, 60)}"
                    for c, k, n in errors[:3]
                ),
                style="red",
            )
        spread: dict[str, int] = {}
        for lv in self.done:
            for name, n in lv.replicas.items():
                spread[name] = spread.get(name, 0) + n
        if len(spread) > 1:
            total = sum(spread.values()) or 1
            text.append(
                "\nanswers by replica: "
                + ", ".join(
                    f"{safe_text(name, 20)} {n / total:.0%}" for name, n in sorted(spread.items())
                ),
                style="dim",
            )
        return text


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
