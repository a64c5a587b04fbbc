"""Which protocol a model server speaks, its model's state and input signature.

TensorFlow Serving REST (``/v1/models/{m}``, status and metadata), KServe V1 (the
same predict shape, a ``{"name","ready"}`` status) and the Open Inference Protocol
V2 (``/v2/models/{m}``). The signature (input name, dtype, shape) drives how
images are prepared and encoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..textsafe import safe_text
from .answers import MAX_STATUS_BYTES, AnswerProblem, parse_json, read_body
from .signatures import (
    DEFAULT_SHAPE,
    MAX_NAMES,
    PredictError,
    Signature,
    check_shape,
    said,
    tf_signature,
    v2_signature,
)

__all__ = [
    "DEFAULT_SHAPE",
    "PredictError",
    "ServedModel",
    "Signature",
    "detect",
    "get_json",
    "model_name_of",
    "net_reason",
]


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
    outputs: tuple[str, ...] = ()  # the signature's outputs, when the metadata names them
    version: str = ""  # the version asked for (--version), or the one a label named
    label: str = ""  # the label asked for (--label)

    @property
    def predict_url(self) -> str:
        name = quote(self.model, safe="")
        if self.protocol == "v2":
            if self.version:
                return f"{self.url}/v2/models/{name}/versions/{quote(self.version, safe='')}/infer"
            return f"{self.url}/v2/models/{name}/infer"
        if self.label:
            return f"{self.url}/v1/models/{name}/labels/{quote(self.label, safe='')}:predict"
        if self.version:
            return f"{self.url}/v1/models/{name}/versions/{quote(self.version, safe='')}:predict"
        return f"{self.url}/v1/models/{name}:predict"

    @property
    def answering(self) -> str:
        """Which version answers: the one asked for, the one a label names, else the
        latest the server reported ("" when it reported none)."""
        if self.version:
            return self.version
        if self.protocol == "tfserving" and self.versions:
            states = self.state.split(",")
            if len(states) == len(self.versions):  # TF Serving answers with the latest loaded
                loaded = [v for v, s in zip(self.versions, states, strict=True) if s == "AVAILABLE"]
            else:
                loaded = list(self.versions)
            numeric = [v for v in loaded if v.isdigit()]
            return max(numeric, key=int) if numeric else (loaded or [""])[0]
        return ""

    @property
    def target(self) -> str:
        """The choice in words: "label canary (version 2)", "version 2", "latest"."""
        if self.label:
            return f"label {self.label}" + (f" (version {self.version})" if self.version else "")
        if self.version:
            return f"version {self.version}"
        return "latest" + (f" (version {self.answering})" if self.answering else "")


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


def get_json(session: Any, url: str, timeout: float) -> tuple[int, Any]:
    """(status, JSON body or None) of a GET; PredictError when no (whole) answer came."""
    import time

    import requests

    try:
        with session.get(url, timeout=timeout, stream=True) as answer:
            body = read_body(answer, MAX_STATUS_BYTES, time.monotonic() + timeout)
            code = int(answer.status_code)
    except requests.RequestException as exc:
        raise PredictError(f"{safe_text(url, 200)}: {net_reason(exc)}") from None
    except AnswerProblem as exc:
        raise PredictError(f"{safe_text(url, 200)}: {exc.message}") from None
    try:
        return code, parse_json(body)
    except AnswerProblem:
        return code, None


def detect(
    url: str,
    model: str,
    *,
    protocol: str = "auto",
    shape: tuple[int, int, int] | None = None,
    session: Any = None,
    timeout: float = 5.0,
    version: str = "",
    label: str = "",
) -> ServedModel:
    """Which protocol the server speaks, the model's state and signature.

    ``version`` or ``label`` picks one version of the model (its own signature,
    its own predict URL); see :mod:`.targets`. Whatever the server answers, this
    returns a :class:`ServedModel` whose every text is safe to show, or raises
    :class:`PredictError` with one sentence."""
    import requests

    session = session or requests.Session()
    url = url.rstrip("/")
    name = quote(model, safe="")
    what = f"model {safe_text(model, 80)!r} at {safe_text(url, 200)}"
    if shape is not None:
        check_shape(shape, "--shape")
    if version or label:
        from .targets import detect_target

        base = detect(url, model, protocol=protocol, shape=shape, session=session, timeout=timeout)
        return detect_target(base, version, label, shape, session, timeout)
    v1_problem = ""  # what a V1 server said of the model, kept if V2 says nothing better
    if protocol in ("auto", "tfserving", "kserve-v1"):
        code, body = get_json(session, f"{url}/v1/models/{name}", timeout)
        if code == 200 and isinstance(body, dict) and "model_version_status" in body:
            statuses = body["model_version_status"]
            if not isinstance(statuses, list):
                raise PredictError(f"{what}: the model status is not a list of versions")
            statuses = [s for s in statuses[:MAX_NAMES] if isinstance(s, dict)]
            versions = tuple(said(s.get("version"), 40) for s in statuses)
            state = said(",".join(said(s.get("state"), 40) for s in statuses))
            _code, meta = get_json(session, f"{url}/v1/models/{name}/metadata", timeout)
            signature, outputs = tf_signature(meta, shape)
            return ServedModel(url, model, "tfserving", versions, state, signature, outputs)
        if code == 200 and isinstance(body, dict) and "ready" in body:
            state = "ready" if body.get("ready") is True else "not ready"
            return ServedModel(
                url,
                model,
                "kserve-v1",
                (),
                state,
                Signature(shape=shape or DEFAULT_SHAPE, source="option" if shape else "default"),
            )
        if protocol != "auto":
            raise PredictError(_status_problem(code, body, what))
        if _said_error(body):
            v1_problem = _status_problem(code, body, what)
    code, body = get_json(session, f"{url}/v2/models/{name}", timeout)
    if code == 200 and isinstance(body, dict):
        raw = body.get("versions")
        versions = tuple(said(v, 40) for v in raw[:MAX_NAMES]) if isinstance(raw, list) else ()
        signature, outputs = v2_signature(body, shape)
        return ServedModel(url, model, "v2", versions, "ready", signature, outputs)
    if v1_problem and not _said_error(body):
        # a TF Serving or KServe V1 server's own words ("Could not find any versions of
        # model x"), not the HTML 404 page it gives for the V2 path it does not serve
        raise PredictError(v1_problem)
    raise PredictError(_status_problem(code, body, what))


def _said_error(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, str) and bool(safe_text(error, 200).strip())


def _status_problem(code: int, body: Any, what: str) -> str:
    if _said_error(body):
        return f"{what}: {code} {safe_text(body['error'], 200)}"
    return f"{what}: the server answered {code} and no known model status"
