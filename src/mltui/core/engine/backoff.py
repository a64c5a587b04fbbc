"""How long to wait before reconnecting to the engine again."""

from __future__ import annotations


class Backoff:
    """Retry delays for reconnecting: 0.5 s doubling up to ``maximum``."""

    def __init__(self, first: float = 0.5, maximum: float = 8.0) -> None:
        self.first = first
        self.maximum = maximum
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.first
