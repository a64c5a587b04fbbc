"""A run written out for scripts: JSON (the served model, the summary, every
result) and CSV (one row per file). What a server said is already safe text
(read so in :mod:`.protocols` and :mod:`.answers`); the CSV's cells go through
:func:`~mltui.core.textsafe.safe_text` once more, file names included."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..textsafe import safe_text
from .protocols import ServedModel
from .results import Result, Summary


def to_json(served: ServedModel, results: Sequence[Result], summary: Summary) -> dict[str, Any]:
    return {
        "endpoint": {
            "url": served.url,
            "model": served.model,
            "protocol": served.protocol,
            "versions": list(served.versions),
            "state": served.state,
            "signature": asdict(served.signature),
            "outputs": list(served.outputs),
        },
        "summary": asdict(summary),
        "results": [asdict(r) for r in results],
    }


def write_csv(path: Path, results: Sequence[Result]) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(
            [
                "image",
                "expected",
                "predicted",
                "confidence",
                "hit",
                "latency_ms",
                "error_kind",
                "error",
            ]
        )
        for r in results:
            out.writerow(
                [
                    safe_text(r.image),
                    safe_text(r.expected),
                    safe_text(r.predicted),
                    "" if r.confidence is None else f"{r.confidence:.6f}",
                    "" if r.hit is None else int(r.hit),
                    "" if r.latency_ms is None else f"{r.latency_ms:.2f}",
                    safe_text(r.error_kind),
                    safe_text(r.error),
                ]
            )
