"""The services screen driven with Pilot against the real engine."""

from __future__ import annotations

import pytest
from conftest import open_palette, palette_pick
from helpers import UnixProxy

from mltui.core.engine import Engine, EngineTarget
from mltui.ui.app import MltuiApp

pytestmark = pytest.mark.engine

SIZE = (160, 45)


def row_keys(app: MltuiApp) -> list[str]:
    return list(app.services._order)


def service_key_for(app: MltuiApp, container_name: str) -> str | None:
    if app.snapshot is None:
        return None
    for svc in app.snapshot.services():
        if svc.name == container_name:
            return f"svc:{svc.key}"
    return None


def bar_text(app: MltuiApp) -> str:
    from mltui.ui.services import EngineBar

    return str(app.services.query_one(EngineBar).render())


async def test_rows_appear_and_cursor_survives_updates(container_factory, wait_until):
    later = container_factory("zz-cursor")
    app = MltuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: service_key_for(app, later) in app.services._rows,
            what="the container's row",
        )
        key = service_key_for(app, later)
        table = app.services.table
        table.move_cursor(row=table.get_row_index(key))
        await pilot.pause()
        assert app.services.cursor_key() == key
        # a container that sorts before ours appears: rows shift, the cursor must not
        earlier = container_factory("aa-cursor")
        await wait_until(
            pilot,
            lambda: service_key_for(app, earlier) in app.services._rows,
            what="the new row (event-driven)",
        )
        assert app.services.cursor_key() == key
        # the new row landed above ours and the cursor moved down with its row
        # (an index delta would be fragile: other tests' stacks may still be leaving)
        assert table.get_row_index(service_key_for(app, earlier)) < table.cursor_row
        assert "● connected" in bar_text(app)
        # the row shows what the engine says
        row = app.services._rows[key]
        assert row.cells[1] == "running" and row.cells[2] == "1/1"


async def test_engine_down_at_start_then_up(tmp_path, container_factory, wait_until):
    name = container_factory("down-then-up")
    proxy = UnixProxy(str(tmp_path / "engine.sock"))
    app = MltuiApp(engine_factory=lambda: Engine(EngineTarget(proxy.url, "test"), timeout=5))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.engine_info.state == "down", what="the down state")
            assert "○ down" in bar_text(app)
            assert f"no Docker engine answers at {proxy.url}" in bar_text(app)
            detail = str(app.services.query_one("#detail").render())
            assert "no Docker engine answers" in detail
            app.save_screenshot(str(tmp_path / "down.svg"))
            # the engine comes up: the app fills in by itself
            proxy.start()
            await wait_until(
                pilot,
                lambda: service_key_for(app, name) in app.services._rows,
                timeout=30,
                what="rows after the engine came up",
            )
            assert app.engine_info.state == "connected" and "● connected" in bar_text(app)
    finally:
        proxy.stop()


async def test_engine_restart_mid_session(tmp_path, container_factory, wait_until):
    name = container_factory("restart")
    proxy = UnixProxy(str(tmp_path / "engine.sock"))
    proxy.start()
    app = MltuiApp(engine_factory=lambda: Engine(EngineTarget(proxy.url, "test"), timeout=5))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(
                pilot, lambda: service_key_for(app, name) in app.services._rows, what="rows"
            )
            rows_before = set(app.services._rows)
            proxy.stop()
            await wait_until(
                pilot, lambda: app.engine_info.state == "reconnecting", what="reconnecting"
            )
            assert "◌ reconnecting" in bar_text(app)
            # nothing lost: the last inventory stays on screen
            assert set(app.services._rows) == rows_before
            proxy.start()
            await wait_until(
                pilot,
                lambda: app.engine_info.state == "connected",
                timeout=30,
                what="connected again",
            )
            assert "● connected" in bar_text(app)
            # and events flow again: a new container shows up without a restart of mltui
            again = container_factory("restart-after")
            await wait_until(
                pilot,
                lambda: service_key_for(app, again) in app.services._rows,
                what="a row after reconnecting",
            )
    finally:
        proxy.stop()


async def test_palette_goes_to_a_service_and_enter_folds(container_factory, wait_until):
    name = container_factory("palette-target")
    app = MltuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: service_key_for(app, name) in app.services._rows, what="rows"
        )
        key = service_key_for(app, name)
        assert app.services.cursor_key() != key
        await open_palette(pilot, "g")
        # "Logs of ..." matches too: the words of the command pick it
        await pilot.press(*"goto", "space", *"palette-target")
        await palette_pick(pilot, f"Go to service (no stack)/{name}")
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: app.services.cursor_key() == key,
            timeout=10,
            what="cursor on the service",
        )

        # fold the stack the cursor's service is in: its services leave the table
        stack_key = "stack:none:"
        table = app.services.table
        table.move_cursor(row=table.get_row_index(stack_key))
        await pilot.press("enter")
        await pilot.pause()
        assert key not in app.services._rows
        # the fold mark on screen follows the fold state
        assert table.get_row(stack_key)[0].plain.startswith("▶ ")
        await pilot.press("enter")
        await pilot.pause()
        assert key in app.services._rows
        assert table.get_row(stack_key)[0].plain.startswith("▼ ")


async def test_hostile_labels_render_as_plain_text(container_factory, wait_until):
    name = container_factory(
        "ui-hostile",
        "--label",
        "com.docker.compose.project=evil\x1b]52;c;aGVsbG8=\x07\x1b[2Jproj",
        "--label",
        "com.docker.compose.service=svc\x1b]0;pwned\x07",
    )
    app = MltuiApp()
    async with app.run_test(size=SIZE) as pilot:

        def hostile_row():
            return next(
                (k for k, r in app.services._rows.items() if r.cells[0].startswith("evil")), None
            )

        await wait_until(pilot, hostile_row, what="the hostile project's row")
        key = hostile_row()
        table = app.services.table
        table.move_cursor(row=table.get_row_index(key))  # on screen, and in the detail panel
        detail = app.services.query_one("#detail")
        await wait_until(
            pilot,
            lambda: app.services.cursor_key() == key and str(detail.content).startswith("evil"),
            what="the hostile project in the detail panel",
        )
        shown = app.export_screenshot()
        assert "evil␛]52;c;aGVsbG8=␇␛[2Jproj" in shown
        assert "\x1b" not in shown and "\x07" not in shown
        assert app.services._rows[key].cells[0] == "evil␛]52;c;aGVsbG8=␇␛[2Jproj"
        # the container itself is listed under that project's service
        assert any(r.cells[0] == name for r in app.services._rows.values())


def test_quitting_ends_the_process_at_once(container_factory):
    """The engine watcher reads events in 15 s windows: quitting must stop it
    rather than let it open the next window, which the process would wait for."""
    import asyncio
    import threading
    import time

    name = container_factory("ui-quit")

    async def main() -> float:
        from conftest import until, until_service

        app = MltuiApp()
        async with app.run_test(size=SIZE) as pilot:
            await until_service(pilot, name)
            # the watcher is inside an event window, the case that used to hold the exit
            await until(pilot, lambda: app._stream is not None, what="the event stream open")
            await pilot.press("q")
        return time.monotonic()

    quit_at = asyncio.run(main())  # returns once the loop has joined its threads
    took = time.monotonic() - quit_at
    assert took < 5, f"{took:.1f} s from quit to a closed event loop"
    assert [t.name for t in threading.enumerate() if t.name.startswith("asyncio")] == []
