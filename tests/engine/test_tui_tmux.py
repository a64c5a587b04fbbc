"""The real `mltui` command in a real terminal (tmux): a broken config file is
said on screen with its line, and the dashboard still opens."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import uuid

import pytest
from helpers import wait_for

pytestmark = pytest.mark.engine


def _tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], capture_output=True, text=True, check=False, timeout=10
    ).stdout


def test_a_broken_config_is_said_and_the_dashboard_opens(tmp_path, container_factory):
    name = container_factory("tmux-config")
    config = tmp_path / "config.toml"
    config.write_text('theme = "textual-light"\n[logs]\nmax_lines = "lots"\n')
    session = "mltuitest-" + uuid.uuid4().hex[:6]
    command = shlex.join([sys.executable, "-m", "mltui", "--config", str(config)])
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "45", command],
        check=True,
        env=env,
        timeout=10,
    )
    try:

        def dashboard() -> str | None:
            pane = _tmux("capture-pane", "-p", "-t", session)
            return pane if name in pane and "logs.max_lines" in pane else None

        try:
            screen = wait_for("the dashboard and the notice", dashboard, timeout=30, interval=0.2)
        except AssertionError as exc:  # say what the terminal showed
            raise AssertionError(f"{exc}\n{_tmux('capture-pane', '-p', '-t', session)}") from None
        assert name in screen, screen
        # the notification (it wraps in its box): the file, line, key and what is used
        assert "Configuration" in screen
        assert "config.toml line 3: logs.max_lines: should be a whole" in screen
        assert 'not "lots"; using 100,000' in screen
        assert "NAME" in screen and "STATE" in screen
        _tmux("send-keys", "-t", session, "q")
        wait_for(
            "q to end mltui",
            lambda: session not in _tmux("list-sessions"),
            timeout=10,
            interval=0.1,
        )
        assert session not in _tmux("list-sessions"), "q did not end mltui"
    finally:
        _tmux("kill-session", "-t", session)
