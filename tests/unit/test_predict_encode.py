"""The request encoder writes exactly the values the array holds."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from mltui.core.predict.protocols import ServedModel, Signature
from mltui.core.predict.wire import encode, pixels_json

PIXELS = arrays(np.uint8, array_shapes(min_dims=1, max_dims=4, max_side=5))


@settings(max_examples=200, deadline=None)
@given(PIXELS)
def test_pixels_as_floats_in_0_1_are_the_float32_values(pixels):
    got = np.array(json.loads(pixels_json(pixels)), dtype=np.float32)
    assert np.array_equal(got, pixels.astype(np.float32) * np.float32(1 / 255))


@settings(max_examples=100, deadline=None)
@given(PIXELS, st.booleans())
def test_pixels_as_0_255_floats_or_integers(pixels, as_int):
    got = json.loads(pixels_json(pixels, 255.0, as_int))
    assert got == (pixels.tolist() if as_int else pixels.astype(float).tolist())


def test_request_bodies_of_each_protocol():
    pixels = np.arange(2 * 2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 2, 3)
    sig = Signature("input_1", "DT_FLOAT", (2, 2, 3))
    tf = json.loads(encode(ServedModel("u", "m", "tfserving", signature=sig), list(pixels)))
    assert tf["signature_name"] == "serving_default"
    assert np.allclose(np.array(tf["instances"]), pixels / 255)
    v1 = json.loads(encode(ServedModel("u", "m", "kserve-v1", signature=sig), [pixels[0]]))
    assert set(v1) == {"instances"} and np.array(v1["instances"]).shape == (1, 2, 2, 3)
    v2 = json.loads(encode(ServedModel("u", "m", "v2", signature=sig), list(pixels), 255.0))
    (inp,) = v2["inputs"]
    assert inp["name"] == "input_1" and inp["shape"] == [2, 2, 2, 3]
    assert inp["datatype"] == "FP32" and inp["data"] == pixels.reshape(-1).astype(float).tolist()
    raw = Signature("image_bytes", "DT_STRING")
    b64 = json.loads(encode(ServedModel("u", "m", "tfserving", signature=raw), [b"\x89PNG"]))
    assert b64 == {"instances": [{"b64": "iVBORw=="}]}
