"""What a model server holds of one model: versions, states, signatures, labels.

TensorFlow Serving REST: ``GET /v1/models/M`` lists every version with its state
(START, LOADING, AVAILABLE, UNLOADING, END) and the error of a failed load;
``/v1/models/M/versions/N/metadata`` gives each version's signature; a label is
checked with ``/v1/models/M/labels/L/metadata`` (REST cannot list labels: they
come from the model config file, :mod:`.server_config`, or the user). KServe V1:
the model's readiness. Open Inference V2: ``/v2/models/M`` (versions),
``/v2/models/M/versions/V`` (metadata) and ``.../ready``. Everything a server
says is checked and kept as safe text; :func:`describe` returns a report or
raises :class:`PredictError` with one sentence when the URL is no model server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..textsafe import safe_text
from .protocols import PredictError, detect, get_json
from .signatures import MAX_NAMES, _tf_dims, dims_of, said
from .targets import state_problem

__all__ = [
    "LabelInfo",
    "ModelReport",
    "PredictError",
    "TensorSpec",
    "VersionInfo",
    "describe",
    "tensors",
]


@dataclass(frozen=True)
class TensorSpec:
    kind: str  # input | output
    name: str
    dtype: str
    shape: tuple[int, ...] | None  # -1: any; None: unknown rank


@dataclass(frozen=True)
class VersionInfo:
    version: str
    state: str  # TF Serving's state, or READY / NOT READY (V2)
    error_code: str = ""
    error_message: str = ""
    problem: str = ""  # why it cannot answer ("" when it can)
    signature: tuple[TensorSpec, ...] = ()
    signature_problem: str = ""


@dataclass(frozen=True)
class LabelInfo:
    label: str
    configured: str = ""  # the version the config file gives it ("" when the user named it)
    source: str = "config"  # config | option
    version: str = ""  # the version the server resolves it to
    problem: str = ""


@dataclass
class ModelReport:
    url: str
    model: str
    protocol: str
    state: str = ""
    versions: list[VersionInfo] = field(default_factory=list)
    labels: list[LabelInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def signatures_differ(self) -> bool:
        return len({v.signature for v in self.versions if v.signature}) > 1


def tensors(meta: Any, protocol: str) -> tuple[tuple[TensorSpec, ...], str]:
    """Inputs and outputs a metadata answer names (TF Serving's serving_default,
    else its first signature; V2's inputs and outputs), and a problem when it
    names none."""
    specs: list[TensorSpec] = []
    if protocol == "v2":
        for kind in ("input", "output"):
            items = meta.get(f"{kind}s") if isinstance(meta, dict) else None
            for item in items[:MAX_NAMES] if isinstance(items, list) else []:
                if isinstance(item, dict):
                    dims = dims_of(item.get("shape"))
                    specs.append(
                        TensorSpec(
                            kind,
                            said(item.get("name")),
                            said(item.get("datatype"), 40),
                            None if dims is None else tuple(dims),
                        )
                    )
    else:
        defs = meta
        for key in ("metadata", "signature_def", "signature_def"):
            defs = defs.get(key) if isinstance(defs, dict) else None
        sig = None
        if isinstance(defs, dict):
            sig = defs.get("serving_default")
            if not isinstance(sig, dict):
                sig = next((v for v in defs.values() if isinstance(v, dict)), None)
        for kind in ("input", "output"):
            items = sig.get(f"{kind}s") if isinstance(sig, dict) else None
            for name, spec in list(items.items())[:MAX_NAMES] if isinstance(items, dict) else []:
                if not isinstance(spec, dict):
                    continue
                shape = spec.get("tensor_shape")
                unknown = isinstance(shape, dict) and shape.get("unknown_rank") is True
                dims = None if unknown else _tf_dims(shape)
                specs.append(
                    TensorSpec(
                        kind,
                        said(name),
                        said(spec.get("dtype"), 40),
                        None if dims is None else tuple(dims),
                    )
                )
    if not specs:
        return (), "the server gave no signature it names inputs in"
    return tuple(specs), ""


def _error(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return safe_text(error, 300).strip() if isinstance(error, str) else ""


def _tf_versions(session: Any, url: str, name: str, timeout: float) -> list[VersionInfo]:
    _code, body = get_json(session, f"{url}/v1/models/{name}", timeout)
    statuses = body.get("model_version_status") if isinstance(body, dict) else None
    out = []
    for entry in statuses[:MAX_NAMES] if isinstance(statuses, list) else []:
        if not isinstance(entry, dict):
            continue
        version = said(entry.get("version"), 40)
        raw = entry.get("status")
        inner: dict[str, Any] = raw if isinstance(raw, dict) else {}
        info = VersionInfo(
            version,
            said(entry.get("state"), 40) or "UNKNOWN",
            said(inner.get("error_code"), 40),
            said(inner.get("error_message"), 300),
            state_problem(entry),
        )
        if not info.problem and version.isdigit():
            _c, meta = get_json(
                session, f"{url}/v1/models/{name}/versions/{version}/metadata", timeout
            )
            sig, problem = tensors(meta, "tfserving")
            info = dataclasses.replace(info, signature=sig, signature_problem=problem)
        out.append(info)
    return sorted(
        out,
        key=lambda v: (
            not v.version.isdigit(),
            -int(v.version) if v.version.isdigit() else 0,
            v.version,
        ),
    )


def _v2_versions(session: Any, url: str, name: str, timeout: float) -> list[VersionInfo]:
    _code, body = get_json(session, f"{url}/v2/models/{name}", timeout)
    raw = body.get("versions") if isinstance(body, dict) else None
    versions = [said(v, 40) for v in raw[:MAX_NAMES]] if isinstance(raw, list) else []
    out = []
    if not versions:  # a server that names no versions: the model itself
        ready, _ = get_json(session, f"{url}/v2/models/{name}/ready", timeout)
        sig, problem = tensors(body, "v2")
        state = "READY" if ready == 200 else "NOT READY"
        return [VersionInfo("", state, problem="" if ready == 200 else f"not ready ({ready})",
                            signature=sig, signature_problem=problem)]  # fmt: skip
    for version in versions:
        base = f"{url}/v2/models/{name}/versions/{quote(version, safe='')}"
        ready, rbody = get_json(session, f"{base}/ready", timeout)
        code, meta = get_json(session, base, timeout)
        sig, problem = tensors(meta, "v2") if code == 200 else ((), _error(meta) or f"HTTP {code}")
        said_ = _error(rbody)
        out.append(
            VersionInfo(
                version,
                "READY" if ready == 200 else "NOT READY",
                problem=""
                if ready == 200
                else f"not ready ({ready}{': ' + said_ if said_ else ''})",
                signature=sig,
                signature_problem=problem,
            )
        )
    return out


def _check_label(session: Any, url: str, name: str, label: LabelInfo, timeout: float) -> LabelInfo:
    path = f"{url}/v1/models/{name}/labels/{quote(label.label, safe='')}/metadata"
    code, meta = get_json(session, path, timeout)
    if code == 200:
        spec = meta.get("model_spec") if isinstance(meta, dict) else None
        version = said(spec.get("version"), 40) if isinstance(spec, dict) else ""
        problem = ""
        if label.configured and version and version != label.configured:
            problem = f"the config file gives version {label.configured}, the server {version}"
        return LabelInfo(label.label, label.configured, label.source, version, problem)
    said_ = _error(meta)
    problem = "the server does not serve this label" + (
        f": {code} {said_}" if said_ else f" (HTTP {code})"
    )
    return LabelInfo(label.label, label.configured, label.source, "", problem)


def describe(
    url: str,
    model: str,
    *,
    protocol: str = "auto",
    config_labels: Sequence[tuple[str, str]] = (),
    labels: Sequence[str] = (),
    session: Any = None,
    timeout: float = 5.0,
) -> ModelReport:
    """The model's versions, their states and signatures, and its labels:
    ``config_labels`` (label, version) from the config file and ``labels`` the
    user names, each checked against the server."""
    import requests

    session = session or requests.Session()
    served = detect(url, model, protocol=protocol, session=session, timeout=timeout)
    url, name = served.url, quote(model, safe="")
    report = ModelReport(url, model, served.protocol, served.state)
    if served.protocol == "tfserving":
        report.versions = _tf_versions(session, url, name, timeout)
    elif served.protocol == "v2":
        report.versions = _v2_versions(session, url, name, timeout)
    else:
        report.notes.append("KServe V1 serves one model under one name: no versions or labels")
    wanted = [LabelInfo(safe_text(lb, 120), safe_text(v, 40)) for lb, v in config_labels]
    known = {w.label for w in wanted}
    wanted += [LabelInfo(safe_text(lb, 120), source="option") for lb in labels if lb not in known]
    if served.protocol == "tfserving":
        report.labels = [_check_label(session, url, name, w, timeout) for w in wanted]
    elif wanted:
        report.notes.append(f"{served.protocol} has no version labels: {len(wanted)} not checked")
    if report.signatures_differ:
        report.notes.append(
            "the versions have different signatures: each is sent images prepared by its own"
        )
    return report
