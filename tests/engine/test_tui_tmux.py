"""The real `mltui` command in a real terminal (tmux): a broken config file is
said on screen with its line, and the dashboard still opens."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid

import pytest

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
        deadline = time.monotonic() + 30
        screen = ""
        while time.monotonic() < deadline:
            screen = _tmux("capture-pane", "-p", "-t", session)
            if name in screen and "logs.max_lines" in screen:
                break
            time.sleep(0.2)
        assert name in screen, screen
        # the notification (it wraps in its box): the file, line, key and what is used
        assert "Configuration" in screen
        assert "config.toml line 3: logs.max_lines: should be a whole" in screen
        assert 'not "lots"; using 100,000' in screen
        assert "NAME" in screen and "STATE" in screen
        _tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and session in _tmux("list-sessions"):
            time.sleep(0.1)
        assert session not in _tmux("list-sessions"), "q did not end mltui"
    finally:
        _tmux("kill-session", "-t", session)
