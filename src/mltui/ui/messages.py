"""Messages the engine workers post to the UI."""

from __future__ import annotations

from textual.message import Message

from ..core.engine import EngineInfo
from ..core.inventory import Snapshot


class EngineStateChanged(Message):
    """Connected, reconnecting or down, with the engine's description."""

    def __init__(self, info: EngineInfo) -> None:
        super().__init__()
        self.info = info


class SnapshotReady(Message):
    """A new inventory snapshot to render."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        # an older snapshot still queued is worthless once a newer one arrives
        return isinstance(message, SnapshotReady)


class RefreshWanted(Message):
    """The engine changed (an event) or a poll is due: take a new snapshot soon,
    or at once (``now``) when the engine has just been connected."""

    def __init__(self, now: bool = False) -> None:
        super().__init__()
        self.now = now

    def can_replace(self, message: Message) -> bool:
        # a burst of events makes one refresh; an immediate one is never merged away
        return isinstance(message, RefreshWanted) and not message.now
