"""A real failed swarm rollout in the TUI (prefix h14rest-): a stack deployed from
a compose file runs; u deploys the file again with a command that exits 1 at
start, so the rolling update's new task fails. The action screen names the
crashing rollout with the task's error and offers the rollback on b; b asks
(showing what the rollback changes), Yes rolls the service back, and the engine
runs the previous spec again (its command and environment, in a running task)."""

from __future__ import annotations

import json

import pytest
from conftest import until
from helpers import docker, remove_stack, stack_service, wait_for
from test_actions_real_ui import SIZE, _confirmation

from mltui.core.config import Config
from mltui.ui.actions import ActionScreen
from mltui.ui.app import MltuiApp
from mltui.ui.prompts import UpScreen

pytestmark = pytest.mark.engine

# update_config keeps the rollout short: one task at a time, a short monitor
FILE = """\
version: "3.8"
services:
  app:
    image: {image}
    command: ["sh", "-c", "${{H14REST_COMMAND:-exec sleep infinity}}"]
    environment:
      H14REST_VERSION: "${{H14REST_VERSION:-1}}"
    stop_grace_period: 1s
    deploy:
      replicas: 1
      endpoint_mode: dnsrr
      restart_policy:
        delay: 1s
      update_config:
        parallelism: 1
        delay: 1s
        monitor: 3s
        failure_action: pause
"""


def _spec(name: str) -> dict:
    out = docker("service", "inspect", "-f", "{{json .Spec.TaskTemplate.ContainerSpec}}", name)
    return json.loads(out)


def _running_env(stack: str) -> list[list[str]]:
    """The environment of each running container of the stack's service."""
    ids = docker("ps", "-q", "--filter", f"label=com.docker.swarm.service.name={stack}_app").split()
    return [json.loads(docker("inspect", "-f", "{{json .Config.Env}}", cid)) for cid in ids]


@pytest.fixture
def h14rest_stack(swarm, test_image, run_id, tmp_path):
    folder = tmp_path / f"h14rest-roll-{run_id[-6:]}"
    folder.mkdir()
    file = folder / "compose.yml"
    file.write_text(FILE.format(image=test_image))
    name = folder.name
    docker("stack", "deploy", "--resolve-image", "never", "-c", str(file), name)
    try:
        wait_for(
            f"{name}/app running",
            lambda: (svc := stack_service(name)) is not None and svc.running == 1,
            timeout=90,
        )
        yield name, folder, file
    finally:
        remove_stack(name)


async def test_a_crashing_rollout_is_named_and_rolled_back_one_key_away(h14rest_stack, monkeypatch):
    stack, folder, file = h14rest_stack
    label = f"{stack}/app"
    before = _spec(f"{stack}_app")
    assert before["Args"] == ["sh", "-c", "exec sleep infinity"]
    monkeypatch.chdir(folder)
    # what the changed file asks for: a command that fails at start, a new version
    monkeypatch.setenv("H14REST_COMMAND", "echo h14rest cannot start >&2; exit 1")
    monkeypatch.setenv("H14REST_VERSION", "2")
    app = MltuiApp(config=Config(stats=False))
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot,
            lambda: (
                app.snapshot is not None
                and any(s.stack == stack and s.running for s in app.snapshot.services())
            ),
            timeout=60,
            what=f"{stack} in the inventory",
        )
        await pilot.press("u")
        await until(
            pilot,
            lambda: isinstance(app.screen, UpScreen) and app.screen.query("#up-input"),
            what="the up prompt",
        )
        assert app.screen.query_one("#up-input").value == str(file)
        await pilot.press("enter")
        text = await _confirmation(pilot)
        assert "as swarm stack" in text and f"stack deploy --resolve-image never -c {file}" in text
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ActionScreen), what="the up's screen")
        job = app.screen.job
        await until(pilot, lambda: job.result is not None, timeout=150, what="the up's end")

        # the failed rollout, named with the task's error, the rollback on b
        assert not job.result.ok and job.result.started
        assert "crashing rollout" in job.result.message, job.result.message
        assert "exit (1)" in job.result.message, job.result.message
        assert job.roll_back_target == label
        shown = str(app.screen.query_one("#action-result").render())
        assert "failed" in shown and "crashing rollout" in shown
        assert "b rolls the service back" in shown and label in shown
        # the engine really runs the new, crashing spec now
        assert _spec(f"{stack}_app")["Args"] == [
            "sh",
            "-c",
            "echo h14rest cannot start >&2; exit 1",
        ]

        await pilot.press("b")
        text = await _confirmation(pilot)
        assert f"Roll {label} on" in text and f"update --rollback --detach {stack}_app" in text
        assert "H14REST_VERSION 2 -> 1" in text, text
        await pilot.press("y")
        await until(
            pilot,
            lambda: isinstance(app.screen, ActionScreen) and app.screen.job is not job,
            what="the rollback's screen",
        )
        back = app.screen.job
        assert back.plan.verb == "rollback" and back.plan.target == label
        await until(pilot, lambda: back.result is not None, timeout=150, what="the rollback")
        assert back.result.ok, back.result.message
        assert "done" in str(app.screen.query_one("#action-result").render())
        assert not back.can_roll_back  # a rollback is not rolled back on b

    # the engine runs the previous spec again, in a running task
    after = _spec(f"{stack}_app")
    assert after["Args"] == before["Args"] and after.get("Env") == before.get("Env")
    wait_for(
        f"{label} running its previous spec",
        lambda: (
            (svc := stack_service(stack)) is not None
            and svc.running == 1
            and all("H14REST_VERSION=1" in env for env in _running_env(stack))
            and _running_env(stack)
        ),
        timeout=90,
    )
