"""The engine's long-lived responses: raw log bodies and the decoded event stream.

Both end a blocked read when ``close()`` is called from another thread, and both
turn a broken connection into :class:`EngineUnavailable` (after resetting the
engine, so the next call connects again).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .errors import EngineUnavailable, unavailable_message

if TYPE_CHECKING:
    from .client import Engine


class RawStream:
    """The raw bytes of a streaming response, read in large pieces.

    Reads go to the socket's buffered file under http.client, so a read returns
    whatever has arrived (up to ``size``) instead of one HTTP chunk at a time;
    ``chunked`` says whether the body still carries the chunked framing.
    ``close()`` from another thread ends a blocked read.
    """

    def __init__(self, engine: Engine, response: Any) -> None:
        self._engine = engine
        self._response = response
        self.closed = False
        self.content_type = str(response.headers.get("Content-Type", ""))
        fp = getattr(response.raw, "_fp", None)  # http.client.HTTPResponse
        raw = getattr(fp, "fp", None)
        if raw is not None and hasattr(raw, "read1"):
            self.chunked = bool(getattr(fp, "chunked", False))
            length = getattr(fp, "length", None)
            self._left: int | None = None if self.chunked else length
            self._read = raw.read1
        else:  # not http.client underneath: let urllib3 undo the chunking
            self.chunked = False
            self._left = None
            self._read = response.raw.read1

    def read(self, size: int = 1 << 18) -> bytes:
        """Up to ``size`` bytes as soon as some are there; b"" at the end."""
        import requests

        if self._left is not None:
            if self._left <= 0:
                return b""
            size = min(size, self._left)
        try:
            data = self._read(size)
        except (OSError, ValueError, AttributeError, requests.RequestException) as exc:
            if self.closed:
                return b""
            self._engine.reset()
            raise EngineUnavailable(
                unavailable_message(self._engine.target.base_url, exc)
            ) from None
        if self._left is not None:
            self._left -= len(data)
        return bytes(data)

    def close(self) -> None:
        import socket

        self.closed = True
        try:
            sock = self._response.raw._fp.fp.raw._sock
            sock.shutdown(socket.SHUT_RDWR)
        except Exception:
            pass
        try:
            self._response.close()
        except Exception:
            pass


class EventStream:
    """Iterates decoded engine events; ``close()`` from any thread ends the loop."""

    def __init__(self, engine: Engine, stream: Any, bounded: bool = False) -> None:
        self._engine = engine
        self._stream = stream
        self._bounded = bounded
        self.closed = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        import docker.errors
        import requests

        try:
            for event in self._stream:
                if isinstance(event, dict):
                    yield event
        except (
            requests.exceptions.RequestException,
            OSError,
            docker.errors.DockerException,
            ValueError,
        ) as exc:
            if self.closed:
                return
            self._engine.reset()
            raise EngineUnavailable(
                unavailable_message(self._engine.target.base_url, exc)
            ) from None
        except AttributeError:
            # urllib3 raises this when the stream is closed under it from another thread
            if self.closed:
                return
            raise
        if not self.closed and not self._bounded:
            # The engine ended an open-ended stream: it is going away (restart, shutdown).
            self._engine.reset()
            raise EngineUnavailable(
                unavailable_message(
                    self._engine.target.base_url, ConnectionError("event stream ended")
                )
            )

    def close(self) -> None:
        self.closed = True
        try:
            self._stream.close()
        except Exception:
            pass
