"""Read a container's log stream off the wire: dechunk, demultiplex, sanitise.

The engine answers ``GET /containers/{id}/logs?timestamps=1`` with HTTP chunked
encoding (one chunk per log message), and, for containers without a TTY, each
message in a multiplexed frame: 8 header bytes (stream 1 stdout / 2 stderr /
3 an error of the engine, then a big-endian length) and the payload
``2026-11-26T21:14:19.628794017Z text\\n``. docker-py decodes this one frame at a
time through several layers (about 7 us of CPU a line); :class:`LogDecoder`
decodes whole reads (hundreds of KiB) at once and only falls back to per-line
work for lines that need it.

Every line is untrusted. :func:`sanitize_line` keeps colour (SGR) and turns
every other escape or control sequence into inert, visible characters, so that
nothing a container prints can move the cursor, set the title, write the
clipboard (OSC 52) or switch screens in the user's terminal.

Lines come out as ``str`` values ``"<timestamp> <text>"``: the timestamp is
RFC 3339 in UTC with nanoseconds, fixed width (30 characters), so comparing two
lines compares their times first; that is what the merge of replicas sorts on.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import cast

from .logsanitize import sanitize_line, strip_sgr

__all__ = [
    "ENGINE",
    "MAX_LINE",
    "PARTIAL_SIZE",
    "STDERR",
    "STDOUT",
    "TS_LEN",
    "ZERO_TS",
    "LogDecoder",
    "LogStreamError",
    "finish_lines",
    "leading_stamp",
    "normalize_ts",
    "sanitize_line",  # (from .logsanitize: where it was before)
    "strip_sgr",
]
from .textsafe import CR_PICTURE, unsafe_pattern

TS_LEN = 30  # "2026-11-26T21:14:19.628794017Z"
MAX_LINE = 65536  # characters kept of one line; the rest is counted, not shown
ZERO_TS = "0000-00-00T00:00:00.000000000Z"  # a line with no time of its own (yet)

STDOUT, STDERR, ENGINE = 1, 2, 3

# The engine's log copier cuts a line it has read 16 KiB of without a newline into
# "partial" messages, and stamps each. In a multiplexed stream each is a frame of
# its own; in a TTY container's raw stream the stamps land inside the line, one
# every PARTIAL_SIZE bytes of text.
PARTIAL_SIZE = 16 * 1024
MAX_FRAME = 1 << 22  # a bigger frame is not the engine's: an error, not a buffer
KEEP = 4 * MAX_LINE  # bytes kept of each end of a TTY line too long to keep whole
_LATER = bytes(range(0x80, 0xC0))  # UTF-8 bytes that continue a character
_TS_BYTES = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ")

# What a line's text needs the sanitiser for: every character the text-safety
# table replaces (see mltui.core.textsafe: controls, bidi controls, zero-width
# characters, ...); TAB is among them (expanded).
_NEEDS_WORK = unsafe_pattern()


def _cut(line: str) -> str:
    """A timestamped line with at most MAX_LINE characters of text.

    Most lines keep their start. A line redrawn in place with carriage returns
    (a progress bar: tqdm, Keras) keeps its end instead, the latest state.
    """
    keep = TS_LEN + 1 + MAX_LINE
    if len(line) <= keep:
        return line
    if CR_PICTURE in line:
        tail = line[-MAX_LINE:]
        return f"{line[: TS_LEN + 1]}({len(line) - keep} earlier characters) … {tail}"
    head = _head_of(line[TS_LEN + 1 :])
    return f"{line[: TS_LEN + 1]}{head} … ({len(line) - TS_LEN - 1 - len(head)} more characters)"


def _head_of(text: str) -> str:
    """The first MAX_LINE characters of a sanitised text, without a colour sequence
    the cut fell inside (it would reach the terminal unfinished)."""
    head = text[:MAX_LINE]
    esc = head.rfind("\x1b") if len(text) > MAX_LINE else -1
    return head[:esc] if esc >= 0 and "m" not in head[esc:] else head


# A time the engine may stamp a line with: a real date (the day exists in its month;
# 29 February is checked against the year by _leap_ok) and a real time of day.
_MD = (
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])"
    r"|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
)
_HMS = r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
_DATE = rf"\d{{4}}-(?:{_MD}|02-29){_HMS}"
# The engine's own stamp (RFC 3339, UTC, nanoseconds, fixed width) and a space.
_FIXED = re.compile(rf"{_DATE}\.\d{{9}}Z ")
# The fast path's one test of a whole read: every line starts with the engine's
# stamp and holds no character the sanitiser would change (29 February aside:
# those days go line by line, for _leap_ok).
_SAFE = "[^" + unsafe_pattern().pattern[1:]  # (LF included in the table: excluded)
_CLEAN = rf"\d{{4}}-{_MD}{_HMS}\.\d{{9}}Z {_SAFE}*"
_ALL_CLEAN = re.compile(rf"(?:{_CLEAN}\n)*{_CLEAN}")
# Other engines' RFC 3339: fewer fraction digits, or an offset.
_OTHER = re.compile(rf"({_DATE})(?:\.(\d{{1,9}}))?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d) ?")


def _leap_ok(stamp: str) -> bool:
    """False for 29 February of a year that has none."""
    if stamp[5:10] != "02-29":
        return True
    year = int(stamp[:4])
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def leading_stamp(line: str, *, fixed_only: bool = False) -> tuple[str, int] | None:
    """The time ``line`` starts with, in the fixed 30-character UTC form, and where
    its text starts; None when it does not start with a time that exists.

    ``fixed_only`` takes only the engine's own form (a TTY stream, where any line may
    start with the container's text: its own times are text). A stamp that does not
    parse (month 13, 30 February, 24 o'clock) is text too: nothing raises.
    """
    m = _FIXED.match(line)
    if m is not None:
        return (line[:TS_LEN], TS_LEN + 1) if _leap_ok(line) else None
    if fixed_only or (m := _OTHER.match(line)) is None or not _leap_ok(line):
        return None
    date, frac, zone = m.groups()
    if zone != "Z":
        try:
            moment = datetime.fromisoformat(f"{date}{zone}").astimezone(timezone.utc)
        except (ValueError, OverflowError):  # year 0, or out of range once in UTC
            return None
        date = moment.replace(tzinfo=None).isoformat(timespec="seconds")
    return f"{date}.{(frac or '').ljust(9, '0')}Z", m.end()


def normalize_ts(line: str) -> str:
    """``line`` with its leading timestamp in the fixed 30-character UTC form.
    Engines that print RFC 3339 without trailing zeros (or with an offset) still
    sort right; a line without a time that exists keeps all of its text and an
    all-zero one (:data:`ZERO_TS`)."""
    found = leading_stamp(line)
    if found is None:
        return f"{ZERO_TS} {line}"
    return f"{found[0]} {line[found[1] :]}"


def finish_lines(raw: list[bytes], *, tty: bool = False) -> tuple[list[str], bool]:
    """Timestamped raw lines (no newline) to safe ``"<ts> <text>"`` strings, and
    whether every one had a stamp. One without (a TTY line that is not a message's
    start, or a stamp that does not parse) keeps all of its text as text, after
    :data:`ZERO_TS`, for the decoder to give it the time of the line before."""
    if not raw:
        return [], True
    text = b"\n".join(raw).decode("utf-8", "replace")
    lines = text.split("\n")
    if len(lines) != len(raw):  # a payload held a newline of its own: go line by line
        lines = [r.decode("utf-8", "replace").replace("\n", "\u2424") for r in raw]
    if _ALL_CLEAN.fullmatch(text):
        if len(text) > MAX_LINE and max(map(len, lines)) > MAX_LINE + TS_LEN + 1:
            return [_cut(line) for line in lines], True
        return lines, True
    out = []
    stamped = True
    for line in lines:
        found = leading_stamp(line, fixed_only=tty)
        if found is None:
            ts, body, stamped = ZERO_TS, line, False
        else:
            ts, body = found[0], line[found[1] :]
        if _NEEDS_WORK.search(body):
            body = sanitize_line(body)
        out.append(_cut(f"{ts} {body}"))
    return out, stamped


class LogStreamError(Exception):
    """The bytes on the wire are not a log stream (bad chunk or frame)."""


class LogDecoder:
    """Incremental decoder of one logs response body.

    ``feed(data)`` takes bytes as they arrive (any split) and returns the complete
    lines decoded so far with their stream (1 stdout, 2 stderr, 3 engine error).
    ``eof`` turns true when the chunked body's last chunk was read.
    """

    def __init__(self, *, chunked: bool, tty: bool) -> None:
        self.chunked = chunked
        self.tty = tty
        self.eof = False
        self._cbuf = b""
        self._left = 0  # data bytes still to come in the current chunk
        self._crlf = False  # a chunk's data ended; its CRLF is still to come
        self._mbuf = b""
        self._partial: dict[int, bytes] = {}
        self._tty_line = _TtyLine()
        self._last_ts = ZERO_TS

    # -- layer 1: HTTP chunked transfer encoding -------------------------------
    def _dechunk(self, data: bytes) -> bytes:
        if self.eof:
            return b""  # trailers after the last chunk
        buf = self._cbuf + data if self._cbuf else data
        n = len(buf)
        pos = 0
        out: list[bytes] = []
        left, crlf = self._left, self._crlf
        while pos < n:
            if left:
                take = min(left, n - pos)
                out.append(buf[pos : pos + take])
                pos += take
                left -= take
                crlf = left == 0
                continue
            if crlf:
                if n - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":
                    raise LogStreamError("a chunk of the log stream does not end in CRLF")
                pos += 2
                crlf = False
                continue
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                if n - pos > 1024:
                    raise LogStreamError("a chunk size line of the log stream is too long")
                break
            try:
                size = int(buf[pos:nl].split(b";", 1)[0], 16)
            except ValueError:
                raise LogStreamError("bad chunk size in the log stream") from None
            pos = nl + 2
            if size == 0:
                self.eof = True
                pos = n
                break
            left = size
        self._cbuf = buf[pos:]
        self._left, self._crlf = left, crlf
        return b"".join(out)

    # -- layer 2: stdout/stderr multiplexing ----------------------------------
    def _demux(self, body: bytes, lines: list[bytes | str], streams: list[int]) -> None:
        buf = self._mbuf + body if self._mbuf else body
        n = len(buf)
        pos = 0
        partial = self._partial
        while pos + 8 <= n:
            stream = buf[pos]
            size = int.from_bytes(buf[pos + 4 : pos + 8], "big")
            if stream > 3 or buf[pos + 1 : pos + 4] != b"\0\0\0":
                raise LogStreamError("bad frame header in the log stream")
            if size > MAX_FRAME:  # the engine's are a message of at most 16 KiB
                raise LogStreamError(f"a frame of the log stream claims {size} bytes")
            end = pos + 8 + size
            if end > n:
                break
            payload = buf[pos + 8 : end]
            pos = end
            if stream == ENGINE:
                before = lines[-1] if lines else b""
                ts = (
                    before[:TS_LEN]
                    if isinstance(before, bytes) and _TS_BYTES.match(before)
                    else b""
                )
                lines.append(
                    b"%s engine: %s" % (ts or self._last_ts.encode(), payload.rstrip(b"\n"))
                )
                streams.append(ENGINE)
                continue
            held = partial.pop(stream, None)
            if held is not None and _TS_BYTES.match(payload):  # the rest of a long line
                payload = held + payload[TS_LEN + 1 :]  # the engine cut up: its stamp goes
            elif held is not None:
                payload = held + payload
            if payload.endswith(b"\n"):
                lines.append(payload[:-1])
                streams.append(stream)
            elif len(payload) > 4 * MAX_LINE:
                lines.append(payload)
                streams.append(stream)
            else:
                partial[stream] = payload
        self._mbuf = buf[pos:]

    # -- layer 2 for TTY containers: one raw stream, lines cut anywhere -------
    def _tty_lines(self, body: bytes, lines: list[bytes | str], streams: list[int]) -> None:
        cut = body.rfind(b"\n")
        if cut < 0:
            self._tty_line.add(body)
            return
        start = 0
        if self._tty_line.size:  # the line that began in an earlier read ends here
            start = body.find(b"\n") + 1
            self._tty_line.add(body[: start - 1])
            lines.append(self._tty_line.finish())
            streams.append(STDOUT)
            self._tty_line = _TtyLine()
        if start <= cut:
            for line in body[start:cut].split(b"\n"):
                if len(line) > PARTIAL_SIZE + TS_LEN + 1:
                    one = _TtyLine()
                    one.add(line)
                    lines.append(one.finish())
                else:
                    lines.append(line)
                streams.append(STDOUT)
        if cut + 1 < len(body):
            self._tty_line.add(body[cut + 1 :])

    def feed(self, data: bytes) -> tuple[list[str], list[int]]:
        body = self._dechunk(data) if self.chunked else data
        raw: list[bytes | str] = []
        streams: list[int] = []
        if body:
            (self._tty_lines if self.tty else self._demux)(body, raw, streams)
        return self._finish(raw, streams)

    def flush(self) -> tuple[list[str], list[int]]:
        """At the end of the stream: whatever partial line is left."""
        raw: list[bytes | str] = []
        streams: list[int] = []
        for stream, payload in sorted(self._partial.items()):
            raw.append(payload)
            streams.append(stream)
        self._partial.clear()
        if self.tty and self._tty_line.size:
            raw.append(self._tty_line.finish())
            streams.append(STDOUT)
            self._tty_line = _TtyLine()
        self._mbuf = b""
        return self._finish(raw, streams)

    def _finish(self, raw: list[bytes | str], streams: list[int]) -> tuple[list[str], list[int]]:
        if not raw:
            return [], []
        if not self.tty:  # (only a TTY line over the bound comes finished)
            done, ok = finish_lines(cast("list[bytes]", raw), tty=False)
            return self._times(done, ok), streams
        lines: list[str] = []
        stamped = True
        run: list[bytes] = []
        for item in raw:  # str: a TTY line over the bound, finished by its _TtyLine
            if isinstance(item, bytes):
                run.append(item)
                continue
            done, ok = finish_lines(run, tty=True)
            lines += done
            lines.append(item)
            stamped = stamped and ok and not item.startswith(ZERO_TS)
            run = []
        done, ok = finish_lines(run, tty=True)
        lines += done
        return self._times(lines, stamped and ok), streams

    def _times(self, lines: list[str], stamped: bool) -> list[str]:
        if stamped:
            self._last_ts = lines[-1][:TS_LEN]
            return lines
        # a line without a time of its own (a TTY line that is not a message's start,
        # a stamp that does not parse) takes the time of the line before: the order
        # of the merge stays the order of the stream, and no line is lost
        last = self._last_ts
        for i, line in enumerate(lines):
            if line.startswith(ZERO_TS):
                lines[i] = last + line[TS_LEN:]
            else:
                last = line[:TS_LEN]
        self._last_ts = last
        return lines


class _TtyLine:
    """The TTY line being read, in bounded memory however long it grows.

    A line without a newline for a long time (a progress bar redrawn with CR) used
    to be kept whole and joined again on every read: quadratic time, unbounded
    memory. Here the bytes are looked at once, as they come: the engine's stamps of
    the 16 KiB partial messages are taken out where the engine puts them (as
    :func:`_join_partials` did), then the first :data:`KEEP` and the last
    :data:`KEEP` bytes of the text are kept and what lies between is only counted.
    A line that fits is finished exactly as before; a longer one keeps its start,
    or its end when it was redrawn with CR (what :func:`_cut` does).
    """

    __slots__ = ("_at", "_cr", "_gone", "_head", "_next", "_raw", "_tail", "size")

    def __init__(self) -> None:
        self.size = 0  # bytes added
        self._raw = bytearray()  # bytes not yet past the next place a stamp may be
        self._at = 0  # offset in the line of _raw[0]
        self._next = TS_LEN + 1 + PARTIAL_SIZE  # where the next stamp may be (-1: none)
        self._head = bytearray()
        self._tail = bytearray()
        self._gone = 0  # characters dropped between head and tail
        self._cr = False  # a CR among them

    def add(self, data: bytes) -> None:
        self.size += len(data)
        raw = self._raw
        raw += data
        step = TS_LEN + 1
        while self._next >= 0:
            k = self._next - self._at
            if len(raw) < k + step:  # not yet a whole stamp's worth past the place
                break
            self._keep(raw[:k])
            if _TS_BYTES.match(raw, k):
                del raw[: k + step]
                self._at += k + step
                self._next = self._at + PARTIAL_SIZE
            else:
                del raw[:k]
                self._at += k
                self._next = -1
        if self._next < 0 and raw:
            self._keep(raw)
            self._at += len(raw)
            raw.clear()

    def _keep(self, text: bytes | bytearray) -> None:
        head, tail = self._head, self._tail
        room = KEEP - len(head)
        if room > 0:
            head += text[:room]
            text = text[room:]
        tail += text
        if len(tail) > 2 * KEEP:
            cut = len(tail) - KEEP
            while cut < len(tail) and 0x80 <= tail[cut] < 0xC0:  # a character's start
                cut += 1
            gone = tail[:cut]
            self._gone += len(gone) if gone.isascii() else len(gone.translate(None, _LATER))
            self._cr = self._cr or b"\r" in gone
            del tail[:cut]

    def finish(self) -> bytes | str:
        """The whole line (raw bytes, to be finished with the others) when it fits,
        else the finished ``"<ts> <text>"`` line, cut to :data:`MAX_LINE`."""
        self._keep(self._raw)
        self._raw.clear()
        if not self._gone:
            return bytes(self._head + self._tail)
        head = self._head.decode("utf-8", "replace")
        ts, start = leading_stamp(head, fixed_only=True) or (ZERO_TS, 0)
        head = sanitize_line(head[start:] + " ")[:-1]  # (a CR it ends with is no CRLF)
        tail = sanitize_line(self._tail.decode("utf-8", "replace"))
        total = len(head) + self._gone + len(tail)  # (what was dropped: before sanitising)
        if self._cr or CR_PICTURE in head or CR_PICTURE in tail:
            shown = tail[-MAX_LINE:]
            return f"{ts} ({total - len(shown)} earlier characters) … {shown}"
        shown = _head_of(head)
        return f"{ts} {shown} … ({total - len(shown)} more characters)"
