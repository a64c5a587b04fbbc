"""The load test's workers: one keep-alive connection each, a closed loop of
requests whose bytes were built before the run, the answers read with the
standard library's HTTP parser and bounded in size; every failure counted by
kind (refused, reset, timeout, server 5xx/4xx, bad answer), never raised.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..textsafe import safe_text
from .answers import AnswerProblem, read_scores
from .load_stats import ErrorKey, LatencyHistogram, count_error
from .protocols import ServedModel

MAX_ANSWER = 16 << 20  # bytes of one answer read, at most
MAX_REPLICAS = 64  # distinct replica names counted per level
REFUSED_PAUSE_S = 0.02  # after a refused connection: nothing listens, do not spin through the cap


class LoadError(ValueError):
    """A load test that cannot start (bad levels, no bodies, a bad URL), in one sentence."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def of(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LoadError(f"{safe_text(url, 200)}: not an http(s) URL")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise LoadError(f"{safe_text(url, 200)}: the port is not a number") from None
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return cls(parts.scheme, parts.hostname, port, path)

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    def request(self, body: bytes) -> bytes:
        """The whole request, built once: request line, headers and body."""
        head = (
            f"POST {self.path} HTTP/1.1\r\n"
            f"Host: {self.host_header}\r\n"
            "User-Agent: mltui-load\r\n"
            "Accept: application/json\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode("ascii") + body

    def connect(self, timeout: float) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.scheme == "https":
            import ssl

            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        return sock


class _Failed(Exception):
    def __init__(self, key: ErrorKey) -> None:
        super().__init__(key.message)
        self.key = key


def _dropped(poll: select.poll) -> bool:
    """Whether a kept-alive connection was closed by the server since its last
    answer (readable with nothing to read: as urllib3 checks before reuse). A
    connection closed while a request is on its way is a failure; one closed
    between requests is not. ``poll`` has the connection registered."""
    try:
        return bool(poll.poll(0))
    except (OSError, ValueError):
        return True


class Worker:
    """One closed loop: send, wait for the whole answer, send the next. Its counts
    are its own (no lock); the level merges them when it ends."""

    def __init__(
        self,
        target: Target,
        served: ServedModel,
        requests: Sequence[tuple[bytes, int]],
        offset: int,
        timeout: float,
    ) -> None:
        self.target = target
        self.served = served
        self.requests = requests
        self.next = offset
        self.timeout = timeout
        self.hist = LatencyHistogram()
        self.errors: Counter[ErrorKey] = Counter()
        self.replicas: Counter[str] = Counter()
        self.ok = 0
        self.sock: socket.socket | None = None
        self.poll = select.poll()  # the open connection's, for a drop between answers
        self.names: dict[str, str] = {}  # X-Replica as sent -> as safe text
        self.aborted = False

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def loop(self, deadline: float, take: Callable[[], bool], stop: threading.Event) -> None:
        try:
            while not stop.is_set() and time.monotonic() < deadline and take():
                data, _images = self.requests[self.next % len(self.requests)]
                self.next += 1
                self._one(data)
        finally:
            self._close()

    def abort(self) -> None:
        """Wake a worker blocked on its socket (the level's time is over)."""
        self.aborted = True
        sock = self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _one(self, data: bytes) -> None:
        start = time.perf_counter()
        try:
            status, replica = self._exchange(data)
        except _Failed as failed:
            if self.aborted:
                return  # cut off by the level's end: neither an answer nor a failure
            count_error(self.errors, failed.key)
            if failed.key.kind in ("refused", "network"):
                time.sleep(REFUSED_PAUSE_S)
            return
        took = time.perf_counter() - start
        if replica and (replica in self.replicas or len(self.replicas) < MAX_REPLICAS):
            self.replicas[replica] += 1
        if 200 <= status < 300:
            self.ok += 1
            self.hist.record(took)

    def _exchange(self, data: bytes) -> tuple[int, str]:
        """Send one request and read its whole answer: (status, replica name); a
        non-2xx answer is counted here, with its message."""
        if self.sock is not None and _dropped(self.poll):
            self._close()  # the server closed it after its last answer: not a failure
        try:
            if self.sock is None:
                self.sock = self.target.connect(self.timeout)
                self.poll = select.poll()
                self.poll.register(self.sock, select.POLLIN)
            self.sock.sendall(data)
            answer = http.client.HTTPResponse(self.sock, method="POST")
            answer.begin()
            body = answer.read(MAX_ANSWER + 1)
        except ConnectionRefusedError:
            self._close()
            raise _Failed(ErrorKey.of("refused", 0, "connection refused")) from None
        except TimeoutError:
            self._close()
            raise _Failed(ErrorKey.of("timeout", 0, f"no answer in {self.timeout:g} s")) from None
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
            self._close()
            raise _Failed(ErrorKey.of("reset", 0, "the connection was closed or reset")) from None
        except http.client.IncompleteRead:
            self._close()
            raise _Failed(ErrorKey.of("reset", 0, "the answer was cut off")) from None
        except http.client.HTTPException:
            self._close()
            raise _Failed(ErrorKey.of("bad answer", 0, "not an HTTP answer")) from None
        except OSError as exc:
            self._close()
            raise _Failed(ErrorKey.of("network", 0, exc.strerror or type(exc).__name__)) from None
        status = int(answer.status)
        replica = self._replica(answer.getheader("X-Replica"))
        if len(body) > MAX_ANSWER:
            self._close()
            raise _Failed(
                ErrorKey.of("bad answer", status, f"an answer over {MAX_ANSWER >> 20} MB")
            )
        if answer.will_close:
            self._close()
        if not 200 <= status < 300:
            count_error(self.errors, _answer_error(self.served, status, answer, body))
        return status, replica

    def _replica(self, said: str | None) -> str:
        """The replica an answer names, as safe text (each name made safe once)."""
        if not said:
            return ""
        known = self.names.get(said)
        if known is None:
            known = safe_text(said, 64)
            if len(self.names) < MAX_REPLICAS:
                self.names[said] = known
        return known

    def _close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass


def _answer_error(
    served: ServedModel, status: int, answer: http.client.HTTPResponse, body: bytes
) -> ErrorKey:
    kind = f"server {status // 100}xx" if 400 <= status < 600 else "http"
    try:
        read_scores(served, status, str(answer.getheader("Content-Type") or ""), body, 1)
    except AnswerProblem as exc:
        return ErrorKey.of(kind, status, exc.message)
    return ErrorKey.of(kind, status, f"HTTP {status}")


class Tickets:
    """The run's request cap, shared by the workers of a level."""

    def __init__(self, count: int) -> None:
        self.left = count
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True
