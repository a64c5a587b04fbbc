"""Running the docker CLI (and Compose) against the engine mltui watches.

Whatever named the engine to mltui names it to the CLI too: ``-H`` becomes
``docker -H URL`` (and ``DOCKER_HOST=URL`` for Compose, which reads the
environment), a docker context becomes ``--context NAME`` (``DOCKER_CONTEXT`` for
Compose), and ``DOCKER_HOST`` or the TLS variables in the environment reach the
child unchanged. A :class:`Call` is one command line and the variables it adds,
shown to the user exactly as it will run.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..core.engine import EngineTarget


@dataclass(frozen=True)
class Call:
    """One command line: argv, the environment variables it adds, its folder."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    cwd: str = ""

    @property
    def shown(self) -> str:
        """As a shell would take it: ``VAR=value docker ...``."""
        prefix = [f"{k}={shlex.quote(v)}" for k, v in self.env]
        return " ".join([*prefix, shlex.join(self.argv)])


@dataclass(frozen=True)
class Outcome:
    code: int
    output: str  # the last lines of stderr (else stdout)

    @property
    def ok(self) -> bool:
        return self.code == 0


def docker_argv(target: EngineTarget | None) -> tuple[str, ...]:
    """``docker`` with the options that name ``target`` the way mltui found it."""
    if target is None:
        return ("docker",)
    if target.source == "--host":
        return ("docker", "-H", target.base_url)
    if target.source.startswith("context "):
        return ("docker", "--context", target.source.removeprefix("context "))
    return ("docker",)  # DOCKER_HOST (inherited) or the local socket


def compose_env(target: EngineTarget | None) -> tuple[tuple[str, str], ...]:
    """The variables that name ``target`` to Compose, which has no ``-H`` in v2."""
    if target is None:
        return ()
    if target.source == "--host":
        return (("DOCKER_HOST", target.base_url),)
    if target.source.startswith("context "):
        return (("DOCKER_CONTEXT", target.source.removeprefix("context ")),)
    return ()


def _environment(call: Call) -> dict[str, str]:
    """The process environment with the call's variables; an engine named by
    DOCKER_HOST wins over an ambient DOCKER_CONTEXT, for actions and listings alike."""
    env = {**os.environ, **dict(call.env)}
    if any(k == "DOCKER_HOST" for k, _ in call.env):
        env.pop("DOCKER_CONTEXT", None)
    return env


def run_call(call: Call, timeout: float = 600.0) -> Outcome:
    """Run ``call`` (stdin closed), its output captured; never raises for a failure."""
    env = _environment(call)
    try:
        result = subprocess.run(
            call.argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            cwd=call.cwd or None,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return Outcome(127, f"{call.argv[0]}: not found")
    except subprocess.TimeoutExpired:
        return Outcome(124, f"no answer after {timeout:.0f}s")
    except OSError as exc:
        return Outcome(126, f"{call.argv[0]}: {exc.strerror or exc}")
    text = (result.stderr or result.stdout or "").strip()
    return Outcome(result.returncode, "\n".join(text.splitlines()[-8:]))


def run_output(call: Call, timeout: float = 60.0) -> Outcome:
    """Run ``call`` for its whole stdout (a listing); a failure is its stderr."""
    env = _environment(call)
    try:
        result = subprocess.run(
            call.argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Outcome(127, f"{call.argv[0]}: {exc}")
    if result.returncode != 0:
        return Outcome(result.returncode, (result.stderr or "").strip()[-2000:])
    return Outcome(0, result.stdout)


# -- which Compose made a project ---------------------------------------------
def _compose_candidates() -> list[tuple[str, ...]]:
    """``docker compose`` (the plugin), then each ``docker-compose`` on PATH and
    the one installed beside this Python (the ``docker-compose`` wheel)."""
    found: list[tuple[str, ...]] = [("docker", "compose")]
    seen: set[str] = set()
    paths = [*(os.environ.get("PATH") or "").split(os.pathsep), str(Path(sys.executable).parent)]
    for folder in paths:
        binary = shutil.which("docker-compose", path=folder) if folder else None
        if binary and os.path.realpath(binary) not in seen:
            seen.add(os.path.realpath(binary))
            found.append((binary,))
    return found


def compose_version(argv: tuple[str, ...]) -> str:
    """``version --short`` of a Compose, or "" when it does not run."""
    out = run_call(Call((*argv, "version", "--short")), timeout=30)
    return out.output.strip().lstrip("v") if out.ok else ""


def find_compose(major_one: bool) -> tuple[str, ...] | None:
    """A Compose of the family that made a project: v1 (1.x) or v2 and later."""
    for argv in _compose_candidates():
        version = compose_version(argv)
        if version and version.split(".")[0].isdigit() and version.startswith("1.") == major_one:
            return argv
    return None
