"""The load test's figures and its behaviour against a small real server.

The histogram's quantiles are checked against numpy.percentile on the raw
samples (the oracle), within the histogram's stated precision (three significant
digits); the knee against levels whose expected knee is written here; the error
groups against a server on 127.0.0.1 (started here) that answers each request in
turn with a success, a 503 with hostile words, a dropped connection and an HTML
500 page.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from helpers import free_port

from mltui.cli import main
from mltui.core.predict import ServedModel, Signature
from mltui.core.predict.load import (
    LoadBody,
    LoadError,
    parse_levels,
    probe,
    report_json,
    run_load,
    target_url,
)
from mltui.core.predict.load_stats import (
    MAX_ERROR_KINDS,
    OTHER,
    ErrorKey,
    LatencyHistogram,
    LevelResult,
    count_error,
    find_knee,
    level_json,
)

EVIL = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\u202eevil\x9b31m"
UNSAFE = {*range(0x20), 0x7F, *range(0x80, 0xA0), 0x202E}


def shown_safely(text: str) -> bool:
    return not any(ord(c) in UNSAFE for c in text)


# -- the histogram ----------------------------------------------------------------


@pytest.mark.parametrize(
    "samples",
    [
        np.random.default_rng(1).lognormal(np.log(0.05), 0.6, 20_000),  # 50 ms, long tail
        np.random.default_rng(2).uniform(0.001, 2.0, 5_000),
        np.concatenate(  # two modes: cache hits and misses
            [
                np.random.default_rng(3).normal(0.004, 0.0005, 9_000),
                np.random.default_rng(4).normal(0.250, 0.020, 1_000),
            ]
        ),
        np.array([0.0123]),
    ],
    ids=["lognormal", "uniform", "bimodal", "one"],
)
def test_histogram_quantiles_match_numpy_within_its_precision(samples):
    samples = np.clip(samples, 1e-5, None)
    hist = LatencyHistogram()
    for s in samples:
        hist.record(float(s))
    assert hist.count == len(samples)
    micros = np.floor(samples * 1e6)  # what was recorded: whole microseconds
    ordered = np.sort(micros)
    for pct in (50, 90, 95, 99, 99.9):
        want = np.percentile(micros, pct, method="inverted_cdf") / 1000.0
        got = hist.quantile_ms(pct)
        # three significant digits: a value is kept within 0.1% (of its bucket's top) ..
        assert got == pytest.approx(want, rel=2e-3, abs=1e-3) or (
            # .. and the rank may round one sample the other way (sparse tails)
            ordered[max(0, int(np.ceil(pct / 100 * len(micros))) - 2)] / 1000.0 * (1 - 2e-3)
            <= got
            <= ordered[min(len(micros) - 1, int(np.ceil(pct / 100 * len(micros))))]
            / 1000.0
            * (1 + 2e-3)
        ), pct
    assert hist.max_ms() == pytest.approx(micros.max() / 1000.0, rel=2e-3)


def test_histograms_merge_as_one_and_empty_has_no_quantiles():
    rng = np.random.default_rng(7)
    parts = [rng.exponential(0.02, 3_000) + 0.001 for _ in range(4)]
    merged, whole = LatencyHistogram(), LatencyHistogram()
    for part in parts:
        h = LatencyHistogram()
        for s in part:
            h.record(float(s))
            whole.record(float(s))
        merged.merge(h)
    assert merged.count == whole.count == 12_000
    for pct in (50, 95, 99):
        assert merged.quantile_ms(pct) == whole.quantile_ms(pct)
    empty = LatencyHistogram()
    assert empty.quantile_ms(50) is None and empty.max_ms() is None


# -- the knee -------------------------------------------------------------------------


def level(concurrency, rps, p95, seconds=10.0):
    lv = LevelResult(concurrency, seconds=seconds, ok=round(rps * seconds))
    lv.p50_ms, lv.p95_ms = p95 / 2, p95
    return lv


@pytest.mark.parametrize(
    "figures, knee",
    [
        # throughput doubles, then 100 -> 105 (+5%) while p95 rises: the knee is at 4
        ([(1, 25, 40), (2, 50, 42), (4, 100, 45), (8, 105, 80), (16, 106, 160)], 4),
        # still +12% at the end: no knee
        ([(1, 25, 40), (2, 50, 41), (4, 100, 44), (8, 112, 60)], None),
        # flat from the first level on, latency rising: the knee is the first level
        ([(1, 20, 50), (2, 21, 95), (4, 21, 190)], 1),
        # throughput flat but p95 not rising (a faster path): not a knee; the next is
        ([(1, 20, 50), (2, 21, 50), (4, 21.5, 99)], 2),
        # throughput falls while latency rises: that is a knee too
        ([(1, 40, 30), (2, 30, 70)], 1),
        # exactly +10% is still growth
        ([(1, 10, 30), (2, 11, 40)], None),
        # a dip (a noisy level) is not the knee when throughput grows again after it:
        # the figures of a real run of the demo on a loaded machine
        ([(1, 7.6, 326), (2, 7.5, 529), (4, 12.2, 740), (8, 13.3, 1531), (16, 9.3, 3211)], 4),
        # a level with no answers cannot be compared; order given does not matter
        ([(8, 0, None), (1, 20, 50), (2, 40, 52), (4, 41, 90)], 2),
        ([], None),
    ],
)
def test_knee(figures, knee):
    levels = []
    for c, rps, p95 in figures:
        lv = level(c, rps, p95 or 0.0)
        if p95 is None:
            lv.p50_ms = lv.p95_ms = None
        levels.append(lv)
    assert find_knee(levels) == knee


# -- errors and levels ----------------------------------------------------------------


def test_error_groups_are_bounded_and_safe():
    errors: Counter[ErrorKey] = Counter()
    for i in range(MAX_ERROR_KINDS + 20):
        count_error(errors, ErrorKey.of("server 5xx", 500, f"failure {i} {EVIL}"))
    count_error(errors, ErrorKey.of("server 5xx", 500, f"failure 0 {EVIL}"), 5)
    assert len(errors) == MAX_ERROR_KINDS + 1
    assert errors[OTHER] == 20
    assert errors[ErrorKey.of("server 5xx", 500, f"failure 0 {EVIL}")] == 6
    assert all(shown_safely(k.message) for k in errors)
    lv = LevelResult(4, seconds=2.0, ok=10, errors=dict(errors))
    data = level_json(lv)
    assert data["requests"] == 10 + MAX_ERROR_KINDS + 25 and data["failed"] == MAX_ERROR_KINDS + 25
    assert data["errors"][0]["count"] == 20 and data["errors"][0]["kind"] == "other"
    assert data["throughput_rps"] == 5.0 and data["latency_ms"]["p95"] is None
    json.dumps(data)


def test_levels_are_checked():
    assert parse_levels("8, 1,2,2,4") == (1, 2, 4, 8)
    for bad in ("", "1,,2", "0,1", "1,x", "-1", "1,257", "1.5", ",".join(map(str, range(1, 20)))):
        with pytest.raises(LoadError):
            parse_levels(bad)


def test_target_url_names_the_version():
    tf = ServedModel("http://127.0.0.1:8501", "my model", "tfserving")
    assert target_url(tf) == "http://127.0.0.1:8501/v1/models/my%20model:predict"
    assert target_url(tf, "2") == "http://127.0.0.1:8501/v1/models/my%20model/versions/2:predict"
    v2 = ServedModel("http://127.0.0.1:9000", "m", "v2")
    assert target_url(v2, "3") == "http://127.0.0.1:9000/v2/models/m/versions/3/infer"


# -- a real server that misbehaves in turn ---------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall
    seen = Counter()
    lock = threading.Lock()

    def log_message(self, *_args):
        pass

    def do_GET(self):
        if self.server.mode != "mixed" and self.path == "/v1/models/m":  # type: ignore[attr-defined]
            status = {"model_version_status": [{"version": "1", "state": "AVAILABLE"}]}
            self._reply(200, json.dumps(status).encode())
        else:
            self._reply(404, b"<html>not here</html>", "text/html")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.lock:
            n = self.seen["all"]
            self.seen["all"] += 1
        mode = self.server.mode  # type: ignore[attr-defined]
        turn = n % 4 if mode == "mixed" else 0
        if mode == "slow":
            time.sleep(0.5)
        if turn == 0:
            self._reply(
                200, b'{"predictions": [[0.1, 0.9]]}', replica=f"r{n // 4 % 2}\x1b[2J\x9b31m\x07"
            )
        elif turn == 1:
            self._reply(503, json.dumps({"error": f"overloaded {EVIL}"}).encode())
        elif turn == 2:
            self.close_connection = True  # no answer at all: the connection just ends
        else:
            self._reply(500, b"<html><body>Internal error</body></html>", "text/html")

    def _reply(self, code, body, ctype="application/json", replica=""):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if replica:
            self.send_header("X-Replica", replica)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.mode = "mixed"
    Handler.seen = Counter()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def served_at(port: int) -> ServedModel:
    return ServedModel(
        f"http://127.0.0.1:{port}", "m", "tfserving", ("1",), "AVAILABLE", Signature()
    )


BODY = [LoadBody(b'{"instances": [[0.0]]}')]


def test_errors_are_grouped_by_kind_status_and_message(server):
    served = served_at(server.server_address[1])
    started = time.monotonic()
    report = run_load(served, BODY, levels=[1, 2], duration_s=0.6, max_requests=2_000)
    assert time.monotonic() - started < 0.6 * 2 + 3  # each level ends at its bound
    data = report_json(report)
    assert [lv["concurrency"] for lv in data["levels"]] == [1, 2]
    for lv in report.levels:
        kinds = lv.errors_by_kind()
        assert lv.ok > 0 and lv.p50_ms is not None
        assert set(kinds) == {"server 5xx", "reset"}, lv.errors
        statuses = {k.status for k in lv.errors if k.kind == "server 5xx"}
        assert statuses == {500, 503}
        messages = {k.message for k in lv.errors}
        assert any(m.startswith("overloaded ") for m in messages)
        assert "HTTP 500 with an HTML error page" in messages
        assert all(shown_safely(m) for m in messages)
        assert all(shown_safely(name) for name in lv.replicas) and len(lv.replicas) == 2
        # of every four requests one succeeds, two fail with 5xx, one is dropped
        assert kinds["server 5xx"] == pytest.approx(2 * lv.ok, abs=4)
        assert kinds["reset"] == pytest.approx(lv.ok, abs=2)
    json.dumps(data)


def test_a_server_that_is_gone_is_counted_and_the_run_ends_at_its_bound():
    port = free_port()  # nothing listens there
    started = time.monotonic()
    report = run_load(served_at(port), BODY, levels=[1, 4], duration_s=0.5, max_requests=100_000)
    assert time.monotonic() - started < 0.5 * 2 + 2
    for lv in report.levels:
        assert lv.ok == 0 and lv.p95_ms is None
        assert set(lv.errors_by_kind()) == {"refused"} and lv.failed > 0
    assert report.knee is None


def test_the_request_cap_and_stop_end_a_run(server):
    server.mode = "ok"
    served = served_at(server.server_address[1])
    report = run_load(served, BODY, levels=[1, 2], duration_s=30, max_requests=40)
    assert sum(lv.requests for lv in report.levels) <= 40
    assert [lv.stopped for lv in report.levels] == ["request cap", "request cap"]
    assert Handler.seen["all"] <= 40
    stop = threading.Event()
    seen = []

    def progress(step):
        seen.append(step)
        if step.requests >= 5:
            stop.set()

    started = time.monotonic()
    report = run_load(served, BODY, levels=[1, 2, 4], duration_s=30, progress=progress, stop=stop)
    assert time.monotonic() - started < 5
    assert report.stopped == "stopped" and len(report.levels) == 1
    assert report.levels[0].stopped == "stopped" and seen[-1].done is report.levels[0]


def test_a_timeout_is_counted_as_one(server):
    server.mode = "slow"
    served = served_at(server.server_address[1])
    report = run_load(served, BODY, levels=[1], duration_s=0.6, timeout_s=0.2)
    assert report.levels[0].errors_by_kind() == {"timeout": report.levels[0].failed}
    assert report.levels[0].failed >= 1


def test_probe(server):
    served = served_at(server.server_address[1])
    assert probe(served, BODY[0]) is None  # the first request of the mixed server: 200
    assert probe(served, BODY[0]).status == 503


# -- the command ---------------------------------------------------------------------


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def one_image(tmp_path: Path) -> Path:
    from PIL import Image

    folder = tmp_path / "images" / "3"
    folder.mkdir(parents=True)
    Image.new("RGB", (8, 8), (200, 10, 10)).save(folder / "a.png")
    return tmp_path / "images"


def test_cli_bad_input_exits_2(tmp_path, one_image, server):
    url = f"http://127.0.0.1:{server.server_address[1]}"
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (["load", str(one_image), "--url", url, "--concurrency", "1,two"], "whole numbers"),
        (["load", str(one_image), "--url", url, "--duration", "61"], "--duration"),
        (["load", str(one_image), "--url", url, "--max-requests", "0"], "--max-requests"),
        (["load", str(empty), "--url", url], "no image"),
        (["load", str(tmp_path / "nope"), "--url", url], "not a folder"),
        # the server answers 404 HTML to the status request: not a model server
        (["load", str(one_image), "--url", url], "no known model status"),
        (["load", str(one_image), "--url", "http://127.0.0.1:1"], "connection refused"),
    ]
    for argv, said in cases:
        code, out, err = run_cli(*argv)
        assert code == 2, (argv, err)
        assert said in err and out == "", (argv, err)
        assert err.count("\n") == 1 and shown_safely(err.strip())


def test_cli_report_as_json_and_as_a_table(one_image, server):
    server.mode = "ok"
    url = f"http://127.0.0.1:{server.server_address[1]}"
    argv = ["load", str(one_image), "--url", url, "--model", "m", "--duration", "0.4"]
    code, out, err = run_cli(*argv, "--concurrency", "2,1", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["url"] == f"{url}/v1/models/m:predict" and data["protocol"] == "tfserving"
    assert [lv["concurrency"] for lv in data["levels"]] == [1, 2]
    for lv in data["levels"]:
        assert lv["ok"] > 0 and lv["throughput_rps"] > 0 and lv["failed"] == 0
        assert set(lv["latency_ms"]) == {"p50", "p95", "p99", "max"}
        assert lv["latency_ms"]["p50"] <= lv["latency_ms"]["p95"] <= lv["latency_ms"]["max"]
    assert "knee" in data and data["stopped"] is None
    assert err.count("level ") == 2  # progress on stderr, a line a level when not a terminal
    code, out, err = run_cli(*argv, "--concurrency", "1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"load test of {url}/v1/models/m:predict (tfserving")
    head = "workers requests failed req/s images/s p50 ms p95 ms p99 ms max ms"
    assert lines[1].split() == head.split()
    assert lines[2].split()[0] == "1" and lines[3].startswith("knee: none")
