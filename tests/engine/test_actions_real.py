"""`mltui scale`, `restart` and `down` on the real engine: a swarm stack and a
Compose v2 project, checked through the inventory; refusals change nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import (
    COMPOSE_V1,
    COMPOSE_V2,
    STACKS,
    action_log_lines,
    docker,
    remove_stack,
    running_ids,
    stack_service,
    wait_for,
)

pytestmark = pytest.mark.engine
STACK_FILE = STACKS / "actions.yml"


def mltui(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mltui.cli", *args],
        stdin=subprocess.DEVNULL,  # no terminal: only --yes acts
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def swarm_stack(swarm, test_image, run_id):
    name = f"{run_id}act"
    env = {"MLTUI_TEST_IMAGE": test_image}
    docker("stack", "deploy", "--resolve-image", "never", "-c", str(STACK_FILE), name, env=env)
    try:
        wait_for(f"{name}/app running", lambda: len(running_ids(name)) == 1, timeout=90)
        yield name
    finally:
        remove_stack(name)  # its containers gone: the volume is free
        docker("volume", "rm", f"{name}_data", check=False)


@pytest.fixture(params=["v1", "v2"])
def compose_project(request, test_image, run_id):
    """The same project made by Compose v1 (Debian's) and v2+ (the official binary)."""
    binary = COMPOSE_V1 if request.param == "v1" else COMPOSE_V2
    name = f"{run_id}act{request.param}"
    env = {**os.environ, "MLTUI_TEST_IMAGE": test_image}
    base = [binary, "-p", name, "-f", str(STACK_FILE)]
    subprocess.run([*base, "up", "-d"], env=env, capture_output=True, check=True, timeout=120)
    try:
        wait_for(f"{name}/app running", lambda: len(running_ids(name)) == 1, timeout=60)
        yield name, {"MLTUI_TEST_IMAGE": test_image}
    finally:
        subprocess.run([*base, "down", "-v", "-t", "1"], env=env, capture_output=True, check=False)
        docker("volume", "rm", f"{name}_data", check=False)


def test_swarm_scale_restart_and_refusals(swarm_stack):
    target = f"{swarm_stack}/app"
    logged = len(action_log_lines())

    # no terminal and no --yes: refused, nothing changed
    refused = mltui("scale", target, "3")
    assert refused.returncode == 2, refused.stderr
    assert "no terminal" in refused.stderr and "docker service scale" in refused.stderr
    assert "--read-only" not in refused.stderr
    read_only = mltui("scale", target, "3", "--yes", "--read-only")
    assert read_only.returncode == 2 and "read-only" in read_only.stderr
    absurd = mltui("scale", target, "5000", "--yes")
    assert absurd.returncode == 2 and "more than 1000" in absurd.stderr
    negative = mltui("scale", target, "--yes", "--", "-1")
    assert negative.returncode == 2 and "0 or more" in negative.stderr
    assert stack_service(swarm_stack).desired == 1
    assert len(action_log_lines()) == logged

    up = mltui("scale", target, "3", "--yes")
    assert up.returncode == 0, up.stderr
    svc = stack_service(swarm_stack)
    assert (svc.running, svc.desired) == (3, 3)

    before = running_ids(swarm_stack)
    restart = mltui("restart", target, "--yes")
    assert restart.returncode == 0, restart.stderr
    after = running_ids(swarm_stack)
    assert len(after) == 3 and not after & before  # every replica's container is new

    slot_one = {
        r.container_id for r in stack_service(swarm_stack).replicas if r.running and r.slot == 1
    }
    one = mltui("restart", target, "--replica", "1", "--yes")
    assert one.returncode == 0, one.stderr
    svc = stack_service(swarm_stack)
    replaced = {r.container_id for r in svc.replicas if r.running and r.slot == 1}
    assert replaced and not replaced & slot_one
    assert {r.container_id for r in svc.replicas if r.running and r.slot != 1} <= after

    down = mltui("scale", target, "1", "--yes")
    assert down.returncode == 0, down.stderr
    svc = stack_service(swarm_stack)
    assert (svc.running, svc.desired) == (1, 1)

    lines = action_log_lines()[logged:]
    assert len(lines) == 4
    assert all(target in line and line.endswith("\tok") for line in lines)
    assert "docker service scale --detach" in lines[0] and "update --force" in lines[1]


def test_compose_scale_restart_and_down_keeps_volume(compose_project):
    name, env = compose_project
    logged = len(action_log_lines())
    scale = mltui("scale", f"{name}/app", "2", "--yes", env=env)
    assert scale.returncode == 0, scale.stderr
    # the project's own file, through a Compose of the family that made it
    shown = next(line for line in scale.stderr.splitlines() if "running:" in line)
    assert "up -d --no-recreate --scale app=2 app" in shown and f"-p {name} -f " in shown
    assert (COMPOSE_V1 in shown) == name.endswith("v1")
    svc = stack_service(name)
    assert (svc.running, svc.desired) == (2, 2)

    started = {r.container_id: r.since for r in stack_service(name).replicas}
    restart = mltui("restart", f"{name}/app", "--yes", env=env)
    assert restart.returncode == 0, restart.stderr
    again = {r.container_id: r.since for r in stack_service(name).replicas if r.running}
    assert again.keys() == started.keys()  # Compose restarts the same containers
    assert all(again[cid] != since for cid, since in started.items())

    refused = mltui("down", name, env=env)
    assert refused.returncode == 2 and stack_service(name) is not None

    down = mltui("down", name, "--yes", env=env)
    assert down.returncode == 0, down.stderr
    assert stack_service(name) is None
    assert docker("volume", "ls", "-q", "--filter", f"name={name}_data").split() == [f"{name}_data"]
    lines = action_log_lines()[logged:]
    assert len(lines) == 3 and " down" in lines[2] and "-v" not in lines[2].split("\t")[3].split()


def test_unknown_target_is_one_sentence(engine_info, run_id):
    out = mltui("scale", f"{run_id}nosuch/app", "2", "--yes")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "no service" in out.stderr
