"""The model server's two configuration files, in TensorFlow Serving's text format.

`--model_config_file=` (a ModelServerConfig: `model_config_list { config { name
base_path model_version_policy version_labels } }`) and `--monitoring_config_file=`
(a MonitoringConfig: `prometheus_config { enable path }`), read as protobuf's text
format reads them, reduced to the fields TF Serving's model_server_config.proto and
monitoring_config.proto define that the demo uses. A file it cannot read stops the
server with the reason, as TF Serving does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOKEN = re.compile(
    r"\s+|#[^\n]*|(?P<str>'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")|(?P<word>[A-Za-z0-9_.+-]+)|(?P<p>[{}:<>\[\],;])"
)


class ConfigError(Exception):
    pass


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise ConfigError(f"unexpected {text[pos]!r} at offset {pos}")
        pos = m.end()
        if m.group("str"):
            out.append("\0" + m.group("str")[1:-1].encode().decode("unicode_escape"))
        elif m.group("word") or m.group("p"):
            out.append(m.group(0))
    return out


def parse(text: str) -> list[tuple[str, object]]:
    """Fields in order: (name, str | int | float | bool | nested list)."""
    tokens = _tokens(text)
    pos = 0

    def message(close: str | None) -> list[tuple[str, object]]:
        nonlocal pos
        fields: list[tuple[str, object]] = []
        while pos < len(tokens):
            tok = tokens[pos]
            if close and tok == close:
                pos += 1
                return fields
            if tok in (",", ";"):
                pos += 1
                continue
            if tok.startswith("\0") or not re.fullmatch(r"[A-Za-z_]\w*", tok):
                raise ConfigError(f"expected a field name, found {tok.lstrip(chr(0))!r}")
            pos += 1
            if pos < len(tokens) and tokens[pos] == ":":
                pos += 1
            if pos >= len(tokens):
                raise ConfigError(f"{tok}: no value")
            value = tokens[pos]
            pos += 1
            if value in ("{", "<"):
                fields.append((tok, message("}" if value == "{" else ">")))
            else:
                fields.append((tok, _scalar(value)))
        if close:
            raise ConfigError(f"missing {close!r} at the end")
        return fields

    return message(None)


def _scalar(tok: str) -> object:
    if tok.startswith("\0"):
        return tok[1:]
    if tok in ("true", "True"):
        return True
    if tok in ("false", "False"):
        return False
    try:
        return int(tok)
    except ValueError:
        pass
    try:
        return float(tok)
    except ValueError:
        return tok  # an enum value


@dataclass
class ModelConfig:
    name: str
    base_path: str
    policy: str = "latest"  # latest | all | specific
    num_versions: int = 1
    specific: list[int] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)


def model_configs(text: str) -> list[ModelConfig]:
    out = []
    for key, value in parse(text):
        if key != "model_config_list" or not isinstance(value, list):
            raise ConfigError(f"unknown field {key}")
        for ckey, cvalue in value:
            if ckey != "config" or not isinstance(cvalue, list):
                raise ConfigError(f"unknown field {ckey} in model_config_list")
            out.append(_model(cvalue))
    return out


def _model(fields: list[tuple[str, object]]) -> ModelConfig:
    got = dict(fields)
    config = ModelConfig(str(got.get("name", "")), str(got.get("base_path", "")))
    if not config.name or not config.base_path:
        raise ConfigError("a config needs a name and a base_path")
    for key, value in fields:
        if key == "model_version_policy" and isinstance(value, list):
            for pkey, pvalue in value:
                config.policy = pkey
                inner = pvalue if isinstance(pvalue, list) else []
                if pkey == "latest":
                    config.num_versions = int(dict(inner).get("num_versions", 1))
                elif pkey == "specific":
                    config.specific = [int(v) for k, v in inner if k == "versions"]
        elif key == "version_labels" and isinstance(value, list):
            entry = dict(value)
            config.labels[str(entry.get("key", ""))] = int(entry.get("value", 0))
    return config


def prometheus_path(text: str) -> str | None:
    """The metrics path a MonitoringConfig turns on, or None."""
    for key, value in parse(text):
        if key == "prometheus_config" and isinstance(value, list):
            got = dict(value)
            if got.get("enable") is True:
                return str(got.get("path") or "/monitoring/prometheus/metrics")
    return None
