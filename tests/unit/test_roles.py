"""core/roles.py: one rule per role, for the palette, the screens and the command line."""

from mltui.core.inventory import Service
from mltui.core.jupyter import is_notebook as container_looks_like_notebook
from mltui.core.roles import (
    Role,
    container_is_notebook,
    is_balancer,
    is_model_server,
    is_notebook,
    roles,
    serving_target,
    target_ports,
)


def svc(name="svc", image="busybox:1", ports=(), kind="compose") -> Service:
    return Service(
        key=f"compose:p/{name}",
        name=name,
        stack="p",
        kind=kind,
        desired=1,
        running=1,
        image=image,
        ports=tuple(ports),
        replicas=(),
    )


def test_target_ports_are_the_container_side():
    assert target_ports(["18888->80/tcp", "127.0.0.1:8888->8888/tcp", "host network"]) == {
        80,
        8888,
    }
    assert target_ports(["8501->8501/tcp (host)"]) == {8501}


def test_a_notebook_by_image_name_or_container_port():
    assert is_notebook(svc(image="quay.io/jupyter/tensorflow-notebook:latest"))
    assert is_notebook(svc(name="notebook", image="mltui-demo-notebook:1"))
    assert is_notebook(svc(name="research", image="mine:1", ports=["127.0.0.1:9999->8888/tcp"]))
    assert not is_notebook(svc(name="web", image="nginx:1"))


def test_a_host_port_that_contains_8888_is_not_a_notebook():
    # the old UI rule tested "8888" in the port text: 18888->80/tcp matched
    web = svc(name="web", image="httpd:2", ports=["18888->80/tcp"])
    assert not is_notebook(web)
    assert Role.NOTEBOOK not in roles(web)
    # nor is the host port 8888 published for another container port
    assert not is_notebook(svc(name="web", image="httpd:2", ports=["8888->80/tcp"]))


def test_a_model_server_publishes_a_serving_port_or_runs_a_serving_image():
    assert is_model_server(svc(image="tf-model-serving:latest"))
    assert is_model_server(svc(image="mine:1", ports=["18501->8501/tcp"]))
    assert is_model_server(svc(image="kserve:1", ports=["127.0.0.1:9000->8080/tcp"]))
    assert not is_model_server(svc(image="mine:1", ports=["8501->80/tcp"]))
    assert not is_model_server(svc(image="quay.io/jupyter/base-notebook", ports=["8888->8888/tcp"]))


def test_a_balancer_by_image_or_name():
    assert is_balancer(svc(name="front", image="nginx:1.25"))
    assert is_balancer(svc(name="front", image="docker.io/library/haproxy:2"))
    assert is_balancer(svc(name="lb", image="mltui-demo-lb:1"))
    assert is_balancer(svc(name="model-lb", image="x:1"))
    assert not is_balancer(svc(name="model", image="mltui-demo-model:1"))
    assert not is_balancer(svc(name="nginxish", image="mynginxapp:1"))


def test_a_balancer_in_front_of_model_servers_plays_both_roles():
    lb = svc(name="lb", image="mltui-demo-lb:1", ports=["8501->8501/tcp (host)"])
    assert roles(lb) == {Role.BALANCER, Role.MODEL_SERVER}
    assert roles(svc(name="db", image="postgres:16", ports=["5432->5432/tcp"])) == frozenset()


def test_serving_target_prefers_the_chosen_service_when_it_publishes():
    chosen = svc(name="mine", image="x:1", ports=["9000->9000/tcp"])
    server = svc(name="model", image="tf-model-serving:1")
    assert serving_target([server], chosen) is chosen
    unpublished = svc(name="worker", image="x:1")
    assert serving_target([unpublished, server], unpublished) is server
    assert serving_target([unpublished], None) is None
    assert serving_target([unpublished], unpublished) is unpublished


def test_container_entries_and_the_jupyter_name_agree():
    entries = [
        {"Image": "jupyter/tensorflow-notebook:latest"},
        {"Image": "mine:1", "Command": "jupyter lab --ip=0.0.0.0"},
        {"Image": "mine:1", "Ports": [{"PrivatePort": 8888, "Type": "tcp"}]},
        {"Image": "httpd:2", "Ports": [{"PrivatePort": 80, "PublicPort": 18888, "Type": "tcp"}]},
        {"Image": None, "Ports": "junk"},
    ]
    assert [container_is_notebook(e) for e in entries] == [True, True, True, False, False]
    assert [container_looks_like_notebook(e) for e in entries] == [
        container_is_notebook(e) for e in entries
    ]


def test_serving_url_prefers_the_port_published_for_8501():
    from mltui.core.roles import serving_url

    assert serving_url(None) == "http://127.0.0.1:8501"
    both = svc(ports=["9000->9000/tcp", "10.0.0.5:18501->8501/tcp"])
    assert serving_url(both) == "http://10.0.0.5:18501"
    assert serving_url(svc(ports=["0.0.0.0:9000->8080/tcp"])) == "http://127.0.0.1:9000"
    assert serving_url(svc(ports=["host network"])) == "http://127.0.0.1:8501"
