"""`mltui predict FOLDER`: every image of a folder against a model server."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .common import (
    add_server_options,
    add_shape_option,
    fail,
    load_config,
    server_url,
    shape_option,
)

if TYPE_CHECKING:
    from ..core.config import PredictConfig
    from ..core.predict import Result, ServedModel, Summary

WHO = "mltui predict"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="send a folder of images to a model server: class, confidence, latency, accuracy",
        description="Predict every image under FOLDER (images in <class>/ subfolders are "
        "checked against their folder's name). Exits 1 when a request failed or accuracy "
        "is under --min-accuracy, so it can gate a pipeline.",
    )
    p.add_argument("folder", metavar="FOLDER", type=Path)
    add_server_options(p)
    p.add_argument(
        "--classes",
        type=Path,
        metavar="FILE",
        help="class names: lines or JSON (default: the config's endpoint for the model, "
        "else FOLDER/classes.txt)",
    )
    add_shape_option(p)
    p.add_argument(
        "--scale", type=float, choices=(1.0, 255.0), help="floats in 0..1 or 0..255 (default 1.0)"
    )
    p.add_argument("--batch", type=int, metavar="N", help="images per request (default 1)")
    p.add_argument("--concurrency", type=int, metavar="N", help="requests at once (default 8)")
    p.add_argument("--top-k", type=int, metavar="K", help="classes kept per image (default 3)")
    p.add_argument("--timeout", type=float, metavar="S", help="per request (default 30)")
    p.add_argument("--min-accuracy", type=float, metavar="A", help="fail under this (0..1)")
    p.add_argument(
        "--sort",
        choices=["image", "problems", "confidence", "latency"],
        default="image",
        help="order of the printed rows and of the results in the JSON and CSV: by file "
        "(default), failures and misses first, least confident first, slowest first",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--version", metavar="N", help="send to this version of the model (default: the latest)"
    )
    which.add_argument(
        "--label", metavar="L", help="send to the version this label names (TF Serving)"
    )
    p.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="compare two versions or labels of the model on the same images "
        "(a number is a version, anything else a label)",
    )
    p.add_argument(
        "--compare-url",
        metavar="URL2",
        help="compare the model at --url (A) with the same model at URL2 (B)",
    )
    p.add_argument(
        "--max-accuracy-drop",
        type=float,
        metavar="X",
        help="with a comparison: exit 1 when B's accuracy is under A's by more than X (0..1)",
    )
    p.add_argument(
        "--service",
        metavar="STACK/SERVICE",
        help="the service the server belongs to: the run is kept as its last run, which "
        "`mltui roll` reruns (default: the config endpoint's service)",
    )
    p.add_argument("--json", action="store_true", help="print results and summary as JSON")
    p.add_argument("--csv", type=Path, metavar="FILE", help="also write the results as CSV")
    p.add_argument("--out", type=Path, metavar="FILE", help="also write the JSON to a file")


def _defaults(args: argparse.Namespace, config: PredictConfig) -> None:
    """Options left out take the config's values: its endpoint for the model (URL,
    class names), then its [predict] defaults."""
    endpoint = config.endpoint_for(model=args.model)
    args.url = server_url(args, config)
    if args.classes is None:
        if endpoint and endpoint.classes:
            args.classes = Path(endpoint.classes)
        elif (args.folder / "classes.txt").is_file():
            args.classes = args.folder / "classes.txt"
    if args.shape is None and config.shape:
        args.shape = ",".join(str(n) for n in config.shape)
    for name in ("scale", "batch", "concurrency", "top_k"):
        if getattr(args, name) is None:
            setattr(args, name, getattr(config, name))
    if args.timeout is None:
        args.timeout = config.timeout_s


def run(args: argparse.Namespace) -> int:
    from ..core import predict as core

    config, _problems = load_config(args)
    if not args.folder.is_dir():
        return fail(WHO, f"{args.folder}: not a folder")
    _defaults(args, config.predict)
    if args.batch < 1 or args.concurrency < 1:
        return fail(WHO, "--batch and --concurrency must be at least 1")
    images, _others = core.list_images(args.folder)
    if not images:
        return fail(WHO, f"{args.folder}: no image in it (jpg, png, bmp, gif, webp, tif)")
    try:
        classes = core.load_classes(args.classes)
    except (OSError, core.PredictError) as exc:
        return fail(WHO, str(exc))
    options = core.RunOptions(args.concurrency, args.batch, args.scale, args.top_k, args.timeout)
    if args.compare or args.compare_url:
        from .compare import run_compare

        return run_compare(args, classes, options)
    if args.max_accuracy_drop is not None:
        return fail(WHO, "--max-accuracy-drop needs --compare A B or --compare-url URL2")
    try:
        shape = shape_option(args.shape)
        served = core.detect(
            args.url,
            args.model,
            protocol=args.protocol,
            shape=shape,
            version=args.version or "",
            label=args.label or "",
        )
    except (ValueError, core.PredictError) as exc:
        return fail(WHO, str(exc))
    start = time.perf_counter()
    results = core.run(served, args.folder, classes, options)
    summary = core.summarize(results, time.perf_counter() - start)
    results = core.sort_results(results, args.sort)
    data = core.to_json(served, results, summary)
    if args.out:
        args.out.write_text(json.dumps(data, indent=1))
    if args.csv:
        core.write_csv(args.csv, results)
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        _print(served, results, summary)
    _keep(args, config.predict, results, summary)
    failed = summary.failed > 0
    low = args.min_accuracy is not None and (
        summary.accuracy is None or summary.accuracy < args.min_accuracy
    )
    if low:
        shown = "none" if summary.accuracy is None else f"{summary.accuracy:.3f}"
        print(f"mltui predict: accuracy {shown} is under {args.min_accuracy}", file=sys.stderr)
    return 1 if failed or low else 0


def _keep(
    args: argparse.Namespace, config: PredictConfig, results: list[Result], summary: Summary
) -> None:
    """Keep the run as the service's last run (``--service``, else the config
    endpoint's), for `mltui roll`; a failed write is said, never fatal."""
    from ..core.engine import EngineTarget, resolve_target
    from ..core.predict import lastrun

    endpoint = config.endpoint_for(model=args.model)
    service = args.service or (endpoint.service if endpoint else "")
    if not service or args.version or args.label:
        return
    engine = (EngineTarget(args.host, "--host") if args.host else resolve_target()).display
    run = lastrun.SavedRun(
        str(args.folder.expanduser().resolve()),
        str(args.classes) if args.classes else "",
        args.url,
        args.model,
        args.concurrency,
        args.batch,
        args.scale,
        args.top_k,
        args.timeout,
        args.shape or "",
        summary,
        sorted(results, key=lambda r: r.image),
        time.time(),
    )
    problem = lastrun.save_run(lastrun.run_path(engine, service), run)
    if problem:
        print(f"mltui predict: {problem}", file=sys.stderr)


def _print(served: ServedModel, results: list[Result], summary: Summary) -> None:
    from ..core.textsafe import safe_text

    sig = served.signature
    versions = safe_text(",".join(served.versions), 120) or "-"
    print(
        f"{served.protocol} {safe_text(served.url, 200)} model {safe_text(served.model, 80)} "
        f"versions {versions} {safe_text(served.state, 120)}; "
        f"sent to {safe_text(served.target, 200)}; input "
        f"{safe_text(sig.input_name, 80) or '?'} {safe_text(sig.dtype, 40)} "
        f"{'x'.join(map(str, sig.shape))} ({sig.source})"
        + (
            f"; scores from output {safe_text(sig.output_name, 80)!r} of {len(served.outputs)}"
            if len(served.outputs) > 1
            else ""
        )
    )
    for r in results:
        if r.ok:
            mark = {True: "ok  ", False: "MISS", None: "    "}[r.hit]
            exp = f" (expected {safe_text(r.expected, 30)})" if r.hit is False else ""
            print(
                f"{mark} {safe_text(r.image, 60):<40} {safe_text(r.predicted, 30):<12} "
                f"{r.confidence:6.3f} {r.latency_ms:7.1f} ms{exp}"
            )
        else:
            mark = "skip" if not r.failed else "ERR "
            print(
                f"{mark} {safe_text(r.image, 60):<40} {safe_text(r.error_kind, 30)}: "
                f"{safe_text(r.error, 120)}"
            )
    s = summary
    acc = "-" if s.accuracy is None else f"{s.accuracy:.3f} of {s.labelled}"
    lat = (
        "-"
        if s.p50_ms is None
        else f"p50 {s.p50_ms:.1f} ms, p95 {s.p95_ms:.1f} ms, max {s.max_ms:.1f} ms"
    )
    print(
        f"\n{s.images} images in {s.seconds:.2f} s ({s.images_per_s:.1f}/s); accuracy {acc}; {lat}"
    )
    if s.versions:
        print("answered by version " + ", ".join(safe_text(v, 40) for v in s.versions))
    if s.skipped:
        print(s.skipped_line)
    if s.scores_from:
        names = ", ".join(safe_text(n, 80) for n in s.scores_from)
        print(f"scores read from output {names} (the answers hold several)")
    if s.errors:
        print(
            "errors: " + ", ".join(f"{safe_text(k, 30)} {v}" for k, v in sorted(s.errors.items()))
        )
    if s.confused:
        print(
            "most confused: "
            + ", ".join(f"{safe_text(a, 30)}->{safe_text(b, 30)} {n}" for a, b, n in s.confused)
        )
