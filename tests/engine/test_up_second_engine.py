"""`mltui -H X up` builds and deploys on X, not on the engine the environment
names: a second dockerd (tests/second_engine.py) that has only the test base
image (docker save | docker load), the ambient engine being the main one."""

from __future__ import annotations

import json
import os

import pytest
from helpers import STACKS, docker
from second_engine import SecondEngine
from test_actions_real import mltui

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def second_engine(test_image):
    engine = SecondEngine()
    try:
        engine.start()
        engine.load_image(test_image)
        yield engine
    finally:
        engine.close()


def test_up_and_down_with_host_act_on_that_engine(second_engine, test_image, run_id, tmp_path):
    engine = second_engine
    image = f"h14cli-{run_id}-remote:1"
    name = f"h14cli{run_id[-6:]}remote"
    file = tmp_path / "compose.yml"
    file.write_text(
        "services:\n"
        "  built:\n"
        f"    image: {image}\n"
        f"    build: {{context: {STACKS / 'up'}, args: {{BASE: {test_image}}}}}\n"
        "    command: [sleep, infinity]\n"
        "    network_mode: bridge\n"
        "    stop_grace_period: 1s\n"
    )
    # the ambient engine (no DOCKER_HOST) is the main one; the fixture's close
    # takes everything made on the second one with it
    assert "DOCKER_HOST" not in os.environ
    out = mltui("-H", engine.url, "up", str(file), "--name", name, "--yes")
    assert out.returncode == 0, out.stderr
    assert f"docker -H {engine.url} build" in out.stderr
    assert f"DOCKER_HOST={engine.url}" in out.stderr  # Compose is told the engine too
    # built and running there, and nothing of it here
    assert engine.docker("image", "inspect", "-f", "{{.Id}}", image).startswith("sha256:")
    assert not docker("images", "-q", image).strip()
    assert not docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={name}")
    ps = json.loads(mltui("-H", engine.url, "ps", "--json").stdout)
    (stack,) = [s for s in ps["stacks"] if s["name"] == name]
    assert [(s["name"], s["running"]) for s in stack["services"]] == [("built", 1)]

    down = mltui("-H", engine.url, "down", name, "--yes")
    assert down.returncode == 0, down.stderr
    assert not engine.docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={name}")
