"""The demo's model server, built offline and run for real, against TF Serving's REST shapes."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import requests
from helpers import docker, predict_folder_against, read_png_rgb, wait_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltui.deploy.images import ensure_image
from mltui.deploy.stacks import DEMO_DIR, DEMO_MODEL, DEMO_MODEL_VERSIONS

pytestmark = pytest.mark.engine

TEST_IMAGES = DEMO_DIR / "test-images"


@pytest.fixture(scope="module")
def model_server(engine_info, run_id):
    tag = ensure_image(DEMO_MODEL)
    name = f"{run_id}-model"
    # TF Serving's plain mode (no model config file: MODEL_NAME's latest version, no
    # labels) with the stable model as version 1; tests/engine/test_model_versions.py
    # runs the image as built (two timestamped versions, labels, metrics)
    docker(
        "run", "-d", "--name", name, "--label", f"mltui.test={run_id}", "-p", "127.0.0.1::8501",
        tag, "sh", "-c",
        f"mkdir -p /tmp/models/my_model && cp -r /models/my_model/{DEMO_MODEL_VERSIONS['stable']} "
        "/tmp/models/my_model/1 && MODEL_BASE_PATH=/tmp/models exec python3 /srv/model/server.py",
    )  # fmt: skip
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


# TF Serving's documented REST errors, as its source words them (tensorflow/serving,
# tensorflow_serving/): the handler's routing in model_servers/http_rest_api_handler.cc
# and http_rest_api_util.cc (kPredictionApiGegex, kModelStatusApiRegex; "Malformed
# request" is InvalidArgument), status codes in model_servers/http_server.cc
# (ToHTTPStatusCode: InvalidArgument 400, NotFound 404), model status in
# model_servers/get_model_status_impl.cc, servables in core/basic_manager.cc and
# model_servers/server_core.cc, JSON in util/json_tensor.cc (rapidjson's messages).
TF_SERVING_ERRORS = [
    # core/basic_manager.cc, as g3doc/api_rest.md shows it
    ("POST", "/v1/models/half:predict", {"instances": [[0.0]]}, 404,
     r"^Servable not found for request: Latest\(half\)$"),
    ("POST", "/v1/models/my_model/versions/9:predict", {"instances": [[0.0]]}, 404,
     r"^Servable not found for request: Specific\(my_model, 9\)$"),
    ("GET", "/v1/models/half/metadata", None, 404,
     r"^Servable not found for request: Latest\(half\)$"),
    # model_servers/server_core.cc: GetModelVersionForLabel is InvalidArgument
    ("POST", "/v1/models/my_model/labels/canary:predict", {"instances": [[0.0]]}, 400,
     r"^Unrecognized servable version label: canary$"),
    # model_servers/get_model_status_impl.cc
    ("GET", "/v1/models/half", None, 404, r"^Could not find any versions of model half$"),
    ("GET", "/v1/models/my_model/versions/9", None, 404,
     r"^Could not find version 9 of model my_model$"),
    # model_servers/http_rest_api_handler.cc: what neither regex routes
    ("GET", "/v1/models/my_model:predict", None, 400,
     r"^Malformed request: GET /v1/models/my_model:predict$"),
    ("POST", "/v1/models/my_model/metadata", {}, 400,
     r"^Malformed request: POST /v1/models/my_model/metadata$"),
    ("GET", "/v1/models", None, 400, r"^Missing model name in request\.$"),
    # util/json_tensor.cc: ParseJson, FillSignature, FillPredictRequestFromJson
    ("POST", "/v1/models/my_model:predict", b"", 400, r"^JSON Parse error: The document is empty$"),
    ("POST", "/v1/models/my_model:predict", b"{not json", 400,
     r"^JSON Parse error: Missing a name for object member\. at offset: 1$"),
    ("POST", "/v1/models/my_model:predict", [1, 2], 400, r"^JSON Value: \[1, 2\] Is not object$"),
    ("POST", "/v1/models/my_model:predict", {"signature_name": "serving_default"}, 400,
     r"^Missing 'inputs' or 'instances' key$"),
    ("POST", "/v1/models/my_model:predict", {"instances": [], "inputs": []}, 400,
     r"Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist $"),
    ("POST", "/v1/models/my_model:predict", {"instances": []}, 400,
     r"(?s)^JSON Value: .* No values in 'instances' array$"),
    # http_rest_api_handler.cc GetInfoMap
    ("POST", "/v1/models/my_model:predict", {"signature_name": "nope", "instances": [[0.0]]}, 400,
     r'^Serving signature name: "nope" not found in signature def$'),
    # json_tensor.cc TypeError, inside FillTensorMapFromInstancesList's wrapper
    ("POST", "/v1/models/my_model:predict", {"instances": [{"b64": "aGVsbG8="}]}, 400,
     r"(?s)^Failed to process element: 0 of 'instances' list\. Error: .*not of expected type: float$"),
    # the model graph's own check (a Keras Flatten): TensorFlow's words, not TF Serving's
    ("POST", "/v1/models/my_model:predict", {"instances": [[[0.0, 0.0, 0.0]]]}, 400,
     r"^Input to reshape is a tensor with 3 values, but the requested shape requires a multiple of 150528"),
]  # fmt: skip


def _ask(url: str, method: str, path: str, body: object) -> requests.Response:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body)
    return requests.request(method, f"{url}{path}", data=data, timeout=10)


@pytest.mark.parametrize(("method", "path", "body", "code", "pattern"), TF_SERVING_ERRORS)
def test_errors_have_tf_serving_shapes(model_server, method, path, body, code, pattern):
    url, _ = model_server
    answer = _ask(url, method, path, body)
    assert answer.status_code == code
    assert answer.headers["Content-Type"] == "application/json"
    error = answer.json()
    assert set(error) == {"error"}
    assert re.search(pattern, error["error"]), error["error"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_path_outside_v1_gets_libevents_404_page(model_server, method):
    """model_servers/http_server.cc routes only (?i)/v1/.* to the REST handler
    (kHTTPRestApiHandlerPathRegex); anything else is libevent's evhttp_send_error page."""
    url, _ = model_server
    answer = _ask(url, method, "/nothing/here", None if method == "GET" else {})
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.text == (
        "<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n"
        "<H1>Not Found</H1>\n</BODY></HTML>\n"
    )


# Property tests: whatever the request, the demo answers as TF Serving's routing and
# handler can (the oracle is the rules above, restated here, not the server's code):
# outside (?i)/v1/.* libevent's 404 page; inside, 200 or a JSON {"error": text} with
# 400 or 404 only (InvalidArgument, NotFound); never a 5xx, never another code.
SEGMENTS = ["v1", "V1", "v2", "models", "my_model", "half", "versions", "1", "9", "labels",
            "stable", "metadata", "my_model:predict", "my_model:classify", "x:PREDICT", ""]  # fmt: skip
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _tf_serving_like(answer: requests.Response, path: str) -> None:
    if not re.fullmatch(r"(?i)/v1/.*", path):
        assert answer.status_code == 404
        assert answer.headers["Content-Type"].startswith("text/html")
        return
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.status_code in (200, 400, 404), (path, answer.status_code, answer.text)
    if answer.status_code != 200:
        error = answer.json()
        assert set(error) == {"error"} and isinstance(error["error"], str) and error["error"]


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    segments=st.lists(st.sampled_from(SEGMENTS), max_size=6),
)
def test_any_path_is_routed_as_tf_serving_routes_it(model_server, method, segments):
    url, _ = model_server
    path = "/" + "/".join(segments)
    answer = _ask(url, method, path, {} if method in ("POST", "PUT") else None)
    _tf_serving_like(answer, path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["instances", "inputs", "signature_name", "input_1", "b64", "x"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
)


@FUZZ
@given(body=st.binary(max_size=60) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_any_predict_body_gets_predictions_or_a_tf_serving_error(model_server, body):
    url, _ = model_server
    answer = _ask(url, "POST", "/v1/models/my_model:predict", body)
    _tf_serving_like(answer, "/v1/models/my_model:predict")
    assert answer.status_code == 400  # none of these is a batch of 224x224x3 images
    error = answer.json()["error"]
    if not body.strip():
        assert error.startswith("JSON Parse error: The document is empty")
    elif error.startswith("JSON Parse error: "):
        offset = int(re.fullmatch(r"(?s)JSON Parse error: .* at offset: (\d+)", error).group(1))
        assert 0 <= offset <= len(body)


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


def test_a_missing_model_keeps_the_v1_servers_words(model_server, tmp_path):
    """Auto-detection asks /v1 and then /v2; TF Serving answers the V2 path with its
    HTML 404 page, so the sentence must keep what /v1 said of the model
    (http_rest_api_handler.cc: "Could not find any versions of model NAME")."""
    url, _name = model_server
    folder = tmp_path / "imgs"
    folder.mkdir()
    first = sorted((DEMO_DIR / "test-images" / "0").glob("*.png"))[0]
    (folder / "a.png").write_bytes(first.read_bytes())
    out = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "predict", "--url", url, "--model", "nosuch", str(folder)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].endswith("404 Could not find any versions of model nosuch"), lines[0]
