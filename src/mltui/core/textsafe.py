"""What text from outside may put on the screen: one table, used everywhere.

Container names, labels, task errors and container logs come from whoever made
the container; the configuration file from the user. Before any of it reaches a
terminal, a table cell or a report, each character is looked up in
:data:`TABLE`:

=====================================  ===================================  ========  ========
characters                             code points                          shown as  config
=====================================  ===================================  ========  ========
C0 controls                            U+0000-U+001F                        U+2400+n  refused
DEL                                    U+007F                               U+2421    refused
C1 controls                            U+0080-U+009F                        U+FFFD    refused
bidi controls                          U+061C, U+200E-U+200F,               U+FFFD    refused
                                       U+202A-U+202E, U+2066-U+2069
zero-width characters                  U+200B-U+200D, U+2060, U+FEFF        U+FFFD    refused
line and paragraph separators          U+2028, U+2029                       U+FFFD    refused
surrogates                             U+D800-U+DFFF                        U+FFFD    refused
other format, private-use, unassigned  categories Cf, Co, Cn not above      as is     refused
everything else                                                             as is     accepted
=====================================  ===================================  ========  ========

Why: controls would be obeyed by the terminal (ESC starts cursor moves, title
changes, clipboard writes); control pictures (ESC shows as U+241B) let the user
see that something odd was there. Bidi controls reorder what is shown (a name
that reads as another, "Trojan Source"). Zero-width characters make two different
names look the same, and joiner sequences (emoji) are drawn at widths the layout
cannot predict, so all of them, joiners included, are replaced, in logs as in
names. Line separators break a line where the layout expects none; lone
surrogates cannot be written to a terminal at all. Other format, private-use
(icon fonts) and unassigned characters are harmless on screen and shown, but
a configuration value or key name has no use for them and refuses them.

Container logs add their own steps before the table (:mod:`mltui.core.logstream`):
SGR colour is kept, other escape sequences are dropped or shown inert, TAB is
expanded and a trailing CR dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

FFFD = "\ufffd"


@dataclass(frozen=True)
class CharClass:
    """One row of the table: characters, what the screen shows for each, and
    whether a configuration value or key name may hold them."""

    name: str
    ranges: tuple[tuple[int, int], ...]  # inclusive; empty: the row is by category
    shown_as: str  # "picture" (U+2400 + n, U+2421 for DEL), "U+FFFD", or "as is"
    in_config: str  # "refused" or "accepted"
    categories: tuple[str, ...] = ()  # (rows that stand for whole Unicode categories)


TABLE: tuple[CharClass, ...] = (
    CharClass("C0 controls", ((0x00, 0x1F),), "picture", "refused"),
    CharClass("DEL", ((0x7F, 0x7F),), "picture", "refused"),
    CharClass("C1 controls", ((0x80, 0x9F),), "U+FFFD", "refused"),
    CharClass(
        "bidi controls",
        ((0x061C, 0x061C), (0x200E, 0x200F), (0x202A, 0x202E), (0x2066, 0x2069)),
        "U+FFFD",
        "refused",
    ),
    CharClass(
        "zero-width characters",
        ((0x200B, 0x200D), (0x2060, 0x2060), (0xFEFF, 0xFEFF)),
        "U+FFFD",
        "refused",
    ),
    CharClass("line and paragraph separators", ((0x2028, 0x2029),), "U+FFFD", "refused"),
    CharClass("surrogates", ((0xD800, 0xDFFF),), "U+FFFD", "refused"),
    CharClass(
        "other format, private-use, unassigned",
        (),
        "as is",
        "refused",
        ("Cf", "Co", "Cn"),
    ),
)


def _char_class(exclude: str = "") -> str:
    """A regular-expression class of every character the screen does not show as is
    (less those in ``exclude``)."""
    skip = {ord(c) for c in exclude}
    parts: list[str] = []
    for row in TABLE:
        if row.shown_as == "as is":
            continue
        for first, last in row.ranges:
            for lo, hi in _without(first, last, skip):
                parts.append(_esc(lo) if lo == hi else f"{_esc(lo)}-{_esc(hi)}")
    return "[" + "".join(parts) + "]"


def _without(first: int, last: int, skip: set[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = first
    for code in range(first, last + 1):
        if code in skip:
            if start < code:
                out.append((start, code - 1))
            start = code + 1
    if start <= last:
        out.append((start, last))
    return out


def _esc(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def unsafe_pattern(exclude: str = "") -> re.Pattern[str]:
    """The characters :func:`safe_text` replaces (less ``exclude``), one at a time."""
    return re.compile(_char_class(exclude))


UNSAFE = unsafe_pattern()

_PICTURES = {i: chr(0x2400 + i) for i in range(0x20)}
_PICTURES[0x7F] = "\u2421"
CR_PICTURE = _PICTURES[0x0D]


def stand_in(char: str) -> str:
    """What the screen shows for ``char``, one the table replaces."""
    return _PICTURES.get(ord(char), FFFD)


def picture(match: re.Match[str]) -> str:
    """:func:`stand_in` of a matched character (for ``pattern.sub``)."""
    return _PICTURES.get(ord(match.group()), FFFD)


def safe_text(value: object, limit: int | None = None) -> str:
    """Return ``value`` as a single printable line.

    Every character the table replaces becomes its stand-in (ESC shows as U+241B,
    a bidi override as U+FFFD). With ``limit`` the result is cut to that many
    characters, ending in an ellipsis.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if UNSAFE.search(text):
        text = UNSAFE.sub(picture, text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def is_safe(text: str) -> bool:
    """True when ``text`` holds no character that :func:`safe_text` would replace."""
    return UNSAFE.search(text) is None


_CONFIG_REFUSED = frozenset(
    c for row in TABLE if row.in_config == "refused" for c in row.categories
)


def refused_in_config(text: str) -> bool:
    """True when a configuration value or key name holds a character the table
    refuses there (every row but "everything else")."""
    if UNSAFE.search(text):
        return True
    if text.isascii():
        return False
    return any(unicodedata.category(c) in _CONFIG_REFUSED for c in text)
