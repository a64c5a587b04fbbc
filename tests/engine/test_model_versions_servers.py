"""Versions through the real servers of the other protocols: MLServer (Open
Inference V2: ``/v2/models/M/versions/V``) with two versions of a linear model,
and KServe V1 (no versions). Classes are worked out here with numpy from each
version's weights."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from servers import CLASSES, SIDE, serve_kserve, serve_mlserver_versions

pytestmark = pytest.mark.servers

MODEL = "digits"


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """Two versions' weights, a folder of 8x8 grey PNGs, and each version's classes."""
    root = tmp_path_factory.mktemp("h15model-versions")
    rng = np.random.default_rng(15)
    weights, coefs = {}, {}
    for version in ("1", "2"):
        coef = rng.normal(size=(CLASSES, SIDE * SIDE))
        coef -= coef.mean(axis=1, keepdims=True)
        intercept = rng.normal(scale=0.1, size=CLASSES)
        weights[version] = root / f"weights-{version}.npz"
        np.savez(weights[version], coef=coef, intercept=intercept)
        coefs[version] = (coef, intercept)
    folder = root / "images"
    folder.mkdir()
    oracle: dict[str, dict[str, str]] = {"1": {}, "2": {}}
    count = 0
    while count < 12:
        pixels = rng.integers(0, 256, size=(SIDE, SIDE), dtype=np.uint8)
        scores = {v: (pixels.reshape(-1) / 255.0) @ c.T + b for v, (c, b) in coefs.items()}
        if any(np.diff(np.sort(s)[-2:])[0] < 0.05 for s in scores.values()):
            continue  # no near-tie that float32 on the wire could flip
        name = f"img-{count:02d}.png"
        Image.fromarray(pixels, mode="L").save(folder / name)
        for v, s in scores.items():
            oracle[v][name] = str(int(np.argmax(s)))
        count += 1
    assert oracle["1"] != oracle["2"], "the two versions should disagree somewhere"
    return weights, folder, oracle


@pytest.fixture(scope="module")
def mlserver(model_files, tmp_path_factory):
    folder = tmp_path_factory.mktemp("h15model-mlserver")
    with serve_mlserver_versions(folder, MODEL, model_files[0]) as server:
        yield server


def mltui(*args: str) -> tuple[subprocess.CompletedProcess, dict | None]:
    out = subprocess.run(
        [sys.executable, "-m", "mltui.cli", *args], capture_output=True, text=True,
        timeout=180, check=False,
    )  # fmt: skip
    assert "Traceback" not in out.stderr, out.stderr
    data = json.loads(out.stdout) if "--json" in args and out.stdout.strip() else None
    return out, data


@pytest.mark.parametrize("version", ["1", "2"])
def test_v2_predict_a_version(mlserver, model_files, version):
    _weights, folder, oracle = model_files
    out, data = mltui("predict", str(folder), "--url", mlserver.url, "--model", MODEL,
                      "--json", "--version", version)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert data["endpoint"]["protocol"] == "v2"
    assert {r["image"]: r["predicted"] for r in data["results"]} == oracle[version]
    assert data["summary"]["versions"] == [version]


def test_v2_compare_two_versions(mlserver, model_files):
    _weights, folder, oracle = model_files
    out, data = mltui("predict", str(folder), "--url", mlserver.url, "--model", MODEL,
                      "--json", "--compare", "1", "2")  # fmt: skip
    assert out.returncode == 0, out.stderr
    differ = {i for i in oracle["1"] if oracle["1"][i] != oracle["2"][i]}
    assert {d["image"] for d in data["disagreements"]} == differ
    assert (data["a"]["version"], data["b"]["version"]) == ("1", "2")
    assert data["agreement"] == pytest.approx(1 - len(differ) / len(oracle["1"]))


def test_v2_version_not_served_and_labels_are_one_sentence(mlserver, model_files):
    folder = model_files[1]
    out, _ = mltui("predict", str(folder), "--url", mlserver.url, "--model", MODEL,
                   "--version", "9")  # fmt: skip
    assert out.returncode == 2 and "version 9 is not served" in out.stderr
    out, _ = mltui("predict", str(folder), "--url", mlserver.url, "--model", MODEL,
                   "--label", "stable")  # fmt: skip
    assert out.returncode == 2 and "no version labels" in out.stderr


def test_v2_model_report_lists_the_versions_it_names(mlserver):
    out, data = mltui("model", "--url", mlserver.url, "--model", MODEL, "--json",
                      "--no-config", "--interval", "0")  # fmt: skip
    assert data is not None, out.stderr
    assert data["protocol"] == "v2"
    assert data["versions"], data
    for v in data["versions"]:
        assert v["state"] == "READY"
        assert ("input", "pixels") in {(t["kind"], t["name"]) for t in v["signature"]}


def test_kserve_v1_has_no_versions(model_files, tmp_path):
    weights, folder, _oracle = model_files
    with serve_kserve(tmp_path, MODEL, weights["1"]) as server:
        out, _ = mltui("predict", str(folder), "--url", server.url, "--model", MODEL,
                       "--version", "1")  # fmt: skip
        assert out.returncode == 2 and "KServe V1" in out.stderr and "no versions" in out.stderr
        out, data = mltui("model", "--url", server.url, "--model", MODEL, "--json",
                          "--no-config", "--interval", "0")  # fmt: skip
        assert data["protocol"] == "kserve-v1" and data["versions"] == []
