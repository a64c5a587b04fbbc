"""Which protocol a model server speaks, its model's state and input signature.

TensorFlow Serving REST (``/v1/models/{m}``, status and metadata), KServe V1 (the
same predict shape, a ``{"name","ready"}`` status) and the Open Inference Protocol
V2 (``/v2/models/{m}``). The signature (input name, dtype, shape) drives how
images are prepared and encoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_SHAPE = (224, 224, 3)  # the article's model: float 0..1


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
class ServedModel:
    """One model as a server serves it: where, by which protocol, its versions,
    state and input signature (what :func:`detect` found)."""

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


def model_name_of(engine: Any, container_id: str, default: str = "my_model") -> str:
    """MODEL_NAME from a serving container's environment (TF Serving images read
    it), else ``default``."""
    from ..engine import EngineError

    try:
        config = engine.inspect_container(container_id).get("Config") or {}
    except EngineError:
        return default
    env = config.get("Env") if isinstance(config, dict) else None
    for item in env if isinstance(env, list) else []:
        if isinstance(item, str) and item.startswith("MODEL_NAME=") and len(item) > 11:
            return item[11:]
    return default


def net_reason(exc: BaseException) -> str:
    """A request that got no answer, in words."""
    import requests

    if isinstance(exc, requests.Timeout):
        return "no answer in time (timeout)"
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or reset: is the server running, is the port published?"
    return type(exc).__name__


def _get_json(session: Any, url: str, timeout: float) -> tuple[int, Any]:
    import requests

    try:
        answer = session.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise PredictError(f"{url}: {net_reason(exc)}") from None
    try:
        return answer.status_code, answer.json()
    except ValueError:
        return answer.status_code, None


def detect(
    url: str,
    model: str,
    *,
    protocol: str = "auto",
    shape: tuple[int, int, int] | None = None,
    session: Any = None,
    timeout: float = 5.0,
) -> ServedModel:
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
            return ServedModel(url, model, "tfserving", versions, state, signature)
        if code == 200 and isinstance(body, dict) and "ready" in body:
            state = "ready" if body.get("ready") else "not ready"
            return ServedModel(
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
        return ServedModel(
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


def _v2_signature(body: dict[str, Any], shape: tuple[int, int, int] | None) -> Signature:
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
