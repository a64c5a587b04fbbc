"""The log of the actions mltui took: one plain line each (UTC time, engine,
target, command, result), appended to ``actions.log`` beside the state file
(``$MLTUI_STATE``'s folder, else ``$XDG_STATE_HOME/mltui/``). A failed write is
a message for the caller, never an exception."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..core.state import state_path
from ..core.textsafe import safe_text

NAME = "actions.log"


def log_path(env: dict[str, str] | None = None) -> Path:
    return state_path(env).parent / NAME


def _field(text: str) -> str:
    """One line, no tabs: each field is safe to print and to split on tabs."""
    return safe_text(" ".join(text.split()), 2000)


def log_line(engine: str, target: str, command: str, result: str, when: float | None = None) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if when is None else when))
    return "\t".join([stamp, *(_field(x) for x in (engine, target, command, result))]) + "\n"


def append(engine: str, target: str, command: str, result: str, path: Path | None = None) -> str:
    """Append one line; "" when written, else why it was not."""
    path = log_path() if path is None else path
    line = log_line(engine, target, command, result)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, line.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except OSError as exc:
        return f"the action log {path} could not be written: {exc.strerror or exc}"
    return ""
