"""Log time: the engine's timestamps, the ``--since`` argument, and merge order.

Stored lines start with the engine's timestamp in one fixed 30-character UTC
form (:data:`~mltui.core.logstream.TS_LEN`), so the order of two lines' texts is
the order of their times: merging replicas is a sort on that prefix.
"""

from __future__ import annotations

import re
import time
from array import array
from datetime import datetime, timezone

from ..logstream import TS_LEN, ZERO_TS
from ..textsafe import safe_text

__all__ = ["ZERO_TS", "local_clock", "merge_runs", "parse_since", "ts_to_unix", "unix_to_ts"]

_LOCAL = datetime.now().astimezone().tzinfo


def ts_to_unix(ts: str) -> str | None:
    """``2026-11-26T21:14:19.628794017Z`` -> ``1795727659.628794017`` (the engine's
    ``since``/``until`` form, to the nanosecond); None for a time it cannot be."""
    try:
        moment = datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    frac = ts[20:29]
    return f"{int(moment.timestamp())}.{frac if frac.isdigit() else '0'}"


def unix_to_ts(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


def local_clock(ts: str) -> str:
    """The engine's UTC timestamp as local wall-clock time to the millisecond
    (``21:14:19.628``, 12 characters); blanks for a time it cannot be."""
    try:
        moment = datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return " " * 12
    return moment.astimezone(_LOCAL).strftime("%H:%M:%S") + "." + ts[20:23]


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_since(value: str, now: float | None = None) -> float:
    """``--since``: a duration back from now (``90s``, ``5m``, ``2h``, ``1d``; a bare
    number is seconds), an RFC 3339 time, or a Unix time. ValueError otherwise."""
    now = time.time() if now is None else now
    m = _DURATION.match(value)
    if m and not (m.group(2) == "" and float(m.group(1)) > 10**8):
        factor = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        return now - float(m.group(1)) * factor
    try:
        if _DURATION.match(value):
            return float(value)
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--since {safe_text(value)!r}: give a duration (30s, 5m, 2h, 1d) or a time "
            "(2026-11-26T10:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.timestamp()


def merge_runs(runs: list[tuple[list[str], array[int]]]) -> tuple[list[str], array[int]]:
    """Merge per-replica runs of (lines, origins), each in time order, by timestamp;
    stable per replica (lines of one replica at the same time keep their order)."""
    if not runs:
        return [], array("H")
    if len(runs) == 1:
        return runs[0][0], runs[0][1]
    pairs: list[tuple[str, int]] = []
    for lines, origins in runs:
        pairs.extend(zip(lines, origins, strict=True))
    pairs.sort(key=_time_key)  # Timsort merges the sorted runs in C
    return [p[0] for p in pairs], array("H", [p[1] for p in pairs])


def _time_key(pair: tuple[str, int]) -> str:
    return pair[0][:TS_LEN]
