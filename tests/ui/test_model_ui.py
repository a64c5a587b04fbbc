"""The model panel and the compare view: SVG snapshots from fixed values, and a
Pilot run against the demo's real model server (two versions, labels, metrics)."""

from __future__ import annotations

import shutil

import pytest
from helpers import docker, wait_for
from recorded import RECORDED_AT, RecordedEngine

from mltui.core import predict as core
from mltui.core.config import Config
from mltui.core.predict.compare import Side, compare_results
from mltui.core.predict.metrics import ModelMetrics
from mltui.core.predict.models import LabelInfo, ModelReport, TensorSpec, VersionInfo
from mltui.deploy.images import ensure_image
from mltui.deploy.stacks import DEMO_DIR, DEMO_MODEL, DEMO_MODEL_VERSIONS
from mltui.ui.app import MltuiApp

STABLE, CANARY = (str(DEMO_MODEL_VERSIONS[k]) for k in ("stable", "canary"))
SIG = (
    TensorSpec("input", "input_1", "DT_FLOAT", (-1, 224, 224, 3)),
    TensorSpec("output", "dense", "DT_FLOAT", (-1, 10)),
)


def _report() -> ModelReport:
    return ModelReport(
        "http://127.0.0.1:8501", "my_model", "tfserving", "AVAILABLE",
        versions=[
            VersionInfo("1770000000", "END", "NOT_FOUND", "Could not find SavedModel .pb or .pbtxt",
                        "it failed to load (END): NOT_FOUND Could not find SavedModel .pb or .pbtxt"),
            VersionInfo(CANARY, "AVAILABLE", "OK", "", "", SIG),
            VersionInfo(STABLE, "AVAILABLE", "OK", "", "", SIG),
        ],
        labels=[LabelInfo("stable", STABLE, "config", STABLE), LabelInfo("canary", CANARY, "config", CANARY),
                LabelInfo("beta", "", "option", "", "the server does not serve this label: 400 "
                          "Unrecognized servable version label: beta")],
        notes=["labels read from /srv/model/models.config in mltui-demo_model.1"],
    )  # fmt: skip


METRICS = [
    ModelMetrics(
        "my_model", 901, (("INVALID_ARGUMENT", 1), ("OK", 900)), 1, 12.5, 0.0, 4.1, 3.6, 9.9
    )
]


def _comparison():
    def side(version: str, label: str, answers: dict[str, tuple[str, float]]) -> Side:
        results = [
            core.Result(image, image.split("/")[0], cls, conf, [], 3.0 + i % 5)
            for i, (image, (cls, conf)) in enumerate(sorted(answers.items()))
        ]
        served = core.ServedModel("http://127.0.0.1:8501", "my_model", "tfserving", (version,),
                                  "AVAILABLE", version=version, label=label)  # fmt: skip
        return Side(served, results, core.summarize(results, 1.0))

    same = {f"{d}/digit-{d}{i:03d}.png": (str(d), 0.98) for d in range(10) for i in range(3)}
    a = dict(same, **{"1/digit-0233.png": ("1", 0.631), "7/digit-0026.png": ("7", 0.993),
                      "8/digit-0276.png": ("9", 0.749)})  # fmt: skip
    b = dict(same, **{"1/digit-0233.png": ("9", 0.486), "7/digit-0026.png": ("5", 0.454),
                      "8/digit-0276.png": ("8", 0.415)})  # fmt: skip
    return compare_results(side(STABLE, "stable", a), side(CANARY, "canary", b))


def _app() -> MltuiApp:
    return MltuiApp(engine_factory=RecordedEngine, clock=lambda: RECORDED_AT, config=Config())


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_model_panel_snapshot(snap_compare, size):
    from mltui.ui.model import ModelScreen

    async def run_before(pilot):
        screen = ModelScreen("http://127.0.0.1:8501", "my_model", report=_report(), metrics=METRICS)
        await pilot.app.push_screen(screen)
        await pilot.pause()
        await pilot.press("down")
        await pilot.press("a")
        await pilot.press("down")
        await pilot.press("b")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_compare_view_snapshot(snap_compare, size):
    from mltui.ui.compare import CompareScreen

    async def run_before(pilot):
        await pilot.app.push_screen(CompareScreen(_comparison()))
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=size, run_before=run_before)


async def test_compare_view_lists_disagreements_first():
    from mltui.ui.compare import CompareScreen

    cmp = _comparison()
    app = _app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = CompareScreen(cmp)
        await app.push_screen(screen)
        await pilot.pause()
        table = screen.query_one("DataTable")
        keys = [k.value for k in table.rows]
        assert len(keys) == 33
        assert [k[:2] for k in keys[:3]] == ["d:"] * 3 and all(k.startswith("s:") for k in keys[3:])
        summary = str(screen.query_one("#cmp-summary").render())
        assert "agreement 90.9% (30 of 33)" in summary and "McNemar exact p = " in summary


# -- against the demo's real server ----------------------------------------------------------
@pytest.fixture
def demo_url(engine_info, run_id):
    name = f"h15model-{run_id}-ui"
    docker("run", "-d", "--name", name, "--label", f"mltui.test={run_id}", "-p", "127.0.0.1::8501",
           ensure_image(DEMO_MODEL))  # fmt: skip
    try:
        port = docker("port", name, "8501/tcp").split(":")[-1].strip()
        wait_for(
            "the model server",
            lambda: "Exporting HTTP/REST API" in docker("logs", name, check=False),
            interval=0.2,
        )
        yield f"http://127.0.0.1:{port}"
    finally:
        docker("rm", "-f", name, check=False)


@pytest.mark.engine
async def test_model_panel_picks_a_version_and_compares_two(demo_url, tmp_path, wait_until):
    from mltui.ui.compare import CompareScreen
    from mltui.ui.model import ModelScreen
    from mltui.ui.predict import PredictScreen

    folder = tmp_path / "imgs"
    for item in ("1/digit-0233.png", "7/digit-0026.png", "0/digit-0015.png", "3/digit-0096.png"):
        (folder / item.split("/")[0]).mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO_DIR / "test-images" / item, folder / item)
    app = MltuiApp()
    async with app.run_test(size=(160, 45)) as pilot:
        predict = PredictScreen(url=demo_url, engine_factory=app.engine_factory, folder=str(folder))
        await app.push_screen(predict)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelScreen), what="the model panel")
        panel = app.screen
        await wait_until(pilot, lambda: panel.report is not None and not panel.loading,
                         timeout=60, what="the model read")  # fmt: skip
        assert not panel.problem, panel.problem
        assert [v.version for v in panel.report.versions] == [CANARY, STABLE]
        # the labels come from the container's model config file, through the engine
        assert {lb.label: lb.version for lb in panel.report.labels} == {
            "stable": STABLE,
            "canary": CANARY,
        }
        assert panel.metrics_problem == ""  # the page is on; a fresh server counts nothing yet
        info = str(panel.query_one("#md-info").render())
        assert "stable → " + STABLE in info and "metrics  the server's page counts no" in info
        # enter: the predict screen's runs go to that version
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen is predict, what="back on predict")
        assert predict.target.version == STABLE
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: predict.summary is not None or predict.problem,
                         timeout=120, what="the run")  # fmt: skip
        assert predict.summary.versions == [STABLE]
        assert f"version {STABLE}" in str(predict.query_one("#pr-bar").render())
        # a on stable, b on canary, ctrl+k: the compare view, disagreements first
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelScreen), what="the panel")
        panel = app.screen
        await wait_until(pilot, lambda: panel.report is not None and not panel.loading,
                         timeout=60, what="the model read")  # fmt: skip
        # the run above is counted on the server's metrics page now
        assert any(m.model == "my_model" and m.requests >= 4 for m in panel.metrics)
        await pilot.press("down", "a", "up", "b", "ctrl+k")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), what="compare")
        view = app.screen
        await wait_until(pilot, lambda: view.comparison is not None or view.problem,
                         timeout=120, what="the comparison")  # fmt: skip
        assert not view.problem, view.problem
        cmp = view.comparison
        assert (cmp.a.served.version, cmp.b.served.version) == (STABLE, CANARY)
        assert {d.image for d in cmp.disagreements} >= {"1/digit-0233.png", "7/digit-0026.png"}
        first = next(iter(view.query_one("DataTable").rows)).value
        assert first.startswith("d:")


async def test_model_panel_at_a_url_that_is_no_model_server_says_so(wait_until):
    from helpers import free_port

    from mltui.ui.model import ModelScreen

    app = _app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = ModelScreen(f"http://127.0.0.1:{free_port()}", "my_model")
        await app.push_screen(screen)
        await wait_until(pilot, lambda: not screen.loading and screen.problem, what="the problem")
        assert "connection refused" in screen.problem
        assert "connection refused" in str(screen.query_one("#md-bar").render())
        await pilot.press("ctrl+k")  # nothing marked: a warning, no crash
        await pilot.pause()
        assert app.screen is screen
