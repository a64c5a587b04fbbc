"""`mltui model`: the versions, states, signatures, labels and metrics of a served model."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from .common import add_server_options, load_config, server_url

if TYPE_CHECKING:
    from ..core.predict.metrics import ModelMetrics
    from ..core.predict.models import ModelReport


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "model",
        help="a served model's versions, states, signatures, labels and metrics",
        description="What a model server holds of one model: every version and its state "
        "(with the error of a failed load), each version's signature, the labels (read from "
        "the model config file the server's container was started with, and --label), and "
        "the server's own metrics as counts and rates. Exits 1 when a version cannot answer "
        "or a label does not resolve, 2 when the URL is no model server.",
    )
    add_server_options(p)
    p.add_argument(
        "--label", action="append", default=[], metavar="L", help="a label to check (repeatable)"
    )
    p.add_argument(
        "--container",
        metavar="NAME",
        help="the server's container, whose model config file names the labels "
        "(default: the one publishing the URL's port, or one of its stack)",
    )
    p.add_argument(
        "--no-config", action="store_true", help="do not read the model config file (no exec)"
    )
    p.add_argument(
        "--metrics-path",
        default="/monitoring/prometheus/metrics",
        help="the Prometheus page's path (default %(default)s)",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds between the two metrics readings that give rates (0: one reading)",
    )
    p.add_argument("--timeout", type=float, default=5.0, metavar="S", help="per request")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")


def _config_labels(args: argparse.Namespace, notes: list[str]) -> list[tuple[str, str]]:
    """(label, version) of the model from its server's model config file."""
    from ..core.engine import EngineUnavailable
    from ..core.predict.server_config import configured_labels
    from .common import connect

    try:
        engine = connect(args.host)
    except Exception as exc:  # no engine configured: labels from --label only
        notes.append(f"labels: no engine to read the model config file from ({exc})")
        return []
    try:
        labels, note = configured_labels(engine, args.url, args.model, args.container or "")
    except EngineUnavailable as exc:
        notes.append(f"labels: the engine does not answer ({exc.message}); --label only")
        return []
    finally:
        engine.close()
    notes.append(note)
    return labels


def _metrics(args: argparse.Namespace) -> tuple[list[ModelMetrics], str]:
    from ..core.predict.metrics import MetricsProblem, scrape, summarize_metrics

    try:
        first = scrape(args.url, args.metrics_path, timeout=args.timeout)
        if args.interval <= 0:
            return summarize_metrics(first), ""
        time.sleep(min(args.interval, 60.0))  # the window rates are measured over
        second = scrape(args.url, args.metrics_path, timeout=args.timeout)
    except MetricsProblem as exc:
        return [], exc.message
    return summarize_metrics(second, first), ""


def run(args: argparse.Namespace) -> int:
    from ..core import predict as core
    from ..core.predict.models import describe
    from ..core.textsafe import safe_text

    config, _problems = load_config(args)
    args.url = server_url(args, config.predict)
    notes: list[str] = []
    labels = [] if args.no_config else _config_labels(args, notes)
    try:
        report = describe(
            args.url,
            args.model,
            protocol=args.protocol,
            config_labels=labels,
            labels=args.label,
            timeout=args.timeout,
        )
    except core.PredictError as exc:
        print(f"mltui model: {safe_text(str(exc), 600)}", file=sys.stderr)
        return 2
    report.notes[:0] = notes
    metrics, metrics_problem = _metrics(args)
    if args.json:
        print(json.dumps(to_json(report, metrics, metrics_problem), indent=1))
    else:
        print_report(report, metrics, metrics_problem)
    bad = any(v.problem for v in report.versions) or any(lb.problem for lb in report.labels)
    return 1 if bad else 0


def to_json(report: ModelReport, metrics: list[ModelMetrics], problem: str) -> dict[str, Any]:
    data = asdict(report)
    data["signatures_differ"] = report.signatures_differ
    data["metrics"] = [asdict(m) for m in metrics if m.model in ("", report.model)]
    data["metrics_problem"] = problem or None
    return data


def _shape(shape: tuple[int, ...] | None) -> str:
    return "?" if shape is None else "[" + ", ".join(map(str, shape)) + "]"


def print_report(report: ModelReport, metrics: list[ModelMetrics], problem: str) -> None:
    from ..core.textsafe import safe_text as st

    print(f"{report.protocol} {st(report.url, 200)} model {st(report.model, 80)}")
    if report.versions:
        print("versions:")
    for v in report.versions:
        line = f"  {st(v.version, 40) or '-':<12} {st(v.state, 20):<10}"
        if v.error_code and v.error_code != "OK":
            line += f" {st(v.error_code, 40)}: {st(v.error_message, 300)}"
        elif v.problem:
            line += f" {st(v.problem, 300)}"
        print(line.rstrip())
        for t in v.signature:
            print(f"      {t.kind:<6} {st(t.name, 80)} {st(t.dtype, 20)} {_shape(t.shape)}")
        if v.signature_problem:
            print(f"      signature: {st(v.signature_problem, 200)}")
    if report.labels:
        print("labels:")
    for lb in report.labels:
        where = "config" if lb.source == "config" else "--label"
        line = f"  {st(lb.label, 60):<12} -> {st(lb.version, 40) or '?':<12} ({where})"
        if lb.problem:
            line += f" {st(lb.problem, 300)}"
        print(line)
    for note in report.notes:
        print(f"note: {st(note, 400)}")
    if problem:
        print(f"metrics: {st(problem, 400)}")
        return
    shown = [m for m in metrics if m.model == report.model]
    if not shown:
        print("metrics: the server's page counts no request for this model yet")
    for m in shown:
        statuses = ", ".join(f"{st(s, 30)} {n:.0f}" for s, n in m.by_status) or "none"
        rate = "" if m.rate_per_s is None else f"; {m.rate_per_s:.1f} req/s"
        if m.error_rate_per_s:
            rate += f" ({m.error_rate_per_s:.1f} errors/s)"
        lat = ""
        if m.p50_ms is not None and m.p95_ms is not None:
            lat = f"; latency p50 ~{m.p50_ms:.1f} ms, p95 ~{m.p95_ms:.1f} ms"
        print(f"metrics: {m.requests:.0f} requests ({statuses}){rate}{lat}")
