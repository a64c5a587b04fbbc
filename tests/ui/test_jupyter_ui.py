"""The notebooks screen driven with Pilot against a real Jupyter server."""

from __future__ import annotations

import subprocess

import pytest
from conftest import until_service
from helpers import docker, http_status, wait_for

from mltui.deploy.images import ensure_image
from mltui.deploy.stacks import DEMO_NOTEBOOK
from mltui.ui.app import MltuiApp
from mltui.ui.jupyter import NotebookScreen

pytestmark = pytest.mark.engine

SIZE = (160, 45)


@pytest.fixture
def notebook_container(engine_info, run_id):
    image = ensure_image(DEMO_NOTEBOOK)
    name = f"{run_id}-ui-notebook"
    docker(
        "run", "-d", "--name", name, "--label", f"mltui.test={run_id}", "-p", "127.0.0.1::8888",
        image, "jupyter-notebook", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--allow-root",
    )  # fmt: skip
    try:
        port = docker("port", name, "8888").splitlines()[0].rsplit(":", 1)[1]

        def serving() -> bool:
            # the server printed its token and answers with it: a scan can find it reachable
            logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
            if "?token=" not in logs.stderr:
                return False
            token = logs.stderr.split("?token=")[1].split()[0]
            return http_status(f"http://127.0.0.1:{port}/api/status?token={token}") == 200

        wait_for("the notebook server", serving, timeout=120)
        yield name
    finally:
        docker("rm", "-f", name, check=False)


def cells(screen: NotebookScreen) -> list[list[str]]:
    table = screen.query_one("DataTable")
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_reveal_copy_and_the_masked_url(notebook_container, wait_until):
    name = notebook_container
    app = MltuiApp()
    async with app.run_test(size=SIZE) as pilot:
        svc = await until_service(pilot, name)
        app.services.goto_service(svc.key)
        await pilot.pause()
        await pilot.press("j")
        await wait_until(pilot, lambda: isinstance(app.screen, NotebookScreen), what="the screen")
        screen = app.screen

        def ready():
            return screen.notebooks and screen.notebooks[0].status == "reachable"

        # (the fixture waited for the server to answer: the first scan finds it)
        await wait_until(pilot, lambda: not screen.scanning, timeout=60, what="the scan")
        assert ready()
        nb = screen.notebooks[0]
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True).stderr
        token = logs.split("?token=")[1].split()[0]
        assert nb.token == token
        row = cells(screen)[0]
        assert row[2] == "reachable"
        assert token not in " ".join(row)  # masked on screen
        assert row[3].endswith(f"?token={token[:4]}••••••••")

        await pilot.press("v")
        assert cells(screen)[0][3] == nb.url and nb.url.endswith(f"?token={token}")
        await pilot.press("v")
        assert token not in cells(screen)[0][3]

        await pilot.press("c")
        assert app.clipboard == nb.url  # what the app sent to the terminal (OSC 52)
        await pilot.press("escape")
        assert not isinstance(app.screen, NotebookScreen)
