"""`mltui roll`'s parts that need no engine: the kept last run (and hostile files
in its place), the gates, the config keys, the unique tags, and the refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mltui.core.config import load
from mltui.core.predict import lastrun
from mltui.core.predict.gates import Gates, check_gates
from mltui.core.predict.results import Result, summarize
from mltui.deploy.rollout import previous_tag, repo_of, unique_tag


def _results(hits: int, misses: int, latency: float = 10.0) -> list[Result]:
    out = []
    for i in range(hits + misses):
        predicted = "1" if i < hits else "2"
        out.append(Result(f"1/img{i}.png", "1", predicted, 0.9, [(predicted, 0.9)], latency))
    return out


def _run(results: list[Result]) -> lastrun.SavedRun:
    return lastrun.SavedRun(
        "/data/f", "/data/c.txt", "http://127.0.0.1:8501", "my_model", 8, 1, 1.0, 3, 30.0, "",
        summarize(results, 1.0), results, 123.0,
    )  # fmt: skip


def test_last_run_round_trip(tmp_path):
    env = {"MLTUI_STATE": str(tmp_path / "s" / "state.json")}
    path = lastrun.run_path("unix:///var/run/docker.sock", "demo/model", env)
    assert path.parent.parent == tmp_path / "s" / "runs" and path.name == "demo__model.json"
    other = lastrun.run_path("tcp://10.0.0.1:2376", "demo/model", env)
    assert other != path  # one folder per engine
    hostile = lastrun.run_path("x", "../../etc/pass wd", env)
    assert hostile.parent == path.parent.parent / hostile.parent.name and ".." not in hostile.name
    results = _results(8, 2)
    assert lastrun.save_run(path, _run(results)) == ""
    back, problem = lastrun.load_run(path)
    assert problem == "" and back is not None
    assert back.results == results and back.summary.accuracy == 0.8
    assert (back.folder, back.model, back.concurrency) == ("/data/f", "my_model", 8)
    assert lastrun.load_run(tmp_path / "none.json") == (None, "")


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[1, 2]",
        b'{"results": "x"}',
        json.dumps({"results": [{"image": 5}]}).encode(),
        json.dumps({"results": [], "concurrency": 10**9}).encode(),
        b"\xff\xfe",
        b"[" * 100_000,
    ],
)
def test_a_damaged_last_run_is_a_sentence(tmp_path, content):
    path = tmp_path / "r.json"
    path.write_bytes(content)
    run, problem = lastrun.load_run(path)
    assert run is None and "damaged" in problem and "\n" not in problem


def test_hostile_last_run_files(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (lastrun.MAX_BYTES + 1))
    assert "over" in lastrun.load_run(big)[1]
    (tmp_path / "real.json").write_text("{}")
    os.symlink(tmp_path / "real.json", tmp_path / "link.json")
    run, problem = lastrun.load_run(tmp_path / "link.json")
    assert run is None and "cannot be read" in problem
    os.mkfifo(tmp_path / "fifo.json")
    assert "not a regular file" in lastrun.load_run(tmp_path / "fifo.json")[1]
    (tmp_path / "dir.json").mkdir()
    assert lastrun.load_run(tmp_path / "dir.json")[0] is None
    # escapes in the file's words never come back raw
    path = tmp_path / "esc.json"
    results = _results(1, 0)
    results[0].image = "\x1b]52;c;AAAA\x07evil.png"
    lastrun.save_run(path, _run(results))
    back, _ = lastrun.load_run(path)
    assert back is not None and "\x1b" not in back.results[0].image


def test_gates_say_which_and_by_how_much():
    base = summarize(_results(9, 1), 1.0)
    worse = summarize(_results(6, 4, latency=300.0), 1.0)
    checks = check_gates(Gates(0.05, 200.0, 0.7), base, worse)
    by = {c.name: c for c in checks}
    assert not by["max_accuracy_drop"].passed and "over by 0.250" in by["max_accuracy_drop"].message
    assert not by["max_p95_ms"].passed and "over by 100.0 ms" in by["max_p95_ms"].message
    assert not by["min_accuracy"].passed and "under by 0.100" in by["min_accuracy"].message
    assert all(c.passed for c in check_gates(Gates(0.0, 20.0, 0.9), base, base))
    assert check_gates(Gates(), base, worse) == []
    failed = summarize([*_results(5, 0), Result("x.png", error_kind="connection", error="no")], 1)
    assert [c.name for c in check_gates(Gates(), base, failed)] == ["failed_images"]


def test_gate_config_keys(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[predict]\nmax_accuracy_drop = 0.02\nmax_p95_ms = 250\nmin_accuracy = 2\n")
    config, problems = load(f)
    assert config.predict.max_accuracy_drop == 0.02 and config.predict.max_p95_ms == 250.0
    assert config.predict.min_accuracy is None
    assert [p.key for p in problems] == ["predict.min_accuracy"]
    assert "not checked" in str(problems[0])


def test_unique_tags():
    assert repo_of("demo-model:latest") == "demo-model"
    assert repo_of("reg:5000/team/model") == "reg:5000/team/model"
    assert repo_of("reg:5000/m:1@sha256:abc") == "reg:5000/m"
    assert unique_tag("m:latest", "model", "sha256:0123456789abcdef") == "m:model-0123456789ab"
    assert previous_tag("reg:5000/m:v1", "model") == "reg:5000/m:model-previous"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mltui.cli", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


def test_roll_refuses_read_only_and_bad_gates(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("read_only = true\n")
    env = {"DOCKER_HOST": "unix:///nonexistent.sock", "MLTUI_STATE": str(tmp_path / "s.json")}
    out = _cli("--config", str(cfg), "roll", "a/b", "--yes", env=env)
    assert out.returncode == 2 and "read-only" in out.stderr and out.stdout == ""
    out = _cli("roll", "a/b", "--yes", "--max-accuracy-drop", "nan", env=env)
    assert out.returncode == 2 and "--max-accuracy-drop nan: give 0 to 1" in out.stderr
