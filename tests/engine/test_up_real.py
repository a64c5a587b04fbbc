"""`mltui up`, `rollback`, `stop` and `start` on the real engine: a tiny compose
file (tests/engine/stacks/up) built with the classic builder FROM the test base
image and deployed as a swarm stack and as Compose v1 and v2 projects; bad files,
a failing build and a crashing rollout named; two actions on one target refused."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from helpers import (
    COMPOSE_V1,
    COMPOSE_V2,
    STACKS,
    action_log_lines,
    docker,
    stack_service,
    wait_for,
)
from test_actions_real import mltui

from mltui.core.engine import Engine
from mltui.deploy.actionlock import action_lock

pytestmark = pytest.mark.engine
FILE = STACKS / "up" / "compose.yml"


@pytest.fixture
def up_env(test_image, run_id):
    """What the compose file reads, with an image tag of this run; the image goes after."""
    image = f"h14cli-{run_id}-up:1"
    try:
        yield {"MLTUI_TEST_IMAGE": test_image, "MLTUI_UP_IMAGE": image}
    finally:
        docker("image", "rm", "-f", image, check=False)


def up(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return mltui("up", str(FILE), *args, env=env, timeout=240)


def running(stack: str, name: str) -> tuple[int, int]:
    svc = stack_service(stack, name)
    return (svc.running, svc.desired) if svc else (0, 0)


@pytest.fixture
def swarm_name(swarm, run_id):
    name = f"h14cli{run_id[-6:]}up"
    try:
        yield name
    finally:
        docker("stack", "rm", name, check=False)
        wait_for(f"{name} removed", lambda: stack_service(name, "built") is None, timeout=60)


def test_up_on_swarm_builds_deploys_rolls_back_and_names_a_crash(swarm_name, up_env):
    name = swarm_name
    refused = up("--name", name, env=up_env)
    assert refused.returncode == 2 and "no terminal" in refused.stderr
    assert "docker stack deploy" in refused.stderr and "build built as" in refused.stderr
    assert stack_service(name, "built") is None  # nothing built, nothing deployed
    assert not docker("images", "-q", up_env["MLTUI_UP_IMAGE"]).strip()

    out = up("--name", name, "--yes", env=up_env)
    assert out.returncode == 0, out.stderr
    assert "Step 5/6" in out.stderr  # the build's progress, line by line
    assert running(name, "built") == (2, 2) and running(name, "plain") == (1, 1)
    assert {r.image for r in stack_service(name, "built").replicas} == {up_env["MLTUI_UP_IMAGE"]}

    # a second action on the same service while one holds it is refused, unchanged
    target = f"{name}/built"
    with action_lock(Engine().target.display, target, "the test's own action"):
        busy = mltui("scale", target, "3", "--yes")
    assert busy.returncode == 2 and "another action on" in busy.stderr
    assert f"pid {os.getpid()}: the test's own action" in busy.stderr
    assert running(name, "built") == (2, 2)

    # an update, then the rollback shows what it undoes before it does it
    docker("service", "update", "--quiet", "--env-add", "H14CLI_FLAG=on", f"{name}_built")
    logged = len(action_log_lines())
    asked = mltui("rollback", target)
    assert asked.returncode == 2 and "env H14CLI_FLAG removed" in asked.stderr
    assert "docker service update --rollback --detach" in asked.stderr
    back = mltui("rollback", target, "--yes")
    assert back.returncode == 0, back.stderr
    env = docker(
        "service", "inspect", "-f", "{{json .Spec.TaskTemplate.ContainerSpec.Env}}", f"{name}_built"
    )
    assert "H14CLI_FLAG" not in env and running(name, "built") == (2, 2)
    again = mltui("rollback", f"{name}/plain", "--yes")
    assert again.returncode == 2 and "no previous spec" in again.stderr
    stop = mltui("stop", target, "--yes")
    assert stop.returncode == 2 and f"mltui scale {target} 0" in stop.stderr
    assert len(action_log_lines()) == logged + 1

    crash = up(
        "--name",
        name,
        "--yes",
        "--no-build",
        env={**up_env, "MLTUI_UP_COMMAND": "echo h14 going down >&2; exit 3"},
    )
    assert crash.returncode == 1, crash.stderr
    last = crash.stderr.strip().splitlines()[-1]
    assert "crashing rollout" in last and "exit (3)" in last and "mltui rollback" in last


@pytest.mark.parametrize("family", ["v1", "v2"])
def test_up_with_compose_then_stop_and_start(family, up_env, run_id):
    binary = COMPOSE_V1 if family == "v1" else COMPOSE_V2
    name = f"h14cli{run_id[-6:]}{family}"
    env = {**up_env, "MLTUI_COMPOSE": binary}
    try:
        out = up("--name", name, "--compose", "--yes", env=env)
        assert out.returncode == 0, out.stderr
        assert f"running: {binary}" in out.stderr and " up -d --no-build" in out.stderr
        assert running(name, "built") == (2, 2) and running(name, "plain") == (1, 1)
        made = stack_service(name, "built").replicas[0].name
        assert made.startswith(f"{name}_built_" if family == "v1" else f"{name}-built-")

        stop = mltui("stop", f"{name}/built", "--yes", env=env)
        assert stop.returncode == 0, stop.stderr
        assert stack_service(name, "built").running == 0 and running(name, "plain") == (1, 1)
        start = mltui("start", f"{name}/built", "--yes", env=env)
        assert start.returncode == 0, start.stderr
        assert running(name, "built") == (2, 2)
        whole = mltui("stop", name, "--yes", env=env)
        assert whole.returncode == 0 and stack_service(name, "plain").running == 0

        crash = up(
            "--name",
            name,
            "--compose",
            "--yes",
            "--no-build",
            env={**env, "MLTUI_UP_COMMAND": "exit 4"},
        )
        assert crash.returncode == 1 and "crashing rollout" in crash.stderr
        assert "exit code 4" in crash.stderr
    finally:
        subprocess.run(
            [binary, "-p", name, "-f", str(FILE), "down", "-t", "1"],
            env={**os.environ, **env},
            capture_output=True,
            check=False,
        )


def test_bad_files_and_a_failing_build_change_nothing(tmp_path, up_env, run_id, engine_info):
    name = f"h14cli{run_id[-6:]}bad"
    broken = tmp_path / "broken.yml"
    broken.write_text("services: [\n  oops")
    out = mltui("up", str(broken), "--yes")
    assert out.returncode == 2 and "does not parse at line 2" in out.stderr
    missing = tmp_path / "missing.yml"
    missing.write_text(f"services:\n  x:\n    image: {name}-nosuch:1\n")
    out = mltui("up", str(missing), "--yes", "--compose")
    assert out.returncode == 2 and f"image {name}-nosuch:1 does not exist" in out.stderr
    assert out.stderr.count("\n") == 1

    # a port that something else holds
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        taken = tmp_path / "taken.yml"
        taken.write_text(
            f"services:\n  web:\n    image: {up_env['MLTUI_TEST_IMAGE']}\n"
            f"    command: [sleep, infinity]\n    ports: ['127.0.0.1:{port}:80']\n"
        )
        try:
            out = mltui("up", str(taken), "--name", name, "--compose", "--yes", env=up_env)
        finally:
            subprocess.run(
                [COMPOSE_V2, "-p", name, "-f", str(taken), "down", "-t", "1"],
                capture_output=True,
                check=False,
            )
    # refused by up's port check before anything is deployed (it used to deploy
    # and fail): the port and who holds it named, exit 2
    assert out.returncode == 2, out.stderr
    assert f"web's port {port} on 127.0.0.1 is already in use" in out.stderr
    assert "by another program on this host: nothing was changed" in out.stderr
    assert stack_service(name, "web") is None

    failing = up("--name", name, "--yes", "--compose", env={**up_env, "MLTUI_UP_STEP": "fail"})
    assert failing.returncode == 1
    last = failing.stderr[failing.stderr.index("failed (exit 1)") :]
    assert "Step 4/6" in last and "step says fail" in last and "returned a non-zero code" in last
    assert "Step 5/6" not in last
    assert stack_service(name, "built") is None and stack_service(name, "plain") is None
    leftovers = docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={name}")
    assert not leftovers.strip()


def test_down_volumes_names_them_and_asks_twice(test_image, run_id):
    name = f"h14cli{run_id[-6:]}vol"
    file = STACKS / "actions.yml"
    env = {**os.environ, "MLTUI_TEST_IMAGE": test_image}
    base = [COMPOSE_V2, "-p", name, "-f", str(file)]
    subprocess.run([*base, "up", "-d"], env=env, capture_output=True, check=True, timeout=120)
    try:
        wait_for(f"{name} running", lambda: running(name, "app") == (1, 1), timeout=60)
        # answered yes to the first question only: nothing is removed
        answers = subprocess.run(
            [sys.executable, "-c", _TTY_DOWN, name],
            env=env,
            input="y\nn\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert answers.returncode == 2, answers.stderr
        assert f"delete its volumes {name}_data" in answers.stderr
        assert f"Also delete the volumes {name}_data" in answers.stderr
        assert running(name, "app") == (1, 1)
        gone = mltui("down", name, "--volumes", "--yes", env={"MLTUI_TEST_IMAGE": test_image})
        assert gone.returncode == 0, gone.stderr
        assert not docker("volume", "ls", "-q", "--filter", f"name={name}_data").strip()
    finally:
        subprocess.run([*base, "down", "-v", "-t", "1"], env=env, capture_output=True, check=False)


# `mltui down NAME --volumes` with its answers on stdin, as a terminal gives them
_TTY_DOWN = """
import sys
from mltui.cli.act import act
from mltui.cli import build_parser
from mltui.cli.common import CommandError
from mltui.deploy.actions import plan_down

class Tty:
    def __init__(self, inner): self.inner = inner
    def isatty(self): return True
    def readline(self): return self.inner.readline()

args = build_parser().parse_args(["down", sys.argv[1], "--volumes"])
try:
    act(args, "mltui down", lambda s, t: plan_down(s, args.name, t, True), stdin=Tty(sys.stdin))
except CommandError as exc:
    print(exc, file=sys.stderr)
    sys.exit(exc.code)
"""
