"""`mltui gpu` on this machine (no GPU): every verdict is a sentence, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.engine


def test_gpu_report_on_a_host_without_gpus(container_factory):
    asks = container_factory("gpu-asks", "--gpus", "all", create_only=True)
    plain = container_factory("gpu-plain")
    out = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "gpu", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["host"]["gpus"] == []
    assert data["host"]["problem"].startswith("no NVIDIA driver on this host")
    assert "runc" in data["engine"]["runtimes"]
    assert data["engine"]["cdi_spec_dirs"] is None  # Docker 20.10 predates CDI
    by_name = {s["service"]: s for s in data["services"]}
    assert by_name[asks]["asked"] == "all GPUs"
    assert not by_name[asks]["ok"]
    assert by_name[asks]["verdict"].startswith("asked for a GPU, but this host has none")
    assert by_name[plain]["ok"] and by_name[plain]["verdict"].startswith("CPU only")
    text = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "gpu"], capture_output=True, text=True, timeout=60, check=False
    )  # fmt: skip
    assert "host: no NVIDIA driver on this host" in text.stdout
    assert "nvidia runtime not installed; CDI not reported by this engine" in text.stdout
    assert f"!! {asks}: asked for a GPU" in text.stdout
    assert "Traceback" not in text.stderr
