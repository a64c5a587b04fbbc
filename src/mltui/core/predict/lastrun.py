"""Each service's last predict run, kept in mltui's state folder.

``runs/<engine hash>/<stack>__<service>.json`` beside the state file: the
folder, the class-names file, the settings, the URL and model, the summary and
every image's result. `mltui roll` reruns it after a rollout and compares.

Writing is atomic (a temporary file, then a rename); a failed write is a message.
Reading treats the file as hostile: bounded in size, every field checked, and a
damaged file is ``None`` with the reason, never an exception.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..state import state_path
from ..textsafe import safe_text
from .results import Result, Summary, summarize

MAX_BYTES = 8 * 1024 * 1024
MAX_RESULTS = 20_000
_SAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class SavedRun:
    folder: str
    classes: str  # the class-names file ("" when none)
    url: str
    model: str
    concurrency: int
    batch: int
    scale: float
    top_k: int
    timeout: float
    shape: str  # "H,W,C" as asked ("" : the server's metadata)
    summary: Summary
    results: list[Result]
    saved_at: float = 0.0


def run_path(engine: str, service: str, env: dict[str, str] | None = None) -> Path:
    """The file of ``service`` ("stack/service") on ``engine`` (its address)."""
    digest = hashlib.sha256(engine.encode("utf-8", "replace")).hexdigest()[:12]
    stack, _, name = service.rpartition("/")
    base = f"{_SAFE.sub('_', stack)[:100]}__{_SAFE.sub('_', name)[:100]}.json"
    return state_path(env).parent / "runs" / digest / base


def save_run(path: Path, run: SavedRun) -> str:
    """Write ``run`` (at most MAX_RESULTS results); "" when written, else why not."""
    data = asdict(run)
    data["results"] = data["results"][:MAX_RESULTS]
    text = json.dumps(data, allow_nan=False, default=str)
    if len(text) > MAX_BYTES:
        return f"the last run is too large to keep ({len(text)} bytes)"
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".run-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, ValueError) as exc:
        return f"the last run could not be kept in {path}: {getattr(exc, 'strerror', None) or exc}"
    return ""


def _str(data: dict[str, Any], key: str, limit: int = 4096) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key} is not text")
    return safe_text(value, limit)


def _num(data: dict[str, Any], key: str, low: float, high: float) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{key} is not a number from {low:g} to {high:g}")
    return float(value)


def _opt_num(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ValueError(f"{key} is not a number")
    return float(value)


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} is not text")
    return safe_text(value, 400)


def _result(raw: Any) -> Result:
    if not isinstance(raw, dict):
        raise ValueError("a result is not an object")
    top = raw.get("top") or []
    if not isinstance(top, list):
        raise ValueError("top is not a list")
    pairs: list[tuple[str, float]] = []
    for item in top[:100]:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], str)
            or isinstance(item[1], bool)
            or not isinstance(item[1], int | float)
        ):
            raise ValueError("top holds something else than [class, score] pairs")
        pairs.append((safe_text(item[0], 400), float(item[1])))
    return Result(
        image=_str(raw, "image"),
        expected=_opt_str(raw, "expected"),
        predicted=_opt_str(raw, "predicted"),
        confidence=_opt_num(raw, "confidence"),
        top=pairs,
        latency_ms=_opt_num(raw, "latency_ms"),
        error_kind=_str(raw, "error_kind", 100),
        error=_str(raw, "error", 600),
        output=_str(raw, "output", 400),
        version=_str(raw, "version", 100),
    )


def load_run(path: Path) -> tuple[SavedRun | None, str]:
    """(the saved run, "") ; (None, "") when there is none; (None, why) when the
    file cannot be used."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # a FIFO: no wait
    except FileNotFoundError:
        return None, ""
    except OSError as exc:
        return None, f"the last run {path} cannot be read: {exc.strerror or exc}"
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None, f"the last run {path} is not a regular file"
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        return None, f"the last run {path} cannot be read: {exc.strerror or exc}"
    if len(raw) > MAX_BYTES:
        return None, f"the last run {path} is over {MAX_BYTES} bytes: not read"
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        rows = data.get("results")
        if not isinstance(rows, list) or len(rows) > MAX_RESULTS:
            raise ValueError("results is not a list of bounded size")
        results = [_result(r) for r in rows]
        seconds = (
            data.get("summary", {}).get("seconds", 0.0)
            if isinstance(data.get("summary"), dict)
            else 0.0
        )
        seconds = float(seconds) if isinstance(seconds, int | float) and seconds >= 0 else 0.0
        run = SavedRun(
            folder=_str(data, "folder"),
            classes=_str(data, "classes"),
            url=_str(data, "url", 2000),
            model=_str(data, "model", 400),
            concurrency=int(_num(data, "concurrency", 1, 256)),
            batch=int(_num(data, "batch", 1, 1024)),
            scale=_num(data, "scale", 1.0, 255.0),
            top_k=int(_num(data, "top_k", 1, 100)),
            timeout=_num(data, "timeout", 0.1, 3600.0),
            shape=_str(data, "shape", 40),
            summary=summarize(results, seconds),  # recomputed: never trusted from the file
            results=results,
            saved_at=_num(data, "saved_at", 0.0, 1e11),
        )
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return None, f"the last run {path} is damaged ({safe_text(str(exc), 200)}): not used"
    return run, ""


__all__ = ["SavedRun", "load_run", "run_path", "save_run"]
