"""The one Docker Engine client of mltui.

Everything that talks to the engine goes through :class:`Engine`: it resolves
where the engine is (``DOCKER_HOST`` and the TLS variables, else the current
docker context, else the local socket), connects lazily, counts its API calls
(the inventory promises a constant number per refresh) and turns every failure
into :class:`EngineUnavailable` or :class:`EngineError` with a sentence a user
can act on. No traceback from docker-py or requests leaves this module.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


class EngineError(Exception):
    """A call reached the engine and the engine refused it (4xx/5xx)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class EngineUnavailable(EngineError):
    """No engine answers at the configured address."""


@dataclass(frozen=True)
class EngineTarget:
    """Where the engine is and how we found out."""

    base_url: str
    source: str  # "DOCKER_HOST", "context NAME" or "default"
    tls: Any = None  # docker.tls.TLSConfig or None

    @property
    def display(self) -> str:
        return self.base_url


def _points_elsewhere(env: Mapping[str, str]) -> bool:
    """Whether anything may name an engine other than the local socket: a DOCKER_*
    variable, or a current context in the docker CLI's config. When nothing does
    (the common case), mltui starts without importing docker-py (~0.1 s)."""
    if any(
        env.get(k)
        for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")
    ):
        return True
    folder = env.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    try:
        with open(os.path.join(folder, "config.json"), "rb") as fh:
            data = json.loads(fh.read())
    except (OSError, ValueError):
        return False  # docker-py falls back to the local socket too
    current = data.get("currentContext") if isinstance(data, dict) else None
    return bool(current) and current != "default"


def resolve_target(environ: Mapping[str, str] | None = None) -> EngineTarget:
    """Find the engine the way the docker CLI does: env first, then the context."""
    env = os.environ if environ is None else environ
    if not _points_elsewhere(env):
        return EngineTarget(DEFAULT_SOCKET, "default")
    from docker.utils import kwargs_from_env

    try:
        kwargs = kwargs_from_env(environment=dict(env))
    except Exception as exc:  # bad TLS paths and the like
        raise EngineUnavailable(
            f"the Docker TLS settings in the environment are unusable: {exc}"
        ) from None
    if kwargs.get("base_url"):
        return EngineTarget(str(kwargs["base_url"]), "DOCKER_HOST", kwargs.get("tls"))
    context_name = env.get("DOCKER_CONTEXT")
    try:
        from docker.context import ContextAPI

        if context_name:
            ctx = ContextAPI.get_context(context_name)
        else:
            ctx = ContextAPI.get_current_context()
        if ctx is not None and ctx.Host and ctx.name != "default":
            return EngineTarget(str(ctx.Host), f"context {ctx.name}", ctx.TLSConfig or None)
    except Exception:
        # An unreadable ~/.docker is not fatal: fall back to the local socket.
        pass
    return EngineTarget(DEFAULT_SOCKET, "default", kwargs.get("tls"))


@dataclass(frozen=True)
class EngineInfo:
    """What the header shows about the engine; also the 'down' state."""

    target: str
    state: str = "connecting"  # connecting | connected | reconnecting | down
    message: str = ""
    server_version: str = ""
    api_version: str = ""
    name: str = ""
    os: str = ""
    swarm: str = "inactive"  # inactive | pending | active | error | locked
    swarm_manager: bool = False
    node_id: str = ""
    runtimes: tuple[str, ...] = ()
    default_runtime: str = ""
    containers: int = 0
    cdi_spec_dirs: tuple[str, ...] | None = None  # None: the engine does not report CDI
    checked_at: float = field(default_factory=time.time)

    @property
    def connected(self) -> bool:
        return self.state == "connected"

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "state": self.state,
            "message": self.message,
            "server_version": self.server_version,
            "api_version": self.api_version,
            "name": self.name,
            "os": self.os,
            "swarm": self.swarm,
            "swarm_manager": self.swarm_manager,
            "runtimes": list(self.runtimes),
            "default_runtime": self.default_runtime,
            "cdi_spec_dirs": None if self.cdi_spec_dirs is None else list(self.cdi_spec_dirs),
        }


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


class _UnixJson:
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


class Engine:
    """A lazily connected, thread-safe wrapper round docker-py's low-level client."""

    def __init__(
        self,
        target: EngineTarget | None = None,
        *,
        timeout: float = 15.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.target = target or resolve_target(environ)
        self.timeout = timeout
        self.calls: Counter[str] = Counter()
        self._api: Any = None
        self._server: dict[str, Any] = {}  # GET /version, read when connecting
        self._lock = threading.Lock()
        base = self.target.base_url
        self._raw: _UnixJson | None = None
        if base.startswith(("unix://", "http+unix://")):
            self._raw = _UnixJson("/" + base.split("://", 1)[1].lstrip("/"), timeout)
        self._raw_version = ""  # the API version the raw reads use, from GET /version
        self._raw_lock = threading.Lock()

    # -- connection ---------------------------------------------------------
    def _client(self) -> Any:
        with self._lock:
            if self._api is not None:
                return self._api
            import docker
            from docker.constants import MINIMUM_DOCKER_API_VERSION
            from docker.errors import DockerException

            try:
                # One round trip both negotiates the API version (what docker-py's
                # version="auto" does with a call of its own) and describes the server.
                api = docker.APIClient(
                    base_url=self.target.base_url,
                    version=MINIMUM_DOCKER_API_VERSION,
                    timeout=self.timeout,
                    tls=self.target.tls or False,
                )
                self.calls["version"] += 1
                try:
                    version = api.version(api_version=False)
                    api._version = str(version["ApiVersion"])
                except Exception:
                    api.close()
                    raise
            except (KeyError, TypeError, ValueError):
                raise EngineUnavailable(
                    f"{self.target.base_url} answers, but not like a Docker engine (no API version)"
                ) from None
            except DockerException as exc:
                raise EngineUnavailable(
                    unavailable_message(self.target.base_url, exc.__context__ or exc)
                ) from None
            except Exception as exc:
                raise EngineUnavailable(unavailable_message(self.target.base_url, exc)) from None
            self._server = version
            self._api = api
            return api

    def reset(self) -> None:
        """Forget the connection; the next call connects again."""
        if self._raw is not None:
            with self._raw_lock:
                self._raw.close()
                self._raw_version = ""
        with self._lock:
            api, self._api = self._api, None
        if api is not None:
            try:
                api.close()
            except Exception:
                pass

    def close(self) -> None:
        self.reset()

    def _call(self, name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import docker.errors
        import requests

        api = self._client()
        self.calls[name] += 1
        try:
            return fn(api, *args, **kwargs)
        except docker.errors.APIError as exc:
            status = exc.status_code
            explanation = exc.explanation or str(exc)
            if isinstance(explanation, bytes):
                explanation = explanation.decode("utf-8", "replace")
            raise EngineError(str(explanation).strip(), status) from None
        except (requests.exceptions.ConnectionError, ConnectionError, OSError) as exc:
            self.reset()
            raise EngineUnavailable(unavailable_message(self.target.base_url, exc)) from None
        except requests.exceptions.RequestException as exc:
            self.reset()
            raise EngineUnavailable(unavailable_message(self.target.base_url, exc)) from None
        except docker.errors.DockerException as exc:
            self.reset()
            raise EngineUnavailable(unavailable_message(self.target.base_url, exc)) from None

    def _get_json(self, name: str, path: str, query: str = "") -> Any:
        """``GET path`` as JSON: over the raw unix socket when the engine is local,
        else through docker-py. Errors are the same either way."""
        if self._raw is None:

            def go(api: Any) -> Any:
                url = api._url(path) + (f"?{query}" if query else "")
                return api._result(api._get(url), json=True)

            return self._call(name, go)
        import http.client

        base = self.target.base_url
        with self._raw_lock:
            try:
                if not self._raw_version:
                    self.calls["version"] += 1
                    status, body = self._raw.get("/version")
                    server = _json_or_none(body) if status == 200 else None
                    if not isinstance(server, dict) or not server.get("ApiVersion"):
                        self._raw.close()
                        raise EngineUnavailable(
                            f"{base} answers, but not like a Docker engine (no API version)"
                        )
                    self._server = server
                    self._raw_version = str(server["ApiVersion"])
                self.calls[name] += 1
                url = f"/v{self._raw_version}{path}" + (f"?{query}" if query else "")
                status, body = self._raw.get(url)
            except (OSError, http.client.HTTPException) as exc:
                self._raw.close()
                self._raw_version = ""
                raise EngineUnavailable(unavailable_message(base, exc)) from None
        data = _json_or_none(body)
        if status != 200:
            message = data.get("message") if isinstance(data, dict) else None
            raise EngineError(str(message or f"{status} from {path}").strip(), status)
        if data is None:
            raise EngineUnavailable(f"{base} answers, but not like a Docker engine (not JSON)")
        return data

    # -- read calls ---------------------------------------------------------
    def info(self) -> EngineInfo:
        """Connect if needed and describe the engine (GET /info; /version comes with the connection)."""
        info = self._get_json("info", "/info")
        if not isinstance(info, dict):
            raise EngineUnavailable(
                f"{self.target.base_url} answers, but not like a Docker engine (no info)"
            )
        version = self._server
        swarm = info.get("Swarm") or {}
        runtimes = tuple(sorted((info.get("Runtimes") or {}).keys()))
        return EngineInfo(
            target=self.target.base_url,
            state="connected",
            server_version=str(version.get("Version", "")),
            api_version=str(version.get("ApiVersion", "")),
            name=str(info.get("Name", "")),
            os=str(info.get("OperatingSystem", "")),
            swarm=str(swarm.get("LocalNodeState") or "inactive"),
            swarm_manager=bool(swarm.get("ControlAvailable")),
            node_id=str(swarm.get("NodeID") or ""),
            runtimes=runtimes,
            default_runtime=str(info.get("DefaultRuntime", "")),
            containers=int(info.get("Containers") or 0),
            cdi_spec_dirs=(
                tuple(str(d) for d in info["CDISpecDirs"])
                if isinstance(info.get("CDISpecDirs"), list)
                else None
            ),
        )

    def down_info(self, message: str, state: str = "down") -> EngineInfo:
        return EngineInfo(target=self.target.base_url, state=state, message=message)

    def containers(self) -> list[dict[str, Any]]:
        return _list_of_dicts(self._get_json("containers", "/containers/json", "all=1"))

    def services(self) -> list[dict[str, Any]]:
        return _list_of_dicts(self._get_json("services", "/services"))

    def tasks(self) -> list[dict[str, Any]]:
        return _list_of_dicts(self._get_json("tasks", "/tasks"))

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        from urllib.parse import quote

        data = self._get_json(
            "inspect_container", f"/containers/{quote(container_id, safe='')}/json"
        )
        return dict(data) if isinstance(data, dict) else {}

    def events(self, since: float | None = None, until: float | None = None) -> EventStream:
        """Open the engine's event stream (container, service, node and daemon events).

        With ``until`` the engine ends the stream at that time: the reader then
        wakes up even when nothing happens, and opens the next window from there.
        """
        filters = {"type": ["container", "service", "node", "daemon"]}
        kwargs: dict[str, Any] = {"decode": True, "filters": filters}
        if since is not None:
            kwargs["since"] = f"{since:.9f}"
        if until is not None:
            kwargs["until"] = f"{until:.9f}"
        stream = self._call("events", lambda api: api.events(**kwargs))
        return EventStream(self, stream, bounded=until is not None)

    def open_logs(self, path: str, params: Mapping[str, Any], *, follow: bool) -> RawStream:
        """Start ``GET path`` (``/containers/{id}/logs`` or ``/tasks/{id}/logs``) and
        hand back the undecoded body: :mod:`mltui.core.logstream` decodes it in bulk."""

        def go(api: Any) -> Any:
            response = api._get(
                api._url(path),
                params=dict(params),
                stream=True,
                timeout=None if follow else self.timeout,
            )
            api._raise_for_status(response)
            return response

        return RawStream(self, self._call("logs", go))

    def inspect_task(self, task_id: str) -> dict[str, Any]:
        return dict(self._call("inspect_task", lambda api: api.inspect_task(task_id)))

    def exec_run(
        self, container_id: str, cmd: list[str], timeout: float = 10.0
    ) -> tuple[int | None, bytes]:
        """Run ``cmd`` in a running container (no TTY, no stdin) and return its exit
        code and output (stdout and stderr together). A command that outlasts
        ``timeout`` raises EngineError("... timed out")."""

        def go(api: Any) -> tuple[int | None, bytes]:
            exec_id = api.exec_create(container_id, cmd, stdout=True, stderr=True)["Id"]
            sock = api.exec_start(exec_id, socket=True)
            raw = getattr(sock, "_sock", sock)
            raw.settimeout(timeout)
            out = bytearray()
            try:
                while True:
                    header = _recv_exact(raw, 8)
                    if not header:
                        break
                    out += _recv_exact(raw, int.from_bytes(header[4:8], "big"))
            except TimeoutError:
                raise EngineError(f"{' '.join(cmd)} timed out after {timeout:.0f}s") from None
            finally:
                sock.close()
            code = api.exec_inspect(exec_id).get("ExitCode")
            return (code if isinstance(code, int) else None), bytes(out)

        code, output = self._call("exec", go)
        return code, output


def _recv_exact(sock: Any, size: int) -> bytes:
    """``size`` bytes from ``sock`` (fewer only at the end of the stream)."""
    data = bytearray()
    while len(data) < size:
        piece = sock.recv(size - len(data))
        if not piece:
            break
        data += piece
    return bytes(data)


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


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _list_of_dicts(data: Any) -> list[dict[str, Any]]:
    """A list the engine sent; anything else (a hostile or broken answer) is empty."""
    if not isinstance(data, list):
        return []
    return [item for item in data if isinstance(item, dict)]


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
