"""`mltui --serve`: the dashboard in a real headless browser (Debian chromium),
through textual-serve, bound to 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import free_port, tcp_listeners, wait_for

pytestmark = pytest.mark.engine

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_S = 45.0


def _text(frames: list) -> str:
    """What the app wrote to the browser, escape sequences removed."""
    raw = "".join(f if isinstance(f, str) else f.decode("utf-8", "replace") for f in frames)
    return re.sub(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[PX^_].*?\x1b\\|\x1b\][^\x07]*\x07", "", raw)


@pytest.fixture
def served(tmp_path):
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mltui", "--serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the server starts one app per browser tab: stop them all
        env={**os.environ, "MLTUI_CONFIG": str(tmp_path / "none.toml")},
    )
    try:

        def listening() -> set[str]:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            return tcp_listeners(port)

        wait_for("mltui --serve to listen", listening, timeout=30, interval=0.1)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()


def test_the_browser_shows_the_services_table_and_takes_keys(served, container_factory, tmp_path):
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: .ci/run installs it"
    from playwright.sync_api import sync_playwright

    container_factory("served")  # at least one running row
    port = served
    # only this machine can reach it
    assert tcp_listeners(port) == {"127.0.0.1"}

    frames: list = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            # nothing leaves the machine (the page asks for a web font)
            page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda r: r.abort())
            page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f)))
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")

            def until(words: tuple[str, ...], what: str) -> str:
                deadline = time.monotonic() + TIMEOUT_S
                while time.monotonic() < deadline:
                    page.wait_for_timeout(250)
                    text = _text(frames)
                    if all(w in text for w in words):
                        return text
                page.screenshot(path=str(tmp_path / "browser.png"))
                raise AssertionError(f"the browser never showed {what}: {_text(frames)[-2000:]!r}")

            # the header, the engine line and rows (other containers may push the
            # test's own one below the fold)
            text = until(("NAME", "STATE", "READY", "connected", "running"), "the services table")
            assert "unix:///var/run/docker.sock" in text
            # keys typed in the page reach the app: `?` opens the help screen
            page.locator("body").click()
            page.keyboard.press("?")
            until(("mltui keys", "Services (this screen)"), "the help screen")
            page.screenshot(path=str(tmp_path / "browser.png"))
        finally:
            browser.close()


def test_shell_in_the_browser_copies_the_exec_line(served, container_factory, tmp_path):
    """A browser tab cannot be suspended into: E on a container copies its docker
    exec command line and says so, and the dashboard stays."""
    from playwright.sync_api import sync_playwright

    name = container_factory("h14ui-served-shell")
    port = served
    frames: list = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda r: r.abort())
            page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f)))
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")

            def until(test, what: str) -> str:
                deadline = time.monotonic() + TIMEOUT_S
                while time.monotonic() < deadline:
                    page.wait_for_timeout(250)
                    text = _text(frames)
                    if test(text):
                        return text
                page.screenshot(path=str(tmp_path / "browser.png"))
                raise AssertionError(f"the browser never showed {what}: {_text(frames)[-2000:]!r}")

            until(lambda t: "connected" in t and "READY" in t, "the services table")
            page.locator("body").click()
            page.keyboard.press("g")  # the palette's service search
            until(lambda t: "Search" in t, "the palette")
            seen = len(_text(frames))
            page.keyboard.type(name)
            until(lambda t: name in t[seen:], "the container in the palette")
            page.keyboard.press("Enter")
            seen = len(_text(frames))
            page.keyboard.press("E")
            text = until(lambda t: "copied:" in t[seen:], "the copied exec line")
            tail = " ".join(text[seen:].split())
            assert "docker exec -it" in tail, tail
        finally:
            browser.close()
