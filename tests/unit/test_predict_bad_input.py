"""`mltui predict` against every kind of bad input: broken files (a FIFO, a device,
a huge sparse file among them, run in a child process with a time and a memory
limit), and a small HTTP server on 127.0.0.1 (started here) that answers each way
a server can go wrong. The run always completes and the results hold every file."""

from __future__ import annotations

import json
import os
import resource
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mltui.core.predict.images import ImageProblem, load_image
from mltui.core.predict.protocols import DEFAULT_SHAPE, Signature, detect

PROBS = [0.01, 0.02, 0.03, 0.9, 0.01, 0.01, 0.01, 0.005, 0.005, 0.0]  # class 3
TF_META = {
    "model_spec": {"name": "m", "signature_name": "", "version": "1"},
    "metadata": {
        "signature_def": {
            "signature_def": {
                "serving_default": {
                    "inputs": {
                        "input_1": {
                            "dtype": "DT_FLOAT",
                            "tensor_shape": {
                                "dim": [{"size": s, "name": ""} for s in ("-1", "8", "8", "3")],
                                "unknown_rank": False,
                            },
                            "name": "serving_default_input_1:0",
                        }
                    },
                    "outputs": {"dense": {"dtype": "DT_FLOAT"}},
                    "method_name": "tensorflow/serving/predict",
                }
            }
        }
    },
}


class Handler(BaseHTTPRequestHandler):
    """The model name picks the behaviour: ok, e400, e404, ..., v2, kserve."""

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        model = parts[2] if len(parts) > 2 else ""
        if parts[:2] == ["v2", "models"]:
            if model == "v2":
                return self._send(
                    200,
                    {
                        "name": "v2",
                        "versions": ["1"],
                        "platform": "x",
                        "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 8, 8, 3]}],
                        "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 10]}],
                    },
                )
            return self._send(404, {"error": f"Model {model} not found"})
        if model in ("v2", "nosuch"):
            return self._send(404, {"error": f"Model with name {model} does not exist."})
        if model == "kserve":
            return self._send(200, {"name": "kserve", "ready": True})
        if self.path.endswith("/metadata"):
            if model == "nometa":
                return self._send(404, {"error": "no metadata"})
            if model == "int64sig":
                meta = json.loads(json.dumps(TF_META))
                spec = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
                spec["inputs"]["input_1"]["dtype"] = "DT_INT64"
                spec["inputs"]["input_1"]["tensor_shape"]["dim"] = [{"size": "-1"}, {"size": "5"}]
                return self._send(200, meta)
            return self._send(200, TF_META)
        return self._send(
            200,
            {
                "model_version_status": [
                    {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK"}}
                ]
            },
        )

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path.startswith("/v2/"):
            n = body["inputs"][0]["shape"][0]
            return self._send(
                200,
                {"model_name": "v2", "outputs": [{"name": "y", "shape": [n, 10], "datatype": "FP32", "data": PROBS * n}]},
            )  # fmt: skip
        model = self.path.split("/")[3].split(":")[0]
        n = len(body.get("instances", []))
        errors = {"e400": 400, "e404": 404, "e429": 429, "e500": 500, "e504": 504}
        if model in errors:
            return self._send(errors[model], {"error": f"{model}: Servable not found for request"})
        if model == "html":
            return self._send(
                502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
            )
        if model == "badjson":
            return self._send(200, b"{predictions: [oops")
        if model == "nan":
            return self._send(
                200, ('{"predictions": [' + ",".join(["[NaN, 0.5]"] * n) + "]}").encode()
            )
        if model == "shape":
            return self._send(200, {"predictions": [PROBS]})  # one row, whatever was sent
        if model == "slow":
            time.sleep(3)
        return self._send(200, {"predictions": [PROBS] * n})


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that timed out and left: expected here


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def png(path: Path, w: int, h: int, mode: str = "RGB") -> Path:
    from PIL import Image

    Image.new(mode, (w, h), color=128 if mode == "L" else (10, 20, 30, 255)[: len(mode)]).save(path)
    return path


def huge_png(path: Path) -> Path:
    """A PNG whose header claims 20000 x 20000 pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "imgs"
    (root / "3").mkdir(parents=True)
    (root / "7").mkdir()
    png(root / "3" / "rgb.png", 16, 16)
    png(root / "3" / "grey.png", 16, 16, "L")  # grayscale: converted, fine
    png(root / "3" / "rgba.png", 16, 16, "RGBA")  # RGBA: converted, fine
    png(root / "7" / "wrong.png", 16, 16)  # the server says 3: a miss
    (root / "3" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    (root / "3" / "text.jpg").write_text("I am not a JPEG")
    (root / "notes.txt").write_text("not an image by name")
    huge_png(root / "3" / "bomb.png")
    os.symlink(tmp_path / "nowhere.png", root / "3" / "dangling.png")  # unreadable
    return root


def predict(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mltui.cli", "predict", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def results_of(out: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    data = json.loads(out.stdout)
    return {r["image"]: r for r in data["results"]}


def test_every_file_gets_its_result_and_bad_files_say_why(server, folder):
    out = predict("--url", server, "--model", "ok", "--json", str(folder))
    assert out.returncode == 1  # bad files are failures: the gate closes
    res = results_of(out)
    assert len(res) == 9  # every file is in the results
    kinds = {k: v["error_kind"] for k, v in res.items()}
    assert kinds == {
        "3/rgb.png": "",
        "3/grey.png": "",
        "3/rgba.png": "",
        "7/wrong.png": "",
        "3/corrupt.png": "corrupt image",
        "3/text.jpg": "not an image",
        "notes.txt": "skipped",
        "3/bomb.png": "too large",
        "3/dangling.png": "unreadable",
    }
    assert res["3/rgb.png"]["predicted"] == "3" and res["3/rgb.png"]["confidence"] == 0.9
    assert res["7/wrong.png"]["predicted"] == "3"
    summary = json.loads(out.stdout)["summary"]
    assert summary["accuracy"] == 0.75 and summary["labelled"] == 4
    assert summary["confused"] == [["7", "3", 1]]
    assert summary["errors"]["corrupt image"] == 1
    # notes.txt is listed but not sent: it counts as neither an image nor an error
    assert summary["skipped"] == 1 and "skipped" not in summary["errors"]
    assert summary["images"] == 8 and summary["failed"] == 4


def test_sort_orders_the_printed_rows_and_the_json(server, folder):
    out = predict("--url", server, "--model", "ok", "--json", "--sort", "problems", str(folder))
    order = [r["image"] for r in json.loads(out.stdout)["results"]]
    # the four failures (by file), the miss, the hits; the skipped file last
    assert set(order[:4]) == {"3/bomb.png", "3/corrupt.png", "3/dangling.png", "3/text.jpg"}
    assert order[4] == "7/wrong.png" and order[-1] == "notes.txt"
    text = predict("--url", server, "--model", "ok", "--sort", "problems", str(folder)).stdout
    rows = [line.split()[1] for line in text.splitlines()[1:9]]
    assert rows[:5] == order[:5]
    bad = predict("--url", server, "--model", "ok", "--sort", "size", str(folder))
    assert bad.returncode == 2 and "invalid choice: 'size'" in bad.stderr


@pytest.mark.parametrize(
    ("model", "kind", "says"),
    [
        ("e400", "server 400", "e400"),
        ("e404", "server 404", "Servable not found"),
        ("e429", "server 429", "e429"),
        ("e500", "server 500", "e500"),
        ("e504", "server 504", "e504"),
        ("html", "server 502", "HTML error page"),
        ("badjson", "bad answer", "invalid JSON"),
        ("nan", "NaN in answer", "NaN"),
        ("shape", "wrong shape", "1 predictions for 2 images"),
    ],
)
def test_a_server_that_answers_badly_fails_each_image_with_a_reason(
    server, tmp_path, model, kind, says
):
    for name in ("a.png", "b.png"):
        png(tmp_path / name, 8, 8)
    out = predict("--url", server, "--model", model, "--batch", "2", "--json", str(tmp_path))
    assert out.returncode == 1, out.stderr
    res = results_of(out)
    assert {r["error_kind"] for r in res.values()} == {kind}
    assert all(says in r["error"] for r in res.values()), res
    assert "Traceback" not in out.stderr


def test_timeouts_and_refused_connections(server, tmp_path):
    png(tmp_path / "a.png", 8, 8)
    slow = predict("--url", server, "--model", "slow", "--timeout", "1", "--json", str(tmp_path))
    assert results_of(slow)["a.png"]["error_kind"] == "timeout"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once closed
    refused = predict("--url", f"http://127.0.0.1:{port}", str(tmp_path))
    assert refused.returncode == 2
    assert "connection refused" in refused.stderr and "Traceback" not in refused.stderr


def test_runs_that_cannot_start_say_why(server, tmp_path):
    png(tmp_path / "a.png", 8, 8)
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (["--model", "ok", str(empty)], "no image in it"),
        (["--model", "ok", str(tmp_path / "missing")], "not a folder"),
        (["--model", "nosuch", str(tmp_path)], "404 Model nosuch not found"),
        (["--model", "int64sig", str(tmp_path)], "DT_INT64"),
        (["--model", "ok", "--shape", "a,b", str(tmp_path)], "give H,W,C"),
        (["--model", "ok", "--classes", str(tmp_path / "none.txt"), str(tmp_path)], "none.txt"),
    ]
    for args, says in cases:
        out = predict("--url", server, *args)
        assert out.returncode == 2, (args, out.stdout)
        assert says in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr


def test_protocols_are_detected_from_the_server(server, tmp_path):
    png(tmp_path / "a.png", 8, 8)
    for model, protocol, source in (
        ("ok", "tfserving", "metadata"),
        ("nometa", "tfserving", "default"),
        ("kserve", "kserve-v1", "default"),
        ("v2", "v2", "metadata"),
    ):
        out = predict("--url", server, "--model", model, "--json", str(tmp_path))
        data = json.loads(out.stdout)
        assert data["endpoint"]["protocol"] == protocol, model
        assert data["endpoint"]["signature"]["source"] == source, model
        assert data["results"][0]["predicted"] == "3", model
        assert out.returncode == 0, out.stderr
    # the article's shape by default when there is no metadata
    assert data["endpoint"]["signature"]["shape"] == [8, 8, 3]
    endpoint = detect(server, "nometa")
    assert endpoint.signature.shape == DEFAULT_SHAPE


def test_class_names_gate_and_exports(server, tmp_path):
    names = tmp_path / "names.json"
    names.write_text(json.dumps(["zero", "one", "two", "three", "four", "five", "six", "seven"]))
    root = tmp_path / "imgs"
    for cls in ("three", "seven"):
        (root / cls).mkdir(parents=True)
        png(root / cls / "x.png", 8, 8)  # the server answers class 3 for everything
    csv_path, json_path = tmp_path / "r.csv", tmp_path / "r.json"
    common = ["--url", server, "--model", "ok", "--classes", str(names)]
    passed = predict(
        *common, "--min-accuracy", "0.5", "--csv", str(csv_path), "--out", str(json_path), str(root)
    )
    assert passed.returncode == 0, passed.stderr
    assert "MISS seven/x.png" in passed.stdout and "three" in passed.stdout
    assert "most confused: seven->three 1" in passed.stdout
    assert len(csv_path.read_text().splitlines()) == 1 + 2
    assert json.loads(json_path.read_text())["summary"]["accuracy"] == 0.5
    gated = predict(*common, "--min-accuracy", "0.75", str(root))
    assert gated.returncode == 1
    assert "accuracy 0.500 is under 0.75" in gated.stderr


# -- files: a FIFO, a device, a huge sparse file: one row each, bounded ---------------
def limited() -> None:
    """In the child: at most 1 GiB of address space, so a read of a device or a sparse
    file fails fast instead of taking the machine's memory."""
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def test_fifos_devices_and_huge_files_are_refused_before_reading(server, tmp_path):
    images = tmp_path / "imgs"
    images.mkdir()
    png(images / "a.png", 8, 8)
    png(images / "b.png", 8, 8)
    os.mkfifo(images / "fifo.png")
    os.symlink("/dev/zero", images / "zero.png")
    with (images / "sparse.png").open("wb") as fh:
        fh.truncate(2 << 30)  # 2 GiB, no disk used
    header = (images / "a.png").read_bytes()
    with (images / "huge-but-png.png").open("wb") as fh:  # a real header, then 300 MiB
        fh.write(header)
        fh.truncate(300 << 20)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mltui.cli",
            "predict",
            "--url",
            server,
            "--model",
            "ok",
            "--json",
            str(images),
        ],
        capture_output=True,
        text=True,
        timeout=60,  # a FIFO read blocks forever: the guard
        preexec_fn=limited,
        env=env,
        check=False,
    )
    assert "Traceback" not in out.stderr, out.stderr
    rows = {r["image"]: (r["error_kind"], r["error"]) for r in json.loads(out.stdout)["results"]}
    assert rows == {
        "a.png": ("", ""),
        "b.png": ("", ""),
        "fifo.png": ("not a file", "a named pipe (FIFO), not a regular file: not read"),
        "zero.png": ("not a file", "a character device, not a regular file: not read"),
        "sparse.png": ("too large", "2,147,483,648 bytes is over mltui's limit of 268,435,456"),
        "huge-but-png.png": ("too large", "314,572,800 bytes is over mltui's limit of 268,435,456"),
    }
    assert out.returncode == 1


def test_a_file_that_is_not_an_image_is_told_from_its_header(tmp_path):
    big = tmp_path / "zeros.png"
    with big.open("wb") as fh:
        fh.truncate(200 << 20)  # under the cap: only the header is read to refuse it
    tracemalloc.start()
    with pytest.raises(ImageProblem) as caught:
        load_image(big, Signature(shape=(8, 8, 3)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert caught.value.kind == "not an image" and peak < 8 << 20
