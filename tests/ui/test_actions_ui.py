"""The TUI's actions: SVG snapshots of the confirmation (scale; rollback with what
changes) and of the action screen (a rollout in progress; a failed one offering
rollback), from fixed plans and lines; read-only mode hides and refuses every
action key; the prompts refuse what cannot be right."""

from __future__ import annotations

import pytest
from conftest import until
from nvml_fake import FakeNvml
from recorded import RECORDED_AT, RecordedEngine

from mltui.cli import build_parser
from mltui.core.config import Config
from mltui.deploy.actions import Plan, Result
from mltui.deploy.dockercli import Call
from mltui.ui.action_bindings import ACTION_IDS, ACTIONS
from mltui.ui.actions import ActionRun, ActionScreen
from mltui.ui.app import MltuiApp
from mltui.ui.confirm import ConfirmScreen
from mltui.ui.help import HelpScreen, catalogue, without_actions
from mltui.ui.prompts import ScaleScreen, UpRequest, UpScreen, complete_path, parse_replicas

ENGINE = "unix:///var/run/docker.sock"
SCALE = Plan(
    "scale",
    "tf/serving",
    "swarm",
    ENGINE,
    (Call(("docker", "service", "scale", "--detach", "tf_serving=4")),),
    replicas=4,
)
ROLLBACK = Plan(
    "rollback",
    "tf/serving",
    "swarm",
    ENGINE,
    (Call(("docker", "service", "update", "--rollback", "--detach", "tf_serving")),),
    replicas=2,
    details=(
        "image tf-serving:model-77ca835a5339 -> tf-serving:latest",
        "replicas 4 -> 2",
        "env MODEL_VERSION 3 -> 2",
    ),
    image="tf-serving:latest",
)
RESTART = Plan(
    "restart",
    "tf/serving",
    "swarm",
    ENGINE,
    (Call(("docker", "service", "update", "--force", "--detach", "tf_serving")),),
)
LINES = [
    "running: docker service update --force --detach tf_serving",
    "0/4 replaced",
    "1/4 replaced",
    "2/4 replaced",
]


def _app(config: Config | None = None) -> MltuiApp:
    return MltuiApp(
        engine_factory=RecordedEngine,
        clock=lambda: RECORDED_AT,
        config=config or Config(stats=False),
        nvml_factory=lambda: FakeNvml([]),  # a host without GPUs, whatever this one has
    )


async def _settled(pilot) -> None:
    """The services screen behind the dialog as pictured: the full snapshot applied
    and no refresh under way."""
    app = pilot.app
    await until(
        pilot,
        lambda: (
            app.snapshots_applied >= 2
            and all(w.is_finished for w in app.workers if w.group == "refresh")
        ),
        timeout=10,
        what="the full snapshot on screen",
    )


def _run(plan: Plan, lines: list[str], result: Result | None = None) -> ActionRun:
    job = ActionRun(plan)
    for line in lines:
        job.add(line)
    if result is not None:
        job.finish(result)
    return job


@pytest.mark.parametrize(
    ("plan", "size"), [(SCALE, (80, 24)), (ROLLBACK, (120, 36))], ids=["scale", "rollback"]
)
def test_confirmation_snapshot(snap_compare, plan, size):
    async def run_before(pilot):
        await _settled(pilot)
        await pilot.app.push_screen(ConfirmScreen(plan))
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize(
    ("job", "size"),
    [
        (lambda: _run(RESTART, LINES), (120, 36)),
        (
            lambda: _run(
                RESTART,
                [*LINES[:2], "a new task exited: tf_serving.1 exit 1: model not found"],
                Result(False, "restart tf/serving did not take effect: tf_serving.1 exited (1)"),
            ),
            (80, 24),
        ),
    ],
    ids=["in-progress", "failed"],
)
def test_action_screen_snapshot(snap_compare, job, size):
    async def run_before(pilot):
        await _settled(pilot)
        await pilot.app.push_screen(ActionScreen(job(), on_roll_back=lambda _job: None))
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=size, run_before=run_before)


async def test_confirmation_names_target_engine_and_commands_and_no_is_nothing(wait_until):
    app = _app()
    answers = []
    async with app.run_test(size=(120, 36)) as pilot:
        await app.push_screen(ConfirmScreen(ROLLBACK), answers.append)
        await pilot.pause()
        text = str(app.screen.query_one("#confirm-text").render())
        for part in (
            "tf/serving",
            ENGINE,
            "swarm",
            "docker service update --rollback",
            "replicas 4 -> 2",
        ):
            assert part in text, part
        await pilot.press("escape")
        await wait_until(pilot, lambda: answers, what="the answer")
        assert answers[0].yes is False
        await app.push_screen(ConfirmScreen(SCALE), answers.append)
        await pilot.pause()
        await pilot.press("enter")  # No has the focus: an extra Enter changes nothing
        await wait_until(pilot, lambda: len(answers) == 2, what="the second answer")
        assert answers[1].yes is False
        await app.push_screen(ConfirmScreen(SCALE), answers.append)
        await pilot.pause()
        await pilot.press("shift+tab", "enter")  # Shift+Tab moves to Yes
        await wait_until(pilot, lambda: len(answers) == 3, what="the third answer")
        assert answers[2].yes is True and answers[2].volumes is False
        await app.push_screen(ConfirmScreen(SCALE), answers.append)
        await pilot.pause()
        await pilot.press("y")
        await wait_until(pilot, lambda: len(answers) == 4, what="the fourth answer")
        assert answers[3].yes is True


def test_replica_counts_are_refused_with_a_sentence():
    assert parse_replicas(" 3 ") == 3
    assert parse_replicas("0") == 0
    assert "0 or more" in parse_replicas("-1")
    assert "more than 1000" in parse_replicas("5000")
    assert "not a whole number" in parse_replicas("two")
    assert "not a whole number" in parse_replicas("\x1b[31m1")
    assert "\x1b" not in parse_replicas("\x1b[31m1")
    assert "type a number" in parse_replicas("")


def test_path_completion(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    (tmp_path / "data").mkdir()
    assert complete_path(str(tmp_path / "dock")) == str(tmp_path / "docker-compose.yml")
    assert complete_path(str(tmp_path / "da")) == str(tmp_path / "data") + "/"
    assert complete_path(str(tmp_path / "zz")) is None
    assert complete_path(str(tmp_path / "nowhere" / "x")) is None


async def test_scale_prompt_keeps_asking_until_the_count_is_sane(wait_until):
    app = _app()
    answers = []
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(ScaleScreen("tf/serving", 2), answers.append)
        await pilot.pause()
        for typed, said in (("-3", "0 or more"), ("100000", "more than 1000"), ("x", "whole")):
            field = app.screen.query_one("#scale-input")
            field.value = typed
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ScaleScreen)
            assert said in str(app.screen.query_one("#prompt-error").render())
        app.screen.query_one("#scale-input").value = "4"
        await pilot.press("enter")
        await wait_until(pilot, lambda: answers, what="the count")
        assert answers == [4]


def test_read_only_flag_of_the_tui():
    args = build_parser().parse_args(["--read-only"])
    assert args.tui_read_only is True
    assert build_parser().parse_args([]).tui_read_only is False


def test_top_level_read_only_refuses_a_commands_action_too(capsys):
    from mltui.cli import main

    # refused before any engine is asked (the address below answers nothing)
    code = main(["-H", "tcp://127.0.0.1:1", "--read-only", "scale", "a/b", "2", "--yes"])
    assert code == 2
    assert "read-only" in capsys.readouterr().err


def test_help_without_actions_keeps_the_rest():
    every = catalogue()
    kept = without_actions(every)
    assert {"services.scale", "services.down", "services.roll", "confirm.yes"} <= {
        k.id for k in every
    }
    assert not {k.id for k in kept} & ACTION_IDS
    assert {"services.logs", "app.help"} <= {k.id for k in kept}


@pytest.mark.parametrize("read_only", [True, False])
async def test_read_only_hides_and_refuses_every_action_key(wait_until, read_only):
    """Read-only: no action key in the footer, the palette or the help; each key
    says why nothing happens and opens nothing. Not read-only: they are there."""
    app = _app(Config(read_only=read_only))
    said: list[str] = []
    app.notify = lambda message, **_kw: said.append(str(message))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, what="the snapshot")
        svc = next(s for s in app.snapshot.services() if s.kind == "swarm")
        app.services.goto_service(svc.key)
        await pilot.pause()
        active = {b.binding.action for b in app.screen.active_bindings.values()}
        palette = " ".join(c.title for c in app.get_system_commands(app.screen))
        if not read_only:
            assert {"act_scale", "act_restart", "act_down"} <= active
            assert "Scale" in palette
            return
        assert not active & ACTIONS
        assert "Scale" not in palette and "Roll back" not in palette
        for key in ("s", "e", "x", "X", "D", "b", "u", "E", "R"):
            said.clear()
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.services, key
            assert any("read-only" in m for m in said), (key, said)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        sections = [str(s.render()).split(" (")[0] for s in app.screen.query(".help-section")]
        assert "Services" in sections and "Logs" in sections
        assert not {"Actions", "Confirm", "Scale", "Up", "Action", "Roll"} & set(sections)


async def test_up_prompt_offers_the_folders_compose_file_completes_and_refuses(
    tmp_path, monkeypatch, wait_until
):
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "stack.yml").write_text("services: {}\n")
    monkeypatch.chdir(tmp_path)
    app = _app()
    answers = []
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(UpScreen(str(tmp_path), swarm=True), answers.append)
        await pilot.pause()
        field = app.screen.query_one("#up-input")
        assert field.value == str(tmp_path / "docker-compose.yml")  # the folder's, by default
        field.value = str(tmp_path / "oth")
        field.cursor_position = len(field.value)
        await pilot.press("tab")
        assert field.value == str(tmp_path / "other") + "/"
        await pilot.press("tab")
        assert field.value == str(tmp_path / "other" / "stack.yml")
        await pilot.press("enter")
        await wait_until(pilot, lambda: answers, what="the request")
        assert answers[0] == UpRequest(str(tmp_path / "other" / "stack.yml"), "swarm")
        # Compose chosen; a path that is no file is refused in one sentence
        await app.push_screen(UpScreen(str(tmp_path), swarm=True), answers.append)
        await pilot.pause()
        await pilot.click("#up-compose")
        app.screen.query_one("#up-input").value = str(tmp_path / "nope\x1b[2J.yml")
        await pilot.click("#prompt-ok")
        await pilot.pause()
        said = str(app.screen.query_one("#prompt-error").render())
        assert "is not a file" in said and "\x1b" not in said
        app.screen.query_one("#up-input").value = "docker-compose.yml"
        app.screen.query_one("#up-input").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(answers) == 2, what="the second request")
        assert answers[1] == UpRequest(str(tmp_path / "docker-compose.yml"), "compose")
        # an engine that is no swarm manager: Compose only
        await app.push_screen(UpScreen(str(tmp_path), swarm=False), answers.append)
        await pilot.pause()
        assert app.screen.query_one("#up-swarm").disabled
        assert app.screen.query_one("#up-compose").value
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(answers) == 3, what="the cancel")
        assert answers[2] is None


async def test_failed_rollout_offers_rollback_one_key_away(wait_until):
    failed = _run(RESTART, LINES[:2], Result(False, "restart tf/serving did not take effect"))
    done = _run(RESTART, LINES, Result(True, "restart tf/serving: 4/4 replaced"))
    asked = []
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(ActionScreen(done, on_roll_back=asked.append))
        await pilot.pause()
        assert "roll_back" not in {b.binding.action for b in app.screen.active_bindings.values()}
        await pilot.press("b")
        await pilot.pause()
        assert asked == []
        app.pop_screen()
        await app.push_screen(ActionScreen(failed, on_roll_back=asked.append))
        await pilot.pause()
        assert "b rolls the service back" in str(app.screen.query_one("#action-result").render())
        await pilot.press("b")
        await wait_until(pilot, lambda: asked, what="the rollback asked for")
        assert asked == [failed]
        assert not isinstance(app.screen, ActionScreen)


async def test_action_messages_with_brackets_are_shown_as_text():
    """A build's output or a project's name may hold "[/x]": as markup a wrong
    closing tag would end the app; the action toasts show it as it is."""
    app = _app()
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await _settled(pilot)
        said = "build failed: path [/srv/models] is not a directory, p[/x]/svc"
        app.services.notify(said, severity="error")

        def toasts() -> list[str]:
            return [str(t.render()) for t in app.screen.query("Toast")]

        await until(pilot, lambda: any(said in t for t in toasts()), what="the toast")
        assert app.is_running


def test_lines_from_the_action_thread_are_drawn_in_batches_none_lost():
    import threading

    job = ActionRun(SCALE)
    drawn: list[int] = []
    job.watchers.append(lambda: drawn.append(len(job.lines)))
    told = []

    def report() -> None:
        for i in range(5000):
            told.append(job.offer(f"step {i}\x1b[31m"))

    thread = threading.Thread(target=report)
    thread.start()
    thread.join()
    assert told[0] is True and not any(told[1:])  # one wake-up for the whole burst
    job.drain()
    assert drawn == [300]  # one redraw; the last MAX_LINES kept, in order, sanitised
    assert job.lines[0].startswith("step 4700") and job.lines[-1].startswith("step 4999")
    assert not any("\x1b" in line for line in job.lines)
    assert job.offer("after") is True  # the next line wakes the UI again
    job.drain()
    assert job.lines[-1] == "after"
