"""Two models on the same images: agreement, accuracy change, McNemar's test.

The sides are two versions or labels of one model, or one model on two servers
(:func:`compare` runs both at once, each image prepared by its own side's
signature). :func:`compare_results` pairs the two runs' results by image and
says where they differ: the fraction of images both answer with the same class,
each side's accuracy and latency, the change per class, McNemar's exact test on
the paired hits and misses, and every image the two disagree on.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .protocols import ServedModel
from .results import Result, Summary, summarize
from .runner import RunOptions, run

__all__ = [
    "ClassChange",
    "Comparison",
    "Disagreement",
    "Side",
    "compare",
    "compare_results",
    "mcnemar_exact",
    "side_label",
]


def mcnemar_exact(b: int, c: int) -> float:
    """McNemar's exact test, two-sided: the probability, under a fair coin, of a
    split of the ``b + c`` discordant pairs at least as uneven as ``b`` to ``c``
    (the binomial test with p = 1/2), capped at 1. No discordant pair: 1."""
    if b < 0 or c < 0:
        raise ValueError("counts must not be negative")
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1))
    # Python divides big integers exactly rounded: no overflow, no underflow error
    return min(1.0, 2 * tail / (1 << n))


@dataclass
class Side:
    served: ServedModel
    results: list[Result]
    summary: Summary


@dataclass(frozen=True)
class Disagreement:
    image: str
    expected: str | None
    a: str | None  # the class A predicted (None: A failed on it)
    a_confidence: float | None
    b: str | None
    b_confidence: float | None


@dataclass(frozen=True)
class ClassChange:
    name: str
    images: int
    a_accuracy: float
    b_accuracy: float

    @property
    def change(self) -> float:
        return self.b_accuracy - self.a_accuracy


@dataclass
class Comparison:
    a: Side
    b: Side
    paired: int  # images both sides answered
    agreed: int  # of those, answered with the same class
    a_only: int  # A right, B wrong (labelled images both answered)
    b_only: int  # A wrong, B right
    p_value: float  # McNemar's exact test on a_only and b_only
    per_class: list[ClassChange] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # different signatures, ...

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.paired if self.paired else None

    @property
    def accuracy_change(self) -> float | None:
        a, b = self.a.summary.accuracy, self.b.summary.accuracy
        return None if a is None or b is None else b - a


def side_label(served: ServedModel) -> str:
    return f"{served.target} at {served.url}"


def _signature_note(a: ServedModel, b: ServedModel) -> str:
    sa, sb = a.signature, b.signature
    if (sa.input_name, sa.dtype, sa.shape) == (sb.input_name, sb.dtype, sb.shape):
        return ""

    def words(s: Any) -> str:
        return f"{s.input_name or '?'} {s.dtype} {'x'.join(map(str, s.shape))}"

    return (
        f"the two sides have different signatures (A: {words(sa)}; B: {words(sb)}): "
        "each side's images are prepared by its own"
    )


def compare_results(a: Side, b: Side, limit: int = 10_000) -> Comparison:
    """Pair ``a`` and ``b`` by image; ``limit`` bounds the disagreements kept."""
    by_image = {r.image: r for r in b.results}
    paired = agreed = a_only = b_only = 0
    disagreements: list[Disagreement] = []
    per: dict[str, list[int]] = {}  # class -> [images, a hits, b hits]
    for ra in a.results:
        rb = by_image.get(ra.image)
        if rb is None or (not ra.failed and not rb.failed and not ra.ok and not rb.ok):
            continue  # skipped files (not images) on both sides
        if ra.ok and rb.ok:
            paired += 1
            same = ra.predicted == rb.predicted
            agreed += same
            if ra.hit is not None and rb.hit is not None:
                a_only += ra.hit and not rb.hit
                b_only += rb.hit and not ra.hit
                counts = per.setdefault(str(ra.expected), [0, 0, 0])
                counts[0] += 1
                counts[1] += ra.hit
                counts[2] += rb.hit
            if same:
                continue
        elif not (ra.failed or rb.failed):
            continue
        if len(disagreements) < limit:
            disagreements.append(
                Disagreement(
                    ra.image,
                    ra.expected,
                    ra.predicted if ra.ok else None,
                    ra.confidence if ra.ok else None,
                    rb.predicted if rb.ok else None,
                    rb.confidence if rb.ok else None,
                )
            )
    per_class = [
        ClassChange(name, n, ha / n, hb / n) for name, (n, ha, hb) in sorted(per.items()) if n
    ]
    note = _signature_note(a.served, b.served)
    return Comparison(
        a,
        b,
        paired,
        agreed,
        a_only,
        b_only,
        mcnemar_exact(a_only, b_only),
        per_class,
        disagreements,
        [note] if note else [],
    )


def compare(
    a: ServedModel,
    b: ServedModel,
    folder: Path,
    classes: list[str] | None = None,
    options: RunOptions | None = None,
) -> Comparison:
    """Every image of ``folder`` to both sides at once (each side its own requests,
    ``options.concurrency`` at a time), then :func:`compare_results`."""
    out: dict[str, tuple[list[Result], float]] = {}
    errors: list[BaseException] = []

    def one(key: str, served: ServedModel) -> None:
        try:
            start = time.perf_counter()
            results = run(served, folder, classes, options)
            out[key] = (results, time.perf_counter() - start)
        except BaseException as exc:  # handed to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(k, s)) for k, s in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    sides = {
        k: Side(s, out[k][0], summarize(out[k][0], out[k][1])) for k, s in (("a", a), ("b", b))
    }
    return compare_results(sides["a"], sides["b"])


def to_json(cmp: Comparison) -> dict[str, Any]:
    def side(s: Side) -> dict[str, Any]:
        m, sm = s.served, s.summary
        return {
            "url": m.url,
            "model": m.model,
            "protocol": m.protocol,
            "version": m.version or m.answering or None,
            "label": m.label or None,
            "target": m.target,
            "signature": {
                "input": m.signature.input_name,
                "dtype": m.signature.dtype,
                "shape": list(m.signature.shape),
            },
            "accuracy": sm.accuracy,
            "labelled": sm.labelled,
            "images": sm.images,
            "failed": sm.failed,
            "p50_ms": sm.p50_ms,
            "p95_ms": sm.p95_ms,
            "max_ms": sm.max_ms,
            "seconds": sm.seconds,
        }

    return {
        "a": side(cmp.a),
        "b": side(cmp.b),
        "paired": cmp.paired,
        "agreed": cmp.agreed,
        "agreement": cmp.agreement,
        "accuracy_change": cmp.accuracy_change,
        "mcnemar": {
            "a_right_b_wrong": cmp.a_only,
            "a_wrong_b_right": cmp.b_only,
            "p_value": cmp.p_value,
        },
        "per_class": [
            {
                "class": c.name,
                "images": c.images,
                "a_accuracy": c.a_accuracy,
                "b_accuracy": c.b_accuracy,
                "change": c.change,
            }
            for c in cmp.per_class
        ],
        "disagreements": [
            {
                "image": d.image,
                "expected": d.expected,
                "a": {"class": d.a, "confidence": d.a_confidence},
                "b": {"class": d.b, "confidence": d.b_confidence},
            }
            for d in cmp.disagreements
        ],
        "notes": list(cmp.notes),
    }


def sorted_disagreements(cmp: Comparison) -> Sequence[Disagreement]:
    """Failures first, then where one side is right, then the rest, by image."""

    def rank(d: Disagreement) -> tuple[int, str]:
        if d.a is None or d.b is None:
            return (0, d.image)
        if d.expected is not None and (d.a == d.expected) != (d.b == d.expected):
            return (1, d.image)
        return (2, d.image)

    return sorted(cmp.disagreements, key=rank)
