"""Looking inside real containers: no python, python without TensorFlow, and the
real TensorFlow CPU wheel from PyPI (installed offline into a cached image)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import TF_CPU_VERSION, docker, fetch_tf_wheels, tf_cpu_recipe

from mltui.core.engine import Engine
from mltui.core.gpu import check_inside, describe_inside
from mltui.deploy.images import ensure_image
from mltui.deploy.stacks import DEMO_LB

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def tf_image(engine_info) -> str:
    return ensure_image(tf_cpu_recipe(), fetch=fetch_tf_wheels)


def gpu_check(name: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "gpu", "--check", name, "--json"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    (service,) = [s for s in json.loads(out.stdout)["services"] if s["service"] == name]
    return service


def test_no_python_and_no_tensorflow(container_factory):
    bare = container_factory("gpu-nopy", "--entrypoint", "sleep", command=("infinity",))
    # the balancer image: nginx from Debian, no python at all
    nginx = f"{bare}-nginx"
    docker("run", "-d", "--name", nginx, "--label", "mltui.test=1", ensure_image(DEMO_LB))
    try:
        assert gpu_check(nginx)["inside"] == "no python; no nvidia-smi"
    finally:
        docker("rm", "-f", nginx, check=False)
    assert gpu_check(bare)["inside"] == "TensorFlow not installed; no nvidia-smi"


def test_the_real_tensorflow_cpu_wheel_says_it_has_no_cuda(tf_image, container_factory, run_id):
    name = f"{run_id}-gpu-tf"
    docker("run", "-d", "--name", name, "--label", f"mltui.test={run_id}", tf_image)
    try:
        service = gpu_check(name)
        assert service["inside"] == (
            f"TensorFlow {TF_CPU_VERSION}, 0 GPUs, built without CUDA; no nvidia-smi"
        )
        assert service["ok"] and service["verdict"].startswith("CPU only")
        # a probe that outlasts its time is said so
        engine = Engine()
        try:
            slow = check_inside(engine, name, timeout=0.05)
        finally:
            engine.close()
        assert "timed out" in slow.problem
        assert describe_inside(slow) == slow.problem
    finally:
        docker("rm", "-f", name, check=False)


def test_a_stopped_container_cannot_be_looked_into(container_factory):
    name = container_factory("gpu-stopped", create_only=True)
    engine = Engine()
    try:
        inside = check_inside(engine, name)
    finally:
        engine.close()
    assert inside.problem and "not running" in inside.problem
