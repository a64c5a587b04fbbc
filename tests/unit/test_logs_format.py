"""The log core's line accessor and its one formatter (screen, saved file, `mltui logs`)."""

from __future__ import annotations

import json
import re
from array import array

from hypothesis import given
from hypothesis import strategies as st

from mltui.core.logs import (
    LineFormatter,
    LogBuffer,
    LogChunk,
    LogLine,
    Stream,
    origin_replica,
    origin_stream,
    pack_origin,
    plain_text,
)

TS = "2026-11-26T21:14:19.628794017Z"
NAMES = ["model.1", "model.10"]


def test_an_origin_packs_the_replica_and_the_stream():
    origin = pack_origin(5, Stream.STDERR)
    assert (origin_replica(origin), origin_stream(origin)) == (5, Stream.STDERR)
    assert [s.label for s in Stream] == ["stdout", "stderr", "note"]


@given(st.integers(0, (1 << 14) - 1), st.sampled_from(list(Stream)))
def test_every_origin_reads_back_and_fits_the_stored_array(replica, stream):
    origin = pack_origin(replica, stream)
    array("H", [origin])  # (raises when it does not fit)
    assert (origin_replica(origin), origin_stream(origin)) == (replica, stream)


def test_a_stored_line_reads_back_as_a_typed_line():
    line = f"{TS} \x1b[31mred\x1b[0m text"
    entry = LogLine.of(line, pack_origin(1, Stream.STDERR), NAMES)
    assert entry == LogLine(1, "model.10", Stream.STDERR, TS, "\x1b[31mred\x1b[0m text")
    assert entry.plain == plain_text(line) == "red text"
    assert not entry.is_note
    assert LogLine.of(line, pack_origin(7, Stream.NOTE), NAMES).name == "?"


def test_the_buffer_selects_by_replica_and_pattern_and_reads_back_by_number():
    buf = LogBuffer(max_lines=4)
    lines = [f"{TS} line {i}{' ERROR' if i % 2 else ''}" for i in range(6)]
    buf.extend(lines, [pack_origin(i % 3, Stream.STDOUT) for i in range(6)])
    assert buf.first == 2
    assert list(buf.select(None, None)) == [2, 3, 4, 5]
    assert list(buf.select(re.compile("ERROR"), None)) == [3, 5]
    assert list(buf.select(None, 2)) == [2, 5]
    assert list(buf.select(None, None, start=4)) == [4, 5]
    assert buf.plain(3) == "line 3 ERROR"
    assert buf.entry(4, NAMES).replica == 1
    assert buf.pairs([3, 5]) == [(lines[3], buf.origin(3)), (lines[5], buf.origin(5))]
    assert buf.pairs() == list(zip(buf.lines, buf.origins, strict=True))


def test_text_is_name_bar_time_text_with_notes_marked():
    fmt = LineFormatter(NAMES, timestamps=True)
    out = fmt.format(
        [f"{TS} \x1b[1mhello\x1b[0m", f"{TS} ── model.1 ended ──"],
        [pack_origin(0, Stream.STDOUT), pack_origin(0, Stream.NOTE)],
    )
    assert out == [f"model.1  | {TS} hello", f"model.1  # {TS} ── model.1 ended ──"]


def test_colour_text_keeps_sgr_and_closes_it():
    fmt = LineFormatter(NAMES, colour=True)
    (out,) = fmt.format([f"{TS} \x1b[1mbold"], [pack_origin(1, Stream.STDOUT)])
    assert out == "\x1b[35mmodel.10 |\x1b[0m \x1b[1mbold\x1b[0m"


def test_json_lines_and_grep_on_the_plain_text():
    fmt = LineFormatter(NAMES, as_json=True, grep=re.compile("^ok"))
    out = fmt.format(
        [f"{TS} \x1b[32mok\x1b[0m", f"{TS} not ok"],
        [pack_origin(1, Stream.STDERR), pack_origin(0, Stream.STDOUT)],
    )
    assert [json.loads(o) for o in out] == [
        {"time": TS, "replica": "model.10", "stream": "stderr", "line": "ok"}
    ]


def test_the_screen_parts_use_local_time_and_the_padded_name():
    fmt = LineFormatter(NAMES, timestamps=True, local_time=True)
    parts = fmt.parts(f"{TS} x", pack_origin(0, Stream.STDOUT))
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.628", parts.stamp)
    assert parts.name == "model.1 " and parts.colour == "cyan"
    assert fmt.stamp_width == 13
    fmt.timestamps = False
    assert fmt.parts(f"{TS} x", 0).stamp == "" and fmt.stamp_width == 0


def test_a_session_like_source_of_names_is_read_on_each_call():
    class Names:
        def __init__(self) -> None:
            self.now = ["a"]

        def names(self) -> list[str]:
            return self.now

    source = Names()
    fmt = LineFormatter(source)
    chunk = LogChunk([f"{TS} x"], array("H", [pack_origin(1, Stream.STDOUT)]))
    assert fmt.format(chunk.lines, chunk.origins) == ["? | x"]
    source.now = ["a", "bb"]
    assert fmt.format(chunk.lines, chunk.origins) == ["bb | x"]
    assert [e.name for e in chunk.entries(source.now)] == ["bb"]
