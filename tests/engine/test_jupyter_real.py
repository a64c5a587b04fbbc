"""Notebook URLs from real Jupyter servers (the demo's Notebook 6 from Debian)."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys

import pytest
from helpers import docker, http_status, wait_for

from mltui.deploy.images import ensure_image
from mltui.deploy.stacks import DEMO_NOTEBOOK

pytestmark = pytest.mark.engine

NOTEBOOK = DEMO_NOTEBOOK.cmd  # jupyter-notebook --ip=0.0.0.0 --port=8888 ...


@pytest.fixture(scope="module")
def notebook_image(engine_info) -> str:
    return ensure_image(DEMO_NOTEBOOK)


@pytest.fixture
def notebook(notebook_image, run_id):
    made: list[str] = []

    def make(name: str, *args: str, command: tuple[str, ...] = NOTEBOOK) -> str:
        full = f"{run_id}-{name}"
        docker(
            "run", "-d", "--name", full, "--label", f"mltui.test={run_id}", *args,
            notebook_image, *command,
        )  # fmt: skip
        made.append(full)
        return full

    yield make
    if made:
        docker("rm", "-f", *made, check=False)


def mltui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mltui.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def found(name: str, *flags: str) -> list[dict]:
    out = mltui("jupyter", name, "--json", *flags)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


def settled(name: str, *flags: str, source: str = "") -> dict:
    """mltui's answer once the server has started (and, with ``source``, once it
    came that way: the server's log may name its URL before its list command
    does, and mltui then answers from the log until the list has it)."""
    return wait_for(
        f"{name}'s server" + (f" from {source}" if source else ""),
        lambda: next(
            (
                n
                for n in found(name, *flags)
                if n["status"] != "starting" and (not source or n["source"] == source)
            ),
            None,
        ),
        timeout=60,
    )


def logs_of(name: str) -> str:
    """What the server logged (Jupyter logs to stderr)."""
    return subprocess.run(
        ["docker", "logs", name], capture_output=True, text=True, check=False
    ).stderr


def token_in_logs(name: str) -> str:
    return logs_of(name).split("?token=")[1].split()[0]


def test_a_random_token_gives_a_url_that_answers_on_the_host_port(notebook):
    name = notebook("jnb-random", "-p", "127.0.0.1::8888")
    server = settled(name, "--show-token", source="exec")
    host_port = int(docker("port", name, "8888/tcp").split(":")[-1])
    token = token_in_logs(name)
    assert server["status"] == "reachable"
    assert server["url"] == f"http://127.0.0.1:{host_port}/?token={token}"
    assert server["source"] == "exec"
    assert http_status(f"http://127.0.0.1:{host_port}/api/status?token={token}") == 200
    # masked unless asked: the token is nowhere in the plain output
    plain = mltui("jupyter", name)
    assert token not in plain.stdout + plain.stderr
    assert f"?token={token[:4]}••••••••" in plain.stdout
    assert "reachable" in plain.stdout


def test_a_configured_token_comes_from_exec(notebook):
    token = secrets.token_hex(16)
    name = notebook("jnb-configured", "-p", "127.0.0.1::8888", "-e", f"JUPYTER_TOKEN={token}")
    server = settled(name, "--show-token", source="exec")
    assert "?token=..." in logs_of(name)  # the log only has the placeholder
    assert server["token"] == token and server["source"] == "exec"
    assert server["status"] == "reachable"
    assert http_status(server["url"].replace("/?token", "/api/status?token")) == 200


def test_an_unpublished_port_is_said_plainly(notebook):
    name = notebook("jnb-unpublished")
    server = settled(name)
    assert server["status"] == "not published"
    assert server["url"] == ""
    assert "127.0.0.1:8888:8888" in server["note"]


def test_a_server_still_starting_then_ready(notebook):
    command = ("sh", "-c", "sleep 6; exec " + " ".join(NOTEBOOK))
    name = notebook("jnb-starting", "-p", "127.0.0.1::8888", command=command)
    first = found(name)
    assert [n["status"] for n in first] == ["starting"]
    assert "still starting" in first[0]["note"]
    assert settled(name)["status"] == "reachable"


def test_no_exec_possible_wrong_token_and_no_answer(notebook_image, container_factory):
    """Servers mltui can only know from their logs (no jupyter command inside)."""
    # logs a configured-token URL; no jupyter to ask: said so
    configured = container_factory(
        "jfake-configured",
        "-p", "127.0.0.1::8888",
        command=("sh", "-c", "echo '[I 1 NotebookApp] http://x:8888/?token=...'; sleep 3600"),
    )  # fmt: skip
    # logs a token, but the server on the port refuses it
    refusing = container_factory(
        "jfake-refusing",
        "-p", "127.0.0.1::8888",
        command=(
            "python3", "-c",
            "import http.server\n"
            "print('[I 1 NotebookApp] http://x:8888/lab?token=wrongtoken', flush=True)\n"
            "class H(http.server.BaseHTTPRequestHandler):\n"
            "    def do_GET(self):\n"
            "        self.send_response(403); self.end_headers()\n"
            "http.server.HTTPServer(('0.0.0.0', 8888), H).serve_forever()\n",
        ),
    )  # fmt: skip
    # logs a URL, publishes the port, but nothing listens
    silent = container_factory(
        "jfake-silent",
        "-p", "127.0.0.1::8888",
        command=("sh", "-c", "echo '[I 1 ServerApp] http://x:8888/lab?token=t0k3n'; sleep 3600"),
    )  # fmt: skip

    c = settled(configured)
    assert "set by configuration" in c["note"] and "no jupyter command" in c["note"]
    assert c["status"] == "forbidden: token unknown" or c["status"].startswith("not reachable")
    r = wait_for(
        "the refusing server",
        lambda: (n := settled(refusing)) and n["status"] == "forbidden: wrong token" and n,
    )
    assert r["url"].endswith("/lab?token=••••••••")  # 10 characters: none shown
    assert "wrongtoken" not in json.dumps(r) and "token is weak" in r["note"]
    s = settled(silent)
    assert s["status"] == "not reachable from the host"
    assert "t0k3n" not in json.dumps(s)


def test_several_servers_in_one_container_are_all_listed(notebook):
    second = " ".join(NOTEBOOK).replace("--port=8888", "--port=8889")
    command = ("sh", "-c", f"{second} & exec " + " ".join(NOTEBOOK))
    name = notebook("jnb-two", "-p", "127.0.0.1::8888", "-p", "127.0.0.1::8889", command=command)

    def both():
        servers = [n for n in found(name, "--show-token") if n["status"] == "reachable"]
        return servers if len(servers) == 2 else None

    servers = wait_for("both servers", both, timeout=60)
    assert sorted(n["container_port"] for n in servers) == [8888, 8889]
    assert all("2 servers in this container" in n["note"] for n in servers)
    for n in servers:
        assert http_status(n["url"].replace("/?token", "/api/status?token")) == 200
