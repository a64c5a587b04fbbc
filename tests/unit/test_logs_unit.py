"""Pure parts of the logs core: time arguments, the bounded buffer, the merge."""

from __future__ import annotations

from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mltui.core.logs import (
    LogBuffer,
    merge_runs,
    origin_replica,
    pack_origin,
    parse_since,
    ts_to_unix,
    unix_to_ts,
)


def test_since_takes_durations_times_and_unix_seconds():
    now = 1_800_000_000.0
    assert parse_since("90s", now) == now - 90
    assert parse_since("5m", now) == now - 300
    assert parse_since("2h", now) == now - 7200
    assert parse_since("1d", now) == now - 86400
    assert parse_since("30", now) == now - 30
    assert parse_since("2026-11-26T10:00:00Z", now) == 1795687200.0
    assert parse_since("1795687200", now) == 1795687200.0
    with pytest.raises(ValueError, match="give a duration"):
        parse_since("yesterday", now)


def test_engine_timestamps_convert_both_ways_to_the_nanosecond():
    assert ts_to_unix("2026-11-26T10:00:00.123456789Z") == "1795687200.123456789"
    assert unix_to_ts(1795687200.5) == "2026-11-26T10:00:00.500000000Z"


def test_the_buffer_keeps_the_newest_lines_and_counts_the_rest():
    buf = LogBuffer(max_lines=5)
    assert buf.extend([f"l{i}" for i in range(3)], [1, 1, 1]) == 0
    assert buf.extend([f"l{i}" for i in range(3, 9)], [2] * 6) == 4
    assert buf.lines == ["l4", "l5", "l6", "l7", "l8"]
    assert list(buf.origins) == [2] * 5
    assert (buf.first, buf.dropped, buf.end, len(buf)) == (4, 4, 9, 5)


def ts(second: int, nano: int = 0) -> str:
    return f"2026-11-26T10:00:{second:02d}.{nano:09d}Z"


def test_runs_merge_by_time_and_keep_each_replicas_order_on_ties():
    a = ([f"{ts(1)} a1", f"{ts(3)} a3", f"{ts(3)} a3bis"], array("H", [4, 4, 4]))
    b = ([f"{ts(2)} b2", f"{ts(3)} b3"], array("H", [8, 8]))
    lines, origins = merge_runs([a, b])
    assert [line.split()[1] for line in lines] == ["a1", "b2", "a3", "a3bis", "b3"]
    assert list(origins) == [4, 8, 4, 4, 8]


@given(st.lists(st.lists(st.integers(0, 59), max_size=30), max_size=6))
def test_merging_sorted_runs_gives_every_line_once_in_time_order(seconds):
    runs = []
    for index, secs in enumerate(seconds):
        lines = [f"{ts(s)} r{index}n{n}" for n, s in enumerate(sorted(secs))]
        runs.append((lines, array("H", [pack_origin(index, 1)] * len(lines))))
    lines, origins = merge_runs(runs)
    assert sorted(lines) == sorted(line for run in runs for line in run[0])
    assert [line[:30] for line in lines] == sorted(line[:30] for line in lines)
    for line, origin in zip(lines, origins, strict=True):
        assert line.endswith(f"r{origin_replica(origin)}n" + line.rsplit("n", 1)[1])


def test_time_conversion_never_raises_on_a_missing_time():
    assert ts_to_unix("0000-00-00T00:00:00.000000000Z") is None
    assert ts_to_unix("garbage") is None


def test_sources_are_replicas_with_logs_tagged_uniquely():
    from mltui.core.inventory import Replica, Service
    from mltui.core.logs import sources_of

    def rep(key, slot, state, container="", since=1.0):
        return Replica(
            key=key, name=f"web.{slot}", kind="task", slot=slot, state=state, since=since,
            image="i", container_id=container,
        )  # fmt: skip

    svc = Service(
        key="swarm:x", name="web", stack="s", kind="swarm", desired=3, running=2, image="i",
        ports=(),
        replicas=(
            rep("t2", 2, "running", "c2" * 32),
            rep("t1old", 1, "shutdown", "c1" * 32, since=1.0),
            rep("t1", 1, "running", "c3" * 32, since=2.0),
            rep("t3", 3, "pending"),  # not started: no logs yet
            rep("t4", 4, "running"),  # its container is on another node: task logs
        ),
    )  # fmt: skip
    assert svc.label == "s/web"
    assert Service(**{**svc.__dict__, "stack": "(no stack)"}).label == "web"
    sources = sources_of(svc)
    assert [(s.tag, s.kind) for s in sources] == [
        ("web.1", "container"),
        (f"web.1#{'c3c3'}", "container"),
        ("web.2", "container"),
        ("web.4", "task"),
    ]
    assert sources[3].path == "/tasks/t4/logs"
    assert [s.tag for s in sources_of(svc, replica=1)] == ["web.1", "web.1#c3c3"]
