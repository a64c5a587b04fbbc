"""u in the TUI runs up's port check (prefix h14rest-): a compose file whose port a
program on this host listens on is refused with a message naming the port and
its holder, before any confirmation, nothing deployed."""

from __future__ import annotations

import socket

import pytest
from conftest import until
from helpers import stack_service
from test_actions_real_ui import SIZE

from mltui.core.config import Config
from mltui.ui.app import MltuiApp
from mltui.ui.confirm import ConfirmScreen
from mltui.ui.prompts import UpScreen

pytestmark = pytest.mark.engine


async def test_up_of_a_file_whose_port_is_taken_is_refused_naming_it(
    tmp_path, test_image, run_id, monkeypatch
):
    folder = tmp_path / f"h14rest-ports-{run_id[-6:]}"
    folder.mkdir()
    monkeypatch.chdir(folder)
    app = MltuiApp(config=Config(stats=False))
    said: list[str] = []
    app.notify = lambda message, **_kw: said.append(str(message))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        (folder / "compose.yml").write_text(
            f"services:\n  web:\n    image: {test_image}\n    command: [sleep, infinity]\n"
            f'    ports: ["127.0.0.1:{port}:8000"]\n'
        )
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.snapshot is not None, what="the inventory")
            await pilot.press("u")
            await until(
                pilot,
                lambda: isinstance(app.screen, UpScreen) and app.screen.query("#up-input"),
                what="the up prompt",
            )
            await pilot.press("enter")
            await until(pilot, lambda: any("already in use" in m for m in said), what="refusal")
            assert not any(isinstance(s, ConfirmScreen) for s in app.screen_stack)
            assert not app.services.action_runs
    (message,) = [m for m in said if "already in use" in m]
    assert message == (
        f"web's port {port} on 127.0.0.1 is already in use by another program on this host: "
        "nothing was changed"
    )
    assert stack_service(folder.name, "web") is None
