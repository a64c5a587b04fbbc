"""JSON GETs over the engine's unix socket with the standard library only.

The launch path's reads go this way on a local engine, so the first screen
needs no docker-py; see :class:`UnixJson`.
"""

from __future__ import annotations

import json
from typing import Any


class UnixJson:
    """JSON GETs over the engine's unix socket with the standard library only.

    The inventory's reads (version, info, the three lists, inspects) go this way
    on a local engine: the first screen needs no docker-py (about 0.1 s to import,
    on the critical path of launch), and each read skips requests' machinery.
    Streams, exec and remote engines stay with docker-py."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self._conn: Any = None

    def _connection(self) -> Any:
        import http.client
        import socket

        path, timeout = self.socket_path, self.timeout

        class Connection(http.client.HTTPConnection):
            def connect(self) -> None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                try:
                    sock.connect(path)
                except BaseException:
                    sock.close()
                    raise
                self.sock = sock

        return Connection("localhost", timeout=timeout)

    def get(self, url: str) -> tuple[int, bytes]:
        """``GET url``: the status and the body. A kept-alive connection the engine
        closed in the meantime is opened again once; other failures raise OSError or
        http.client.HTTPException."""
        import http.client

        for attempt in (0, 1):
            fresh = self._conn is None
            if fresh:
                self._conn = self._connection()
            try:
                self._conn.request("GET", url, headers={"Host": "docker"})
                response = self._conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if fresh or attempt:
                    raise
            except BaseException:
                self.close()
                raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def json_or_none(body: bytes) -> Any:
    """``body`` decoded as JSON, or None when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return None
