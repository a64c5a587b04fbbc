"""A run: every image of a folder against a served model.

Every image gets a :class:`~.results.Result`, whatever goes wrong (bad file, a
server error, a broken answer): a run always completes and accounts for every
image. Requests go out concurrently over one keep-alive session.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .answers import MAX_ANSWER_BYTES, AnswerProblem, read_body, read_scores
from .images import ImageProblem, expected_class, list_images, load_image
from .protocols import ServedModel, net_reason
from .results import SKIPPED, Result
from .wire import encode


@dataclass
class RunOptions:
    concurrency: int = 8
    batch: int = 1
    scale: float = 1.0  # 1.0: 0..1, 255.0: 0..255
    top_k: int = 3
    timeout: float = 30.0


def run(
    served: ServedModel,
    folder: Path,
    classes: list[str] | None = None,
    options: RunOptions | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Predict every image under ``folder``; results in the folder's order."""
    import requests

    opts = options or RunOptions()
    images, others = list_images(folder)
    results: list[Result] = [
        Result(
            str(p.relative_to(folder)),
            expected_class(folder, p),
            error_kind=SKIPPED,
            error="not an image file (by its name): not sent",
        )
        for p in others
    ]
    for r in results:
        if on_result:
            on_result(r)
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=1, pool_maxsize=max(1, opts.concurrency)
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    lock = threading.Lock()
    batches = [
        images[i : i + max(1, opts.batch)] for i in range(0, len(images), max(1, opts.batch))
    ]

    def one(batch: list[Path]) -> list[Result]:
        out = [Result(str(p.relative_to(folder)), expected_class(folder, p)) for p in batch]
        arrays, live = [], []
        for path, res in zip(batch, out, strict=True):
            try:
                arrays.append(load_image(path, served.signature, opts.scale))
                live.append(res)
            except ImageProblem as exc:
                res.error_kind, res.error = exc.kind, exc.message
            except OSError as exc:
                res.error_kind, res.error = "unreadable", exc.strerror or type(exc).__name__
        if live:
            _send(session, served, arrays, live, classes, opts)
        with lock:
            for res in out:
                if on_result:
                    on_result(res)
        return out

    with ThreadPoolExecutor(max_workers=max(1, opts.concurrency)) as pool:
        for done in pool.map(one, batches):
            results.extend(done)
    session.close()
    order = {str(p.relative_to(folder)): i for i, p in enumerate(sorted(images + others))}
    results.sort(key=lambda r: order.get(r.image, 0))
    return results


def _send(
    session: Any,
    served: ServedModel,
    arrays: list[Any],
    live: list[Result],
    classes: list[str] | None,
    opts: RunOptions,
) -> None:
    import requests

    body = encode(served, arrays, opts.scale)
    start = time.perf_counter()
    try:
        for attempt in (1, 2):
            start = time.perf_counter()
            try:
                with session.post(
                    served.predict_url,
                    data=body,
                    timeout=opts.timeout,
                    headers={"Content-Type": "application/json"},
                    stream=True,  # read bounded: a size cap, and the timeout for the whole body
                ) as answer:
                    content = read_body(answer, MAX_ANSWER_BYTES, time.monotonic() + opts.timeout)
                    status = int(answer.status_code)
                    ctype = str(answer.headers.get("Content-Type", ""))
                break
            except requests.ConnectionError as exc:
                # A server may close a keep-alive connection just after an answer
                # without saying so (uvicorn after a model error); the next request on
                # it is reset. A prediction changes nothing, so it is sent once more
                # on a fresh connection; a second failure is the server's.
                if attempt == 2 or isinstance(exc, requests.Timeout):
                    raise
        latency = (time.perf_counter() - start) * 1000
        scores, output = read_scores(served, status, ctype, content, len(arrays))
    except requests.Timeout:
        _fail(live, "timeout", f"no answer in {opts.timeout:.0f}s")
        return
    except requests.RequestException as exc:
        _fail(live, "connection", net_reason(exc))
        return
    except AnswerProblem as exc:
        _fail(live, exc.kind, exc.message, (time.perf_counter() - start) * 1000)
        return
    for res, row in zip(live, scores, strict=True):
        ranked = sorted(range(len(row)), key=row.__getitem__, reverse=True)
        names = [_name(i, classes) for i in ranked[: max(1, opts.top_k)]]
        res.predicted = names[0]
        res.confidence = row[ranked[0]]
        res.top = [(n, row[i]) for n, i in zip(names, ranked, strict=False)]
        res.latency_ms = latency
        res.output = output
        res.version = served.answering


def _name(index: int, classes: list[str] | None) -> str:
    if classes and index < len(classes):
        return classes[index]
    return str(index)


def _fail(results: list[Result], kind: str, message: str, latency: float | None = None) -> None:
    for res in results:
        res.error_kind, res.error, res.latency_ms = kind, message, latency
