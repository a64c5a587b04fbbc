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

from .textsafe import CR_PICTURE, picture, unsafe_pattern

TS_LEN = 30  # "2026-11-26T21:14:19.628794017Z"
MAX_LINE = 65536  # characters kept of one line; the rest is counted, not shown

STDOUT, STDERR, ENGINE = 1, 2, 3

# The engine's log copier cuts a line it has read 16 KiB of without a newline into
# "partial" messages, and stamps each. In a multiplexed stream each is a frame of
# its own; in a TTY container's raw stream the stamps land inside the line, one
# every PARTIAL_SIZE bytes of text.
PARTIAL_SIZE = 16 * 1024
_TS_BYTES = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ")

# What needs the slow path: every character the text-safety table replaces (see
# mltui.core.textsafe: controls, bidi controls, zero-width characters, ...) but LF,
# which only separates the lines searched together; TAB is among them (expanded).
_NEEDS_WORK = unsafe_pattern(exclude="\n")
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


def _safe_sgr(params: str) -> str | None:
    """An SGR sequence without "conceal" (8), which could hide text; None if empty."""
    if "8" not in params:
        return f"\x1b[{params}m"
    kept: list[str] = []
    parts = params.split(";")
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in ("38", "48", "58") and i + 1 < len(parts):
            width = 3 if parts[i + 1] == "5" else 5 if parts[i + 1] == "2" else 1
            kept.extend(parts[i : i + width])
            i += width
            continue
        if part != "8":
            kept.append(part)
        i += 1
    return f"\x1b[{';'.join(kept)}m" if kept else None


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


def _cut(line: str) -> str:
    """A timestamped line with at most MAX_LINE characters of text.

    Most lines keep their start. A line redrawn in place with carriage returns
    (a progress bar: tqdm, Keras) keeps its end instead, the latest state.
    """
    keep = TS_LEN + 1 + MAX_LINE
    if len(line) <= keep:
        return line
    if CR_PICTURE in line:
        return f"{line[: TS_LEN + 1]}({len(line) - keep} earlier characters) … {line[-MAX_LINE:]}"
    return line[:keep] + f" … ({len(line) - keep} more characters)"


_TS_SHAPE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) ?")


def normalize_ts(line: str) -> str:
    """``line`` with its leading timestamp in the fixed 30-character UTC form.
    Engines that print RFC 3339 without trailing zeros (or with an offset) still
    sort right; a line without a timestamp keeps an all-zero one."""
    m = _TS_SHAPE.match(line)
    if m is None:
        return "0000-00-00T00:00:00.000000000Z " + line
    date, frac, zone = m.groups()
    if zone != "Z":
        from datetime import datetime, timezone

        moment = datetime.fromisoformat(f"{date}{zone}").astimezone(timezone.utc)
        date = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{date}.{(frac or '').ljust(9, '0')}Z " + line[m.end() :]


def _is_fixed_ts(line: str) -> bool:
    return len(line) > TS_LEN and line[TS_LEN - 1] == "Z" and line[TS_LEN] == " "


def finish_lines(raw: list[bytes], *, check_each: bool = False) -> list[str]:
    """Timestamped raw lines (no newline) to safe ``"<ts> <text>"`` strings.
    Lines from one engine share its timestamp format, so the first and last
    line stand for all, unless ``check_each`` (TTY output, cut anywhere)."""
    if not raw:
        return []
    text = b"\n".join(raw).decode("utf-8", "replace")
    lines = text.split("\n")
    if len(lines) != len(raw):  # a payload held a newline of its own: go line by line
        lines = [r.decode("utf-8", "replace").replace("\n", "\u2424") for r in raw]
    fixed = not check_each and _is_fixed_ts(lines[0]) and _is_fixed_ts(lines[-1])
    if fixed and not _NEEDS_WORK.search(text):
        if len(text) > MAX_LINE and max(map(len, lines)) > MAX_LINE + TS_LEN + 1:
            return [_cut(line) for line in lines]
        return lines
    out = []
    for line in lines:
        if not _is_fixed_ts(line):
            line = normalize_ts(line)
        body = line[TS_LEN + 1 :]
        if _NEEDS_WORK.search(body):
            body = sanitize_line(body)
        out.append(_cut(line[: TS_LEN + 1] + body))
    return out


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
        self._last_ts = "0000-00-00T00:00:00.000000000Z"

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
    def _demux(self, body: bytes, lines: list[bytes], streams: list[int]) -> None:
        buf = self._mbuf + body if self._mbuf else body
        n = len(buf)
        pos = 0
        partial = self._partial
        while pos + 8 <= n:
            stream = buf[pos]
            end = pos + 8 + int.from_bytes(buf[pos + 4 : pos + 8], "big")
            if end > n:
                break
            if stream > 3 or buf[pos + 1 : pos + 4] != b"\0\0\0":
                raise LogStreamError("bad frame header in the log stream")
            payload = buf[pos + 8 : end]
            pos = end
            if stream == ENGINE:
                ts = lines[-1][:TS_LEN] if lines else self._last_ts.encode()
                lines.append(b"%s engine: %s" % (ts, payload.rstrip(b"\n")))
                streams.append(ENGINE)
                continue
            held = partial.pop(stream, None)
            if held is not None:  # the rest of a long line the engine cut up
                payload = held + payload[TS_LEN + 1 :]
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
    def _tty_lines(self, body: bytes, lines: list[bytes], streams: list[int]) -> None:
        buf = self._mbuf + body if self._mbuf else body
        cut = buf.rfind(b"\n")
        if cut < 0:
            self._mbuf = buf
            return
        self._mbuf = buf[cut + 1 :]
        for line in buf[:cut].split(b"\n"):
            if len(line) > PARTIAL_SIZE + TS_LEN + 1:
                line = _join_partials(line)
            lines.append(line)
            streams.append(STDOUT)

    def feed(self, data: bytes) -> tuple[list[str], list[int]]:
        body = self._dechunk(data) if self.chunked else data
        raw: list[bytes] = []
        streams: list[int] = []
        if body:
            (self._tty_lines if self.tty else self._demux)(body, raw, streams)
        return self._finish(raw, streams)

    def flush(self) -> tuple[list[str], list[int]]:
        """At the end of the stream: whatever partial line is left."""
        raw: list[bytes] = []
        streams: list[int] = []
        for stream, payload in sorted(self._partial.items()):
            raw.append(payload)
            streams.append(stream)
        self._partial.clear()
        if self.tty and self._mbuf:
            raw.append(self._mbuf)
            streams.append(STDOUT)
        self._mbuf = b""
        return self._finish(raw, streams)

    def _finish(self, raw: list[bytes], streams: list[int]) -> tuple[list[str], list[int]]:
        if not raw:
            return [], []
        lines = finish_lines(raw, check_each=self.tty)
        if self.tty:
            # timestamps start each message, not each line: a line without one
            # takes the time of the line before it
            for i, line in enumerate(lines):
                if line.startswith("0000-00-00T00:00:00.000000000Z "):
                    lines[i] = self._last_ts + line[TS_LEN:]
                else:
                    self._last_ts = line[:TS_LEN]
        else:
            self._last_ts = lines[-1][:TS_LEN]
        return lines, streams


def _join_partials(line: bytes) -> bytes:
    """A long TTY line without the stamps of its partial messages after the first.

    Only stamps exactly where the engine's copier puts them are taken out, so text
    that merely looks like a timestamp stays.
    """
    step = TS_LEN + 1
    parts = [line[: step + PARTIAL_SIZE]]
    pos = step + PARTIAL_SIZE
    while _TS_BYTES.match(line, pos):
        parts.append(line[pos + step : pos + step + PARTIAL_SIZE])
        pos += step + PARTIAL_SIZE
    if len(parts) == 1:
        return line
    parts.append(line[pos:])
    return b"".join(parts)
