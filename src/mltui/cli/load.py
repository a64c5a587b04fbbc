"""`mltui load FOLDER`: how much load a model endpoint takes, level by level."""

from __future__ import annotations

import argparse
import json
import sys
import threading
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
    from collections.abc import Callable

    from ..core.predict.load import LoadProgress, LoadReport

WHO = "mltui load"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "load",
        help="load-test a model server: throughput and latency percentiles per concurrency",
        description="Send the images under FOLDER (encoded once, before the run) to one model "
        "endpoint from closed loops of N workers, for each concurrency level: requests, "
        "throughput, latency p50/p95/p99/max, errors by kind, and the knee (the level after "
        "which throughput grows by less than 10%% while p95 rises). Bounded: at most 60 s a "
        "level and --max-requests for the run. Failed requests are reported, not fatal: exit "
        "0 when the run ran, 2 on bad input or a URL that is not a model server.",
    )
    p.add_argument("folder", metavar="FOLDER", type=Path)
    add_server_options(p)
    p.add_argument("--version", metavar="N", help="send to this version of the model")
    p.add_argument(
        "--concurrency",
        default="1,2,4,8,16",
        metavar="N,N,...",
        help="the levels: workers at once (default %(default)s)",
    )
    p.add_argument(
        "--duration", type=float, default=10.0, metavar="S", help="seconds a level (default 10)"
    )
    p.add_argument(
        "--max-requests",
        type=int,
        default=50_000,
        metavar="N",
        help="requests of the whole run, at most (default %(default)s)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="per request (default 10; at most the level's duration, and 1 s at least)",
    )
    add_shape_option(p)
    p.add_argument("--scale", type=float, choices=(1.0, 255.0), default=1.0)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--out", type=Path, metavar="FILE", help="also write the JSON to a file")


def run(args: argparse.Namespace) -> int:
    from ..core import predict as core
    from ..core.predict import load

    config, _problems = load_config(args)
    args.url = server_url(args, config.predict)
    try:
        levels = load.parse_levels(args.concurrency)
    except load.LoadError as exc:
        return fail(WHO, str(exc))
    if not 0 < args.duration <= load.MAX_LEVEL_S:
        return fail(WHO, f"--duration: more than 0 and at most {load.MAX_LEVEL_S:g} seconds")
    if not 1 <= args.max_requests <= load.MAX_REQUESTS:
        return fail(WHO, f"--max-requests: from 1 to {load.MAX_REQUESTS:,}")
    if not 0 < args.timeout <= load.MAX_LEVEL_S:
        return fail(WHO, f"--timeout: more than 0 and at most {load.MAX_LEVEL_S:g} seconds")
    if not args.folder.is_dir():
        return fail(WHO, f"{args.folder}: not a folder")
    try:
        images, _others = core.list_images(args.folder)
    except OSError as exc:
        return fail(WHO, f"{args.folder}: cannot be read ({exc.strerror or type(exc).__name__})")
    if not images:
        return fail(WHO, f"{args.folder}: no image in it (jpg, png, bmp, gif, webp, tif)")
    try:
        served = core.detect(
            args.url, args.model, protocol=args.protocol, shape=shape_option(args.shape)
        )
        bodies = load.load_bodies(served, args.folder, args.scale)
    except (ValueError, core.PredictError) as exc:
        return fail(WHO, str(exc))
    refused = load.probe(served, bodies[0], args.version, args.timeout)
    if refused is not None and refused.kind == "server 4xx":
        return fail(
            WHO, f"{served.url}: the first request failed: {refused.status} {refused.message}"
        )
    stop = threading.Event()
    out: list[LoadReport] = []
    problem: list[BaseException] = []

    def work() -> None:
        try:
            out.append(
                load.run_load(
                    served, bodies, levels, args.duration, args.max_requests, args.version,
                    args.timeout, _progress_printer(), stop,
                )
            )  # fmt: skip
        except BaseException as exc:  # handed to the main thread, raised there
            problem.append(exc)

    worker = threading.Thread(target=work, name="mltui-load", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.5)
    except KeyboardInterrupt:  # the run stops; the levels run so far are reported
        stop.set()
        worker.join()
    if problem:
        if isinstance(problem[0], load.LoadError):
            return fail(WHO, str(problem[0]))
        raise problem[0]
    report = out[0]
    data = load.report_json(report)
    if args.out:
        args.out.write_text(json.dumps(data, indent=1))
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        _print(report)
    return 0


def _progress_printer() -> Callable[[LoadProgress], None]:
    """Progress on stderr: rewritten in place on a terminal, a line a level otherwise."""
    tty = sys.stderr.isatty()

    def show(step: LoadProgress) -> None:
        line = (
            f"level {step.index + 1}/{step.levels}: {step.concurrency} workers, "
            f"{min(step.elapsed_s, step.duration_s):4.1f}/{step.duration_s:g} s, "
            f"{step.requests} requests, {step.failed} failed"
        )
        if tty:
            end = "\n" if step.done else ""
            print(f"\r{line}\x1b[K", end=end, file=sys.stderr, flush=True)
        elif step.done:
            print(line, file=sys.stderr, flush=True)

    return show


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _print(report: LoadReport) -> None:
    from ..core.textsafe import safe_text

    version = f", version {safe_text(report.version, 40)}" if report.version else ""
    print(
        f"load test of {safe_text(report.url, 200)} ({report.protocol}, model "
        f"{safe_text(report.model, 80)}{version}): {report.bodies} bodies of "
        f"{report.body_bytes / 1e6:.1f} MB, {report.duration_s:g} s a level, at most "
        f"{report.max_requests:,} requests"
    )
    print(
        f"{'workers':>7} {'requests':>8} {'failed':>6} {'req/s':>8} {'images/s':>8} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    for lv in report.levels:
        note = f"  ({lv.stopped})" if lv.stopped else ""
        print(
            f"{lv.concurrency:>7} {lv.requests:>8} {lv.failed:>6} {lv.throughput:>8.1f} "
            f"{lv.images_per_s:>8.1f} {_ms(lv.p50_ms):>8} {_ms(lv.p95_ms):>8} "
            f"{_ms(lv.p99_ms):>8} {_ms(lv.max_ms):>8}{note}"
        )
    knee = report.knee
    if knee is None:
        print("knee: none (throughput kept growing, or latency did not rise, up to the last level)")
    else:
        print(
            f"knee: {knee} worker{'s' if knee > 1 else ''} (past it throughput grows less than 10% while p95 rises)"
        )
    for lv in report.levels:
        if lv.errors:
            groups = sorted(lv.errors.items(), key=lambda kv: (-kv[1], kv[0]))
            shown = "; ".join(
                f"{n} {k.kind}{f' {k.status}' if k.status else ''}: {k.message}"
                for k, n in groups[:5]
            )
            print(f"errors at {lv.concurrency} workers: {shown}")
    spread = report.replicas()
    if spread:
        total = sum(spread.values()) or 1
        print(
            "answers by replica: "
            + ", ".join(
                f"{safe_text(name, 40)} {n} ({n / total:.0%})" for name, n in sorted(spread.items())
            )
        )
    if report.stopped:
        print(f"the run was {report.stopped} before its last level")
