"""The reference stacks are valid compose files, checked by the real Compose and
docker CLIs (client side: nothing is pulled) and by their content."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml
from helpers import COMPOSE_V2

from mltui.deploy.stacks import STACKS_DIR

pytestmark = pytest.mark.engine

REF = STACKS_DIR / "tf-serving"
GPU = STACKS_DIR / "tf-serving-gpu"


def compose_config(path) -> dict:
    out = subprocess.run(
        [COMPOSE_V2, "-f", str(path), "config", "--no-interpolate", "--format", "yaml"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return yaml.safe_load(out)


def stack_config(path, env: dict[str, str] | None = None) -> dict:
    """What `docker stack deploy` would read. Clients before 20.10's successors lack
    `docker stack config`: there the file is checked by a real deploy with
    --resolve-image never (nothing is pulled), removed at once."""
    result = subprocess.run(
        ["docker", "stack", "config", "-c", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if result.returncode == 0:
        return yaml.safe_load(result.stdout)
    assert "unknown" in result.stderr, result.stderr
    name = f"mltuicheck{abs(hash(str(path))) % 10**6}"
    deploy = subprocess.run(
        ["docker", "stack", "deploy", "--resolve-image", "never", "-c", str(path), name],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    subprocess.run(["docker", "stack", "rm", name], capture_output=True, check=False)
    assert deploy.returncode == 0, deploy.stderr
    return yaml.safe_load(path.read_text())


def targets(ports) -> set[str]:
    """Container ports, from the long syntax (normalised) or the short one (as written)."""
    return {
        str(p["target"]) if isinstance(p, dict) else str(p).split(":")[-1].split("/")[0]
        for p in ports
    }


def mounts(volumes) -> set[str]:
    return {v["target"] if isinstance(v, dict) else v.split(":")[1] for v in volumes}


def test_reference_stack():
    for config in (compose_config(REF / "compose.yml"), stack_config(REF / "compose.yml")):
        svcs = config["services"]
        assert set(svcs) == {"tensorflow", "tf_model_serving"}
        nb, serving = svcs["tensorflow"], svcs["tf_model_serving"]
        assert "tensorflow-notebook" in nb["image"]
        assert "8888" in targets(nb["ports"])
        assert nb["environment"]["JUPYTER_ENABLE_LAB"] == "yes"
        assert "/home/jovyan/work" in mounts(nb["volumes"])
        assert serving["environment"]["MODEL_NAME"] == "my_model"
        assert "8501" in targets(serving["ports"])
        assert serving["deploy"]["replicas"] == 4
        assert serving["deploy"]["endpoint_mode"] == "vip"
    dockerfile = (REF / "serving" / "Dockerfile").read_text()
    assert any(line.startswith("FROM tensorflow/serving") for line in dockerfile.splitlines())
    assert "COPY my_model /models/my_model" in dockerfile


def test_gpu_stack_for_compose_and_for_swarm():
    svcs = compose_config(GPU / "compose.yml")["services"]
    assert set(svcs) == {"tensorflow", "tf_model_serving"}
    for svc in svcs.values():
        (device,) = svc["deploy"]["resources"]["reservations"]["devices"]
        assert device["capabilities"] == ["gpu"] and device["driver"] == "nvidia"
    assert svcs["tensorflow"]["image"].endswith("cuda-latest")
    assert "latest-gpu" in (GPU / "serving" / "Dockerfile").read_text()
    swarm = stack_config(GPU / "stack.yml")["services"]
    for svc in swarm.values():
        (res,) = svc["deploy"]["resources"]["reservations"]["generic_resources"]
        assert res["discrete_resource_spec"] == {"kind": "NVIDIA-GPU", "value": 1}


def test_demo_stack_files_differ_only_in_how_the_notebook_is_published():
    """compose.yml (Compose) and stack.yml (swarm) must not drift apart."""
    demo = STACKS_DIR / "demo"
    compose = yaml.safe_load((demo / "compose.yml").read_text())["services"]
    stack = yaml.safe_load((demo / "stack.yml").read_text())["services"]
    assert set(compose) == set(stack) == {"model", "lb", "notebook"}
    assert compose["model"] == stack["model"] and compose["lb"] == stack["lb"]
    assert compose["notebook"]["image"] == stack["notebook"]["image"]
    assert compose["notebook"]["ports"] == ["127.0.0.1:${MLTUI_DEMO_NOTEBOOK_PORT:-8888}:8888"]
    assert "ports" not in stack["notebook"] and stack["notebook"]["networks"] == ["hostnet"]
    assert "--ip=127.0.0.1" in stack["notebook"]["command"]
    # and the real parsers accept them
    assert set(compose_config(demo / "compose.yml")["services"]) == set(compose)
    images = {f"MLTUI_DEMO_{k}": f"mltui-demo-{k.lower()}:x" for k in ("MODEL", "LB", "NOTEBOOK")}
    assert set(stack_config(demo / "stack.yml", images)["services"]) == set(stack)
