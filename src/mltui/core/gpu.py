"""GPU visibility: the host through NVML, the engine's runtimes, what each
service asked for, and one verdict per service with its reason and fix.

NVML is reached through :class:`Nvml`, a small interface over the functions of
nvidia-ml-py that mltui uses; :class:`RealNvml` calls the library, tests feed a
fake with values shaped exactly like nvidia-ml-py's (its own ctypes structures
and NVMLError classes). Nothing here raises on a host without GPUs: every NVML
failure becomes a sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .inventory import GpuRequest, Service, Snapshot


class Nvml(Protocol):
    """The part of nvidia-ml-py (module ``pynvml``) mltui calls."""

    def nvmlInit(self) -> None: ...
    def nvmlShutdown(self) -> None: ...
    def nvmlSystemGetDriverVersion(self) -> str: ...
    def nvmlSystemGetCudaDriverVersion(self) -> int: ...
    def nvmlDeviceGetCount(self) -> int: ...
    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any: ...
    def nvmlDeviceGetName(self, handle: Any) -> str: ...
    def nvmlDeviceGetUUID(self, handle: Any) -> str: ...
    def nvmlDeviceGetMemoryInfo(self, handle: Any) -> Any: ...
    def nvmlDeviceGetUtilizationRates(self, handle: Any) -> Any: ...
    def nvmlDeviceGetTemperature(self, handle: Any, sensor: int) -> int: ...
    def nvmlDeviceGetPowerUsage(self, handle: Any) -> int: ...
    def nvmlDeviceGetMigMode(self, handle: Any) -> Any: ...
    def nvmlDeviceGetComputeRunningProcesses(self, handle: Any) -> list[Any]: ...


class RealNvml:
    """nvidia-ml-py itself."""

    def __getattr__(self, name: str) -> Any:
        import pynvml

        return getattr(pynvml, name)


@dataclass(frozen=True)
class GpuProcess:
    pid: int
    memory_mib: float | None
    container_id: str = ""  # from /proc/PID/cgroup
    where: str = ""  # "stack/service (replica)" when the inventory knows it


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    uuid: str
    memory_used_mib: float | None
    memory_total_mib: float | None
    utilization: int | None  # %
    temperature: int | None  # C
    power_w: float | None
    mig: bool | None
    processes: tuple[GpuProcess, ...] = ()


@dataclass
class HostGpus:
    driver: str = ""
    cuda: str = ""  # "12.4"
    gpus: list[Gpu] = field(default_factory=list)
    problem: str = ""  # why NVML could not tell (no driver, mismatch, ...)

    @property
    def count(self) -> int:
        return len(self.gpus)


_NVML_PROBLEMS = {
    "NVMLError_LibraryNotFound": "no NVIDIA driver on this host (NVML library not found)",
    "NVMLError_DriverNotLoaded": "the NVIDIA driver is installed but not loaded",
    "NVMLError_LibRmVersionMismatch": "NVIDIA driver/library version mismatch: reboot, or reinstall the driver",
    "NVMLError_NoPermission": "no permission to read the GPUs through NVML",
    "NVMLError_GpuIsLost": "a GPU fell off the bus (GPU is lost): the host needs attention",
    "NVMLError_Uninitialized": "NVML is not initialised",
}


def nvml_problem(exc: BaseException) -> str:
    name = type(exc).__name__
    return _NVML_PROBLEMS.get(name, f"NVML failed: {exc}")


def _maybe(fn: Any, *args: Any) -> Any:
    """A value NVML may not support on this GPU: None then."""
    try:
        return fn(*args)
    except Exception as exc:  # NVMLError_NotSupported and kin
        if type(exc).__name__.startswith("NVMLError"):
            return None
        raise


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def read_host(nvml: Nvml | None = None, cgroup_root: Path = Path("/proc")) -> HostGpus:
    """Driver, CUDA, every GPU and its processes; a problem sentence instead of raising."""
    nvml = nvml or RealNvml()
    try:
        nvml.nvmlInit()
    except Exception as exc:
        if type(exc).__name__.startswith("NVMLError"):
            return HostGpus(problem=nvml_problem(exc))
        if isinstance(exc, (ImportError, OSError)):
            return HostGpus(problem=f"nvidia-ml-py cannot load: {exc}")
        raise
    host = HostGpus()
    try:
        host.driver = _text(_maybe(nvml.nvmlSystemGetDriverVersion) or "")
        cuda = _maybe(nvml.nvmlSystemGetCudaDriverVersion)
        if isinstance(cuda, int) and cuda > 0:
            host.cuda = f"{cuda // 1000}.{cuda % 1000 // 10}"
        count = nvml.nvmlDeviceGetCount()
        for index in range(count):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            memory = _maybe(nvml.nvmlDeviceGetMemoryInfo, handle)
            util = _maybe(nvml.nvmlDeviceGetUtilizationRates, handle)
            power = _maybe(nvml.nvmlDeviceGetPowerUsage, handle)
            mig = _maybe(nvml.nvmlDeviceGetMigMode, handle)
            procs = _maybe(nvml.nvmlDeviceGetComputeRunningProcesses, handle) or []
            host.gpus.append(
                Gpu(
                    index=index,
                    name=_text(nvml.nvmlDeviceGetName(handle)),
                    uuid=_text(_maybe(nvml.nvmlDeviceGetUUID, handle) or ""),
                    memory_used_mib=memory.used / 2**20 if memory is not None else None,
                    memory_total_mib=memory.total / 2**20 if memory is not None else None,
                    utilization=util.gpu if util is not None else None,
                    temperature=_maybe(nvml.nvmlDeviceGetTemperature, handle, 0),
                    power_w=power / 1000 if isinstance(power, int) else None,
                    mig=bool(mig[0]) if isinstance(mig, (list, tuple)) and mig else None,
                    processes=tuple(_process(p, cgroup_root) for p in procs),
                )
            )
    except Exception as exc:
        if not type(exc).__name__.startswith("NVMLError"):
            raise
        host.problem = nvml_problem(exc)
    finally:
        try:
            nvml.nvmlShutdown()
        except Exception:
            pass
    return host


_CONTAINER_ID = re.compile(r"(?:docker[-/]|/docker/|containerd/)([0-9a-f]{64})")


def container_of(pid: int, proc: Path = Path("/proc")) -> str:
    """The container a host PID runs in, from its cgroup path ("" if none)."""
    try:
        text = (proc / str(pid) / "cgroup").read_text()
    except OSError:
        return ""
    m = _CONTAINER_ID.search(text)
    return m.group(1) if m else ""


def _process(p: Any, proc: Path) -> GpuProcess:
    pid = int(getattr(p, "pid", 0))
    used = getattr(p, "usedGpuMemory", None)
    return GpuProcess(
        pid=pid,
        memory_mib=used / 2**20 if isinstance(used, int) and used >= 0 else None,
        container_id=container_of(pid, proc),
    )


def place_processes(host: HostGpus, snapshot: Snapshot | None) -> None:
    """Name the service and replica each GPU process runs in."""
    if snapshot is None:
        return
    where = {}
    for svc in snapshot.services():
        for rep in svc.replicas:
            if rep.container_id:
                where[rep.container_id] = f"{svc.label} ({rep.name})"
    for i, gpu in enumerate(host.gpus):
        procs = tuple(
            GpuProcess(p.pid, p.memory_mib, p.container_id, where.get(p.container_id, ""))
            for p in gpu.processes
        )
        host.gpus[i] = Gpu(**{**gpu.__dict__, "processes": procs})


# -- inside a container --------------------------------------------------------------
@dataclass(frozen=True)
class Inside:
    """What a container sees (filled by an on-demand check)."""

    python: bool = True
    tf_version: str = ""  # "" when TensorFlow is not installed
    tf_gpus: int | None = None
    tf_cuda: bool | None = None
    torch_version: str = ""
    torch_gpus: int | None = None
    smi_gpus: int | None = None  # nvidia-smi -L lines, None when there is no nvidia-smi
    gpu_names: tuple[str, ...] = ()
    problem: str = ""  # exec denied, timeout, ...


# -- the verdict -------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str
    fix: str = ""


def asked_for_gpu(req: GpuRequest | None) -> bool:
    return req is not None and bool(req.summary)


def verdict(
    service: Service,
    host: HostGpus,
    runtimes: tuple[str, ...],
    inside: Inside | None = None,
) -> Verdict:
    """Does ``service`` get the GPU, and if not, why and what to do."""
    asked = asked_for_gpu(service.gpu)
    if inside is not None and inside.problem:
        return Verdict(False, f"cannot look inside: {inside.problem}")
    if inside is not None and inside.tf_gpus:
        name = inside.gpu_names[0] if inside.gpu_names else "a GPU"
        return Verdict(True, f"OK: TensorFlow sees GPU:0 ({name})")
    if inside is not None and inside.torch_gpus:
        return Verdict(True, f"OK: PyTorch sees {inside.torch_gpus} CUDA device(s)")
    if host.count == 0:
        why = host.problem or "NVML reports no GPU"
        if asked:
            return Verdict(
                False,
                f"asked for a GPU, but this host has none: {why}",
                "run it on a host with an NVIDIA GPU and driver",
            )
        return Verdict(True, f"CPU only: no GPU on this host ({why}) and none asked for")
    gpus = f"host has {host.count} GPU" + ("s" if host.count > 1 else "")
    if not asked:
        return Verdict(
            False,
            f"{gpus}, container asked for none",
            "add deploy.resources.reservations.devices (capabilities: [gpu]) to the service"
            if service.kind != "swarm"
            else "give the node generic resources (NVIDIA-GPU) and the service "
            "--generic-resource NVIDIA-GPU=1",
        )
    if "nvidia" not in runtimes:
        return Verdict(
            False,
            "asked for a GPU but the engine has no nvidia runtime",
            "install the NVIDIA Container Toolkit (nvidia-ctk runtime configure --runtime=docker)",
        )
    if inside is None:
        return Verdict(
            True,
            f"asked for {service.gpu.summary if service.gpu else 'a GPU'}; {gpus}",
            "check inside to confirm",
        )
    if inside.smi_gpus and inside.tf_version and inside.tf_cuda is False:
        return Verdict(
            False,
            f"nvidia-smi sees {inside.smi_gpus} GPU but TensorFlow sees 0: this TensorFlow "
            "build has no CUDA (tensorflow-cpu?)",
            "install the CUDA build: pip install tensorflow[and-cuda]",
        )
    if inside.smi_gpus == 0 or (inside.smi_gpus is None and inside.tf_gpus == 0):
        return Verdict(
            False, "the container sees no GPU", "check the device request and the toolkit's logs"
        )
    if inside.tf_version and inside.tf_gpus == 0:
        return Verdict(
            False,
            f"nvidia-smi sees {inside.smi_gpus} GPU but TensorFlow {inside.tf_version} sees 0",
            "CUDA/cuDNN libraries missing or not matching this TensorFlow",
        )
    if not inside.python:
        return Verdict(
            True, f"nvidia-smi sees {inside.smi_gpus} GPU (no python to ask a framework)"
        )
    return Verdict(True, f"nvidia-smi sees {inside.smi_gpus} GPU; no framework installed to ask")


# The read-only probe run inside a container (python3 -c): which frameworks are
# there and what they see; one JSON line behind a marker.
INSIDE_SCRIPT = r"""
import importlib.util, json, os, shutil, subprocess
out = {"python": True}
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if importlib.util.find_spec("tensorflow") is not None:
    try:
        import tensorflow as tf
        out["tf_version"] = tf.__version__
        out["tf_cuda"] = bool(tf.test.is_built_with_cuda())
        gpus = tf.config.list_physical_devices("GPU")
        out["tf_gpus"] = len(gpus)
        names = []
        for g in gpus:
            try:
                names.append(tf.config.experimental.get_device_details(g).get("device_name", g.name))
            except Exception:
                names.append(g.name)
        out["gpu_names"] = names
    except Exception as exc:
        out["tf_error"] = type(exc).__name__ + ": " + str(exc)[:200]
if importlib.util.find_spec("torch") is not None:
    try:
        import torch
        out["torch_version"] = torch.__version__
        out["torch_gpus"] = torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception as exc:
        out["torch_error"] = type(exc).__name__ + ": " + str(exc)[:200]
smi = shutil.which("nvidia-smi")
if smi:
    try:
        lines = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10).stdout
        out["smi_gpus"] = sum(1 for line in lines.splitlines() if line.startswith("GPU "))
    except Exception:
        out["smi_gpus"] = 0
print("MLTUI-GPU " + json.dumps(out))
"""
_MARK = "MLTUI-GPU "


def check_inside(engine: Any, container_id: str, timeout: float = 60.0) -> Inside:
    """Ask a running container what it sees: TensorFlow, PyTorch, nvidia-smi."""
    import json

    from .engine import EngineError, EngineUnavailable

    try:
        for python in ("python3", "python"):
            code, output = engine.exec_run(container_id, [python, "-c", INSIDE_SCRIPT], timeout)
            if code in (126, 127):
                continue  # no such interpreter
            text = output.decode("utf-8", "replace")
            line = next((ln for ln in text.splitlines() if ln.startswith(_MARK)), None)
            if line is None:
                return Inside(problem=f"the probe exited {code} without an answer")
            data = json.loads(line[len(_MARK) :])
            return Inside(
                python=True,
                tf_version=str(data.get("tf_version", "")),
                tf_gpus=data.get("tf_gpus"),
                tf_cuda=data.get("tf_cuda"),
                torch_version=str(data.get("torch_version", "")),
                torch_gpus=data.get("torch_gpus"),
                smi_gpus=data.get("smi_gpus"),
                gpu_names=tuple(str(n) for n in data.get("gpu_names") or ()),
                problem=str(data.get("tf_error") or ""),
            )
        # no python at all: nvidia-smi alone
        code, output = engine.exec_run(container_id, ["nvidia-smi", "-L"], 20)
        if code in (126, 127):
            return Inside(python=False)
        lines = output.decode("utf-8", "replace").splitlines()
        return Inside(python=False, smi_gpus=sum(1 for ln in lines if ln.startswith("GPU ")))
    except EngineUnavailable:
        raise
    except EngineError as exc:
        if exc.status in (403, 409):
            return Inside(problem=f"exec denied: {exc.message}")
        return Inside(problem=exc.message)
    except ValueError:
        return Inside(problem="the probe's answer is not JSON")


def describe_inside(inside: Inside) -> str:
    """One line: what the container sees."""
    if inside.problem:
        return inside.problem
    parts = []
    if not inside.python:
        parts.append("no python")
    elif not inside.tf_version:
        parts.append("TensorFlow not installed")
    else:
        cuda = "built with CUDA" if inside.tf_cuda else "built without CUDA"
        parts.append(f"TensorFlow {inside.tf_version}, {inside.tf_gpus or 0} GPUs, {cuda}")
    if inside.torch_version:
        parts.append(f"PyTorch {inside.torch_version}, {inside.torch_gpus or 0} CUDA devices")
    parts.append(
        "no nvidia-smi" if inside.smi_gpus is None else f"nvidia-smi: {inside.smi_gpus} GPUs"
    )
    return "; ".join(parts)
