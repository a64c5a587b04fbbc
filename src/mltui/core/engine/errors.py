"""The two failures every engine call can end in, and the sentence that says why.

No traceback from docker-py or requests leaves :mod:`mltui.core.engine`: each
one becomes :class:`EngineUnavailable` (nothing answers) or :class:`EngineError`
(the engine answered and refused) with a message a user can act on.
"""

from __future__ import annotations


class EngineError(Exception):
    """A call reached the engine and the engine refused it (4xx/5xx)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class EngineUnavailable(EngineError):
    """No engine answers at the configured address."""


def unavailable_message(base_url: str, exc: BaseException | None = None) -> str:
    detail = ""
    text = str(exc or "")
    low = text.lower()
    if isinstance(exc, PermissionError) or "permission denied" in low:
        detail = " (permission denied: is your user in the docker group?)"
    elif "no such file" in low or isinstance(exc, FileNotFoundError):
        detail = " (the socket does not exist)"
    elif "refused" in low:
        detail = " (connection refused)"
    elif "timed out" in low or "timeout" in low:
        detail = " (timed out)"
    return f"no Docker engine answers at {base_url}: is it running? permission?{detail}"
