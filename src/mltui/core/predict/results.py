"""What a run found: one :class:`Result` per file, the run's :class:`Summary`
(accuracy, latency percentiles, what was confused with what), and the orders the
results can be read in."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

SKIPPED = "skipped"  # a file that is not an image by its name: listed, not sent, not a failure


@dataclass
class Result:
    image: str  # path relative to the folder
    expected: str | None = None
    predicted: str | None = None
    confidence: float | None = None
    top: list[tuple[str, float]] = field(default_factory=list)
    latency_ms: float | None = None
    error_kind: str = ""  # "" when fine
    error: str = ""
    output: str = ""  # the output the scores came from, when the answer held several
    version: str = ""  # the model version that answered, when the server tells or it was asked for

    @property
    def ok(self) -> bool:
        return not self.error_kind

    @property
    def failed(self) -> bool:
        """An image that could not be predicted (a skipped non-image file is not)."""
        return bool(self.error_kind) and self.error_kind != SKIPPED

    @property
    def hit(self) -> bool | None:
        if self.expected is None or not self.ok:
            return None
        return self.predicted == self.expected


@dataclass
class Summary:
    images: int  # files sent to the server
    ok: int
    failed: int
    skipped: int  # files not sent: not images by their names (a README, the classes file)
    errors: dict[str, int]
    seconds: float
    images_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None
    accuracy: float | None
    labelled: int
    confused: list[tuple[str, str, int]]
    # the outputs scores were read from, when the answers held several
    scores_from: list[str] = field(default_factory=list)
    # the model versions that answered (one, unless the latest changed during the run)
    versions: list[str] = field(default_factory=list)

    @property
    def skipped_line(self) -> str:
        n = self.skipped
        return f"{n} other file{'s' if n != 1 else ''} not sent (not images by name)" if n else ""


def summarize(results: Sequence[Result], seconds: float) -> Summary:
    lat = sorted(r.latency_ms for r in results if r.ok and r.latency_ms is not None)
    hits = [r.hit for r in results if r.hit is not None]
    confused = Counter((r.expected, r.predicted) for r in results if r.hit is False)
    skipped = sum(r.error_kind == SKIPPED for r in results)
    images = len(results) - skipped
    return Summary(
        images=images,
        ok=sum(r.ok for r in results),
        failed=sum(r.failed for r in results),
        skipped=skipped,
        errors=dict(Counter(r.error_kind for r in results if r.failed)),
        seconds=seconds,
        images_per_s=images / seconds if seconds > 0 else 0.0,
        p50_ms=statistics.median(lat) if lat else None,
        p95_ms=lat[int(0.95 * (len(lat) - 1))] if lat else None,
        max_ms=lat[-1] if lat else None,
        accuracy=sum(hits) / len(hits) if hits else None,
        labelled=len(hits),
        confused=[(str(a), str(b), n) for (a, b), n in confused.most_common(5)],
        scores_from=sorted({r.output for r in results if r.ok and r.output}),
        versions=sorted({r.version for r in results if r.ok and r.version}),
    )


# -- orders ----------------------------------------------------------------------------
def _problem_rank(r: Result) -> tuple[int, float, str]:
    """Failures, then misses, then the least confident."""
    rank = 0 if r.failed else 1 if r.hit is False else 2
    return (rank, r.confidence if r.confidence is not None else 2.0, r.image)


@dataclass(frozen=True)
class Sort:
    label: str  # how the bar reads: "sorted <label>"
    key: Callable[[Result], Any]
    # rows without the value (a failed image has no confidence) stay last either way
    has: Callable[[Result], bool] = lambda r: True


SORTS: dict[str, Sort] = {
    "image": Sort("by file", lambda r: r.image),
    "problems": Sort("failures and misses first", _problem_rank, lambda r: r.error_kind != SKIPPED),
    "confidence": Sort(
        "least confident first",
        lambda r: (r.confidence, r.image),
        lambda r: r.confidence is not None,
    ),
    "latency": Sort(
        "slowest first",
        lambda r: (-(r.latency_ms or 0.0), r.image),
        lambda r: r.latency_ms is not None,
    ),
    "expected": Sort(
        "by expected class", lambda r: (r.expected, r.image), lambda r: r.expected is not None
    ),
    "predicted": Sort("by predicted class", lambda r: (r.predicted or "", r.image), lambda r: r.ok),
}


def sort_order(results: Sequence[Result], by: str, reverse: bool = False) -> list[int]:
    """Indexes of ``results`` in the order ``by`` names (a key of SORTS); ``reverse``
    turns the order round, but rows without the value stay last, by file."""
    sort = SORTS[by]
    present = [i for i, r in enumerate(results) if sort.has(r)]
    absent = [i for i, r in enumerate(results) if not sort.has(r)]
    present.sort(key=lambda i: sort.key(results[i]), reverse=reverse)
    absent.sort(key=lambda i: results[i].image)
    return present + absent


def sort_results(results: Sequence[Result], by: str, reverse: bool = False) -> list[Result]:
    return [results[i] for i in sort_order(results, by, reverse)]
