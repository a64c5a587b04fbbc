"""Prediction smoke test: a folder of images against a model server.

Protocols: TensorFlow Serving REST (``/v1/models/{m}:predict``, status and
metadata), KServe V1 (same predict shape, ``{"name","ready"}`` status) and the
Open Inference Protocol V2 (``/v2/models/{m}/infer``). The signature (input
name, dtype, shape) drives preprocessing: resize to H x W, RGB or grey, float
in 0..1 or 0..255, or the file's bytes as ``{"b64": ...}`` for string inputs.

Every image gets a :class:`Result`, whatever goes wrong (bad file, a server
error, a broken answer): a run always completes and accounts for every image.
Requests go out concurrently over one keep-alive session; request bodies are
encoded by orjson straight from numpy arrays.
"""

from __future__ import annotations

import base64
import io
import json
import math
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"}
DEFAULT_SHAPE = (224, 224, 3)  # the article's model: float 0..1
MAX_PIXELS = 64_000_000  # a bigger image is refused, not decoded
SKIPPED = "skipped"  # a file that is not an image by its name: listed, not sent, not a failure


def model_name_of(engine: Any, container_id: str, default: str = "my_model") -> str:
    """MODEL_NAME from a serving container's environment (TF Serving images read
    it), else ``default``."""
    from .engine import EngineError

    try:
        config = engine.inspect_container(container_id).get("Config") or {}
    except EngineError:
        return default
    env = config.get("Env") if isinstance(config, dict) else None
    for item in env if isinstance(env, list) else []:
        if isinstance(item, str) and item.startswith("MODEL_NAME=") and len(item) > 11:
            return item[11:]
    return default


class PredictError(Exception):
    """A run cannot start (no server, no model, a signature mltui cannot feed)."""


@dataclass(frozen=True)
class Signature:
    input_name: str = ""
    dtype: str = "DT_FLOAT"  # DT_FLOAT | DT_UINT8 | DT_STRING (b64) | FP32 | UINT8 | BYTES
    shape: tuple[int, int, int] = DEFAULT_SHAPE  # H, W, C
    output_name: str = ""
    source: str = "default"  # metadata | default | option

    @property
    def takes_bytes(self) -> bool:
        return self.dtype in ("DT_STRING", "BYTES")


@dataclass(frozen=True)
class Endpoint:
    url: str  # http://127.0.0.1:8501
    model: str
    protocol: str  # tfserving | kserve-v1 | v2
    versions: tuple[str, ...] = ()
    state: str = ""
    signature: Signature = field(default_factory=Signature)

    @property
    def predict_url(self) -> str:
        if self.protocol == "v2":
            return f"{self.url}/v2/models/{self.model}/infer"
        return f"{self.url}/v1/models/{self.model}:predict"


@dataclass
class Result:
    image: str  # path relative to the folder
    expected: str | None = None
    predicted: str | None = None
    confidence: float | None = None
    top: list[tuple[str, float]] = field(default_factory=list)
    latency_ms: float | None = None
    error_kind: str = ""  # "" when fine
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error_kind

    @property
    def failed(self) -> bool:
        """An image that could not be predicted (a skipped non-image file is not)."""
        return bool(self.error_kind) and self.error_kind != SKIPPED

    @property
    def hit(self) -> bool | None:
        if self.expected is None or not self.ok:
            return None
        return self.predicted == self.expected


# -- talking to the server ---------------------------------------------------------
def _get_json(session: Any, url: str, timeout: float) -> tuple[int, Any]:
    import requests

    try:
        answer = session.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise PredictError(f"{url}: {_net_reason(exc)}") from None
    try:
        return answer.status_code, answer.json()
    except ValueError:
        return answer.status_code, None


def _net_reason(exc: BaseException) -> str:
    import requests

    if isinstance(exc, requests.Timeout):
        return "no answer in time (timeout)"
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or reset: is the server running, is the port published?"
    return type(exc).__name__


def detect(
    url: str,
    model: str,
    *,
    protocol: str = "auto",
    shape: tuple[int, int, int] | None = None,
    session: Any = None,
    timeout: float = 5.0,
) -> Endpoint:
    """Which protocol the server speaks, the model's state and signature."""
    import requests

    session = session or requests.Session()
    url = url.rstrip("/")
    if protocol in ("auto", "tfserving", "kserve-v1"):
        code, body = _get_json(session, f"{url}/v1/models/{model}", timeout)
        if code == 200 and isinstance(body, dict) and "model_version_status" in body:
            statuses = [s for s in body["model_version_status"] if isinstance(s, dict)]
            versions = tuple(str(s.get("version", "")) for s in statuses)
            state = ",".join(str(s.get("state", "")) for s in statuses)
            signature = _tf_signature(session, url, model, timeout)
            if shape is not None:
                signature = Signature(
                    signature.input_name, signature.dtype, shape, signature.output_name, "option"
                )
            return Endpoint(url, model, "tfserving", versions, state, signature)
        if code == 200 and isinstance(body, dict) and "ready" in body:
            state = "ready" if body.get("ready") else "not ready"
            return Endpoint(
                url,
                model,
                "kserve-v1",
                (),
                state,
                Signature(shape=shape or DEFAULT_SHAPE, source="option" if shape else "default"),
            )
        if protocol != "auto":
            raise PredictError(_status_problem(code, body, f"model {model!r} at {url}"))
    code, body = _get_json(session, f"{url}/v2/models/{model}", timeout)
    if code == 200 and isinstance(body, dict):
        return Endpoint(
            url,
            model,
            "v2",
            tuple(str(v) for v in body.get("versions") or []),
            "ready",
            _v2_signature(body, shape),
        )
    raise PredictError(_status_problem(code, body, f"model {model!r} at {url}"))


def _status_problem(code: int, body: Any, what: str) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return f"{what}: {code} {body['error'][:200]}"
    return f"{what}: the server answered {code} and no known model status"


def _tf_signature(session: Any, url: str, model: str, timeout: float) -> Signature:
    _code, body = _get_json(session, f"{url}/v1/models/{model}/metadata", timeout)
    try:
        defs = body["metadata"]["signature_def"]["signature_def"]
        sig = defs.get("serving_default") or next(iter(defs.values()))
        (name, spec), *_ = sig["inputs"].items()
        dims = [int(d["size"]) for d in spec["tensor_shape"]["dim"]]
        out_name = next(iter(sig.get("outputs") or {}), "")
    except (KeyError, TypeError, ValueError, StopIteration, AttributeError):
        return Signature()  # no metadata endpoint (or a shape we cannot read): the default
    dtype = str(spec.get("dtype", "DT_FLOAT"))
    if dtype == "DT_STRING":
        return Signature(name, dtype, DEFAULT_SHAPE, out_name, "metadata")
    if len(dims) == 4 and dims[1] > 0 and dims[2] > 0 and dims[3] in (1, 3):
        return Signature(name, dtype, (dims[1], dims[2], dims[3]), out_name, "metadata")
    raise PredictError(
        f"the model's input {name!r} is {dtype} {dims}: mltui feeds images as "
        "[-1, H, W, 1 or 3] or as encoded bytes (DT_STRING)"
    )


def _v2_signature(body: dict, shape: tuple[int, int, int] | None) -> Signature:
    try:
        spec = body["inputs"][0]
        dims = [int(d) for d in spec["shape"]]
        name, dtype = str(spec["name"]), str(spec["datatype"])
        out = str((body.get("outputs") or [{}])[0].get("name", ""))
    except (KeyError, IndexError, TypeError, ValueError):
        return Signature(shape=shape or DEFAULT_SHAPE, dtype="FP32")
    if shape is None and len(dims) == 4 and dims[1] > 0 and dims[2] > 0:
        shape = (dims[1], dims[2], dims[3])
    return Signature(name, dtype, shape or DEFAULT_SHAPE, out, "metadata")


# -- images ----------------------------------------------------------------------------
def list_images(folder: Path) -> tuple[list[Path], list[Path]]:
    """(images, other files) under ``folder``, sorted; images by suffix."""
    images: list[Path] = []
    others: list[Path] = []
    for path in sorted(p for p in folder.rglob("*") if not p.is_dir()):
        (images if path.suffix.lower() in IMAGE_SUFFIXES else others).append(path)
    return images, others


def expected_class(folder: Path, path: Path) -> str | None:
    """The ``<class>/`` subfolder an image sits in, if any."""
    rel = path.relative_to(folder)
    return rel.parts[0] if len(rel.parts) > 1 else None


def load_image(path: Path, signature: Signature, scale: float = 1.0) -> Any:
    """The image as the signature wants it: its H x W x C uint8 pixels (the encoder
    writes them as floats in 0..1 or 0..255, or as integers), or the file's bytes."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    data = path.read_bytes()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ImageProblem(
                    "too large", f"{img.width}x{img.height} pixels is over {MAX_PIXELS:,}"
                )
            if signature.takes_bytes:
                img.verify()
                return data
            h, w, c = signature.shape
            pixels = img.convert("L" if c == 1 else "RGB")
            if pixels.size != (w, h):
                pixels = pixels.resize((w, h), Image.Resampling.BILINEAR)
            arr = np.asarray(pixels)
    except ImageProblem:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageProblem("too large", str(exc)[:120]) from None
    except UnidentifiedImageError:
        raise ImageProblem("not an image", "not an image file mltui can decode") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageProblem("corrupt image", str(exc)[:160] or "cannot be decoded") from None
    if c == 1:
        arr = arr[:, :, None]
    return np.ascontiguousarray(arr, dtype=np.uint8)  # the encoder scales it


class ImageProblem(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# -- request and answer ---------------------------------------------------------------
def encode(endpoint: Endpoint, batch: Sequence[Any], scale: float = 1.0) -> bytes:
    """The request body for ``batch``: uint8 pixel arrays (written through a table
    of the 256 values' JSON text, see :func:`pixels_json`), float arrays (orjson),
    or bytes for a string input."""
    import numpy as np
    import orjson

    sig = endpoint.signature
    if sig.takes_bytes:
        instances = [{"b64": base64.b64encode(b).decode()} for b in batch]
        if endpoint.protocol == "v2":
            return orjson.dumps(
                {
                    "inputs": [
                        {
                            "name": sig.input_name or "input",
                            "shape": [len(batch)],
                            "datatype": "BYTES",
                            "data": instances,
                        }
                    ]
                }
            )
        return orjson.dumps({"instances": instances})
    stacked = np.stack(batch) if len(batch) > 1 else batch[0][None]
    if stacked.dtype == np.uint8:
        as_int = sig.dtype in ("DT_UINT8", "UINT8")
        if endpoint.protocol == "v2":
            head = json.dumps(
                {
                    "name": sig.input_name or "input_1",
                    "shape": list(stacked.shape),
                    "datatype": "UINT8" if as_int else "FP32",
                }
            )
            data = pixels_json(stacked.reshape(-1), scale, as_int)
            return b'{"inputs":[' + head[:-1].encode() + b',"data":' + data + b"}]}"
        head = (
            '{"signature_name":"serving_default","instances":'
            if endpoint.protocol == "tfserving"
            else '{"instances":'
        )
        return head.encode() + pixels_json(stacked, scale, as_int) + b"}"
    if endpoint.protocol == "v2":
        dtype = "UINT8" if stacked.dtype == np.uint8 else "FP32"
        return orjson.dumps(
            {
                "inputs": [
                    {
                        "name": sig.input_name or "input_1",
                        "shape": list(stacked.shape),
                        "datatype": dtype,
                        "data": stacked.ravel(),
                    }
                ]
            },
            option=orjson.OPT_SERIALIZE_NUMPY,
        )
    body: dict[str, Any] = {"instances": stacked}
    if endpoint.protocol == "tfserving":
        body = {"signature_name": "serving_default", "instances": stacked}
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


_TABLES: dict[tuple[float, bool], Any] = {}


def _table(scale: float, as_int: bool) -> Any:
    """The JSON text of each byte value (k/255 as the shortest float32 text, k as a
    float, or k), right-aligned to one width and followed by a comma: a
    (256, width + 1) uint8 array."""
    import numpy as np

    key = (scale, as_int)
    if key not in _TABLES:
        if as_int:
            texts = [str(k) for k in range(256)]
        else:
            values = np.arange(256, dtype=np.float32)
            if scale == 1.0:
                values = values * np.float32(1 / 255)
            texts = [np.format_float_positional(v, unique=True, trim="0") for v in values]
        width = max(map(len, texts))
        raw = b"".join(t.rjust(width).encode() + b"," for t in texts)
        _TABLES[key] = np.frombuffer(raw, dtype=np.uint8).reshape(256, width + 1)
    return _TABLES[key]


def _wrap(fragments: Any) -> Any:
    """(..., K, L) byte fragments that each end in "," -> (..., K*L + 2): "[" the
    fragments "]," (the last fragment's comma becomes the closing bracket)."""
    import numpy as np

    *lead, k, length = fragments.shape
    out = np.empty((*lead, k * length + 2), dtype=np.uint8)
    out[..., 0] = 0x5B  # [
    out[..., 1 : k * length + 1] = fragments.reshape(*lead, k * length)
    out[..., k * length] = 0x5D  # ]
    out[..., k * length + 1] = 0x2C  # ,
    return out


def pixels_json(pixels: Any, scale: float = 1.0, as_int: bool = False) -> bytes:
    """A nested JSON array of ``pixels`` (uint8, any shape) as floats in 0..1
    (``scale`` 1) or 0..255, or as integers: built with array operations from a
    table of the 256 possible values, so a 224x224x3 image takes a millisecond or
    two where ``json.dumps(image.tolist())`` takes about a hundred."""
    import numpy as np

    out = np.take(_table(scale, as_int), pixels, axis=0)  # (..., width + 1)
    for _ in range(pixels.ndim):
        out = _wrap(out)
    return out[:-1].tobytes()


class AnswerProblem(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def decode(
    endpoint: Endpoint, status: int, content_type: str, body: bytes, count: int
) -> list[list[float]]:
    """Class scores per image of a predict answer, or AnswerProblem."""
    import orjson

    text_kind = "html" in content_type.lower() or body.lstrip()[:1] == b"<"
    data: Any = None
    if not text_kind:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            try:  # TF Serving writes NaN and Infinity, which strict JSON has not
                data = json.loads(body)
            except ValueError:
                data = None
    if status != 200:
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            raise AnswerProblem(f"server {status}", data["error"][:300])
        if isinstance(data, dict) and isinstance(data.get("detail"), list):
            raise AnswerProblem(f"server {status}", json.dumps(data["detail"])[:300])
        what = "an HTML error page" if text_kind else "no error message"
        raise AnswerProblem(f"server {status}", f"HTTP {status} with {what}")
    if data is None:
        what = "an HTML page" if text_kind else "invalid JSON"
        raise AnswerProblem("bad answer", f"the answer is {what}, not JSON predictions")
    rows = _rows(endpoint, data)
    if rows is None or len(rows) != count:
        got = "no predictions" if rows is None else f"{len(rows)} predictions"
        raise AnswerProblem("wrong shape", f"{got} for {count} images")
    out = []
    for row in rows:
        if isinstance(row, (int, float)):
            row = [row]
        if (
            not isinstance(row, list)
            or not row
            or not all(isinstance(v, (int, float)) for v in row)
        ):
            raise AnswerProblem("wrong shape", "a prediction is not a list of class scores")
        if not all(math.isfinite(v) for v in row):
            raise AnswerProblem("NaN in answer", "the scores hold NaN or infinity")
        out.append([float(v) for v in row])
    return out


def _rows(endpoint: Endpoint, data: Any) -> list | None:
    if not isinstance(data, dict):
        return None
    if endpoint.protocol == "v2":
        outputs = data.get("outputs")
        if not isinstance(outputs, list) or not outputs or not isinstance(outputs[0], dict):
            return None
        out = outputs[0]
        values, shape = out.get("data"), out.get("shape")
        if not isinstance(values, list) or not isinstance(shape, list) or not shape:
            return None
        n = shape[0] if isinstance(shape[0], int) else 0
        if n <= 0 or len(values) % n:
            return None
        width = len(values) // n
        return [values[i * width : (i + 1) * width] for i in range(n)]
    rows = data.get("predictions", data.get("outputs"))
    if isinstance(rows, dict):  # several named outputs: the first
        rows = next(iter(rows.values()), None)
    return rows if isinstance(rows, list) else None


# -- a run ---------------------------------------------------------------------------
def load_classes(path: Path | None) -> list[str] | None:
    """Class names: one a line, or a JSON list, or a JSON object {index: name}."""
    if path is None:
        return None
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError:
        return [line.strip() for line in text.splitlines() if line.strip()]
    if isinstance(data, list):
        return [str(x) for x in data]
    if isinstance(data, dict):
        pairs = sorted((int(k), str(v)) for k, v in data.items())
        return [v for _, v in pairs]
    raise PredictError(f"{path}: class names must be lines, a JSON list or a JSON object")


@dataclass
class RunOptions:
    concurrency: int = 8
    batch: int = 1
    scale: float = 1.0  # 1.0: 0..1, 255.0: 0..255
    top_k: int = 3
    timeout: float = 30.0


def run(
    endpoint: Endpoint,
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
                arrays.append(load_image(path, endpoint.signature, opts.scale))
                live.append(res)
            except ImageProblem as exc:
                res.error_kind, res.error = exc.kind, exc.message
            except OSError as exc:
                res.error_kind, res.error = "unreadable", exc.strerror or type(exc).__name__
        if live:
            _send(session, endpoint, arrays, live, classes, opts)
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
    endpoint: Endpoint,
    arrays: list,
    live: list[Result],
    classes: list[str] | None,
    opts: RunOptions,
) -> None:
    import requests

    body = encode(endpoint, arrays, opts.scale)
    start = time.perf_counter()
    try:
        answer = session.post(
            endpoint.predict_url,
            data=body,
            timeout=opts.timeout,
            headers={"Content-Type": "application/json"},
        )
        latency = (time.perf_counter() - start) * 1000
        scores = decode(
            endpoint,
            answer.status_code,
            answer.headers.get("Content-Type", ""),
            answer.content,
            len(arrays),
        )
    except requests.Timeout:
        _fail(live, "timeout", f"no answer in {opts.timeout:.0f}s")
        return
    except requests.RequestException as exc:
        _fail(live, "connection", _net_reason(exc))
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


def _name(index: int, classes: list[str] | None) -> str:
    if classes and index < len(classes):
        return classes[index]
    return str(index)


def _fail(results: list[Result], kind: str, message: str, latency: float | None = None) -> None:
    for res in results:
        res.error_kind, res.error, res.latency_ms = kind, message, latency


@dataclass
class Summary:
    images: int  # files sent to the server
    ok: int
    failed: int
    skipped: int  # files not sent: not images by their names (a README, the classes file)
    errors: dict[str, int]
    seconds: float
    images_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None
    accuracy: float | None
    labelled: int
    confused: list[tuple[str, str, int]]

    @property
    def skipped_line(self) -> str:
        n = self.skipped
        return f"{n} other file{'s' if n != 1 else ''} not sent (not images by name)" if n else ""


def _problem_rank(r: Result) -> tuple[int, float, str]:
    """Failures, then misses, then the least confident."""
    rank = 0 if r.failed else 1 if r.hit is False else 2
    return (rank, r.confidence if r.confidence is not None else 2.0, r.image)


@dataclass(frozen=True)
class Sort:
    label: str  # how the bar reads: "sorted <label>"
    key: Callable[[Result], Any]
    # rows without the value (a failed image has no confidence) stay last either way
    has: Callable[[Result], bool] = lambda r: True


SORTS: dict[str, Sort] = {
    "image": Sort("by file", lambda r: r.image),
    "problems": Sort("failures and misses first", _problem_rank, lambda r: r.error_kind != SKIPPED),
    "confidence": Sort(
        "least confident first",
        lambda r: (r.confidence, r.image),
        lambda r: r.confidence is not None,
    ),
    "latency": Sort(
        "slowest first",
        lambda r: (-(r.latency_ms or 0.0), r.image),
        lambda r: r.latency_ms is not None,
    ),
    "expected": Sort(
        "by expected class", lambda r: (r.expected, r.image), lambda r: r.expected is not None
    ),
    "predicted": Sort("by predicted class", lambda r: (r.predicted or "", r.image), lambda r: r.ok),
}


def sort_order(results: Sequence[Result], by: str, reverse: bool = False) -> list[int]:
    """Indexes of ``results`` in the order ``by`` names (a key of SORTS); ``reverse``
    turns the order round, but rows without the value stay last, by file."""
    sort = SORTS[by]
    present = [i for i, r in enumerate(results) if sort.has(r)]
    absent = [i for i, r in enumerate(results) if not sort.has(r)]
    present.sort(key=lambda i: sort.key(results[i]), reverse=reverse)
    absent.sort(key=lambda i: results[i].image)
    return present + absent


def sort_results(results: Sequence[Result], by: str, reverse: bool = False) -> list[Result]:
    return [results[i] for i in sort_order(results, by, reverse)]


def summarize(results: Sequence[Result], seconds: float) -> Summary:
    lat = sorted(r.latency_ms for r in results if r.ok and r.latency_ms is not None)
    hits = [r.hit for r in results if r.hit is not None]
    confused = Counter((r.expected, r.predicted) for r in results if r.hit is False)
    skipped = sum(r.error_kind == SKIPPED for r in results)
    images = len(results) - skipped
    return Summary(
        images=images,
        ok=sum(r.ok for r in results),
        failed=sum(r.failed for r in results),
        skipped=skipped,
        errors=dict(Counter(r.error_kind for r in results if r.failed)),
        seconds=seconds,
        images_per_s=images / seconds if seconds > 0 else 0.0,
        p50_ms=statistics.median(lat) if lat else None,
        p95_ms=lat[int(0.95 * (len(lat) - 1))] if lat else None,
        max_ms=lat[-1] if lat else None,
        accuracy=sum(hits) / len(hits) if hits else None,
        labelled=len(hits),
        confused=[(str(a), str(b), n) for (a, b), n in confused.most_common(5)],
    )


def to_json(endpoint: Endpoint, results: Sequence[Result], summary: Summary) -> dict[str, Any]:
    return {
        "endpoint": {
            "url": endpoint.url,
            "model": endpoint.model,
            "protocol": endpoint.protocol,
            "versions": list(endpoint.versions),
            "state": endpoint.state,
            "signature": asdict(endpoint.signature),
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
                    r.image,
                    r.expected or "",
                    r.predicted or "",
                    "" if r.confidence is None else f"{r.confidence:.6f}",
                    "" if r.hit is None else int(r.hit),
                    "" if r.latency_ms is None else f"{r.latency_ms:.2f}",
                    r.error_kind,
                    r.error,
                ]
            )
