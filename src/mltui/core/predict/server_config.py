"""Where a model server's config file is, and what it says (its version labels).

REST cannot list a model's labels; the model config file the server was started
with (``--model_config_file=PATH`` in its container's command line) names them.
:func:`find_server_container` finds the container behind a URL (the one that
publishes the URL's port, else one of its compose project or swarm stack, else
the only container on the engine started with a model config file);
:func:`read_model_config` reads the file with one read-only exec (``cat PATH``)
and :func:`~.textproto.model_entries` parses it. Every failure is a sentence
(:class:`ConfigProblem`); the engine's own outage propagates.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..textsafe import safe_text
from .textproto import MAX_CONFIG_BYTES, ModelEntry, TextProtoError, model_entries

__all__ = [
    "CONFIG_FLAG",
    "ConfigProblem",
    "ServerContainer",
    "config_path",
    "configured_labels",
    "find_server_container",
    "read_model_config",
]

CONFIG_FLAG = "--model_config_file"
PROJECT_LABELS = ("com.docker.compose.project", "com.docker.stack.namespace")


class ConfigProblem(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ServerContainer:
    id: str
    name: str
    config_path: str  # "" when its command line names no model config file


def _words(command: Any) -> list[str]:
    if isinstance(command, list):
        return [str(w) for w in command]
    if not isinstance(command, str):
        return []
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def config_path(command: Any) -> str:
    """The ``--model_config_file`` a command line names ("" when none)."""
    words = _words(command)
    for i, word in enumerate(words):
        for flag in (CONFIG_FLAG, "-" + CONFIG_FLAG):
            if word.startswith(flag + "="):
                return word.split("=", 1)[1]
            if word == flag and i + 1 < len(words):
                return words[i + 1]
    return ""


def _name(container: dict[str, Any]) -> str:
    names = container.get("Names")
    first = names[0] if isinstance(names, list) and names else container.get("Id", "")
    return safe_text(str(first).lstrip("/"), 120)


def _port(url: str) -> int | None:
    try:
        parts = urlsplit(url)
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None


def find_server_container(engine: Any, url: str, name: str = "") -> ServerContainer:
    """The running container behind ``url`` that holds the model config file (or
    the container called ``name``)."""
    running = [c for c in engine.containers() if c.get("State") == "running"]

    def pick(c: dict[str, Any]) -> ServerContainer:
        return ServerContainer(str(c.get("Id", "")), _name(c), config_path(c.get("Command")))

    if name:
        for c in running:
            if _name(c) == name or str(c.get("Id", "")).startswith(name):
                return pick(c)
        raise ConfigProblem(f"no running container {safe_text(name, 120)!r}")
    port = _port(url)
    publishing = [
        c
        for c in running
        if any(
            isinstance(p, dict) and p.get("PublicPort") == port
            for p in (c.get("Ports") if isinstance(c.get("Ports"), list) else [])
        )
    ]
    with_config = [c for c in publishing if config_path(c.get("Command"))]
    if with_config:
        return pick(with_config[0])
    # a balancer publishes the port: the servers are in its project or stack
    for label in PROJECT_LABELS:
        projects = {
            (c.get("Labels") or {}).get(label)
            for c in publishing
            if isinstance(c.get("Labels"), dict)
        } - {None}
        mates = [
            c
            for c in running
            if isinstance(c.get("Labels"), dict)
            and c["Labels"].get(label) in projects
            and config_path(c.get("Command"))
        ]
        if mates:
            return pick(mates[0])
    anywhere = [c for c in running if config_path(c.get("Command"))]
    if len(anywhere) == 1:
        return pick(anywhere[0])
    if publishing:
        return pick(publishing[0])
    raise ConfigProblem(
        f"no running container publishes port {port} of {safe_text(url, 200)}; "
        "name it with --container"
    )


def read_model_config(engine: Any, container: ServerContainer) -> list[ModelEntry]:
    """The model config file the container was started with, read and parsed."""
    from ..engine import EngineError, EngineUnavailable

    if not container.config_path:
        raise ConfigProblem(
            f"container {container.name} was started without {CONFIG_FLAG}: "
            "the server has no labels but those given with --label"
        )
    path = container.config_path
    try:
        code, output = engine.exec_run(container.id, ["cat", "--", path], timeout=10)
    except EngineUnavailable:
        raise
    except EngineError as exc:
        raise ConfigProblem(
            f"could not read {safe_text(path, 200)} in {container.name}: "
            f"{safe_text(exc.message, 200)}"
        ) from None
    if code != 0:
        said = safe_text(output[:300].decode("utf-8", "replace"), 200).strip()
        raise ConfigProblem(
            f"could not read {safe_text(path, 200)} in {container.name}: "
            f"{said or f'cat exited {code}'}"
        )
    if len(output) > MAX_CONFIG_BYTES:
        raise ConfigProblem(f"{safe_text(path, 200)} is over {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        return model_entries(output.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigProblem(f"{safe_text(path, 200)} is not UTF-8 text") from None
    except TextProtoError as exc:
        raise ConfigProblem(
            f"{safe_text(path, 200)} in {container.name}: {safe_text(exc.message, 200)}"
        ) from None


def configured_labels(
    engine: Any, url: str, model: str, container: str = ""
) -> tuple[list[tuple[str, str]], str]:
    """(label, version) of ``model`` from its server's model config file, and a
    note saying where they came from or why there are none. Only the engine's
    outage propagates (EngineUnavailable)."""
    try:
        found = find_server_container(engine, url, container)
        entries = read_model_config(engine, found)
    except ConfigProblem as exc:
        return [], f"labels: {exc.message}"
    where = f"{safe_text(found.config_path, 200)} in {found.name}"
    for entry in entries:
        if entry.name == model:
            return list(entry.labels), f"labels read from {where}"
    return [], f"{where} does not configure {safe_text(model, 80)}"
