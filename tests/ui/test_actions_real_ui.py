"""The TUI's actions on the real engine: a swarm stack of one service (prefix h14ui-).

s on its row asks for N (refusing nonsense), then shows the confirmation; No
changes nothing (the engine says so), Yes scales it and the action screen ends
in "done" once the engine runs the replicas (and the action log has the line).
A second action on a service another one is changing is refused in the app, and
one whose target another process holds is refused by the lock, changing
nothing. E on a replica (no terminal to suspend into here) copies its docker
exec command line. On a Compose project x and X stop and
start the service, and D asks about its volumes only when the box is ticked, and
asks again."""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import until
from helpers import (
    COMPOSE_V2,
    STACKS,
    action_log_lines,
    docker,
    remove_stack,
    running_ids,
    stack_service,
    wait_for,
)

from mltui.core.config import Config
from mltui.core.inventory import Service
from mltui.deploy.actionlock import target_lock
from mltui.deploy.actions import Plan
from mltui.ui.actions import ActionRun, ActionScreen
from mltui.ui.app import MltuiApp
from mltui.ui.confirm import ConfirmScreen
from mltui.ui.prompts import ScaleScreen, UpScreen

pytestmark = pytest.mark.engine
STACK_FILE = STACKS / "actions.yml"
SIZE = (140, 40)


@pytest.fixture
def h14ui_stack(swarm, test_image, run_id):
    name = f"h14ui-{run_id[-6:]}"
    env = {"MLTUI_TEST_IMAGE": test_image}
    docker("stack", "deploy", "--resolve-image", "never", "-c", str(STACK_FILE), name, env=env)
    try:
        wait_for(f"{name}/app running", lambda: len(running_ids(name)) == 1, timeout=90)
        yield name
    finally:
        remove_stack(name)
        docker("volume", "rm", f"{name}_data", check=False)


async def _on_service(pilot, stack: str, replica: bool = False) -> Service:
    app = pilot.app

    def found():
        snap = app.snapshot
        svc = snap and next((s for s in snap.services() if s.stack == stack), None)
        return svc if svc and any(r.running for r in svc.replicas) else None

    await until(pilot, found, timeout=60, what=f"{stack} in the inventory")
    svc = found()
    app.services.goto_service(svc.key)
    if replica:
        table = app.services.table
        table.move_cursor(row=table.cursor_row + 1)
    await pilot.pause()
    return svc


async def _confirmation(pilot) -> str:
    await until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, ConfirmScreen)
            and pilot.app.screen.query("#confirm-yes")
            # laid out too: a click before that lands elsewhere (seen once under load)
            and pilot.app.screen.query_one("#confirm-yes").region.area > 0
        ),
        what="the confirmation",
    )
    return str(pilot.app.screen.query_one("#confirm-text").render())


async def test_scale_asks_no_changes_nothing_yes_scales(h14ui_stack):
    stack = h14ui_stack
    label = f"{stack}/app"
    app = MltuiApp(config=Config(stats=False))
    said: list[str] = []
    app.notify = lambda message, **_kw: said.append(str(message))
    async with app.run_test(size=SIZE) as pilot:
        await _on_service(pilot, stack)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScaleScreen), what="the scale prompt")
        field = app.screen.query_one("#scale-input")
        field.value = "-2"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ScaleScreen)
        assert "0 or more" in str(app.screen.query_one("#prompt-error").render())
        field.value = "2"
        await pilot.press("enter")
        text = await _confirmation(pilot)
        engine = app.engine.target.display
        for part in (label, engine, "swarm", f"docker service scale --detach {stack}_app=2"):
            assert part in text, (part, text)
        await pilot.press("n")
        await until(pilot, lambda: app.screen is app.services, what="back on the services")
        # No: nothing ran, and the engine still wants one replica
        assert not app.services.action_runs
        assert not any(isinstance(s, ActionScreen) for s in app.screen_stack)
        assert stack_service(stack).desired == 1 and len(running_ids(stack)) == 1

        before = len(action_log_lines())
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScaleScreen), what="the scale prompt")
        app.screen.query_one("#scale-input").value = "2"
        await pilot.press("enter")
        await _confirmation(pilot)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ActionScreen), what="the action screen")
        job = app.screen.job
        await until(pilot, lambda: job.result is not None, timeout=150, what="the scale's end")
        assert job.result.ok, job.result.message
        assert "2/2 running" in job.result.message
        assert "done" in str(app.screen.query_one("#action-result").render())
        assert any("running: docker service scale" in line for line in job.lines)
        svc = stack_service(stack)
        assert svc.desired == 2 and len(running_ids(stack)) == 2
        new = action_log_lines()[before:]
        assert len(new) == 1 and label in new[0] and new[0].endswith("\tok"), new

        # the same service while an action on it runs: refused in the app
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.services, what="back on the services")
        busy = ActionRun(Plan("restart", label, "swarm", engine, ()))
        app.services.action_runs[label] = busy
        said.clear()
        await pilot.press("s")
        await pilot.press("e")
        await pilot.pause()
        assert app.screen is app.services
        assert sum("still running" in m for m in said) == 2, said
        del app.services.action_runs[label]

        # ... and by the lock another process (here: this test) holds on it
        ids = running_ids(stack)
        with target_lock(job.plan.engine, label, "a test holding it"):
            await pilot.press("e")
            await _confirmation(pilot)
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, ActionScreen), what="its screen")
            job = app.screen.job
            await until(pilot, lambda: job.result is not None, timeout=30, what="the refusal")
        assert not job.result.started and "another action on" in job.result.message
        assert "refused" in str(app.screen.query_one("#action-result").render())
        assert running_ids(stack) == ids and stack_service(stack).desired == 2

        # b: back to the spec before the scale, what changes shown first
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.services, what="back on the services")
        await pilot.press("b")
        text = await _confirmation(pilot)
        assert "replicas 2 -> 1" in text and f"update --rollback --detach {stack}_app" in text
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ActionScreen), what="the rollback")
        job = app.screen.job
        await until(pilot, lambda: job.result is not None, timeout=150, what="the rollback's end")
        assert job.result.ok, job.result.message
        assert stack_service(stack).desired == 1


async def test_shell_on_a_replica_copies_its_exec_line_without_a_terminal(h14ui_stack):
    """Pilot's headless driver cannot suspend, as a browser tab cannot: the line is
    copied for the user to paste."""
    app = MltuiApp(config=Config(stats=False))
    async with app.run_test(size=SIZE) as pilot:
        svc = await _on_service(pilot, h14ui_stack, replica=True)
        container = next(r.container_id for r in svc.replicas if r.running)[:12]
        await pilot.press("E")
        await until(pilot, lambda: "docker exec -it" in (app.clipboard or ""), what="the copy")
        assert app.clipboard.split()[-2:] in ([container, "sh"], [container, "bash"])


@pytest.fixture
def h14ui_project(test_image, run_id):
    name = f"h14ui-{run_id[-6:]}-c"
    env = {**os.environ, "MLTUI_TEST_IMAGE": test_image}
    base = [COMPOSE_V2, "-p", name, "-f", str(STACK_FILE)]
    subprocess.run([*base, "up", "-d"], env=env, capture_output=True, check=True, timeout=120)
    try:
        wait_for(f"{name}/app running", lambda: len(running_ids(name)) == 1, timeout=60)
        yield name
    finally:
        subprocess.run([*base, "down", "-v", "-t", "1"], env=env, capture_output=True, check=False)
        docker("volume", "rm", f"{name}_data", check=False)


def _volumes(name: str) -> list[str]:
    out = docker("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={name}")
    return out.split()


async def test_down_asks_about_volumes_twice_and_keeps_them_unless_asked(
    h14ui_project, test_image, monkeypatch
):
    name = h14ui_project
    monkeypatch.setenv("MLTUI_TEST_IMAGE", test_image)  # the file's ${MLTUI_TEST_IMAGE}
    app = MltuiApp(config=Config(stats=False))
    said: list[str] = []
    app.notify = lambda message, **_kw: said.append(str(message))
    async with app.run_test(size=SIZE) as pilot:
        await _on_service(pilot, name)
        # stop and start the service (x, X), each confirmed, each seen on the engine
        for key, verb, want in (("x", "stop", 0), ("X", "start", 1)):
            await pilot.press(key)
            text = await _confirmation(pilot)
            assert "compose" in text.lower() and f" {verb} app" in text, text
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, ActionScreen), what=f"{verb}")
            job = app.screen.job
            await until(pilot, lambda j=job: j.result is not None, timeout=90, what=f"{verb}'s end")
            assert job.result.ok, job.result.message
            assert len(running_ids(name)) == want
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.services, what="the services")
        await _on_service(pilot, name)
        await pilot.press("D")
        text = await _confirmation(pilot)
        assert f"Remove {name} on" in text and " down" in text and "down -v" not in text
        # the volumes: a box, unticked; ticked, Yes asks once more, naming them
        await pilot.click("#confirm-volumes")
        await until(
            pilot, lambda: app.screen.query_one("#confirm-volumes").value, what="the box ticked"
        )
        await pilot.click("#confirm-yes")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, ConfirmScreen)
                and app.screen.second
                and app.screen.query("#confirm-text")
            ),
            what=f"the second question ({said})",
        )
        second = str(app.screen.query_one("#confirm-text").render())
        assert f"{name}_data" in second and "down -v" in second and "lost for good" in second
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.services, what="back on the services")
        assert len(running_ids(name)) == 1 and f"{name}_data" in _volumes(name)
        # Yes without the box: the project goes, its volume stays
        await pilot.press("D")
        await _confirmation(pilot)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ActionScreen), what="the action screen")
        job = app.screen.job
        await until(pilot, lambda: job.result is not None, timeout=120, what="the down's end")
        assert job.result.ok, job.result.message
    assert stack_service(name) is None
    assert f"{name}_data" in _volumes(name)


async def test_up_deploys_the_folders_compose_file_as_a_compose_project(
    tmp_path, test_image, run_id, monkeypatch
):
    """u: the folder's compose file offered, Compose picked, the confirmation names
    the file and the command; Yes deploys it and waits until it runs."""
    folder = tmp_path / f"h14ui-up-{run_id[-6:]}"
    folder.mkdir()
    file = folder / "compose.yml"
    file.write_text(
        f"services:\n  app:\n    image: {test_image}\n    command: [sleep, infinity]\n"
        "    stop_grace_period: 1s\n"
    )
    name = folder.name
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MLTUI_COMPOSE", COMPOSE_V2)
    app = MltuiApp(config=Config(stats=False))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.snapshot is not None, what="the inventory")
            await pilot.press("u")
            await until(
                pilot,
                lambda: isinstance(app.screen, UpScreen) and app.screen.query("#up-input"),
                what="the up prompt",
            )
            assert app.screen.query_one("#up-input").value == str(file)
            await pilot.click("#up-compose")
            app.screen.query_one("#up-input").focus()
            await pilot.press("enter")
            text = await _confirmation(pilot)
            assert str(file) in text and "Compose" in text and "up -d --no-build" in text
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, ActionScreen), what="the deploy")
            job = app.screen.job
            await until(pilot, lambda: job.result is not None, timeout=150, what="the up's end")
            assert job.result.ok, job.result.message
        assert len(running_ids(name)) == 1
    finally:
        subprocess.run(
            [COMPOSE_V2, "-p", name, "-f", str(file), "down", "-t", "1"],
            capture_output=True,
            check=False,
        )
