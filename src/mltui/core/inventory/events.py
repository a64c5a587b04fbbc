"""Which engine events change what the inventory shows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .engine_json import json_object


def event_container_id(event: Mapping[str, Any]) -> str | None:
    """The container an engine event is about, if it is about one."""
    if event.get("Type") != "container":
        return None
    actor = json_object(event.get("Actor"))
    cid = actor.get("ID") or event.get("id")
    return str(cid) if cid else None


def event_changes_engine(event: Mapping[str, Any]) -> bool:
    """Node and daemon events can mean the swarm state changed: re-read /info."""
    return event.get("Type") in ("node", "daemon")


# Events that say nothing the inventory shows; everything else triggers a refresh.
QUIET_ACTIONS = (
    "exec_create",
    "exec_start",
    "exec_die",
    "top",
    "attach",
    "resize",
    "export",
    "archive-path",
    "commit",
    "copy",
)


def event_matters(event: Mapping[str, Any]) -> bool:
    action = str(event.get("Action") or event.get("status") or "")
    return not action.startswith(QUIET_ACTIONS)
