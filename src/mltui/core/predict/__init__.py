"""Prediction smoke test: a folder of images against a model server.

One module per concern:

- :mod:`.protocols` which protocol a server speaks (TF Serving REST, KServe V1,
  Open Inference V2), the model's state and input signature: :class:`ServedModel`
- :mod:`.images` test images read and resized as the signature wants, class names,
  the true class from the folder an image sits in
- :mod:`.wire` request bodies encoded and answers decoded
- :mod:`.runner` a run: concurrent requests over one keep-alive session
- :mod:`.results` one :class:`Result` per file, the :class:`Summary`, sort orders
- :mod:`.export` JSON and CSV

The main names are re-exported here.
"""

from __future__ import annotations

from .export import to_json, write_csv
from .images import (
    IMAGE_SUFFIXES,
    ImageProblem,
    expected_class,
    list_images,
    load_classes,
    load_image,
)
from .protocols import DEFAULT_SHAPE, PredictError, ServedModel, Signature, detect, model_name_of
from .results import SKIPPED, SORTS, Result, Sort, Summary, sort_order, sort_results, summarize
from .runner import RunOptions, run
from .wire import AnswerProblem, decode, encode, pixels_json

__all__ = [
    "DEFAULT_SHAPE",
    "IMAGE_SUFFIXES",
    "SKIPPED",
    "SORTS",
    "AnswerProblem",
    "ImageProblem",
    "PredictError",
    "Result",
    "RunOptions",
    "ServedModel",
    "Signature",
    "Sort",
    "Summary",
    "decode",
    "detect",
    "encode",
    "expected_class",
    "list_images",
    "load_classes",
    "load_image",
    "model_name_of",
    "pixels_json",
    "run",
    "sort_order",
    "sort_results",
    "summarize",
    "to_json",
    "write_csv",
]
