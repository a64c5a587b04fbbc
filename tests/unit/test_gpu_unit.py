"""GPU logic with NVML faked: values shaped exactly like nvidia-ml-py's (its own
ctypes structures and NVMLError classes); the verdict case by case."""

from __future__ import annotations

from pathlib import Path

import pynvml
import pytest
from nvml_fake import A10, H100, FakeNvml

from mltui.core.gpu import Gpu, HostGpus, Inside, read_host, verdict
from mltui.core.inventory import GpuRequest, Service

CID = "a" * 64


def proc_tree(tmp_path: Path) -> Path:
    (tmp_path / "4242").mkdir()
    (tmp_path / "4242" / "cgroup").write_text(f"0::/system.slice/docker-{CID}.scope\n")
    return tmp_path


def test_two_gpus_with_mig_and_a_process_in_a_container(tmp_path):
    fake = FakeNvml([H100, A10])
    host = read_host(fake, proc_tree(tmp_path))
    assert (host.driver, host.cuda, host.count, host.problem) == ("550.54.15", "12.4", 2, "")
    first, second = host.gpus
    assert first.name == "NVIDIA H100 80GB HBM3" and first.memory_total_mib == 81559
    assert (first.utilization, first.temperature, first.power_w, first.mig) == (
        37,
        41,
        118.0,
        False,
    )
    (proc,) = first.processes
    assert (proc.pid, proc.memory_mib, proc.container_id) == (4242, 1000, CID)
    assert second.mig is True and second.processes == ()
    assert fake.shutdown


def test_one_gpu_without_processes(tmp_path):
    host = read_host(FakeNvml([{**H100, "procs": []}]), tmp_path)
    assert host.count == 1 and host.gpus[0].processes == () and host.gpus[0].mig is False


def test_no_gpu_is_zero_gpus_not_an_error(tmp_path):
    host = read_host(FakeNvml([]), tmp_path)
    assert host.count == 0 and host.problem == ""


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "no NVIDIA driver on this host"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "not loaded"),
        (pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH, "version mismatch"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "no permission"),
        (pynvml.NVML_ERROR_UNKNOWN, "NVML failed"),
    ],
)
def test_each_nvml_failure_is_a_sentence(tmp_path, code, says):
    host = read_host(FakeNvml([H100], init_error=code), tmp_path)
    assert host.count == 0 and says in host.problem


def test_fields_a_gpu_does_not_support_are_blank_and_a_late_failure_is_kept(tmp_path):
    unsupported = pynvml.NVML_ERROR_NOT_SUPPORTED
    host = read_host(
        FakeNvml([H100], field_errors={"power": unsupported, "mig": unsupported}), tmp_path
    )
    assert host.gpus[0].power_w is None and host.gpus[0].mig is None
    lost = read_host(
        FakeNvml([H100], field_errors={"count": pynvml.NVML_ERROR_GPU_IS_LOST}), tmp_path
    )
    assert "fell off the bus" in lost.problem


def test_the_real_library_here_says_there_is_no_driver():
    host = read_host()  # this machine has no GPU: nvidia-ml-py finds no NVML
    assert host.count == 0 and host.problem.startswith("no NVIDIA driver")


def svc(gpu: GpuRequest | None = None, kind: str = "compose") -> Service:
    return Service(
        key="k", name="train", stack="s", kind=kind, desired=1, running=1, image="i",
        ports=(), replicas=(), gpu=gpu,
    )  # fmt: skip


ONE = HostGpus(
    driver="550", cuda="12.4", gpus=[Gpu(0, "NVIDIA H100", "GPU-1", 1, 80000, 0, 30, 70.0, False)]
)
ASKED = GpuRequest(count=1, capabilities=("gpu",))


def test_verdicts_case_by_case():
    none_here = HostGpus(problem="no NVIDIA driver on this host (NVML library not found)")
    v = verdict(svc(), none_here, ())
    assert v.ok and v.reason.startswith("CPU only")
    v = verdict(svc(ASKED), none_here, ())
    assert not v.ok and "asked for a GPU, but this host has none" in v.reason
    v = verdict(svc(), ONE, ("runc", "nvidia"))
    assert not v.ok and v.reason == "host has 1 GPU, container asked for none"
    assert "reservations.devices" in v.fix
    v = verdict(svc(kind="swarm"), ONE, ("runc", "nvidia"))
    assert "generic" in v.fix
    v = verdict(svc(ASKED), ONE, ("runc",))
    assert not v.ok and "no nvidia runtime" in v.reason and "Container Toolkit" in v.fix
    v = verdict(svc(ASKED), ONE, ("runc", "nvidia"))
    assert v.ok and "check inside" in v.fix
    cpu_tf = Inside(tf_version="2.17.0", tf_gpus=0, tf_cuda=False, smi_gpus=1)
    v = verdict(svc(ASKED), ONE, ("nvidia",), cpu_tf)
    assert not v.ok and "tensorflow-cpu" in v.reason
    broken_cuda = Inside(tf_version="2.17.0", tf_gpus=0, tf_cuda=True, smi_gpus=1)
    v = verdict(svc(ASKED), ONE, ("nvidia",), broken_cuda)
    assert not v.ok and "cuDNN" in v.fix
    good = Inside(tf_version="2.17.0", tf_gpus=1, tf_cuda=True, smi_gpus=1, gpu_names=("H100",))
    v = verdict(svc(ASKED), ONE, ("nvidia",), good)
    assert v.ok and v.reason == "OK: TensorFlow sees GPU:0 (H100)"
    v = verdict(svc(ASKED), ONE, ("nvidia",), Inside(problem="exec timed out after 20s"))
    assert not v.ok and "timed out" in v.reason
    v = verdict(svc(ASKED), ONE, ("nvidia",), Inside(python=False, smi_gpus=1))
    assert v.ok and "no python" in v.reason
