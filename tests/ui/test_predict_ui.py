"""The predict screen driven with Pilot against the demo's real model server."""

from __future__ import annotations

import shutil

import pytest
from helpers import docker, http_status, wait_for

from mltui.deploy.images import ensure_image
from mltui.deploy.stacks import DEMO_DIR, DEMO_MODEL
from mltui.ui.app import MltuiApp
from mltui.ui.predict import PredictScreen, guess_url

pytestmark = pytest.mark.engine


@pytest.fixture
def model_url(engine_info, run_id):
    name = f"{run_id}-ui-model"
    docker(
        "run", "-d", "--name", name, "--label", f"mltui.test={run_id}", "-p", "127.0.0.1::8501",
        # served under another name, as TF Serving does with MODEL_NAME
        "-e", "MODEL_NAME=digits", ensure_image(DEMO_MODEL),
        "sh", "-c", "ln -s /models/my_model /models/digits && exec python3 /srv/model/server.py",
    )  # fmt: skip
    port = docker("port", name, "8501/tcp").split(":")[-1].strip()
    url = f"http://127.0.0.1:{port}"
    wait_for("the model", lambda: http_status(f"{url}/v1/models/digits") == 200)
    yield url, name
    docker("rm", "-f", name, check=False)


async def test_a_run_fills_the_table_and_the_summary(model_url, tmp_path, wait_until):
    url, name = model_url
    folder = tmp_path / "imgs"
    for cls in ("1", "7"):
        (folder / cls).mkdir(parents=True)
        for path in sorted((DEMO_DIR / "test-images" / cls).glob("*.png"))[:3]:
            shutil.copy(path, folder / cls / path.name)
    (folder / "7" / "broken.png").write_bytes(b"not a png")
    (folder / "README.md").write_text("where these came from\n")
    app = MltuiApp()
    async with app.run_test(size=(160, 45)) as pilot:
        # the service's published port makes the URL
        await wait_until(
            pilot,
            lambda: (
                app.snapshot is not None and any(s.name == name for s in app.snapshot.services())
            ),
            what="the model in the inventory",
        )
        svc = next(s for s in app.snapshot.services() if s.name == name)
        assert guess_url(svc) == url
        app.services.goto_service(svc.key)
        await pilot.pause()
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PredictScreen), what="the screen")
        screen = app.screen
        assert screen.query_one("#pr-url").value == url
        # the model's name comes from the container's MODEL_NAME
        await wait_until(
            pilot, lambda: screen.query_one("#pr-model").value == "digits", what="MODEL_NAME"
        )
        screen.query_one("#pr-folder").value = str(folder)
        screen.query_one("#pr-classes").value = str(DEMO_DIR / "test-images" / "classes.txt")
        screen.export_dir = tmp_path
        await pilot.press("ctrl+r")
        await wait_until(
            pilot, lambda: screen.summary is not None or screen.problem, timeout=120, what="the run"
        )
        assert not screen.problem, screen.problem
        table = screen.query_one("DataTable")
        assert table.row_count == 8  # every file has its row
        s = screen.summary
        assert (s.images, s.failed, s.skipped, s.labelled) == (7, 1, 1, 6)
        assert s.accuracy is not None and s.accuracy >= 5 / 6
        assert s.errors == {"not an image": 1}  # broken.png: Pillow cannot identify it
        summary_text = str(screen.query_one("#pr-summary").render())
        assert "accuracy" in summary_text
        assert summary_text.startswith("7 images in ")
        assert "1 other file not sent (not images by name)" in summary_text
        # the run is kept as the service's last run, for `mltui roll`
        from mltui.core.predict import lastrun

        kept, problem = lastrun.load_run(lastrun.run_path(app.engine.target.display, svc.label))
        assert not problem and kept is not None and kept.url == url and kept.model == "digits"
        assert kept.summary.accuracy == s.accuracy and len(kept.results) == 8
        # the row under the cursor shows its top classes
        row = next(i for i, r in enumerate(screen.results) if r.ok)
        table.move_cursor(row=row)
        await pilot.pause()
        first = screen.results[row]
        assert len(first.top) == 3
        assert f"{first.top[0][0]} {first.top[0][1]:.3f}" in str(
            screen.query_one("#pr-summary").render()
        )

        # ctrl+s: by file, then failures and misses first; the cursor's result follows
        def shown() -> list[str]:
            return [screen.results[int(k.value)].image for k in table.rows]

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.sort == "image" and shown() == sorted(r.image for r in screen.results)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert shown()[0] == "7/broken.png"
        assert "sorted failures and misses first" in str(screen.query_one("#pr-bar").render())
        # the cursor is on the first row, and the detail below is about it
        assert table.cursor_row == 0 and screen._selected().image == "7/broken.png"
        # a click on CONFIDENCE's title: least confident first; again: most confident first
        x = 1 + sum(c.get_render_width(table) for c in list(table.columns.values())[:3])
        await pilot.click("#pr-table", offset=(x, 0))
        await pilot.pause()
        confident = [r for r in screen.results if r.confidence is not None]
        ascending = sorted(confident, key=lambda r: (r.confidence, r.image))
        assert screen.sort == "confidence" and shown()[0] == ascending[0].image
        await pilot.click("#pr-table", offset=(x, 0))
        await pilot.pause()
        assert screen.sort_reverse and shown()[0] == ascending[-1].image
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: list(tmp_path.glob("mltui-predict-*.csv")), what="export")
        assert len(list(tmp_path.glob("mltui-predict-*.json"))) == 1
        await pilot.press("escape")
        assert not isinstance(app.screen, PredictScreen)
