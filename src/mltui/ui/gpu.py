"""The GPU screen: host GPUs (NVML, refreshed live), the engine's runtimes, and a
verdict per service; `c` looks inside the selected service's replica."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Static

from ..core.engine import Engine, EngineInfo
from ..core.gpu import (
    HostGpus,
    Inside,
    Nvml,
    asked_for_gpu,
    check_inside,
    describe_inside,
    place_processes,
    read_host,
    verdict,
)
from ..core.inventory import Service, Snapshot
from ..core.textsafe import safe_text
from .subscreen import SubScreen, back_binding

REFRESH_S = 2.0


def _bar(used: float | None, total: float | None, width: int = 20) -> Text:
    if not total or used is None:
        return Text("?" * width, style="dim")
    filled = round(width * min(used / total, 1.0))
    style = "green" if used / total < 0.7 else "yellow" if used / total < 0.9 else "red"
    return Text("█" * filled, style=style) + Text("░" * (width - filled), style="dim")


class GpuScreen(SubScreen):
    BINDINGS = [
        back_binding("gpu"),
        Binding(
            "c",
            "check",
            "Check inside",
            tooltip="Look inside the service's replica: TensorFlow, PyTorch and nvidia-smi, read-only",
            id="gpu.check",
        ),
        Binding(
            "r", "refresh", "Refresh", tooltip="Read NVML and the engine again", id="gpu.refresh"
        ),
    ]

    def __init__(
        self,
        nvml_factory: Callable[[], Nvml] | None,
        engine_factory: Callable[[], Engine] | None,
        info: EngineInfo | None,
        snapshot: Snapshot | None,
        *,
        live: bool = True,
    ) -> None:
        super().__init__()
        self.nvml_factory = nvml_factory
        self.engine_factory = engine_factory
        self.info = info
        self.snapshot = snapshot
        self.live = live
        self.host: HostGpus | None = None
        self.inside: dict[str, Inside] = {}  # by service key
        self.checking: set[str] = set()
        self._rows: list[tuple] = []  # what the table shows, to skip unchanged refreshes

    def compose(self) -> ComposeResult:
        yield Static(id="gpu-bar")
        with Vertical(id="gpu-body"):
            yield Static(id="gpu-host")
            table: DataTable = DataTable(id="gpu-table", cursor_type="row")
            table.add_columns("SERVICE", "ASKED FOR", "VERDICT", "FIX")
            yield table
            yield Static(id="gpu-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self._read()
        if self.live:
            self.set_interval(REFRESH_S, self._read)
        self._show()

    # -- data --------------------------------------------------------------------------
    @work(
        thread=True, exclusive=True, exit_on_error=False, group="gpu-nvml", description="read NVML"
    )
    def _read(self) -> None:
        host = read_host(self.nvml_factory() if self.nvml_factory else None)
        place_processes(host, self.snapshot)
        self.app.call_from_thread(self._got, host)

    def _got(self, host: HostGpus) -> None:
        self.host = host
        self._show()

    def update_snapshot(self, snapshot: Snapshot, info: EngineInfo) -> None:
        self.snapshot = snapshot
        self.info = info
        self._show()

    def _services(self) -> list[Service]:
        return list(self.snapshot.services()) if self.snapshot else []

    # -- showing ---------------------------------------------------------------------------
    def _show(self) -> None:
        host = self.host
        bar = Text(" GPU ", style="bold reverse")
        if host is None:
            bar.append("  reading NVML…", style="yellow")
        elif host.problem:
            bar.append(f"  host: {safe_text(host.problem, 120)}", style="yellow")
        else:
            bar.append(
                f"  driver {host.driver} · CUDA {host.cuda} · {host.count} GPU(s)", style="bold"
            )
        runtimes = self.info.runtimes if self.info else ()
        nvidia = "nvidia" in runtimes
        bar.append(
            f"   engine: nvidia runtime {'installed' if nvidia else 'not installed'}"
            + (
                f" (default {self.info.default_runtime})"
                if self.info and self.info.default_runtime
                else ""
            ),
            style="green" if nvidia else "yellow",
        )
        cdi = self.info.cdi_spec_dirs if self.info else None
        if cdi is None:
            bar.append("  · CDI: not reported by this engine", style="dim")
        else:
            bar.append(f"  · CDI: {', '.join(cdi) or 'no spec dirs'}", style="dim")
        self.query_one("#gpu-bar", Static).update(bar)
        self.query_one("#gpu-host", Static).update(self._host_text())
        self._fill_table(runtimes)
        self._detail()

    def _host_text(self) -> Text:
        host = self.host
        text = Text()
        if host is None or not host.gpus:
            if host is not None:
                text.append("No GPU visible to NVML on this host.", style="dim")
            return text
        for gpu in host.gpus:
            text.append(f"GPU {gpu.index} ", style="bold")
            text.append(f"{safe_text(gpu.name, 40):<28} ")
            text.append_text(_bar(gpu.memory_used_mib, gpu.memory_total_mib))
            mem = (
                f" {gpu.memory_used_mib:,.0f}/{gpu.memory_total_mib:,.0f} MiB"
                if gpu.memory_total_mib
                else " memory ?"
            )
            text.append(mem)
            util = "?" if gpu.utilization is None else f"{gpu.utilization}%"
            temp = "?" if gpu.temperature is None else f"{gpu.temperature}°C"
            power = "?" if gpu.power_w is None else f"{gpu.power_w:.0f} W"
            mig = "?" if gpu.mig is None else ("on" if gpu.mig else "off")
            text.append(f"\n      util {util:>4}  {temp}  {power}  MIG {mig}  ", style="")
            text.append(safe_text(gpu.uuid, 48) + "\n", style="dim")
            for p in gpu.processes:
                where = p.where or (p.container_id[:12] if p.container_id else "host process")
                mem_p = "?" if p.memory_mib is None else f"{p.memory_mib:,.0f} MiB"
                text.append(
                    f"    pid {p.pid:<8} {mem_p:>10}  {safe_text(where, 80)}\n", style="cyan"
                )
        return text

    def _fill_table(self, runtimes: tuple[str, ...]) -> None:
        host = self.host or HostGpus(problem="reading NVML…")
        rows = []
        for svc in self._services():
            v = verdict(svc, host, runtimes, self.inside.get(svc.key))
            asked = svc.gpu.summary if asked_for_gpu(svc.gpu) and svc.gpu else "—"
            state = "checking…" if svc.key in self.checking else v.reason
            rows.append((svc.key, svc.label, asked, state, v.ok, v.fix))
        if rows == self._rows:
            return  # NVML refreshes every 2 s; the verdicts rarely change: no table work
        self._rows = rows
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for key, label, asked, state, ok, fix in rows:
            table.add_row(
                safe_text(label, 40),
                safe_text(asked, 30),
                Text(safe_text(state, 90), style="green" if ok else "yellow"),
                Text(safe_text(fix, 80), style="dim"),
                key=key,
            )
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))

    def _selected(self) -> Service | None:
        services = self._services()
        row = self.query_one(DataTable).cursor_row
        return services[row] if 0 <= row < len(services) else None

    def _detail(self) -> None:
        svc = self._selected()
        text = Text()
        if svc is not None:
            text.append(safe_text(svc.name, 60), style="bold")
            # the verdict in full: the table cuts it at the edge of a narrow terminal
            row = next((r for r in self._rows if r[0] == svc.key), None)
            if row is not None:
                _key, _label, _asked, state, ok, fix = row
                text.append("  " + safe_text(state, 300), style="green" if ok else "yellow")
                if fix:
                    text.append("\n" + safe_text(fix, 300), style="dim")
            text.append("\n")
            inside = self.inside.get(svc.key)
            if inside is not None:
                text.append("inside: " + safe_text(describe_inside(inside), 200))
            else:
                text.append(
                    "c looks inside a running replica (TensorFlow, PyTorch, nvidia-smi)",
                    style="dim",
                )
        self.query_one("#gpu-detail", Static).update(text)

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._detail()

    def check_when_ready(self, key: str) -> None:
        """Put the cursor on service ``key`` and look inside it (the palette's "GPU
        check of ..."); waits for the screen's first table."""
        if not self.is_mounted:
            self.call_after_refresh(self.check_when_ready, key)
            return
        keys = [svc.key for svc in self._services()]
        if key not in keys:
            self.notify("that service is gone from the inventory", severity="warning")
            return
        self.query_one(DataTable).move_cursor(row=keys.index(key))
        self.action_check()

    # -- actions ---------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self._read()

    def action_check(self) -> None:
        svc = self._selected()
        if svc is None or self.engine_factory is None:
            return
        running = [r for r in svc.replicas if r.running and r.container_id]
        if not running:
            self.notify(
                f"{safe_text(svc.name, 40)}: no running replica to look inside", severity="warning"
            )
            return
        self.checking.add(svc.key)
        self._show()
        self._check(svc.key, running[0].container_id)

    @work(
        thread=True, exit_on_error=False, group="gpu-check", description="look inside a container"
    )
    def _check(self, key: str, container_id: str) -> None:
        assert self.engine_factory is not None
        engine = self.engine_factory()
        try:
            inside = check_inside(engine, container_id)
        except Exception as exc:  # the engine went away: say so in the row
            inside = Inside(problem=safe_text(getattr(exc, "message", str(exc)), 200))
        finally:
            engine.close()
        self.app.call_from_thread(self._checked, key, inside)

    def _checked(self, key: str, inside: Inside) -> None:
        self.checking.discard(key)
        self.inside[key] = inside
        self._show()
