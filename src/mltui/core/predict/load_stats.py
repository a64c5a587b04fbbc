"""What a load test measures, level by level: a latency histogram (HdrHistogram,
microseconds, three significant digits), the errors grouped by kind, status and
message, one :class:`LevelResult` per concurrency level, and the knee.

Kept apart from the generator (:mod:`.load`) so the figures can be checked
without a server: the histogram's quantiles against numpy on the raw samples,
the knee on given levels.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..textsafe import safe_text

__all__ = [
    "ErrorKey",
    "LatencyHistogram",
    "LevelResult",
    "count_error",
    "find_knee",
    "level_json",
]

LOWEST_US = 1  # the histogram's range: 1 µs ..
HIGHEST_US = 3_600_000_000  # .. one hour, far past any request's timeout
DIGITS = 3  # significant digits: a value is kept within 0.1%
KNEE_GAIN = 0.10  # throughput that grows by less than this from one level to the next ..
MAX_ERROR_KINDS = 50  # distinct (kind, status, message) groups kept per level; the rest are "other"


class LatencyHistogram:
    """Latencies of one level, in a log-bucket histogram of bounded size whatever
    the count (HdrHistogram): record from one thread each, ``merge`` the workers'
    histograms when the level ends."""

    def __init__(self) -> None:
        from hdrh.histogram import HdrHistogram

        self._hist = HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)

    def record(self, seconds: float) -> None:
        micros = min(max(int(seconds * 1e6), LOWEST_US), HIGHEST_US)
        self._hist.record_value(micros)

    def merge(self, other: LatencyHistogram) -> None:
        self._hist.add(other._hist)

    @property
    def count(self) -> int:
        return int(self._hist.get_total_count())

    def quantile_ms(self, percentile: float) -> float | None:
        """The latency at ``percentile`` (0..100) in milliseconds, None when empty."""
        if self.count == 0:
            return None
        return float(self._hist.get_value_at_percentile(percentile)) / 1000.0

    def max_ms(self) -> float | None:
        if self.count == 0:
            return None
        return float(self._hist.get_max_value()) / 1000.0


@dataclass(frozen=True, order=True)
class ErrorKey:
    """One group of failed requests: ``kind`` (refused, reset, timeout, server
    5xx, server 4xx, bad answer), the HTTP status when one came (0 otherwise) and
    the message (safe text, bounded)."""

    kind: str
    status: int = 0
    message: str = ""

    @classmethod
    def of(cls, kind: str, status: int = 0, message: str = "") -> ErrorKey:
        return cls(safe_text(kind, 40), status, safe_text(message, 200))


OTHER = ErrorKey("other", 0, f"more than {MAX_ERROR_KINDS} kinds of error")


def count_error(errors: Counter[ErrorKey], key: ErrorKey, n: int = 1) -> None:
    """Count ``key`` ``n`` times in ``errors``, folding the groups past
    :data:`MAX_ERROR_KINDS` into one."""
    if key in errors or len(errors) < MAX_ERROR_KINDS:
        errors[key] += n
    else:
        errors[OTHER] += n


@dataclass
class LevelResult:
    """One concurrency level's figures. ``requests`` counts answers that came
    (any status) and failures; latencies are of the successful (2xx) answers."""

    concurrency: int
    seconds: float = 0.0  # the level's wall time, from the first request to the last answer
    ok: int = 0
    images_per_request: int = 1
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    errors: dict[ErrorKey, int] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)  # answers per replica, where named
    stopped: str = ""  # why the level ended early ("request cap", "stopped"), "" at its time

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    @property
    def requests(self) -> int:
        return self.ok + self.failed

    @property
    def throughput(self) -> float:
        """Successful requests per second."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def images_per_s(self) -> float:
        return self.throughput * self.images_per_request

    def errors_by_kind(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for key, n in self.errors.items():
            out[key.kind] += n
        return dict(out)

    def fill(self, hist: LatencyHistogram) -> None:
        self.p50_ms = hist.quantile_ms(50)
        self.p95_ms = hist.quantile_ms(95)
        self.p99_ms = hist.quantile_ms(99)
        self.max_ms = hist.max_ms()


def find_knee(levels: list[LevelResult]) -> int | None:
    """The concurrency after which more workers stop paying: the first level that
    no later level beats by 10% or more in throughput, while the next level's p95
    is higher. Looking at every later level, not just the next, keeps a dip (a
    noisy level) from passing for the knee when throughput grows again after it.
    None when throughput keeps growing (or latency does not rise) up to the last
    level; a level without a successful answer is not compared."""
    ordered = sorted(levels, key=lambda lv: lv.concurrency)
    for i, here in enumerate(ordered[:-1]):
        after = ordered[i + 1]
        if here.p95_ms is None or after.p95_ms is None or here.throughput <= 0:
            continue
        best_later = max(lv.throughput for lv in ordered[i + 1 :])
        if best_later < here.throughput * (1 + KNEE_GAIN) and after.p95_ms > here.p95_ms:
            return here.concurrency
    return None


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def level_json(level: LevelResult) -> dict[str, Any]:
    """One level as plain JSON values."""
    return {
        "concurrency": level.concurrency,
        "seconds": round(level.seconds, 3),
        "requests": level.requests,
        "ok": level.ok,
        "failed": level.failed,
        "throughput_rps": round(level.throughput, 3),
        "images_per_s": round(level.images_per_s, 3),
        "latency_ms": {
            "p50": _ms(level.p50_ms),
            "p95": _ms(level.p95_ms),
            "p99": _ms(level.p99_ms),
            "max": _ms(level.max_ms),
        },
        "errors": [
            {"kind": k.kind, "status": k.status or None, "message": k.message, "count": n}
            for k, n in sorted(level.errors.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "replicas": dict(sorted(level.replicas.items())),
        "stopped": level.stopped or None,
    }
