"""Checking each value of a parsed configuration: a bad one gives one
:class:`Problem` naming the key and its line, and the default is kept.

Whatever TOML holds, checking never raises: numbers of any size are compared as
they are (never converted to float first), and a value is quoted in a message
only as a short preview (a number with thousands of digits is described, not
written out).
"""

from __future__ import annotations

import math
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..textsafe import refused_in_config, safe_text
from .model import Endpoint, PredictConfig, Problem, shown_key, toml_value

PREVIEW_CHARS = 40  # a value quoted in a message is cut to this many characters
BIG_INT_BITS = 256  # beyond this, a number is described by its size, not written


class Checker:
    """The problems found so far, and how each kind of value is checked."""

    def __init__(self, path: str, lines: dict[str, int]) -> None:
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def bad(self, key: str, message: str) -> None:
        line = self.lines.get(key)
        self.problems.append(Problem(shown_key(key), message, line, self.path))

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
                f"should be a whole number from {low:,} to {high:,}, not {show(value)}; "
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
        if isinstance(value, bool) or not isinstance(value, int | float):
            ok = False
        elif isinstance(value, int):  # any size: compared exactly, never made a float first
            ok = low <= value <= high
        else:
            ok = math.isfinite(value) and low <= value <= high
        if not ok:
            self.bad(
                prefix + key,
                f"should be a number from {low:g} to {high:g}, not {show(value)}; using {default:g}",
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
                f"should be true or false, not {show(value)}; using {toml_value(default)}",
            )
            return default
        return value

    def string(self, data: dict[str, Any], key: str, prefix: str, default: str) -> str:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, str):
            self.bad(prefix + key, f"should be a string, not {show(value)}; using {default!r}")
            return default
        if refused_in_config(value):
            self.bad(prefix + key, f"has control or format characters; using {default!r}")
            return default
        return value


def _kind(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def show(value: Any) -> str:
    """A short preview of any value TOML can hold, for a message."""
    if isinstance(value, dict):
        return "a table"
    text = _preview(value, PREVIEW_CHARS + 1)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


def _preview(value: Any, budget: int) -> str:
    """``value`` as TOML, built only as far as ``budget`` characters (so a huge or
    deeply nested list costs no more than a short one)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > BIG_INT_BITS:
            digits = int(value.bit_length() * math.log10(2)) + 1
            return f"a number of about {digits:,} digits"
        return repr(value)
    if isinstance(value, str):
        return toml_value(value[:budget])
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, list | tuple):
        out = "["
        for i, item in enumerate(value):
            if len(out) >= budget:
                return out + "..."
            out += (", " if i else "") + _preview(item, budget - len(out))
        return out + "]"
    return toml_value(value)


def _closest(word: str, known: set[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


KEY_NAME = re.compile(r"^(?:(?:ctrl|shift|alt|meta|super|hyper)\+)*(?:[a-z0-9_]+|[^\s,+])$")


def check_keys(check: Checker, data: dict[str, Any]) -> dict[str, str]:
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
                f'should be a string of keys such as "L" or "ctrl+l,L", not {show(value)}; ignored',
            )
            continue
        parts = [p.strip() for p in value.split(",")]
        wrong = [p for p in parts if not KEY_NAME.match(p) or refused_in_config(p)]
        if wrong:
            check.bad(name, f"{show(wrong[0])} is not a key name (such as L, f5, ctrl+l); ignored")
            continue
        out[str(binding)] = ",".join(parts)
    return out


def check_predict(check: Checker, data: dict[str, Any]) -> PredictConfig:
    p = check.table(data, "predict")
    d = PredictConfig()
    pre = "predict."
    check.unknown(
        p,
        {"concurrency", "batch", "scale", "top_k", "timeout_s", "shape", "endpoints", *GATES},
        pre,
    )
    scale = check.number(p, "scale", pre, d.scale, 1.0, 255.0)
    if scale not in (1.0, 255.0):
        check.bad(
            "predict.scale", f"should be 1.0 (0..1) or 255.0 (0..255), not {scale:g}; using 1.0"
        )
        scale = 1.0
    shape = _check_shape(check, p)
    endpoints = _check_endpoints(check, p)
    return PredictConfig(
        concurrency=check.integer(p, "concurrency", pre, d.concurrency, 1, 256),
        batch=check.integer(p, "batch", pre, d.batch, 1, 1024),
        scale=scale,
        top_k=check.integer(p, "top_k", pre, d.top_k, 1, 100),
        timeout_s=check.number(p, "timeout_s", pre, d.timeout_s, 0.1, 3600.0),
        shape=shape,
        endpoints=endpoints,
        **{key: _gate(check, p, key, pre) for key in GATES},
    )


# `mltui roll`'s gates: key -> the highest value that makes sense
GATES = {"max_accuracy_drop": 1.0, "max_p95_ms": 3_600_000.0, "min_accuracy": 1.0}


def _gate(check: Checker, p: dict[str, Any], key: str, pre: str) -> float | None:
    """A gate's value, None when unset or wrong (then said)."""
    if key not in p:
        return None
    value, high = p[key], GATES[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        check.bad(
            pre + key, f"should be a number from 0 to {high:g}, not {show(value)}; not checked"
        )
        return None
    return float(value)


def _check_shape(check: Checker, p: dict[str, Any]) -> tuple[int, int, int] | None:
    if "shape" not in p:
        return None
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
        return (value[0], value[1], value[2])
    check.bad(
        "predict.shape",
        f"should be [H, W, C] with C 1 or 3, such as [224, 224, 3], not {show(value)}; "
        "the server's metadata decides",
    )
    return None


def _check_endpoints(check: Checker, p: dict[str, Any]) -> tuple[Endpoint, ...]:
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
            check.bad(f"{at}.url", f"should start with http:// or https://, not {show(url)}; "
                      f"using {Endpoint.url}")  # fmt: skip
            url = Endpoint.url
        paths = {key: _check_path(check, ep, key, at) for key in ("classes", "folder")}
        service = check.string(ep, "service", at + ".", "")
        endpoints.append(Endpoint(model, url, paths["classes"], paths["folder"], service))
    return tuple(endpoints)


def _check_path(check: Checker, ep: dict[str, Any], key: str, at: str) -> str:
    """An endpoint's classes file or image folder, as an absolute path; "" when
    unset or not there (a name too long for the system, an unknown ~user, a
    folder that cannot be searched: each one message)."""
    value = check.string(ep, key, at + ".", "")
    if not value:
        return ""
    what = "file" if key == "classes" else "folder"
    try:
        where = Path(value).expanduser()
        exists = where.is_file() if key == "classes" else where.is_dir()
    except (OSError, RuntimeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        check.bad(f"{at}.{key}", f"cannot check the {what} ({safe_text(reason, 80)}); ignored")
        return ""
    if not exists:
        check.bad(f"{at}.{key}", f"no such {what}: {safe_text(value, 120)}; ignored")
        return ""
    return str(where)
