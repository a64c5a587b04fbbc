"""`mltui roll` on the real engine: the demo's model server built from a compose
file's build: (the demo image with one version retrained, the quality a build
argument), deployed with Compose and as a swarm stack; a worse build is caught
and rolled back (the old accuracy answers again), an equal build rolls out and
stays, a crashing image is stopped and rolled back, and nothing changes unasked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from helpers import COMPOSE_V1, COMPOSE_V2, REPO, docker, free_port, stack_service, wait_for
from test_actions_real import mltui

from mltui.deploy.images import ensure_image
from mltui.deploy.stacks import DEMO_MODEL

pytestmark = pytest.mark.engine
IMAGES = REPO / "stacks" / "demo" / "test-images"

DOCKERFILE = """\
FROM {base}
ARG MLTUI_DEMO_QUALITY=good
ARG H17ROLL_BUILD=1
LABEL h17roll.build=$H17ROLL_BUILD
RUN rm -rf /models/my_model && python3 /srv/model/train.py /models/my_model/1
CMD ["python3", "/srv/model/server.py"]
"""
COMPOSE = """\
version: "3.8"
services:
  model:
    build:
      context: .
      args:
        MLTUI_DEMO_QUALITY: ${{H17ROLL_QUALITY:-good}}
        H17ROLL_BUILD: ${{H17ROLL_BUILD:-1}}
    image: {image}
    environment:
      MODEL_NAME: my_model
    ports:
{ports}
    deploy:
      replicas: {replicas}
      update_config:
        parallelism: 1
        order: stop-first
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """60 held-out digits, 6 of each class, and the class names."""
    out = tmp_path_factory.mktemp("h17roll-images")
    for cls in sorted(p for p in IMAGES.iterdir() if p.is_dir()):
        (out / cls.name).mkdir()
        for img in sorted(cls.iterdir())[:6]:
            shutil.copy(img, out / cls.name / img.name)
    shutil.copy(IMAGES / "classes.txt", out / "classes.txt")
    return out


def _project(tmp_path, image: str, ports: str, replicas: int):
    context = tmp_path / "model"
    context.mkdir()
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=ensure_image(DEMO_MODEL)))
    file = context / "compose.yml"
    file.write_text(COMPOSE.format(image=image, ports=ports, replicas=replicas))
    return file


def _image_of(stack: str) -> set[str]:
    """The image ids the running replicas run (swarm: their task's image)."""
    svc = stack_service(stack, "model")
    ids = set()
    for r in svc.replicas if svc else ():
        if not r.running:
            continue
        if svc.kind == "swarm":
            ids.add(docker("image", "inspect", "-f", "{{.Id}}", r.image).strip())
        elif r.container_id:
            ids.add(docker("inspect", "-f", "{{.Image}}", r.container_id).strip())
    return ids


def _accuracy(folder, url: str) -> float:
    out = mltui("predict", str(folder), "--url", url, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["summary"]["accuracy"]


def _roll(name: str, *args: str, env: dict[str, str] | None = None):
    out = mltui("roll", f"{name}/model", "--json", *args, env=env, timeout=400)
    data = json.loads(out.stdout) if out.stdout.strip() else {}
    return out, data


def _wait_answers(url: str) -> None:
    import requests

    def ok() -> bool:
        try:
            return requests.get(f"{url}/v1/models/my_model", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_for(f"{url} answers", ok, timeout=90)


def _crash_image(base: str, tag: str, tmp_path) -> None:
    ctx = tmp_path / "crash"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f'FROM {base}\nCMD ["python3", "-c", "raise SystemExit(3)"]\n')
    docker("build", "-q", "-t", tag, str(ctx), env={"DOCKER_BUILDKIT": "0"})


def _loop(
    name: str, folder, url: str, image: str, tmp_path, env: dict[str, str], more: list[str]
) -> None:
    """The three outcomes, on whatever the project or stack ``name`` is."""
    before = _image_of(name)
    good = _accuracy(folder, url)
    assert good > 0.9

    # nothing changes unasked: no terminal and no --yes, or read-only
    asked, _ = _roll(name, "--folder", str(folder), env=env)
    assert asked.returncode == 2 and "no terminal" in asked.stderr
    ro, _ = _roll(name, "--folder", str(folder), "--yes", "--read-only", env=env)
    assert ro.returncode == 2 and "read-only" in ro.stderr
    assert _image_of(name) == before

    # the service's last predict run is kept; the roll compares against it
    kept = mltui("predict", str(folder), "--url", url, "--service", f"{name}/model")
    assert kept.returncode == 0, kept.stderr

    # a worse model: caught, rolled back, the old accuracy answers again
    out, data = _roll(
        name,
        *more,
        "--max-accuracy-drop",
        "0.05",
        "--yes",
        env={**env, "H17ROLL_QUALITY": "poor"},
    )
    assert out.returncode == 1, out.stderr
    assert data.get("action") == "rolled back" and "gates" in data, out.stderr
    gate = next(g for g in data["gates"] if g["gate"] == "max_accuracy_drop")
    assert not gate["passed"] and gate["value"] > 0.2 and "over by" in gate["message"]
    assert data["new"]["accuracy"] < 0.8 and data["baseline"]["accuracy"] == good
    assert data["comparison"]["disagreements"] and data["image"]["new"].startswith(image[:-7])
    assert "replicas:" in out.stderr and "a gate failed" in out.stderr
    assert "baseline: the last run of" in out.stderr
    _wait_answers(url)
    assert _accuracy(folder, url) == good
    assert _image_of(name) == before

    # an equal model (a new build of the same training): rolls out and stays; the
    # run is kept, and the next roll compares against it
    out, data = _roll(
        name,
        *more,
        "--folder",
        str(folder),
        "--max-accuracy-drop",
        "0.01",
        "--max-p95-ms",
        "5000",
        "--yes",
        env={**env, "H17ROLL_BUILD": "2"},
    )
    assert out.returncode == 0, out.stderr
    assert data["action"] == "kept" and all(g["passed"] for g in data["gates"])
    new_id = data["image"]["new_id"]
    assert _image_of(name) == {new_id} != before
    assert _accuracy(folder, url) == good

    # an image whose containers crash: stopped, rolled back to the equal one
    crash = f"{image[:-7]}:crash"
    _crash_image(data["image"]["new"], crash, tmp_path)
    out, data = _roll(name, "--image", crash, "--yes", env=env)
    assert out.returncode == 1, out.stderr
    assert "crash" in data["failure"] and data["action"] == "rolled back"
    assert "baseline: the last run of" in out.stderr  # the saved run, not the folder again
    _wait_answers(url)
    assert _image_of(name) == {new_id}
    assert _accuracy(folder, url) == good


SWARM_PORT = """\
      - target: 8501
        published: {port}
        protocol: tcp
        mode: {mode}"""


def test_roll_on_swarm(swarm, folder, tmp_path, run_id):
    name = f"h17roll{run_id[-6:]}sw"
    image = f"{name}-model:latest"
    port = free_port()
    # ingress (2 replicas) where swarm's published ports answer on 127.0.0.1; on this
    # machine they do not, so the default is one replica on a host-mode port
    mode = os.environ.get("H17ROLL_SWARM_PORT_MODE", "host")
    replicas = 2 if mode == "ingress" else 1
    file = _project(tmp_path, image, SWARM_PORT.format(port=port, mode=mode), replicas)
    try:
        up = mltui("up", str(file), "--name", name, "--yes", timeout=300)
        assert up.returncode == 0, up.stderr
        url = f"http://127.0.0.1:{port}"
        _wait_answers(url)
        _loop(name, folder, url, image, tmp_path, {}, ["--file", str(file)])
    finally:
        docker("stack", "rm", name, check=False)
        wait_for(f"{name} removed", lambda: stack_service(name, "model") is None, timeout=90)
        for ref in docker("images", "-q", "--filter", f"reference={name}-model").split():
            docker("rmi", "-f", ref, check=False)


@pytest.mark.parametrize("family", ["v2", "v1"])
def test_roll_on_compose(family, folder, tmp_path, run_id, engine_info):
    binary = COMPOSE_V2 if family == "v2" else COMPOSE_V1
    name = f"h17roll{run_id[-6:]}{family}"
    image = f"{name}-model:latest"
    port = free_port()
    file = _project(tmp_path, image, f'      - "127.0.0.1:{port}:8501"', 1)
    env = {"MLTUI_COMPOSE": binary}
    try:
        up = mltui("up", str(file), "--name", name, "--compose", "--yes", env=env, timeout=300)
        assert up.returncode == 0, up.stderr
        url = f"http://127.0.0.1:{port}"
        _wait_answers(url)
        _loop(name, folder, url, image, tmp_path, env, [])
    finally:
        subprocess.run(
            [binary, "-p", name, "-f", str(file), "down", "-t", "1"],
            env={**os.environ, **env},
            capture_output=True,
            check=False,
        )
        for ref in docker("images", "-q", "--filter", f"reference={name}-model").split():
            docker("rmi", "-f", ref, check=False)
