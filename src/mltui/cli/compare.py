"""`mltui predict FOLDER --compare A B` / `--compare-url URL2`: two models, same images."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.predict import RunOptions
    from ..core.predict.compare import Comparison


def _pick(text: str, protocol: str) -> tuple[str, str]:
    """(version, label): a number is a version; for TF Serving anything else is a label."""
    if text.isdigit() or protocol == "v2":
        return text, ""
    return "", text


def run_compare(args: argparse.Namespace, classes: list[str] | None, options: RunOptions) -> int:
    from ..core import predict as core
    from ..core.predict.compare import compare, to_json
    from .common import fail, shape_option
    from .predict import WHO

    if args.compare and args.compare_url:
        return fail(WHO, "give --compare A B or --compare-url URL2, not both")
    drop = args.max_accuracy_drop
    if drop is not None and not 0 <= drop <= 1:
        return fail(WHO, "--max-accuracy-drop is a fraction between 0 and 1")
    try:
        shape = shape_option(args.shape)

        def side(url: str, pick: tuple[str, str]) -> core.ServedModel:
            version, label = pick
            return core.detect(
                url, args.model, protocol=args.protocol, shape=shape, version=version, label=label
            )

        if args.compare:
            if args.version or args.label:
                return fail(WHO, "--compare A B names both sides: leave out --version and --label")
            first = side(args.url, ("", ""))
            a = side(args.url, _pick(args.compare[0], first.protocol))
            b = side(args.url, _pick(args.compare[1], first.protocol))
        else:
            pick = (args.version or "", args.label or "")
            a = side(args.url, pick)
            b = side(args.compare_url, pick)
    except (ValueError, core.PredictError) as exc:
        return fail(WHO, str(exc))
    cmp = compare(a, b, args.folder, classes, options)
    data = to_json(cmp)
    if args.out:
        args.out.write_text(json.dumps(data, indent=1))
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        print_comparison(cmp)
    code = 1 if cmp.a.summary.failed or cmp.b.summary.failed else 0
    if drop is not None:
        change = cmp.accuracy_change
        if change is None:
            print(
                "mltui predict: no accuracy to compare (the folders do not name the classes)",
                file=sys.stderr,
            )
            code = 1
        elif -change > drop:
            print(
                f"mltui predict: B's accuracy is {-change:.3f} under A's, more than {drop}",
                file=sys.stderr,
            )
            code = 1
    return code


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def print_comparison(cmp: Comparison) -> None:
    from ..core.predict.compare import side_label, sorted_disagreements
    from ..core.textsafe import safe_text

    for key, side in (("A", cmp.a), ("B", cmp.b)):
        s = side.summary
        print(
            f"{key}: {safe_text(side_label(side.served), 240)}: accuracy {_pct(s.accuracy)}"
            f" of {s.labelled}; p50 {_ms(s.p50_ms)}, p95 {_ms(s.p95_ms)}; "
            f"{s.ok} answered, {s.failed} failed"
        )
    for note in cmp.notes:
        print(f"note: {safe_text(note, 400)}")
    agreement = "-" if cmp.agreement is None else f"{cmp.agreement:.3f}"
    change = cmp.accuracy_change
    print(
        f"agreement {agreement} ({cmp.agreed} of {cmp.paired} images answered by both); "
        f"accuracy change B-A {'-' if change is None else f'{change:+.3f}'}"
    )
    print(
        f"McNemar's exact test: A right and B wrong {cmp.a_only}, A wrong and B right "
        f"{cmp.b_only}: p = {cmp.p_value:.4g}"
        + (" (a real difference at 0.05)" if cmp.p_value < 0.05 else "")
    )
    changed = [c for c in cmp.per_class if abs(c.change) > 1e-12]
    if changed:
        print(
            "per class (A -> B): "
            + ", ".join(
                f"{safe_text(c.name, 30)} {c.a_accuracy:.3f}->{c.b_accuracy:.3f}" for c in changed
            )
        )
    if not cmp.disagreements:
        print("no disagreements")
        return
    print(f"disagreements ({len(cmp.disagreements)}):")
    for d in sorted_disagreements(cmp):

        def answer(cls: str | None, conf: float | None) -> str:
            return "failed" if cls is None else f"{safe_text(cls, 30)} ({conf or 0:.3f})"

        expected = f"  expected {safe_text(d.expected, 30)}" if d.expected is not None else ""
        print(
            f"  {safe_text(d.image, 60):<40} A {answer(d.a, d.a_confidence):<16} "
            f"B {answer(d.b, d.b_confidence):<16}{expected}"
        )
