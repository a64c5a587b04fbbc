"""SVG snapshots of every screen (pytest-textual-snapshot), in two terminal sizes
and in the light and the dark theme."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path

import pytest
from conftest import until
from nvml_fake import FakeNvml
from recorded import LOGS_DATA, LOGS_RECORDED_AT, RECORDED_AT, RecordedEngine

from mltui.core.config import Config
from mltui.ui.app import MltuiApp

SIZES = [(80, 24), (160, 45)]
THEMES = ["textual-dark", "textual-light"]
SCREENS = ["main", "logs", "notebooks", "predict", "gpu", "help"]


def _app(theme: str = "textual-dark", data=None, at: float = RECORDED_AT) -> MltuiApp:
    return MltuiApp(
        engine_factory=(lambda: RecordedEngine(data)) if data else RecordedEngine,
        clock=lambda: at,
        # stats read quickly, so the pictures wait less for their two reads
        config=Config(theme=theme, stats_interval=0.5),
        # a host without GPUs, whatever this one has: no GPU MEM column
        nvml_factory=lambda: FakeNvml([]),
    )


def _done(app, group: str) -> bool:
    """No worker of ``group`` is pending or running."""
    return all(w.is_finished for w in app.workers if w.group == group)


async def _settled(pilot) -> None:
    """The inventory as pictured: the first paint from the list calls, then the full
    snapshot (with inspects), both applied, and no refresh under way; and two stats
    reads on screen (CPU % is the difference of two), the recorded engine giving
    the same figures at each read."""
    app = pilot.app
    await until(
        pilot,
        lambda: app.snapshots_applied >= 2 and _done(app, "refresh"),
        timeout=10,
        what="the full snapshot on screen",
    )
    await until(
        pilot,
        lambda: app.services.stats_reads >= 2,
        timeout=10,
        what="two stats reads on screen",
    )


TOKEN = "c8eb1f3a9d2e4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a"


def _notebooks():
    from mltui.core.jupyter import Notebook

    common = {"container_port": 8888, "token": TOKEN, "source": "exec"}
    return [
        Notebook(
            service="mltui-demo/notebook", service_key="swarm:nb", replica="notebook.1",
            container_id="5d3e38c00027" * 5, url=f"http://127.0.0.1:8888/?token={TOKEN}",
            container_url="http://0.0.0.0:8888/", status="reachable", **common,
        ),
        Notebook(
            service="research/lab", service_key="compose:research/lab", replica="lab-1",
            container_id="6141087ab2dc" * 5, url=f"http://127.0.0.1:49153/lab?token={TOKEN}",
            container_url="http://6141087ab2dc:8888/lab", status="forbidden: wrong token",
            path="lab", **common,
        ),
        Notebook(
            service="scratch", service_key="container:x", replica="scratch", container_id="7" * 64,
            url="", container_url="http://x:8888/", status="not published",
            note='port 8888 is not published: add ports: ["127.0.0.1:8888:8888"] to the service',
            **common,
        ),
    ]  # fmt: skip


async def _open_notebooks(pilot) -> None:
    from mltui.ui.jupyter import NotebookScreen

    screen = NotebookScreen(None, None, notebooks=_notebooks())
    await pilot.app.push_screen(screen)
    table = screen.query_one("DataTable")
    await until(
        pilot,
        lambda: pilot.app.screen is screen and table.row_count == 3,
        timeout=10,
        what="the three notebooks in the table",
    )


async def _open_predict(pilot) -> None:
    """A finished run: rows with hits, a miss, a bad file, and the summary."""
    from mltui.core import predict as core
    from mltui.ui.predict import PredictScreen

    R = core.Result
    results = [
        R("0/digit-0001.png", "0", "0", 0.998, [], 41.2),
        R("1/digit-0046.png", "1", "1", 0.951, [], 38.7),
        R("3/digit-0139.png", "3", "9", 0.612, [], 44.0),
        R("7/digit-0316.png", "7", "7", 0.987, [], 39.5),
        R(
            "7/broken.png",
            "7",
            error_kind="not an image",
            error="not an image file mltui can decode",
        ),
        R(
            "notes.txt",
            None,
            error_kind="skipped",
            error="not an image file (by its name): not sent",
        ),
    ]
    summary = core.summarize(results, 0.25)
    endpoint = core.ServedModel(
        "http://127.0.0.1:8501", "my_model", "tfserving", ("1",), "AVAILABLE",
        core.Signature("input_1", "DT_FLOAT", (224, 224, 3), "dense", "metadata"),
    )  # fmt: skip

    screen = PredictScreen(
        folder="stacks/demo/test-images",
        results=results,
        summary=summary,
        endpoint=endpoint,
    )
    await pilot.app.push_screen(screen)
    # the folder field has the focus: its cursor shown steadily, so the picture does
    # not depend on the blink's phase when it is taken (a slow machine took it hidden)
    screen.query_one("#pr-folder").cursor_blink = False
    table = screen.query_one("DataTable")
    await until(
        pilot,
        lambda: pilot.app.screen is screen and table.row_count == len(results),
        timeout=10,
        what="the results in the table",
    )


async def _open_gpu(pilot) -> None:
    """Two GPUs (NVML faked with nvidia-ml-py's shapes), a verdict per recorded service."""
    from nvml_fake import A10, H100, FakeNvml

    from mltui.ui.gpu import GpuScreen

    app = pilot.app
    info = app.engine_info
    info = type(info)(**{**info.__dict__, "runtimes": ("nvidia", "runc")})
    screen = GpuScreen(lambda: FakeNvml([H100, A10]), None, info, app.snapshot, live=False)
    await app.push_screen(screen)
    await until(
        pilot,
        lambda: screen.host is not None and _done(app, "gpu-nvml"),
        timeout=10,
        what="the GPUs read and shown",
    )


async def _open_main(pilot) -> None:
    """The cursor on the crash-looping service shows its last error below."""
    services = pilot.app.services
    table = services.table
    key = next(k for k, r in services._rows.items() if r.cells[0] == "crash")
    table.move_cursor(row=table.get_row_index(key))
    detail = services.query_one("#detail")
    await until(
        pilot,
        lambda: services.cursor_key() == key and str(detail.content).startswith("crash"),
        timeout=10,
        what="the crash-looping service in the detail",
    )


async def _open_logs(pilot) -> None:
    """The merged view: replicas in time order, each in its colour, colour kept."""
    app = pilot.app
    svc = next(s for s in app.snapshot.services() if s.name == "trainer")
    app.open_logs(svc)

    def pictured() -> bool:
        """Every line in, each replica followed, the view at its end, the bar says so."""
        screen = app.screen
        session = getattr(screen, "session", None)
        if session is None or len(screen.buffer) < 56:
            return False
        view = screen.view
        bar = str(screen.query_one("#log-bar").render())
        return (
            all(session.state_of(i) == "following" for i in range(len(screen.names)))
            and view.count == len(screen.buffer)
            and view.following
            and view.scroll_y == view.max_scroll_y
            and f"following · {len(screen.buffer)} lines" in bar
        )

    await until(pilot, pictured, timeout=10, what="the merged logs as pictured")
    assert len(app.screen.buffer) == 56


async def _open_help(pilot) -> None:
    """Every key, the services screen's first."""
    await pilot.press("question_mark")
    await until(
        pilot,
        lambda: type(pilot.app.screen).__name__ == "HelpScreen" and pilot.app.screen.is_mounted,
        timeout=10,
        what="the help screen",
    )
    assert type(pilot.app.screen).__name__ == "HelpScreen"


@pytest.mark.parametrize("theme", THEMES, ids=["dark", "light"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("screen", SCREENS)
def test_screen(snap_compare, monkeypatch, screen, size, theme):
    import mltui.core.logs.logtime as logtime

    monkeypatch.setattr(logtime, "_LOCAL", timezone.utc)  # the same picture in every zone
    app = _app(theme, LOGS_DATA, LOGS_RECORDED_AT) if screen == "logs" else _app(theme)
    opener = globals()[f"_open_{screen}"]

    async def run_before(pilot):
        await _settled(pilot)
        assert pilot.app.theme == theme
        await opener(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
    if screen == "notebooks":
        name = f"test_screen[{screen}-{size[0]}x{size[1]}-{theme.split('-')[1]}].svg"
        svg = (Path(__file__).parent / "__snapshots__" / "test_snapshots" / name).read_text()
        assert TOKEN not in svg.replace("&#160;", " ")
        assert TOKEN[:4] in svg
