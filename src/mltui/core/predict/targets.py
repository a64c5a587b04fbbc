"""One version of a model picked for a run: ``--version N`` or ``--label L``.

TF Serving: ``GET /v1/models/M/versions/N`` says whether version N is loaded and
in which state, ``/versions/N/metadata`` gives its own signature (two versions
may differ), and a label is resolved through ``/labels/L/metadata`` (the status
call ignores labels; the metadata call resolves them as predict does). Open
Inference V2: ``/v2/models/M/versions/V``. KServe V1 has no versions. Each
problem is one sentence in :class:`PredictError`: a version that is not loaded
(with the server's 404 message), still loading, or failed (with its error), a
label the server does not know.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote

from ..textsafe import safe_text
from .protocols import PredictError, ServedModel, get_json
from .signatures import said, tf_signature, v2_signature

__all__ = ["detect_target", "state_problem"]

MAX_TARGET = 200


def _error(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return safe_text(error, 300).strip() if isinstance(error, str) else ""


def state_problem(status: Any) -> str:
    """Why one ``model_version_status`` entry cannot answer ("" when AVAILABLE)."""
    if not isinstance(status, dict):
        return "the server gave no state for it"
    state = said(status.get("state"), 40) or "UNKNOWN"
    if state == "AVAILABLE":
        return ""
    inner = status.get("status")
    code = said(inner.get("error_code"), 40) if isinstance(inner, dict) else ""
    message = said(inner.get("error_message"), 300) if isinstance(inner, dict) else ""
    failed = code not in ("", "OK", "0")
    if failed:
        return f"it failed to load ({state}): {code} {message}".rstrip()
    if state in ("START", "LOADING"):
        return f"it is {state}, not yet AVAILABLE: try again when it has loaded"
    return f"it is {state}, not AVAILABLE" + (f": {message}" if message else "")


def _check_text(value: str, what: str) -> str:
    if not value or len(value) > MAX_TARGET or safe_text(value, MAX_TARGET) != value:
        raise PredictError(f"{what} {safe_text(value, 60)!r}: not a usable name")
    return value


def detect_target(
    base: ServedModel,
    version: str,
    label: str,
    shape: tuple[int, int, int] | None,
    session: Any,
    timeout: float,
) -> ServedModel:
    """``base`` (what :func:`~.protocols.detect` found) narrowed to one version."""
    if version and label:
        raise PredictError("give --version or --label, not both")
    url, model = base.url, base.model
    name = quote(model, safe="")
    what = f"model {safe_text(model, 80)!r} at {safe_text(url, 200)}"
    if base.protocol == "kserve-v1":
        raise PredictError(
            f"{what}: KServe V1 serves one model under one name, with no versions or labels"
        )
    if base.protocol == "v2":
        if label:
            raise PredictError(
                f"{what}: the Open Inference Protocol has no version labels; give --version"
            )
        version = _check_text(version, "version")
        code, body = get_json(
            session, f"{url}/v2/models/{name}/versions/{quote(version, safe='')}", timeout
        )
        if code != 200 or not isinstance(body, dict):
            said_ = _error(body)
            raise PredictError(
                f"{what}: version {safe_text(version, 40)} is not served"
                + (f": {code} {said_}" if said_ else f" (HTTP {code})")
            )
        signature, outputs = v2_signature(body, shape)
        return dataclasses.replace(
            base, version=version, signature=signature, outputs=outputs, versions=(version,)
        )
    if label:
        label = _check_text(label, "label")
        path = f"{url}/v1/models/{name}/labels/{quote(label, safe='')}/metadata"
        code, meta = get_json(session, path, timeout)
        if code != 200:
            said_ = _error(meta)
            raise PredictError(
                f"{what}: label {safe_text(label, 60)!r} does not name a version the server "
                "can serve" + (f": {code} {said_}" if said_ else f" (HTTP {code})")
            )
        version = said(
            meta.get("model_spec", {}).get("version") if isinstance(meta, dict) else None, 40
        )
        signature, outputs = tf_signature(meta, shape)
        return dataclasses.replace(
            base, label=label, version=version, signature=signature, outputs=outputs,
            versions=(version,) if version else base.versions,
        )  # fmt: skip
    if not version.isdigit() or len(version) > 19:
        raise PredictError(f"--version {safe_text(version, 40)!r}: TF Serving versions are numbers")
    code, body = get_json(session, f"{url}/v1/models/{name}/versions/{version}", timeout)
    if code != 200 or not isinstance(body, dict):
        said_ = _error(body)
        raise PredictError(
            f"{what}: version {version} is not loaded"
            + (f": {code} {said_}" if said_ else f" (HTTP {code})")
            + (f"; the server holds {', '.join(base.versions)}" if base.versions else "")
        )
    statuses = body.get("model_version_status")
    entry = statuses[0] if isinstance(statuses, list) and statuses else None
    problem = state_problem(entry)
    if problem:
        raise PredictError(f"{what}: version {version}: {problem}")
    _code, meta = get_json(session, f"{url}/v1/models/{name}/versions/{version}/metadata", timeout)
    signature, outputs = tf_signature(meta, shape)
    state = said(entry.get("state"), 40) if isinstance(entry, dict) else ""
    return dataclasses.replace(
        base, version=version, signature=signature, outputs=outputs, state=state,
        versions=(version,),
    )  # fmt: skip
