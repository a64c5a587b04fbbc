"""`mltui shell`: the docker exec command line it prints, and a real interactive
shell on a terminal (a pty), in a container of the test image (which has bash)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest
from helpers import docker
from test_actions_real import mltui

pytestmark = pytest.mark.engine


def test_shell_prints_and_opens_bash_on_a_terminal(container_factory, tmp_path):
    name = container_factory("h14cli-shell")
    cid = docker("inspect", "-f", "{{.Id}}", name).strip()
    printed = mltui("shell", name, "--print")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.strip() == f"docker exec -it {cid[:12]} bash"
    refused = mltui("shell", name, "--read-only")
    assert refused.returncode == 2 and "read-only" in refused.stderr
    no_tty = mltui("shell", name)  # stdin is not a terminal: the command to run instead
    assert no_tty.returncode == 2 and f"docker exec -it {cid[:12]} bash" in no_tty.stderr
    missing = mltui("shell", f"{name}-nosuch", "--print")
    assert missing.returncode == 2 and "no service or container named" in missing.stderr

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mltui.cli", "shell", name],
        env={**os.environ, "MLTUI_STATE": str(tmp_path / "state.json")},
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    seen = b""
    try:
        os.write(leader, b"echo h14-$((6*7))-$BASH_VERSION; exit\n")
        deadline = time.monotonic() + 60
        while b"h14-42-" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if ready:
                try:
                    seen += os.read(leader, 4096)
                except OSError:
                    break
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    assert b"h14-42-5" in seen  # bash 5 answered, not sh
    logged = (tmp_path / "actions.log").read_text()  # the shell is in the action log
    assert name in logged and "exec" in logged and "shell opened" in logged
