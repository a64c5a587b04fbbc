"""A model server's own metrics: its Prometheus page read into counts and rates.

TensorFlow Serving publishes them when started with ``--monitoring_config_file``
(``prometheus_config { enable: true, path: "/monitoring/prometheus/metrics" }``),
under its own names: ``:tensorflow:serving:request_count`` {model_name, status}
and the histogram ``:tensorflow:serving:request_latency`` {model_name, API,
entrypoint} in microseconds. The page is parsed by prometheus-client's parser
(:func:`prometheus_client.parser.text_string_to_metric_families`), never by hand;
two scrapes a moment apart give rates. A page that is missing (with how to turn
it on), malformed, too large or not text is one sentence in
:class:`MetricsProblem`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from ..textsafe import safe_text
from .answers import AnswerProblem, read_body

__all__ = [
    "ENABLE_HINT",
    "METRICS_PATH",
    "REQUEST_COUNT",
    "REQUEST_LATENCY",
    "MetricsProblem",
    "ModelMetrics",
    "Scrape",
    "parse_page",
    "scrape",
    "summarize_metrics",
]

METRICS_PATH = "/monitoring/prometheus/metrics"
REQUEST_COUNT = ":tensorflow:serving:request_count"
REQUEST_LATENCY = ":tensorflow:serving:request_latency"
MAX_PAGE_BYTES = 8 << 20
MAX_SERIES = 100_000
ENABLE_HINT = (
    "start TF Serving with --monitoring_config_file=FILE, FILE holding "
    'prometheus_config { enable: true, path: "/monitoring/prometheus/metrics" }'
)


class MetricsProblem(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Scrape:
    """One reading of the page: TF Serving's request counters and latency
    histograms by model, and how many metric families the page held."""

    at: float  # time.monotonic() of the reading
    families: int = 0
    counts: dict[tuple[str, str], float] = field(default_factory=dict)  # (model, status)
    # model -> {le: cumulative count}, summed over API and entrypoint
    buckets: dict[str, dict[float, float]] = field(default_factory=dict)
    latency_sum_us: dict[str, float] = field(default_factory=dict)
    latency_count: dict[str, float] = field(default_factory=dict)


def parse_page(text: str, at: float | None = None) -> Scrape:
    """The metrics in a Prometheus text page; MetricsProblem when it is malformed."""
    from prometheus_client.parser import text_string_to_metric_families

    out = Scrape(time.monotonic() if at is None else at)
    series = 0
    try:
        for family in text_string_to_metric_families(text):
            out.families += 1
            for sample in family.samples:
                series += 1
                if series > MAX_SERIES:
                    raise MetricsProblem(f"the metrics page has over {MAX_SERIES:,} series")
                _take(out, family.name, sample.name, sample.labels, sample.value)
    except MetricsProblem:
        raise
    except Exception as exc:  # the parser raises ValueError, IndexError, ... on bad lines
        reason = safe_text(str(exc) or type(exc).__name__, 160)
        raise MetricsProblem(f"the metrics page is malformed: {reason}") from None
    return out


def _take(out: Scrape, family: str, name: str, labels: dict[str, str], value: float) -> None:
    if not math.isfinite(value) or value < 0:
        return
    model = safe_text(labels.get("model_name", ""), 120)
    # prometheus-client names a counter's samples NAME_total whatever the page wrote
    if family == REQUEST_COUNT and name in (REQUEST_COUNT, f"{REQUEST_COUNT}_total"):
        key = (model, safe_text(labels.get("status", ""), 40))
        out.counts[key] = out.counts.get(key, 0.0) + value
    elif family == REQUEST_LATENCY:
        if name == f"{REQUEST_LATENCY}_bucket":
            try:
                le = float(labels.get("le", ""))
            except ValueError:
                return
            per = out.buckets.setdefault(model, {})
            per[le] = per.get(le, 0.0) + value
        elif name == f"{REQUEST_LATENCY}_sum":
            out.latency_sum_us[model] = out.latency_sum_us.get(model, 0.0) + value
        elif name == f"{REQUEST_LATENCY}_count":
            out.latency_count[model] = out.latency_count.get(model, 0.0) + value


def scrape(
    url: str, path: str = METRICS_PATH, *, session: Any = None, timeout: float = 5.0
) -> Scrape:
    """Read the page at ``url + path`` once."""
    import requests

    from .protocols import net_reason

    session = session or requests.Session()
    where = f"{safe_text(url.rstrip('/'), 200)}{safe_text(path, 200)}"
    try:
        with session.get(url.rstrip("/") + path, timeout=timeout, stream=True) as answer:
            body = read_body(answer, MAX_PAGE_BYTES, time.monotonic() + timeout)
            code = int(answer.status_code)
            ctype = str(answer.headers.get("Content-Type", ""))
    except requests.RequestException as exc:
        raise MetricsProblem(f"{where}: {net_reason(exc)}") from None
    except AnswerProblem as exc:
        raise MetricsProblem(f"{where}: {exc.message}") from None
    if code == 404:
        raise MetricsProblem(f"the server publishes no metrics at {where} (404): {ENABLE_HINT}")
    if code != 200:
        raise MetricsProblem(f"{where}: the server answered {code}")
    if "html" in ctype.lower() or body.lstrip()[:1] in (b"<", b"{", b"["):
        raise MetricsProblem(f"{where}: the answer is not a Prometheus text page")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MetricsProblem(f"{where}: the metrics page is not UTF-8 text") from None
    return parse_page(text)


@dataclass(frozen=True)
class ModelMetrics:
    """What the page says about one model."""

    model: str
    requests: float  # total, every status
    by_status: tuple[tuple[str, float], ...]
    errors: float  # requests whose status is not OK
    rate_per_s: float | None  # requests per second between two scrapes
    error_rate_per_s: float | None
    mean_ms: float | None
    p50_ms: float | None  # estimated from the histogram's buckets
    p95_ms: float | None


def _quantile(buckets: dict[float, float], q: float) -> float | None:
    """The q-quantile of a cumulative histogram, linear within its bucket (as
    Prometheus' histogram_quantile does); None when it holds nothing."""
    limits = sorted(buckets)
    if not limits:
        return None
    total = buckets[limits[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for le in limits:
        count = buckets[le]
        if count >= rank:
            if math.isinf(le):
                return lower  # the highest finite limit, as histogram_quantile does
            span = count - below
            return lower + (le - lower) * ((rank - below) / span if span > 0 else 1.0)
        lower, below = le, count
    return lower


def _diff(second: dict[Any, float], first: dict[Any, float] | None) -> dict[Any, float]:
    if first is None:
        return dict(second)
    out = {}
    for key, value in second.items():
        before = first.get(key, 0.0)
        out[key] = value - before if value >= before else value  # a counter reset
    return out


def summarize_metrics(second: Scrape, first: Scrape | None = None) -> list[ModelMetrics]:
    """Per model: totals from ``second``; rates (and the latency of the requests
    in between) when an earlier ``first`` is given."""
    seconds = second.at - first.at if first is not None else 0.0
    window = first is not None and seconds > 0
    counts = _diff(second.counts, first.counts if first else None) if window else second.counts
    models = sorted({m for m, _ in second.counts} | set(second.buckets))
    out = []
    for model in models:
        statuses = sorted((s, v) for (m, s), v in second.counts.items() if m == model)
        total = sum(v for _, v in statuses)
        errors = sum(v for s, v in statuses if s != "OK")
        rate = err_rate = None
        if window:
            moved = [(s, v) for (m, s), v in counts.items() if m == model]
            rate = sum(v for _, v in moved) / seconds
            err_rate = sum(v for s, v in moved if s != "OK") / seconds
        buckets = second.buckets.get(model, {})
        n = second.latency_count.get(model, 0.0)
        total_us = second.latency_sum_us.get(model, 0.0)
        if window and first is not None and first.buckets.get(model):
            moved_b = _diff(buckets, first.buckets.get(model))
            if moved_b and max(moved_b.values()) > 0:
                buckets = moved_b
                n -= first.latency_count.get(model, 0.0)
                total_us -= first.latency_sum_us.get(model, 0.0)
        p50, p95 = _quantile(buckets, 0.5), _quantile(buckets, 0.95)
        out.append(
            ModelMetrics(
                model,
                total,
                tuple(statuses),
                errors,
                rate,
                err_rate,
                total_us / n / 1000 if n > 0 else None,
                None if p50 is None else p50 / 1000,
                None if p95 is None else p95 / 1000,
            )
        )
    return out
