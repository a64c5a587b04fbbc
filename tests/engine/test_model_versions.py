"""Issue 15 against the demo's real model server: two versions of the digit model
with labels (a TF Serving model config file) and TF Serving's metrics page.

The demo image runs directly as containers on 127.0.0.1 ports (no stack), named
h15model-<run>-*. The server's answers are checked for the structure and status
codes TF Serving documents (g3doc/api_rest.md, protocols.md), and mltui's
`predict --version/--label/--compare` and `model` against what the server answers
image by image.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import requests
from helpers import docker, free_port, read_png_rgb, wait_for
from prometheus_client.parser import text_string_to_metric_families

from mltui.deploy.images import ensure_image
from mltui.deploy.stacks import DEMO_DIR, DEMO_MODEL, DEMO_MODEL_VERSIONS

pytestmark = pytest.mark.engine

STABLE, CANARY = (str(DEMO_MODEL_VERSIONS[k]) for k in ("stable", "canary"))
BROKEN = "1770000000"  # a version folder without a model in it
SMALL = "1780000000"  # the stable weights taking 112x112 images: another signature
# held-out digits on which the two versions were seen to differ, and some they share
IMAGES = ["1/digit-0233.png", "1/digit-0326.png", "7/digit-0026.png", "9/digit-0002.png",
          "8/digit-0276.png", "0/digit-0015.png", "0/digit-0031.png", "3/digit-0096.png",
          "4/digit-0039.png", "5/digit-0372.png", "6", "2"]  # fmt: skip


def _start(name: str, run_id: str, *command: str) -> str:
    docker(
        "run", "-d", "--name", name, "--label", f"mltui.test={run_id}",
        "-p", "127.0.0.1::8501", ensure_image(DEMO_MODEL), *command,
    )  # fmt: skip
    port = docker("port", name, "8501/tcp").split(":")[-1].strip()
    wait_for(
        f"{name} ready",
        lambda: "Exporting HTTP/REST API at:localhost:8501" in docker("logs", name, check=False),
        timeout=60,
        interval=0.2,
    )
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def servers(engine_info, run_id):
    """The demo image as built (its model config and monitoring config), and one
    started with a broken version folder, a version with another input size, and
    without the monitoring config."""
    names = [f"h15model-{run_id}-versions", f"h15model-{run_id}-broken"]
    try:
        url = _start(names[0], run_id)
        broken = _start(
            names[1], run_id, "sh", "-c",
            f"mkdir -p /models/my_model/{BROKEN} /models/my_model/{SMALL} && "
            f"cp /models/my_model/{STABLE}/weights.npz /models/my_model/{SMALL}/ && "
            f"echo 112 > /models/my_model/{SMALL}/side.txt && exec python3 /srv/model/server.py "
            "--model_config_file=/srv/model/models.config",
        )  # fmt: skip
        yield url, broken, names
    finally:
        for name in names:
            docker("rm", "-f", name, check=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("h15model-images")
    for item in IMAGES:
        source = DEMO_DIR / "test-images" / item
        paths = [source] if source.is_file() else sorted(source.glob("*.png"))[:2]
        for path in paths:
            (root / path.parent.name).mkdir(exist_ok=True)
            shutil.copy(path, root / path.parent.name / path.name)
    return root


def _class_of(url: str, path: str, image) -> tuple[str, float]:
    body = json.dumps({"signature_name": "serving_default", "instances": [image]})
    answer = requests.post(f"{url}{path}", data=body, timeout=60)
    assert answer.status_code == 200, answer.text
    probs = answer.json()["predictions"][0]
    best = max(range(10), key=probs.__getitem__)
    return str(best), probs[best]


@pytest.fixture(scope="module")
def oracle(servers, folder):
    """Each image's class from each version, asked one by one by version number."""
    url = servers[0]
    out: dict[str, dict[str, str]] = {STABLE: {}, CANARY: {}}
    for path in sorted(folder.glob("*/*.png")):
        image = read_png_rgb(path)
        for version in (STABLE, CANARY):
            key = f"{path.parent.name}/{path.name}"
            out[version][key] = _class_of(url, f"/v1/models/my_model/versions/{version}:predict", image)[0]  # fmt: skip
    return out


def mltui(*args: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess, dict | None]:
    out = subprocess.run(
        [sys.executable, "-m", "mltui.cli", *args], capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    assert "Traceback" not in out.stderr, out.stderr
    try:
        data = json.loads(out.stdout) if "--json" in args and out.stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    return out, data


# -- the server, as TF Serving documents its REST API -------------------------------------
def test_status_lists_every_version_with_state_and_status(servers):
    url = servers[0]
    answer = requests.get(f"{url}/v1/models/my_model", timeout=10)
    assert answer.status_code == 200
    statuses = answer.json()["model_version_status"]
    assert {s["version"] for s in statuses} == {STABLE, CANARY}
    for s in statuses:
        assert isinstance(s["version"], str)
        assert s["state"] == "AVAILABLE"
        assert set(s["status"]) == {"error_code", "error_message"}
        assert s["status"]["error_code"] == "OK"
    one = requests.get(f"{url}/v1/models/my_model/versions/{STABLE}", timeout=10).json()
    assert [s["version"] for s in one["model_version_status"]] == [STABLE]
    for version in (STABLE, CANARY):
        meta = requests.get(f"{url}/v1/models/my_model/versions/{version}/metadata", timeout=10)
        assert meta.json()["model_spec"]["version"] == version
    for label, version in DEMO_MODEL_VERSIONS.items():
        meta = requests.get(f"{url}/v1/models/my_model/labels/{label}/metadata", timeout=10)
        assert meta.status_code == 200 and meta.json()["model_spec"]["version"] == str(version)


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/v1/models/my_model/versions/1", 404),  # NotFound: no such version
        ("POST", "/v1/models/my_model/versions/1:predict", 404),  # NotFound: not loaded
        ("POST", "/v1/models/my_model/labels/nope:predict", 400),  # InvalidArgument: label
        ("GET", "/v1/models/my_model/labels/nope/metadata", 400),
    ],
)
def test_versions_and_labels_not_served_are_tf_serving_errors(servers, method, path, code):
    body = json.dumps({"instances": [[0.0]]}) if method == "POST" else None
    answer = requests.request(method, f"{servers[0]}{path}", data=body, timeout=10)
    assert answer.status_code == code
    error = answer.json()
    assert set(error) == {"error"} and isinstance(error["error"], str) and error["error"]


def test_a_failed_version_is_end_with_its_error(servers):
    statuses = requests.get(f"{servers[1]}/v1/models/my_model", timeout=10).json()
    broken = next(s for s in statuses["model_version_status"] if s["version"] == BROKEN)
    assert broken["state"] == "END"
    assert broken["status"]["error_code"] not in ("OK", "")
    assert broken["status"]["error_message"]
    # the latest that can answer still answers
    assert requests.get(f"{servers[1]}/v1/models/my_model/metadata", timeout=10).status_code == 200


def test_metrics_page_is_prometheus_text_with_tf_serving_names(servers, folder):
    url = servers[0]

    def count_ok() -> float:
        page = requests.get(f"{url}/monitoring/prometheus/metrics", timeout=10)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/plain")
        families = {f.name: f for f in text_string_to_metric_families(page.text)}
        assert families[":tensorflow:serving:request_latency"].type == "histogram"
        counter = families.get(":tensorflow:serving:request_count")
        return sum(
            s.value
            for s in (counter.samples if counter else [])
            if s.labels == {"model_name": "my_model", "status": "OK"}
        )

    _class_of(url, "/v1/models/my_model:predict", read_png_rgb(next(folder.glob("*/*.png"))))
    before = count_ok()
    image = read_png_rgb(next(folder.glob("*/*.png")))
    for _ in range(3):
        _class_of(url, "/v1/models/my_model:predict", image)
    assert count_ok() == before + 3
    # without --monitoring_config_file there is no page: a 404
    assert (
        requests.get(f"{servers[1]}/monitoring/prometheus/metrics", timeout=10).status_code == 404
    )


# -- mltui predict --version / --label ------------------------------------------------------
@pytest.mark.parametrize(("flag", "value", "version"), [
    ("--version", STABLE, STABLE), ("--label", "canary", CANARY), ("--label", "stable", STABLE)])  # fmt: skip
def test_predict_a_version_or_label_says_which_answered(
    servers, folder, oracle, flag, value, version
):
    out, data = mltui("predict", str(folder), "--url", servers[0], "--json", flag, value)
    assert out.returncode == 0, out.stderr
    assert data["summary"]["versions"] == [version]
    assert {r["image"]: r["predicted"] for r in data["results"]} == oracle[version]
    assert {r["version"] for r in data["results"]} == {version}
    text, _ = mltui("predict", str(folder), "--url", servers[0], flag, value)
    assert f"answered by version {version}" in text.stdout


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--version", "1", "version 1 is not loaded: 404"),
        ("--label", "nope", "label 'nope' does not name a version the server can serve: 400"),
    ],
)
def test_predict_a_version_or_label_not_served_is_one_sentence(servers, folder, flag, value, words):
    out, _ = mltui("predict", str(folder), "--url", servers[0], flag, value)
    assert out.returncode == 2
    assert words in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_predict_a_failed_version_shows_its_error(servers, folder):
    out, _ = mltui("predict", str(folder), "--url", servers[1], "--version", BROKEN)
    assert out.returncode == 2
    assert f"version {BROKEN}: it failed to load (END)" in out.stderr


# -- compare --------------------------------------------------------------------------------
def test_compare_two_labels_reports_the_disagreements(servers, folder, oracle):
    stable, canary = oracle[STABLE], oracle[CANARY]
    differ = {image for image in stable if stable[image] != canary[image]}
    assert differ, "the demo's two versions must disagree on some images"
    out, data = mltui("predict", str(folder), "--url", servers[0], "--json",
                      "--compare", "stable", STABLE)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert data["agreement"] == 1.0 and data["disagreements"] == []  # the same version twice
    out, data = mltui("predict", str(folder), "--url", servers[0], "--json",
                      "--compare", "stable", CANARY)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert data["a"]["version"] == STABLE and data["b"]["version"] == CANARY
    assert data["a"]["label"] == "stable"
    assert {d["image"] for d in data["disagreements"]} == differ
    for d in data["disagreements"]:
        assert (d["a"]["class"], d["b"]["class"]) == (stable[d["image"]], canary[d["image"]])
    assert data["agreement"] == pytest.approx(1 - len(differ) / len(stable))
    truth = {image: image.split("/")[0] for image in stable}
    acc = {v: sum(o[i] == truth[i] for i in truth) / len(truth) for v, o in oracle.items()}
    assert data["a"]["accuracy"] == pytest.approx(acc[STABLE])
    assert data["b"]["accuracy"] == pytest.approx(acc[CANARY])
    assert data["a"]["p50_ms"] is not None and data["b"]["p95_ms"] is not None
    a_only = sum(stable[i] == truth[i] != canary[i] for i in truth)
    assert data["mcnemar"]["a_right_b_wrong"] == a_only
    drop = acc[STABLE] - acc[CANARY]
    gate, _ = mltui("predict", str(folder), "--url", servers[0], "--compare", "stable", "canary",
                    "--max-accuracy-drop", f"{max(drop, 0) + 0.001:.4f}")  # fmt: skip
    assert gate.returncode == 0, gate.stderr
    if drop > 0:
        gate, _ = mltui("predict", str(folder), "--url", servers[0], "--compare", "stable",
                        "canary", "--max-accuracy-drop", f"{drop / 2:.4f}")  # fmt: skip
        assert gate.returncode == 1 and "under A's" in gate.stderr
    assert "disagreements (" in gate.stdout and "McNemar" in gate.stdout


def test_compare_url_puts_two_servers_side_by_side(servers, folder, oracle):
    out, data = mltui("predict", str(folder), "--url", servers[0], "--json",
                      "--compare-url", servers[1], "--version", CANARY)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (data["a"]["url"], data["b"]["url"]) == (servers[0], servers[1])
    assert data["agreement"] == 1.0 and data["disagreements"] == []


def test_compare_versions_with_different_signatures(servers, folder):
    out, data = mltui("predict", str(folder), "--url", servers[1], "--json",
                      "--compare", STABLE, SMALL)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert data["a"]["signature"]["shape"] == [224, 224, 3]
    assert data["b"]["signature"]["shape"] == [112, 112, 3]  # its own size, from its metadata
    assert any("different signatures" in note for note in data["notes"])
    assert data["a"]["failed"] == data["b"]["failed"] == 0
    # the same weights on the same digits at half the size: nearly always the same class
    assert data["agreement"] >= 0.9
    text, _ = mltui("predict", str(folder), "--url", servers[1], "--compare", STABLE, SMALL)
    assert "note: the two sides have different signatures" in text.stdout


# -- mltui model ----------------------------------------------------------------------------
def test_model_reads_versions_labels_and_metrics(servers):
    out, data = mltui("model", "--url", servers[0], "--json", "--interval", "0.2")
    assert out.returncode == 0, out.stderr
    assert [v["version"] for v in data["versions"]] == [CANARY, STABLE]  # newest first
    for v in data["versions"]:
        assert v["state"] == "AVAILABLE"
        names = {(t["kind"], t["name"]) for t in v["signature"]}
        assert names == {("input", "input_1"), ("output", "dense")}
    labels = {lb["label"]: lb for lb in data["labels"]}
    assert {k: v["version"] for k, v in labels.items()} == {"stable": STABLE, "canary": CANARY}
    assert all(lb["source"] == "config" and not lb["problem"] for lb in labels.values())
    assert data["metrics_problem"] is None
    (metrics,) = data["metrics"]
    assert metrics["model"] == "my_model" and metrics["rate_per_s"] is not None


def test_model_shows_a_failed_version_a_missing_label_and_metrics_off(servers):
    out, data = mltui("model", "--url", servers[1], "--json", "--label", "nope", "--interval", "0")
    assert out.returncode == 1
    broken = next(v for v in data["versions"] if v["version"] == BROKEN)
    assert broken["state"] == "END" and broken["problem"].startswith("it failed to load")
    nope = next(lb for lb in data["labels"] if lb["label"] == "nope")
    assert nope["source"] == "option" and "400" in nope["problem"]
    assert "--monitoring_config_file" in data["metrics_problem"]
    text, _ = mltui("model", "--url", servers[1], "--interval", "0")
    assert "END" in text.stdout and "metrics: the server publishes no metrics" in text.stdout


def test_model_at_a_url_that_is_no_model_server(tmp_path):
    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(
            "a web server",
            lambda: requests.get(url, timeout=2).status_code == 200 if _up(url) else None,
        )
        out, _ = mltui("model", "--url", url, "--no-config")
        assert out.returncode == 2
        assert out.stderr.startswith("mltui model: ") and len(out.stderr.strip().splitlines()) == 1
    finally:
        web.terminate()
        web.wait(timeout=10)


def _up(url: str) -> bool:
    try:
        requests.get(url, timeout=1)
    except requests.RequestException:
        return False
    return True
