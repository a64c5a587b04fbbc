"""Where each key of a configuration file is: its line, for messages.

One pass over the text, in time linear in its length: the scanner knows strings
(one-line and multi-line, basic and literal), comments and values that span
lines (arrays, inline tables), so a line inside a multi-line string or array is
never taken for a table header or a key. It runs only on text ``tomllib``
accepted, and a key it cannot place simply has no line.
"""

from __future__ import annotations

import re

_SPACE = re.compile(r"[ \t]*")
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_BASIC = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_LITERAL = re.compile(r"'[^'\n]*'")
# inside a value: the next character that changes the scanner's state
_VALUE_STOP = re.compile(r"[\"'#\[\]{}\n]")
_BASIC_STOP = re.compile(r'\\.|"|\n', re.S)
_MULTI_BASIC_STOP = re.compile(r'\\.|"""', re.S)
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|x[0-9A-Fa-f]{2}|.)", re.S)
_SIMPLE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b"}


def locate(text: str) -> dict[str, int]:
    """The line of every key: "logs.max_lines", "predict.endpoints[0].url", and of
    tables ("logs"). Good enough for messages: a key it cannot place has no line."""
    return _Scanner(text).run()


def longest_key(text: str) -> tuple[int | None, int]:
    """The line and the number of parts of the key with the most dotted parts
    (tomllib takes time quadratic in that number: 50,000 parts take seconds)."""
    scanner = _Scanner(text)
    scanner.run()
    return scanner.longest


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[str, int] = {}
        self.table = ""
        self.arrays: dict[str, int] = {}
        self.longest: tuple[int | None, int] = (None, 0)

    def run(self) -> dict[str, int]:
        text = self.text
        while self.pos < len(text):
            self.pos = _skip_space(text, self.pos)
            if self.pos >= len(text):
                break
            first = text[self.pos]
            if first == "[":
                self._header()
                self._to_next_line()
            elif first in "#\r\n":
                self._to_next_line()
            else:
                self._key_value()
        return self.lines

    # -- moving on -------------------------------------------------------------------
    def _to_next_line(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end + 1
        self.line += 1

    def _jump(self, end: int) -> None:
        """Move to ``end``, counting the lines passed."""
        self.line += self.text.count("\n", self.pos, end)
        self.pos = end

    # -- what a line starts with ---------------------------------------------------------
    def _header(self) -> None:
        text = self.text
        double = text.startswith("[[", self.pos)
        self.pos += 2 if double else 1
        parts = self._key()
        if parts is None:
            return
        closing = "]]" if double else "]"
        if not text.startswith(closing, self.pos):
            return
        self.pos += len(closing)
        name = ".".join(parts)
        if double:
            index = self.arrays.get(name, -1) + 1
            self.arrays[name] = index
            self.table = f"{name}[{index}]"
        else:
            self.table = name
        self.lines.setdefault(self.table, self.line)
        self.lines.setdefault(name, self.line)

    def _key_value(self) -> None:
        line = self.line
        parts = self._key()
        if parts is None or not self.text.startswith("=", self.pos):
            self._to_next_line()
            return
        name = ".".join(parts)
        self.lines.setdefault(f"{self.table}.{name}" if self.table else name, line)
        self.pos += 1
        self._value()

    def _key(self) -> list[str] | None:
        """A dotted key's parts (quoted ones unescaped), leaving ``pos`` after the
        spaces that follow it; None when there is no key here."""
        text = self.text
        parts: list[str] = []
        while True:
            self.pos = _skip_space(text, self.pos)
            part = None
            for pattern in (_BARE, _BASIC, _LITERAL):
                found = pattern.match(text, self.pos)
                if found:
                    part = found.group()
                    self.pos = found.end()
                    break
            if part is None:
                return None
            parts.append(_unquote(part))
            self.pos = _skip_space(text, self.pos)
            if len(parts) > self.longest[1]:
                self.longest = (self.line, len(parts))
            if not text.startswith(".", self.pos):
                return parts
            self.pos += 1

    def _value(self) -> None:
        """Skip a value, however many lines it spans, and the rest of its line."""
        text = self.text
        depth = 0
        while True:
            stop = _VALUE_STOP.search(text, self.pos)
            if stop is None:
                self._jump(len(text))
                return
            self._jump(stop.start())
            char = stop.group()
            if char == "\n":
                self.pos += 1
                self.line += 1
                if depth == 0:
                    return
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif char in "\"'":
                self._string(char)
            elif char in "[{":
                depth += 1
                self.pos += 1
            else:
                depth = max(depth - 1, 0)
                self.pos += 1

    def _string(self, quote: str) -> None:
        text = self.text
        triple = quote * 3
        if text.startswith(triple, self.pos):
            start = self.pos + 3
            if quote == "'":
                end = text.find(triple, start)
                close = len(text) if end < 0 else end + 3
            else:
                close = len(text)
                for stop in _MULTI_BASIC_STOP.finditer(text, start):
                    if stop.group() == triple:
                        close = stop.end()
                        break
            # up to two quotes right after the closing ones belong to the string
            extra = 0
            while extra < 2 and text.startswith(quote, close + extra):
                extra += 1
            self._jump(min(close + extra, len(text)))
            return
        if quote == "'":
            end = text.find("'", self.pos + 1)
            newline = text.find("\n", self.pos + 1)
            if end < 0 or 0 <= newline < end:
                self._jump(len(text) if newline < 0 else newline)
            else:
                self.pos = end + 1
            return
        for stop in _BASIC_STOP.finditer(text, self.pos + 1):
            if stop.group() == '"':
                self.pos = stop.end()
                return
            if stop.group() == "\n":
                self._jump(stop.start())
                return
        self._jump(len(text))


def _skip_space(text: str, pos: int) -> int:
    found = _SPACE.match(text, pos)
    return found.end() if found else pos


def _unquote(key: str) -> str:
    """A key part as ``tomllib`` names it."""
    if key[0] == "'":
        return key[1:-1]
    if key[0] != '"':
        return key
    return _ESCAPE.sub(_unescape, key[1:-1])


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "uUx" and len(code) > 1:
        try:
            return chr(int(code[1:], 16))
        except ValueError:  # beyond U+10FFFF: tomllib would have refused the file
            return match.group()
    return _SIMPLE_ESCAPES.get(code, code)
