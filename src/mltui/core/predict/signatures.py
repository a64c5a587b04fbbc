"""A model's input signature, read from what a server says about it (TF Serving's
``signature_def``, Open Inference V2's ``inputs``/``outputs``): the input's name,
dtype and the H x W x C images are prepared in, and the output class scores are
read from.

Everything here comes from a server, so nothing is trusted: each field is
checked for its type, numbers for their range, and text goes through
:func:`~mltui.core.textsafe.safe_text` before it is kept. A signature mltui
cannot feed is one sentence (:class:`PredictError`), never an exception of
another kind; a shape the user gives (``--shape``) is applied before the
metadata's shape is judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..textsafe import safe_text

DEFAULT_SHAPE = (224, 224, 3)  # the article's model: float 0..1
MAX_INPUT_VALUES = 1 << 24  # H*W*C of one image (2048x2048x3 fits); more is refused
MAX_DIM = 1 << 31  # a dimension a server may claim
MAX_NAME = 200  # characters kept of a name or a state a server gives
MAX_NAMES = 100  # versions, outputs: how many are kept

FLOAT_DTYPES = frozenset(
    {"DT_FLOAT", "DT_HALF", "DT_DOUBLE", "DT_BFLOAT16", "FP32", "FP16", "FP64", "BF16"}
)
# an output whose name holds one of these carries class scores
SCORE_WORDS = ("prob", "score", "logit", "softmax")


class PredictError(Exception):
    """A run cannot start (no server, no model, a signature mltui cannot feed)."""


@dataclass(frozen=True)
class Signature:
    input_name: str = ""
    dtype: str = "DT_FLOAT"  # DT_FLOAT | DT_UINT8 | DT_STRING (b64) | FP32 | UINT8 | BYTES
    shape: tuple[int, int, int] = DEFAULT_SHAPE  # H, W, C
    output_name: str = ""  # the output class scores are read from
    source: str = "default"  # metadata | default | option

    @property
    def takes_bytes(self) -> bool:
        return self.dtype in ("DT_STRING", "BYTES")


def said(value: Any, limit: int = MAX_NAME) -> str:
    """A scalar a server gave (a name, a state, a version) as safe text; anything
    else (a list, an object, null) as ""."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    if isinstance(value, int) and abs(value) >= 10**40:
        return "(a huge number)"
    return safe_text(value, limit)


def dim(value: Any) -> int | None:
    """One dimension: an int or the text of one (TF Serving writes strings), -1
    for "any"; None when it is not one, or is out of range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and 0 < len(value) <= 12:
        try:
            value = int(value)
        except ValueError:
            return None
    if not isinstance(value, int) or value < -1 or value >= MAX_DIM:
        return None
    return value


def dims_of(values: Any) -> list[int] | None:
    """A list of dimensions, or None when it is not one (or longer than 32)."""
    if not isinstance(values, list) or len(values) > 32:
        return None
    out = [dim(v) for v in values]
    return None if any(d is None for d in out) else [d for d in out if d is not None]


def check_shape(shape: tuple[int, int, int], where: str) -> tuple[int, int, int]:
    """``shape`` if mltui can prepare images in it, else PredictError."""
    h, w, c = shape
    if h < 1 or w < 1 or c not in (1, 3):
        raise PredictError(f"{where}: an image shape needs H and W at least 1 and C 1 or 3")
    if h * w * c > MAX_INPUT_VALUES:
        raise PredictError(
            f"{where}: {h}x{w}x{c} is {h * w * c:,} values an image, over mltui's limit "
            f"of {MAX_INPUT_VALUES:,}; give a smaller --shape H,W,C"
        )
    return shape


def looks_like_scores(name: str) -> bool:
    low = name.lower()
    return any(word in low for word in SCORE_WORDS)


def pick_output(outputs: list[tuple[str, str, list[int] | None]]) -> str:
    """The output (name, dtype, dims) class scores come from: one named like
    probabilities, scores or logits, else the first float one of rank 2 (a
    vector an instance), else the first; "" when there is none."""
    for name, _dtype, _dims in outputs:
        if looks_like_scores(name):
            return name
    for name, dtype, dims in outputs:
        if dtype in FLOAT_DTYPES and dims is not None and len(dims) == 2:
            return name
    return outputs[0][0] if outputs else ""


def _path(body: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def _option(shape: tuple[int, int, int] | None, sig: Signature) -> Signature:
    if shape is None:
        return sig
    return Signature(sig.input_name, sig.dtype, shape, sig.output_name, "option")


def tf_signature(
    body: Any, shape: tuple[int, int, int] | None
) -> tuple[Signature, tuple[str, ...]]:
    """The signature in a TF Serving metadata answer (``serving_default``, else the
    first), and the names of its outputs. ``shape`` (the user's) wins over the
    metadata's. A metadata answer mltui cannot read gives the default signature;
    an input it cannot feed is PredictError."""
    defs = _path(body, "metadata", "signature_def", "signature_def")
    sig = None
    if isinstance(defs, dict) and defs:
        sig = defs.get("serving_default")
        if not isinstance(sig, dict):
            sig = next((v for v in defs.values() if isinstance(v, dict)), None)
    inputs = sig.get("inputs") if isinstance(sig, dict) else None
    first = next(iter(inputs.items()), None) if isinstance(inputs, dict) else None
    if sig is None or first is None or not isinstance(first[1], dict):
        return _option(shape, Signature()), ()  # no metadata endpoint, or none we can read
    outputs = _tf_outputs(sig.get("outputs"))
    name, spec = said(first[0]), first[1]
    dtype = said(spec.get("dtype", "DT_FLOAT")) or "DT_FLOAT"
    out_name = pick_output(outputs)
    names = tuple(n for n, _, _ in outputs)
    tensor_shape = spec.get("tensor_shape")
    dims = _tf_dims(tensor_shape)
    unknown_rank = isinstance(tensor_shape, dict) and tensor_shape.get("unknown_rank") is True
    if unknown_rank:
        dims = None
    elif dims is None:
        return _option(shape, Signature()), names  # sizes we cannot read: the default
    if dtype == "DT_STRING":
        return _option(shape, Signature(name, dtype, DEFAULT_SHAPE, out_name, "metadata")), names
    if (
        dims is not None
        and len(dims) == 4
        and dims[1] > 0
        and dims[2] > 0
        and dims[3] in (1, 3)
        and shape is None
    ):
        found = check_shape((dims[1], dims[2], dims[3]), f"the model's input {name!r}")
        return Signature(name, dtype, found, out_name, "metadata"), names
    if shape is not None and (dims is None or len(dims) == 4):
        return Signature(name, dtype, shape, out_name, "option"), names
    shown = "of unknown rank" if dims is None else str(dims)
    if dims is None or (len(dims) == 4 and dims[3] in (-1, 1, 3)):
        raise PredictError(
            f"the model's input {name!r} is {dtype} {shown}: it takes images of any "
            "size; give the size to send with --shape H,W,C (or shape in the config)"
        )
    raise PredictError(
        f"the model's input {name!r} is {dtype} {shown}: mltui feeds images as "
        "[-1, H, W, 1 or 3] or as encoded bytes (DT_STRING)"
    )


def _tf_outputs(raw: Any) -> list[tuple[str, str, list[int] | None]]:
    """(name, dtype, dims) of each output a signature lists."""
    items = list(raw.items())[:MAX_NAMES] if isinstance(raw, dict) else []
    return [
        (said(name), said(_path(spec, "dtype")), _tf_dims(_path(spec, "tensor_shape")))
        for name, spec in items
    ]


def _tf_dims(tensor_shape: Any) -> list[int] | None:
    dims = _path(tensor_shape, "dim")
    if not isinstance(dims, list):
        return None
    sizes = [d.get("size") if isinstance(d, dict) else None for d in dims]
    return dims_of(sizes)


def v2_signature(
    body: dict[str, Any], shape: tuple[int, int, int] | None
) -> tuple[Signature, tuple[str, ...]]:
    """The signature in an Open Inference V2 model answer (its first input), and
    the names of its outputs; ``shape`` (the user's) wins over the metadata's."""
    raw_outputs = body.get("outputs")
    outputs = [
        (said(o.get("name")), said(o.get("datatype")), dims_of(o.get("shape")))
        for o in (raw_outputs[:MAX_NAMES] if isinstance(raw_outputs, list) else [])
        if isinstance(o, dict)
    ]
    names = tuple(n for n, _, _ in outputs)
    inputs = body.get("inputs")
    spec = inputs[0] if isinstance(inputs, list) and inputs else None
    dims = dims_of(spec.get("shape")) if isinstance(spec, dict) else None
    if not isinstance(spec, dict) or dims is None or not isinstance(spec.get("name"), str):
        return Signature(shape=shape or DEFAULT_SHAPE, dtype="FP32"), names
    name, dtype = said(spec["name"]), said(spec.get("datatype")) or "FP32"
    if shape is None and len(dims) == 4 and dims[1] > 0 and dims[2] > 0:
        shape = check_shape(
            (dims[1], dims[2], dims[3] if dims[3] in (1, 3) else 3), f"the model's input {name!r}"
        )
    return Signature(name, dtype, shape or DEFAULT_SHAPE, pick_output(outputs), "metadata"), names
