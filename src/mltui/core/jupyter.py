"""Jupyter: find notebook servers in the stacks and the URL (with token) that
opens each from this machine.

Sources, best first: ``jupyter server list --json`` run in the container (then
``jupyter notebook list --json``, then ``python3 -m jupyter_server list --json``),
which knows a token set by configuration; then the URL lines the server logged
(jupyter_server 1.x/2.x, Notebook 6, the ``[C ...]`` "copy and paste one of
these URLs" block), read by :mod:`.jupyter_urls`. The URL names the container's
view (``http://<id>:8888/``); :meth:`.ServerUrl.with_host` rewrites it to the
address and port published on the host.

Tokens are secrets: :func:`mask_token` hides them wherever mltui shows a URL
until the user asks, no message built here ever holds one, and a short token is
said to be weak.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote_plus

from .engine import Engine, EngineError, EngineUnavailable
from .inventory.model import Service, Snapshot
from .jupyter_urls import (
    MASK,
    WEAK_TOKEN,
    ServerUrl,
    mask_token,
    masked,
    parse_list_json,
    parse_log_urls,
    token_is_weak,
)
from .roles import JUPYTER_PORT, container_is_notebook
from .textsafe import safe_text

__all__ = [
    "MASK",
    "WEAK_TOKEN",
    "Notebook",
    "NotebookScan",
    "ServerUrl",
    "find_notebooks",
    "http_probe",
    "is_notebook",
    "mask_token",
    "masked",
    "parse_list_json",
    "parse_log_urls",
    "published",
    "swarm_published",
    "token_is_weak",
    "verdict",
]

LIST_COMMANDS = (
    ["jupyter", "server", "list", "--json"],
    ["jupyter", "notebook", "list", "--json"],
    ["python3", "-m", "jupyter_server", "list", "--json"],
)


@dataclass(frozen=True)
class Notebook:
    """A notebook server mltui found, and how to reach it from this machine."""

    service: str  # "stack/service"
    service_key: str
    replica: str  # the container's name
    container_id: str
    container_port: int
    token: str
    url: str  # the host's URL with the full token, or "" when none can be given
    container_url: str
    status: str  # reachable | forbidden: wrong token | not published | not reachable from the host | starting | ...
    source: str  # exec | logs | ""
    note: str = ""  # why there is no URL, or what else to know
    base_url: str = "/"
    path: str = ""

    @property
    def masked_url(self) -> str:
        return mask_token(self.url, self.token)

    def as_dict(self, show_token: bool = False) -> dict[str, Any]:
        url = self.url if show_token else self.masked_url
        return {
            "service": self.service,
            "replica": self.replica,
            "container": self.container_id[:12],
            "container_port": self.container_port,
            "url": url,
            "token": self.token if show_token else masked(self.token),
            "status": self.status,
            "source": self.source,
            "note": self.note,
        }


@dataclass
class NotebookScan:
    notebooks: list[Notebook] = field(default_factory=list)


def is_notebook(entry: Mapping[str, Any]) -> bool:
    """Whether a container list entry looks like a Jupyter server (the rule is
    :func:`.roles.container_is_notebook`; this name is what the command line calls)."""
    return container_is_notebook(entry)


def published(inspect: Mapping[str, Any], port: int) -> tuple[str, int] | None:
    """(host address, host port) where container ``port`` is published, or None.
    A container in the host's network answers on the port itself."""
    host_config = inspect.get("HostConfig") if isinstance(inspect, Mapping) else None
    if isinstance(host_config, Mapping) and host_config.get("NetworkMode") == "host":
        return "127.0.0.1", port
    net = inspect.get("NetworkSettings") if isinstance(inspect, Mapping) else None
    ports = net.get("Ports") if isinstance(net, Mapping) else None
    bindings = ports.get(f"{port}/tcp") if isinstance(ports, Mapping) else None
    if not isinstance(bindings, list):
        return None
    for binding in bindings:
        if not isinstance(binding, Mapping):
            continue
        try:
            host_port = int(binding.get("HostPort") or 0)
        except (TypeError, ValueError):
            continue
        if host_port:
            ip = str(binding.get("HostIp") or "")
            # a wildcard binding is reached through loopback too
            return ("127.0.0.1" if ip in ("", "0.0.0.0", "::") else ip), host_port
    return None


def swarm_published(service: Mapping[str, Any], port: int) -> int | None:
    endpoint = service.get("Endpoint") if isinstance(service, Mapping) else None
    ports = endpoint.get("Ports") if isinstance(endpoint, Mapping) else None
    for entry in ports if isinstance(ports, list) else []:
        if isinstance(entry, Mapping) and entry.get("TargetPort") == port:
            value = entry.get("PublishedPort")
            if isinstance(value, int) and value:
                return value
    return None


Probe = Callable[[str], int | None]


def http_probe(url: str) -> int | None:
    """GET ``url``: its HTTP status, or None when nothing answers. The URL (and
    its token) never leaves this function in a message."""
    import requests

    try:
        return requests.get(url, timeout=3, allow_redirects=False).status_code
    except requests.RequestException:
        return None


def verdict(status: int | None) -> str:
    if status == 200:
        return "reachable"
    if status in (401, 403):
        return "forbidden: wrong token"
    if status is None:
        return "not reachable from the host"
    return f"answers {status}"


def find_notebooks(
    engine: Engine,
    snapshot: Snapshot,
    *,
    service: str | None = None,
    probe: Probe = http_probe,
    log_lines: Callable[[str, bool], list[str]] | None = None,
) -> NotebookScan:
    """Every notebook server in the inventory (or in ``service``), with its URL."""
    from .logs import read_recent

    scan = NotebookScan()
    entries = {c.get("Id"): c for c in engine.containers() if isinstance(c, Mapping)}
    swarm_services: dict[str, Mapping[str, Any]] = {}
    read = log_lines or (lambda cid, tty: read_recent(engine, cid, tail=2000, tty=tty))
    for svc in _services(snapshot, service):
        for rep in svc.replicas:
            entry = entries.get(rep.container_id)
            if entry is None or not is_notebook(entry):
                continue
            if svc.kind == "swarm" and not swarm_services:
                swarm_services = {s.get("ID", ""): s for s in engine.services()}
            scan.notebooks.extend(
                _notebooks_of(engine, svc, rep.name, entry, swarm_services, probe, read)
            )
    return scan


def _services(snapshot: Snapshot, name: str | None) -> Sequence[Service]:
    if name is None:
        return list(snapshot.services())
    from .logs import find_service

    return [find_service(snapshot, name)]


def _notebooks_of(
    engine: Engine,
    svc: Service,
    replica: str,
    entry: Mapping[str, Any],
    swarm_services: Mapping[str, Mapping[str, Any]],
    probe: Probe,
    read: Callable[[str, bool], list[str]],
) -> list[Notebook]:
    cid = str(entry.get("Id"))
    where = svc.label
    base = Notebook(
        service=where,
        service_key=svc.key,
        replica=replica,
        container_id=cid,
        container_port=JUPYTER_PORT,
        token="",
        url="",
        container_url="",
        status="",
        source="",
    )
    if entry.get("State") != "running":
        return [replace(base, status="not running", note=f"the container is {entry.get('State')}")]
    try:
        inspect = engine.inspect_container(cid)
    except EngineUnavailable:
        raise
    except EngineError as exc:
        inspect = {}
        base = replace(base, note=safe_text(exc.message, 200))
    config = inspect.get("Config")
    tty = bool(config.get("Tty")) if isinstance(config, Mapping) else False
    listed, exec_problem = _exec_list(engine, cid)
    servers = [s for s in listed if not s.problem]
    log_servers = parse_log_urls(read(cid, tty))
    if not servers:
        servers = log_servers
    elif log_servers:  # the logs know the path the server opens (lab/tree)
        paths = {s.port: s.path for s in log_servers}
        servers = [replace(s, path=s.path or paths.get(s.port, "")) for s in servers]
    out = [
        replace(
            base, container_port=s.port, source=s.source, status="not understood", note=s.problem
        )
        for s in listed
        if s.problem
    ]
    if not servers and not out:
        note = "no server URL yet: the server is still starting, or it logs no URL"
        if exec_problem:
            note += f"; {exec_problem}"
        return [replace(base, status="starting", note=note)]
    for server in servers:
        out.append(_notebook(base, server, inspect, svc, swarm_services, probe, exec_problem))
    if len(out) > 1:
        out = [
            replace(
                n, note=(n.note + "; " if n.note else "") + f"{len(out)} servers in this container"
            )
            for n in out
        ]
    return out


def _notebook(
    base: Notebook,
    server: ServerUrl,
    inspect: Mapping[str, Any],
    svc: Service,
    swarm_services: Mapping[str, Mapping[str, Any]],
    probe: Probe,
    exec_problem: str,
) -> Notebook:
    """One server of a container: where the host reaches it, and whether it answers."""
    notes = []
    if server.configured_token and not server.token:
        notes.append(
            "the token is set by configuration (JUPYTER_TOKEN) and only exec can read it"
            + (f": {exec_problem}" if exec_problem else "")
        )
    if token_is_weak(server.token):
        notes.append(
            f"the token is weak: {len(unquote_plus(server.token))} characters "
            f"(under {WEAK_TOKEN}; Jupyter's own are 48), easy to guess"
        )
    where_host = published(inspect, server.port)
    if where_host is None and svc.kind == "swarm":
        host_port = swarm_published(swarm_services.get(svc.service_id, {}), server.port)
        where_host = ("127.0.0.1", host_port) if host_port else None
    found = replace(
        base,
        container_port=server.port,
        token=server.token,
        container_url=safe_text(server.url, 300),
        source=server.source,
        base_url=server.base_url,
        path=server.path,
    )
    if where_host is None:
        if not (server.configured_token and not server.token):
            notes.insert(
                0,
                f"port {server.port} is not published: add ports: "
                f'["127.0.0.1:{server.port}:{server.port}"] to the service',
            )
        return replace(found, status="not published", note="; ".join(notes))
    host, port = where_host
    state = verdict(probe(server.with_host(host, port, "api/status")))
    if state == "forbidden: wrong token" and not server.token:
        state = "forbidden: token unknown"
    return replace(found, url=server.with_host(host, port), status=state, note="; ".join(notes))


def _exec_list(engine: Engine, cid: str) -> tuple[list[ServerUrl], str]:
    """Servers from the read-only list commands, and why none could run."""
    problems: list[str] = []
    missing = 0  # commands that found no Jupyter at all
    for cmd in LIST_COMMANDS:
        try:
            code, output = engine.exec_run(cid, cmd, timeout=10)
        except EngineUnavailable:
            raise
        except EngineError as exc:
            problems.append(f"exec failed: {safe_text(exc.message, 160)}")
            if exc.status in (403, 409):  # denied, or the container is not running
                break
            continue
        if code == 0:
            servers = parse_list_json(output)
            if servers:
                return servers, ""
            problems.append("the list command found no running server")
        elif code in (126, 127) or b"No module named" in output or b"not found" in output:
            missing += 1
        else:
            problems.append(f"{' '.join(cmd[:3])} exited {code}")
    if missing == len(LIST_COMMANDS):
        return [], "no jupyter command in the container"
    return [], problems[-1] if problems else "no jupyter command in the container"
