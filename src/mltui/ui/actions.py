"""A confirmed action while it runs and after: what it runs, each progress line
as it comes, and the result (done, or failed with the reason). A failed swarm
rollout offers the rollback one key away.

:class:`ActionRun` is the action itself (its plan, its lines, its result),
kept by the services screen while it runs, so Back leaves it running and a
second action on the same target is refused; :class:`ActionScreen` shows one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from ..core.textsafe import safe_text
from ..deploy.actions import Plan, Result
from .confirm import ENGINES, TITLES
from .subscreen import SubScreen, back_binding

MAX_LINES = 300  # progress lines kept (a build says a lot)


class ActionRun:
    """One action: its plan, the progress lines so far, its result once it ended."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.lines: list[str] = []
        self.result: Result | None = None
        self.log_problem = ""  # the action log could not be written
        self.watchers: list[Callable[[], None]] = []
        self._inbox: list[str] = []  # offered by the worker, not drawn yet
        self._inbox_lock = threading.Lock()
        self._told = False

    @property
    def running(self) -> bool:
        return self.result is None

    @property
    def roll_back_target(self) -> str:
        """The swarm service ("stack/service") a rollback would undo this failed
        change of: a failed scale or restart of one service, or the service whose
        new tasks crashed in an up ("" when there is none; never a rollback's own)."""
        plan, result = self.plan, self.result
        if result is None or result.ok or not result.started or plan.kind != "swarm":
            return ""
        if plan.verb == "up":
            return result.crashed
        if plan.verb in ("scale", "restart") and "/" in plan.target:
            return plan.target
        return ""

    @property
    def can_roll_back(self) -> bool:
        return bool(self.roll_back_target)

    def add(self, line: str) -> None:
        self.add_many([line])

    def add_many(self, lines: list[str]) -> None:
        for line in lines:
            for piece in line.splitlines() or [""]:
                self.lines.append(safe_text(piece))
        del self.lines[:-MAX_LINES]
        self._changed()

    # -- lines from the worker thread, drawn once per turn of the UI ---------------
    def offer(self, line: str) -> bool:
        """Keep a line the action's thread reports; True when the UI must be told
        (no earlier line is waiting for it), so a build that prints thousands of
        lines costs one redraw per turn of the event loop, not one per line."""
        with self._inbox_lock:
            self._inbox.append(line)
            told, self._told = self._told, True
        return not told

    def drain(self) -> None:
        """On the UI thread: every line offered so far, in order."""
        with self._inbox_lock:
            lines, self._inbox, self._told = self._inbox, [], False
        if lines:
            self.add_many(lines)

    def finish(self, result: Result, log_problem: str = "") -> None:
        self.result = result
        self.log_problem = log_problem
        self._changed()

    def _changed(self) -> None:
        for watcher in list(self.watchers):
            watcher()


def headline(plan: Plan) -> str:
    what = TITLES.get(plan.verb, plan.verb.title())
    extra = ""
    if plan.verb == "scale":
        extra = f" to {plan.replicas}"
    elif plan.verb == "restart" and plan.slot is not None:
        extra = f" replica {plan.slot}"
    engine = ENGINES.get(plan.kind, plan.kind)
    return safe_text(f"{what} {plan.target}{extra} on {plan.engine} ({engine})")


def run_text(run: ActionRun) -> Text:
    text = Text()
    for call in run.plan.calls:
        text.append(f"$ {safe_text(call.shown)}\n", style="cyan")
    text.append("\n")
    for line in run.lines:
        text.append(line + "\n")
    return text


def result_text(run: ActionRun) -> Text:
    result = run.result
    if result is None:
        return Text("running… (Back leaves it running; the services screen shows it live)", "cyan")
    text = Text()
    if result.ok:
        text.append("done ", style="bold green")
    elif not result.started:
        text.append("refused ", style="bold yellow")
    else:
        text.append("failed ", style="bold red")
    text.append(safe_text(result.message))
    if run.can_roll_back:
        text.append(
            "\nb rolls the service back to its previous spec "
            f"({safe_text(run.roll_back_target)}; asks first)",
            style="yellow",
        )
    if run.log_problem:
        text.append("\n" + safe_text(run.log_problem), style="yellow")
    return text


class ActionScreen(SubScreen):
    """One action's progress; its rollback key once a swarm rollout failed."""

    BINDINGS = [
        back_binding("action"),
        Binding(
            "b",
            "roll_back",
            "Roll back",
            tooltip="After a failed swarm rollout: roll the service back to its previous spec "
            "(asks first)",
            id="action.rollback",
        ),
    ]

    def __init__(
        self, run: ActionRun, on_roll_back: Callable[[ActionRun], None] | None = None
    ) -> None:
        super().__init__()
        self.job = run
        self.on_roll_back = on_roll_back

    def compose(self) -> ComposeResult:
        yield Static(id="action-bar")
        with VerticalScroll(id="action-body"):
            yield Static(id="action-lines")
        yield Static(id="action-result")
        yield Footer()

    def on_mount(self) -> None:
        self.job.watchers.append(self._show)
        self._show()

    def on_unmount(self) -> None:
        if self._show in self.job.watchers:
            self.job.watchers.remove(self._show)

    def _show(self) -> None:
        if not self.query("#action-bar"):
            return  # gone (the run goes on; its result comes as a notification)
        self.query_one("#action-bar", Static).update(Text(headline(self.job.plan), style="bold"))
        self.query_one("#action-lines", Static).update(run_text(self.job))
        self.query_one("#action-result", Static).update(result_text(self.job))
        self.query_one("#action-body", VerticalScroll).scroll_end(animate=False)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "roll_back":
            return self.job.can_roll_back and self.on_roll_back is not None
        return True

    def action_roll_back(self) -> None:
        if self.on_roll_back is not None and self.job.can_roll_back:
            self.app.pop_screen()
            self.on_roll_back(self.job)
