"""Resource usage on the services screen: the pane of sparklines under the
detail, and the loop that reads the figures in a thread at one interval.

What is read, and every cell's text, comes from core (``core/usage.py``,
``core/stats``); here are only the widgets and the worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Label, Sparkline, Static
from textual.worker import Worker

from ..core.detail import Detail
from ..core.stats import (
    ContainerStats,
    Series,
    StatsHistory,
    StatsReader,
    StatsTarget,
    format_bytes,
    format_cpu,
)
from ..core.usage import GpuReads, GpuUse, Usage


def trend(points: Sequence[float]) -> list[float]:
    """The points a sparkline draws: none until there are two (Textual's Sparkline
    draws a single value as a full-height bar, which reads as a peak)."""
    return list(points) if len(points) > 1 else []


class UsagePane(Vertical):
    """CPU and memory sparklines of the selected replica or service, and the
    figures under them (network, block I/O, PIDs, the memory limit, GPU)."""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="usage-line"):
            yield Label("CPU", id="usage-cpu-label", classes="usage-label")
            yield Sparkline([], id="usage-cpu")
        with Horizontal(classes="usage-line"):
            yield Label("MEM", id="usage-mem-label", classes="usage-label")
            yield Sparkline([], id="usage-mem")
        yield Static(id="usage-figures")

    def show(self, series: Series, figures: Text) -> None:
        # one point is no trend: Sparkline would draw it as a full bar
        self.query_one("#usage-cpu", Sparkline).data = trend(series.cpu)
        self.query_one("#usage-mem", Sparkline).data = trend(series.memory)
        last_cpu = series.cpu[-1] if series.cpu else None
        last_mem = int(series.memory[-1]) if series.memory else None
        self.query_one("#usage-cpu-label", Label).update(f"CPU {format_cpu(last_cpu):>7}")
        self.query_one("#usage-mem-label", Label).update(
            f"MEM {format_bytes(last_mem) if last_mem is not None else 'n/a':>9}"
        )
        self.query_one("#usage-figures", Static).update(figures)


def detail_text(pieces: Detail, styles: dict[Any, str]) -> Text:
    text = Text()
    for piece in pieces:
        text.append(piece.text, style=styles[piece.tone])
    return text


class StatsFeed:
    """Reads the figures of the containers ``targets()`` names, every ``interval``
    seconds, in a thread worker of ``owner``; hands each read to ``apply`` on the
    UI thread. One read at a time: a slow engine makes reads rarer, never queued.
    On a GPU host (NVML answers once) the GPU figures come with each read."""

    def __init__(
        self,
        owner: Widget,
        make_reader: Callable[[], StatsReader],
        targets: Callable[[], Sequence[StatsTarget]],
        apply: Callable[[Usage], None],
        *,
        interval: float,
        nvml_factory: Callable[[], Any] | None = None,
        history: StatsHistory | None = None,
    ) -> None:
        self.owner = owner
        self.make_reader = make_reader
        self.targets = targets
        self.apply = apply
        self.interval = interval
        self.nvml_factory = nvml_factory
        self.history = history or StatsHistory()
        self.reads = 0  # reads applied so far
        self._reader: StatsReader | None = None
        self._timer: Timer | None = None
        self._worker: Worker[Any] | None = None
        self._gpu = GpuReads(nvml_factory)
        self._generation = 0  # a read started before a stop is dropped

    @property
    def running(self) -> bool:
        return self._timer is not None

    def start(self) -> None:
        if self._timer is None:
            self._timer = self.owner.set_interval(self.interval, self.tick)
            self.tick()

    def stop(self) -> None:
        self._generation += 1
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None

    def close(self) -> None:
        self.stop()
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def tick(self) -> None:
        """Start a read unless one is under way."""
        if self._worker is not None and not self._worker.is_finished:
            return
        targets = list(self.targets())
        if not targets:
            return  # nothing on screen to read (or the engine is away): the figures stay
        if self._reader is None:
            self._reader = self.make_reader()
        reader, generation = self._reader, self._generation
        self._worker = self.owner.run_worker(
            lambda: self._read(reader, targets, generation),
            thread=True,
            group="stats",
            exit_on_error=False,
            description="read container stats",
        )

    def _read(self, reader: StatsReader, targets: list[StatsTarget], generation: int) -> None:
        stats: dict[str, ContainerStats] = reader.read(targets)
        gpu = self._read_gpu()
        self.owner.app.call_from_thread(self._done, stats, gpu, generation)

    def _read_gpu(self) -> dict[str, GpuUse] | None:
        """Per container its GPU use; None when the host has no GPU NVML can read
        (asked once: a host without a driver is not asked again)."""
        return self._gpu.read()

    def _done(self, stats: dict[str, ContainerStats], gpu: Any, generation: int) -> None:
        if generation != self._generation:
            return
        self.history.record(stats)
        if stats:
            self.reads += 1  # reads that had containers to read
        self.apply(Usage(stats, gpu))
