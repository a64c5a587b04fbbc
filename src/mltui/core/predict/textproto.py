"""TensorFlow Serving's model config file (protobuf text format), read safely.

The file a model server was started with (``--model_config_file=``) is the only
place its version labels are written down: REST has no call that lists them. The
file comes out of a container, so it is hostile input: bounded in size, nesting
and field count, and read by a small grammar (fields, ``{}``/``<>`` messages,
quoted strings, numbers, enum words, ``#`` comments) that never evaluates
anything. What it cannot read ends in :class:`TextProtoError` with one sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_CONFIG_BYTES", "ModelEntry", "TextProtoError", "model_entries", "parse"]

MAX_CONFIG_BYTES = 256 * 1024
MAX_DEPTH = 16
MAX_FIELDS = 20_000
MAX_TEXT = 4096  # one string or word

Value = str | int | float | bool | list[tuple[str, "Value"]]

_TOKEN = re.compile(
    r"""(?P<space>[ \t\r\n\f\v]+|\#[^\n]*)
      |(?P<string>'(?:[^'\\\n]|\\[^\n])*'|"(?:[^"\\\n]|\\[^\n])*")
      |(?P<word>[A-Za-z0-9_.+\-]+)
      |(?P<punct>[{}<>:\[\],;])""",
    re.VERBOSE,
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


class TextProtoError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _Tok:
    kind: str  # string | word | punct
    text: str
    line: int


def _unquote(raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            out.append(_ESCAPES.get(raw[i + 1], raw[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos, line = 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise TextProtoError(f"line {line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup or ""
        raw = m.group(0)
        if kind != "space":
            if len(raw) > MAX_TEXT:
                raise TextProtoError(f"line {line}: a value longer than {MAX_TEXT} characters")
            value = _unquote(raw[1:-1]) if kind == "string" else raw
            out.append(_Tok(kind, value, line))
            if len(out) > 4 * MAX_FIELDS:
                raise TextProtoError(f"more than {MAX_FIELDS} fields")
        line += raw.count("\n")
        pos = m.end()
    return out


def _scalar(tok: _Tok) -> Value:
    if tok.kind == "string":
        return tok.text
    if tok.text in ("true", "True", "t"):
        return True
    if tok.text in ("false", "False", "f"):
        return False
    try:
        return int(tok.text, 0) if not re.fullmatch(r"[+-]?0\d+", tok.text) else int(tok.text, 8)
    except ValueError:
        pass
    try:
        return float(tok.text)
    except ValueError:
        return tok.text  # an enum value


def parse(text: str) -> list[tuple[str, Value]]:
    """Fields in file order: (name, scalar or a nested list of fields)."""
    if len(text) > MAX_CONFIG_BYTES:
        raise TextProtoError(f"the file is over {MAX_CONFIG_BYTES // 1024} KiB")
    tokens = _tokens(text)
    root: list[tuple[str, Value]] = []
    stack: list[tuple[list[tuple[str, Value]], str]] = [(root, "")]
    count, i = 0, 0
    while i < len(tokens):
        tok = tokens[i]
        fields, close = stack[-1]
        if tok.kind == "punct" and tok.text == close:
            stack.pop()
            i += 1
            continue
        if tok.kind == "punct" and tok.text in ",;":
            i += 1
            continue
        if tok.kind != "word" or not _NAME.fullmatch(tok.text):
            raise TextProtoError(f"line {tok.line}: expected a field name, found {tok.text!r}")
        name = tok.text
        i += 1
        colon = i < len(tokens) and tokens[i].text == ":" and tokens[i].kind == "punct"
        if colon:
            i += 1
        if i >= len(tokens):
            raise TextProtoError(f"line {tok.line}: field {name} has no value")
        value = tokens[i]
        i += 1
        count += 1
        if count > MAX_FIELDS:
            raise TextProtoError(f"more than {MAX_FIELDS} fields")
        if value.kind == "punct" and value.text in "{<":
            if len(stack) > MAX_DEPTH:
                raise TextProtoError(f"line {value.line}: nested deeper than {MAX_DEPTH}")
            inner: list[tuple[str, Value]] = []
            fields.append((name, inner))
            stack.append((inner, "}" if value.text == "{" else ">"))
        elif value.kind == "punct" and value.text == "[":
            raise TextProtoError(f"line {value.line}: lists in [] are not read here")
        elif value.kind == "punct" or not colon:
            raise TextProtoError(f"line {value.line}: field {name}: expected ':' and a value")
        else:
            fields.append((name, _scalar(value)))
    if len(stack) > 1:
        raise TextProtoError(f"a message is not closed (missing {stack[-1][1]!r})")
    return root


@dataclass(frozen=True)
class ModelEntry:
    """One ``config { ... }`` of a ``model_config_list``."""

    name: str
    base_path: str = ""
    policy: str = "latest"  # latest | all | specific (TF Serving's default: latest 1)
    versions: tuple[str, ...] = ()  # the versions a `specific` policy names
    labels: tuple[tuple[str, str], ...] = ()  # (label, version)


def _text(value: Value | None) -> str:
    if isinstance(value, (bool, list)) or value is None:
        return ""
    return str(value)


def model_entries(text: str) -> list[ModelEntry]:
    """The models a ModelServerConfig names, with their policies and labels."""
    entries: list[ModelEntry] = []
    for key, value in parse(text):
        if key != "model_config_list" or not isinstance(value, list):
            continue  # custom_model_config and the like: no labels to read
        for ckey, config in value:
            if ckey != "config" or not isinstance(config, list):
                continue
            entries.append(_entry(config))
    return entries


def _entry(config: list[tuple[str, Value]]) -> ModelEntry:
    name = base = ""
    policy, versions, labels = "latest", [], []
    for key, value in config:
        if key == "name":
            name = _text(value)
        elif key == "base_path":
            base = _text(value)
        elif key == "model_version_policy" and isinstance(value, list) and value:
            policy = value[0][0]
            inner = value[0][1]
            if isinstance(inner, list):
                versions = [_text(v) for k, v in inner if k == "versions" and _text(v)]
        elif key == "version_labels" and isinstance(value, list):
            got = dict(value)
            label, version = _text(got.get("key")), _text(got.get("value"))
            if label and version:
                labels.append((label, version))
    return ModelEntry(name, base, policy, tuple(versions), tuple(labels))
