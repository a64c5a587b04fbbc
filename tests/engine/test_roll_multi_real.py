"""`mltui roll` on services of two replicas, on the real engine, reached through an
nginx balancer as the demo is (this machine's swarm has no IPVS: the replicas run
with endpoint_mode dnsrr and the balancer publishes its port in host mode).

Compose replaces one container at a time, the next only once the new one is
healthy (a worse model is caught and every replica goes back to the previous
image; an equal one stays on every replica; a crashing image stops at the first
replica and is rolled back);
swarm rolls its update and, when the gate fails, its rollback. The wait for the
model asks through the balancer until each replica has answered AVAILABLE."""

from __future__ import annotations

import os
import subprocess

import pytest
from helpers import COMPOSE_V2, docker, free_port, stack_service, wait_for
from test_actions_real import mltui
from test_roll_real import (
    DOCKERFILE,
    _accuracy,
    _crash_image,
    _image_of,
    _roll,
    _wait_answers,
    folder,
)

from mltui.deploy.images import ensure_image
from mltui.deploy.stacks import DEMO_LB, DEMO_MODEL

pytestmark = pytest.mark.engine
__all__ = ["folder"]  # the 60 digits, a fixture shared with test_roll_real

REPLICAS = 2
# the model answers (Compose: the healthcheck the rollout waits for, replica by replica)
PROBE = "import urllib.request as u; u.urlopen('http://127.0.0.1:8501/v1/models/my_model')"
MODEL = """\
  model:
    build:
      context: .
      args:
        MLTUI_DEMO_QUALITY: ${{H17ROLL_QUALITY:-good}}
        H17ROLL_BUILD: ${{H17ROLL_BUILD:-1}}
    image: {image}
    environment:
      MODEL_NAME: my_model
    deploy:
      replicas: {replicas}
      endpoint_mode: dnsrr
      update_config:
        parallelism: 1
        order: stop-first
"""
COMPOSE = """\
services:
{model}    healthcheck:
      test: ["CMD", "python3", "-c", "{probe}"]
      interval: 1s
      timeout: 2s
      retries: 30
  lb:
    image: {lb}
    ports:
      - "127.0.0.1:{port}:8501"
    depends_on:
      - model
"""
STACK = """\
version: "3.8"
services:
{model}  lb:
    image: {lb}
    ports:
      - target: 8501
        published: {port}
        protocol: tcp
        mode: host
    deploy:
      replicas: 1
      endpoint_mode: dnsrr
"""


def _project(tmp_path, form: str, image: str, port: int):
    context = tmp_path / "model"
    context.mkdir()
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=ensure_image(DEMO_MODEL)))
    file = context / "compose.yml"
    model = MODEL.format(image=image, replicas=REPLICAS)
    file.write_text(form.format(model=model, lb=ensure_image(DEMO_LB), port=port, probe=PROBE))
    return file


def _running(name: str) -> int:
    svc = stack_service(name, "model")
    return len([r for r in svc.replicas if r.running]) if svc else 0


def _ready(name: str, url: str, folder) -> float:
    """Every replica runs and the balancer answers: the service's last predict run
    is saved (the roll compares against it); its accuracy."""
    wait_for(f"{REPLICAS} replicas of {name}", lambda: _running(name) == REPLICAS, timeout=120)
    _wait_answers(url)
    kept = mltui("predict", str(folder), "--url", url, "--service", f"{name}/model")
    assert kept.returncode == 0, kept.stderr
    good = _accuracy(folder, url)
    assert good > 0.9
    return good


def _worse_is_rolled_back(name: str, url: str, folder, good: float, env: dict[str, str]):
    """A worse model: caught by the gate, every replica back on the image before."""
    before = _image_of(name)
    assert len(before) == 1
    out, data = _roll(
        name, "--max-accuracy-drop", "0.05", "--yes", env={**env, "H17ROLL_QUALITY": "poor"}
    )
    assert out.returncode == 1, out.stderr
    assert data.get("action") == "rolled back", out.stderr
    gate = next(g for g in data["gates"] if g["gate"] == "max_accuracy_drop")
    assert not gate["passed"] and gate["value"] > 0.2
    assert data["new"]["accuracy"] < 0.8 and data["baseline"]["accuracy"] == good
    # the model was asked for through the balancer until both replicas said AVAILABLE
    model_step = next(s["text"] for s in data["steps"] if s["step"] == "model")
    assert f"on {REPLICAS} of {REPLICAS} replicas (" in model_step, data["steps"]
    wait_for("every replica back", lambda: _running(name) == REPLICAS, timeout=60)
    assert _image_of(name) == before
    _wait_answers(url)
    assert _accuracy(folder, url) == good
    return out


def test_roll_compose_replicas(folder, tmp_path, run_id):
    name = f"h17multi{run_id[-6:]}cp"
    image = f"{name}-model:latest"
    port = free_port()
    file = _project(tmp_path, COMPOSE, image, port)
    env = {"MLTUI_COMPOSE": COMPOSE_V2}
    url = f"http://127.0.0.1:{port}"
    try:
        up = mltui("up", str(file), "--name", name, "--compose", "--yes", env=env, timeout=300)
        assert up.returncode == 0, up.stderr
        good = _ready(name, url, folder)
        first = {r.container_id for r in stack_service(name, "model").replicas if r.running}

        out = _worse_is_rolled_back(name, url, folder, good, env)
        # one container at a time: a moment with one replica new and the other old, and
        # the next is replaced only once the new one is healthy: one always serves
        lines = [ln for ln in out.stderr.splitlines() if "replicas: " in ln]
        assert any("running new" in ln and "running old" in ln for ln in lines), lines
        assert any("(starting) new" in ln for ln in lines), lines
        for line in lines:
            replicas = line.split("replicas: ", 1)[1].split(", ")
            assert any(" running " in r and "(starting)" not in r for r in replicas), lines
        assert not first & {r.container_id for r in stack_service(name, "model").replicas}

        # an equal model (a new build of the same training): on every replica, kept
        out, data = _roll(
            name, "--max-accuracy-drop", "0.01", "--yes", env={**env, "H17ROLL_BUILD": "2"}
        )
        assert out.returncode == 0, out.stderr
        assert data["action"] == "kept" and all(g["passed"] for g in data["gates"])
        assert _running(name) == REPLICAS
        assert _image_of(name) == {data["image"]["new_id"]}
        assert _accuracy(folder, url) == good

        # an image whose containers crash: the first replaced one stops the rollout
        # (the other still serves the kept version) and both end on the kept image
        kept = data["image"]["new_id"]
        crash = f"{name}-model:crash"
        _crash_image(data["image"]["new"], crash, tmp_path)
        out, data = _roll(name, "--image", crash, "--yes", env=env)
        assert out.returncode == 1, out.stderr
        assert "crash" in data["failure"] and data["action"] == "rolled back", out.stderr
        wait_for("every replica back", lambda: _running(name) == REPLICAS, timeout=60)
        assert _image_of(name) == {kept}
        _wait_answers(url)
        assert _accuracy(folder, url) == good
    finally:
        subprocess.run(
            [COMPOSE_V2, "-p", name, "-f", str(file), "down", "-t", "1"],
            env={**os.environ, **env},
            capture_output=True,
            check=False,
        )
        for ref in docker("images", "-q", "--filter", f"reference={name}-model").split():
            docker("rmi", "-f", ref, check=False)


def test_roll_swarm_replicas(swarm, folder, tmp_path, run_id):
    name = f"h17multi{run_id[-6:]}sw"
    image = f"{name}-model:latest"
    port = free_port()
    file = _project(tmp_path, STACK, image, port)
    url = f"http://127.0.0.1:{port}"
    try:
        up = mltui("up", str(file), "--name", name, "--yes", timeout=300)
        assert up.returncode == 0, up.stderr
        good = _ready(name, url, folder)
        # no --file: mltui up kept which file deployed the stack
        out = _worse_is_rolled_back(name, url, folder, good, {})
        assert "service update --rollback" in out.stderr
        svc = stack_service(name, "model")
        assert svc.desired == REPLICAS
    finally:
        docker("stack", "rm", name, check=False)
        wait_for(f"{name} removed", lambda: stack_service(name, "model") is None, timeout=90)
        for ref in docker("images", "-q", "--filter", f"reference={name}-model").split():
            docker("rmi", "-f", ref, check=False)
