"""A model server that speaks the TensorFlow Serving REST API (port 8501).

No TensorFlow Serving binary can be had without a registry, so the demo serves
its digit classifier with this: model status, metadata with a signature_def,
predict in row ("instances") and column ("inputs") form, and `{"error": ...}`
bodies with TF Serving's HTTP codes, plus the same readiness log lines. The
signature is the one of the reference stack's Keras model: `input_1`,
DT_FLOAT [-1, 224, 224, 3] in 0..1, output class probabilities [-1, 10].

Each response names the replica that answered in an `X-Replica` header.
Only numpy is needed at run time.
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

PORT = int(os.environ.get("PORT", "8501"))
MODEL_NAME = os.environ.get("MODEL_NAME", "my_model")
BASE_PATH = Path(os.environ.get("MODEL_BASE_PATH", "/models"))
REPLICA = socket.gethostname()
SIDE, CHANNELS, CLASSES = 224, 3, 10
INPUT, OUTPUT, SIGNATURE = "input_1", "dense", "serving_default"
PER_IMAGE = SIDE * SIDE * CHANNELS
MAX_BODY = 256 * 1024 * 1024


def log(level: str, where: str, message: str) -> None:
    now = time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}"
    sys.stdout.write(f"{stamp}: {level} {where}] {message}\n")
    sys.stdout.flush()


class ServingError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Model:
    def __init__(self, name: str, version: str, folder: Path) -> None:
        data = np.load(folder / "weights.npz")
        self.name = name
        self.version = version
        self.coef = data["coef"].astype(np.float64)  # [10, 64]
        self.intercept = data["intercept"].astype(np.float64)  # [10]

    def predict(self, images: np.ndarray) -> np.ndarray:
        """[n, 224, 224, 3] in 0..1 -> [n, 10] class probabilities."""
        gray = images.mean(axis=3)
        # 224 = 8 * 28: average each 28x28 block back to the data set's 8x8, range 0..16
        small = gray.reshape(len(images), 8, 28, 8, 28).mean(axis=(2, 4)) * 16.0
        logits = small.reshape(len(images), 64) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        expd = np.exp(logits)
        return expd / expd.sum(axis=1, keepdims=True)


def load_model() -> Model:
    folder = BASE_PATH / MODEL_NAME
    versions = sorted((p for p in folder.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    if not versions:
        raise SystemExit(f"no versions of {MODEL_NAME} under {folder}")
    latest = versions[-1]
    log(
        "I",
        "tensorflow_serving/core/loader_harness.cc:66",
        f"Approving load for servable version {{name: {MODEL_NAME} version: {latest.name}}}",
    )
    model = Model(MODEL_NAME, latest.name, latest)
    log(
        "I",
        "tensorflow_serving/core/loader_harness.cc:95",
        f"Successfully loaded servable version {{name: {MODEL_NAME} version: {latest.name}}}",
    )
    return model


def dim(size: int) -> dict[str, str]:
    return {"size": str(size), "name": ""}


def metadata(model: Model) -> dict:
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
                                    "dim": [dim(-1), dim(SIDE), dim(SIDE), dim(CHANNELS)],
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


def status(model: Model) -> dict:
    return {
        "model_version_status": [
            {
                "version": model.version,
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


def to_tensor(value: object, what: str) -> np.ndarray:
    """JSON value -> float tensor [n, 224, 224, 3], or a ServingError with TF Serving's wording."""
    if isinstance(value, dict):
        if "b64" in value:
            raise ServingError(
                400,
                f"JSON Value: {{\"b64\": ...}} Type: Object is not of expected type: float (input '{INPUT}' is DT_FLOAT)",
            )
        if set(value) != {INPUT}:
            raise ServingError(
                400,
                f"Failed to process element: 0 key: {sorted(value)[0] if value else ''} of '{what}' list. Error: Invalid argument: JSON object: does not have named input: {sorted(value)[0] if value else ''}",
            )
        value = value[INPUT]
    try:
        tensor = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise ServingError(
            400, f"Failed to process element: 0 of '{what}' list. Error: Invalid argument: {exc}"
        ) from None
    if tensor.dtype == object or tensor.ndim == 0:
        raise ServingError(
            400, f"Failed to process '{what}': the tensor is not a nested list of numbers"
        )
    if (
        tensor.size % PER_IMAGE != 0
        or tensor.ndim not in (3, 4)
        or tensor.shape[-3:] != (SIDE, SIDE, CHANNELS)
    ):
        raise ServingError(
            400,
            f"Input to reshape is a tensor with {tensor.size} values, but the requested shape requires a multiple of {PER_IMAGE}\n\t [[{{{{node model/flatten/Reshape}}}}]]",
        )
    if tensor.ndim == 3:
        tensor = tensor[None]
    return tensor


def clean(values: np.ndarray) -> list:
    """Floats as JSON allows them; TF Serving writes NaN and Infinity literally, as json does."""
    return [[float(x) for x in row] for row in values]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mltui-demo-serving"
    model: Model

    def log_message(self, fmt: str, *args: object) -> None:  # one line per request, below
        pass

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body, indent=4 if code == 200 and "metadata" in body else None).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Replica", REPLICA)
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        started = time.perf_counter()
        code = 500
        try:
            code, body = self._answer(method)
        except ServingError as exc:
            code, body = exc.status, {"error": exc.message}
        except Exception as exc:  # the server keeps serving whatever one request does
            code, body = 500, {"error": f"Internal: {exc}"}
        self._send(code, body)
        took = (time.perf_counter() - started) * 1000
        log("I", "http_server.cc:0", f"{method} {self.path} {code} {took:.1f}ms")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _model_for(self, name: str, version: str | None, label: str | None) -> Model:
        model = self.model
        if name != model.name:
            wanted = f"Specific({name}, {version})" if version else f"Latest({name})"
            raise ServingError(404, f"Servable not found for request: {wanted}")
        if label is not None:
            raise ServingError(404, f"Unrecognized servable version label: {label}")
        if version is not None and version != model.version:
            raise ServingError(404, f"Servable not found for request: Specific({name}, {version})")
        return model

    PATH = re.compile(
        r"^/v1/models/([^/:]+)(?:/versions/(\d+)|/labels/([^/:]+))?(/metadata|:predict|:classify|:regress)?$"
    )

    def _answer(self, method: str) -> tuple[int, dict]:
        match = self.PATH.match(self.path.split("?", 1)[0])
        if not match:
            if method == "POST":
                self._read_body()
            raise ServingError(404, f"Malformed request: {method} {self.path}")
        name, version, label, verb = match.groups()
        if method == "GET":
            model = self._model_for(name, version, label)
            if verb is None:
                return 200, status(model)
            if verb == "/metadata":
                return 200, metadata(model)
            raise ServingError(405, f"Malformed request: GET {self.path}")
        body = self._read_body()
        if verb != ":predict":
            raise ServingError(400, f"Malformed request: POST {self.path}")
        model = self._model_for(name, version, label)
        return 200, self._predict(model, body)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            raise ServingError(411, "Content-Length required")
        try:
            size = int(length)
        except ValueError:
            raise ServingError(400, "Malformed Content-Length") from None
        if size < 0 or size > MAX_BODY:
            raise ServingError(
                413, f"Request body of {size} bytes is over the {MAX_BODY} byte limit"
            )
        return self.rfile.read(size)

    def _predict(self, model: Model, raw: bytes) -> dict:
        try:
            request = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ServingError(400, f"JSON Parse error: {exc}") from None
        if not isinstance(request, dict):
            raise ServingError(400, "JSON Value: is not an object")
        signature = request.get("signature_name") or SIGNATURE
        if signature != SIGNATURE:
            raise ServingError(
                400, f'Serving signature name: "{signature}" not found in signature def'
            )
        has_rows, has_cols = "instances" in request, "inputs" in request
        if has_rows and has_cols:
            raise ServingError(
                400, "Not both 'instances' and 'inputs' can be specified at the same time"
            )
        if not (has_rows or has_cols):
            raise ServingError(400, "Missing 'inputs' or 'instances' key")
        if has_rows:
            rows = request["instances"]
            if not isinstance(rows, list) or not rows:
                raise ServingError(400, "Expecting 'instances' to be an list/array")
            tensor = (
                np.concatenate([to_tensor(row, "instances") for row in rows])
                if isinstance(rows[0], dict)
                else to_tensor(rows, "instances")
            )
        else:
            tensor = to_tensor(request["inputs"], "inputs")
        if not np.isfinite(tensor).all():
            bad = int((~np.isfinite(tensor)).sum())
            log(
                "W",
                "predict_util.cc:0",
                f"{bad} non-finite input values: the predictions will hold NaN",
            )
        probabilities = model.predict(tensor)
        out = clean(probabilities)
        return {"predictions": out} if has_rows else {"outputs": out}


def main() -> None:
    Handler.model = load_model()
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    server.daemon_threads = True
    log(
        "I",
        "demo_server.py:0",
        f"replica {REPLICA} serves {Handler.model.name} version {Handler.model.version} over REST only (no gRPC)",
    )
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
