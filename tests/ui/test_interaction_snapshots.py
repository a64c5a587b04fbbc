"""SVG snapshots after key presses: the states a user reaches, not only screens as
first opened (a search with its matches, a filter, a sorted predict run, the
palette with a query, every group collapsed). One size and theme each."""

from __future__ import annotations

from datetime import timezone

import pytest
from conftest import until
from recorded import LOGS_DATA, LOGS_RECORDED_AT
from test_snapshots import _app, _open_logs, _open_predict, _settled

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def _utc(monkeypatch):
    import mltui.core.logs.logtime as logtime

    monkeypatch.setattr(logtime, "_LOCAL", timezone.utc)  # the same picture in every zone


def _logs_app():
    return _app("textual-dark", LOGS_DATA, LOGS_RECORDED_AT)


def test_logs_search_marks_matches(snap_compare):
    async def run_before(pilot):
        await _settled(pilot)
        await _open_logs(pilot)
        await pilot.press("slash", *"clipped", "enter")
        view = pilot.app.screen.view
        await until(pilot, lambda: view.match_line is not None, what="the search's match")
        assert "clipped" in view.buffer.plain(view.absolute(view.match_line))

    assert snap_compare(_logs_app(), terminal_size=SIZE, run_before=run_before)


def test_logs_filter_keeps_matching_lines(snap_compare):
    async def run_before(pilot):
        await _settled(pilot)
        await _open_logs(pilot)
        screen = pilot.app.screen
        warns = sum("WARN" in screen.buffer.plain(i) for i in range(len(screen.buffer)))
        await pilot.press("f", *"WARN", "enter")
        await until(pilot, lambda: screen.view.count == warns, what="only the WARN lines")
        assert 0 < warns < len(screen.buffer)

    assert snap_compare(_logs_app(), terminal_size=SIZE, run_before=run_before)


def test_predict_sorted_problems_first(snap_compare):
    async def run_before(pilot):
        await _settled(pilot)
        await _open_predict(pilot)
        pilot.app.screen.query_one("DataTable").focus()
        # arrival -> by file -> failures and misses first
        await pilot.press("ctrl+s", "ctrl+s")
        await until(pilot, lambda: pilot.app.screen.sort == "problems", what="the problems sort")

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_palette_with_a_query(snap_compare):
    async def run_before(pilot):
        await _settled(pilot)
        from textual.command import CommandPalette
        from textual.widgets import OptionList

        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), what="the palette")
        # a query only one command matches: equal scores come back in no fixed order
        await pilot.press(*"logs of (swarm, no stack)/crash")
        options = pilot.app.screen.query_one(OptionList)
        await until(pilot, lambda: options.option_count == 1, what="the palette's one match")

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_main_all_collapsed(snap_compare):
    async def run_before(pilot):
        await _settled(pilot)
        table = pilot.app.services.table
        snapshot = pilot.app.snapshot
        folded = len(snapshot.stacks) + len(list(snapshot.services()))
        assert table.row_count > folded
        await pilot.press("minus")
        await until(pilot, lambda: table.row_count == folded, what="one row per stack and service")

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_main_replica_usage_sorted_by_memory(snap_compare):
    """The replica under the cursor with its CPU and memory sparklines and figures,
    the table sorted by memory (the recorded engine gives the same figures at each
    read, so every point of a sparkline is the same height)."""

    async def run_before(pilot):
        await _settled(pilot)
        services = pilot.app.services
        await pilot.press("o", "o")
        assert services.sort_key == "mem"
        key = next(k for k, r in services._rows.items() if r.cells[0] == "ok.1")
        services.table.move_cursor(row=services.table.get_row_index(key), animate=False)
        reads = services.stats_reads
        await until(
            pilot,
            lambda: services.stats_reads >= reads + 2 and services.query_one("#usage").display,
            what="the sparklines of the replica under the cursor",
        )

    assert snap_compare(_app(), terminal_size=(120, 30), run_before=run_before)


def test_main_oom_killed_container(snap_compare):
    """A container the kernel killed for memory: its state in the row, and the
    detail naming OOMKilled, exit 137 and the limit it hit."""
    import copy

    from recorded import DATA

    data = copy.deepcopy(DATA)
    plain = next(c for c in data["containers"] if c["Names"] == ["/plain"])
    plain.update(State="exited", Status="Exited (137) 2 seconds ago")
    inspect = data["inspect"][plain["Id"]]
    inspect["State"].update(Running=False, OOMKilled=True, ExitCode=137)
    inspect["HostConfig"]["Memory"] = 32 * 2**20

    async def run_before(pilot):
        await _settled(pilot)
        services = pilot.app.services
        key = next(k for k, r in services._rows.items() if r.cells[0] == "plain")
        services.table.move_cursor(row=services.table.get_row_index(key), animate=False)
        detail = services.query_one("#detail")
        await until(pilot, lambda: "OOMKilled" in str(detail.render()), what="the OOM detail")

    assert snap_compare(_app(data=data), terminal_size=SIZE, run_before=run_before)
