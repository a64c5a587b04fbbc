"""`mltui gpu` on this machine, whatever it has: every verdict is a sentence, never a
traceback, and each agrees with what the host and the engine say of themselves.

The expectations come from the environment, not from mltui: the NVIDIA driver's own
library asked through ctypes (not nvidia-ml-py, which mltui uses) for its GPU count,
and `docker info` / `docker version` for the runtimes and the CDI spec directories
(an engine reports CDISpecDirs from API 1.44, Docker 25, on).
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys

import pytest
from helpers import docker

pytestmark = pytest.mark.engine


def driver_gpu_count() -> tuple[int | None, str]:
    """(GPUs the driver counts, "") or (None, why not): libnvidia-ml through ctypes."""
    try:
        lib = ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return None, "no library"
    init = getattr(lib, "nvmlInit_v2", None) or lib.nvmlInit
    code = init()
    if code != 0:
        return None, f"nvmlInit returned {code}"
    count = ctypes.c_uint(0)
    get_count = getattr(lib, "nvmlDeviceGetCount_v2", None) or lib.nvmlDeviceGetCount
    code = get_count(ctypes.byref(count))
    lib.nvmlShutdown()
    return (count.value, "") if code == 0 else (None, f"nvmlDeviceGetCount returned {code}")


def engine_facts() -> tuple[set[str], list[str] | None, tuple[int, int]]:
    """(runtimes, CDI spec dirs or None where not reported, API version) from docker."""
    info = json.loads(docker("info", "--format", "{{json .}}"))
    api = docker("version", "--format", "{{.Server.APIVersion}}").strip()
    major, minor = (int(x) for x in api.split(".")[:2])
    cdi = info.get("CDISpecDirs")
    return set(info.get("Runtimes") or {}), cdi if isinstance(cdi, list) else None, (major, minor)


def test_gpu_report_says_what_the_host_and_engine_say(container_factory):
    asks = container_factory("gpu-asks", "--gpus", "all", create_only=True)
    plain = container_factory("gpu-plain")
    gpus, why = driver_gpu_count()
    runtimes, cdi, api = engine_facts()
    if api < (1, 44):
        assert cdi is None  # the engine predates CDI in /info
    out = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "gpu", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    host = data["host"]
    if gpus is None:
        assert host["gpus"] == []
        if why == "no library":
            assert host["problem"].startswith("no NVIDIA driver on this host")
        else:
            assert host["problem"], "the driver failed, and the report should say why"
    else:
        assert len(host["gpus"]) == gpus
        assert host["problem"] == ""
    assert set(data["engine"]["runtimes"]) == runtimes
    assert "runc" in data["engine"]["runtimes"]
    assert data["engine"]["cdi_spec_dirs"] == cdi

    by_name = {s["service"]: s for s in data["services"]}
    assert by_name[asks]["asked"] == "all GPUs"
    if not gpus:
        assert not by_name[asks]["ok"]
        assert by_name[asks]["verdict"].startswith("asked for a GPU, but this host has none")
        assert by_name[plain]["ok"] and by_name[plain]["verdict"].startswith("CPU only")
    else:
        plural = "s" if gpus > 1 else ""
        assert not by_name[plain]["ok"]
        assert by_name[plain]["verdict"] == f"host has {gpus} GPU{plural}, container asked for none"
        if "nvidia" in runtimes:
            assert by_name[asks]["ok"]
            assert by_name[asks]["verdict"] == f"asked for all GPUs; host has {gpus} GPU{plural}"
        else:
            assert not by_name[asks]["ok"]
            assert (
                by_name[asks]["verdict"] == "asked for a GPU but the engine has no nvidia runtime"
            )

    text = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "gpu"], capture_output=True, text=True, timeout=60, check=False
    )  # fmt: skip
    assert "Traceback" not in text.stderr
    if host["problem"]:
        assert f"host: {host['problem']}" in text.stdout
    else:
        assert f"{gpus} GPU(s)" in text.stdout
    nvidia = "installed" if "nvidia" in runtimes else "not installed"
    shown_cdi = "not reported by this engine" if cdi is None else (", ".join(cdi) or "no spec dirs")
    assert f"nvidia runtime {nvidia}; CDI {shown_cdi}" in text.stdout
    mark = "ok " if by_name[asks]["ok"] else "!! "
    assert f"{mark}{asks}: {by_name[asks]['verdict']}" in text.stdout
