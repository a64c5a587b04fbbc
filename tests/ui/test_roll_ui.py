"""The roll screen: an SVG snapshot of a failed roll from fixed values, and a Pilot
run on the real engine: R on a Compose model server, y to start, the verdict
(pass), then ctrl+b twice rolls it back to the image before."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from helpers import COMPOSE_V2, REPO, docker, free_port, wait_for
from recorded import RECORDED_AT, RecordedEngine

from mltui.core import predict as core
from mltui.core.config import Config
from mltui.core.predict.compare import Side, compare_results, to_json
from mltui.core.predict.gates import Gates, check_gates
from mltui.deploy.images import ensure_image
from mltui.deploy.roll import RollOutcome
from mltui.deploy.stacks import DEMO_MODEL
from mltui.ui.app import MltuiApp
from mltui.ui.roll import RollScreen
from mltui.ui.roll_prompt import RollPromptScreen, parse_image


def _outcome() -> RollOutcome:
    def side(wrong: int, latency: float) -> Side:
        results = [
            core.Result(f"{d}/digit-{d}{i}.png", str(d),
                        str((d + 1) % 10) if d * 6 + i < wrong else str(d), 0.9, [], latency)
            for d in range(10) for i in range(6)
        ]  # fmt: skip
        served = core.ServedModel("http://127.0.0.1:8501", "my_model", "tfserving", ("1",), "")
        return Side(served, results, core.summarize(results, 1.0))

    a, b = side(1, 4.0), side(25, 5.0)
    cmp = compare_results(a, b)
    gates = check_gates(Gates(0.05, 200.0, None), a.summary, b.summary)
    data = {
        "action": "rolled back",
        "baseline": {"accuracy": a.summary.accuracy, "p95_ms": 4.0, "images": 60, "failed": 0},
        "new": {"accuracy": b.summary.accuracy, "p95_ms": 5.0, "images": 60, "failed": 0},
        "comparison": to_json(cmp),
        "gates": [{"passed": g.passed, "message": g.message} for g in gates],
    }
    return RollOutcome(
        1,
        "a gate failed: accuracy 0.983 -> 0.583 (drop +0.400, at most 0.050 allowed: over by "
        "0.350); rolled back: 2/2 replicas run demo-model:latest",
        data,
    )


STEPS = [
    "baseline: the last run of demo/model (60 images)",
    "previous: the running image is tagged demo-model:model-previous",
    "image: demo-model:model-77ca835a5339 (77ca835a5339)",
    "running: docker service update --detach --no-resolve-image --with-registry-auth=false "
    "--image demo-model:model-77ca835a5339 demo_model",
    "rollout: 2/2 replicas run demo-model:model-77ca835a5339",
    "model: my_model AVAILABLE at http://127.0.0.1:8501",
    "smoke test: 60 images, accuracy 0.583, p95 5.0 ms, 0 failed",
]


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_roll_screen_snapshot(snap_compare, size):
    async def run_before(pilot):
        screen = RollScreen(
            "demo/model",
            outcome=_outcome(),
            steps=STEPS,
            replicas="demo_model.1 running previous, demo_model.2 running previous",
        )
        await pilot.app.push_screen(screen)
        await pilot.pause()

    app = MltuiApp(engine_factory=RecordedEngine, clock=lambda: RECORDED_AT, config=Config())
    assert snap_compare(app, terminal_size=size, run_before=run_before)


DOCKERFILE = """\
FROM {base}
ARG H17ROLL_BUILD=1
LABEL h17roll.build=$H17ROLL_BUILD
RUN rm -rf /models/my_model && python3 /srv/model/train.py /models/my_model/1
CMD ["python3", "/srv/model/server.py"]
"""
COMPOSE = """\
services:
  model:
    build:
      context: .
      args:
        H17ROLL_BUILD: ${{H17ROLL_BUILD:-1}}
    image: {image}
    environment:
      MODEL_NAME: my_model
    ports:
      - "127.0.0.1:{port}:8501"
"""


@pytest.mark.engine
async def test_roll_from_the_services_screen(tmp_path, run_id, wait_until, monkeypatch):
    import requests

    name = f"h17roll{run_id[-6:]}ui"
    port = free_port()
    (tmp_path / "Dockerfile").write_text(DOCKERFILE.format(base=ensure_image(DEMO_MODEL)))
    file = tmp_path / "compose.yml"
    file.write_text(COMPOSE.format(image=f"{name}-model:latest", port=port))
    folder = tmp_path / "images"
    for d in range(10):
        src = REPO / "stacks" / "demo" / "test-images" / str(d)
        (folder / str(d)).mkdir(parents=True)
        for img in sorted(src.iterdir())[:3]:
            shutil.copy(img, folder / str(d) / img.name)
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("MLTUI_COMPOSE", COMPOSE_V2)
    base = [COMPOSE_V2, "-p", name, "-f", str(file)]
    try:
        up = subprocess.run(
            [sys_python(), "-m", "mltui.cli", "up", str(file), "--name", name, "--compose",
             "--yes"], capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert up.returncode == 0, up.stderr

        def answers() -> bool:
            try:
                return requests.get(f"{url}/v1/models/my_model", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for("the model", answers, timeout=90)
        kept = subprocess.run(
            [sys_python(), "-m", "mltui.cli", "predict", str(folder), "--url", url,
             "--service", f"{name}/model"], capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip
        assert kept.returncode == 0, kept.stderr
        before = docker("image", "inspect", "-f", "{{.Id}}", f"{name}-model:latest").strip()
        monkeypatch.setenv("H17ROLL_BUILD", "2")  # the build reads it: a new image
        app = MltuiApp(config=Config(stats=False))
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_until(
                pilot,
                lambda: (
                    app.snapshot is not None
                    and any(s.stack == name for s in app.snapshot.services())
                ),
                what="the project in the inventory",
            )
            svc = next(s for s in app.snapshot.services() if s.stack == name)
            app.services.goto_service(svc.key)
            await pilot.pause()
            await pilot.press("R")
            # first which image: the one running is shown; empty (enter) builds
            await wait_until(
                pilot, lambda: isinstance(app.screen, RollPromptScreen), what="the prompt"
            )
            hint = str(app.screen.query_one("#prompt-hint").render())
            assert f"runs now: {name}-model:latest" in hint, hint
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, RollScreen), what="the screen")
            screen = app.screen
            assert screen.image == "" and "Build its image" in str(
                screen.query_one("#roll-bar").render()
            )
            assert screen.waiting and "y to start" in str(screen.query_one("#roll-bar").render())
            await pilot.press("y")
            await wait_until(pilot, lambda: screen.outcome is not None, timeout=240, what="verdict")
            out = screen.outcome
            assert out.code == 0, (out.message, screen.steps)
            assert "PASS: kept" in str(screen.query_one("#roll-bar").render())
            assert "accuracy" in str(screen.query_one("#roll-compare").render())
            assert "running new" in screen.replicas
            new = out.data["image"]["new_id"]
            assert new != before
            await pilot.press("ctrl+b")
            assert screen.asking and screen.undone == ""  # asks first
            await pilot.press("ctrl+b")
            await wait_until(
                pilot,
                lambda: screen.undone.startswith("rolling back: asked for; rolled back"),
                timeout=120,
                what="the rollback",
            )
        svc_ids = {
            docker("inspect", "-f", "{{.Image}}", cid).strip()
            for cid in docker(
                "ps", "-q", "--filter", f"label=com.docker.compose.project={name}"
            ).split()
        }
        assert svc_ids == {before}
    finally:
        subprocess.run([*base, "down", "-t", "1"], capture_output=True, check=False,
                       env={**os.environ})  # fmt: skip
        for ref in docker("images", "-q", "--filter", f"reference={name}-model").split():
            docker("rmi", "-f", ref, check=False)


def sys_python() -> str:
    import sys

    return sys.executable


@pytest.mark.parametrize(
    ("read_only", "want"), [(True, "read-only"), (False, "swarm or Compose service")]
)
async def test_roll_key_refuses_read_only_and_non_services(wait_until, read_only, want):
    """R changes nothing in read-only mode, nor on a row that is no swarm or Compose
    service: a notification says why and no screen opens."""
    config = Config(read_only=read_only)
    app = MltuiApp(engine_factory=RecordedEngine, clock=lambda: RECORDED_AT, config=config)
    said: list[str] = []
    app.notify = lambda message, **_kw: said.append(str(message))  # what the user is told
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, what="the snapshot")
        loose = next(s for s in app.snapshot.services() if s.kind == "container")
        app.services.goto_service(loose.key)
        await pilot.pause()
        await pilot.press("R")
        await pilot.pause()
        assert not isinstance(app.screen, RollScreen)
        assert any(want in m for m in said), said


@pytest.mark.parametrize(
    ("typed", "want"),
    [
        ("", ""),
        ("  shop-model:v2 ", "shop-model:v2"),
        ("registry:5000/team/model@sha256:abc", "registry:5000/team/model@sha256:abc"),
        ("--rm", None),
        ("-v", None),
        ("a b", None),
        ("model:\x1b[31m", None),
        ("model:", None),
        ("a" * 300, None),
    ],
)
def test_parse_image(typed, want):
    assert parse_image(typed) == want


def _swarm_model(app):
    return next(s for s in app.snapshot.services() if s.kind in ("swarm", "compose"))


async def test_roll_prompt_tag_cancel_and_refusal(wait_until):
    """R asks which image first: a hostile tag is refused with one sentence and the
    prompt stays; Escape opens nothing; a tag typed opens the roll screen for that
    image, which still waits for y (nothing has run)."""
    app = MltuiApp(engine_factory=RecordedEngine, clock=lambda: RECORDED_AT, config=Config())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, what="the snapshot")
        svc = _swarm_model(app)
        app.services.goto_service(svc.key)
        await pilot.pause()
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, RollPromptScreen), what="prompt")
        prompt = app.screen
        assert f"runs now: {svc.image}" in str(prompt.query_one("#prompt-hint").render())
        await pilot.press(*"--rm", "enter")
        said = str(prompt.query_one("#prompt-error").render())
        assert said == "'--rm' is not an image tag" and app.screen is prompt
        await pilot.press("escape")
        await wait_until(
            pilot, lambda: not isinstance(app.screen, RollPromptScreen), what="prompt closed"
        )
        assert not isinstance(app.screen, RollScreen)  # cancelled: nothing opens

        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, RollPromptScreen), what="prompt")
        await pilot.press(*"shop-model:v2", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RollScreen), what="the screen")
        screen = app.screen
        bar = str(screen.query_one("#roll-bar").render())
        assert screen.image == "shop-model:v2" and screen.waiting and not screen.running
        assert "Roll out shop-model:v2, smoke-test it" in bar and "y to start" in bar
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, RollScreen), what="closed")


@pytest.mark.parametrize("size", [(80, 24)])
def test_roll_prompt_snapshot(snap_compare, size):
    async def run_before(pilot):
        await pilot.app.push_screen(RollPromptScreen("demo/model", "demo-model:latest"))
        await pilot.pause()

    app = MltuiApp(engine_factory=RecordedEngine, clock=lambda: RECORDED_AT, config=Config())
    assert snap_compare(app, terminal_size=size, run_before=run_before)
