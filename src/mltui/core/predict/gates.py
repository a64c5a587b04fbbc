"""A new version's verdict: its run against the baseline's, gate by gate.

Gates (each unset is not checked): ``max_accuracy_drop`` (the baseline's
accuracy minus the new one's, 0..1), ``max_p95_ms`` (the new run's p95 latency)
and ``min_accuracy`` (the new run's accuracy). A new run in which an image
failed (a connection error, a server error) fails whatever the gates say.
"""

from __future__ import annotations

from dataclasses import dataclass

from .results import Summary


@dataclass(frozen=True)
class Gates:
    max_accuracy_drop: float | None = None
    max_p95_ms: float | None = None
    min_accuracy: float | None = None


@dataclass(frozen=True)
class GateCheck:
    name: str  # max_accuracy_drop | max_p95_ms | min_accuracy | failed_images
    limit: float | None
    value: float | None  # what was measured (None: nothing to measure)
    passed: bool
    message: str  # one sentence: the gate, the value, and by how much it missed


def check_gates(gates: Gates, baseline: Summary, new: Summary) -> list[GateCheck]:
    out: list[GateCheck] = []
    if new.failed:
        out.append(
            GateCheck(
                "failed_images",
                0,
                float(new.failed),
                False,
                f"{new.failed} of {new.images} images failed on the new version",
            )
        )
    if gates.max_accuracy_drop is not None:
        limit = gates.max_accuracy_drop
        if baseline.accuracy is None or new.accuracy is None:
            out.append(
                GateCheck(
                    "max_accuracy_drop",
                    limit,
                    None,
                    False,
                    "accuracy drop: no labelled image answered on both runs",
                )
            )
        else:
            drop = baseline.accuracy - new.accuracy
            ok = drop <= limit + 1e-12
            out.append(
                GateCheck(
                    "max_accuracy_drop",
                    limit,
                    drop,
                    ok,
                    f"accuracy {baseline.accuracy:.3f} -> {new.accuracy:.3f} "
                    f"(drop {drop:+.3f}, at most {limit:.3f} allowed"
                    + ("" if ok else f": over by {drop - limit:.3f}")
                    + ")",
                )
            )
    if gates.max_p95_ms is not None:
        limit = gates.max_p95_ms
        p95 = new.p95_ms
        ok = p95 is not None and p95 <= limit
        shown = "none" if p95 is None else f"{p95:.1f} ms"
        out.append(
            GateCheck(
                "max_p95_ms",
                limit,
                p95,
                ok,
                f"p95 latency {shown} (at most {limit:g} ms allowed"
                + ("" if ok or p95 is None else f": over by {p95 - limit:.1f} ms")
                + ")",
            )
        )
    if gates.min_accuracy is not None:
        limit = gates.min_accuracy
        acc = new.accuracy
        ok = acc is not None and acc >= limit
        shown = "none" if acc is None else f"{acc:.3f}"
        out.append(
            GateCheck(
                "min_accuracy",
                limit,
                acc,
                ok,
                f"accuracy {shown} (at least {limit:.3f} wanted"
                + ("" if ok or acc is None else f": under by {limit - acc:.3f}")
                + ")",
            )
        )
    return out


__all__ = ["GateCheck", "Gates", "check_gates"]
