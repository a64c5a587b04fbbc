"""InventoryTable: rows reordered by key and columns that widen as rows arrive."""

from __future__ import annotations

from conftest import until
from rich.text import Text
from textual.app import App, ComposeResult

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
