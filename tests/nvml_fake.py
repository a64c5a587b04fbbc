"""The one fake mltui's tests use: NVML, since these machines have no GPU. It
answers with values shaped exactly like nvidia-ml-py's: its own ctypes
structures, and its NVMLError classes raised from their real error codes."""

from __future__ import annotations

import pynvml


class FakeNvml:
    """Recorded answers of nvidia-ml-py for a host: one dict per GPU."""

    def __init__(self, gpus=(), init_error=None, field_errors=None, driver="550.54.15", cuda=12040):
        self.gpus = list(gpus)
        self.init_error = init_error
        self.field_errors = field_errors or {}
        self.driver = driver
        self.cuda = cuda
        self.shutdown = False

    def _check(self, name):
        if name in self.field_errors:
            raise pynvml.NVMLError(self.field_errors[name])

    def nvmlInit(self):
        if self.init_error is not None:
            raise pynvml.NVMLError(self.init_error)

    def nvmlShutdown(self):
        self.shutdown = True

    def nvmlSystemGetDriverVersion(self):
        return self.driver

    def nvmlSystemGetCudaDriverVersion(self):
        return self.cuda

    def nvmlDeviceGetCount(self):
        self._check("count")
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index):
        return self.gpus[index]

    def nvmlDeviceGetName(self, h):
        return h["name"]

    def nvmlDeviceGetUUID(self, h):
        return h["uuid"]

    def nvmlDeviceGetMemoryInfo(self, h):
        return pynvml.c_nvmlMemory_t(total=h["total"], free=h["total"] - h["used"], used=h["used"])

    def nvmlDeviceGetUtilizationRates(self, h):
        return pynvml.c_nvmlUtilization_t(gpu=h["util"], memory=10)

    def nvmlDeviceGetTemperature(self, h, sensor):
        assert sensor == pynvml.NVML_TEMPERATURE_GPU
        return h["temp"]

    def nvmlDeviceGetPowerUsage(self, h):
        self._check("power")
        return h["power_mw"]

    def nvmlDeviceGetMigMode(self, h):
        self._check("mig")
        return [h.get("mig", 0), h.get("mig", 0)]

    def nvmlDeviceGetComputeRunningProcesses(self, h):
        return [
            pynvml.c_nvmlProcessInfo_t(pid=pid, usedGpuMemory=mem)
            for pid, mem in h.get("procs", [])
        ]


H100 = {
    "name": "NVIDIA H100 80GB HBM3",
    "uuid": "GPU-5d0b1a4e-0000-1111-2222-333344445555",
    "total": 81559 * 2**20,
    "used": 1024 * 2**20,
    "util": 37,
    "temp": 41,
    "power_mw": 118_000,
    "procs": [(4242, 1000 * 2**20)],
}
A10 = {**H100, "name": "NVIDIA A10", "uuid": "GPU-a10", "mig": 1, "procs": []}
