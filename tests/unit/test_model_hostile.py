"""`mltui model` and version picking against a server that answers with hostile
bodies (a small HTTP server on 127.0.0.1, started here): whatever it says, the
report holds only safe text, bounded lists, and every problem is one sentence."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltui.core.predict import PredictError, detect
from mltui.core.predict.metrics import MetricsProblem, scrape, summarize_metrics
from mltui.core.predict.models import describe
from mltui.core.textsafe import safe_text

EVIL = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b]0;pwned\x07"
ANSWERS: dict[str, tuple[int, str, bytes]] = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        status, ctype, body = ANSWERS.get(self.path, (404, "text/html", b"<html>nope</html>"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def answer(path: str, body: object, status: int = 200, ctype: str = "application/json") -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ANSWERS[path] = (status, ctype, raw)


def hostile_server() -> None:
    ANSWERS.clear()
    statuses = [
        {"version": "7", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}},
        {"version": "8", "state": "LOADING", "status": {"error_code": "OK", "error_message": ""}},
        {"version": "9", "state": "END" + EVIL, "status": {"error_code": "DATA_LOSS" + EVIL,
                                                          "error_message": EVIL * 50}},
        {"version": ["a"], "state": {"x": 1}, "status": "nope"},
        "not an entry",
    ] + [{"version": str(1000 + i), "state": "AVAILABLE"} for i in range(500)]  # fmt: skip
    answer("/v1/models/m", {"model_version_status": statuses})
    answer("/v1/models/m/metadata", {"model_spec": {"version": "7"}})
    answer("/v1/models/m/versions/7", {"model_version_status": statuses[:1]})
    answer("/v1/models/m/versions/8", {"model_version_status": statuses[1:2]})
    answer("/v1/models/m/versions/9", {"model_version_status": statuses[2:3]})
    answer("/v1/models/m/versions/7/metadata", b"[" * 100_000)
    sig = json.dumps({"metadata": {"signature_def": {"signature_def": {
        "serving_default": {"inputs": {EVIL: {"dtype": EVIL, "tensor_shape": {"dim": [
            {"size": "-1"}, {"size": "99999999999999999999"}, {"size": EVIL}]}}},
            "outputs": "NESTED"}}}}})  # fmt: skip
    deep = "[" * 5000 + "]" * 5000  # outputs nested past any recursion limit
    answer("/v1/models/m/versions/1000/metadata", sig.replace('"NESTED"', deep).encode())
    answer(
        "/v1/models/m/labels/stable/metadata",
        b"<html>" + EVIL.encode() + b"</html>",
        500,
        "text/html",
    )
    answer("/v1/models/m/labels/canary/metadata", {"error": EVIL + "no"}, 400)
    answer("/v1/models/m/labels/odd/metadata", {"model_spec": {"version": EVIL}})
    page = (
        "# TYPE :tensorflow:serving:request_count counter\n"
        f':tensorflow:serving:request_count{{model_name="m{EVIL.replace(chr(7), "")}",status="OK"}} 5\n'
        ':tensorflow:serving:request_count{model_name="m",status="NOT_FOUND"} 1e308\n'
        ':tensorflow:serving:request_count{model_name="m",status="OK"} NaN\n'
    )
    answer("/monitoring/prometheus/metrics", page.encode(), ctype="text/plain")


def _all_text(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _all_text(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _all_text(v)]
    return []


def test_a_hostile_model_report_is_safe_and_bounded(url):
    hostile_server()
    report = describe(url, "m", config_labels=[("stable", "7"), ("canary", "8")],
                      labels=["odd", EVIL])  # fmt: skip
    texts = _all_text(asdict(report))
    assert texts and all("\x1b" not in t and "\x07" not in t for t in texts)
    assert len(report.versions) <= 100
    states = {v.version: v for v in report.versions}
    assert "it is LOADING" in states["8"].problem
    assert states["9"].problem.startswith("it failed to load")
    assert states["7"].signature == () and states["7"].signature_problem
    labels = {lb.label: lb for lb in report.labels}
    assert "500" in labels["stable"].problem and "400" in labels["canary"].problem


def test_picking_versions_on_a_hostile_server_is_one_sentence(url):
    hostile_server()
    for kwargs, words in [
        ({"version": "8"}, "not yet AVAILABLE"),
        ({"version": "9"}, "failed to load"),
        ({"version": "5"}, "version 5 is not loaded"),
        ({"label": "canary"}, "400"),
        ({"label": EVIL}, "not a usable name"),
        ({"version": "1", "label": "x"}, "not both"),
    ]:
        with pytest.raises(PredictError) as info:
            detect(url, "m", **kwargs)
        message = str(info.value)
        assert words in message and message == safe_text(message, 2000), (kwargs, message)


def test_a_hostile_metrics_page_gives_safe_bounded_counts(url):
    hostile_server()
    models = summarize_metrics(scrape(url))
    assert all("\x1b" not in m.model for m in models)
    for m in models:
        assert all(v >= 0 and v == v for _, v in m.by_status)  # no NaN kept


@pytest.mark.parametrize(
    ("body", "ctype", "status", "words"),
    [
        (b"<html>404</html>", "text/html", 404, "--monitoring_config_file"),
        (b'{"error": "x"}', "application/json", 200, "not a Prometheus text page"),
        (b"\xff\xfe\x00", "text/plain", 200, "not UTF-8"),
        (b"x{a=1} 2\n", "text/plain", 200, "malformed"),
        (b"", "text/plain", 503, "answered 503"),
    ],
)
def test_metrics_problems_are_one_sentence(url, body, ctype, status, words):
    ANSWERS["/monitoring/prometheus/metrics"] = (status, ctype, body)
    with pytest.raises(MetricsProblem) as info:
        scrape(url)
    assert words in info.value.message


def test_mltui_model_prints_nothing_but_safe_text(url):
    hostile_server()
    out = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "model", "--url", url, "--model", "m", "--no-config",
         "--label", "canary", "--interval", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert "\x1b" not in out.stdout + out.stderr and "\x07" not in out.stdout + out.stderr


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["model_version_status", "version", "state", "status", "error_code",
                         "error_message", "metadata", "signature_def", "inputs", "dim"]),
        inner, max_size=3),
    max_leaves=10,
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(status=JSON, meta=JSON)
def test_any_status_and_metadata_give_a_report_or_one_sentence(url, status, meta):
    ANSWERS.clear()
    answer(
        "/v1/models/m", {"model_version_status": status} if not isinstance(status, dict) else status
    )
    answer("/v1/models/m/metadata", meta)
    answer("/v1/models/m/versions/1/metadata", meta)
    try:
        report = describe(url, "m", labels=["x"])
    except PredictError as exc:
        assert str(exc)
        return
    assert all("\x1b" not in t for t in _all_text(asdict(report)))
