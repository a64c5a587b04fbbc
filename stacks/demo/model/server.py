"""A model server that speaks the TensorFlow Serving REST API (port 8501).

No TensorFlow Serving binary can be had without a registry, so the demo serves
its digit classifier with this: model status, metadata with a signature_def,
predict in row ("instances") and column ("inputs") form, and errors as TF Serving
answers them: the same routing, codes and sentences (a path outside /v1/ gets
libevent's 404 page; a request it cannot route, 400 "Malformed request"; an unknown
model, 404 "Servable not found for request: Latest(NAME)"), each step citing the
TF Serving source it follows; tf_json.py reads the JSON the same way. The
signature is the one of the reference stack's Keras model: `input_1`,
DT_FLOAT [-1, 224, 224, 3] in 0..1, output class probabilities [-1, 10].

Several versions and their labels come from a model config file
(`--model_config_file=`, servables.py), the metrics page from a monitoring config
file (`--monitoring_config_file=`, metrics.py), both in TF Serving's text format
(serving_config.py). Each response names the replica that answered in an
`X-Replica` header. Only numpy is needed at run time.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from metrics import Metrics
from servables import Model, Registry, load, log
from serving_config import ConfigError, ModelConfig, model_configs, prometheus_path
from tf_json import ServingError, columns_tensor, debug_json, parse_error, rows_tensor

PORT = int(os.environ.get("PORT", "8501"))
MODEL_NAME = os.environ.get("MODEL_NAME", "my_model")
BASE_PATH = Path(os.environ.get("MODEL_BASE_PATH", "/models"))
REPLICA = socket.gethostname()
SIDE, CHANNELS, CLASSES = 224, 3, 10
INPUT, OUTPUT, SIGNATURE = "input_1", "dense", "serving_default"
MAX_BODY = 256 * 1024 * 1024


def dim(size: int) -> dict[str, str]:
    return {"size": str(size), "name": ""}


def metadata(model: Model) -> dict:  # a version's own input side (side.txt, else 224)
    side = model.side
    return {
        "model_spec": {"name": model.name, "signature_name": "", "version": model.version},
        "metadata": {
            "signature_def": {
                "signature_def": {
                    SIGNATURE: {
                        "inputs": {
                            INPUT: {
                                "dtype": "DT_FLOAT",
                                "tensor_shape": {
                                    "dim": [dim(-1), dim(side), dim(side), dim(CHANNELS)],
                                    "unknown_rank": False,
                                },
                                "name": f"serving_default_{INPUT}:0",
                            }
                        },
                        "outputs": {
                            OUTPUT: {
                                "dtype": "DT_FLOAT",
                                "tensor_shape": {
                                    "dim": [dim(-1), dim(CLASSES)],
                                    "unknown_rank": False,
                                },
                                "name": "StatefulPartitionedCall:0",
                            }
                        },
                        "method_name": "tensorflow/serving/predict",
                    },
                    "__saved_model_init_op": {
                        "inputs": {},
                        "outputs": {
                            "__saved_model_init_op": {
                                "dtype": "DT_INVALID",
                                "tensor_shape": {"dim": [], "unknown_rank": True},
                                "name": "NoOp",
                            }
                        },
                        "method_name": "",
                    },
                }
            }
        },
    }


def model_input(tensor: np.ndarray, side: int = SIDE) -> np.ndarray:
    """The Keras graph's own check: [n, 224, 224, 3] (or one image, [224, 224, 3])."""
    if tensor.ndim not in (3, 4) or tensor.shape[-3:] != (side, side, CHANNELS):
        raise ServingError(
            400,
            f"Input to reshape is a tensor with {tensor.size} values, but the requested "
            f"shape requires a multiple of {side * side * CHANNELS}\n\t [[{{{{node model/flatten/Reshape}}}}]]",
        )
    return tensor if tensor.ndim == 4 else tensor[None]


def clean(values: np.ndarray) -> list:
    """Floats as JSON allows them; TF Serving writes NaN and Infinity literally, as json does."""
    return [[float(x) for x in row] for row in values]


# ---- HTTP, routed as tensorflow_serving/model_servers/http_server.cc and
# http_rest_api_handler.cc / http_rest_api_util.cc route it ----

REST_PATH = re.compile(r"/v1/.*", re.IGNORECASE)  # kHTTPRestApiHandlerPathRegex
PREDICT_PATH = re.compile(  # kPredictionApiGegex
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)",
    re.IGNORECASE,
)
STATUS_PATH = re.compile(  # kModelStatusApiRegex
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
    re.IGNORECASE,
)
# libevent's evhttp_send_error page: TF Serving answers it for a path outside /v1/
EVHTTP_PAGE = "<HTML><HEAD>\n<TITLE>{code} {reason}</TITLE>\n</HEAD><BODY>\n<H1>{reason}</H1>\n</BODY></HTML>\n"
REASONS = {400: "Bad Request", 404: "Not Found", 413: "Request Entity Too Large"}


class HttpError(Exception):
    """An answer from the HTTP layer under the handler: an HTML page, then close."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mltui-demo-serving"
    registry: Registry
    metrics = Metrics()
    metrics_path: str | None = None

    def log_message(self, fmt: str, *args: object) -> None:  # one line per request, below
        pass

    def _send(self, code: int, data: bytes, content_type: str, close: bool = False) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Replica", REPLICA)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _route(self) -> None:
        started = time.perf_counter()
        # the request target as sent (http.server folds a leading // into /), less its query
        target = self.requestline.split(" ")[1] if self.requestline.count(" ") >= 2 else self.path
        method, path = self.command, target.split("?", 1)[0]
        try:
            if self.metrics_path is not None and path == self.metrics_path:
                # http_server.cc ProcessPrometheusRequest: the page, as text/plain
                self._read_body()
                code = 200
                self._send(code, self.metrics.page().encode(), "text/plain")
                took = (time.perf_counter() - started) * 1000
                log("I", "http_server.cc:0", f"{method} {self.path} {code} {took:.1f}ms")
                return
            if not REST_PATH.fullmatch(path):
                self._read_body()
                raise HttpError(404)
            code, body = self._answer(method, path, self._read_body())
            data = json.dumps(body, indent=4 if code == 200 and "metadata" in body else None)
            self._send(code, data.encode(), "application/json")
        except ServingError as exc:  # MakeJsonFromStatus: a pretty-printed {"error": ...}
            code = exc.status
            self._send(
                code, json.dumps({"error": exc.message}, indent=4).encode(), "application/json"
            )
        except HttpError as exc:
            code = exc.status
            page = EVHTTP_PAGE.format(code=code, reason=REASONS[code])
            self._send(code, page.encode(), "text/html; charset=ISO-8859-1", close=True)
        except Exception as exc:  # the server keeps serving whatever one request does
            code = 500
            self._send(code, json.dumps({"error": f"Internal: {exc}"}).encode(), "application/json")
        took = (time.perf_counter() - started) * 1000
        log("I", "http_server.cc:0", f"{method} {self.path} {code} {took:.1f}ms")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _route

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunks()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise HttpError(400) from None
        if size < 0:
            raise HttpError(400)
        if size > MAX_BODY:  # the demo's bound (libevent's max_body_size)
            raise HttpError(413)
        return self.rfile.read(size)

    def _read_chunks(self) -> bytes:
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise HttpError(400) from None
            total += size
            if total > MAX_BODY:
                raise HttpError(413)
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _answer(self, method: str, path: str, body: bytes) -> tuple[int, dict]:
        malformed = ServingError(400, f"Malformed request: {method} {path}")
        pattern = {"POST": PREDICT_PATH, "GET": STATUS_PATH}.get(method)
        match = pattern.fullmatch(path) if pattern else None
        if not match:
            raise malformed
        name, version, label, verb = match.groups()
        name = urllib.parse.unquote(name or "")
        label = None if label is None else urllib.parse.unquote(label)
        if version is not None and int(version) >= 2**63:
            raise ServingError(400, f"Failed to convert version: {version} to numeric.")
        if method == "GET":
            if not name:
                raise ServingError(400, "Missing model name in request.")
            if verb == "metadata":
                return 200, metadata(self._servable(name, version, label))
            return 200, self._status(name, version)
        if verb == "predict":
            return 200, self._counted(name, version, label, body)
        if verb in ("classify", "regress"):
            return self._classify(verb, name, version, label, body)
        raise malformed  # a method name in other case: matched, but not dispatched

    def _status(self, name: str, version: str | None) -> dict:
        return self.registry.status(name, version)

    def _servable(self, name: str, version: str | None, label: str | None) -> Model:
        return self.registry.servable(name, version, label)

    def _parse(self, raw: bytes) -> dict:
        """ParseJson: rapidjson in place (NaN and Infinity allowed, trailing bytes ignored)."""
        if not raw:
            raise ServingError(400, "JSON Parse error: The document is empty")
        text = raw.decode("utf-8", "surrogateescape")
        try:
            request, _end = json.JSONDecoder().raw_decode(text, len(text) - len(text.lstrip()))
        except json.JSONDecodeError as exc:
            raise ServingError(400, parse_error(text, exc)) from None
        if not isinstance(request, dict):
            raise ServingError(400, f"JSON Value: {debug_json(request)} Is not object")
        return request

    def _classify(
        self, verb: str, name: str, version: str | None, label: str | None, raw: bytes
    ) -> tuple[int, dict]:
        request = self._parse(raw)
        examples = request.get("examples")
        if "examples" not in request:
            message = "When method is classify, key 'examples' is expected and was not found"
        elif not isinstance(examples, list):
            message = "Expecting 'examples' value to be an list/array"
        elif not examples:
            message = "'examples' value is an empty array"
        else:
            self._servable(name, version, label)
            kind = "classification" if verb == "classify" else "regression"
            raise ServingError(
                400,
                f"Expected {kind} signature method_name to be tensorflow/serving/{verb}. "
                "Was: tensorflow/serving/predict",
            )
        raise ServingError(400, f"JSON Value: {debug_json(request)} {message}")

    def _counted(self, name: str, version: str | None, label: str | None, raw: bytes) -> dict:
        """A predict request, counted on the metrics page once its servable is found
        (request_count by status code name; request_latency in microseconds)."""
        started = time.perf_counter()
        self._servable(name, version, label)  # not found: not counted
        status = "OK"
        try:
            return self._predict(name, version, label, raw)
        except ServingError as exc:
            status = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND"}.get(exc.status, "UNKNOWN")
            raise
        finally:
            micros = (time.perf_counter() - started) * 1e6
            self.metrics.request(name, status, "predict", micros)

    def _predict(self, name: str, version: str | None, label: str | None, raw: bytes) -> dict:
        """FillPredictRequestFromJson, then the model."""
        request = self._parse(raw)
        exact = b"true" in raw or b"false" in raw  # a bool, which numpy would take for 0 or 1
        signature = request.get("signature_name", "")
        if not isinstance(signature, str):
            raise ServingError(
                400,
                f"JSON Value: {debug_json(request)} not formatted correctly. "
                "'signature_name' key must be a string value.",
            )
        model = self._servable(name, version, label)
        if (signature or SIGNATURE) != SIGNATURE:
            raise ServingError(
                400, f'Serving signature name: "{signature}" not found in signature def'
            )
        has_rows, has_cols = "instances" in request, "inputs" in request
        if has_rows and has_cols:
            raise ServingError(
                400,
                f"JSON Value: {debug_json(request)} Not formatted correctly expecting only one "
                "of 'inputs' or 'instances' keys to exist ",
            )
        if has_rows:
            if not isinstance(request["instances"], list):
                raise ServingError(
                    400,
                    f"JSON Value: {debug_json(request)} Expecting 'instances' to be an list/array",
                )
            if not request["instances"]:
                raise ServingError(
                    400, f"JSON Value: {debug_json(request)} No values in 'instances' array"
                )
            tensor = rows_tensor(request, INPUT, exact)
        elif has_cols:
            tensor = columns_tensor(request, INPUT, exact)
        else:
            raise ServingError(400, "Missing 'inputs' or 'instances' key")
        tensor = model_input(tensor, model.side)
        if not np.isfinite(tensor).all():
            bad = int((~np.isfinite(tensor)).sum())
            log(
                "W",
                "predict_util.cc:0",
                f"{bad} non-finite input values: the predictions will hold NaN",
            )
        out = clean(model.predict(tensor))
        return {"predictions": out} if has_rows else {"outputs": out}


def _flag(argv: list[str], name: str) -> str | None:
    for arg in argv:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return None


def configure(argv: list[str]) -> tuple[list[ModelConfig], str | None]:
    """The model server's flags, as tensorflow_model_server takes them."""
    config_file = _flag(argv, "model_config_file")
    monitoring_file = _flag(argv, "monitoring_config_file")
    try:
        if config_file:
            configs = model_configs(Path(config_file).read_text())
        else:
            configs = [ModelConfig(MODEL_NAME, str(BASE_PATH / MODEL_NAME))]
        path = prometheus_path(Path(monitoring_file).read_text()) if monitoring_file else None
    except (OSError, ConfigError) as exc:
        raise SystemExit(f"Failed to read a config file: {exc}") from None
    return configs, path


def main() -> None:
    configs, Handler.metrics_path = configure(sys.argv[1:])
    Handler.registry = Registry(load(configs))
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    server.daemon_threads = True
    held = ", ".join(
        f"{name} versions {','.join(map(str, served.versions)) or 'none'}"
        + (f" labels {served.labels}" if served.labels else "")
        for name, served in Handler.registry.models.items()
    )
    log("I", "demo_server.py:0", f"replica {REPLICA} serves {held} over REST only (no gRPC)")
    if Handler.metrics_path:
        log("I", "demo_server.py:0", f"Prometheus metrics at {Handler.metrics_path}")
    log(
        "I",
        "tensorflow_serving/model_servers/server.cc:450",
        f"Exporting HTTP/REST API at:localhost:{PORT} ...",
    )

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval=0.2)
    log("I", "server.cc:0", "stopped")


if __name__ == "__main__":
    main()
