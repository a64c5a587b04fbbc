"""Prediction smoke test: a folder of images against a model server.

One module per concern:

- :mod:`.protocols` which protocol a server speaks (TF Serving REST, KServe V1,
  Open Inference V2), the model's state: :class:`ServedModel`
- :mod:`.signatures` the input signature read from a server's metadata, checked
  and bounded, and the output class scores are read from
- :mod:`.images` test images (regular files only, bounded reads) read and resized
  as the signature wants, class names, the true class from the folder an image sits in
- :mod:`.wire` request bodies encoded
- :mod:`.answers` answers read back: bounded bodies, JSON, class scores or the reason
- :mod:`.runner` a run: concurrent requests over one keep-alive session
- :mod:`.results` one :class:`Result` per file, the :class:`Summary`, sort orders
- :mod:`.export` JSON and CSV
- :mod:`.targets` one version picked (``--version``, ``--label``): its URL, its signature
- :mod:`.compare` two versions, labels or servers on the same images: agreement,
  accuracy change, McNemar's exact test, disagreements
- :mod:`.models` a served model's versions, states, signatures and labels
- :mod:`.server_config` the model config file a server's container was started
  with (one read-only exec), read by :mod:`.textproto` (a bounded text-proto reader)
- :mod:`.metrics` the server's Prometheus page as counts and rates

Whatever a server answers, and whatever sits in the folder, ends in a result or
in one sentence (:class:`PredictError`, :class:`AnswerProblem`,
:class:`ImageProblem`), and a server's words are kept only as safe text
(:func:`mltui.core.textsafe.safe_text`). The main names are re-exported here.
"""

from __future__ import annotations

from .answers import AnswerProblem, decode, read_scores
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
from .wire import encode, pixels_json

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
    "read_scores",
    "run",
    "sort_order",
    "sort_results",
    "summarize",
    "to_json",
    "write_csv",
]
