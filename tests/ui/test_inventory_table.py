"""InventoryTable: rows reordered by key and columns that widen as rows arrive."""

from __future__ import annotations

from conftest import until
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import DataTable, Static

from mltui.ui.services import InventoryTable


class TableApp(App):
    def compose(self) -> ComposeResult:
        table = InventoryTable()
        table.add_columns("NAME", "STATE")
        yield table


async def test_rows_added_with_a_reorder_are_drawn_at_full_width():
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(InventoryTable)
        # what the services screen does with a new snapshot: add rows, then order them by key
        keys = [f"row{i:03d}" for i in range(100)]  # more than fit: a scrollbar appears
        for key in reversed(keys):
            table.add_row(Text(f"name-{key}-" + "x" * 30), Text("running"), key=key)
        table.reorder(keys)
        first = f"name-{keys[0]}-" + "x" * 30
        await until(
            pilot, lambda: first in app.export_screenshot(), timeout=10, what="the rows drawn"
        )
        shown = app.export_screenshot()
        for key in keys[:10]:
            assert f"name-{key}-" + "x" * 30 in shown
        assert [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(100)] == keys


class TwinApp(App):
    """The same rows in an InventoryTable and in a plain DataTable, side by side."""

    CSS = "DataTable { height: 12; width: 60; }"

    def compose(self) -> ComposeResult:
        yield Static("focus stays here", id="other")
        for cls in (InventoryTable, DataTable):
            table = cls(cursor_type="row")
            table.add_columns("NAME", "CPU", "MEM")
            yield table


async def test_kept_lines_draw_what_datatable_draws_after_updates_scroll_and_cursor():
    """The table keeps each row's drawn line; after every change the lines it
    gives are the ones DataTable itself draws for the same rows."""
    app = TwinApp()
    async with app.run_test(size=(70, 30)) as pilot:
        tables = list(app.query(DataTable))
        ours, plain = tables[0], tables[1]
        assert isinstance(ours, InventoryTable) and not isinstance(plain, InventoryTable)
        app.set_focus(None)

        def both(action):
            for table in (ours, plain):
                action(table)

        def lines(table):
            strips = table.render_lines(Region(0, 0, table.size.width, table.size.height))
            return [strip.text for strip in strips], [list(strip) for strip in strips]

        async def same(what):
            await pilot.pause()
            (text, segments), (plain_text, plain_segments) = lines(ours), lines(plain)
            assert text == plain_text, what
            # the styles too, and the row index DataTable puts in each cell's meta
            differ = [
                i for i, (a, b) in enumerate(zip(segments, plain_segments, strict=True)) if a != b
            ]
            assert not differ, (what, differ)

        for i in range(40):
            both(
                lambda t, i=i: t.add_row(
                    Text(f"svc{i:02d}"), Text("0.0%"), Text("1.0MiB"), key=f"k{i}"
                )
            )
        await same("first draw")
        await same("drawn again, nothing changed")
        both(
            lambda t: t.update_cell(
                "k3", t.ordered_columns[1].key, Text("97.5%"), update_width=True
            )
        )
        await same("a cell of a row on screen")
        both(
            lambda t: t.update_cell(
                "k30", t.ordered_columns[2].key, Text("512.0MiB / 1.0GiB"), update_width=True
            )
        )
        await same("a cell off screen that widens its column")
        both(lambda t: t.scroll_to(y=25, animate=False))
        await same("scrolled")
        both(lambda t: t.move_cursor(row=30, animate=False))
        await same("the cursor moved onto a changed row")
        both(lambda t: t.update_cell("k30", t.ordered_columns[1].key, Text("3.0%", style="bold")))
        await same("the cursor row's cell changed style")
        # what the services screen puts in cells: colours, right-justified
        # figures, empty cells; and a cell back to what it showed before
        for key, name, cpu, mem in (
            ("k31", Text("svc31", style="green"), Text("12.5%", justify="right"), Text("")),
            ("k32", Text("svc32", style="bold red"), Text("0.0%", justify="right"), Text("")),
            ("k31", Text("svc31", style="green"), Text("0.0%", justify="right"), Text("n/a")),
        ):
            for col, value in enumerate((name, cpu, mem)):
                both(lambda t, k=key, c=col, v=value: t.update_cell(k, t.ordered_columns[c].key, v))
            await same(f"styled, justified and empty cells in {key}")
        both(lambda t: t.remove_row("k29"))
        await same("a row removed above")
        # put back in another order: ours moves its rows (their drawn lines go with
        # them), DataTable has them added again in that order
        order = [f"k{i}" for i in (*range(20, 40), *range(20)) if i != 29]
        cells = {key: plain.get_row(key) for key in order}
        ours.reorder(order)
        plain.clear()
        for key in order:
            plain.add_row(*cells[key], key=key)
        plain.move_cursor(row=ours.cursor_row, animate=False)
        plain.scroll_to(y=ours.scroll_y, animate=False)
        await same("the rows in another order")
        assert "512.0MiB / 1.0GiB" in "".join(lines(ours)[0])
        # the row under the mouse: highlighted while the mouse is there, not after
        for table in (ours, plain):  # from one row to another, the mouse still over it
            await pilot.hover(table, offset=(3, 4))
            await pilot.pause()
            await pilot.hover(table, offset=(3, 6))
            await pilot.pause()
            if table is ours:
                hovered = lines(ours)
        assert hovered == lines(plain)
        left = lines(ours)
        await pilot.hover(Static, offset=(1, 0))
        await pilot.pause()
        assert left == lines(plain) and hovered != left


class StateApp(App):
    def compose(self) -> ComposeResult:
        table = InventoryTable(cursor_type="row")
        table.add_columns("NAME", "STATE", "AGE")
        yield table


async def test_columns_widen_at_once_and_narrow_only_to_what_they_held_lately():
    """A crash-looping replica's state flips between "running" and a long reason:
    the column widens for the long one at once and stays wide while it comes back;
    it narrows (narrow_columns, every WIDTH_HOLD_S) once nothing that wide came."""
    app = StateApp()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(InventoryTable)
        for i in range(3):
            table.add_row(Text(f"svc{i}"), Text("running"), Text("1s"), key=f"k{i}")
        state = table.ordered_columns[1]
        await until(pilot, lambda: state.content_width == len("running"), what="first widths")
        long = "crashing: exit 1 (restarts 5)"
        table.update_cell("k1", state.key, Text(long), update_width=True)
        await until(pilot, lambda: state.content_width == len(long), what="the column widened")
        table.update_cell("k1", state.key, Text("running"), update_width=True)
        await pilot.pause()
        assert state.content_width == len(long)  # not narrowed back at once
        await until(pilot, lambda: long not in app.export_screenshot(), what="the new state drawn")
        assert table.narrow_columns() is False  # the long state came since the last call
        assert state.content_width == len(long)
        assert table.narrow_columns() is True  # a whole while without it
        assert state.content_width == len("running")

        # the narrower table is drawn: AGE moved left, next to the state (each
        # column has one cell of padding either side)
        def age_at() -> int:
            return next(line.index("1s") for line in table_lines(table) if "svc1" in line)

        wide_at = (len("svc1") + 2) + (len(long) + 2) + 1
        narrow_at = (len("svc1") + 2) + (len("running") + 2) + 1
        assert age_at() == wide_at
        await until(pilot, lambda: age_at() == narrow_at, what="the narrower column drawn")


def table_lines(table: InventoryTable) -> list[str]:
    strips = table.render_lines(Region(0, 0, table.size.width, table.size.height))
    return [strip.text for strip in strips]


async def test_a_changed_cell_is_the_only_one_rendered_again(monkeypatch):
    """DataTable renders every cell of a row again after any update; the table
    keeps each cell's drawing by what it shows, so one changed cell is the only
    one rendered again, and only its row is drawn."""
    app = StateApp()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(InventoryTable)
        for i in range(3):
            table.add_row(Text(f"svc{i}"), Text("running"), Text("1s"), key=f"k{i}")
        await until(pilot, lambda: "svc2" in "".join(table_lines(table)), what="rows drawn")
        drawn: list[tuple[int, int]] = []
        rendered: list[object] = []
        draw, render = InventoryTable._draw_content, type(app.console).render_lines

        def counted(self, row_index, column_index, *args, **kwargs):
            drawn.append((row_index, column_index))
            return draw(self, row_index, column_index, *args, **kwargs)

        def rendering(console, renderable, *args, **kwargs):
            if not isinstance(renderable, Text):  # a cell, not the text inside it
                rendered.append(renderable)
            return render(console, renderable, *args, **kwargs)

        monkeypatch.setattr(InventoryTable, "_draw_content", counted)
        monkeypatch.setattr(type(app.console), "render_lines", rendering)
        table.update_cell("k1", table.ordered_columns[2].key, Text("2s"))
        await until(pilot, lambda: "2s" in "".join(table_lines(table)), what="the new age")
        assert drawn and {row for row, _ in drawn} == {1}  # its row only
        assert len(rendered) == 1  # "2s" was never drawn in that column before
        lines = table_lines(table)
        assert "svc1" in lines[2] and "2s" in lines[2] and "running" in lines[2]
        # back to what it showed before: drawn from what that looked like, no render
        drawn.clear()
        rendered.clear()
        table.update_cell("k1", table.ordered_columns[2].key, Text("1s"))
        await until(pilot, lambda: "2s" not in "".join(table_lines(table)), what="the old age")
        assert {row for row, _ in drawn} == {1} and rendered == []
