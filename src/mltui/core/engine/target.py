"""Where the engine is: ``DOCKER_HOST`` and the TLS variables, else the current
docker context, else the local socket, found the way the docker CLI finds it.

The common case (nothing in the environment or the docker config names another
engine) is settled without importing docker-py, which is on launch's critical path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import EngineUnavailable

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


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
