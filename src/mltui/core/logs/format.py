"""The one formatter of log lines: ``mltui logs``, the logs screen, a saved file.

:class:`LineFormatter` turns a stored line and its origin into what each
consumer shows. The text form, ``name | [timestamp ]text`` (``#`` instead of
``|`` marks mltui's and the engine's notes when there is no colour to dim them),
is what ``mltui logs`` prints and what the logs screen saves; JSON Lines is
``mltui logs --json``. The screen asks the same formatter for the parts of a line
(:meth:`LineFormatter.parts`: the time as it shows it, the padded name, the
stream, the text) and only lays them out with its styles.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..logstream import TS_LEN, strip_sgr
from .lines import LogLine, Stream
from .logtime import local_clock

# Replica colours: distinct on dark and light backgrounds, stable by replica index.
PALETTE = (
    "cyan",
    "magenta",
    "green",
    "yellow",
    "blue",
    "bright_red",
    "bright_cyan",
    "bright_magenta",
    "bright_green",
    "bright_yellow",
    "bright_blue",
    "red",
)
_ANSI = {
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
    "bright_red": "91",
    "bright_green": "92",
    "bright_yellow": "93",
    "bright_blue": "94",
    "bright_magenta": "95",
    "bright_cyan": "96",
}
LOCAL_CLOCK_WIDTH = 12  # "21:14:19.628"


def colour_of(index: int) -> str:
    """The colour of replica ``index`` (a Rich colour name)."""
    return PALETTE[index % len(PALETTE)]


class _Named(Protocol):
    def names(self) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class LineParts:
    """A line as the screen lays it out: ``stamp name │ text``."""

    line: LogLine
    stamp: str  # the time as configured ("" when timestamps are off)
    name: str  # the replica's name, padded to the widest name

    @property
    def colour(self) -> str:
        return colour_of(self.line.replica)


class LineFormatter:
    """Stored lines (and their origins) as text, JSON Lines, or parts for the screen.

    ``names`` is the replicas' names by index: a list the caller keeps up to date,
    or a session (its :meth:`~.session.LogSession.names` is read on each call).
    ``local_time`` shows times as local wall-clock time to the millisecond (the
    screen), else the engine's full UTC timestamp (files, scripts).
    """

    def __init__(
        self,
        names: Sequence[str] | _Named,
        *,
        timestamps: bool = False,
        local_time: bool = False,
        colour: bool = False,
        as_json: bool = False,
        grep: re.Pattern[str] | None = None,
    ) -> None:
        self._source = names
        self.timestamps = timestamps
        self.local_time = local_time
        self.colour = colour
        self.as_json = as_json
        self.grep = grep

    @property
    def names(self) -> Sequence[str]:
        src = self._source
        return src if isinstance(src, Sequence) else src.names()

    def name_width(self, names: Sequence[str] | None = None) -> int:
        return max((len(n) for n in (self.names if names is None else names)), default=0)

    @property
    def stamp_width(self) -> int:
        """Columns the time takes, with its space (0 when timestamps are off)."""
        if not self.timestamps:
            return 0
        return (LOCAL_CLOCK_WIDTH if self.local_time else TS_LEN) + 1

    def stamp(self, ts: str) -> str:
        if not self.timestamps:
            return ""
        return local_clock(ts) if self.local_time else ts

    # -- one line ------------------------------------------------------------------
    def entry(self, line: str, origin: int) -> LogLine:
        """The typed view of one stored line."""
        return LogLine.of(line, origin, self.names)

    def parts(self, line: str, origin: int, width: int | None = None) -> LineParts:
        names = self.names
        entry = LogLine.of(line, origin, names)
        pad = self.name_width(names) if width is None else width
        return LineParts(entry, self.stamp(entry.time), entry.name.ljust(pad))

    def text(self, line: str, origin: int, width: int | None = None) -> str:
        """``name | [time ]text``: plain, or with ANSI colour when ``colour``."""
        parts = self.parts(line, origin, width)
        return self._text(parts.line, parts.stamp, parts.name)

    def _text(self, entry: LogLine, stamp: str, name: str) -> str:
        stamp = stamp + " " if stamp else ""
        note = entry.stream == Stream.NOTE
        if not self.colour:
            return f"{name} {'#' if note else '|'} {stamp}{strip_sgr(entry.text)}"
        text = entry.text
        if note:
            text = f"\x1b[2m{text}\x1b[0m"
        elif "\x1b" in text:
            text += "\x1b[0m"
        code = _ANSI[colour_of(entry.replica)]
        return f"\x1b[{code}m{name} |\x1b[0m {stamp}{text}"

    def json(self, line: str, origin: int) -> str:
        """One JSON Lines record: time, replica, stream, line (without colour)."""
        entry = LogLine.of(line, origin, self.names)
        record = {
            "time": entry.time,
            "replica": entry.name,
            "stream": entry.stream.label,
            "line": entry.plain,
        }
        return json.dumps(record, ensure_ascii=False)

    # -- many lines ----------------------------------------------------------------
    def format(self, lines: Sequence[str], origins: Sequence[int]) -> list[str]:
        """Those of ``lines`` that ``grep`` lets through, each as one output line."""
        return self.format_pairs(zip(lines, origins, strict=True))

    def format_pairs(self, pairs: Iterable[tuple[str, int]]) -> list[str]:
        names = self.names
        width = self.name_width(names)
        grep = self.grep
        out: list[str] = []
        for line, origin in pairs:
            if grep is not None and not grep.search(strip_sgr(line[TS_LEN + 1 :])):
                continue
            if self.as_json:
                out.append(self.json(line, origin))
                continue
            entry = LogLine.of(line, origin, names)
            out.append(self._text(entry, self.stamp(entry.time), entry.name.ljust(width)))
        return out
