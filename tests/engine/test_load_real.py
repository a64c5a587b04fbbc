"""`mltui load` against the demo's real model server in a container (published on
127.0.0.1), short and bounded: two levels of a couple of seconds, and a server
stopped in the middle of a run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import docker, wait_for

from mltui.deploy.images import ensure_image
from mltui.deploy.stacks import DEMO_DIR, DEMO_MODEL

pytestmark = pytest.mark.engine

READY = "Exporting HTTP/REST API at:localhost:8501"


def start_model(name: str, run_id: str) -> str:
    """A demo model container on a free port of 127.0.0.1; its URL once it is ready."""
    tag = ensure_image(DEMO_MODEL)
    docker(
        "run", "-d", "--name", name, "--label", f"mltui.test={run_id}",
        "-p", "127.0.0.1::8501", tag,
    )  # fmt: skip
    port = docker("port", name, "8501/tcp").split(":")[-1].strip()
    wait_for("the model's readiness line", lambda: READY in docker("logs", name, check=False))
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def model(engine_info, run_id):
    name = f"h15load-{run_id}"
    try:
        yield start_model(name, run_id), name
    finally:
        docker("rm", "-f", name, check=False)


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """Four of the demo's test images (the run encodes each once)."""
    folder = tmp_path / "images"
    for cls in ("1", "7"):
        (folder / cls).mkdir(parents=True)
        for path in sorted((DEMO_DIR / "test-images" / cls).glob("*.png"))[:2]:
            (folder / cls / path.name).write_bytes(path.read_bytes())
    return folder


def mltui_load(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mltui.cli", "load", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_load_two_levels_json(model, images):
    url, name = model
    started = time.monotonic()
    run = mltui_load(
        str(images), "--url", url, "--concurrency", "1,2", "--duration", "2",
        "--max-requests", "400", "--json",
    )  # fmt: skip
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert time.monotonic() - started < 40
    data = json.loads(out)
    assert data["url"] == f"{url}/v1/models/my_model:predict"
    assert data["protocol"] == "tfserving" and data["bodies"] == 4
    assert data["body_bytes"] > 1_000_000  # 224x224x3 floats as JSON
    assert [lv["concurrency"] for lv in data["levels"]] == [1, 2]
    for lv in data["levels"]:
        assert lv["ok"] > 0 and lv["failed"] == 0 and lv["errors"] == []
        assert lv["throughput_rps"] > 0 and lv["images_per_s"] == lv["throughput_rps"]
        lat = lv["latency_ms"]
        assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
        assert 1.9 <= lv["seconds"] < 2 + 10
    # each answer names its replica: here the one container, by its host name
    container_id = docker("inspect", "-f", "{{.Config.Hostname}}", name).strip()
    assert data["replicas"] == {container_id: sum(lv["ok"] for lv in data["levels"])}
    assert data["knee"] in (None, 1)
    assert sum(lv["requests"] for lv in data["levels"]) <= 400
    assert err.count("level ") == 2


def test_a_server_stopped_mid_run_is_counted_and_the_report_written(model, images, tmp_path):
    url, name = model
    report = tmp_path / "report.json"
    started = time.monotonic()
    run = mltui_load(
        str(images), "--url", url, "--concurrency", "1,2", "--duration", "4",
        "--timeout", "3", "--json", "--out", str(report),
    )  # fmt: skip
    try:
        # stop the server once it has answered a few of the run's requests
        wait_for(
            "answers to the load test",
            lambda: docker("logs", name, check=False).count(":predict 200") >= 3,
            timeout=30,
            interval=0.1,
        )
        docker("kill", name)
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, err
    # two levels of 4 s, each ending at its bound (+ the timeout of a request in flight)
    assert time.monotonic() - started < 30
    data = json.loads(out)
    assert json.loads(report.read_text()) == data
    first, second = data["levels"]
    assert first["ok"] >= 1
    assert second["ok"] == 0 and second["failed"] > 0
    kinds = {e["kind"] for lv in data["levels"] for e in lv["errors"]}
    assert kinds and kinds <= {"refused", "reset", "timeout"}, kinds
    assert "refused" in kinds  # nothing listens on the published port any more
    for lv in data["levels"]:
        assert lv["failed"] == sum(e["count"] for e in lv["errors"])
