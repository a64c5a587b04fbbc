from __future__ import annotations

import time
from collections.abc import Callable

import pytest


async def until(
    pilot, predicate: Callable[[], object], timeout: float = 30.0, what: str = "the condition"
) -> None:
    """Let the app run until ``predicate()`` holds; bounded in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture
def wait_until():
    return until


def palette_choice(app) -> str:
    """What enter would run in the command palette: its highlighted command, once
    the search for what was typed is done; "" while it searches or is not open."""
    from textual.command import CommandPalette
    from textual.widgets import OptionList

    screen = app.screen
    if not isinstance(screen, CommandPalette):
        return ""
    if any(w.node is screen and not w.is_finished for w in app.workers):
        return ""  # still gathering (the hits are sorted only at the end)
    options = screen.query_one(OptionList)
    index = options.highlighted
    return "" if index is None else str(options.get_option_at_index(index).prompt)


async def open_palette(pilot, key: str = "ctrl+p") -> None:
    """Open the command palette (or a picker built on it) with ``key``; it takes typing."""
    from textual.command import CommandPalette
    from textual.widgets import Input

    app = pilot.app
    await pilot.press(key)
    await until(
        pilot,
        lambda: (
            isinstance(app.screen, CommandPalette) and app.focused is app.screen.query_one(Input)
        ),
        timeout=10,
        what="the command palette",
    )


async def palette_pick(pilot, wanted: str) -> None:
    """Let the palette's search end with ``wanted`` highlighted (what enter runs)."""
    await until(
        pilot,
        lambda: wanted.lower() in palette_choice(pilot.app).lower(),
        timeout=10,
        what=f"{wanted!r} highlighted in the palette",
    )


async def until_service(pilot, name: str, timeout: float = 30.0):
    """Let the app run until a service called ``name`` is in its inventory; that service."""
    app = pilot.app

    def found():
        snapshot = app.snapshot
        return snapshot is not None and next(
            (s for s in snapshot.services() if s.name == name), None
        )

    await until(pilot, found, timeout=timeout, what=f"{name} in the inventory")
    return found()


import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
