"""`mltui predict` against a hostile server and hostile files (issue 16).

A small HTTP server on 127.0.0.1 (started here) answers each reproducer of the
issue: escapes in what it says, answers that crashed the decoder, shapes that
allocated gigabytes, the real TF Serving's multi-output answers and open
signatures. Property tests feed arbitrary answers to the decoder and to
``detect``; their oracle (the code points below, the expected outcomes) is
written here, not taken from the code under test. Hostile image files (a FIFO,
a device, a huge sparse file) are in test_predict_bad_input.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltui.cli import main
from mltui.cli import predict as cli_predict
from mltui.core import predict as core
from mltui.core.predict.answers import AnswerProblem, read_scores

PROBS = [0.01, 0.02, 0.03, 0.9, 0.01, 0.01, 0.01, 0.005, 0.005, 0.0]  # class 3
EVIL = "\x1b]52;c;ZXZpbA==\x07\x1b[?1049h\x1b[6n\u202eevil\x9b31m\u200b\x85"

# -- the oracle: what must never reach a terminal or a file -------------------------
FORBIDDEN = (
    set(range(0x00, 0x20)) - {0x0A}  # C0 controls (ESC among them); a newline ends a line
    | {0x7F}  # DEL
    | set(range(0x80, 0xA0))  # C1 controls (CSI 0x9B, NEL 0x85, OSC 0x9D)
    | {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}  # bidi
    | {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x2028, 0x2029}  # zero width, separators
)


def unsafe_in(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if ord(c) in FORBIDDEN]


def one_safe_line(text: str) -> bool:
    return "\n" not in text and not unsafe_in(text) and 0 < len(text) <= 700


# -- the server ---------------------------------------------------------------------
def tf_meta(dims, outputs=None, name="input_1", dtype="DT_FLOAT", tensor_shape=None):
    shape = tensor_shape or {"dim": [{"size": str(s)} for s in dims], "unknown_rank": False}
    return {
        "metadata": {
            "signature_def": {
                "signature_def": {
                    "serving_default": {
                        "inputs": {name: {"dtype": dtype, "tensor_shape": shape}},
                        "outputs": outputs or {"dense": {"dtype": "DT_FLOAT"}},
                    }
                }
            }
        }
    }


TWO_OUTPUTS = {
    "classes": {"dtype": "DT_INT64", "tensor_shape": {"dim": [{"size": "-1"}]}},
    "probabilities": {
        "dtype": "DT_FLOAT",
        "tensor_shape": {"dim": [{"size": "-1"}, {"size": "10"}]},
    },
}
METADATA = {
    "evil": tf_meta([-1, 8, 8, 3], {EVIL: {"dtype": EVIL}, "b": {}}, name=EVIL, dtype=EVIL),
    "hugedims": tf_meta([-1, 100000, 100000, 3]),
    "anyshape": tf_meta([-1, -1, -1, 3]),
    "unknownrank": tf_meta([], tensor_shape={"dim": [], "unknown_rank": True}),
    "multi": tf_meta([-1, 8, 8, 3], TWO_OUTPUTS),
}
V2_MODELS = {
    "v2outputs5": {"outputs": [5]},
    "v2versions5": {"versions": 5},
    "v2claim": {},
    "v2evil": {"versions": [EVIL]},
}
BIG = 20 << 20  # over the 16 MiB an answer may have


class Handler(BaseHTTPRequestHandler):
    seen: list[str] = []

    def log_message(self, *args):
        pass

    def _send(self, status, body, length=True):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if length:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(OSError):  # a client that stopped reading: expected
            self.wfile.write(data)

    def do_GET(self):
        Handler.seen.append(self.path)
        parts = self.path.strip("/").split("/")
        model = parts[2] if len(parts) > 2 else ""
        if parts[:2] == ["v2", "models"]:
            if not model.startswith("v2"):
                return self._send(404, {"error": EVIL if model == "evilerr" else "not found"})
            body = {
                "name": model,
                "versions": ["1"],
                "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 8, 8, 3]}],
                "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 10]}],
            }
            return self._send(200, {**body, **V2_MODELS.get(model, {})})
        if model.startswith("v2"):
            return self._send(404, {"error": "not here"})
        if model == "evilerr":
            return self._send(404, {"error": EVIL})
        if self.path.endswith("/metadata"):
            return self._send(200, METADATA.get(model, tf_meta([-1, 8, 8, 3])))
        if model == "mvs5":
            return self._send(200, {"model_version_status": 5})
        state = EVIL if model == "evil" else "AVAILABLE"
        version = EVIL if model == "evil" else "1"
        return self._send(200, {"model_version_status": [{"version": version, "state": state}]})

    def do_POST(self):
        Handler.seen.append(self.path)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if self.path.startswith("/v2/"):
            n = body["inputs"][0]["shape"][0]
            if "v2claim" in self.path:  # 60 bytes that claim 30 million values
                return self._send(
                    200, {"outputs": [{"name": "y", "shape": [30000000], "data": []}]}
                )
            return self._send(
                200, {"outputs": [{"name": "y", "shape": [n, 10], "data": PROBS * n}]}
            )
        model = self.path.split("/")[3].split(":")[0]
        n = len(body.get("instances", []))
        if model == "evil":
            return self._send(500, {"error": EVIL})
        if model == "deep":
            return self._send(200, b'{"predictions": ' + b"[" * 1100 + b"]" * 1100 + b"}")
        if model == "bigint":
            return self._send(200, {"predictions": [[2**1100, 0.5]] * n})
        if model in ("bigcl", "bigstream"):
            return self._send(200, b" " * BIG + b"{}", length=model == "bigcl")
        if model in ("multi", "multinometa"):
            return self._send(200, {"predictions": [{"classes": 3, "probabilities": PROBS}] * n})
        return self._send(200, {"predictions": [PROBS] * n})


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that left early: expected here


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def png(path: Path, size: int = 8) -> Path:
    from PIL import Image

    Image.new("RGB", (size, size), (10, 20, 30)).save(path)
    return path


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    png(folder / "a.png")
    png(folder / "b.png")
    return folder


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["predict", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


# -- escapes: what a server says reaches no terminal and no file raw -----------------
def test_a_servers_words_are_shown_as_safe_text_everywhere(server, images, tmp_path, capsys):
    csv_path, json_path = tmp_path / "r.csv", tmp_path / "r.json"
    args = ("--url", server, "--model", "evil", "--csv", str(csv_path), "--out", str(json_path))
    code, out, err = run_cli(capsys, *args, str(images))
    assert code == 1 and unsafe_in(out + err) == []
    assert "\u241b]52;c;ZXZpbA==" in out  # ESC shown as its picture: visibly there
    assert out.count("server 500: \u241b]52") == 2  # a failed row an image, the server's words
    assert unsafe_in(csv_path.read_text()) == []
    data = json.loads(json_path.read_text())
    shown = [*data["endpoint"]["versions"], data["endpoint"]["state"], *data["endpoint"]["outputs"]]
    shown += [str(v) for v in data["endpoint"]["signature"].values()]
    shown += [r["error"] for r in data["results"]]
    assert unsafe_in("".join(shown)) == []
    code, out, err = run_cli(capsys, "--url", server, "--model", "evilerr", str(images))
    assert code == 2 and unsafe_in(out + err) == [] and "\u241b" in err


# -- answers that crashed: one failed row or one sentence ---------------------------
@pytest.mark.parametrize(
    ("model", "kind", "says"),
    [
        ("deep", "bad answer", "nested too deep"),
        ("bigint", "bad answer", "too large to read"),
        ("bigcl", "too large", "over mltui's limit of 16,777,216 bytes"),
        ("bigstream", "too large", "over mltui's limit of 16,777,216 bytes"),
        ("v2claim", "wrong shape", "30000000 predictions for 2 images"),
    ],
)
def test_an_answer_that_crashed_is_one_failed_row_per_image(
    server, images, capsys, model, kind, says
):
    code, out, err = run_cli(
        capsys, "--url", server, "--model", model, "--batch", "2", "--json", str(images)
    )
    assert code == 1, err
    results = json.loads(out)["results"]
    assert [(r["error_kind"], says in r["error"]) for r in results] == [(kind, True)] * 2


@pytest.mark.parametrize(
    ("model", "says"),
    [
        ("mvs5", "the model status is not a list of versions"),
        ("hugedims", "100000x100000x3 is 30,000,000,000 values an image, over mltui's limit"),
        ("anyshape", "takes images of any size; give the size to send with --shape"),
        ("unknownrank", "of unknown rank: it takes images of any size"),
    ],
)
def test_a_status_or_signature_that_crashed_is_one_sentence(server, images, capsys, model, says):
    code, out, err = run_cli(capsys, "--url", server, "--model", model, str(images))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and says in err, err


@pytest.mark.parametrize("model", ["v2outputs5", "v2versions5", "v2evil"])
def test_v2_metadata_of_the_wrong_types_is_tolerated(server, images, capsys, model):
    code, out, err = run_cli(capsys, "--url", server, "--model", model, "--json", str(images))
    assert code == 0, err
    data = json.loads(out)
    assert data["endpoint"]["protocol"] == "v2"
    assert [r["predicted"] for r in data["results"]] == ["3", "3"]
    assert unsafe_in(json.dumps(data, ensure_ascii=False)) == []


def test_a_claimed_shape_is_checked_against_the_data_before_allocating():
    served = core.ServedModel("u", "m", "v2")
    body = b'{"outputs":[{"name":"y","shape":[30000000],"datatype":"FP32","data":[]}]}'
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(AnswerProblem) as caught:
        read_scores(served, 200, "application/json", body, 30000000)
    seconds, peak = time.perf_counter() - start, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (
        caught.value.kind == "wrong shape"
        and "claims shape [30000000] for 0 values" in caught.value.message
    )
    assert seconds < 1 and peak < 1 << 20  # was 10 s and 2.1 GB


# -- the real TF Serving: several outputs, open signatures, names in paths ------------
def test_several_outputs_read_the_class_scores_and_say_which(server, images, capsys):
    code, out, err = run_cli(capsys, "--url", server, "--model", "multi", str(images))
    assert code == 0, err
    assert "scores from output 'probabilities' of 2" in out.splitlines()[0]
    assert out.count(" 3 ") >= 2 and "0.900" in out
    code, out, err = run_cli(capsys, "--url", server, "--model", "multi", "--json", str(images))
    data = json.loads(out)
    assert data["endpoint"]["signature"]["output_name"] == "probabilities"
    assert data["endpoint"]["outputs"] == ["classes", "probabilities"]
    assert [r["predicted"] for r in data["results"]] == ["3", "3"]
    assert data["summary"]["scores_from"] == ["probabilities"]


def test_an_answer_of_objects_without_metadata_picks_by_name():
    served = core.ServedModel("u", "m", "tfserving")
    body = json.dumps({"predictions": [{"classes": 7, "logits": [0.1, 2.0], "id": [1, 2]}]})
    assert read_scores(served, 200, "application/json", body.encode(), 1) == (
        [[0.1, 2.0]],
        "logits",
    )
    body = json.dumps({"predictions": [{"classes": 7, "emb": [0.5, 0.25], "ids": [1, 2]}]})
    assert read_scores(served, 200, "application/json", body.encode(), 1) == ([[0.5, 0.25]], "emb")


@pytest.mark.parametrize("model", ["anyshape", "unknownrank", "hugedims"])
def test_the_shape_option_applies_before_the_signature_is_judged(server, images, capsys, model):
    code, out, err = run_cli(
        capsys, "--url", server, "--model", model, "--shape", "8,8,3", "--json", str(images)
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["endpoint"]["signature"]["shape"] == [8, 8, 3]
    assert data["endpoint"]["signature"]["source"] == "option"
    code, _out, err = run_cli(
        capsys, "--url", server, "--model", model, "--shape", "9000,9000,3", str(images)
    )
    assert code == 2 and "over mltui's limit" in err


def test_model_names_are_quoted_in_request_paths(server, images, capsys):
    Handler.seen.clear()
    code, _out, err = run_cli(capsys, "--url", server, "--model", "a b/c?d#e", str(images))
    assert code == 0, err
    quoted = "a%20b%2Fc%3Fd%23e"
    assert f"/v1/models/{quoted}" in Handler.seen
    assert f"/v1/models/{quoted}/metadata" in Handler.seen
    assert f"/v1/models/{quoted}:predict" in Handler.seen
    assert core.ServedModel("http://h", "x/y", "v2").predict_url == "http://h/v2/models/x%2Fy/infer"


# -- property: any answer is scores or one line, never another exception --------------
HOSTILE = st.sampled_from(
    ["\x1b", "\x9b", "\x9d", "\x07", "\n", "\u202e", "\u2066", "\u200d", "\ufeff", "\x00"]
)
TEXT = st.lists(HOSTILE | st.text(max_size=4), max_size=6).map("".join)
NUMBERS = (
    st.integers()
    | st.integers(min_value=2**1023, max_value=2**1100)
    | st.floats(allow_nan=True, allow_infinity=True)
)
JSONISH = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXT,
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(
            TEXT | st.sampled_from(["probabilities", "classes", "scores"]), kids, max_size=4
        )
    ),
    max_leaves=20,
)
SHAPES = st.lists(st.integers(min_value=-2, max_value=40_000_000) | JSONISH, max_size=4)
ANSWERS = st.one_of(
    JSONISH,
    st.fixed_dictionaries({"predictions": JSONISH}),
    st.fixed_dictionaries({"outputs": JSONISH}),
    st.fixed_dictionaries({"error": JSONISH}),
    st.fixed_dictionaries({"detail": st.lists(JSONISH, max_size=3)}),
    st.fixed_dictionaries(
        {
            "predictions": st.lists(
                st.dictionaries(
                    st.sampled_from(["probabilities", "classes", "x"]), JSONISH, max_size=3
                ),
                min_size=1,
                max_size=3,
            )
        }
    ),
    st.fixed_dictionaries(
        {
            "outputs": st.lists(
                st.fixed_dictionaries({"name": JSONISH, "shape": SHAPES, "data": JSONISH}),
                max_size=2,
            )
        }
    ),
)


def body_of(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def deep(depth: int) -> bytes:
    return b'{"predictions": ' + b"[" * depth + b"]" * depth + b"}"


@settings(max_examples=400, deadline=None)
@given(
    body=ANSWERS.map(body_of) | st.binary(max_size=64) | st.integers(900, 3000).map(deep),
    protocol=st.sampled_from(["tfserving", "kserve-v1", "v2"]),
    status=st.sampled_from([200, 200, 400, 404, 422, 500]),
    count=st.integers(min_value=1, max_value=3),
)
def test_any_answer_is_scores_or_one_safe_line(body, protocol, status, count):
    served = core.ServedModel("u", "m", protocol)
    try:
        rows, output = read_scores(served, status, "application/json", body, count)
    except AnswerProblem as exc:
        assert one_safe_line(exc.message), repr(exc.message)
        assert one_safe_line(exc.kind)
        return
    assert status == 200 and len(rows) == count
    for row in rows:
        assert row and all(type(v) is float and v == v and abs(v) != float("inf") for v in row)
    assert unsafe_in(output) == []


@pytest.mark.parametrize("said", ["", "   "])
def test_an_error_that_says_nothing_is_named_by_its_status(said):
    """{"error": ""} (or only blanks) is no message: the row
    names the HTTP status instead of showing an empty reason."""
    body = json.dumps({"error": said}).encode()
    with pytest.raises(AnswerProblem) as caught:
        read_scores(core.ServedModel("u", "m", "tfserving"), 400, "application/json", body, 1)
    assert caught.value.message == "HTTP 400 with no error message"


class Canned:
    """A session whose GETs answer from a table: path suffix -> (status, body)."""

    def __init__(self, answers: dict[str, tuple[int, bytes]]) -> None:
        self.answers = answers

    def get(self, url: str, timeout: float, stream: bool = False) -> requests.Response:
        answer = requests.Response()
        answer.status_code, body = next(
            (v for k, v in self.answers.items() if url.endswith(k)), (404, b"{}")
        )
        answer.raw = io.BytesIO(body)
        answer.headers["Content-Type"] = "application/json"
        return answer


STATUS = st.one_of(
    st.fixed_dictionaries({"model_version_status": JSONISH}),
    st.fixed_dictionaries(
        {
            "model_version_status": st.lists(
                st.fixed_dictionaries({"version": JSONISH, "state": JSONISH}), max_size=3
            )
        }
    ),
    st.fixed_dictionaries({"ready": JSONISH}),
    st.fixed_dictionaries({"error": JSONISH}),
)
DIMS = st.lists(st.integers(-3, 300_000) | st.integers(-3, 300_000).map(str) | JSONISH, max_size=5)
META = (
    st.builds(
        lambda dims, name, dtype, outs: tf_meta(
            [], outs, name, dtype, {"dim": [{"size": d} for d in dims]}
        ),
        DIMS,
        TEXT,
        st.sampled_from(["DT_FLOAT", "DT_STRING", "DT_UINT8"]) | TEXT,
        st.dictionaries(TEXT, JSONISH, max_size=3),
    )
    | JSONISH
)
V2 = st.fixed_dictionaries(
    {},
    optional={
        "versions": JSONISH,
        "inputs": JSONISH
        | st.lists(
            st.fixed_dictionaries({"name": JSONISH, "datatype": JSONISH, "shape": DIMS}), max_size=2
        ),
        "outputs": JSONISH | st.lists(JSONISH, max_size=2),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=STATUS.map(body_of) | st.binary(max_size=32),
    meta=META.map(body_of),
    v2=V2.map(body_of),
    codes=st.tuples(st.sampled_from([200, 404, 500]), st.sampled_from([200, 404])),
    shape=st.none() | st.sampled_from([(8, 8, 3), (4000, 4000, 3)]),
)
def test_detect_gives_a_model_with_safe_text_or_one_sentence(status, meta, v2, codes, shape):
    session = Canned(
        {
            "/v1/models/m": (codes[0], status),
            "/metadata": (200, meta),
            "/v2/models/m": (codes[1], v2),
        }
    )
    try:
        served = core.detect("http://h", "m", session=session, shape=shape)
    except core.PredictError as exc:
        assert one_safe_line(str(exc)), repr(str(exc))
        return
    sig = served.signature
    texts = [
        *served.versions,
        served.state,
        *served.outputs,
        sig.input_name,
        sig.dtype,
        sig.output_name,
    ]
    assert unsafe_in("".join(texts)) == []
    h, w, c = sig.shape
    assert h >= 1 and w >= 1 and c in (1, 3) and h * w * c <= 1 << 24
    if shape is not None:
        assert sig.shape == shape


@settings(max_examples=150, deadline=None)
@given(words=st.lists(TEXT, min_size=8, max_size=8))
def test_whatever_a_server_says_the_printed_lines_hold_no_control(words):
    status = {"model_version_status": [{"version": words[0], "state": words[1]}]}
    outputs = {words[2]: {"dtype": "DT_FLOAT"}, words[3]: {}}
    meta = tf_meta([-1, 8, 8, 3], outputs, name=words[4], dtype=words[5])
    session = Canned({"/v1/models/m": (200, body_of(status)), "/metadata": (200, body_of(meta))})
    served = core.detect("http://h", "m", session=session)
    results = []
    for i, (status_code, said) in enumerate(
        [(500, {"error": words[6]}), (422, {"detail": [words[7]]})]
    ):
        result = core.Result(f"{words[i]}.png", words[i + 2])
        try:
            read_scores(served, status_code, "application/json", body_of(said), 1)
        except AnswerProblem as exc:
            result.error_kind, result.error = exc.kind, exc.message
        results.append(result)
    results.append(core.Result("ok.png", words[1], words[1], 0.5, latency_ms=1.0, output=words[3]))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cli_predict._print(served, results, core.summarize(results, 1.0))
    assert unsafe_in(printed.getvalue()) == []
