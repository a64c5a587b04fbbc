"""What screens and the command palette ask the app for, without importing it.

Screens post these messages (they bubble up to the app, which handles each with
``@on``), and read the app's shared state through :func:`app_state`, a typed
view of the few attributes they may read. So no screen imports ``ui.app``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

from textual.app import App
from textual.message import Message

from ..core.config import Config
from ..core.engine import Engine, EngineInfo
from ..core.inventory import Inventory
from ..core.inventory.model import Service, Snapshot


class AppState(Protocol):
    """What screens may read of the app."""

    clock: Callable[[], float]
    snapshot: Snapshot | None
    engine_info: EngineInfo
    config: Config
    engine: Engine  # for the stats reader of the services screen
    engine_factory: Callable[[], Engine]  # an engine of its own, for an action's worker
    inventory: Inventory  # its cached inspects: what a stats read needs to know
    nvml_factory: Callable[[], Any] | None


def app_state(app: App[object]) -> AppState:
    """The app as the screens see it (MltuiApp has these attributes)."""
    return cast(AppState, app)


class OpenLogs(Message):
    """The logs of ``service``, every replica merged, or of one replica slot."""

    def __init__(self, service: Service, replica: int | None = None) -> None:
        super().__init__()
        self.service = service
        self.replica = replica


class OpenNotebooks(Message):
    """The notebooks screen, for ``service`` when it is a notebook, else for all."""

    def __init__(self, service: Service | None = None) -> None:
        super().__init__()
        self.service = service


class OpenGpu(Message):
    """The GPU screen; with ``check``, looking inside that service."""

    def __init__(self, check: Service | None = None) -> None:
        super().__init__()
        self.check = check


class OpenPredict(Message):
    """The predict screen, aimed at ``service`` (or the first model server)."""

    def __init__(self, service: Service | None = None) -> None:
        super().__init__()
        self.service = service


class OpenRoll(Message):
    """The roll screen for ``service``: rebuild, roll out, smoke-test, verdict."""

    def __init__(self, service: Service | None = None) -> None:
        super().__init__()
        self.service = service


class GoToService(Message):
    """Put the services screen's cursor on the service with this key."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
