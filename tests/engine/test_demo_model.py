"""The demo's model server, built offline and run for real, against TF Serving's REST shapes."""

from __future__ import annotations

import json
import re

import pytest
import requests
from helpers import docker, predict_folder_against, read_png_rgb, wait_for

from mltui.deploy.images import ensure_image
from mltui.deploy.stacks import DEMO_DIR, DEMO_MODEL

pytestmark = pytest.mark.engine

TEST_IMAGES = DEMO_DIR / "test-images"


@pytest.fixture(scope="module")
def model_server(engine_info, run_id):
    tag = ensure_image(DEMO_MODEL)
    name = f"{run_id}-model"
    docker(
        "run", "-d", "--name", name, "--label", f"mltui.test={run_id}", "-p", "127.0.0.1::8501", tag
    )
    try:
        port = docker("port", name, "8501/tcp").split(":")[-1].strip()
        wait_for(
            "the readiness log lines",
            lambda: (
                "Exporting HTTP/REST API at:localhost:8501" in docker("logs", name, check=False)
            ),
            timeout=60,
        )
        logs = docker("logs", name)
        assert "Successfully loaded servable version {name: my_model version: 1}" in logs
        yield f"http://127.0.0.1:{port}", name
    finally:
        docker("rm", "-f", name, check=False)


def test_status_and_metadata(model_server):
    url, _ = model_server
    status = requests.get(f"{url}/v1/models/my_model", timeout=10)
    assert status.status_code == 200
    assert status.json() == {
        "model_version_status": [
            {
                "version": "1",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }
    assert requests.get(f"{url}/v1/models/my_model/versions/1", timeout=10).json() == status.json()
    meta = requests.get(f"{url}/v1/models/my_model/metadata", timeout=10).json()
    assert meta["model_spec"] == {"name": "my_model", "signature_name": "", "version": "1"}
    sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert sig["method_name"] == "tensorflow/serving/predict"
    inp = sig["inputs"]["input_1"]
    assert inp["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in inp["tensor_shape"]["dim"]] == ["-1", "224", "224", "3"]
    assert [d["size"] for d in sig["outputs"]["dense"]["tensor_shape"]["dim"]] == ["-1", "10"]


def test_predicts_held_out_digits(model_server):
    url, _ = model_server
    classes = (TEST_IMAGES / "classes.txt").read_text().split()
    assert classes == [str(d) for d in range(10)]
    # three held-out images of every class, in row form, batched by class
    hits = total = 0
    for cls in classes:
        paths = sorted((TEST_IMAGES / cls).glob("*.png"))[:3]
        assert paths, f"no test images for class {cls}"
        body = {"signature_name": "serving_default", "instances": [read_png_rgb(p) for p in paths]}
        answer = requests.post(
            f"{url}/v1/models/my_model:predict", data=json.dumps(body), timeout=60
        )
        assert answer.status_code == 200, answer.text
        predictions = answer.json()["predictions"]
        assert len(predictions) == len(paths)
        for probs in predictions:
            assert len(probs) == 10 and abs(sum(probs) - 1) < 1e-6
            hits += classes[max(range(10), key=probs.__getitem__)] == cls
            total += 1
    assert hits / total >= 0.9, f"{hits}/{total} right"


def test_column_form_and_versioned_url(model_server):
    url, _ = model_server
    image = read_png_rgb(sorted((TEST_IMAGES / "7").glob("*.png"))[0])
    body = {"inputs": {"input_1": [image]}}
    answer = requests.post(
        f"{url}/v1/models/my_model/versions/1:predict", data=json.dumps(body), timeout=30
    )
    assert answer.status_code == 200
    outputs = answer.json()["outputs"]
    assert len(outputs) == 1 and max(range(10), key=outputs[0].__getitem__) == 7
    assert answer.headers["X-Replica"]


@pytest.mark.parametrize(
    ("path", "body", "code", "pattern"),
    [
        (
            "/v1/models/half:predict",
            {"instances": [[0.0]]},
            404,
            r"^Servable not found for request: Latest\(half\)$",
        ),
        (
            "/v1/models/my_model/versions/9:predict",
            {"instances": [[0.0]]},
            404,
            r"Servable not found for request: Specific\(my_model, 9\)",
        ),
        ("/v1/models/my_model:predict", b"{not json", 400, r"^JSON Parse error"),
        (
            "/v1/models/my_model:predict",
            {"instances": [[[0.0, 0.0, 0.0]]]},
            400,
            r"^Input to reshape is a tensor with 3 values, but the requested shape requires a multiple of 150528",
        ),
        (
            "/v1/models/my_model:predict",
            {"signature_name": "serving_default"},
            400,
            r"^Missing 'inputs' or 'instances' key$",
        ),
        (
            "/v1/models/my_model:predict",
            {"instances": [], "inputs": []},
            400,
            r"Not both 'instances' and 'inputs'",
        ),
        (
            "/v1/models/my_model:predict",
            {"signature_name": "nope", "instances": [[0.0]]},
            400,
            r'signature name: "nope" not found',
        ),
        (
            "/v1/models/my_model:predict",
            {"instances": [{"b64": "aGVsbG8="}]},
            400,
            r"not of expected type: float",
        ),
        ("/v1/models/my_model:predict", [1, 2], 400, r"is not an object"),
        ("/nothing/here", None, 404, r"^Malformed request: GET /nothing/here$"),
    ],
)
def test_errors_have_tf_serving_shapes(model_server, path, body, code, pattern):
    url, _ = model_server
    if body is None:
        answer = requests.get(f"{url}{path}", timeout=10)
    else:
        data = body if isinstance(body, bytes) else json.dumps(body)
        answer = requests.post(f"{url}{path}", data=data, timeout=10)
    assert answer.status_code == code
    error = answer.json()
    assert set(error) == {"error"}
    assert re.search(pattern, error["error"]), error["error"]


def test_requests_are_logged_and_server_survives_bad_input(model_server):
    url, name = model_server
    # a body that claims more than it sends, then garbage: the server answers the next request
    requests.post(f"{url}/v1/models/my_model:predict", data=b"\xff\xfe\x00garbage", timeout=10)
    assert requests.get(f"{url}/v1/models/my_model", timeout=10).status_code == 200
    logs = docker("logs", name)
    assert re.search(r"POST /v1/models/my_model:predict 400 \d+\.\dms", logs)


def test_mltui_predict_agrees_with_the_server_one_by_one(model_server, tmp_path):
    """`mltui predict` (concurrent, orjson, Pillow resize) gives, image by image, the
    class the server gives to the article's one-request-per-image client."""
    url, _ = model_server
    out, data, expected = predict_folder_against(
        url, tmp_path, 4,
        "--classes", str(TEST_IMAGES / "classes.txt"), "--concurrency", "4", "--min-accuracy", "0.9",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert data["endpoint"]["protocol"] == "tfserving"
    assert data["endpoint"]["signature"] == {
        "input_name": "input_1", "dtype": "DT_FLOAT", "shape": [224, 224, 3],
        "output_name": "dense", "source": "metadata",
    }  # fmt: skip
    got = {r["image"]: r["predicted"] for r in data["results"]}
    assert got == expected
    summary = data["summary"]
    right = sum(name.split("/")[0] == cls for name, cls in expected.items())
    assert summary["accuracy"] == right / len(expected)
    assert summary["images"] == 40 and summary["failed"] == 0
