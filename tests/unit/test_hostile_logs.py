"""Hostile container output against the log decoder, the formatter and the log view.

Issue 16's classes: escapes through a TTY stream's first 31 characters, stamps that
do not parse, SGR parameters of thousands of digits, conceal spelled with leading
zeros, and a TTY line that never ends. The oracle (:func:`terminal_unsafe`) is
written here, from the terminal's side, and shares nothing with the sanitiser.
"""

from __future__ import annotations

import re
from array import array
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from mltui.core.logs import LineFormatter, LogBuffer, pack_origin, read_recent
from mltui.core.logstream import MAX_LINE, PARTIAL_SIZE, TS_LEN, LogDecoder, sanitize_line
from mltui.ui.logview import LogView

TS = b"2026-11-26T21:14:19.628794017Z "
ZERO = "0000-00-00T00:00:00.000000000Z"
REPRO = b"starting\n\033]52;c;ZXZpbA==\007\033[?1049h\033[6nAZ x\n"  # printf's bytes


# -- the oracle --------------------------------------------------------------------
def terminal_unsafe(text: str) -> str | None:
    """What in ``text`` a terminal would obey, other than colour; None if nothing.

    Allowed: ESC only as ``ESC [ digits/semicolons m`` whose numbers have at most
    3 digits, no leading zeros, and no 8 (conceal) as an attribute (8 as a 38;5;n
    colour index is a colour). Refused anywhere: C0 controls, DEL, C1 controls
    (CSI/OSC/DCS as one byte), bidi controls.
    """
    i = 0
    while i < len(text):
        c = text[i]
        code = ord(c)
        if c == "\x1b":
            end = text.find("m", i)
            params = text[i + 2 : end] if end > 0 and text[i + 1 : i + 2] == "[" else None
            if params is None or any(ch not in "0123456789;" for ch in params):
                return f"escape at {i}: {text[i : i + 12]!r}"
            nums = params.split(";") if params else []
            if any(len(n) > 3 or (len(n) > 1 and n[0] == "0") for n in nums):
                return f"absurd SGR number at {i}: {params[:20]!r}"
            k = 0
            while k < len(nums):
                n = int(nums[k] or 0)
                if n in (38, 48):
                    k += {"5": 3, "2": 5}.get(nums[k + 1] if k + 1 < len(nums) else "", 1)
                    continue
                if n == 8:
                    return f"conceal at {i}: {params!r}"
                k += 1
            i = end + 1
            continue
        if (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or c in "\u061c\u200e\u200f"
            or (0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069)
        ):
            return f"control U+{code:04X} at {i}"
        i += 1
    return None


def stamp_ok(line: str) -> bool:
    """A stored line starts with a time that exists (or the all-zero "no time")."""
    ts = line[:TS_LEN]
    if line[TS_LEN : TS_LEN + 1] != " ":
        return False
    if ts == ZERO:
        return True
    try:
        datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return ts[19] == "." and ts[20:29].isdigit() and ts[29] == "Z"


def decode(data: bytes, *, tty: bool, chunked: bool = False, cuts: list[int] | None = None):
    dec = LogDecoder(chunked=chunked, tty=tty)
    lines: list[str] = []
    streams: list[int] = []
    pieces = (
        [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)] if cuts else [data]
    )
    for piece in pieces:
        got, s = dec.feed(piece)
        lines += got
        streams += s
    got, s = dec.flush()
    return lines + got, streams + s


def frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def assert_line_safe(line: str) -> None:
    assert stamp_ok(line), repr(line[:40])
    problem = terminal_unsafe(line)
    assert problem is None, f"{problem} in {line!r}"


# -- 1. escapes through a TTY stream's first 31 characters -------------------------
def test_the_printf_reproducer_in_tty_framing_puts_no_escape_out():
    lines, _ = decode(TS + REPRO + TS + b"after\n", tty=True)
    assert [line[TS_LEN + 1 :] for line in lines] == [
        "starting",
        "␛]52;c;ZXZpbA==␇AZ x",  # OSC 52 shown inert; alt screen and cursor query dropped
        "after",
    ]
    assert all(line[:TS_LEN] == TS[:TS_LEN].decode() for line in lines)  # no forged time
    for line in lines:
        assert_line_safe(line)


def test_the_reproducer_is_safe_in_mltui_logs_colour_output_and_a_saved_file():
    lines, streams = decode(TS + REPRO, tty=True)
    origins = [pack_origin(0, s) for s in streams]
    coloured = LineFormatter(["web.1"], timestamps=True, colour=True).format(lines, origins)
    saved = LineFormatter(["web.1"], timestamps=True).format(lines, origins)  # the save path
    for text in coloured + saved:
        assert terminal_unsafe(text) is None, repr(text)
    assert saved[1].endswith("| 2026-11-26T21:14:19.628794017Z ␛]52;c;ZXZpbA==␇AZ x")


def test_text_shaped_like_a_stamp_at_the_start_of_a_tty_line_is_not_trusted():
    # the 30 characters before "Z " are what the old check skipped
    forged = b"\x1b]0;title\x07" + b"a" * 19 + b"Z x\n"
    lines, _ = decode(TS + b"one\n" + forged, tty=True)
    assert lines[1] == TS.decode() + "␛]0;title␇" + "a" * 19 + "Z x"


# -- 2. stamps that do not parse ----------------------------------------------------
def test_an_impossible_stamp_in_a_tty_stream_is_text_with_the_time_before():
    data = TS + b"good\n2026-13-45T10:00:00+01:00 x\n" + TS + b"later\n"
    lines, _ = decode(data, tty=True)
    assert lines == [
        TS.decode() + "good",
        TS.decode() + "2026-13-45T10:00:00+01:00 x",
        TS.decode() + "later",
    ]


def test_an_impossible_stamp_in_frames_is_text_and_no_line_is_lost():
    bad = [
        b"2026-13-45T10:00:00+01:00 x\n",
        b"2026-02-30T10:00:00.000000000Z feb 30\n",
        b"2025-02-29T10:00:00.000000000Z not a leap year\n",
        b"2026-11-26T24:00:00.000000000Z hour 24\n",
        b"9999-12-31T23:00:00-02:00 past year 9999 in UTC\n",
        b"0000-01-01T00:00:00+01:00 year 0\n",
    ]
    data = b"".join(chunk(frame(1, p)) for p in [TS + b"good\n", *bad]) + b"0\r\n\r\n"
    lines, _ = decode(data, tty=False, chunked=True)
    assert lines[0] == TS.decode() + "good"
    assert [line[TS_LEN + 1 :] for line in lines[1:]] == [b[:-1].decode() for b in bad]
    assert all(line[:TS_LEN] == TS[:TS_LEN].decode() for line in lines)


def test_real_times_of_other_shapes_still_count_in_frames_and_leap_days_exist():
    data = frame(1, b"2024-02-29T23:30:00.5-01:00 leap\n") + frame(1, TS + b"next\n")
    lines, _ = decode(data, tty=False)
    assert lines == ["2024-03-01T00:30:00.500000000Z leap", TS.decode() + "next"]


class _Stream:
    """What Engine.open_logs hands back: a body read in pieces (here from memory)."""

    chunked = False

    def __init__(self, data: bytes) -> None:
        self.data = [data[i : i + 7] for i in range(0, len(data), 7)]

    def read(self, size: int = -1) -> bytes:
        return self.data.pop(0) if self.data else b""

    def close(self) -> None:
        pass


class _Engine:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def open_logs(self, path: str, params: dict, follow: bool) -> _Stream:
        return _Stream(self.data)


def test_the_jupyter_url_finder_reads_past_an_impossible_stamp():
    data = TS + b"good\n2026-13-45T10:00:00+01:00 x\n  http://127.0.0.1:8888/lab?token=abc\n"
    got = read_recent(_Engine(data), "cid", tty=True)  # type: ignore[arg-type]
    assert got == ["good", "2026-13-45T10:00:00+01:00 x", "  http://127.0.0.1:8888/lab?token=abc"]


# -- 3 and 4. SGR: absurd numbers, conceal however spelled --------------------------
def test_an_sgr_parameter_of_thousands_of_digits_never_reaches_the_screen():
    for params in ("1" * 4301, "0" * 5000 + "31", "38;5;" + "9" * 5000, "1;" + "2" * 9000):
        out = sanitize_line(f"\x1b[{params}mx")
        assert terminal_unsafe(out) is None, out[:40]
        assert out.endswith("x")
    assert sanitize_line("\x1b[" + "0" * 5000 + "31mx") == "\x1b[31mx"


def test_conceal_goes_however_it_is_spelled_in_every_output():
    body = b"\x1b[08ma\x1b[008;31mb\x1b[0;0008mc\x1b[8:0md\x1b[38;5;8me\x1b[0m"
    lines, streams = decode(TS + body + b"\n", tty=True)
    text = lines[0][TS_LEN + 1 :]
    assert text == "a\x1b[31mb\x1b[0mcd\x1b[38;5;8me\x1b[0m"
    origins = [pack_origin(0, s) for s in streams]
    for fmt in (LineFormatter(["w"], colour=True), LineFormatter(["w"])):
        for out in fmt.format(lines, origins):
            assert terminal_unsafe(out) is None, repr(out)


class _ViewApp(App[None]):
    def __init__(self, buffer: LogBuffer) -> None:
        super().__init__()
        self.buffer = buffer

    def compose(self) -> ComposeResult:
        yield LogView(self.buffer, ["web.1"])


async def test_the_view_shows_a_line_rich_cannot_parse_as_plain_text():
    # the core never stores such a line now; the view must survive one anyway
    buffer = LogBuffer()
    raw = TS.decode() + "\x1b[" + "1" * 4400 + "mhello"
    buffer.extend([raw, TS.decode() + "\x1b[31mred\x1b[0m"], array("H", [1, 1]))
    app = _ViewApp(buffer)
    async with app.run_test(size=(80, 10)) as pilot:
        view = app.query_one(LogView)
        view.rebuild()
        await pilot.pause()
        rows = ["".join(seg.text for seg in view.render_line(y)) for y in range(2)]
    assert "hello" in rows[0] and "red" in rows[1]
    assert app.return_code in (None, 0)


# -- 5. a TTY line that never ends ---------------------------------------------------
def test_a_tty_progress_bar_of_megabytes_keeps_its_end_and_counts_all():
    bar = b"".join(b"\r%7d/300000" % i for i in range(300_000))  # 3.9 MB, CR only
    pieces = [TS + bar[i : i + PARTIAL_SIZE] for i in range(0, len(bar), PARTIAL_SIZE)]
    data = b"".join(pieces) + b"\r\n" + TS + b"done\n"
    lines, _ = decode(data, tty=True, cuts=list(range(1 << 18, len(data), 1 << 18)))
    assert len(lines) == 2 and lines[1] == TS.decode() + "done"
    text = lines[0][TS_LEN + 1 :]
    assert text.endswith("␍ 299999/300000")
    m = re.match(r"\((\d+) earlier characters\) … ", text)
    assert m is not None
    assert len(text) - m.end() == MAX_LINE
    assert int(m.group(1)) + MAX_LINE == len(bar)  # every character counted


def test_a_tty_line_of_megabytes_without_cr_keeps_its_start():
    text = b"".join(b"word%06d " % i for i in range(200_000))
    pieces = [TS + text[i : i + PARTIAL_SIZE] for i in range(0, len(text), PARTIAL_SIZE)]
    lines, _ = decode(b"".join(pieces) + b"\n", tty=True, cuts=[100_000, 1_000_000])
    assert len(lines) == 1
    body = lines[0][TS_LEN + 1 :]
    assert body.startswith("word000000 word000001 ")
    assert body.endswith(f" … ({len(text) - MAX_LINE} more characters)")
    assert body[:MAX_LINE] == text[:MAX_LINE].decode()  # no partial stamp inside


# -- property tests: any bytes, any split of the reads --------------------------------
STAMPS = [
    TS,
    b"2026-13-45T10:00:00+01:00 ",
    b"2026-02-30T10:00:00.000000000Z ",
    b"2026-11-26T21:14:19.5+01:00 ",
    b"\x1b]52;c;ZXZpbA==\x07" + b"a" * 19 + b"Z ",
]
TOKENS = [
    b"\x1b", b"[", b"]", b"8", b"08", b"0", b"1", b"38", b"5", b"2", b";", b":", b"m", b"?",
    b"1049h", b"\x07", b"\x1b\\", b"P", b"\r", b"\t", b"\n", b"x", b"Z ", b"\xc2\x9b",
    b"\xc2\x9d", b"\xe2\x80\xae", b"\xff", b"\xc3", b"\xa9", b"9" * 40, *STAMPS,
]  # fmt: skip
hostile_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from(TOKENS), max_size=60).map(b"".join),
)


def split_points(data: bytes, draw_cuts: list[int]) -> list[int]:
    return sorted({c % (len(data) + 1) for c in draw_cuts})


@settings(max_examples=300, deadline=None)
@given(hostile_bytes, st.lists(st.integers(0, 10_000), max_size=6))
def test_any_tty_stream_decodes_safely_and_loses_no_line(data, cut_seeds):
    lines, streams = decode(data, tty=True, cuts=split_points(data, cut_seeds))
    expected = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    assert len(lines) == expected == len(streams)
    for line in lines:
        assert_line_safe(line)


payloads = st.tuples(
    st.sampled_from([1, 2, 3]),
    st.one_of(st.sampled_from(STAMPS), st.just(b""), st.binary(max_size=31)),
    hostile_bytes,
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(payloads, max_size=12), st.booleans(), st.lists(st.integers(0, 10_000), max_size=6))
def test_any_multiplexed_stream_decodes_safely_and_loses_no_line(frames, chunked, cut_seeds):
    body = b""
    expected = 0
    open_stream = set()  # streams with a line begun and not ended
    for stream, stamp, text, ends in frames:
        payload = (stamp + text).replace(b"\n", b"") + (b"\n" if ends else b"")
        body += frame(stream, payload)
        if stream == 3 or ends:
            expected += 1
            open_stream.discard(stream)
        else:
            open_stream.add(stream)
    expected += len(open_stream)  # flushed at the end
    data = b"".join(chunk(body[i : i + 50]) for i in range(0, len(body), 50)) if chunked else body
    if chunked:
        data += b"0\r\n\r\n"
    lines, _ = decode(data, tty=False, chunked=chunked, cuts=split_points(data, cut_seeds))
    assert len(lines) == expected
    for line in lines:
        assert_line_safe(line)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)))
def test_plain_tty_lines_come_out_whole(texts):
    data = b"".join(TS + t.encode() + b"\n" for t in texts)
    lines, _ = decode(data, tty=True, cuts=[len(data) // 3])
    assert [line[TS_LEN + 1 :] for line in lines] == texts
