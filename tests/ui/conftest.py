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
