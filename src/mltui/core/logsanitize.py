"""The log sanitiser: one line of container output, safe for a terminal and a file.

Every line a container prints is untrusted. :func:`sanitize_line` keeps colour
(SGR) and turns every other escape or control sequence into inert, visible
characters, so that nothing a container prints can move the cursor, set the
title, write the clipboard (OSC 52), switch screens or hide text in the user's
terminal; the characters themselves follow :mod:`mltui.core.textsafe`'s table.
SGR sequences come out rebuilt from what they mean: only the attributes in
:data:`SGR_KEPT` and well-formed colours, numbers without leading zeros, so
``ESC[08m`` (conceal) goes like ``ESC[8m`` and a parameter of thousands of digits
(which Rich cannot even convert) goes too. Every consumer (the screen,
``mltui logs`` with colour, a saved file through :func:`strip_sgr`) gets the same.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .textsafe import picture, unsafe_pattern

# Escape sequences: CSI (ESC [ ... final), OSC / DCS / SOS / PM / APC (up to BEL or
# ST, or to the end of the line when unterminated), and two-character escapes.
_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|$)"  # OSC, DCS, SOS, PM, APC
    r"|\x1b[ -/]*[0-~]"  # other escapes (charset, keypad, RIS, ...)
    r"|\x1b",  # a lone ESC
    re.S,
)
_SGR = re.compile(r"\x1b\[([0-9;:]*)m")
_CONTROL = unsafe_pattern()


# SGR attributes kept (colour, weight, italic, underline, blink, reverse, strike,
# overline and their resets); every other one goes: conceal (8), which hides text,
# fonts, frames, ideograms, super/subscripts, and what no terminal agrees on.
SGR_KEPT = frozenset(
    {0, 1, 2, 3, 4, 5, 7, 9, 21, 22, 23, 24, 25, 27, 28, 29, 39, 49, 53, 55}
    | {*range(30, 38), *range(40, 48), *range(90, 98), *range(100, 108)}
)


def _sgr_num(part: str) -> int | None:
    """One SGR parameter ("" is 0, leading zeros ignored); None above 999 (no SGR
    parameter is that big: thousands of digits would not even convert)."""
    digits = part.lstrip("0")
    if not digits:
        return 0
    return int(digits) if len(digits) <= 3 else None


def _sgr_colour(kind: int, args: list[str]) -> list[str]:
    """``38``/``48`` with ``5;n`` or ``2;r;g;b`` (each at most 255), in ``;`` form."""
    nums = [_sgr_num(a) for a in args]
    if kind not in (38, 48) or not nums or any(n is None or n > 255 for n in nums):
        return []
    if (nums[0], len(nums)) in ((5, 2), (2, 4)):
        return [";".join(str(n) for n in (kind, *nums))]
    return []


def _safe_sgr(params: str) -> str | None:
    """An SGR sequence as the terminal may get it: the kept attributes and well-formed
    colours, each number without leading zeros; None when nothing is left."""
    return _safe_sgr_cached(params) if len(params) <= 32 else _safe_sgr_of(params)


def _safe_sgr_of(params: str) -> str | None:
    if not params:
        return "\x1b[m"
    parts = params.split(";")
    kept: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        i += 1
        if ":" in part:  # ISO 8613-6 sub-parameters: 38:5:n, 38:2:[cs:]r:g:b, 4:n
            sub = part.split(":")
            head = _sgr_num(sub[0])
            if head == 4 and len(sub) == 2 and (style := _sgr_num(sub[1])) is not None:
                kept += ["24"] if style == 0 else ["4"] if style <= 5 else []
            elif head in (38, 48) and len(sub) == 3 and _sgr_num(sub[1]) == 5:
                kept += _sgr_colour(head, ["5", sub[2]])
            elif head in (38, 48) and len(sub) in (5, 6) and _sgr_num(sub[1]) == 2:
                kept += _sgr_colour(head, ["2", *sub[-3:]])
            continue
        code = _sgr_num(part)
        if code in (38, 48, 58):  # extended colour: its arguments follow
            width = {"5": 2, "2": 4}.get(parts[i].lstrip("0") if i < len(parts) else "", 1)
            if code != 58:  # underline colour: Rich reads it as attributes, dropped
                kept += _sgr_colour(code, parts[i : i + width])
            i += width
        elif code in SGR_KEPT:
            kept.append(str(code))
    return f"\x1b[{';'.join(kept)}m" if kept else None


_safe_sgr_cached = lru_cache(maxsize=1024)(_safe_sgr_of)  # colours repeat line after line


def _escape(match: re.Match[str]) -> str:
    seq = match.group()
    sgr = _SGR.fullmatch(seq)
    if sgr is not None:
        return _safe_sgr(sgr.group(1)) or ""
    if seq.startswith("\x1b[") or len(seq) <= 2:
        return ""  # cursor moves, erases, modes, charsets: terminal noise, dropped
    # OSC 52 clipboard writes, title changes, DCS and the like: shown, inert
    return _CONTROL.sub(picture, seq)


def sanitize_line(text: str) -> str:
    """One line of container output, safe to show in a terminal.

    Kept: printable text and SGR colour (minus "conceal"). Dropped: CSI cursor
    and screen sequences. Shown as control pictures (U+241B for ESC, ...): OSC,
    DCS and other string sequences, lone controls, CR (a trailing one, from CRLF,
    is dropped). C1 controls, bidi controls, zero-width characters and the rest
    of :mod:`mltui.core.textsafe`'s table become U+FFFD. TAB is expanded to
    8-column stops.
    """
    if text.endswith("\r"):
        text = text[:-1]
    if "\x1b" in text:
        text = _ESCAPE.sub(_escape, text)
        parts = _SGR.split(text)  # keep SGR, clean what lies between
        if len(parts) > 1:
            out = []
            for i, part in enumerate(parts):
                if i % 2:
                    out.append(f"\x1b[{part}m")
                else:
                    out.append(_clean_plain(part))
            return "".join(out)
    return _clean_plain(text)


def _clean_plain(text: str) -> str:
    if "\t" in text:
        text = text.expandtabs(8)
    if _CONTROL.search(text):
        text = _CONTROL.sub(picture, text)
    return text


def strip_sgr(text: str) -> str:
    """The plain text of a sanitised line (for search, filters and saved files)."""
    return _SGR.sub("", text) if "\x1b" in text else text
