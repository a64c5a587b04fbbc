"""Help, palette, keymap, themes, config problems and the mouse, driven with Pilot
against the real engine."""

from __future__ import annotations

import asyncio

import pytest
from conftest import open_palette, palette_pick, until, until_service
from textual.widgets import DataTable

from mltui.core.config import Config, parse
from mltui.ui.app import MltuiApp
from mltui.ui.help import HelpScreen, binding_ids, catalogue, markdown_table
from mltui.ui.logs import LogScreen
from mltui.ui.logview import LogView

pytestmark = pytest.mark.engine

SIZE = (160, 45)


def keys(text: str) -> list[str]:
    return ["space" if c == " " else c for c in text]


def logs_shown(app: MltuiApp) -> bool:
    return isinstance(app.screen, LogScreen) and bool(app.screen.query(LogView))


def palette_titles(app: MltuiApp) -> list[str]:
    return [c.title for c in app.get_system_commands(app.screen)]


async def test_every_binding_has_an_id_a_description_and_a_help_line():
    found = catalogue()
    screens = {k.screen for k in found}
    assert screens == {
        "Everywhere",
        "Services",
        "Actions",
        "Confirm",
        "Scale",
        "Up",
        "Action",
        "Logs",
        "Notebooks",
        "Predict",
        "Model",
        "Compare",
        "Roll: which image",
        "Roll",
        "GPU",
        "Load test",
    }
    for key in found:
        assert key.description and key.help and key.keys, key
        assert key.id or key.action == "command_palette", key
    ids = [k.id for k in found if k.id]
    assert len(ids) == len(set(ids)), "a binding id is used twice"
    assert {"services.logs", "logs.timestamps", "app.help", "app.theme"} <= binding_ids()


def test_the_readme_key_reference_is_the_code():
    """The README's key table is generated from the bindings; it may not drift."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert markdown_table() in readme


async def test_question_mark_shows_every_key_this_screen_first_and_closes(container_factory):
    name = container_factory("ui-help")
    app = MltuiApp()

    async def help_shown(shown: bool = True) -> None:
        await until(
            pilot,
            lambda: isinstance(app.screen, HelpScreen) is shown,
            timeout=10,
            what="the help screen" if shown else "the help screen closed",
        )

    async with app.run_test(size=SIZE) as pilot:
        await until_service(pilot, name)
        await pilot.press("question_mark")
        await help_shown()
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.current == "Services"
        sections = [str(s.render()) for s in app.screen.query(".help-section")]
        assert sections[0] == "Services (this screen)"
        assert sections[1] == "Actions"  # the services screen's action keys next
        # and the load test, the model panel, the compare view, the roll screen, the
        # confirmation, the scale and up prompts, the action screen and the roll's
        # image prompt
        assert len(sections) == 16
        await pilot.press("escape")
        await help_shown(False)
        assert not isinstance(app.screen, HelpScreen)

        # from the logs screen, the logs keys come first
        app.open_logs(await until_service(pilot, name))
        await until(pilot, lambda: logs_shown(app), timeout=10, what="the logs")
        await pilot.press("question_mark")
        await help_shown()
        assert isinstance(app.screen, HelpScreen) and app.screen.current == "Logs"
        await pilot.press("question_mark")
        await help_shown(False)
        assert isinstance(app.screen, LogScreen)


async def test_the_palette_holds_every_action_of_the_screen(container_factory, wait_until):
    name = container_factory("ui-palette", command=("sh", "-c", "echo hello; sleep infinity"))
    app = MltuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await until_service(pilot, name)
        titles = palette_titles(app)
        for wanted in ("Logs (l)", "Notebooks (j)", "Predict (p)", "GPU (G)", "Help", "Theme"):
            assert wanted in titles, titles
        app.open_logs(await until_service(pilot, name))
        await wait_until(pilot, lambda: logs_shown(app), what="the logs")
        screen = app.screen
        assert "Timestamps (t)" in palette_titles(app)
        view = screen.query_one(LogView)
        before = view.timestamps
        # through the palette itself: typed, chosen, run on the logs screen
        await open_palette(pilot)
        await pilot.press(*keys("timestamps"))
        await palette_pick(pilot, "Timestamps (t)")
        await pilot.press("enter")
        await wait_until(pilot, lambda: view.timestamps is not before, what="the toggle")
        assert app.screen is screen


async def test_the_palette_offers_per_service_actions_that_fit(container_factory, wait_until):
    from mltui.ui.commands import ServiceCommands

    notebook = container_factory("ui-pal-notebook", "-p", "127.0.0.1::8888")
    serving = container_factory("ui-pal-serving", "-p", "127.0.0.1::8501")
    app = MltuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await until_service(pilot, notebook)
        await until_service(pilot, serving)
        await wait_until(
            pilot,
            lambda: any(serving in t for t, _w, _k in ServiceCommands(app.screen)._targets()),
            what="the palette's service entries",
        )
        targets = {text for text, _what, _key in ServiceCommands(app.screen)._targets()}
        assert f"Notebook of (no stack)/{notebook}" in targets
        assert f"Notebook of (no stack)/{serving}" not in targets
        assert f"Predict against (no stack)/{serving}" in targets
        assert f"Predict against (no stack)/{notebook}" not in targets
        assert f"GPU check of (no stack)/{serving}" in targets

        # "GPU check of" opens the GPU screen on that service and looks inside it
        from mltui.core.gpu import describe_inside
        from mltui.ui.gpu import GpuScreen

        await open_palette(pilot)
        await pilot.press(*keys(f"gpu check of (no stack)/{serving}"))
        await palette_pick(pilot, f"GPU check of (no stack)/{serving}")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, GpuScreen), what="the GPU screen")
        screen = app.screen
        key = (await until_service(pilot, serving)).key
        await wait_until(pilot, lambda: key in screen.inside, timeout=60, what="the check")
        # the test image has python3 and no TensorFlow
        assert "TensorFlow not installed" in describe_inside(screen.inside[key])


async def test_config_theme_and_keymap_apply_and_bad_ones_are_said(container_factory, wait_until):
    name = container_factory("ui-config")
    text = (
        'theme = "textual-light"\n[keys]\n"app.help" = "f1"\n"services.logs" = "L"\n'
        '"services.nope" = "x"\n'
    )
    config, problems = parse(text, "/home/u/.config/mltui/config.toml")
    assert problems == []
    app = MltuiApp(config=config)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until_service(pilot, name)
        assert app.theme == "textual-light"
        # the unknown binding id is one notification naming key and line
        messages = [n.message for n in app._notifications]
        assert messages == [
            "config.toml line 5: keys.services.nope: no binding has this id (`?` lists them); ignored"
        ]
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help on f1")
        assert isinstance(app.screen, HelpScreen)
        # the help screen shows the keys as remapped
        rows = {k.id: k.keys for k in catalogue(app.screen.keymap)}
        assert rows["app.help"] == "f1" and rows["services.logs"] == "L"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.services, what="the services screen")
        app.services.goto_service((await until_service(pilot, name)).key)
        await pilot.press("l")  # no longer bound
        await pilot.pause()  # (what a bound key would do is queued by now: let it run)
        assert not isinstance(app.screen, LogScreen)
        await pilot.press("L")
        await wait_until(pilot, lambda: isinstance(app.screen, LogScreen), what="logs on L")
        # and `l` opened none late: one logs screen, the one `L` opened
        assert sum(isinstance(s, LogScreen) for s in app.screen_stack) == 1


async def test_an_unknown_theme_is_said_and_the_default_kept(container_factory):
    name = container_factory("ui-theme")
    config, _ = parse('\n\ntheme = "solarized-purple"\n', "/c/config.toml")
    app = MltuiApp(config=config)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until_service(pilot, name)
        assert app.theme == "textual-dark"
        [message] = [n.message for n in app._notifications]
        assert message.startswith("config.toml line 3: theme: no theme 'solarized-purple'; one of")
        assert "textual-light" in message


async def test_config_log_defaults_reach_a_new_logs_view(container_factory, wait_until):
    name = container_factory("ui-cfg-logs", command=("sh", "-c", "echo one; sleep infinity"))
    config, _ = parse("[logs]\ntimestamps = false\nwrap = true\nmax_lines = 500\n")
    app = MltuiApp(config=config)
    assert app.log_lines == 500
    async with app.run_test(size=SIZE) as pilot:
        app.open_logs(await until_service(pilot, name))
        await wait_until(pilot, lambda: logs_shown(app), what="the logs")
        view = app.screen.query_one(LogView)
        assert (view.timestamps, view.wrap, app.screen.buffer.max_lines) == (False, True, 500)


async def test_the_mouse_picks_rows_and_scrolls_logs(container_factory, wait_until):
    script = "for i in range(400): print('line', i)\nimport time; time.sleep(3600)"
    name = container_factory("ui-mouse", command=("python3", "-u", "-c", script))
    app = MltuiApp(config=Config())
    async with app.run_test(size=SIZE) as pilot:
        service = await until_service(pilot, name)
        table = app.services.table
        row_key = f"svc:{service.key}"
        await wait_until(pilot, lambda: row_key in app.services._rows, what="the row")
        target = table.get_row_index(row_key)
        # bring the row into view (other containers may be on the engine), then
        # put the cursor on another row without scrolling
        table.move_cursor(row=target, scroll=True, animate=False)
        await wait_until(
            pilot,
            lambda: (
                app.services.cursor_key() == row_key
                and 0 <= target - int(table.scroll_y) < table.scrollable_content_region.height - 1
            ),
            what="the row in view",
        )
        table.move_cursor(row=target - 1 if target else target + 1, scroll=False)
        await wait_until(
            pilot, lambda: app.services.cursor_key() != row_key, what="the cursor on another row"
        )
        assert app.services.cursor_key() != row_key
        # a click on the row (1 for the header) puts the cursor there
        assert await pilot.click(DataTable, offset=(3, target + 1 - int(table.scroll_y)))
        await wait_until(
            pilot, lambda: app.services.cursor_key() == row_key, what="the cursor on the row"
        )
        assert app.services.cursor_key() == row_key

        app.open_logs(service)
        await wait_until(pilot, lambda: logs_shown(app), what="the logs")
        screen = app.screen
        await wait_until(pilot, lambda: len(screen.buffer) >= 400, what="the lines")
        view = screen.query_one(LogView)
        await wait_until(
            pilot,
            lambda: (
                view.count == len(screen.buffer)
                and view.allow_vertical_scroll  # (laid out: the wheel scrolls it)
                and view.max_scroll_y > 0
                and view.scroll_y == view.max_scroll_y
            ),
            what="the view at its end, scrollable",
        )
        # the view sticks to its end again after each refresh that follows new lines:
        # let the one still queued run, or it undoes the wheel below
        await asyncio.wait_for(view.wait_for_refresh(), 10)
        bottom = view.scroll_y
        assert view.following and bottom > 0
        # the wheel up scrolls and pauses following; back down to the end follows again
        from textual import events

        for _ in range(3):
            view.post_message(events.MouseScrollUp(view, 2, 2, 0, 0, 0, False, False, False))
        await wait_until(pilot, lambda: view.scroll_y < bottom, what="the scroll up")
        assert not view.following
        for _ in range(30):
            view.post_message(events.MouseScrollDown(view, 2, 2, 0, 0, 0, False, False, False))
        await wait_until(pilot, lambda: view.following, what="following again")


async def test_a_theme_picked_with_ctrl_t_is_remembered_unless_the_config_names_one(
    container_factory, wait_until, tmp_path, monkeypatch
):
    import json

    name = container_factory("ui-theme-kept")
    state = tmp_path / "state" / "state.json"
    monkeypatch.setenv("MLTUI_STATE", str(state))

    app = MltuiApp(config=Config())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until_service(pilot, name)
        assert app.theme == "textual-dark"
        assert not state.exists()  # nothing is written until the user picks
        await open_palette(pilot, "ctrl+t")
        await pilot.press(*keys("nord"))
        await palette_pick(pilot, "nord")
        await pilot.press("enter")
        await wait_until(pilot, lambda: state.exists(), what="the state file")
        assert app.theme == "nord"
    assert json.loads(state.read_text()) == {"theme": "nord"}

    app = MltuiApp(config=Config())  # the next start
    async with app.run_test(size=SIZE) as pilot:
        await until_service(pilot, name)
        assert app.theme == "nord"

    # a theme the config names wins at start, and a pick says so and stores nothing
    config, _ = parse('theme = "textual-light"\n', "/c/config.toml")
    app = MltuiApp(config=config)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until_service(pilot, name)
        assert app.theme == "textual-light"
        app.theme = "gruvbox"
        await wait_until(pilot, lambda: app._notifications, what="a notification")
        [message] = [n.message for n in app._notifications]
        assert message == "config.toml sets theme = 'textual-light', which the next start uses"
    assert json.loads(state.read_text()) == {"theme": "nord"}

    # a damaged state file counts as empty
    state.write_bytes(b'{"theme": "nord"')
    app = MltuiApp(config=Config())
    async with app.run_test(size=SIZE) as pilot:
        await until_service(pilot, name)
        assert app.theme == "textual-dark"
