"""Request bodies on the wire: images encoded for each protocol (orjson straight
from numpy arrays, or a table of the 256 byte values' JSON text). Answers are
read back in :mod:`.answers` (``decode`` and ``AnswerProblem`` are re-exported
here for the names' old home)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from .answers import AnswerProblem, decode
from .protocols import ServedModel

__all__ = ["AnswerProblem", "decode", "encode", "pixels_json"]


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
