"""The port pre-check of `mltui up`: what a compose file publishes (short and long
syntax, ranges, udp, host addresses), and which published ports clash with it
(the engine's list as the Engine API gives it; tests/engine/test_up_ports.py runs
it on the real engine)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mltui.core.engine import EngineTarget
from mltui.deploy.composefile import Bind, parse
from mltui.deploy.ports import bind_free, container_holders, is_local, port_clash, service_holders


def compose(text: str):
    return parse(textwrap.dedent(text), Path("/tmp/h14rest/compose.yml"), {})


FILE = """\
    services:
      web:
        image: a
        ports:
          - "8080:80"
          - "127.0.0.1:9000-9002:9000-9002"
          - "[::1]:7000:7000"
          - "5353:53/udp"
          - "3000"
          - 4000
          - "127.0.0.1::5000"
          - {target: 80, published: "8443", host_ip: 127.0.0.2, protocol: tcp}
          - {target: 81}
"""


def test_binds_read_every_syntax_and_leave_out_engine_picked_ports():
    (web,) = compose(FILE).services
    assert web.binds == (
        Bind(8080),
        Bind(9000, "tcp", "127.0.0.1"),
        Bind(9001, "tcp", "127.0.0.1"),
        Bind(9002, "tcp", "127.0.0.1"),
        Bind(7000, "tcp", "::1"),
        Bind(5353, "udp"),
        Bind(8443, "tcp", "127.0.0.2"),
    )


def test_hostile_ports_are_no_binds_and_ranges_are_bounded():
    (web,) = compose(
        """\
        services:
          web:
            image: a
            ports: ["99999:80", "x:80", "0:80", "1-65535:1-65535", {published: [1]}]
        """
    ).services
    assert len(web.binds) == 1000 and web.binds[0] == Bind(1)


def test_digits_that_are_not_ascii_and_a_nul_in_an_address_are_no_crash():
    # "²".isdigit() is True but int("²") raises: such a port is no bind
    (web,) = compose(
        """        services:
          web:
            image: a
            ports: ["²:80", "8081:80", {target: 80, published: "²"}, "1²-3:80"]
        """
    ).services
    assert web.binds == (Bind(8081),)
    # an address a socket refuses outright is no clash, not an exception
    assert bind_free(Bind(8082, "tcp", "127.0.0.1\x00")) is True


CONTAINERS = [
    {
        "Names": ["/other-web-1"],
        "State": "running",
        "Labels": {"com.docker.compose.project": "other"},
        "Ports": [{"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}],
    },
    {
        "Names": ["/mine-web-1"],
        "State": "running",
        "Labels": {"com.docker.compose.project": "mine"},
        "Ports": [{"IP": "0.0.0.0", "PrivatePort": 53, "PublicPort": 5353, "Type": "udp"}],
    },
    {"Names": ["/gone"], "State": "exited", "Ports": [{"PublicPort": 7000, "Type": "tcp"}]},
]
SERVICES = [
    {
        "Spec": {"Name": "s_api", "Labels": {"com.docker.stack.namespace": "s"}},
        "Endpoint": {"Ports": [{"PublishedPort": 9001, "Protocol": "tcp"}]},
    }
]


def test_a_clash_names_the_port_and_who_holds_it():
    file = compose(FILE)
    held = container_holders(CONTAINERS) + service_holders(SERVICES)
    said = port_clash(file, "mine", "compose", held, "unix:///x", local=False)
    assert said == (
        "web's port 8080 is already in use on unix:///x by container other-web-1: "
        "nothing was changed"
    )
    # the project's own ports are no clash; a swarm service's ingress port is
    held = held[1:]
    said = port_clash(file, "mine", "compose", held, "e", local=False)
    assert "port 9001 on 127.0.0.1 is already in use on e by swarm service s_api" in said
    # the same stack redeployed: its service's port is its own
    assert port_clash(file, "s", "swarm", held[1:], "e", local=False) == ""
    assert "5353/udp" in port_clash(file, "s", "swarm", held, "e", local=False)


def test_binding_on_the_host_only_for_a_local_engine_and_not_for_its_own_ports():
    file = compose(FILE)
    asked: list[Bind] = []

    def free_but_8443(bind: Bind) -> bool:
        asked.append(bind)
        return bind.port != 8443

    held = container_holders(CONTAINERS[1:2])  # mine holds 5353/udp
    said = port_clash(file, "mine", "compose", held, "e", local=True, free=free_but_8443)
    assert said == (
        "web's port 8443 on 127.0.0.2 is already in use by another program on this host: "
        "nothing was changed"
    )
    assert Bind(5353, "udp") not in asked
    assert port_clash(file, "mine", "compose", held, "e", local=False, free=free_but_8443) == ""
    assert is_local(None) and is_local(EngineTarget("unix:///var/run/docker.sock", "default"))
    assert is_local(EngineTarget("tcp://127.0.0.1:2375", "DOCKER_HOST"))
    assert not is_local(EngineTarget("tcp://10.0.0.9:2375", "--host"))
    assert not is_local(EngineTarget("ssh://me@gpu-box", "context gpu"))
