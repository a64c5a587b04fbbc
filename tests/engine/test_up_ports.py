"""`mltui up` checks the ports a compose file publishes before it changes anything
(prefix h14rest): a port a container publishes (`docker run -p 127.0.0.1:P:...`)
is refused naming the container, on swarm and with Compose; a port a plain
program listens on is refused naming "another program on this host"; each exits
2 with nothing deployed. Redeploying a project whose own containers hold the
port is not a clash."""

from __future__ import annotations

import socket
import subprocess
import textwrap

import pytest
from helpers import COMPOSE_V2, docker, stack_service, wait_for
from test_actions_real import mltui

pytestmark = pytest.mark.engine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def compose_file(tmp_path, test_image, ports: str) -> str:
    path = tmp_path / "compose.yml"
    path.write_text(
        textwrap.dedent(
            f"""\
            services:
              web:
                image: {test_image}
                command: [sleep, infinity]
                stop_grace_period: 1s
                ports: [{ports}]
            """
        )
    )
    return str(path)


def nothing_named(name: str) -> bool:
    return (
        stack_service(name, "web") is None
        and not docker("ps", "-aq", "--filter", f"name={name}", check=False).strip()
    )


@pytest.fixture
def holder(test_image, run_id):
    """A container that publishes 127.0.0.1:PORT."""
    name = f"h14rest-port-{run_id[-6:]}"
    port = free_port()
    docker(
        *("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000", "--stop-timeout", "1"),
        *(test_image, "sleep", "infinity"),
    )
    try:
        yield name, port
    finally:
        docker("rm", "-f", name, check=False)


@pytest.mark.parametrize("mode", ["--swarm", "--compose"])
def test_a_port_a_container_publishes_is_refused_naming_it(
    holder, mode, tmp_path, test_image, run_id, swarm
):
    container, port = holder
    name = f"h14rest{run_id[-6:]}p{mode[2]}"
    file = compose_file(tmp_path, test_image, f'"{port}:8000"')
    out = mltui("up", file, "--name", name, mode, "--yes", env={"MLTUI_COMPOSE": COMPOSE_V2})
    assert out.returncode == 2, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert f"web's port {port} is already in use" in last, last
    assert f"by container {container}" in last and "nothing was changed" in last, last
    assert nothing_named(name)


def test_a_port_another_program_listens_on_is_refused(tmp_path, test_image, run_id):
    name = f"h14rest{run_id[-6:]}prog"
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        file = compose_file(tmp_path, test_image, f'"127.0.0.1:{port}:8000"')
        out = mltui("up", file, "--name", name, "--compose", "--yes", env={})
    assert out.returncode == 2, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert f"web's port {port} on 127.0.0.1 is already in use" in last, last
    assert "by another program on this host" in last, last
    assert nothing_named(name)


def test_redeploying_a_project_is_not_a_clash_with_its_own_ports(tmp_path, test_image, run_id):
    name = f"h14rest{run_id[-6:]}own"
    port = free_port()
    file = compose_file(tmp_path, test_image, f'"127.0.0.1:{port}:8000"')
    env = {"MLTUI_COMPOSE": COMPOSE_V2}
    try:
        first = mltui("up", file, "--name", name, "--compose", "--yes", env=env)
        assert first.returncode == 0, first.stderr
        held = docker("port", f"{name}-web-1", "8000")
        assert f"127.0.0.1:{port}" in held
        again = mltui("up", file, "--name", name, "--compose", "--yes", env=env)
        assert again.returncode == 0, again.stderr
        assert "already in use" not in again.stderr
        wait_for(
            f"{name}/web running", lambda: (s := stack_service(name, "web")) and s.running == 1
        )
    finally:
        subprocess.run(
            [COMPOSE_V2, "-p", name, "-f", file, "down", "-t", "1"],
            capture_output=True,
            check=False,
            timeout=120,
        )
        assert nothing_named(name)
