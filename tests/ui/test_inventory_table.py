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
