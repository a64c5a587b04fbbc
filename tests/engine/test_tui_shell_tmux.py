"""The TUI's shell key in a real terminal (tmux): E on a container suspends the
dashboard, runs docker exec -it there (a command typed into it answers), and
the dashboard comes back when the shell exits."""

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


def test_shell_key_suspends_the_dashboard_and_restores_it(tmp_path, container_factory):
    name = container_factory("h14ui-shell")
    session = "h14ui-" + uuid.uuid4().hex[:6]
    config = tmp_path / "config.toml"
    config.write_text("stats = false\n")
    state = tmp_path / "state.json"  # the action log goes next to it
    command = shlex.join(
        ["env", f"MLTUI_STATE={state}", sys.executable, "-m", "mltui", "--config", str(config)]
    )
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "45", command],
        check=True,
        env=env,
        timeout=10,
    )

    def pane() -> str:
        return _tmux("capture-pane", "-p", "-t", session)

    def shows(text: str, what: str, timeout: float = 30) -> None:
        try:
            wait_for(what, lambda: text in pane(), timeout=timeout, interval=0.2)
        except AssertionError as exc:  # say what the terminal showed
            raise AssertionError(f"{exc}\n{pane()}") from None

    try:
        shows(name, "the dashboard with the container")
        # the cursor onto it: g opens the palette's service search
        _tmux("send-keys", "-t", session, "g")
        shows("Search", "the palette")
        _tmux("send-keys", "-t", session, "-l", name)
        shows(name, "the container found")
        wait_for(
            "the search done",
            lambda: pane().count(name) >= 2,
            timeout=10,
            interval=0.2,
        )
        _tmux("send-keys", "-t", session, "Enter")
        wait_for("the palette closed", lambda: "Search" not in pane(), timeout=10, interval=0.2)
        _tmux("send-keys", "-t", session, "E")
        # the dashboard gives the terminal to the shell
        wait_for(
            "the shell",
            lambda: "STATE" not in pane() and "#" in pane(),
            timeout=30,
            interval=0.2,
        )
        _tmux("send-keys", "-t", session, "-l", "echo h14ui-$((6*7))")
        _tmux("send-keys", "-t", session, "Enter")
        shows("h14ui-42", "the shell's answer")
        _tmux("send-keys", "-t", session, "-l", "exit")
        _tmux("send-keys", "-t", session, "Enter")
        shows("STATE", "the dashboard back")
        assert name in pane()
        # the shell is in the action log, with how it ended
        logged = (tmp_path / "actions.log").read_text()
        assert "docker" in logged and "exec" in logged and "shell ended (0)" in logged
        _tmux("send-keys", "-t", session, "q")
        wait_for(
            "q to end mltui",
            lambda: session not in _tmux("list-sessions"),
            timeout=10,
            interval=0.1,
        )
    finally:
        _tmux("kill-session", "-t", session)
