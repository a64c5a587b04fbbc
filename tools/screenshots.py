"""Write SVG screenshots of each of mltui's screens, taken by the app itself.

Runs the real app with Pilot against the local engine and the demo stack
(`mltui demo up --detach` first; `make screenshots` does both) and saves
screenshots/{main,logs,notebooks,predict,load,model,compare,gpu,help,main-light}.svg.
Tokens stay masked: the script fails if a notebook token is in any picture.
`--model-only URL` takes only model.svg and compare.svg, against any server of
the demo's model image at URL (one container is enough).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "screenshots"
SIZE = (160, 45)
DEMO = "mltui-demo"


async def until(pilot, predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.1)
    raise SystemExit(f"screenshots: timed out waiting for {what}")


def service(app, name: str):
    snapshot = app.snapshot
    found = [s for s in snapshot.services() if s.name == name and s.stack == DEMO]
    if not found:
        raise SystemExit(f"screenshots: no {DEMO}/{name}: run `mltui demo up --detach` first")
    return found[0]


def figures_shown(app, model) -> bool:
    """True once every replica of ``model`` has a CPU figure (two reads apart)."""
    usage = app.services.usage
    if usage is None:
        return False
    ids = [r.container_id for r in model.replicas]
    return bool(ids) and all(
        usage.stats.get(i) is not None and usage.stats[i].cpu_percent is not None for i in ids
    )


def save(app, name: str, secrets: list[str]) -> None:
    path = Path(app.save_screenshot(str(OUT / f"{name}.svg")))
    text = path.read_text().replace("&#160;", " ")
    for secret in secrets:
        if secret and secret in text:
            path.unlink()
            raise SystemExit(f"screenshots: a token is visible in {name}.svg; not written")
    print(path.relative_to(REPO))


async def shoot(theme: str) -> int:
    from mltui.core.config import Config
    from mltui.ui.app import MltuiApp
    from mltui.ui.gpu import GpuScreen
    from mltui.ui.help import HelpScreen
    from mltui.ui.jupyter import NotebookScreen
    from mltui.ui.logs import LogScreen
    from mltui.ui.predict import PredictScreen

    app = MltuiApp(config=Config(theme=theme))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_applied > 1, "the inventory")
        model = service(app, "model")
        await until(pilot, lambda: figures_shown(app, model), "CPU and memory figures")
        await pilot.pause(0.5)
        app.services.goto_service(model.key)
        await pilot.pause(0.3)
        if theme != "textual-dark":
            save(app, "main-light", [])
            return 0
        save(app, "main", [])

        # the merged logs of the model's replicas
        app.open_logs(model)
        await until(pilot, lambda: isinstance(app.screen, LogScreen), "the logs screen")
        screen = app.screen
        await until(
            pilot, lambda: len(screen.buffer) > 10 and not screen.session.loading, "log lines"
        )
        await pilot.pause(0.5)
        save(app, "logs", [])
        app.pop_screen()

        # the notebook, token masked
        app.open_notebooks(service(app, "notebook"))
        await until(pilot, lambda: isinstance(app.screen, NotebookScreen), "the notebooks")
        screen = app.screen
        await until(pilot, lambda: not screen.scanning, "the notebook scan")
        await pilot.pause(0.3)
        tokens = [nb.token for nb in screen.notebooks if nb.token]
        save(app, "notebooks", tokens)
        app.pop_screen()

        # a real run of the demo's test images against the model server
        app.open_predict(service(app, "lb"))
        await until(pilot, lambda: isinstance(app.screen, PredictScreen), "the predict screen")
        screen = app.screen
        await pilot.pause(0.5)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.summary is not None, "the predictions", timeout=120)
        await pilot.press("ctrl+s", "ctrl+s")  # failures and misses first
        await until(pilot, lambda: screen.sort == "problems", "the sort")
        await pilot.pause(0.3)
        save(app, "predict", tokens)
        await model_and_compare(app, pilot, screen, tokens)
        app.pop_screen()

        await shoot_load(app, pilot, tokens)

        app.open_gpu()
        await until(pilot, lambda: isinstance(app.screen, GpuScreen), "the GPU screen")
        screen = app.screen
        await until(pilot, lambda: screen.host is not None, "NVML")
        await pilot.pause(0.3)
        save(app, "gpu", tokens)
        app.pop_screen()

        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        await pilot.pause(0.3)
        save(app, "help", tokens)
    return 0


async def shoot_load(app, pilot, tokens: list[str]) -> None:
    """A real load test of the demo's balancer, 1 to 16 workers, 5 s a level."""
    from mltui.ui.load import LoadScreen
    from mltui.ui.predict import PredictScreen

    app.open_predict(service(app, "lb"))
    await until(pilot, lambda: isinstance(app.screen, PredictScreen), "the predict screen")
    await pilot.pause(0.5)
    await pilot.press("ctrl+l")
    await until(pilot, lambda: isinstance(app.screen, LoadScreen), "the load screen")
    screen = app.screen
    screen.query_one("#ld-levels").value = "1,2,4,8,16"
    screen.query_one("#ld-seconds").value = "5"
    await pilot.press("ctrl+r")
    await until(pilot, lambda: screen.report is not None, "the load test", timeout=180)
    await pilot.pause(0.3)
    save(app, "load", tokens)
    app.pop_screen()
    app.pop_screen()


async def model_and_compare(app, pilot, predict, tokens: list[str]) -> None:
    """From the predict screen: the model panel, then stable against canary."""
    from mltui.ui.compare import CompareScreen
    from mltui.ui.model import ModelScreen

    await pilot.press("ctrl+n")
    await until(pilot, lambda: isinstance(app.screen, ModelScreen), "the model panel")
    panel = app.screen
    await until(pilot, lambda: panel.report is not None and not panel.loading, "the model")
    rows = [v.version for v in panel.report.versions]
    labels = {lb.label: lb.version for lb in panel.report.labels}
    table = panel.query_one("DataTable")
    for mark, label in (("a", "stable"), ("b", "canary")):
        table.move_cursor(row=rows.index(labels[label]))
        await pilot.pause()
        await pilot.press(mark)
    await pilot.pause(0.3)
    save(app, "model", tokens)
    await pilot.press("ctrl+k")
    await until(pilot, lambda: isinstance(app.screen, CompareScreen), "the compare view")
    view = app.screen
    await until(pilot, lambda: view.comparison is not None, "the comparison", timeout=300)
    await pilot.pause(0.3)
    save(app, "compare", tokens)
    app.pop_screen()
    await until(pilot, lambda: app.screen is predict, "back to predict")


async def model_only(url: str) -> int:
    from mltui.core.config import Config
    from mltui.ui.app import MltuiApp
    from mltui.ui.predict import PredictScreen

    app = MltuiApp(config=Config(theme="textual-dark"))
    async with app.run_test(size=SIZE) as pilot:
        predict = PredictScreen(url=url, engine_factory=app.engine_factory)
        await app.push_screen(predict)
        await pilot.pause(0.3)
        await model_and_compare(app, pilot, predict, [])
    return 0


async def main() -> int:
    OUT.mkdir(exist_ok=True)
    if len(sys.argv) == 3 and sys.argv[1] == "--model-only":
        return await model_only(sys.argv[2])
    for theme in ("textual-dark", "textual-light"):
        code = await shoot(theme)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
