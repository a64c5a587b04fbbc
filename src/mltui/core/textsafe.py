"""Make untrusted short strings (names, labels, images, error messages) safe to show.

Container names, labels and task errors come from whoever created the container.
They may hold escape sequences (title changes, clipboard writes, cursor moves),
other control characters, bidirectional overrides or simply be very long. Before
such a string reaches a terminal, a table cell or a report it goes through
:func:`safe_text`: every control character becomes a visible stand-in, so the
user sees that something odd is there, and nothing is interpreted.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the Unicode format characters that reorder
# or hide text (bidi embeddings/overrides/isolates, zero-width joiners aside).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

_C0_PICTURES = {i: chr(0x2400 + i) for i in range(0x20)}
_C0_PICTURES[0x7F] = "\u2421"


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    return _C0_PICTURES.get(code, "\ufffd")


def safe_text(value: object, limit: int | None = None) -> str:
    """Return ``value`` as a single printable line.

    Control characters become their Unicode "control picture" (ESC shows as
    U+241B), C1 controls and bidi overrides become U+FFFD. With ``limit`` the
    result is cut to that many characters, ending in an ellipsis.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(_picture, text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def is_safe(text: str) -> bool:
    """True when ``text`` holds no character that :func:`safe_text` would replace."""
    return _UNSAFE.search(text) is None
