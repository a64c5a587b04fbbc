"""What a configuration holds: the typed values mltui uses, a problem with one
key, and the TOML that ``mltui config --show`` prints."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..textsafe import refused_in_config, safe_text

SHOWN_KEY_CHARS = 80  # a key name in a message is cut to this many characters


@dataclass(frozen=True)
class Problem:
    """One key mltui could not use, and what it did instead."""

    key: str
    message: str
    line: int | None = None
    path: str = ""

    def __str__(self) -> str:
        # every part through the text-safety table: the path comes from the
        # environment, the message may quote an OS error
        where = safe_text(Path(self.path).name if self.path else "config", 120)
        if self.line is not None:
            where += f" line {self.line}"
        message = safe_text(self.message)
        if not self.key:
            return f"{where}: {message}"
        return f"{where}: {safe_text(self.key)}: {message}"


def shown_key(key: str) -> str:
    """A key name as messages show it: what the text-safety table refuses in a
    configuration (controls, ESC, bidi controls, ...) as ``\\uXXXX``, and a very
    long name cut short."""
    if refused_in_config(key):
        key = "".join(f"\\u{ord(c):04x}" if refused_in_config(c) else c for c in key)
    if len(key) > SHOWN_KEY_CHARS:
        key = key[: SHOWN_KEY_CHARS - 1] + "…"
    return key


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
    # `mltui roll`'s gates (None: not checked)
    max_accuracy_drop: float | None = None
    max_p95_ms: float | None = None
    min_accuracy: float | None = None

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
    read_only: bool = False  # refuse every action (scale, restart, down)
    stats: bool = True  # CPU and memory columns (off: no stats reads, for slow remote engines)
    stats_interval: float = 2.0  # seconds between two stats reads
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
        return Problem(shown_key(key), message, self.line_of(key), self.path)

    def to_toml(self) -> str:
        """The configuration in effect, as TOML (`mltui config --show`)."""
        out = [
            f"theme = {toml_value(self.theme)}" if self.theme else "# theme: the default",
            f"read_only = {toml_value(self.read_only)}",
            f"stats = {toml_value(self.stats)}",
            f"stats_interval = {toml_value(self.stats_interval)}",
            "",
            "[keys]",
        ]
        out += [f"{toml_value(k)} = {toml_value(v)}" for k, v in sorted(self.keys.items())]
        for name in ("logs", "engine", "predict"):
            section = getattr(self, name)
            out += ["", f"[{name}]"]
            for f in fields(section):
                value = getattr(section, f.name)
                if f.name == "endpoints" or value is None:
                    continue
                out.append(f"{f.name} = {toml_value(value)}")
        for ep in self.predict.endpoints:
            out += ["", "[[predict.endpoints]]"]
            out += [
                f"{f.name} = {toml_value(getattr(ep, f.name))}"
                for f in fields(ep)
                if getattr(ep, f.name)
            ]
        return "\n".join(out) + "\n"


def toml_value(value: Any) -> str:
    """A value mltui accepted, written as TOML (strings escaped, every character
    that is not printable as ``\\uXXXX``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    text = "".join(c if c.isprintable() else _escape(c) for c in text)
    return f'"{text}"'


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
