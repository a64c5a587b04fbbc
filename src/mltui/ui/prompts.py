"""What an action asks before its plan: the replica count to scale to, and the
compose file to deploy (a path with completion, the current folder's compose
files by default) with swarm or Compose. Each refuses what cannot be right
(a negative or absurd count, a path that is no file) with one sentence, and
gives back nothing on Escape."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from ..core.textsafe import safe_text
from ..deploy.actions import MAX_REPLICAS
from ..deploy.stackfiles import folder_files


def parse_replicas(text: str) -> int | str:
    """The replica count typed, or why it is refused (one sentence)."""
    value = text.strip()
    if not value:
        return "type a number of replicas"
    try:
        number = int(value, 10)
    except ValueError:
        return f"{safe_text(value, 20)!r} is not a whole number"
    if number < 0:
        return f"cannot scale to {number}: a replica count is 0 or more"
    if number > MAX_REPLICAS:
        return f"cannot scale to {number}: more than {MAX_REPLICAS} is refused"
    return number


def compose_files(folder: str | Path) -> list[str]:
    """The compose files of ``folder`` that Compose itself would pick, in its order."""
    return [str(path) for path in folder_files(Path(folder))]


def complete_path(value: str) -> str | None:
    """``value`` completed to the one name in its folder that starts with it (or
    to the names' common beginning); folders end with "/"; None when nothing fits."""
    if not value:
        return None
    expanded = os.path.expanduser(value)
    folder, prefix = os.path.split(expanded)
    try:
        names = sorted(
            n for n in os.listdir(folder or ".") if n.startswith(prefix) and not n.startswith(".")
        )
    except OSError:
        return None
    if not names:
        return None
    common = os.path.commonprefix(names)  # noqa: RUF071 (names in one folder: by character)
    if len(names) == 1 and os.path.isdir(os.path.join(folder or ".", common)):
        common += "/"
    if len(common) <= len(prefix):
        # several names, no longer common beginning: the first compose-like one
        picks = [n for n in names if n.endswith((".yml", ".yaml"))] or names
        common = picks[0]
    completed = value[: len(value) - len(prefix)] + common
    return completed if completed != value else None


class PathSuggester(Suggester):
    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)


class ScaleScreen(ModalScreen[int | None]):
    """How many replicas: a whole number from 0 to MAX_REPLICAS."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="scale.cancel")]

    def __init__(self, target: str, current: int) -> None:
        super().__init__()
        self.target = target
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static(Text(f"Scale {safe_text(self.target)}", style="bold"), id="prompt-title")
            yield Static(
                Text(f"replicas now: {self.current}; how many should run? (0 to {MAX_REPLICAS})"),
                id="prompt-hint",
            )
            yield Input(str(self.current), id="scale-input", placeholder="replicas")
            yield Static(id="prompt-error")
            with Horizontal(id="prompt-buttons"):
                yield Button("Scale", id="prompt-ok", variant="primary")
                yield Button("Cancel", id="prompt-cancel")

    def on_mount(self) -> None:
        field = self.query_one("#scale-input", Input)
        field.focus()
        field.select_all()

    @on(Input.Submitted)
    @on(Button.Pressed, "#prompt-ok")
    def _submit(self) -> None:
        answer = parse_replicas(self.query_one("#scale-input", Input).value)
        if isinstance(answer, str):
            self.query_one("#prompt-error", Static).update(Text(answer, style="red"))
            return
        self.dismiss(answer)

    @on(Button.Pressed, "#prompt-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class UpRequest:
    file: str
    mode: str  # swarm | compose


class UpScreen(ModalScreen[UpRequest | None]):
    """Which compose file, deployed as a swarm stack or a Compose project."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="up.cancel"),
        Binding("tab", "complete", "Complete", tooltip="Complete the path", id="up.complete"),
    ]

    def __init__(self, folder: str, swarm: bool) -> None:
        super().__init__()
        self.found = compose_files(folder)
        self.swarm = swarm

    def compose(self) -> ComposeResult:
        found = self.found
        with Vertical(id="prompt-box"):
            yield Static(Text("Deploy a compose file", style="bold"), id="prompt-title")
            hint = (
                "compose files here: " + ", ".join(os.path.basename(f) for f in found)
                if found
                else "no compose file in the current folder: type its path (tab completes)"
            )
            yield Static(Text(safe_text(hint), style="dim"), id="prompt-hint")
            yield Input(
                found[0] if found else "",
                id="up-input",
                placeholder="path/to/compose.yml",
                suggester=PathSuggester(use_cache=False),
            )
            with RadioSet(id="up-mode"):
                yield RadioButton(
                    "swarm stack", value=self.swarm, disabled=not self.swarm, id="up-swarm"
                )
                yield RadioButton("Compose project", value=not self.swarm, id="up-compose")
            yield Static(id="prompt-error")
            with Horizontal(id="prompt-buttons"):
                yield Button("Deploy", id="prompt-ok", variant="primary")
                yield Button("Cancel", id="prompt-cancel")

    def on_mount(self) -> None:
        self.query_one("#up-input", Input).focus()

    def action_complete(self) -> None:
        field = self.query_one("#up-input", Input)
        if self.focused is field:
            completed = complete_path(field.value)
            if completed:
                field.value = completed
                field.cursor_position = len(completed)
                return
        self.focus_next()

    @on(Input.Submitted)
    @on(Button.Pressed, "#prompt-ok")
    def _submit(self) -> None:
        value = self.query_one("#up-input", Input).value.strip()
        path = os.path.expanduser(value)
        problem = ""
        if not value:
            problem = "type the path of a compose file"
        elif not os.path.isfile(path):
            problem = f"{safe_text(value, 200)} is not a file"
        if problem:
            self.query_one("#prompt-error", Static).update(Text(problem, style="red"))
            return
        compose = self.query_one("#up-compose", RadioButton).value
        self.dismiss(UpRequest(os.path.abspath(path), "compose" if compose else "swarm"))

    @on(Button.Pressed, "#prompt-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
