"""The confirmation dialog: it names target, engine and command; No (button,
Escape, Enter on the focused No) answers no; Yes answers yes; down's volumes
are a second choice, off by default."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Checkbox, Static

from mltui.deploy.actions import Plan
from mltui.deploy.dockercli import Call
from mltui.ui.confirm import ConfirmScreen


def _plan(volumes: tuple[str, ...] = ()) -> Plan:
    return Plan(
        verb="down" if volumes else "scale",
        target="h14ui2-stack/web",
        kind="swarm",
        engine="unix:///var/run/docker.sock",
        calls=(
            Call(("docker", "stack", "rm", "h14ui2-stack"))
            if volumes
            else Call(("docker", "service", "scale", "h14ui2-stack_web=3")),
        ),
        replicas=3,
        volumes=volumes,
    )


class _Host(App[None]):
    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan, self.answers = plan, []

    def on_mount(self) -> None:
        self.push_screen(ConfirmScreen(self.plan), self.answers.append)


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_confirm_shows_target_engine_command_and_no_says_no() -> None:
    for keys in (["escape"], ["enter"]):
        app = _Host(_plan())
        async with app.run_test() as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, ConfirmScreen)
            assert "h14ui2-stack/web" in _text(screen, "#confirm-title")
            assert "unix:///var/run/docker.sock" in _text(screen, "#confirm-engine")
            assert "docker service scale h14ui2-stack_web=3" in _text(screen, "#confirm-commands")
            await pilot.press(*keys)
            await pilot.pause()
            assert app.answers == [(False, False)]


async def test_confirm_yes_and_volumes_choice() -> None:
    app = _Host(_plan(volumes=("h14ui2-data",)))
    async with app.run_test() as pilot:
        await pilot.pause()
        box = app.screen.query_one("#confirm-volumes", Checkbox)
        assert box.value is False
        await pilot.click("#confirm-yes")
        await pilot.pause()
        assert app.answers == [(True, False)]
    app = _Host(_plan(volumes=("h14ui2-data",)))
    async with app.run_test() as pilot:
        await pilot.pause()
        app.screen.query_one("#confirm-volumes", Checkbox).value = True
        await pilot.click("#confirm-yes")
        await pilot.pause()
        assert app.answers == [(True, True)]


def test_confirm_snapshot(snap_compare) -> None:
    """The confirmation of a down with a volume: fixed plan, fixed size."""
    assert snap_compare(_Host(_plan(volumes=("h14ui2-data",))), terminal_size=(100, 24))
