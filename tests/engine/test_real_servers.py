"""`mltui predict` against the real servers of the two other protocols it speaks:
KServe's ModelServer (KServe V1) and MLServer (Open Inference V2), from PyPI, each
serving the same small linear model (tests/servers.py). The classes are checked
against what the model computes, worked out here with numpy from its weights.

No Docker engine is needed: the servers run as processes on 127.0.0.1. Their
virtualenvs are built once per machine (tests/testimages.py builds them first).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from servers import CLASSES, SIDE, serve_kserve, serve_mlserver

# real KServe and MLServer processes on 127.0.0.1, from virtualenvs built once per machine
pytestmark = pytest.mark.servers

MODEL = "digits"
IMAGES = 12


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """The model's weights, a folder of 8x8 grey PNGs, and for each image the class
    and top score the model gives it (numpy, from the weights and the pixels)."""
    root = tmp_path_factory.mktemp("linear-model")
    rng = np.random.default_rng(16)
    coef = rng.normal(size=(CLASSES, SIDE * SIDE))
    coef -= coef.mean(axis=1, keepdims=True)  # the pattern decides, not the brightness
    intercept = rng.normal(scale=0.1, size=CLASSES)
    weights = root / "weights.npz"
    np.savez(weights, coef=coef, intercept=intercept)
    folder = root / "images"
    folder.mkdir()
    oracle: dict[str, tuple[str, float]] = {}
    while len(oracle) < IMAGES:
        pixels = rng.integers(0, 256, size=(SIDE, SIDE), dtype=np.uint8)
        scores = (pixels.reshape(-1) / 255.0) @ coef.T + intercept
        top2 = np.sort(scores)[-2:]
        if top2[1] - top2[0] < 0.05:  # no near-tie that float32 on the wire could flip
            continue
        name = f"img-{len(oracle):02d}.png"
        Image.fromarray(pixels, mode="L").save(folder / name)
        oracle[name] = (str(int(np.argmax(scores))), float(scores.max()))
    assert len({cls for cls, _ in oracle.values()}) >= 4, "the images should span classes"
    return weights, folder, oracle


@pytest.fixture(scope="module")
def kserve(model_files, tmp_path_factory):
    with serve_kserve(tmp_path_factory.mktemp("kserve"), MODEL, model_files[0]) as server:
        yield server


@pytest.fixture(scope="module")
def mlserver(model_files, tmp_path_factory):
    with serve_mlserver(tmp_path_factory.mktemp("mlserver"), MODEL, model_files[0]) as server:
        yield server


def mltui_predict(url: str, folder, *flags: str) -> tuple[subprocess.CompletedProcess, dict | None]:
    out = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "predict", str(folder), "--url", url, "--json", *flags],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "Traceback" not in out.stderr, out.stderr
    return out, json.loads(out.stdout) if out.stdout.strip() else None


def assert_predictions_match(data: dict, oracle: dict[str, tuple[str, float]]) -> None:
    results = {r["image"]: r for r in data["results"]}
    assert sorted(results) == sorted(oracle)
    for name, (cls, score) in oracle.items():
        row = results[name]
        assert row["error_kind"] == "" and row["error"] == "", row
        assert row["predicted"] == cls, (name, row["top"], score)
        assert row["confidence"] == pytest.approx(score, rel=1e-4, abs=1e-4)
    assert data["summary"]["images"] == IMAGES and data["summary"]["failed"] == 0


@pytest.mark.parametrize("batch", ["1", "5"])
def test_kserve_v1_classes_are_the_models(kserve, model_files, batch):
    _weights, folder, oracle = model_files
    # the V1 protocol has no metadata: the input shape comes from --shape
    out, data = mltui_predict(
        kserve.url, folder, "--model", MODEL, "--shape", "8,8,1", "--batch", batch
    )
    assert out.returncode == 0, out.stderr
    endpoint = data["endpoint"]
    assert endpoint["protocol"] == "kserve-v1"  # {"name": ..., "ready": true} at /v1/models/NAME
    assert endpoint["state"] == "ready"
    assert endpoint["signature"]["shape"] == [8, 8, 1]
    assert endpoint["signature"]["source"] == "option"
    assert_predictions_match(data, oracle)


@pytest.mark.parametrize("batch", ["1", "5"])
def test_mlserver_v2_classes_are_the_models(mlserver, model_files, batch):
    _weights, folder, oracle = model_files
    # MLServer answers /v1/... with FastAPI's 404 {"detail": "Not Found"}: mltui must
    # move on to V2 and read the input from the model's metadata (model-settings.json)
    v1 = requests.get(f"{mlserver.url}/v1/models/{MODEL}", timeout=10)
    assert v1.status_code == 404 and v1.json() == {"detail": "Not Found"}
    out, data = mltui_predict(mlserver.url, folder, "--model", MODEL, "--batch", batch)
    assert out.returncode == 0, out.stderr
    endpoint = data["endpoint"]
    assert endpoint["protocol"] == "v2"
    assert endpoint["signature"] == {
        "input_name": "pixels", "dtype": "FP32", "shape": [8, 8, 1],
        "output_name": "scores", "source": "metadata",
    }  # fmt: skip
    assert_predictions_match(data, oracle)


# What each real server answers for a model it does not serve, on each protocol path
# the client tries (read from the running servers; kserve/errors.py, mlserver/errors.py).
MISSING = {
    "kserve": {
        "/v1/models/nosuch": {"error": "Model with name nosuch does not exist."},
        "/v2/models/nosuch": {"error": "Model with name nosuch does not exist."},
    },
    "mlserver": {
        "/v1/models/nosuch": {"detail": "Not Found"},
        "/v2/models/nosuch": {"error": "Model nosuch not found"},
    },
}


@pytest.mark.parametrize(
    ("which", "protocol", "sentence"),
    [
        ("kserve", "auto", "404 Model with name nosuch does not exist."),
        ("kserve", "kserve-v1", "404 Model with name nosuch does not exist."),
        ("mlserver", "auto", "404 Model nosuch not found"),
        ("mlserver", "v2", "404 Model nosuch not found"),
    ],
)
def test_a_missing_model_is_one_sentence_with_the_servers_words(
    request, model_files, which, protocol, sentence
):
    server = request.getfixturevalue(which)
    for path, body in MISSING[which].items():
        answer = requests.get(f"{server.url}{path}", timeout=10)
        assert (answer.status_code, answer.json()) == (404, body)
    out, data = mltui_predict(
        server.url, model_files[1], "--model", "nosuch", "--protocol", protocol
    )
    assert out.returncode == 2
    assert data is None
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("mltui predict: ")
    assert "'nosuch'" in lines[0] and server.url in lines[0]
    assert lines[0].endswith(sentence), lines[0]


@pytest.mark.parametrize(
    ("which", "flags", "kind", "error"),
    [
        # kserve.Model.predict raising: KServe answers 500 {"error": "ValueError : ..."}
        (
            "kserve",
            ("--shape", "4,4,1"),
            "server 500",
            "ValueError : expected 64 pixels per image (8x8x1), got 16",
        ),
        # an MLServer runtime raising InferenceError: 400 {"error": "..."}
        (
            "mlserver",
            ("--shape", "4,4,1"),
            "server 400",
            "expected 64 pixels per image (8x8x1), got 16",
        ),
    ],
)
def test_a_server_error_fails_each_row_with_the_servers_words(
    request, model_files, which, flags, kind, error
):
    server = request.getfixturevalue(which)
    out, data = mltui_predict(server.url, model_files[1], "--model", MODEL, *flags)
    assert out.returncode == 1, out.stderr
    rows = data["results"]
    assert len(rows) == IMAGES
    assert {(r["error_kind"], r["error"]) for r in rows} == {(kind, error)}
    assert all(r["predicted"] is None for r in rows)
    assert data["summary"]["failed"] == IMAGES and data["summary"]["ok"] == 0


# Property: whatever the pixels, the scale and the batching, the class mltui reports
# is the one numpy computes from the weights (in-process, through mltui's public API).
@pytest.mark.parametrize("which", ["kserve", "mlserver"])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    images=st.lists(arrays(np.uint8, (SIDE, SIDE)), min_size=1, max_size=4),
    scale=st.sampled_from([1.0, 255.0]),
    batch=st.sampled_from([1, 3]),
)
def test_any_images_get_the_models_classes(request, model_files, which, images, scale, batch):
    from mltui.core.predict import RunOptions, detect, run

    server = request.getfixturevalue(which)
    data = np.load(model_files[0])
    scores = np.stack(images).reshape(len(images), -1) / (255.0 if scale == 1.0 else 1.0)
    scores = scores @ data["coef"].T + data["intercept"]
    for row in scores:
        low, high = np.sort(row)[-2:]
        assume(high - low > 1e-3 * max(1.0, abs(high)))  # no tie float32 could flip
    with tempfile.TemporaryDirectory() as folder:
        for i, pixels in enumerate(images):
            Image.fromarray(pixels, mode="L").save(Path(folder) / f"{i}.png")
        shape = (SIDE, SIDE, 1) if which == "kserve" else None  # V1 has no metadata
        served = detect(server.url, MODEL, shape=shape)
        results = run(
            served, Path(folder), None, RunOptions(concurrency=2, batch=batch, scale=scale)
        )
    got = {r.image: (r.error_kind, r.predicted) for r in results}
    assert got == {f"{i}.png": ("", str(int(np.argmax(row)))) for i, row in enumerate(scores)}
