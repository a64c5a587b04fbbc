"""The load test screen: SVG snapshots of a finished run (fixed figures), and a
real short run driven with Pilot against the demo's model server in a container."""

from __future__ import annotations

import shutil

import pytest
from conftest import until
from helpers import docker, http_status, wait_for
from recorded import RECORDED_AT, RecordedEngine

from mltui.core.config import Config
from mltui.core.predict.load import LoadReport
from mltui.core.predict.load_stats import ErrorKey, LevelResult
from mltui.deploy.images import ensure_image
from mltui.deploy.stacks import DEMO_DIR, DEMO_MODEL
from mltui.ui.app import MltuiApp
from mltui.ui.load import LoadScreen
from mltui.ui.predict import PredictScreen


def _level(concurrency, ok, seconds, p50, p95, p99, top, errors=None, replicas=4):
    lv = LevelResult(concurrency, seconds=seconds, ok=ok, p50_ms=p50, p95_ms=p95)
    lv.p99_ms, lv.max_ms = p99, top
    lv.errors = errors or {}
    lv.replicas = {f"model.{i + 1}": ok // replicas for i in range(replicas)}
    return lv


def fixed_report() -> LoadReport:
    """Five levels of 10 s against the demo: throughput flattens past 4 workers."""
    report = LoadReport(
        "http://127.0.0.1:8501/v1/models/my_model:predict", "my_model", "tfserving", None,
        10.0, 50_000, 8, 1_907_188,
    )  # fmt: skip
    report.levels = [
        _level(1, 112, 10.04, 88.1, 99.6, 104.2, 110.3),
        _level(2, 208, 10.09, 94.7, 121.3, 133.9, 140.0),
        _level(4, 372, 10.15, 104.9, 160.8, 188.7, 201.5),
        _level(8, 396, 10.31, 198.4, 322.6, 371.2, 402.9),
        _level(
            16, 404, 10.62, 391.7, 702.5, 811.0, 930.4,
            {ErrorKey.of("server 5xx", 502, "HTTP 502 with an HTML error page"): 7},
        ),
    ]  # fmt: skip
    return report


def _app(theme: str) -> MltuiApp:
    return MltuiApp(
        engine_factory=RecordedEngine, clock=lambda: RECORDED_AT, config=Config(theme=theme)
    )


@pytest.mark.parametrize(
    "size, theme",
    [((160, 45), "textual-dark"), ((80, 24), "textual-light")],
    ids=["wide", "narrow"],
)
def test_load_screen_snapshot(snap_compare, size, theme):
    async def run_before(pilot):
        screen = LoadScreen(folder="stacks/demo/test-images", report=fixed_report())
        await pilot.app.push_screen(screen)
        screen.query_one("#ld-folder").cursor_blink = False
        await until(
            pilot,
            lambda: (
                pilot.app.screen is screen
                and "knee: 4 workers" in str(screen.query_one("#ld-table").render())
            ),
            timeout=10,
            what="the report on screen",
        )

    assert snap_compare(_app(theme), terminal_size=size, run_before=run_before)


@pytest.fixture
def model_url(engine_info, run_id):
    name = f"h15load-{run_id}-ui"
    docker(
        "run", "-d", "--name", name, "--label", f"mltui.test={run_id}", "-p", "127.0.0.1::8501",
        ensure_image(DEMO_MODEL),
    )  # fmt: skip
    try:
        port = docker("port", name, "8501/tcp").split(":")[-1].strip()
        url = f"http://127.0.0.1:{port}"
        wait_for("the model", lambda: http_status(f"{url}/v1/models/my_model") == 200)
        yield url
    finally:
        docker("rm", "-f", name, check=False)


@pytest.mark.engine
async def test_a_short_real_run_fills_the_chart_and_the_bars(model_url, tmp_path):
    folder = tmp_path / "imgs" / "7"
    folder.mkdir(parents=True)
    for path in sorted((DEMO_DIR / "test-images" / "7").glob("*.png"))[:2]:
        shutil.copy(path, folder / path.name)
    app = MltuiApp(engine_factory=RecordedEngine, clock=lambda: RECORDED_AT, config=Config())
    async with app.run_test(size=(160, 45)) as pilot:
        # opened from the predict screen, its URL, model and folder carried over
        predict = PredictScreen(url=model_url, folder=str(folder.parent))
        await app.push_screen(predict)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, LoadScreen), what="the load screen")
        screen = app.screen
        assert screen.query_one("#ld-url").value == model_url
        assert screen.query_one("#ld-folder").value == str(folder.parent)
        screen.query_one("#ld-levels").value = "1,2"
        screen.query_one("#ld-seconds").value = "1.5"
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.running, timeout=10, what="the run to start")
        # the first level's point is drawn before the run ends
        await until(pilot, lambda: len(screen.done) >= 1, timeout=60, what="the first level")
        await until(
            pilot, lambda: screen.report is not None or screen.problem, timeout=60, what="the run"
        )
        assert not screen.problem, screen.problem
        report = screen.report
        assert [lv.concurrency for lv in report.levels] == [1, 2]
        assert all(lv.ok > 0 and lv.throughput > 0 and lv.failed == 0 for lv in report.levels)
        bars = list(screen.query(".ld-level-bar"))
        assert len(bars) == 2 and all(b.percentage == 1.0 for b in bars)
        table = str(screen.query_one("#ld-table").render())
        assert "req/s" in table and "knee:" in table
        assert not screen.running
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is predict, what="back on the predict screen")
