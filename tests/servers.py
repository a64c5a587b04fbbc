"""Real model servers for the tests: KServe's ModelServer (KServe V1) and MLServer
(Open Inference V2), each from PyPI in its own virtualenv, built once per machine.

A venv is cached under ``~/.cache/mltui-tests/venvs/<name>-<version>-py<X.Y>-<hash>``
(or ``$MLTUI_TEST_VENVS``), keyed by the pinned requirements and the Python that
runs the tests, like the images are keyed by their recipe: ``make test`` builds them
before pytest (tests/testimages.py), outside any test's time limit.

Each server serves the same small real model, a fixed linear classifier of 8x8 grey
images (64 pixels in 0..1 -> 10 class scores, ``x @ coef.T + intercept``), whose
weights a test writes to ``weights.npz``: the test can compute the classes itself.
:func:`serve_kserve` and :func:`serve_mlserver` start one on 127.0.0.1 on a free
port, wait for its ready endpoint (polled, bounded) and stop it afterwards.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from helpers import free_port, http_status, wait_for

VENV_ROOT = Path(
    os.environ.get("MLTUI_TEST_VENVS") or Path.home() / ".cache" / "mltui-tests" / "venvs"
)
SIDE, CLASSES = 8, 10  # the model: 8x8x1 grey images, 10 classes
READY_TIMEOUT = 120.0  # a cold start imports a few hundred MB of Python on 2 cores


@dataclass(frozen=True)
class ServerVenv:
    """A model server's virtualenv: the package and the pins that define its HTTP
    behaviour (the web framework under it and numpy)."""

    name: str
    requirements: tuple[str, ...]

    @property
    def version(self) -> str:
        return self.requirements[0].split("==", 1)[1]

    @property
    def key(self) -> str:
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        digest = hashlib.sha256("\n".join((python, *self.requirements)).encode()).hexdigest()
        return f"{self.name}-{self.version}-py{python}-{digest[:10]}"

    @property
    def folder(self) -> Path:
        return VENV_ROOT / self.key

    @property
    def python(self) -> Path:
        return self.folder / "bin" / "python"


KSERVE = ServerVenv(
    "kserve",
    (
        "kserve==0.21.0",
        "fastapi==0.165.0",
        "starlette==1.10.0",
        "uvicorn==0.55.0",
        "pydantic==2.14.4",
        "numpy==2.4.6",
    ),
)
MLSERVER = ServerVenv(
    "mlserver",
    (
        "mlserver==1.7.1",
        "fastapi==0.115.14",
        "starlette==0.46.2",
        "uvicorn==0.55.0",
        "pydantic==2.14.4",
        "numpy==2.4.6",
    ),
)
VENVS = (KSERVE, MLSERVER)
COMPLETE = ".mltui-complete"  # written last: a venv without it is a build that broke off


def ensure_venv(spec: ServerVenv, log: Callable[[str], object] = print) -> Path:
    """The venv's python, building the venv first where this machine has none.
    One build at a time per venv (a lock file), so parallel runs wait for it."""
    marker = spec.folder / COMPLETE
    if marker.is_file():
        return spec.python
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    with open(VENV_ROOT / f"{spec.key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file():  # another process built it while this one waited
            return spec.python
        shutil.rmtree(spec.folder, ignore_errors=True)
        started = time.monotonic()
        log(f"building {spec.key} ({' '.join(spec.requirements)})")
        _run([sys.executable, "-m", "venv", str(spec.folder)])
        _run([str(spec.python), "-m", "pip", "install", "--quiet", *spec.requirements])
        marker.write_text("\n".join(spec.requirements) + "\n")
        log(f"built {spec.key} in {time.monotonic() - started:.0f} s")
    return spec.python


def _run(command: list[str]) -> None:
    out = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if out.returncode != 0:
        tail = "\n".join((out.stdout + out.stderr).splitlines()[-30:])
        raise RuntimeError(f"{' '.join(command)} exited {out.returncode}:\n{tail}")


def build_all(log: Callable[[str], object] = print) -> list[Path]:
    return [ensure_venv(spec, log) for spec in VENVS]


# ---- the model, as each server runs it -------------------------------------------

KSERVE_MODEL = '''
"""A KServe V1 custom model: 8x8 grey images -> 10 linear class scores."""
import os

import kserve
import numpy as np


class LinearDigits(kserve.Model):
    def __init__(self, name, weights):
        super().__init__(name)
        data = np.load(weights)
        self.coef, self.intercept = data["coef"], data["intercept"]
        self.ready = True

    def predict(self, payload, headers=None, response_headers=None):
        x = np.asarray(payload["instances"], dtype=np.float64)
        n = len(x)
        if x.size != n * 64:  # KServe answers 500 {"error": "ValueError : ..."}
            raise ValueError(f"expected 64 pixels per image (8x8x1), got {x.size // max(n, 1)}")
        scores = x.reshape(n, 64) @ self.coef.T + self.intercept
        return {"predictions": scores.tolist()}


if __name__ == "__main__":
    model = LinearDigits(os.environ["MODEL_NAME"], os.environ["WEIGHTS"])
    kserve.ModelServer(http_port=int(os.environ["PORT"]), enable_grpc=False, workers=1).start(
        [model]
    )
'''

MLSERVER_RUNTIME = '''
"""An MLServer custom runtime: V2 tensors of 8x8 grey images -> 10 linear class scores."""
import numpy as np
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.errors import InferenceError
from mlserver.types import InferenceRequest, InferenceResponse


class LinearDigits(MLModel):
    async def load(self):
        data = np.load(self.settings.parameters.uri)
        self.coef, self.intercept = data["coef"], data["intercept"]
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        x = NumpyCodec.decode_input(payload.inputs[0]).astype(np.float64)
        n = len(x)
        if x.size != n * 64:  # MLServer answers 400 {"error": ...}
            raise InferenceError(f"expected 64 pixels per image (8x8x1), got {x.size // max(n, 1)}")
        scores = x.reshape(n, 64) @ self.coef.T + self.intercept
        return InferenceResponse(
            model_name=self.name,
            id=payload.id,
            outputs=[NumpyCodec.encode_output("scores", scores.astype(np.float32))],
        )
'''


@dataclass(frozen=True)
class RunningServer:
    url: str
    model: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def _process(
    command: list[str], cwd: Path, env: dict[str, str], ready_url: str, name: str
) -> Iterator[Path]:
    """Run ``command`` until the block ends; ready once ``ready_url`` answers 200."""
    log = cwd / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: its workers stop with it
        )
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:]
                raise AssertionError(f"{name} exited {proc.returncode} before ready:\n{tail}")
            return http_status(ready_url, timeout=2.0) == 200

        wait_for(f"{name} at {ready_url}", ready, timeout=READY_TIMEOUT, interval=0.2)
        yield log
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@contextmanager
def serve_kserve(folder: Path, model: str, weights: Path) -> Iterator[RunningServer]:
    """KServe's ModelServer with :data:`KSERVE_MODEL` under ``model``."""
    python = ensure_venv(KSERVE)
    script = folder / "kserve_model.py"
    script.write_text(KSERVE_MODEL)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"MODEL_NAME": model, "WEIGHTS": str(weights), "PORT": str(port)}
    with _process(
        [str(python), str(script)], folder, env, f"{url}/v1/models/{model}", "kserve"
    ) as log:
        yield RunningServer(url, model, log)


def _model_settings(model: str, parameters: dict[str, str]) -> str:
    """An MLServer model-settings.json for :data:`MLSERVER_RUNTIME` under ``model``,
    its input declared (what the V2 metadata endpoint reports)."""
    return json.dumps(
        {
            "name": model,
            "implementation": "runtime.LinearDigits",
            "parameters": parameters,
            "inputs": [{"name": "pixels", "datatype": "FP32", "shape": [-1, SIDE, SIDE, 1]}],
            "outputs": [{"name": "scores", "datatype": "FP32", "shape": [-1, CLASSES]}],
        }
    )


@contextmanager
def _mlserver(folder: Path, model: str, ready_path: str) -> Iterator[RunningServer]:
    """MLServer serving the model-settings.json files already written under
    ``folder`` with :data:`MLSERVER_RUNTIME`; ready once ``ready_path`` (below the
    model's ``/v2/models/<model>/``) answers 200."""
    python = ensure_venv(MLSERVER)
    (folder / "runtime.py").write_text(MLSERVER_RUNTIME)
    port, grpc_port = free_port(), free_port()
    settings = {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": grpc_port,
        "metrics_endpoint": None,
        "parallel_workers": 0,
        "debug": False,
    }
    (folder / "settings.json").write_text(json.dumps(settings))
    url = f"http://127.0.0.1:{port}"
    with _process(
        [str(python), "-m", "mlserver.cli.main", "start", str(folder)],
        folder,
        {"PYTHONPATH": str(folder)},
        f"{url}/v2/models/{model}/{ready_path}",
        "mlserver",
    ) as log:
        yield RunningServer(url, model, log)


@contextmanager
def serve_mlserver(folder: Path, model: str, weights: Path) -> Iterator[RunningServer]:
    """MLServer with :data:`MLSERVER_RUNTIME` under ``model``, its input declared
    in model-settings.json (what the V2 metadata endpoint reports)."""
    (folder / "model-settings.json").write_text(_model_settings(model, {"uri": str(weights)}))
    with _mlserver(folder, model, "ready") as server:
        yield server


@contextmanager
def serve_mlserver_versions(
    folder: Path, model: str, weights: dict[str, Path]
) -> Iterator[RunningServer]:
    """MLServer serving several versions of ``model`` (version -> weights), one
    model-settings.json per version in its own subfolder, each with its
    ``parameters.version``: the Open Inference Protocol's ``/versions/V`` paths."""
    for version, path in weights.items():
        sub = folder / f"{model}-{version}"
        sub.mkdir()
        parameters = {"uri": str(path), "version": version}
        (sub / "model-settings.json").write_text(_model_settings(model, parameters))
    last = list(weights)[-1]
    with _mlserver(folder, model, f"versions/{last}/ready") as server:
        for version in weights:  # every version, not only the last, before the tests
            wait_for(
                f"version {version}",
                lambda v=version: (
                    http_status(f"{server.url}/v2/models/{model}/versions/{v}/ready") == 200
                ),
                timeout=READY_TIMEOUT,
                interval=0.2,
            )
        yield server
