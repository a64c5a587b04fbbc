"""The configuration file: where it is, reading it, and turning its text into a
:class:`Config` and a list of problems.

A file mltui cannot use (unreadable, not UTF-8, not TOML, too big, too deep, a
number too long to read) is one problem and all the defaults; a bad value is
one problem and that value's default. Loading never raises.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from .checks import Checker, check_keys, check_predict
from .locate import locate, longest_key
from .model import Config, EngineConfig, LogsConfig, Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ENV_PATH = "MLTUI_CONFIG"
MAX_BYTES = 1 << 20  # a configuration is a few lines; a huge file is a mistake
MAX_KEY_PARTS = 64  # mltui's deepest key has 3 ("predict.endpoints.model")

EXAMPLE = """\
# mltui's configuration (TOML). Every key is optional; `mltui config --show`
# prints what is in effect, and names any key it could not use.

# theme = "nord"                # the palette's "Theme" (ctrl+t) lists them; unset:
                                # the last one picked there, else a dark one
read_only = false               # true: refuse every action (scale, restart, down)
stats = true                    # CPU and memory per replica (false: no stats reads,
                                # for slow remote engines; `t` toggles it in the TUI)
stats_interval = 2              # seconds between two stats reads (0.5 to 3600)

[keys]                          # binding id = "key[,key...]"; the ids are in `?` help
# "services.logs" = "L"

[logs]
max_lines = 100000              # lines a logs view keeps before dropping the oldest
timestamps = true               # show the engine's timestamps
wrap = false                    # wrap long lines

[engine]
refresh_fallback_s = 300        # the slow poll behind the engine's event stream

[predict]                       # defaults of the predict screen and `mltui predict`
concurrency = 8
batch = 1
scale = 1.0                     # floats in 0..1 (1.0) or 0..255 (255.0)
top_k = 3
timeout_s = 30
# shape = [224, 224, 3]         # H, W, C: overrides the server's metadata (unset:
                                # the metadata decides, else 224 x 224 x 3)
# max_accuracy_drop = 0.02      # `mltui roll` gates (unset: not checked): accuracy
# max_p95_ms = 200              # lost against the last run, p95 latency, and the
# min_accuracy = 0.9            # lowest accuracy a new version may have

# [[predict.endpoints]]         # known model servers, one table each
# model = "my_model"
# url = "http://127.0.0.1:8501"
# classes = "~/data/classes.txt"
# folder = "~/data/test-images"
# service = "mltui-demo/model"  # the service it belongs to (optional)
"""


def config_path(env: dict[str, str] | None = None) -> Path:
    """$MLTUI_CONFIG, else $XDG_CONFIG_HOME/mltui/config.toml, else ~/.config/mltui/config.toml."""
    env = dict(os.environ) if env is None else env
    if env.get(ENV_PATH):
        return Path(env[ENV_PATH]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or ""
    root = Path(base).expanduser() if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "mltui" / "config.toml"


def _read_toml(text: str, path: str) -> tuple[dict[str, Any] | None, Problem | None]:
    """The TOML document in ``text``, or the one problem that stops reading it."""
    line, parts = longest_key(text)
    if parts > MAX_KEY_PARTS:
        message = f"has a key of {parts:,} dotted parts, more than the {MAX_KEY_PARTS} mltui reads"
        return None, Problem("", f"{message}; all defaults used", line, path)
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(m.group(1)) if m else None
        if m:
            message = message[: m.start()].strip()
        return None, Problem("", f"not valid TOML ({message}); all defaults used", line, path)
    except ValueError as exc:  # Python's limit on the digits of an integer it reads
        if "digits" not in str(exc):
            reason = f"cannot be read ({exc})"
            return None, Problem("", f"{reason}; all defaults used", None, path)
        limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
        line, digits = _longest_number(text)
        return None, Problem(
            "",
            f"has a number of {digits:,} digits, more than the {limit:,} mltui reads; "
            "all defaults used",
            line,
            path,
        )
    except RecursionError:
        return None, Problem("", "has values nested too deeply; all defaults used", None, path)


_DIGITS = re.compile(r"[0-9][0-9_]*")


def _longest_number(text: str) -> tuple[int | None, int]:
    """The line and digit count of the longest run of digits in ``text``."""
    best_line, best = None, 0
    for number, line in enumerate(text.splitlines(), start=1):
        for run in _DIGITS.finditer(line):
            digits = len(run.group()) - run.group().count("_")
            if digits > best:
                best_line, best = number, digits
    return best_line, best


def parse(text: str, path: str = "") -> tuple[Config, list[Problem]]:
    """The configuration in ``text``; each bad key gives a problem and its default."""
    data, problem = _read_toml(text, path)
    if data is None:
        return Config(path=path), [problem] if problem else []
    lines = locate(text)
    check = Checker(path, lines)
    check.unknown(
        data,
        {"theme", "read_only", "stats", "stats_interval", "keys", "logs", "engine", "predict"},
    )
    d = Config()
    theme = check.string(data, "theme", "", d.theme)
    logs = check.table(data, "logs")
    check.unknown(logs, {"max_lines", "timestamps", "wrap"}, "logs.")
    engine = check.table(data, "engine")
    check.unknown(engine, {"refresh_fallback_s"}, "engine.")
    config = Config(
        theme=theme,
        read_only=check.boolean(data, "read_only", "", d.read_only),
        stats=check.boolean(data, "stats", "", d.stats),
        stats_interval=check.number(data, "stats_interval", "", d.stats_interval, 0.5, 3600.0),
        keys=check_keys(check, data),
        logs=LogsConfig(
            max_lines=check.integer(logs, "max_lines", "logs.", d.logs.max_lines, 100, 10_000_000),
            timestamps=check.boolean(logs, "timestamps", "logs.", d.logs.timestamps),
            wrap=check.boolean(logs, "wrap", "logs.", d.logs.wrap),
        ),
        engine=EngineConfig(
            refresh_fallback_s=check.number(
                engine, "refresh_fallback_s", "engine.", d.engine.refresh_fallback_s, 1.0, 86400.0
            )
        ),
        predict=check_predict(check, data),
        path=path,
        lines=lines,
    )
    return config, check.problems


def load(path: Path | None = None) -> tuple[Config, list[Problem]]:
    """The configuration at ``path`` (default :func:`config_path`); a missing file is
    no problem, an unreadable one is."""
    path = path or config_path()
    try:
        if path.exists() and not path.is_file():  # a folder, a FIFO that would block
            raise OSError(0, "not a regular file")
        if path.exists() and path.stat().st_size > MAX_BYTES:
            return Config(path=str(path)), [
                Problem("", f"is over {MAX_BYTES // 1024} KiB; all defaults used", None, str(path))
            ]
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path=str(path)), []
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return Config(path=str(path)), [
            Problem("", f"cannot be read ({reason}); all defaults used", None, str(path))
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Config(path=str(path)), [
            Problem("", "is not UTF-8 text; all defaults used", line, str(path))
        ]
    return parse(text, str(path))
