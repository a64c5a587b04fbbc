"""The one Docker Engine client of mltui.

Everything that talks to the engine goes through :class:`Engine`: it finds the
engine (:func:`~mltui.core.engine.target.resolve_target`), connects lazily,
counts its API calls (the inventory promises a constant number per refresh) and
turns every failure into :class:`EngineUnavailable` or :class:`EngineError` with
a sentence a user can act on. On a local engine the plain reads go over the unix
socket with the standard library (:class:`UnixJson`); docker-py is imported only
when a stream, an exec or a remote engine needs it.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import EngineError, EngineUnavailable, unavailable_message
from .info import EngineInfo
from .streams import EventStream, RawStream
from .target import EngineTarget, resolve_target
from .unix_json import UnixJson, json_or_none


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
        self._raw: UnixJson | None = None
        if base.startswith(("unix://", "http+unix://")):
            self._raw = UnixJson("/" + base.split("://", 1)[1].lstrip("/"), timeout)
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
                self._ensure_raw_version(self._raw)
                self.calls[name] += 1
                url = f"/v{self._raw_version}{path}" + (f"?{query}" if query else "")
                status, body = self._raw.get(url)
            except (OSError, http.client.HTTPException) as exc:
                self._raw.close()
                self._raw_version = ""
                raise EngineUnavailable(unavailable_message(base, exc)) from None
        data = json_or_none(body)
        if status != 200:
            message = data.get("message") if isinstance(data, dict) else None
            raise EngineError(str(message or f"{status} from {path}").strip(), status)
        if data is None:
            raise EngineUnavailable(f"{base} answers, but not like a Docker engine (not JSON)")
        return data

    def _ensure_raw_version(self, raw: UnixJson) -> None:
        """Read the API version the raw reads use (GET /version), once; call with
        ``_raw_lock`` held."""
        if self._raw_version:
            return
        self.calls["version"] += 1
        status, body = raw.get("/version")
        server = json_or_none(body) if status == 200 else None
        if not isinstance(server, dict) or not server.get("ApiVersion"):
            raw.close()
            raise EngineUnavailable(
                f"{self.target.base_url} answers, but not like a Docker engine (no API version)"
            )
        self._server = server
        self._raw_version = str(server["ApiVersion"])

    def container_stats(self, container_id: str, timeout: float = 2.0) -> Any:
        """One-shot stats of a running container (``GET /containers/{id}/stats``
        with ``stream=false&one-shot=true``), within ``timeout`` seconds. Each call
        has its own connection, so several may run at once from a thread pool.
        Raises EngineError (gone: 404) or EngineUnavailable (no answer in time)."""
        import http.client
        from urllib.parse import quote

        path = f"/containers/{quote(container_id, safe='')}/stats"
        if self._raw is None:

            def go(api: Any) -> Any:
                params = {"stream": "false", "one-shot": "true"}
                return api._result(
                    api._get(api._url(path), params=params, timeout=timeout), json=True
                )

            return self._call("stats", go)
        base = self.target.base_url
        with self._raw_lock:
            try:
                self._ensure_raw_version(self._raw)
            except (OSError, http.client.HTTPException) as exc:
                self._raw.close()
                raise EngineUnavailable(unavailable_message(base, exc)) from None
            url = f"/v{self._raw_version}{path}?stream=false&one-shot=true"
            self.calls["stats"] += 1
        conn = UnixJson(self._raw.socket_path, timeout)
        try:
            status, body = conn.get(url)
        except (OSError, http.client.HTTPException) as exc:
            raise EngineUnavailable(unavailable_message(base, exc)) from None
        finally:
            conn.close()
        data = json_or_none(body)
        if status != 200:
            message = data.get("message") if isinstance(data, dict) else None
            raise EngineError(str(message or f"{status} from {path}").strip(), status)
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

    def containers(self, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """All containers; with ``ids``, only those of them that still exist."""
        query = "all=1"
        if ids is not None:
            from urllib.parse import quote

            query += "&filters=" + quote(json.dumps({"id": sorted(ids)}), safe="")
        return _list_of_dicts(self._get_json("containers", "/containers/json", query))

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


def _list_of_dicts(data: Any) -> list[dict[str, Any]]:
    """A list the engine sent; anything else (a hostile or broken answer) is empty."""
    if not isinstance(data, list):
        return []
    return [item for item in data if isinstance(item, dict)]
