"""What mltui remembers between runs: small choices the user made in the UI.

Kept apart from the configuration, which is the user's own file and never written
by mltui: a JSON object in $MLTUI_STATE, else $XDG_STATE_HOME/mltui/state.json,
else ~/.local/state/mltui/state.json. A missing, unreadable or damaged file is
the same as an empty one; a failed write is a message, never an exception.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

ENV_PATH = "MLTUI_STATE"
MAX_BYTES = 64 * 1024
# what may be remembered, and the longest value kept
KEYS = {"theme": 100}


def state_path(env: dict[str, str] | None = None) -> Path:
    """$MLTUI_STATE, else $XDG_STATE_HOME/mltui/state.json, else ~/.local/state/mltui/state.json."""
    env = dict(os.environ) if env is None else env
    if env.get(ENV_PATH):
        return Path(env[ENV_PATH]).expanduser()
    base = env.get("XDG_STATE_HOME") or ""
    root = (
        Path(base).expanduser()
        if base and Path(base).is_absolute()
        else Path.home() / ".local" / "state"
    )
    return root / "mltui" / "state.json"


def load_state(path: Path | None = None) -> dict[str, str]:
    """The remembered values that are well formed; anything else is left out."""
    data = read_json_object(state_path() if path is None else path)
    return {
        key: value
        for key, value in data.items()
        if key in KEYS
        and isinstance(value, str)
        and 0 < len(value) <= KEYS[key]
        and value.isprintable()
    }


def read_json_object(path: Path, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The file's JSON object, or {} for anything else (missing, not a regular
    file, over ``max_bytes``, not UTF-8 JSON, not an object)."""
    try:
        # O_NONBLOCK: a FIFO put in its place must not hang the start
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return {}
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return {}
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read(max_bytes + 1)
    except OSError:
        return {}
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json_atomic(path: Path, data: dict[str, Any], sort_keys: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in its folder and a
    rename, so a reader never sees half a file; raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=sort_keys)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remember(key: str, value: str, path: Path | None = None) -> str:
    """Store one value (the others are kept); returns "" or why it could not be stored."""
    if key not in KEYS:
        raise KeyError(key)
    path = state_path() if path is None else path
    data = read_json_object(path)  # (keys a later version wrote are kept)
    if data.get(key) == value:
        return ""
    data[key] = value
    try:
        write_json_atomic(path, data)
    except OSError as exc:
        return f"could not remember the {key} in {path}: {exc.strerror or exc}"
    return ""
