"""What `R` asks before the roll screen: build the service's image from its
compose file's ``build:``, or roll out an image tag that is already on the
engine (the CLI's ``--image``); the image running now is shown. A tag that
cannot be one is refused with one sentence; Escape gives back nothing."""

from __future__ import annotations

import re

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ..core.textsafe import safe_text

# a docker image reference: [registry[:port]/]path[:tag][@digest]; never an option
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}")


def parse_image(text: str) -> str | None:
    """ "" (build), the image tag typed, or None when it cannot be an image reference."""
    value = text.strip()
    if not value:
        return ""
    if not _REF.fullmatch(value) or "//" in value or value.endswith((":", "/", "@")):
        return None
    return value


class RollPromptScreen(ModalScreen[str | None]):
    """Build, or which image: "" builds, a tag rolls that image out, None cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="rollprompt.cancel")]

    def __init__(self, service: str, current: str) -> None:
        super().__init__()
        self.service = service
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static(
                Text(f"Roll out {safe_text(self.service, 80)}", style="bold"), id="prompt-title"
            )
            yield Static(
                Text(
                    f"runs now: {safe_text(self.current, 120) or '-'}\n"
                    "an image tag on the engine to roll out (never pulled), "
                    "or empty: build from the compose file's build:",
                    style="dim",
                ),
                id="prompt-hint",
            )
            yield Input("", id="roll-image", placeholder="empty: build; or name:tag")
            yield Static(id="prompt-error")
            with Horizontal(id="prompt-buttons"):
                yield Button("Next", id="prompt-ok", variant="primary")
                yield Button("Cancel", id="prompt-cancel")

    def on_mount(self) -> None:
        self.query_one("#roll-image", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#prompt-ok")
    def _submit(self) -> None:
        typed = self.query_one("#roll-image", Input).value
        image = parse_image(typed)
        if image is None:
            self.query_one("#prompt-error", Static).update(
                Text(f"{safe_text(typed.strip(), 60)!r} is not an image tag", style="red")
            )
            return
        self.dismiss(image)

    @on(Button.Pressed, "#prompt-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
