"""The app's own keys, on every screen.

Here rather than in ``ui/app.py`` so the help screen can list them without
importing the app (which imports the help screen).
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType


class Everywhere:
    """What ``?`` lists under "Everywhere"; MltuiApp.BINDINGS is this list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="Quit mltui", id="app.quit"),
        Binding(
            "question_mark",
            "help",
            "Help",
            tooltip="Every key of every screen, this one first",
            id="app.help",
        ),
        Binding(
            "ctrl+t",
            "change_theme",
            "Theme",
            show=False,
            tooltip="Pick a theme (light, dark and others); kept for the next start unless the "
            "config names one",
            id="app.theme",
        ),
        Binding(
            "ctrl+r",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Read the inventory again now",
            id="app.refresh",
        ),
    ]
