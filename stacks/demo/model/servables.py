"""The models and versions the server holds, as TF Serving's ServerCore holds them.

Without a model config file: MODEL_NAME under MODEL_BASE_PATH, its latest version
only (TF Serving's default policy). With `--model_config_file=`: each config's
versions by its `model_version_policy` (latest N, all, specific) and its
`version_labels`. A version folder that does not hold a model ends in state END
with the error TF Serving gives for a folder without a SavedModel (NOT_FOUND);
a label naming a version that is not available is refused, as TF Serving refuses
it, and logged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from serving_config import ModelConfig
from tf_json import ServingError


def log(level: str, where: str, message: str) -> None:
    import sys

    now = time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}"
    sys.stdout.write(f"{stamp}: {level} {where}] {message}\n")
    sys.stdout.flush()


class Model:
    def __init__(self, name: str, version: str, folder: Path) -> None:
        data = np.load(folder / "weights.npz")
        self.name = name
        self.version = version
        self.coef = data["coef"].astype(np.float64)  # [10, 64]
        self.intercept = data["intercept"].astype(np.float64)  # [10]
        # the input side this version takes: 224 unless side.txt says (a multiple of 8)
        side_file = folder / "side.txt"
        self.side = int(side_file.read_text()) if side_file.is_file() else 224
        if self.side < 8 or self.side % 8:
            raise ValueError(f"side {self.side} is not a multiple of 8")

    def predict(self, images: np.ndarray) -> np.ndarray:
        """[n, side, side, 3] in 0..1 -> [n, 10] class probabilities."""
        gray = images.mean(axis=3)
        # 224 = 8 * 28: average each 28x28 block back to the data set's 8x8, range 0..16
        block = self.side // 8
        small = gray.reshape(len(images), 8, block, 8, block).mean(axis=(2, 4)) * 16.0
        logits = small.reshape(len(images), 64) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        expd = np.exp(logits)
        return expd / expd.sum(axis=1, keepdims=True)


@dataclass
class Servable:
    version: int
    state: str = "START"
    error_code: str = "OK"
    error_message: str = ""
    model: Model | None = None

    def status(self) -> dict:
        return {
            "version": str(self.version),
            "state": self.state,
            "status": {"error_code": self.error_code, "error_message": self.error_message},
        }


@dataclass
class Served:
    name: str
    versions: dict[int, Servable] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)


def _on_disk(base: Path) -> list[int]:
    if not base.is_dir():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.name.isdigit() and p.is_dir())


def _wanted(config: ModelConfig, found: list[int]) -> list[int]:
    if config.policy == "all":
        return found
    if config.policy == "specific":
        return sorted(v for v in config.specific if v in found)
    return found[-max(1, config.num_versions) :]


def load(configs: list[ModelConfig]) -> dict[str, Served]:
    out: dict[str, Served] = {}
    for config in configs:
        served = out.setdefault(config.name, Served(config.name))
        base = Path(config.base_path)
        found = _on_disk(base)
        if not found:
            log(
                "W",
                "file_system_storage_path_source.cc:269",
                f"No versions of servable {config.name} found under base path {base}.",
            )
        for version in _wanted(config, found):
            servable = served.versions[version] = Servable(version, "LOADING")
            spec = f"{{name: {config.name} version: {version}}}"
            log(
                "I",
                "tensorflow_serving/core/loader_harness.cc:66",
                f"Approving load for servable version {spec}",
            )
            folder = base / str(version)
            try:
                servable.model = Model(config.name, str(version), folder)
            except (OSError, KeyError, ValueError):
                servable.state, servable.error_code = "END", "NOT_FOUND"
                servable.error_message = (
                    "Could not find SavedModel .pb or .pbtxt at supplied export directory "
                    f"path: {folder}. Check that the directory exists and that you have the "
                    "right permissions for accessing it."
                )
                log(
                    "E",
                    "tensorflow_serving/util/retrier.cc:40",
                    f"Loading servable: {spec} failed: {servable.error_message}",
                )
                continue
            servable.state = "AVAILABLE"
            log(
                "I",
                "tensorflow_serving/core/loader_harness.cc:95",
                f"Successfully loaded servable version {spec}",
            )
        for label, version in config.labels.items():
            if (
                served.versions.get(version) is None
                or served.versions[version].state != "AVAILABLE"
            ):
                log(
                    "E",
                    "tensorflow_serving/model_servers/server_core.cc:0",
                    f"Request to assign label to version {version} of model {config.name}, which is not currently available for inference",
                )
                continue
            served.labels[label] = version
    return out


class Registry:
    """What ServerCore answers: status by name and version, a servable by spec."""

    def __init__(self, models: dict[str, Served]) -> None:
        self.models = models

    def status(self, name: str, version: str | None) -> dict:
        """GetModelStatusImpl: labels play no part; newest version first (the
        monitor's VersionMap is ordered by std::greater)."""
        served = self.models.get(name)
        if version is not None:
            servable = served.versions.get(int(version)) if served else None
            if servable is None:
                raise ServingError(404, f"Could not find version {int(version)} of model {name}")
            return {"model_version_status": [servable.status()]}
        if not served or not served.versions:
            raise ServingError(404, f"Could not find any versions of model {name}")
        return {
            "model_version_status": [
                s.status() for _, s in sorted(served.versions.items(), reverse=True)
            ]
        }

    def servable(self, name: str, version: str | None, label: str | None) -> Model:
        """ServerCore::GetServableHandle: a label must be known, then name and version."""
        served = self.models.get(name)
        if label is not None:
            if served is None or label not in served.labels:
                raise ServingError(400, f"Unrecognized servable version label: {label}")
            version = str(served.labels[label])
        if version is not None:
            servable = served.versions.get(int(version)) if served else None
            if servable is None or servable.model is None:
                raise ServingError(
                    404, f"Servable not found for request: Specific({name}, {int(version)})"
                )
            return servable.model
        ready = [s for _, s in sorted(served.versions.items()) if s.model] if served else []
        if not ready:
            raise ServingError(404, f"Servable not found for request: Latest({name})")
        return ready[-1].model
