"""Reading a compose file for `mltui up`: its services, what each builds and is
tagged as, the replicas it asks for and the host ports it publishes.

The file is hostile input: one that does not parse, is not a mapping of
services, or names things of the wrong type is one sentence (:class:`ComposeError`),
never a traceback. ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``$VAR``
and ``$$`` are filled in from the environment and the file's folder's ``.env``,
as Compose does, so the image names mltui builds are the ones Compose and
``docker stack deploy`` will look for.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.textsafe import safe_text

MAX_BYTES = 1 << 20  # a compose file of more than a megabyte is not one


class ComposeError(Exception):
    """The compose file cannot be used: one sentence."""


@dataclass(frozen=True)
class Build:
    context: str  # absolute folder
    dockerfile: str = ""  # as written (relative to the context), "" for Dockerfile
    args: tuple[tuple[str, str], ...] = ()
    target: str = ""


@dataclass(frozen=True)
class Bind:
    """A host port a service publishes: the host address ("" for every one)."""

    port: int
    proto: str = "tcp"
    host_ip: str = ""


@dataclass(frozen=True)
class ServiceDef:
    name: str
    image: str  # "" when the file names none (Compose then names it after the project)
    build: Build | None
    replicas: int = 1
    ports: tuple[int, ...] = ()  # host ports it publishes
    binds: tuple[Bind, ...] = ()  # the same, each with its protocol and host address

    def tags(self, project: str) -> tuple[str, ...]:
        """What a build of this service is tagged as: its ``image:``, else the names
        Compose v1 (``project_service``) and v2 (``project-service``) look for."""
        if self.image:
            return (self.image,)
        return (f"{project}_{self.name}", f"{project}-{self.name}")


@dataclass(frozen=True)
class ComposeFile:
    path: str  # absolute
    services: tuple[ServiceDef, ...]

    @property
    def folder_name(self) -> str:
        """The default project name: the file's folder, as Compose names it."""
        return project_name(Path(self.path).parent.name)


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes "²" and other digits int() refuses."""
    return text.isascii() and text.isdigit()


def project_name(text: str) -> str:
    """A name Compose and swarm accept: lower case letters, digits, - and _."""
    name = re.sub(r"[^a-z0-9_-]", "", text.lower()).lstrip("-_")
    return name or "default"


_VAR = re.compile(
    r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(text: str, env: Mapping[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return "$"
        name = m.group(2) or m.group(5)
        op, default = m.group(3), m.group(4) or ""
        value = env.get(name)
        if (op in (":-", ":?") and not value) or (op in ("-", "?") and value is None):
            if op and op.endswith("?"):
                raise ComposeError(f"${{{name}}} must be set: {safe_text(default) or 'no value'}")
            return default
        return value or ""

    return _VAR.sub(one, text)


def _fill(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_fill(x, env) for x in node]
    if isinstance(node, dict):
        return {k: _fill(v, env) for k, v in node.items()}
    return node


def dotenv(folder: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of the folder's ``.env`` (Compose reads it); none when absent."""
    try:
        text = (folder / ".env").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        found[key.strip()] = value.strip().strip("'\"")
    return found


def _ports(raw: Any, where: str) -> tuple[int, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ComposeError(f"{where}: ports must be a list")
    found: list[int] = []
    for item in raw:
        if isinstance(item, dict):
            published = item.get("published")
            if published is not None and _digits(str(published)):
                found.append(int(published))
            continue
        text = str(item).split("/", 1)[0]
        parts = text.rsplit(":", 2)
        if len(parts) >= 2 and _digits(parts[-2]):
            found.append(int(parts[-2]))
    return tuple(found)


MAX_BINDS = 1000  # a service publishing more ports than this is checked for its first ones


def _port_range(text: str) -> range:
    """``8000`` or ``8000-8010``; empty when it is neither, or out of 1..65535."""
    first, _, last = text.strip().partition("-")
    if not _digits(first) or (last and not _digits(last)):
        return range(0)
    low, high = int(first), int(last or first)
    if not 1 <= low <= high <= 65535:
        return range(0)
    return range(low, high + 1)


def _short_bind(item: str) -> tuple[str, range, str]:
    """``[HOST_IP:]HOST_PORTS:CONTAINER_PORTS[/PROTO]``: (host ip, host ports, proto)."""
    text, _, proto = item.partition("/")
    if text.startswith("["):  # [::1]:8000:80
        ip, _, rest = text[1:].partition("]")
        parts = ["", *rest.lstrip(":").split(":")]
        parts[0] = ip
    else:
        parts = text.rsplit(":", 2)
    if len(parts) < 2:
        return "", range(0), ""  # a container port alone: the engine picks the host's
    ip = parts[0] if len(parts) == 3 else ""
    return ip, _port_range(parts[-2]), proto or "tcp"


def _binds(raw: Any) -> tuple[Bind, ...]:
    """The host ports of a service's ``ports:`` (short and long syntax, ranges),
    after :func:`_ports` checked that it is a list."""
    found: list[Bind] = []
    for item in raw if isinstance(raw, list) else ():
        if isinstance(item, dict):
            published = item.get("published")
            ports = _port_range(str(published)) if published is not None else range(0)
            ip, proto = str(item.get("host_ip") or ""), str(item.get("protocol") or "tcp")
        elif isinstance(item, str):
            ip, ports, proto = _short_bind(item)
        else:
            continue  # a number: a container port, published on a port the engine picks
        for port in ports:
            if len(found) >= MAX_BINDS:
                return tuple(found)
            found.append(Bind(port, proto.lower(), ip))
    return tuple(dict.fromkeys(found))


def _build(raw: Any, folder: Path, where: str) -> Build | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return Build(str((folder / raw).resolve()))
    if not isinstance(raw, dict):
        raise ComposeError(f"{where}: build must be a folder or a mapping")
    context = raw.get("context", ".")
    dockerfile = raw.get("dockerfile", "")
    target = raw.get("target", "")
    if not all(isinstance(x, str) for x in (context, dockerfile, target)):
        raise ComposeError(f"{where}: build's context, dockerfile and target must be text")
    args_raw = raw.get("args") or {}
    if isinstance(args_raw, list):
        pairs = [str(a).partition("=") for a in args_raw]
        args = tuple((k, v) for k, _, v in pairs)
    elif isinstance(args_raw, dict):
        args = tuple((str(k), "" if v is None else str(v)) for k, v in args_raw.items())
    else:
        raise ComposeError(f"{where}: build args must be a list or a mapping")
    return Build(str((folder / context).resolve()), dockerfile, args, target)


def _replicas(raw: Any, where: str) -> int:
    deploy = raw.get("deploy") if isinstance(raw, dict) else None
    if deploy is None:
        return 1
    if not isinstance(deploy, dict):
        raise ComposeError(f"{where}: deploy must be a mapping")
    if deploy.get("mode") == "global":
        return 1
    replicas = deploy.get("replicas", 1)
    if isinstance(replicas, str) and _digits(replicas):
        replicas = int(replicas)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise ComposeError(f"{where}: deploy.replicas must be a number, 0 or more")
    return replicas


def parse(text: str, path: Path, env: Mapping[str, str]) -> ComposeFile:
    import yaml

    shown = safe_text(str(path), 300)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = safe_text(str(getattr(exc, "problem", "") or "not YAML"), 200)
        raise ComposeError(f"{shown} does not parse{where}: {problem}") from None
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise ComposeError(f"{shown} is not a compose file: it has no services mapping")
    data = _fill(data, env)
    services: list[ServiceDef] = []
    for name, raw in data["services"].items():
        where = f"{shown}: service {safe_text(str(name), 100)!r}"
        if not isinstance(name, str) or project_name(name) != name.lower():
            raise ComposeError(f"{where}: not a service name")
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ComposeError(f"{where} is not a mapping")
        image = raw.get("image", "")
        if not isinstance(image, str):
            raise ComposeError(f"{where}: image must be text")
        build = _build(raw.get("build"), path.parent, where)
        if not image and build is None:
            raise ComposeError(f"{where} names neither an image nor a build")
        ports = raw.get("ports")
        services.append(
            ServiceDef(
                name,
                image.strip(),
                build,
                _replicas(raw, where),
                _ports(ports, where),
                _binds(ports),
            )
        )
    if not services:
        raise ComposeError(f"{shown} has no services")
    return ComposeFile(str(path), tuple(services))


def load(path: str | Path, env: Mapping[str, str] | None = None) -> ComposeFile:
    """Read and check ``path``; :class:`ComposeError` with one sentence when it
    cannot be used."""
    file = Path(path).expanduser().absolute()
    shown = safe_text(str(path), 300)
    try:
        if file.stat().st_size > MAX_BYTES:
            raise ComposeError(f"{shown} is larger than a compose file can be (1 MB)")
        text = file.read_text(encoding="utf-8", errors="replace")
    except IsADirectoryError:
        raise ComposeError(f"{shown} is a folder, not a compose file") from None
    except OSError as exc:
        raise ComposeError(f"{shown} cannot be read: {exc.strerror or exc}") from None
    merged = {**dotenv(file.parent), **(os.environ if env is None else env)}
    return parse(text, file, merged)
