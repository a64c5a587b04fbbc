"""Request bodies and answers on the wire: images encoded for each protocol
(orjson straight from numpy arrays, or a table of the 256 byte values' JSON
text), and class scores read back from an answer, or the reason there are none."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from typing import Any

from .protocols import ServedModel


class AnswerProblem(Exception):
    """An answer with no usable scores; ``kind`` is the short name a result shows."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def encode(served: ServedModel, batch: Sequence[Any], scale: float = 1.0) -> bytes:
    """The request body for ``batch``: uint8 pixel arrays (written through a table
    of the 256 values' JSON text, see :func:`pixels_json`), float arrays (orjson),
    or bytes for a string input."""
    import numpy as np
    import orjson

    sig = served.signature
    if sig.takes_bytes:
        instances = [{"b64": base64.b64encode(b).decode()} for b in batch]
        if served.protocol == "v2":
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
        if served.protocol == "v2":
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
            if served.protocol == "tfserving"
            else '{"instances":'
        )
        return head.encode() + pixels_json(stacked, scale, as_int) + b"}"
    if served.protocol == "v2":
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
    if served.protocol == "tfserving":
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
    text: bytes = out[:-1].tobytes()
    return text


def decode(
    served: ServedModel, status: int, content_type: str, body: bytes, count: int
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
    rows = _rows(served, data)
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


def _rows(served: ServedModel, data: Any) -> list[Any] | None:
    if not isinstance(data, dict):
        return None
    if served.protocol == "v2":
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
