"""The logs screen driven with Pilot against real containers."""

from __future__ import annotations

import re

import pytest
from conftest import open_palette, palette_pick, until_service
from helpers import docker

from mltui.ui.app import MltuiApp
from mltui.ui.logs import LogBar, LogScreen
from mltui.ui.logview import LogView

pytestmark = pytest.mark.engine

SIZE = (160, 45)

# 300 numbered lines, every 7th an ERROR, a long line, one hostile line, then quiet
SCRIPT = (
    "import sys\n"
    "for i in range(300):\n"
    "    print(('ERROR' if i % 7 == 0 else 'INFO') + ' line %d' % i)\n"
    "print('long ' + 'x' * 400)\n"
    "print('\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x1b[31mred\\x1b[0m end')\n"
    "sys.stdout.flush()\n"
    "import time\n"
    "time.sleep(3600)\n"
)


def keys(text: str) -> list[str]:
    return ["space" if c == " " else c for c in text]


def screen_text(view: LogView) -> list[str]:
    """What the view shows now, row by row (plain text)."""
    return [
        "".join(seg.text for seg in view.render_line(y)).rstrip() for y in range(view.size.height)
    ]


async def open_logs(app: MltuiApp, pilot, name: str, wait_until) -> LogScreen:
    service = await until_service(pilot, name)
    app.services.goto_service(service.key)
    await pilot.pause()
    await pilot.press("l")
    await wait_until(pilot, lambda: isinstance(app.screen, LogScreen), what="the logs screen")
    screen = app.screen
    assert isinstance(screen, LogScreen)
    await wait_until(pilot, lambda: len(screen.buffer) >= 302, what="the lines")
    return screen


async def test_keys_of_the_logs_screen(container_factory, wait_until, tmp_path):
    name = container_factory("ui-logs", command=("python3", "-c", SCRIPT))
    app = MltuiApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_logs(app, pilot, name, wait_until)
        screen.save_dir = tmp_path
        view = screen.view

        def bar() -> str:
            return str(screen.query_one(LogBar).render())

        await wait_until(
            pilot,
            lambda: view.following and any("red end" in r for r in screen_text(view)),
            what="the last line on screen",
        )
        # following: the last line is on screen, hostile bytes inert
        rows = screen_text(view)
        last = [r for r in rows if r][-1]
        assert last.endswith("│ ␛]52;c;ZXZpbA==␇red end"), last
        assert view.following
        assert all("\x1b" not in r and "\x07" not in r for r in rows)

        # scrolling up pauses following and counts nothing new (the container is quiet)
        await pilot.press("pageup")
        await wait_until(pilot, lambda: "paused" in bar(), what="the bar to say paused")
        assert not view.following
        assert "paused, 0 new lines" in str(screen.query_one(LogBar).render())
        await pilot.press("end")
        await wait_until(pilot, lambda: view.following, what="following again")
        assert view.following

        # search, next/previous
        await pilot.press("slash", *keys("line 10"), "enter")
        await wait_until(pilot, lambda: view.match_line is not None, what="the first match")
        assert view.search is not None and view.search.pattern == "line 10"
        first = view.match_line
        assert first is not None
        await pilot.press("n")
        second = view.match_line
        assert second != first
        await pilot.press("N")
        assert view.match_line == first
        matched = screen.buffer.lines[first - screen.buffer.first]
        assert re.search(r"line 10\d?$", matched)

        # filter: only ERROR lines (smart case: lower case matches any case)
        await pilot.press("f", *keys("error"), "enter")
        await wait_until(pilot, lambda: "filter /" in bar(), what="the filter in the bar")
        assert view.count == 43  # i % 7 == 0 for i in 0..299
        assert "filter /error/" in str(screen.query_one(LogBar).render())
        shown = [r for r in screen_text(view) if r]
        assert all("ERROR line" in r for r in shown)

        # timestamps off: rows start with the replica's name
        await pilot.press("t")
        await wait_until(pilot, lambda: not view.timestamps, what="timestamps off")
        assert all(r.startswith(name) for r in screen_text(view) if r)

        # save what the view shows
        await pilot.press("s")
        await wait_until(pilot, lambda: list(tmp_path.glob("*.log")), what="the saved file")
        (saved,) = tmp_path.glob("*.log")
        lines = saved.read_text().splitlines()
        assert len(lines) == 43
        assert all(" ERROR line " in line for line in lines)

        # the filter cleared, back to the services screen
        await pilot.press("f", "ctrl+u", "enter")
        await wait_until(pilot, lambda: not view.filtered, what="the filter cleared")
        assert view.count == 302

        # wrap: the long line takes several rows, nothing is cut
        await pilot.press("w")
        await wait_until(
            pilot,
            lambda: view.wrap and any("│ long x" in r for r in screen_text(view)),
            what="the long line wrapped on screen",
        )
        assert view.wrap and view.rows > view.count
        rows = [r for r in screen_text(view) if r]
        k = next(i for i, r in enumerate(rows) if "│ long x" in r)
        # the line's first row, then indented rows of x up to the next line
        follow_on = rows[k + 1 : k + 1 + (view.rows - view.count)]
        assert all(r.startswith(" ") and set(r.strip()) == {"x"} for r in follow_on)
        assert rows[k].count("x") + sum(r.count("x") for r in follow_on) == 400
        assert all(len(r) <= SIZE[0] for r in rows)
        await pilot.press("w")
        await wait_until(pilot, lambda: not view.wrap, what="wrap off")
        assert view.rows == view.count

        await pilot.press("escape")
        await wait_until(
            pilot, lambda: not isinstance(app.screen, LogScreen), what="the services screen"
        )
        assert not isinstance(app.screen, LogScreen)


async def test_the_view_keeps_its_bound_and_says_what_it_dropped(container_factory, wait_until):
    name = container_factory("ui-logs-bound", command=("python3", "-c", SCRIPT))
    app = MltuiApp(log_lines=50)
    async with app.run_test(size=SIZE) as pilot:
        app.open_logs(await until_service(pilot, name))
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, LogScreen) and app.screen.buffer.dropped == 252,
            what="the bound to drop the oldest",
        )
        screen = app.screen
        assert len(screen.buffer) == 50
        assert screen.buffer.lines[-1].endswith("red\x1b[0m end")
        assert "(252 older dropped)" in str(screen.query_one(LogBar).render())


async def test_merged_view_of_a_service_marks_a_replica_that_ended(container_factory, wait_until):
    # one container that prints, then is stopped: its history stays, its end is marked
    name = container_factory("ui-logs-end", command=("python3", "-c", SCRIPT))
    app = MltuiApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_logs(app, pilot, name, wait_until)
        docker("stop", "-t", "0", name)
        await wait_until(
            pilot,
            lambda: any(line.endswith(f"── {name} ended ──") for line in screen.buffer.lines),
            what="the ended mark",
        )
        assert len(screen.buffer) == 303, screen.buffer.lines[-4:]
        assert "○" in str(screen.query_one(LogBar).render())


async def test_the_palette_opens_the_logs_of_a_service(container_factory, wait_until):
    name = container_factory("ui-logs-palette", command=("python3", "-c", SCRIPT))
    app = MltuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await until_service(pilot, name)
        await open_palette(pilot)
        await pilot.press(*keys("logs of"), "space", *keys("ui-logs-palette"))
        await palette_pick(pilot, name)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LogScreen), what="the logs screen")
        assert app.screen.service.name == name
        await wait_until(pilot, lambda: len(app.screen.buffer) >= 302, what="the lines")
