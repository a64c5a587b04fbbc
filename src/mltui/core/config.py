"""mltui's configuration file: TOML in the XDG config folder.

Every value is checked. A bad value gives one :class:`Problem` naming the key and
its line, and the default is used instead: a broken file never stops mltui.
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .textsafe import refused_in_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ENV_PATH = "MLTUI_CONFIG"
MAX_BYTES = 1 << 20  # a configuration is a few lines; a huge file is a mistake

EXAMPLE = """\
# mltui's configuration (TOML). Every key is optional; `mltui config --show`
# prints what is in effect, and names any key it could not use.

# theme = "nord"                # the palette's "Theme" (ctrl+t) lists them; unset:
                                # the last one picked there, else a dark one

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


@dataclass(frozen=True)
class Problem:
    """One key mltui could not use, and what it did instead."""

    key: str
    message: str
    line: int | None = None
    path: str = ""

    def __str__(self) -> str:
        where = Path(self.path).name if self.path else "config"
        if self.line is not None:
            where += f" line {self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass(frozen=True)
class Endpoint:
    """A model server the user named in the config."""

    model: str
    url: str = "http://127.0.0.1:8501"
    classes: str = ""
    folder: str = ""
    service: str = ""


@dataclass(frozen=True)
class LogsConfig:
    max_lines: int = 100_000
    timestamps: bool = True
    wrap: bool = False


@dataclass(frozen=True)
class EngineConfig:
    refresh_fallback_s: float = 300.0


@dataclass(frozen=True)
class PredictConfig:
    concurrency: int = 8
    batch: int = 1
    scale: float = 1.0
    top_k: int = 3
    timeout_s: float = 30.0
    shape: tuple[int, int, int] | None = None
    endpoints: tuple[Endpoint, ...] = ()

    def endpoint_for(self, model: str = "", service: str = "") -> Endpoint | None:
        """The configured endpoint of ``service`` (by label), else of ``model``."""
        if service:
            for ep in self.endpoints:
                if ep.service and ep.service == service:
                    return ep
        if model:
            for ep in self.endpoints:
                if ep.model == model:
                    return ep
        return None


@dataclass(frozen=True)
class Config:
    theme: str = ""  # "": the UI's own default (a dark theme)
    keys: dict[str, str] = field(default_factory=dict)
    logs: LogsConfig = field(default_factory=LogsConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    predict: PredictConfig = field(default_factory=PredictConfig)
    path: str = ""
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def line_of(self, key: str) -> int | None:
        return self.lines.get(key)

    def problem(self, key: str, message: str) -> Problem:
        """A problem found later (by the UI: an unknown theme or binding id)."""
        return Problem(key, message, self.line_of(key), self.path)

    def to_toml(self) -> str:
        """The configuration in effect, as TOML (`mltui config --show`)."""
        out = [
            f"theme = {_toml(self.theme)}" if self.theme else "# theme: the default",
            "",
            "[keys]",
        ]
        out += [f"{_toml(k)} = {_toml(v)}" for k, v in sorted(self.keys.items())]
        for name in ("logs", "engine", "predict"):
            section = getattr(self, name)
            out += ["", f"[{name}]"]
            for f in fields(section):
                value = getattr(section, f.name)
                if f.name == "endpoints" or value is None:
                    continue
                out.append(f"{f.name} = {_toml(value)}")
        for ep in self.predict.endpoints:
            out += ["", "[[predict.endpoints]]"]
            out += [
                f"{f.name} = {_toml(getattr(ep, f.name))}"
                for f in fields(ep)
                if getattr(ep, f.name)
            ]
        return "\n".join(out) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    text = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)
    return f'"{text}"'


# -- where each key is -------------------------------------------------------------
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEYLINE = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")


def _unquote(key: str) -> str:
    key = key.strip()
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    return key


def locate(text: str) -> dict[str, int]:
    """The line of every key: "logs.max_lines", "predict.endpoints[0].url", and of
    tables ("logs"). Good enough for messages: a key it cannot place has no line."""
    lines: dict[str, int] = {}
    table = ""
    arrays: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(raw)
        if header:
            name = ".".join(_unquote(p) for p in header.group(2).split("."))
            if header.group(1) == "[[":
                index = arrays.get(name, -1) + 1
                arrays[name] = index
                table = f"{name}[{index}]"
            else:
                table = name
            lines.setdefault(table, number)
            lines.setdefault(name, number)
            continue
        key = _KEYLINE.match(raw)
        if key:
            name = _unquote(key.group(1))
            lines.setdefault(f"{table}.{name}" if table else name, number)
    return lines


# -- loading -------------------------------------------------------------------------
class _Checker:
    def __init__(self, path: str, lines: dict[str, int]) -> None:
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def bad(self, key: str, message: str) -> None:
        line = self.lines.get(key)
        self.problems.append(Problem(_shown_key(key), message, line, self.path))

    def table(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.bad(key, f"should be a table ([{key}]), not {_kind(value)}; defaults used")
            return {}
        return value

    def unknown(self, data: dict[str, Any], known: set[str], prefix: str = "") -> None:
        for key in data:
            if key not in known:
                name = f"{prefix}{key}"
                if refused_in_config(key):
                    self.bad(name, "unknown key with control or format characters, ignored")
                    continue
                hint = _closest(key, known)
                self.bad(
                    name,
                    "unknown key, ignored" + (f" (did you mean {hint!r}?)" if hint else ""),
                )

    def integer(
        self, data: dict[str, Any], key: str, prefix: str, default: int, low: int, high: int
    ) -> int:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.bad(
                prefix + key,
                f"should be a whole number from {low:,} to {high:,}, not {_show(value)}; "
                f"using {default:,}",
            )
            return default
        return int(value)

    def number(
        self, data: dict[str, Any], key: str, prefix: str, default: float, low: float, high: float
    ) -> float:
        if key not in data:
            return default
        value = data[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not low <= value <= high
        ):
            self.bad(
                prefix + key,
                f"should be a number from {low:g} to {high:g}, not {_show(value)}; using {default:g}",
            )
            return default
        return float(value)

    def boolean(self, data: dict[str, Any], key: str, prefix: str, default: bool) -> bool:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, bool):
            self.bad(
                prefix + key,
                f"should be true or false, not {_show(value)}; using {_toml(default)}",
            )
            return default
        return value

    def string(self, data: dict[str, Any], key: str, prefix: str, default: str) -> str:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, str):
            self.bad(prefix + key, f"should be a string, not {_show(value)}; using {default!r}")
            return default
        if refused_in_config(value):
            self.bad(prefix + key, f"has control or format characters; using {default!r}")
            return default
        return value


def _shown_key(key: str) -> str:
    """A key name as messages show it: what the text-safety table refuses in a
    configuration (controls, ESC, bidi controls, ...) as ``\\uXXXX``."""
    if not refused_in_config(key):
        return key
    return "".join(f"\\u{ord(c):04x}" if refused_in_config(c) else c for c in key)


def _kind(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    text = _toml(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _closest(word: str, known: set[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


KEY_NAME = re.compile(r"^(?:(?:ctrl|shift|alt|meta|super|hyper)\+)*(?:[a-z0-9_]+|[^\s,+])$")


def _check_keys(check: _Checker, data: dict[str, Any]) -> dict[str, str]:
    keys = check.table(data, "keys")
    out: dict[str, str] = {}
    for binding, value in keys.items():
        name = f"keys.{binding}"
        if refused_in_config(binding):
            check.bad(name, "a binding id with control or format characters; ignored")
            continue
        if not isinstance(value, str) or not value.strip():
            check.bad(
                name,
                f'should be a string of keys such as "L" or "ctrl+l,L", not {_show(value)}; ignored',
            )
            continue
        parts = [p.strip() for p in value.split(",")]
        wrong = [p for p in parts if not KEY_NAME.match(p) or refused_in_config(p)]
        if wrong:
            check.bad(name, f"{_show(wrong[0])} is not a key name (such as L, f5, ctrl+l); ignored")
            continue
        out[str(binding)] = ",".join(parts)
    return out


def _check_predict(check: _Checker, data: dict[str, Any]) -> PredictConfig:
    p = check.table(data, "predict")
    d = PredictConfig()
    pre = "predict."
    check.unknown(
        p,
        {"concurrency", "batch", "scale", "top_k", "timeout_s", "shape", "endpoints"},
        pre,
    )
    scale = check.number(p, "scale", pre, d.scale, 1.0, 255.0)
    if scale not in (1.0, 255.0):
        check.bad(
            "predict.scale", f"should be 1.0 (0..1) or 255.0 (0..255), not {scale:g}; using 1.0"
        )
        scale = 1.0
    shape = None
    if "shape" in p:
        value = p["shape"]
        ok = (
            isinstance(value, list)
            and len(value) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and 1 <= value[0] <= 8192
            and 1 <= value[1] <= 8192
            and value[2] in (1, 3)
        )
        if ok:
            shape = (value[0], value[1], value[2])
        else:
            check.bad(
                "predict.shape",
                f"should be [H, W, C] with C 1 or 3, such as [224, 224, 3], not {_show(value)}; "
                "the server's metadata decides",
            )
    endpoints: list[Endpoint] = []
    raw = p.get("endpoints", [])
    if not isinstance(raw, list):
        check.bad("predict.endpoints", "should be tables [[predict.endpoints]]; ignored")
        raw = []
    names = {f.name for f in fields(Endpoint)}
    for i, ep in enumerate(raw):
        at = f"predict.endpoints[{i}]"
        if not isinstance(ep, dict):
            check.bad(at, "should be a table [[predict.endpoints]]; ignored")
            continue
        check.unknown(ep, names, at + ".")
        model = check.string(ep, "model", at + ".", "")
        if not model:
            check.bad(at, 'needs model = "NAME"; this endpoint is ignored')
            continue
        url = check.string(ep, "url", at + ".", Endpoint.url)
        if not re.match(r"^https?://[^\s/]+", url):
            check.bad(f"{at}.url", f"should start with http:// or https://, not {_show(url)}; "
                      f"using {Endpoint.url}")  # fmt: skip
            url = Endpoint.url
        paths = {}
        for key in ("classes", "folder"):
            value = check.string(ep, key, at + ".", "")
            if value:
                where = Path(value).expanduser()
                exists = where.is_file() if key == "classes" else where.is_dir()
                if not exists:
                    what = "file" if key == "classes" else "folder"
                    check.bad(f"{at}.{key}", f"no such {what}: {value}; ignored")
                    value = ""
                else:
                    value = str(where)
            paths[key] = value
        service = check.string(ep, "service", at + ".", "")
        endpoints.append(Endpoint(model, url, paths["classes"], paths["folder"], service))
    return PredictConfig(
        concurrency=check.integer(p, "concurrency", pre, d.concurrency, 1, 256),
        batch=check.integer(p, "batch", pre, d.batch, 1, 1024),
        scale=scale,
        top_k=check.integer(p, "top_k", pre, d.top_k, 1, 100),
        timeout_s=check.number(p, "timeout_s", pre, d.timeout_s, 0.1, 3600.0),
        shape=shape,
        endpoints=tuple(endpoints),
    )


def parse(text: str, path: str = "") -> tuple[Config, list[Problem]]:
    """The configuration in ``text``; each bad key gives a problem and its default."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(m.group(1)) if m else None
        if m:
            message = message[: m.start()].strip()
        return Config(path=path), [
            Problem("", f"not valid TOML ({message}); all defaults used", line, path)
        ]
    lines = locate(text)
    check = _Checker(path, lines)
    check.unknown(data, {"theme", "keys", "logs", "engine", "predict"})
    d = Config()
    theme = check.string(data, "theme", "", d.theme)
    logs = check.table(data, "logs")
    check.unknown(logs, {"max_lines", "timestamps", "wrap"}, "logs.")
    engine = check.table(data, "engine")
    check.unknown(engine, {"refresh_fallback_s"}, "engine.")
    config = Config(
        theme=theme,
        keys=_check_keys(check, data),
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
        predict=_check_predict(check, data),
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
