"""The ready stacks in stacks/: where they are and the images they are built from."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core.engine import EngineTarget
from ..core.inventory import Inventory, Snapshot
from .dockercli import Call, compose_env, docker_argv, run_call
from .images import BuildError, Recipe, ensure_image, image_exists


def _stacks_dir() -> Path:
    """stacks/ inside the installed package (wheels), else the repository's (editable installs)."""
    packaged = Path(__file__).resolve().parents[1] / "stacks"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[3] / "stacks"


STACKS_DIR = _stacks_dir()
DEMO_DIR = STACKS_DIR / "demo"

# The demo's model server: trained on scikit-learn's bundled digits while the
# image is built, served with numpy alone behind the TensorFlow Serving REST API.
# Two versions in timestamped folders, trained differently (stable, canary), both
# served by a TF Serving model config file with those labels; metrics turned on by
# a monitoring config file. The CMD lives in the Dockerfile lines so that the
# bootstrapped base (which carries the recipe's cmd) stays the one already built.
DEMO_MODEL_VERSIONS = {"stable": 1764547200, "canary": 1767225600}
DEMO_MODEL_CONFIG = "/srv/model/models.config"
DEMO_MONITORING_CONFIG = "/srv/model/monitoring.config"
DEMO_MODEL = Recipe(
    name="mltui-demo-model",
    packages=("python3", "python3-numpy", "python3-sklearn", "python3-pil"),
    cmd=("python3", "/srv/model/server.py"),
    dockerfile="\n".join(
        [
            "COPY model /srv/model",
            *(
                f"RUN python3 /srv/model/train.py /models/my_model/{version} --variant {variant}"
                for variant, version in DEMO_MODEL_VERSIONS.items()
            ),
            "ENV MODEL_NAME=my_model MODEL_BASE_PATH=/models",
            "EXPOSE 8501",
            'CMD ["python3", "/srv/model/server.py", '
            f'"--model_config_file={DEMO_MODEL_CONFIG}", '
            f'"--monitoring_config_file={DEMO_MONITORING_CONFIG}"]',
        ]
    ),
    context=(("model", str(DEMO_DIR / "model")),),
)


# nginx from Debian, round-robin in front of the model replicas (see lb/nginx.conf).
DEMO_LB = Recipe(
    name="mltui-demo-lb",
    packages=("nginx",),
    cmd=("nginx", "-c", "/etc/mltui/nginx.conf", "-g", "daemon off;"),
    dockerfile="COPY lb/nginx.conf /etc/mltui/nginx.conf\nEXPOSE 8501",
    context=(("lb", str(DEMO_DIR / "lb")),),
)
# Jupyter Notebook 6 from Debian, token auth (a new random token each start).
DEMO_NOTEBOOK = Recipe(
    name="mltui-demo-notebook",
    packages=("python3", "jupyter-notebook", "python3-numpy", "python3-requests", "python3-pil"),
    cmd=(
        "jupyter-notebook",
        "--ip=0.0.0.0",
        "--port=8888",
        "--no-browser",
        "--allow-root",
        "--notebook-dir=/work",
    ),
    dockerfile="RUN mkdir -p /work\nWORKDIR /work\nEXPOSE 8888",
)
DEMO_COMPOSE = DEMO_DIR / "compose.yml"  # docker compose up
DEMO_STACK = DEMO_DIR / "stack.yml"  # docker stack deploy: the notebook in the host's network


# -- the demo's life cycle: build, deploy, wait, remove ------------------------------
DEMO_SERVICES = {"model": 4, "lb": 1, "notebook": 1}


class DemoError(Exception):
    """A demo step failed; the message names the step and the reason.
    ``deployed``: whether anything may have reached the engine before it failed."""

    def __init__(self, message: str, deployed: bool = True) -> None:
        super().__init__(message)
        self.deployed = deployed


@dataclass(frozen=True)
class DemoPlan:
    name: str = "mltui-demo"
    mode: str = "swarm"  # swarm | compose
    port: int = 8501
    notebook_port: int = 8888

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def demo_images(
    log: Callable[[str], None], docker: tuple[str, ...] | None = None
) -> dict[str, str]:
    """Build (or find by tag) the demo's images on the engine ``docker`` names
    (``dockercli.docker_argv``); the environment the stack files read."""
    env = {}
    for var, recipe in (
        ("MLTUI_DEMO_MODEL", DEMO_MODEL),
        ("MLTUI_DEMO_LB", DEMO_LB),
        ("MLTUI_DEMO_NOTEBOOK", DEMO_NOTEBOOK),
    ):
        cached = image_exists(recipe.tag, docker)
        log(f"image {recipe.tag}: {'cached' if cached else 'building'}")
        try:
            env[var] = ensure_image(recipe, log, docker=docker)
        except BuildError as exc:
            raise DemoError(f"building {recipe.name} failed: {exc}") from None
    return env


def compose_command() -> list[str]:
    """`docker compose` (v2+) where the plugin exists, else `docker-compose`.
    Compose v1 needs --compatibility to honour deploy.replicas."""
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, check=False
    )
    if probe.returncode == 0:
        return ["docker", "compose"]
    binary = shutil.which("docker-compose")
    if binary is None:
        raise DemoError("no Compose found: install the docker compose plugin or docker-compose")
    version = subprocess.run(
        [binary, "version", "--short"], capture_output=True, text=True, check=False
    ).stdout
    return [binary, "--compatibility"] if version.strip().startswith("1.") else [binary]


def _run_step(step: str, cmd: list[str], env: dict[str, str]) -> None:
    outcome = run_call(Call(tuple(cmd), tuple(env.items())))
    if not outcome.ok:
        raise DemoError(f"{step} failed (exit {outcome.code}):\n{outcome.output}")


def demo_env(plan: DemoPlan, images: dict[str, str]) -> dict[str, str]:
    return {
        **images,
        "MLTUI_DEMO_PORT": str(plan.port),
        "MLTUI_DEMO_NOTEBOOK_PORT": str(plan.notebook_port),
    }


def demo_file(plan: DemoPlan) -> Path:
    return DEMO_STACK if plan.mode == "swarm" else DEMO_COMPOSE


def deploy_demo(
    plan: DemoPlan,
    images: dict[str, str],
    inventory: Inventory,
    target: EngineTarget | None = None,
) -> None:
    """The demo's file deployed the way `mltui up` deploys one (its images are
    built from recipes, not from build: sections), on the engine ``target`` names."""
    from .actions import ActionError, execute
    from .up import plan_up

    os.environ.update(demo_env(plan, images))  # what the file and the CLI read
    try:
        up = plan_up(
            inventory.snapshot(), str(demo_file(plan)), target, plan.name, plan.mode, build=False
        )
    except ActionError as exc:
        raise DemoError(f"deploying {plan.name} with {plan.mode}: {exc}", deployed=False) from None
    result = execute(up, inventory, lambda _line: None, detach=True)
    if not result.ok:
        raise DemoError(result.message)


def remove_demo(
    plan: DemoPlan, images: dict[str, str] | None = None, target: EngineTarget | None = None
) -> None:
    env = demo_env(
        plan, images or {"MLTUI_DEMO_MODEL": "-", "MLTUI_DEMO_LB": "-", "MLTUI_DEMO_NOTEBOOK": "-"}
    )
    if plan.mode == "swarm":
        cmd = [*docker_argv(target), "stack", "rm", plan.name]
    else:
        cmd = [*compose_command(), "-p", plan.name, "-f", str(DEMO_COMPOSE), "down", "-t", "2"]
        env.update(compose_env(target))
    _run_step(f"removing {plan.name}", cmd, env)


def demo_progress(snapshot: Snapshot, plan: DemoPlan) -> dict[str, tuple[int, int]]:
    """running/desired of each demo service in a snapshot."""
    found = {
        svc.name: (svc.running, svc.desired)
        for stack in snapshot.stacks
        if stack.name == plan.name
        for svc in stack.services
    }
    return {name: found.get(name, (0, want)) for name, want in DEMO_SERVICES.items()}


def model_answers(plan: DemoPlan) -> bool:
    import requests

    try:
        return requests.get(f"{plan.url}/v1/models/my_model", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wait_demo(
    plan: DemoPlan,
    inventory: Inventory,
    report: Callable[[dict[str, tuple[int, int]]], None],
    timeout: float = 180.0,
) -> None:
    """Until every replica runs and the balancer answers; DemoError on time-out."""
    deadline = time.monotonic() + timeout
    progress: dict[str, tuple[int, int]] = {}
    while time.monotonic() < deadline:
        progress = demo_progress(inventory.snapshot(), plan)
        report(progress)
        if all(have >= want for have, want in progress.values()) and model_answers(plan):
            return
        time.sleep(0.5)
    waiting = (
        ", ".join(f"{n} {h}/{w}" for n, (h, w) in progress.items() if h < w)
        or "the balancer's answer"
    )
    raise DemoError(
        f"waiting for {plan.name} timed out after {timeout:.0f}s: still waiting for {waiting}"
    )
