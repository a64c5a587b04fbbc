"""What the screens opened from the services screen share: Back."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen


def back_binding(screen_id: str) -> Binding:
    """escape: back to the services; the id (``logs.back``, ...) stays per screen, so
    a keymap can move it on one screen only."""
    return Binding("escape", "back", "Back", tooltip="Back to the services", id=f"{screen_id}.back")


class SubScreen(Screen):
    """A screen pushed over the services screen."""

    def action_back(self) -> None:
        self.app.pop_screen()
