"""What a service is for: a notebook, a model server, a load balancer.

One place decides, and every screen, the command palette and the command line
ask here. The rules read what the inventory already holds (image, name,
published ports as ``[IP:]HOST->TARGET/PROTO``), and for a container list
entry of the Engine API (what :mod:`.jupyter` scans) its image, command and
private ports.

A port counts by its *target* (the container's side): ``18888->80/tcp`` is a
web server on 80 that happens to be published on 18888, not a notebook.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any

from .inventory.model import Service

JUPYTER_PORT = 8888
# TF Serving's REST port, and KServe's / MLServer's HTTP port
SERVING_PORTS = frozenset({8501, 8080})

# images that run Jupyter: jupyter/..., quay.io/jupyter/..., *notebook*, *jupyter*, *jupyterlab*
JUPYTER_IMAGES = re.compile(
    r"(^|/)(jupyter|jupyterhub)/|^quay\.io/jupyter/|(^|/)[^/]*(notebook|jupyter|jupyterlab)[^/]*(:|$)",
    re.I,
)
_JUPYTER_COMMAND = re.compile(r"(^|[/\s\"'])jupyter")
_BALANCER_IMAGES = re.compile(r"(^|/)(nginx|haproxy|traefik|envoy|caddy)([:@/-]|$)", re.I)
_BALANCER_NAMES = frozenset({"lb", "balancer", "load-balancer", "loadbalancer", "proxy"})
# "[IP:]HOST->TARGET/PROTO", as the inventory writes a published port
_TARGET = re.compile(r"->(\d+)/")
_PUBLISHED = re.compile(r"(?:(?P<ip>[\d.]+):)?(?P<host>\d+)->(?P<target>\d+)/tcp")
DEFAULT_SERVING_URL = "http://127.0.0.1:8501"


class Role(Enum):
    NOTEBOOK = "notebook"
    MODEL_SERVER = "model server"
    BALANCER = "balancer"


def target_ports(ports: Iterable[str]) -> set[int]:
    """The container-side ports of published ports (``8888`` of ``18888->8888/tcp``)."""
    out: set[int] = set()
    for text in ports:
        match = _TARGET.search(text)
        if match is not None:
            out.add(int(match.group(1)))
    return out


def is_notebook(service: Service) -> bool:
    """A Jupyter server: its image or name says jupyter or notebook, or it
    publishes the container's port 8888."""
    text = f"{service.image} {service.name}".lower()
    if "jupyter" in text or "notebook" in text:
        return True
    return JUPYTER_PORT in target_ports(service.ports)


def is_model_server(service: Service) -> bool:
    """A model server: it publishes TF Serving's REST port (8501) or KServe's (8080),
    or runs a serving image."""
    return bool(SERVING_PORTS & target_ports(service.ports)) or "serving" in service.image.lower()


def is_balancer(service: Service) -> bool:
    """A load balancer in front of replicas: an nginx, HAProxy, Traefik, Envoy or
    Caddy image, or a service named lb, balancer or proxy."""
    if _BALANCER_IMAGES.search(service.image):
        return True
    name = service.name.lower()
    return name in _BALANCER_NAMES or name.endswith(("-lb", "_lb"))


def roles(service: Service) -> frozenset[Role]:
    """Every role ``service`` plays; a balancer in front of model servers is both."""
    out: set[Role] = set()
    if is_notebook(service):
        out.add(Role.NOTEBOOK)
    if is_model_server(service):
        out.add(Role.MODEL_SERVER)
    if is_balancer(service):
        out.add(Role.BALANCER)
    return frozenset(out)


def serving_target(candidates: Sequence[Service], chosen: Service | None) -> Service | None:
    """The service to predict against: the chosen one if it publishes a port, else
    the first that looks like a model server (else the chosen one)."""
    if chosen is not None and chosen.ports:
        return chosen
    return next((svc for svc in candidates if is_model_server(svc)), chosen)


def serving_url(service: Service | None) -> str:
    """The host URL of a model server: its port published for 8501 (else the first
    published TCP port); a wildcard address is reached through loopback."""
    if service is None:
        return DEFAULT_SERVING_URL
    best = None
    for text in service.ports:
        m = _PUBLISHED.search(text)
        if m is None:
            continue
        ip = m.group("ip") or "127.0.0.1"
        ip = "127.0.0.1" if ip in ("0.0.0.0", "") else ip
        url = f"http://{ip}:{m.group('host')}"
        if m.group("target") == "8501":
            return url
        best = best or url
    return best or DEFAULT_SERVING_URL


def container_is_notebook(entry: Mapping[str, Any]) -> bool:
    """Whether a container list entry (Engine API JSON) looks like a Jupyter server:
    a Jupyter image, a ``jupyter`` command, or container port 8888."""
    image = str(entry.get("Image") or "")
    command = str(entry.get("Command") or "")
    if JUPYTER_IMAGES.search(image) or _JUPYTER_COMMAND.search(command):
        return True
    ports = entry.get("Ports")
    return isinstance(ports, list) and any(
        isinstance(p, Mapping) and p.get("PrivatePort") == JUPYTER_PORT for p in ports
    )
