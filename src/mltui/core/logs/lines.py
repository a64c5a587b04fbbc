"""How the log core stores lines, and the one way to read a stored line back.

A stored line is a ``str`` ``"<timestamp> <text>"`` (the fixed 30-character UTC
timestamp of :mod:`mltui.core.logstream`, a space, the sanitised text with its SGR
colour) and, beside it, an *origin*: one small int that packs which replica the
line came from (its index in the session) and its stream. Lines and origins are
kept in two parallel containers (a list and an ``array("H")``) so that a view of
100,000 lines costs little more than its text and merging or filtering stays
list work.

Nothing outside the log core decodes either: :class:`LogLine` is the typed view
of one line, :func:`origin_replica` / :func:`origin_stream` read an origin, and
:func:`line_time` / :func:`line_text` / :func:`plain_text` read a stored line.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum

from ..logstream import ENGINE, STDERR, STDOUT, TS_LEN, strip_sgr

DEFAULT_MAX_LINES = 100_000


class Stream(IntEnum):
    """Where a line was written: the container's stdout or stderr, or a note
    (an error of the engine, or mltui's own: a replica ended, reading again)."""

    STDOUT = STDOUT
    STDERR = STDERR
    NOTE = ENGINE

    @property
    def label(self) -> str:
        """The name scripts see (``mltui logs --json``)."""
        return self.name.lower()


NOTE = Stream.NOTE  # (the name the UI and tests import)

_STREAM_BITS = 2  # an origin is (replica index << 2) | stream


def pack_origin(replica: int, stream: int) -> int:
    """The origin of a line of replica ``replica`` (its index) on ``stream``."""
    return (replica << _STREAM_BITS) | stream


def origin_replica(origin: int) -> int:
    """The index of the replica an origin names."""
    return origin >> _STREAM_BITS


def origin_stream(origin: int) -> Stream:
    return Stream(origin & 3 or STDOUT)


def line_time(line: str) -> str:
    """The engine's timestamp of a stored line (RFC 3339, UTC, nanoseconds)."""
    return line[:TS_LEN]


def line_text(line: str) -> str:
    """The text of a stored line, SGR colour included."""
    return line[TS_LEN + 1 :]


def plain_text(line: str) -> str:
    """The text of a stored line without colour: what searches and files see."""
    return strip_sgr(line[TS_LEN + 1 :])


@dataclass(frozen=True, slots=True)
class LogLine:
    """One stored line, read back: which replica, which stream, when, what."""

    replica: int  # the replica's index in its session
    name: str  # the replica's name: "model.1", "web-2"
    stream: Stream
    time: str  # the engine's timestamp (RFC 3339, UTC, nanoseconds)
    text: str  # sanitised; SGR colour kept

    @classmethod
    def of(cls, line: str, origin: int, names: Sequence[str]) -> LogLine:
        index = origin_replica(origin)
        return cls(
            replica=index,
            name=names[index] if index < len(names) else "?",
            stream=origin_stream(origin),
            time=line[:TS_LEN],
            text=line[TS_LEN + 1 :],
        )

    @property
    def plain(self) -> str:
        """The text without colour."""
        return strip_sgr(self.text)

    @property
    def is_note(self) -> bool:
        return self.stream == Stream.NOTE


class LogBuffer:
    """The lines of one view, oldest first, at most ``max_lines`` of them.

    ``first`` is the absolute number of the first line kept (= how many were
    dropped), so positions stay meaningful while old lines go.
    """

    def __init__(self, max_lines: int = DEFAULT_MAX_LINES) -> None:
        self.max_lines = max(1, int(max_lines))
        self.lines: list[str] = []
        self.origins = array("H")
        self.first = 0

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def dropped(self) -> int:
        return self.first

    @property
    def end(self) -> int:
        """Absolute number one past the last line."""
        return self.first + len(self.lines)

    def extend(self, lines: Sequence[str], origins: Iterable[int]) -> int:
        """Append; returns how many old lines were dropped to stay in bounds."""
        self.lines.extend(lines)
        self.origins.extend(origins)
        excess = len(self.lines) - self.max_lines
        if excess > 0:
            del self.lines[:excess]
            del self.origins[:excess]
            self.first += excess
            return excess
        return 0

    def clear(self) -> None:
        self.first += len(self.lines)
        self.lines.clear()
        self.origins = array("H")

    # -- reading back, by absolute number ------------------------------------------
    def line(self, absolute: int) -> str:
        return self.lines[absolute - self.first]

    def origin(self, absolute: int) -> int:
        return self.origins[absolute - self.first]

    def plain(self, absolute: int) -> str:
        """The text of line ``absolute`` without colour."""
        return plain_text(self.lines[absolute - self.first])

    def entry(self, absolute: int, names: Sequence[str]) -> LogLine:
        i = absolute - self.first
        return LogLine.of(self.lines[i], self.origins[i], names)

    def select(
        self, pattern: re.Pattern[str] | None, replica: int | None, start: int | None = None
    ) -> Iterator[int]:
        """Absolute numbers of the lines from ``start`` (default: the first kept) on
        whose plain text ``pattern`` finds and that came from ``replica`` (None: any)."""
        offset = 0 if start is None else max(0, start - self.first)
        base = self.first + offset
        pairs = zip(self.lines[offset:], self.origins[offset:], strict=True)
        for i, (line, origin) in enumerate(pairs, start=base):
            if replica is not None and origin >> _STREAM_BITS != replica:
                continue
            if pattern is None or pattern.search(strip_sgr(line[TS_LEN + 1 :])):
                yield i

    def pairs(self, absolutes: Iterable[int] | None = None) -> list[tuple[str, int]]:
        """(line, origin) of every line kept, or of the lines numbered ``absolutes``."""
        if absolutes is None:
            return list(zip(self.lines, self.origins, strict=True))
        first = self.first
        return [(self.lines[a - first], self.origins[a - first]) for a in absolutes]


@dataclass
class LogChunk:
    """What :meth:`LogSession.take` hands over: lines and their origins."""

    lines: list[str]
    origins: array[int]
    dropped: int = 0  # lines the session had to drop because nobody took them in time

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(zip(self.lines, self.origins, strict=True))

    def entries(self, names: Sequence[str]) -> list[LogLine]:
        return [LogLine.of(line, origin, names) for line, origin in self]
