"""Before `up` changes anything: is a port the compose file publishes already taken?

The engine's own lists say which of its containers (and swarm services) publish
which host ports; that works for a remote engine too. The stack or project being
redeployed is left out (its ports are its own). On a local engine mltui also
tries to bind each remaining port on its host address, which finds listeners
that are not containers ("another program on this host"). A clash is one
sentence naming the port and who holds it; nothing is built or deployed.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.engine import Engine, EngineError, EngineTarget
from ..core.textsafe import safe_text
from .composefile import Bind, ComposeFile

ANY = ("", "0.0.0.0", "::")  # a host address that means every one
OTHER = "another program on this host"


@dataclass(frozen=True)
class Holder:
    """A host port the engine has published, and what for."""

    port: int
    proto: str
    host_ip: str  # "" for every address
    who: str  # "container NAME" or "swarm service NAME"
    stack: str  # the Compose project or swarm stack it belongs to ("" when none)
    kind: str  # compose | swarm | ""


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _port(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def container_holders(containers: Iterable[Mapping[str, Any]]) -> list[Holder]:
    """The host ports of running containers (a container list of the Engine API)."""
    found: list[Holder] = []
    for entry in containers:
        if entry.get("State") not in ("running", "restarting", "paused"):
            continue
        labels = _obj(entry.get("Labels"))
        names = [str(n).lstrip("/") for n in _list(entry.get("Names"))]
        who = f"container {safe_text(names[0] if names else str(entry.get('Id', ''))[:12], 100)}"
        project = str(labels.get("com.docker.compose.project") or "")
        stack = str(labels.get("com.docker.stack.namespace") or "")
        for port in _list(entry.get("Ports")):
            public = _port(_obj(port).get("PublicPort"))
            if public:
                proto = str(_obj(port).get("Type") or "tcp").lower()
                ip = str(_obj(port).get("IP") or "")
                kind = "compose" if project else "swarm" if stack else ""
                found.append(Holder(public, proto, ip, who, project or stack, kind))
    return found


def service_holders(services: Iterable[Mapping[str, Any]]) -> list[Holder]:
    """The host ports swarm services publish (ingress ones have no container)."""
    found: list[Holder] = []
    for item in services:
        spec = _obj(item.get("Spec"))
        ports = _list(_obj(item.get("Endpoint")).get("Ports")) or _list(
            _obj(spec.get("EndpointSpec")).get("Ports")
        )
        stack = str(_obj(spec.get("Labels")).get("com.docker.stack.namespace") or "")
        who = f"swarm service {safe_text(str(spec.get('Name', '')), 100)}"
        for port in ports:
            public = _port(_obj(port).get("PublishedPort"))
            if public:
                proto = str(_obj(port).get("Protocol") or "tcp").lower()
                found.append(Holder(public, proto, "", who, stack, "swarm"))
    return found


def engine_holders(target: EngineTarget | None) -> list[Holder]:
    """What the engine ``target`` names publishes (a connection: call it from a worker)."""
    engine = Engine(target)
    try:
        try:
            found = container_holders(engine.containers())
        except EngineError as exc:
            from .actions import ActionError

            raise ActionError(f"the ports in use cannot be listed: {exc}") from None
        try:
            found += service_holders(engine.services())
        except EngineError:
            pass  # not a swarm manager: no services
        return found
    finally:
        engine.close()


def is_local(target: EngineTarget | None) -> bool:
    """Whether the engine runs on this host (its ports are this host's ports)."""
    if target is None:
        return True
    url = target.base_url
    if url.startswith(("unix://", "http+unix://", "npipe://")):
        return True
    host = url.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "localhost", "::1")


def bind_free(bind: Bind) -> bool:
    """False only when something on this host listens there already (an address
    this host does not have, or a port it may not bind, is not a clash)."""
    ip = bind.host_ip or "0.0.0.0"
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    kind = socket.SOCK_DGRAM if bind.proto == "udp" else socket.SOCK_STREAM
    try:
        with socket.socket(family, kind) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((ip, bind.port))
    except OSError as exc:
        return exc.errno != errno.EADDRINUSE
    except (ValueError, TypeError, OverflowError):
        return True  # not an address or port a socket takes (a NUL, out of range)
    return True


def _overlap(a: str, b: str) -> bool:
    return a in ANY or b in ANY or a == b


def port_clash(
    compose: ComposeFile,
    project: str,
    kind: str,
    held: Iterable[Holder],
    engine: str,
    local: bool,
    free: Callable[[Bind], bool] = bind_free,
) -> str:
    """One sentence about the first port of ``compose`` that is taken ("" when none).
    ``project`` of ``kind`` is what is being (re)deployed: its own ports are not a clash."""
    held = list(held)
    own = [h for h in held if h.stack == project and h.kind == kind]
    others = [h for h in held if not (h.stack == project and h.kind == kind)]
    for svc in compose.services:
        for bind in svc.binds:
            where = f"port {bind.port}" + ("/udp" if bind.proto == "udp" else "")
            asked = f"{svc.name}'s {where}" + (f" on {bind.host_ip}" if bind.host_ip else "")
            for holder in others:
                if (holder.port, holder.proto) == (bind.port, bind.proto) and _overlap(
                    holder.host_ip, bind.host_ip
                ):
                    return safe_text(
                        f"{asked} is already in use on {engine} by {holder.who}: "
                        "nothing was changed"
                    )
            mine = any(
                (h.port, h.proto) == (bind.port, bind.proto) and _overlap(h.host_ip, bind.host_ip)
                for h in own
            )
            if local and not mine and not free(bind):
                return safe_text(f"{asked} is already in use by {OTHER}: nothing was changed")
    return ""


def check_ports(
    compose: ComposeFile, project: str, kind: str, target: EngineTarget | None, engine: str
) -> str:
    """:func:`port_clash` on what the engine ``target`` names publishes, binding
    on this host too when the engine is local (call it from a worker)."""
    if not any(svc.binds for svc in compose.services):
        return ""
    return port_clash(compose, project, kind, engine_holders(target), engine, is_local(target))


__all__ = [
    "Holder",
    "bind_free",
    "check_ports",
    "container_holders",
    "engine_holders",
    "is_local",
    "port_clash",
    "service_holders",
]
