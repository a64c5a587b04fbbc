"""The Textual application: engine workers, and the screens they feed."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from ..core.config import Config, Problem
from ..core.engine import Backoff, Engine, EngineError, EngineInfo, EngineUnavailable
from ..core.inventory.coalesce import Changes, EventCoalescer
from ..core.inventory.events import SettleSchedule
from ..core.inventory.model import Service, Snapshot
from ..core.inventory.reader import WarmStart
from ..core.roles import is_notebook, serving_target
from ..core.state import load_state, remember
from .app_bindings import Everywhere
from .commands import ServiceCommands
from .messages import EngineStateChanged, RefreshWanted, SnapshotReady
from .requests import GoToService, OpenGpu, OpenLogs, OpenNotebooks, OpenPredict, OpenRoll
from .services import ServicesScreen

EngineFactory = Callable[[], Engine]
DEFAULT_THEME = "textual-dark"  # when the config names none
OWN_BINDINGS = ("app.", "services.", "logs.", "jupyter.", "gpu.", "predict.", "load.")

# The engine's event stream drives refreshes (events also mark which containers
# to inspect again); a slow poll (config: engine.refresh_fallback_s) is only a
# safety net behind it.
# The event stream is read in windows of this length, so the reading thread
# wakes up (and can stop) even when the engine is quiet.
EVENT_WINDOW_S = 15.0
# At start, the full snapshot and the event stream wait (at most this long) for
# the first rows to be painted.
FIRST_PAINT_WAIT_S = 2.0
# Several events in a burst (a stack deploy sends dozens) make one refresh, which
# reads only what they named: core/inventory/coalesce.py (EventCoalescer).


class MltuiApp(App[int]):
    CSS_PATH = "mltui.tcss"
    TITLE = "mltui"
    COMMANDS = App.COMMANDS | {ServiceCommands}
    # screens under 120 columns get the class -narrow (a denser layout), others -wide
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = Everywhere.BINDINGS

    def __init__(
        self,
        engine_factory: EngineFactory | None = None,
        *,
        poll_interval: float | None = None,
        log_lines: int | None = None,
        nvml_factory: Callable[[], Any] | None = None,
        clock: Callable[[], float] = time.time,
        config: Config | None = None,
        config_problems: list[Problem] | None = None,
        warm: WarmStart | None = None,
    ) -> None:
        self.config = config or Config()
        self.config_problems = list(config_problems or [])
        self.clock = clock
        # Log readers decode floods in threads: hand the GIL back to the UI every
        # 1 ms instead of 5, so keys stay quick (bench/logs.py: p95 ~10 ms, not ~25).
        sys.setswitchinterval(0.001)
        self.engine_factory: EngineFactory = engine_factory or Engine
        # Connect while Textual starts (the command line starts this even before
        # it imports Textual): the first round trips overlap the start-up.
        self._warm_start: WarmStart | None = warm or WarmStart(self.engine_factory(), clock).start()
        self.engine: Engine = self._warm_start.engine
        self.inventory = self._warm_start.inventory
        # the engine's event stream opens once the first snapshot is on screen
        # (events since the start are replayed, none is lost)
        self._painted = threading.Event()
        super().__init__()
        self.poll_interval = poll_interval or self.config.engine.refresh_fallback_s
        self.log_lines = log_lines or self.config.logs.max_lines
        self.nvml_factory = nvml_factory  # None: nvidia-ml-py itself
        self.engine_info: EngineInfo = self.engine.down_info("", state="connecting")
        self.snapshot: Snapshot | None = None
        self._stream = None
        self._refresh_running = False
        self._refresh_again = False
        self._refresh_timer: Timer | None = None
        self._bursts = EventCoalescer()
        self.snapshots_applied = 0
        self._quick_painted = False
        self._stopping = False
        self._settling = SettleSchedule()
        self._settle_timer: Timer | None = None
        self._connected_before = False  # the watcher has connected once

    # -- lifecycle -------------------------------------------------------------
    async def on_mount(self) -> None:
        self._apply_config()
        self._theme_kept = self.theme
        self.theme_changed_signal.subscribe(self, self._on_theme_picked)
        self.services = ServicesScreen()
        await self.push_screen(self.services)
        self.services.show_engine(self.engine_info)
        self.watch_engine()
        self.set_interval(self.poll_interval, self._poll)
        for problem in self.config_problems:
            self.notify(str(problem), title="Configuration", severity="warning", timeout=20)

    def _apply_config(self) -> None:
        """The config's theme and keymap; what cannot be used becomes a problem shown
        at start, and the default stays."""
        config = self.config
        if not config.theme:
            # the last theme picked in the palette, where the config names none
            remembered = load_state().get("theme", "")
            self.theme = remembered if remembered in self.available_themes else DEFAULT_THEME
        elif config.theme in self.available_themes:
            self.theme = config.theme
        else:
            names = ", ".join(sorted(self.available_themes))
            self.config_problems.append(
                config.problem("theme", f"no theme {config.theme!r}; one of {names}")
            )
        if config.keys:
            from .help import binding_ids

            known = binding_ids()
            keymap = {}
            for ident, keys in config.keys.items():
                if ident in known:
                    keymap[ident] = keys
                else:
                    self.config_problems.append(
                        config.problem(
                            f"keys.{ident}", "no binding has this id (`?` lists them); ignored"
                        )
                    )
            self.set_keymap(keymap)

    def _on_theme_picked(self, theme: Theme) -> None:
        """Remember a theme the user picked, for the next start; a theme the config
        names wins at the next start, and the user is told so."""
        if theme.name == self._theme_kept:
            return
        self._theme_kept = theme.name
        config = self.config
        if config.theme in self.available_themes:
            if theme.name != config.theme:
                where = Path(config.path).name if config.path else "the config"
                self.notify(
                    f"{where} sets theme = {config.theme!r}, which the next start uses",
                    title="Theme",
                    timeout=6,
                )
            return
        error = remember("theme", theme.name)
        if error:
            self.notify(error, title="Theme", severity="warning", timeout=10)

    # -- help and the palette ------------------------------------------------------
    def action_help(self) -> None:
        from .help import HelpScreen, screens

        if isinstance(self.screen, HelpScreen):
            return
        current = next(
            (title for title, cls in screens() if isinstance(self.screen, cls)), "Services"
        )
        self.push_screen(HelpScreen(current, self.config.keys))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own (theme, keys, screenshot, quit) and every binding of the
        screen the palette was opened on, by its description."""
        yield from super().get_system_commands(screen)
        seen = {"quit", "change_theme", "command_palette", "help"}
        for active in screen.active_bindings.values():
            b = active.binding
            if not (b.id or "").startswith(OWN_BINDINGS) or b.action in seen:
                continue
            seen.add(b.action)
            yield SystemCommand(
                f"{b.description} ({self.get_key_display(b)})",
                b.tooltip or b.description,
                partial(self.run_action, b.action, active.node),
            )
        yield SystemCommand("Help", "Every key of every screen", self.action_help)

    def on_unmount(self) -> None:
        # stop the watcher before closing its stream, or it opens the next window
        # and the process waits for that window to end before it can exit
        self._stopping = True
        self.workers.cancel_group(self, "engine")
        self._close_stream()
        self.engine.close()

    def _hold(self, stream: Any) -> None:
        """Keep the watcher's stream where on_unmount can close it; a stream opened
        while the app was closing is closed at once."""
        self._stream = stream
        if self._stopping:
            self._close_stream()

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    # -- the engine watcher (thread) ---------------------------------------------
    @work(
        thread=True,
        exclusive=True,
        group="engine",
        exit_on_error=False,
        description="watch the engine",
    )
    def watch_engine(self) -> None:
        """Connect, follow the event stream, reconnect with backoff when it breaks."""
        worker = get_current_worker()
        backoff = Backoff()
        while not worker.is_cancelled and not self._stopping:
            try:
                # the stream below replays events from `since`, before any snapshot
                since = time.time()
                info = self._take_warm_up() or self.engine.info()
                self.inventory.set_info(info)
                # the engine may have restarted (containers it restarted keep their
                # ids and states, their events came before `since`): inspect again
                self.inventory.invalidate()
                self.post_message(EngineStateChanged(info))
                if self._quick_painted:
                    # let the first rows reach the screen before the full snapshot
                    # (inspects) and docker-py's import (for the event stream) start
                    self._wait(worker, FIRST_PAINT_WAIT_S, until=self._painted)
                # the full snapshot at once, no debounce; events from `since` on
                # are replayed by the stream opened next, so none is missed
                self.post_message(RefreshWanted(now=True))
                until = since + EVENT_WINDOW_S
                stream = self.engine.events(since=since, until=until)
            except EngineError as exc:
                # nothing answers, or an engine still starting refuses: retry
                state = "reconnecting" if self._connected_before else "down"
                self.post_message(EngineStateChanged(self.engine.down_info(exc.message, state)))
                self._wait(worker, backoff.next())
                continue
            backoff.reset()
            self._connected_before = True  # on the app: outlives a restarted watcher
            self._hold(stream)
            try:
                while not worker.is_cancelled and not self._stopping:
                    for event in stream:
                        if worker.is_cancelled:
                            break
                        self._on_event(event)
                    stream.close()
                    if worker.is_cancelled or self._stopping:
                        break
                    # the window ended: the next one starts where it stopped, losing nothing
                    since, until = until, max(until, time.time()) + EVENT_WINDOW_S
                    stream = self.engine.events(since=since, until=until)
                    self._hold(stream)
            except EngineError as exc:
                if worker.is_cancelled:
                    break
                self.post_message(
                    EngineStateChanged(self.engine.down_info(exc.message, "reconnecting"))
                )
                self._wait(worker, backoff.next())
            finally:
                stream.close()

    def _take_warm_up(self) -> EngineInfo | None:
        """What the start-up connection found: its engine info, after posting its
        list-only snapshot; None once used (reconnects read afresh)."""
        if self._warm_start is None:
            return None
        found = self._warm_start.take()
        self._warm_start = None
        info: EngineInfo | None = None
        for item in found:
            if isinstance(item, EngineUnavailable):
                raise item
            if isinstance(item, Snapshot):
                self._quick_painted = True
                self.post_message(SnapshotReady(item))
            else:
                info = item
        return info

    def _on_event(self, event: dict) -> None:
        # one message per burst, not per event; the refresh reads what the burst named
        if self._bursts.add(event):
            self.post_message(RefreshWanted())

    @staticmethod
    def _wait(worker: Worker, seconds: float, until: threading.Event | None = None) -> None:
        """Sleep ``seconds``, less once ``until`` is set or the worker is cancelled."""
        until = until or threading.Event()
        deadline = time.monotonic() + seconds
        while not worker.is_cancelled and time.monotonic() < deadline:
            if until.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
                return

    # -- refreshes -------------------------------------------------------------
    def _poll(self) -> None:
        if self.engine_info.connected:
            self._bursts.want_everything()
            self.post_message(RefreshWanted())

    def _settle(self, snapshot: Snapshot) -> None:
        """Read the inventory again soon while what it shows is still moving and no
        event will say so: a swarm task between states, or just after a reconnect
        (core/inventory/events.py, SettleSchedule); what such a check reads reaches
        the screens only when something moved."""
        if self._settle_timer is None:
            delay = self._settling.next_delay(snapshot)
            if delay is not None:
                self._settle_timer = self.set_timer(delay, self._settle_due)

    def _settle_due(self) -> None:
        """A settle check joins the event refreshes (one a second at most under
        churn, one every 2 s under a crash loop: EventCoalescer): it reads the swarm's tasks again, or everything just after a
        reconnect; what it reads reaches the screens only when something moved."""
        self._settle_timer = None
        if self.engine_info.connected:
            wanted = Changes(swarm=True, everything=self._settling.recovering())
            if self._bursts.want(wanted):
                self.post_message(RefreshWanted())

    def action_refresh(self) -> None:
        self.inventory.invalidate()
        self._bursts.want_everything()
        self.post_message(RefreshWanted())

    def on_refresh_wanted(self, message: RefreshWanted) -> None:
        if message.now:
            if self._refresh_timer is not None:
                self._refresh_timer.stop()
                self._refresh_timer = None
            self._bursts.want_everything()
            self._start_refresh()
        elif self._refresh_timer is None:
            self._burst_due()

    def _burst_due(self) -> None:
        """Start the refresh once the pending burst is complete (or look again then)."""
        self._refresh_timer = None
        due = self._bursts.due_in()
        if due is None:
            return
        if due > 0:
            self._refresh_timer = self.set_timer(due, self._burst_due)
        else:
            self._start_refresh()

    def _start_refresh(self) -> None:
        if self._refresh_running:
            self._refresh_again = True  # the burst stays pending until this one ends
            return
        changes = self._bursts.take()
        if changes is None:
            return
        self._refresh_running = True
        self.take_snapshot(first=self.snapshot is None and not self._quick_painted, changes=changes)

    @work(
        thread=True,
        exclusive=False,
        group="refresh",
        exit_on_error=False,
        description="read the inventory",
    )
    def take_snapshot(self, first: bool = False, changes: Changes | None = None) -> None:
        try:
            if first:
                # paint from the three list calls at once, then inspect what is new
                self.post_message(SnapshotReady(self.inventory.snapshot(inspect_new=False)))
            snapshot = self.inventory.snapshot(changes=changes)
        except EngineUnavailable as exc:
            # the watcher notices too and reconnects; say so at once
            self.post_message(
                EngineStateChanged(self.engine.down_info(exc.message, "reconnecting"))
            )
            return
        self.post_message(SnapshotReady(snapshot))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "refresh" and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self._refresh_running = False
            if event.state == WorkerState.ERROR and worker.error is not None:
                self.notify(
                    f"Reading the inventory failed: {worker.error}", severity="error", timeout=8
                )
            if self._refresh_again:
                self._refresh_again = False
                self.post_message(RefreshWanted())
        elif worker.group == "engine" and event.state == WorkerState.ERROR:
            self.notify(
                f"The engine watcher stopped: {worker.error}; restarting it",
                severity="error",
                timeout=8,
            )
            self.set_timer(2.0, self.watch_engine)

    def open_logs(self, service: Service, replica: int | None = None) -> None:
        """The logs screen for ``service`` (all replicas merged) or one replica slot."""
        from .logs import LogScreen

        self.push_screen(
            LogScreen(
                self.engine_factory,
                service,
                replica,
                max_lines=self.log_lines,
                timestamps=self.config.logs.timestamps,
                wrap=self.config.logs.wrap,
            )
        )

    def open_notebooks(self, service: Service | None = None) -> None:
        """The notebooks screen, for ``service`` when it runs Jupyter, else for all."""
        from .jupyter import NotebookScreen

        key = None
        if service is not None and is_notebook(service):
            key = service.key
        self.push_screen(NotebookScreen(self.engine_factory, self.snapshot, key))

    def open_gpu(self, check: Service | None = None) -> None:
        """The GPU screen; with ``check``, its cursor on that service, looking inside."""
        from .gpu import GpuScreen

        screen = GpuScreen(self.nvml_factory, self.engine_factory, self.engine_info, self.snapshot)
        self.push_screen(screen)
        if check is not None:
            screen.check_when_ready(check.key)

    def open_predict(self, service: Service | None = None) -> None:
        """The predict screen, its URL guessed from ``service``'s published port."""
        from .predict import PredictScreen, guess_url

        snapshot = self.snapshot
        service = serving_target(list(snapshot.services()) if snapshot else [], service)
        running = [r for r in service.replicas if r.running] if service is not None else []
        self.push_screen(
            PredictScreen(
                url=guess_url(service),
                engine_factory=self.engine_factory,
                container_id=running[0].container_id if running else "",
                defaults=self.config.predict,
                service=service.label if service is not None else "",
                engine_name=self.engine.target.display,
            )
        )

    def open_roll(self, service: Service | None) -> None:
        """Which image, then the roll screen for ``service``; it asks before it changes
        anything."""
        from .roll import ask_then_roll

        if self.config.read_only:
            self.notify("refused: mltui is read-only (read_only = true)", severity="warning")
            return
        if service is None or service.kind not in ("swarm", "compose"):
            self.notify(
                "roll out: put the cursor on a swarm or Compose service", severity="warning"
            )
            return
        ask_then_roll(self, service, self.engine_factory, self.config.predict)

    # -- what screens and the palette ask for (ui/requests.py) -------------------
    @on(OpenLogs)
    def _open_logs_asked(self, message: OpenLogs) -> None:
        self.open_logs(message.service, message.replica)

    @on(OpenNotebooks)
    def _open_notebooks_asked(self, message: OpenNotebooks) -> None:
        self.open_notebooks(message.service)

    @on(OpenGpu)
    def _open_gpu_asked(self, message: OpenGpu) -> None:
        self.open_gpu(message.check)

    @on(OpenRoll)
    def _open_roll_asked(self, message: OpenRoll) -> None:
        self.open_roll(message.service)

    @on(OpenPredict)
    def _open_predict_asked(self, message: OpenPredict) -> None:
        self.open_predict(message.service)

    @on(GoToService)
    def _go_to_service_asked(self, message: GoToService) -> None:
        self.services.goto_service(message.key)

    def on_engine_state_changed(self, message: EngineStateChanged) -> None:
        self._settling.engine_changed(self.engine_info.connected, message.info.connected)
        self.engine_info = message.info
        self.services.show_engine(message.info)

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        current = self.snapshot
        if current is not None and message.snapshot.taken_at < current.taken_at:
            return  # an older read overtaken by a newer one
        # a refresh that found nothing new (a poll, a settle check, events that
        # changed nothing shown) costs no redraw
        same = current is not None and (
            message.snapshot.stacks == current.stacks and message.snapshot.engine == current.engine
        )
        self.snapshot = message.snapshot
        if message.snapshot.engine.connected and not self.engine_info.connected:
            self.engine_info = message.snapshot.engine
            self.services.show_engine(self.engine_info)
        if not same:
            self.services.show_snapshot(message.snapshot)
        self._settle(message.snapshot)
        if not self._painted.is_set():
            self.call_after_refresh(self._painted.set)
        if not same:
            for screen in self.screen_stack:
                if screen is not self.services and hasattr(screen, "update_snapshot"):
                    screen.update_snapshot(message.snapshot, self.engine_info)
        self.snapshots_applied += 1
