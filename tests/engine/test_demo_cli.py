"""`mltui demo up/down` end to end on the real engine (images cached by the other demo tests)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys

import pytest
import requests
from helpers import free_port, http_status, tcp_listeners, wait_for

pytestmark = pytest.mark.engine


def mltui(*args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mltui.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def demo_services(name: str) -> dict:
    data = json.loads(mltui("ps", "--json").stdout)
    return {s["name"]: s for st in data["stacks"] if st["name"] == name for s in st["services"]}


def demo_up(
    name: str, port: int, notebook_port: int, *extra: str
) -> subprocess.CompletedProcess[str]:
    ports = ["--port", str(port), "--notebook-port", str(notebook_port)]
    return mltui("demo", "up", "--detach", "--name", name, *ports, *extra)


@pytest.mark.parametrize("mode", ["swarm", "compose"])
def test_demo_up_detach_and_down(swarm, run_id, mode):
    name, port, nb_port = f"{run_id}cli{mode[0]}", free_port(), free_port()
    flags = ["--compose"] if mode == "compose" else []
    up = demo_up(name, port, nb_port, *flags)
    try:
        assert up.returncode == 0, up.stderr
        assert f"deploying {name} with {mode}" in up.stderr
        assert "ready in" in up.stderr and f"http://127.0.0.1:{port}" in up.stderr
        # the notebook's URL, token masked
        assert re.search(
            rf"notebook http://127\.0\.0\.1:{nb_port}/\?token=\w{{4}}•{{8}} ", up.stderr
        )
        svcs = demo_services(name)
        assert {k: (v["running"], v["desired"]) for k, v in svcs.items()} == {
            "model": (4, 4),
            "lb": (1, 1),
            "notebook": (1, 1),
        }
        assert (
            requests.get(f"http://127.0.0.1:{port}/v1/models/my_model", timeout=5).status_code
            == 200
        )
        # the notebook server answers on its host port (its API root needs no token)
        wait_for(
            "the notebook",
            lambda: http_status(f"http://127.0.0.1:{nb_port}/api") == 200,
            timeout=60,
        )
        # ... and on no other address of this machine
        assert tcp_listeners(nb_port) == {"127.0.0.1"}
        notebook = svcs["notebook"]["ports"]
        assert notebook == (
            ["host network"] if mode == "swarm" else [f"127.0.0.1:{nb_port}->8888/tcp"]
        )
    finally:
        down = mltui("demo", "down", *flags, "--name", name)
    assert down.returncode == 0, down.stderr
    wait_for("the stack to be gone", lambda: not demo_services(name), timeout=60)


def test_demo_up_on_a_taken_port_is_refused_before_anything_is_deployed(swarm, run_id):
    """The balancer's host port is taken by a program that is not a container: up's
    port check (the same as `mltui up`'s) refuses it, naming the port and who holds
    it, before the stack is deployed (it used to deploy and time out waiting)."""
    name = f"{run_id}bad"
    blocker = socket.socket()
    blocker.bind(("0.0.0.0", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        up = demo_up(name, port, free_port(), "--timeout", "20")
    finally:
        blocker.close()
    assert up.returncode == 1
    assert f"lb's port {port} is already in use by another program on this host" in up.stderr
    assert "nothing was changed" in up.stderr
    assert "removing what was deployed" not in up.stderr  # nothing was
    assert "Traceback" not in up.stderr
    assert not demo_services(name)


def test_demo_up_that_cannot_get_ready_removes_itself(swarm, run_id):
    """No time to get ready (--timeout 0): what was deployed is removed."""
    name = f"{run_id}late"
    up = demo_up(name, free_port(), free_port(), "--timeout", "0")
    assert up.returncode == 1
    assert f"waiting for {name} timed out" in up.stderr
    assert "removing what was deployed" in up.stderr
    assert "Traceback" not in up.stderr
    wait_for("the half-deployed stack to be gone", lambda: not demo_services(name), timeout=60)
