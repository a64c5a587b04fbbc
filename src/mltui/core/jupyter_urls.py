"""Jupyter server URLs: reading them from a notebook container's log and from
``jupyter server list --json``, and masking their tokens.

Everything read here comes from inside a container, so nothing is trusted: a log
URL's token is the ``token`` query parameter's value as the URL carries it
(whatever characters it ends with), every field of the list command's JSON is
type-checked and made safe to show, and the paths put into the URL mltui builds
are percent-encoded where a URL needs it.

Tokens are secrets: :func:`mask_token` hides the value of every ``token=``
parameter and nothing else; :func:`masked` shows at most an eighth of a token
(4 characters at most) and nothing of a weak one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from .textsafe import safe_text

# where a URL in a log line ends (whitespace, quotes, angle brackets); what it holds
# is then read with urllib.parse
_URL = re.compile(r"https?://[^\s\"'<>`\x00-\x1f\x7f-\x9f]+")
_PLACEHOLDER = "..."  # what Jupyter prints for a token set by configuration
MAX_LIST_LINE = 64 * 1024  # one server's JSON from the list command is a few hundred bytes
# how a base_url or path goes into a URL: what a path may hold as is; anything
# else (controls, spaces, non-ASCII, ? and #) percent-encoded
_PATH_SAFE = "/%-._~!$&'()*+,;=:@"


@dataclass(frozen=True)
class ServerUrl:
    """One server's URL as the container sees it."""

    url: str  # as printed or listed (made safe to show): http://5d3e38c00027:8888/lab?token=...
    port: int
    base_url: str  # "/" or "/user/x/", percent-encoded where a path needs it
    path: str  # what follows base_url: "lab", "tree", ""
    # token: in URL form (as it stands after "token=" in the URL), so it can be put
    # in a URL as is and found there for masking
    token: str  # "" when there is none (or only the placeholder)
    source: str  # "exec" | "logs"
    configured_token: bool = False  # the logs say token=... : set by configuration
    problem: str = ""  # what was wrong with the server's entry (then it has no URL)

    def with_host(self, host: str, port: int, path: str | None = None) -> str:
        """The same URL on ``host:port`` (the host's view); ``path`` instead of
        the app's path (``api/status``)."""
        query = f"token={self.token}" if self.token else ""
        where = self.base_url + (self.path if path is None else path)
        return urlunsplit(("http", f"{host}:{port}", quote(where, safe=_PATH_SAFE), query, ""))


def parse_log_urls(lines: Iterable[str]) -> list[ServerUrl]:
    """The servers a notebook container's log announces, the latest per port.

    Every URL returned is one that appears in the text (property-tested). A
    token printed as ``...`` (set by configuration) gives a URL without token
    and ``configured_token``. The token is the ``token`` query parameter's
    value as the URL carries it, whatever characters it ends with."""
    found: dict[int, ServerUrl] = {}
    for line in lines:
        if "://" not in line:
            continue
        for match in _URL.finditer(line):
            url = match.group()
            parsed = _split(url)
            if parsed is None:
                continue
            port, base, path, query = parsed
            token = _query_token(query)
            if token is None:
                continue  # a docs link, a file:// URL, a kernel message: not the server URL
            configured = token == _PLACEHOLDER
            candidate = ServerUrl(
                url=safe_text(url, 300),
                port=port,
                base_url=base,
                path=path,
                token="" if configured else token,
                source="logs",
                configured_token=configured,
            )
            found[port] = candidate  # the latest announcement wins (a restart's)
    return sorted(found.values(), key=lambda s: s.port)


def _query_token(query: str) -> str | None:
    """The ``token`` parameter's value exactly as the URL carries it (URL form,
    not decoded: what the user's URL holds, and what masking must find in it);
    the parameters are split as :func:`urllib.parse.parse_qsl` splits them."""
    for part in query.split("&"):
        name, equals, value = part.partition("=")
        if equals and unquote_plus(name) == "token":
            return value
    return None


def _split(url: str) -> tuple[int, str, str, str] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    path = parts.path or "/"
    base, rest = _base_and_path(path)
    return port, base, rest, parts.query


_APP_PATHS = ("lab", "tree", "notebooks", "edit", "terminals", "doc", "retro", "voila")


def _base_and_path(path: str) -> tuple[str, str]:
    """``/user/a/lab/tree/x.ipynb`` -> (``/user/a/``, ``lab/tree/x.ipynb``)."""
    segments = path.split("/")
    for i, seg in enumerate(segments):
        if seg in _APP_PATHS:
            return "/".join(segments[:i]) + "/", "/".join(segments[i:])
    base = path if path.endswith("/") else path + "/"
    return base, ""


def parse_list_json(output: bytes | str) -> list[ServerUrl]:
    """``jupyter server list --json``: one JSON object a line (older versions: a list).

    Lines that are not JSON are skipped (warnings). An entry whose fields have the
    wrong type (a port that is not a whole number from 1 to 65535, a base_url or
    token that is not a string), or a line too long to be one server, is kept with
    a ``problem`` saying so, so that the others are still listed and that one is
    named."""
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
    servers: list[ServerUrl] = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith(("{", "[")):
            continue
        if len(line) > MAX_LIST_LINE:
            servers.append(_unusable(f"the list command gave {len(line):,} characters for a line"))
            continue
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            continue
        for entry in data if isinstance(data, list) else [data]:
            if isinstance(entry, Mapping):
                servers.append(_listed(entry))
    return servers


def _listed(entry: Mapping[str, Any]) -> ServerUrl:
    """One entry of the list command, every field checked and made safe."""
    port = entry.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        return _unusable(f"the list command gave port {_preview(port)}")
    base = entry.get("base_url", "/")
    if not isinstance(base, str):
        return _unusable(f"the list command gave base_url {_preview(base)}", port)
    token = entry.get("token")
    if token is not None and not isinstance(token, str):
        return _unusable("the list command gave a token that is not a string", port)
    base = ("" if base.startswith("/") else "/") + base
    base = quote(base if base.endswith("/") else base + "/", safe=_PATH_SAFE)
    url = entry.get("url")
    return ServerUrl(
        url=safe_text(url if isinstance(url, str) else "", 300),
        port=port,
        base_url=base,
        path="",
        token=quote(token or "", safe="-._~"),
        source="exec",
    )


def _unusable(what: str, port: int = 0) -> ServerUrl:
    return ServerUrl(
        url="", port=port, base_url="/", path="", token="", source="exec",
        problem=f"{what}; mltui cannot build this server's URL",
    )  # fmt: skip


def _preview(value: object) -> str:
    """A JSON value quoted in a message: short, and safe to show."""
    if isinstance(value, str):
        return safe_text(json.dumps(value), 40)
    if value is None or isinstance(value, bool | int | float):
        return safe_text(json.dumps(value), 40)  # the line's length bounds the digits
    return "a list" if isinstance(value, list) else "an object"


MASK = "•" * 8
WEAK_TOKEN = 16  # characters: a shorter token is said to be weak, and none of it shown
# a token parameter's value in a URL (or in a message holding one)
_TOKEN_VALUE = re.compile(r"(?<=[?&]token=)[^&#\s\"'<>]*")


def masked(token: str) -> str:
    """``token`` as mltui shows it: eight dots after at most an eighth of it, at
    most 4 characters, and nothing of a token under :data:`WEAK_TOKEN` characters."""
    if not token:
        return ""
    length = len(unquote_plus(token))
    shown = 0 if length < WEAK_TOKEN else min(4, length // 8)
    return token[:shown] + MASK


def token_is_weak(token: str) -> bool:
    """A token short enough to guess (Jupyter's own are 48 characters)."""
    return 0 < len(unquote_plus(token)) < WEAK_TOKEN


def mask_token(text: str, token: str) -> str:
    """``text`` with the value of every ``token=`` query parameter masked; the
    rest of the text, the parameter's name and the other parameters, as they were."""
    if not token:
        return text
    return _TOKEN_VALUE.sub(lambda m: masked(m.group()) if m.group() else "", text)
