"""A bounded load test of one model endpoint: closed loops of N workers per
concurrency level, each on its own keep-alive connection.

The request bodies are encoded once, before any level starts (:func:`load_bodies`),
and each is turned into the whole request's bytes (request line, headers, body),
so the timed window measures the server, not mltui's encoding. A worker sends
those bytes on a raw socket (``sendall``) and reads the answer with the standard
library's HTTP parser: against ``requests`` this drops its per-request costs
(URL and header handling, adapters, hooks), measured in bench/load.py against
Debian's ``hey``.

Bounds: at most :data:`MAX_LEVEL_S` per level, a cap on the requests of the whole
run, a timeout per request, answers read up to :data:`MAX_ANSWER` bytes. Only the
URL of the :class:`~.protocols.ServedModel` given is ever contacted, and
redirects are not followed. A server that fails during the run costs no crash:
each failure is counted by kind (refused, reset, timeout, server 5xx, ...) and
the run goes on to its bound; the report is produced whatever happened.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..textsafe import safe_text
from .images import ImageProblem, list_images, load_image
from .load_stats import ErrorKey, LatencyHistogram, LevelResult, count_error, find_knee, level_json
from .load_worker import MAX_REPLICAS, LoadError, Target, Tickets, Worker
from .protocols import ServedModel
from .wire import encode

__all__ = [
    "DEFAULT_LEVELS",
    "MAX_CONCURRENCY",
    "MAX_LEVEL_S",
    "LoadBody",
    "LoadError",
    "LoadProgress",
    "LoadReport",
    "load_bodies",
    "parse_levels",
    "probe",
    "report_json",
    "run_load",
    "target_url",
]

DEFAULT_LEVELS = (1, 2, 4, 8, 16)
MAX_LEVEL_S = 60.0  # a level's time, at most
MAX_CONCURRENCY = 256  # workers of one level, at most
MAX_LEVELS = 16
MAX_REQUESTS = 1_000_000  # the highest cap a run may be given
MAX_BODIES = 32  # distinct request bodies (images) kept for a run ..
MAX_BODY_BYTES = 128 << 20  # .. and their bytes together, at most
PROGRESS_S = 0.25  # how often progress is reported while a level runs


@dataclass(frozen=True)
class LoadBody:
    """One request body, encoded, and how many images it holds."""

    data: bytes
    images: int = 1
    source: str = ""  # the image it was made from


@dataclass(frozen=True)
class LoadProgress:
    """Where a run stands: the level running (``index`` of ``levels``), its time
    and counts so far; ``done`` holds the level's result once it has ended."""

    index: int
    levels: int
    concurrency: int
    elapsed_s: float
    duration_s: float
    requests: int
    failed: int
    done: LevelResult | None = None


@dataclass
class LoadReport:
    url: str  # the predict URL every request went to
    model: str
    protocol: str
    version: str | None
    duration_s: float
    max_requests: int
    bodies: int
    body_bytes: int  # of the first body
    levels: list[LevelResult] = field(default_factory=list)
    stopped: str = ""  # why the run ended before its last level, "" when it did not

    @property
    def knee(self) -> int | None:
        return find_knee(self.levels)

    def replicas(self) -> dict[str, int]:
        """Answers per replica over the whole run (where the answers name one)."""
        out: Counter[str] = Counter()
        for level in self.levels:
            out.update(level.replicas)
        return dict(out)


def parse_levels(text: str) -> tuple[int, ...]:
    """``"1,2,4,8"`` -> (1, 2, 4, 8): distinct, ascending, 1..MAX_CONCURRENCY."""
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(not p.isdigit() or len(p) > 6 for p in parts):
        raise LoadError(
            f"concurrency {safe_text(text, 60)!r}: give whole numbers separated by commas, "
            "such as 1,2,4,8,16"
        )
    levels = sorted({int(p) for p in parts})
    if levels[0] < 1 or levels[-1] > MAX_CONCURRENCY:
        raise LoadError(f"concurrency: each level from 1 to {MAX_CONCURRENCY}")
    if len(levels) > MAX_LEVELS:
        raise LoadError(f"concurrency: at most {MAX_LEVELS} levels")
    return tuple(levels)


def target_url(served: ServedModel, version: str | None = None) -> str:
    """The predict URL of ``served``, of one version when ``version`` is given."""
    if not version:
        return served.predict_url
    name, ver = quote(served.model, safe=""), quote(str(version), safe="")
    if served.protocol == "v2":
        return f"{served.url}/v2/models/{name}/versions/{ver}/infer"
    return f"{served.url}/v1/models/{name}/versions/{ver}:predict"


def load_bodies(
    served: ServedModel, folder: Path, scale: float = 1.0, limit: int = 8
) -> list[LoadBody]:
    """Request bodies of the first images under ``folder`` (one image each),
    encoded once as :func:`.wire.encode` writes them for a prediction; images that
    cannot be read are passed over. LoadError when none could be made."""
    images, _others = list_images(folder)
    bodies: list[LoadBody] = []
    total = 0
    for path in images:
        if len(bodies) >= max(1, min(limit, MAX_BODIES)):
            break
        try:
            array = load_image(path, served.signature, scale)
        except (ImageProblem, OSError):
            continue
        data = encode(served, [array], scale)
        if bodies and total + len(data) > MAX_BODY_BYTES:
            break
        total += len(data)
        bodies.append(LoadBody(data, 1, str(path.relative_to(folder))))
    if not bodies:
        raise LoadError(f"{safe_text(folder, 200)}: no image in it could be read")
    return bodies


# ---- the run -----------------------------------------------------------------------


def run_load(
    served: ServedModel,
    bodies: Sequence[LoadBody],
    levels: Sequence[int] = DEFAULT_LEVELS,
    duration_s: float = 10.0,
    max_requests: int = 50_000,
    version: str | None = None,
    timeout_s: float = 10.0,
    progress: Callable[[LoadProgress], None] | None = None,
    stop: threading.Event | None = None,
) -> LoadReport:
    """Each level in ascending order: ``concurrency`` workers for ``duration_s``
    (at most :data:`MAX_LEVEL_S`), the run's ``max_requests`` shared out over the
    levels still to run. ``stop`` ends the run early (the level running is cut
    short and reported). Returns the report whatever the server did; LoadError
    only when the run cannot start."""
    if not bodies:
        raise LoadError("no request body to send")
    order = parse_levels(",".join(str(n) for n in levels)) if levels else ()
    if not order:
        raise LoadError("no concurrency level to run")
    if not 0 < duration_s <= MAX_LEVEL_S:
        raise LoadError(f"duration: more than 0 and at most {MAX_LEVEL_S:g} s a level")
    if not 1 <= max_requests <= MAX_REQUESTS:
        raise LoadError(f"request cap: from 1 to {MAX_REQUESTS:,}")
    if not 0 < timeout_s <= MAX_LEVEL_S:
        raise LoadError(f"timeout: more than 0 and at most {MAX_LEVEL_S:g} s")
    url = target_url(served, version)
    target = Target.of(url)
    requests = [(target.request(b.data), b.images) for b in bodies[:MAX_BODIES]]
    stop = stop or threading.Event()
    report = LoadReport(
        url,
        served.model,
        served.protocol,
        version,
        duration_s,
        max_requests,
        len(requests),
        len(bodies[0].data),
    )
    left = max_requests
    for index, concurrency in enumerate(order):
        if stop.is_set():
            report.stopped = "stopped"
            break
        cap = left // (len(order) - index)
        level = _run_level(
            target, served, requests, concurrency, duration_s, cap, timeout_s, stop, index, order,
            progress,
        )  # fmt: skip
        left -= level.requests
        report.levels.append(level)
        if progress:
            progress(
                LoadProgress(
                    index, len(order), concurrency, level.seconds, duration_s,
                    level.requests, level.failed, level,
                )
            )  # fmt: skip
        if level.stopped == "stopped":
            report.stopped = "stopped"
            break
    return report


def _run_level(
    target: Target,
    served: ServedModel,
    requests: list[tuple[bytes, int]],
    concurrency: int,
    duration_s: float,
    cap: int,
    timeout_s: float,
    stop: threading.Event,
    index: int,
    order: tuple[int, ...],
    progress: Callable[[LoadProgress], None] | None,
) -> LevelResult:
    tickets = Tickets(cap)
    timeout = min(timeout_s, max(1.0, duration_s))
    workers = [
        Worker(target, served, requests, i * len(requests) // concurrency, timeout)
        for i in range(concurrency)
    ]
    start = time.monotonic()
    deadline = start + duration_s
    threads = [
        threading.Thread(
            target=w.loop, args=(deadline, tickets.take, stop), name=f"mltui-load-{i}", daemon=True
        )
        for i, w in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    while not stop.is_set():
        now = time.monotonic()
        if now >= deadline or not any(t.is_alive() for t in threads):
            break
        stop.wait(min(PROGRESS_S, deadline - now))
        if progress:
            progress(
                LoadProgress(
                    index, len(order), concurrency, time.monotonic() - start, duration_s,
                    sum(w.ok + w.failed for w in workers), sum(w.failed for w in workers),
                )
            )  # fmt: skip
    # the requests in flight finish, within their timeout (sooner when stopped)
    grace = 0.0 if stop.is_set() else timeout
    end_by = time.monotonic() + grace
    for thread in threads:
        thread.join(max(0.0, end_by - time.monotonic()))
    for worker in workers:
        worker.abort()
    for thread in threads:
        thread.join()
    end = time.monotonic()
    level = LevelResult(concurrency, seconds=end - start)
    hist = LatencyHistogram()
    errors: Counter[ErrorKey] = Counter()
    replicas: Counter[str] = Counter()
    for worker in workers:
        level.ok += worker.ok
        hist.merge(worker.hist)
        for key, n in worker.errors.items():
            count_error(errors, key, n)
        for name, n in worker.replicas.items():
            if name in replicas or len(replicas) < MAX_REPLICAS:
                replicas[name] += n
    level.images_per_request = requests[0][1]
    level.fill(hist)
    level.errors = dict(errors)
    level.replicas = dict(replicas)
    if stop.is_set():
        level.stopped = "stopped"
    elif tickets.left <= 0 and end < deadline:
        level.stopped = "request cap"
    return level


def probe(
    served: ServedModel, body: LoadBody, version: str | None = None, timeout_s: float = 10.0
) -> ErrorKey | None:
    """Send one request, untimed, before a run: None when it was answered with a
    2xx, else what went wrong (a version that is not served, a body the model
    refuses), so a run that could only collect the same error is not started."""
    target = Target.of(target_url(served, version))
    worker = Worker(target, served, [(target.request(body.data), body.images)], 0, timeout_s)
    worker.loop(
        time.monotonic() + timeout_s, lambda: worker.ok + worker.failed == 0, threading.Event()
    )
    if worker.ok:
        return None
    return next(iter(worker.errors), ErrorKey.of("no answer", 0, "the request got no answer"))


def report_json(report: LoadReport) -> dict[str, Any]:
    """The report as plain JSON values."""
    return {
        "url": report.url,
        "model": report.model,
        "protocol": report.protocol,
        "version": report.version,
        "duration_s": report.duration_s,
        "max_requests": report.max_requests,
        "bodies": report.bodies,
        "body_bytes": report.body_bytes,
        "levels": [level_json(level) for level in report.levels],
        "knee": report.knee,
        "replicas": report.replicas(),
        "stopped": report.stopped or None,
    }
