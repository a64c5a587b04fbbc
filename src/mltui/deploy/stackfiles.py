"""Which compose file deployed each stack: kept by `mltui up` and `mltui demo up`,
read by `mltui roll --build` (a swarm service carries no label naming its file).

``stackfiles.json`` beside the state file: ``{"<engine>\\n<stack>": "/abs/file"}``.
Writing is atomic (a temporary file, then a rename) and a failed write is a
message; reading treats the file as hostile (bounded, every entry checked) and a
damaged file is the same as an empty one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.state import read_json_object, state_path, write_json_atomic

MAX_BYTES = 256 * 1024
MAX_ENTRIES = 200
MAX_PATH = 4096
# the compose files `docker compose` looks for in a folder, in its order
FOLDER_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def files_path(env: dict[str, str] | None = None) -> Path:
    return state_path(env).parent / "stackfiles.json"


def _key(engine: str, stack: str) -> str:
    return f"{engine}\n{stack}"


def _read(path: Path) -> dict[str, str]:
    data = read_json_object(path, MAX_BYTES)
    return {
        k: v
        for k, v in data.items()
        if isinstance(k, str)
        and isinstance(v, str)
        and 0 < len(v) <= MAX_PATH
        and v.isprintable()
        and os.path.isabs(v)
    }


def remember_file(engine: str, stack: str, file: str | Path, path: Path | None = None) -> str:
    """Keep ``file`` (made absolute) as the one that deployed ``stack`` on
    ``engine``; "" when written, else why not."""
    path = files_path() if path is None else path
    entries = _read(path)
    entries.pop(_key(engine, stack), None)
    entries[_key(engine, stack)] = str(Path(file).expanduser().resolve())
    keep = dict(list(entries.items())[-MAX_ENTRIES:])  # the newest last
    try:
        write_json_atomic(path, keep, sort_keys=False)  # the newest last
    except OSError as exc:
        return f"which file deployed {stack} is not kept: {exc.strerror or exc}"
    return ""


def recorded_file(engine: str, stack: str, path: Path | None = None) -> str:
    """The file that deployed ``stack`` on ``engine`` as kept, when it still exists."""
    found = _read(files_path() if path is None else path).get(_key(engine, stack), "")
    return found if found and os.path.isfile(found) else ""


def remember_deployed(plan: Any, report: Callable[[str], None]) -> None:
    """After `mltui up` deployed ``plan`` (an up :class:`~.actions.Plan`): keep its
    file; a failed write is said, never raised."""
    if plan.file:
        problem = remember_file(plan.engine, plan.target, plan.file)
        if problem:
            report(problem)


def folder_files(folder: Path | None = None) -> list[Path]:
    """The compose files of ``folder`` (default: the current one)."""
    base = Path.cwd() if folder is None else folder
    return [base / name for name in FOLDER_FILES if (base / name).is_file()]


__all__ = ["files_path", "folder_files", "recorded_file", "remember_deployed", "remember_file"]
