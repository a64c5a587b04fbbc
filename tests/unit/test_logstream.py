"""The log wire decoder and the sanitiser: pure functions over bytes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltui.core.logstream import (
    MAX_LINE,
    PARTIAL_SIZE,
    TS_LEN,
    LogDecoder,
    LogStreamError,
    normalize_ts,
    sanitize_line,
    strip_sgr,
)

TS = b"2026-11-26T21:14:19.628794017Z"


def frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def body(*frames: bytes, end: bool = True) -> bytes:
    return b"".join(chunk(f) for f in frames) + (b"0\r\n\r\n" if end else b"")


def decode_all(data: bytes, *, chunked=True, tty=False, step: int | None = None):
    dec = LogDecoder(chunked=chunked, tty=tty)
    lines, streams = [], []
    pieces = [data] if step is None else [data[i : i + step] for i in range(0, len(data), step)]
    for piece in pieces:
        got, s = dec.feed(piece)
        lines += got
        streams += s
    got, s = dec.flush()
    return lines + got, streams + s, dec


def test_frames_in_chunks_become_timestamped_lines_with_their_stream():
    data = body(frame(1, TS + b" hello\n"), frame(2, TS + b" oops\n"))
    lines, streams, dec = decode_all(data)
    assert lines == [TS.decode() + " hello", TS.decode() + " oops"]
    assert streams == [1, 2]
    assert dec.eof


@pytest.mark.parametrize("step", [1, 2, 3, 7, 8, 9, 13, 64])
def test_any_split_of_the_bytes_gives_the_same_lines(step):
    frames = [frame(1 + i % 2, TS + b" line %d \xc3\xa9\n" % i) for i in range(40)]
    data = body(*frames)
    assert decode_all(data, step=step)[:2] == decode_all(data)[:2]
    assert len(decode_all(data, step=step)[0]) == 40


def test_a_long_line_cut_by_the_engine_is_joined_again():
    first = frame(1, TS + b" " + b"a" * 100)  # no newline: a partial message
    rest = frame(1, TS + b" " + b"b" * 10 + b"\n")
    lines, _, _ = decode_all(body(first, rest))
    assert lines == [TS.decode() + " " + "a" * 100 + "b" * 10]


def test_lines_longer_than_the_bound_are_cut_and_say_so():
    lines, _, _ = decode_all(body(frame(1, TS + b" " + b"z" * (MAX_LINE + 500) + b"\n")))
    assert len(lines) == 1
    assert lines[0].endswith("(500 more characters)")
    assert len(lines[0]) < MAX_LINE + TS_LEN + 40


def test_a_progress_bar_line_over_the_bound_keeps_its_latest_state():
    # tqdm and Keras redraw one line with carriage returns; an epoch of them is one
    # long line, and the end is what the terminal would show last
    bar = b"".join(b"\r%6d/20000" % i for i in range(20000)) + b"\n"
    [line], _, _ = decode_all(body(frame(2, TS + b" " + bar)))
    text = line[TS_LEN + 1 :]
    assert text.endswith("\u240d 19999/20000")
    assert re.match(r"\((\d+) earlier characters\) … ", text)
    shown = len(text) - len(text.split(" … ", 1)[0]) - 3
    assert shown == MAX_LINE
    assert int(re.match(r"\((\d+)", text).group(1)) + MAX_LINE == 13 * 20000  # all counted


def test_an_error_frame_of_the_engine_is_a_line_of_its_own():
    lines, streams, _ = decode_all(body(frame(1, TS + b" a\n"), frame(3, b"log driver failed\n")))
    assert streams == [1, 3]
    assert lines[1] == TS.decode() + " engine: log driver failed"


def test_tty_output_has_no_frames_and_lines_keep_a_time():
    data = TS + b" one\r\ntw" + TS + b" o\r\n" + TS + b" three\r\n"
    lines, streams, _ = decode_all(data, chunked=False, tty=True)
    # a line that does not start with a time takes the time of the line before
    assert [line[TS_LEN + 1 :] for line in lines] == ["one", f"tw{TS.decode()} o", "three"]
    assert all(line[:TS_LEN] == TS.decode() for line in lines)
    assert set(streams) == {1}


def tty_partials(text: bytes, stamps: list[bytes]) -> bytes:
    """A long TTY line as the engine sends it: one stamp every PARTIAL_SIZE bytes."""
    pieces = [text[i : i + PARTIAL_SIZE] for i in range(0, len(text), PARTIAL_SIZE)]
    return b"".join(ts + b" " + piece for ts, piece in zip(stamps, pieces, strict=True))


@pytest.mark.parametrize("step", [None, 1000, 4096, 16415])
def test_a_long_tty_line_loses_the_stamps_of_its_partial_messages(step):
    text = ("é" * 20000).encode() + b"a" * 3  # 40003 bytes: a partial cuts a character
    stamps = [TS, TS.replace(b"19.6", b"19.7"), TS.replace(b"19.6", b"19.8")]
    data = tty_partials(text, stamps) + b"\r\n" + TS + b" next\r\n"
    lines, _, _ = decode_all(data, chunked=False, tty=True, step=step)
    assert lines == [TS.decode() + " " + "é" * 20000 + "aaa", TS.decode() + " next"]


def test_text_that_only_looks_like_a_stamp_stays_in_a_long_tty_line():
    text = b"x" * 100 + TS + b" " + b"y" * (PARTIAL_SIZE + 50)
    lines, _, _ = decode_all(TS + b" " + text + b"\n", chunked=False, tty=True)
    assert lines == [TS.decode() + " " + text.decode()]


@pytest.mark.parametrize(
    "bad",
    [
        b"zz\r\nabc\r\n",  # chunk size not hex
        b"3\r\nabcXX",  # chunk data not followed by CRLF
    ],
)
def test_broken_chunking_is_an_error_not_garbage(bad):
    with pytest.raises(LogStreamError):
        decode_all(bad)


def test_a_bad_frame_header_is_an_error():
    with pytest.raises(LogStreamError):
        decode_all(body(b"\x07\x01\x02\x03\x00\x00\x00\x01x"))


def test_timestamps_of_other_shapes_are_normalised_to_sort_right():
    assert normalize_ts("2026-11-26T21:14:19.5Z x") == "2026-11-26T21:14:19.500000000Z x"
    assert normalize_ts("2026-11-26T21:14:19Z x") == "2026-11-26T21:14:19.000000000Z x"
    assert normalize_ts("2026-11-26T22:14:19.1+01:00 x") == "2026-11-26T21:14:19.100000000Z x"
    assert normalize_ts("no time").startswith("0000-00-00T00:00:00.000000000Z ")


# -- the sanitiser ---------------------------------------------------------------
HOSTILE = {
    "osc52 clipboard": "a\x1b]52;c;ZXZpbA==\x07b",
    "title": "\x1b]0;pwned\x1b\\x",
    "alt screen": "\x1b[?1049hx",
    "cursor home + erase": "\x1b[H\x1b[2Jx",
    "dcs": "\x1bPq#0;2;0;0;0\x1b\\x",
    "bell": "ding\x07",
    "cr overwrite": "rm -rf /\r# harmless",
    "c1 csi": "\x9b31mx",
    "bidi override": "abc\u202edcba",
    "unterminated osc": "x\x1b]8;;http://evil",
    "reset": "\x1bcx",
    "backspace": "abc\x08\x08\x08xyz",
}
# what may remain of an escape: SGR colour only
SGR_ONLY = re.compile(r"\x1b\[[0-9;:]*m")
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_safe(text: str) -> None:
    rest = SGR_ONLY.sub("", text)
    assert not UNSAFE.search(rest), repr(text)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_sequences_are_inert(name):
    out = sanitize_line(HOSTILE[name])
    assert_safe(out)


def test_what_the_user_sees_of_hostile_sequences():
    assert sanitize_line(HOSTILE["osc52 clipboard"]) == "a␛]52;c;ZXZpbA==␇b"
    assert sanitize_line(HOSTILE["cursor home + erase"]) == "x"
    assert sanitize_line(HOSTILE["cr overwrite"]) == "rm -rf /␍# harmless"
    assert sanitize_line("crlf\r") == "crlf"
    assert sanitize_line("a\tb") == "a       b"


def test_colour_is_kept_but_conceal_is_not():
    assert sanitize_line("\x1b[1;31mred\x1b[0m") == "\x1b[1;31mred\x1b[0m"
    assert sanitize_line("\x1b[8msecret\x1b[0m") == "secret\x1b[0m"
    assert sanitize_line("\x1b[38;5;8mgrey\x1b[m") == "\x1b[38;5;8mgrey\x1b[m"
    assert strip_sgr(sanitize_line("\x1b[32mok\x1b[0m done")) == "ok done"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([1, 2]), st.integers(1, 50))
def test_no_byte_string_gets_anything_but_colour_through(payload, stream, step):
    data = body(frame(stream, TS + b" " + payload + b"\n"), frame(stream, TS + b" tail\n"))
    lines, _, _ = decode_all(data, step=step)
    assert lines[-1] == TS.decode() + " tail"
    for line in lines:
        assert line[:TS_LEN] == TS.decode()
        assert_safe(line)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_no_text_gets_anything_but_colour_through(text):
    assert_safe(sanitize_line(text))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200))
def test_plain_printable_text_is_left_alone(text):
    assert sanitize_line(text) == text
