"""Build Debian base images without a registry: mmdebstrap, then `docker import`.

A recipe names a suite and a list of packages (plus optional Dockerfile lines
built on top with the classic builder). The image tag carries a hash of the
recipe, so an unchanged recipe is built once per machine and found by tag ever
after; a changed recipe gets a new tag. Nothing is ever pulled.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MIRROR = "http://deb.debian.org/debian"
# Documentation, man pages and translations are dropped: a third of the size, none of the use.
_DPKG_EXCLUDES = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/info/*",
)


class BuildError(Exception):
    """A build step failed; the message names the step and the reason."""


@dataclass(frozen=True)
class Recipe:
    name: str  # image repository, e.g. "mltui-test-base"
    packages: tuple[str, ...] = ("python3",)
    suite: str = "bookworm"
    mirror: str = DEFAULT_MIRROR
    dockerfile: str = ""  # lines after FROM <base>; empty: the base itself
    context: tuple[tuple[str, str], ...] = field(default=())  # (name in context, source path)
    cmd: tuple[str, ...] = ("/bin/bash",)

    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(
            json.dumps(
                {
                    "packages": sorted(self.packages),
                    "suite": self.suite,
                    "mirror": self.mirror,
                    "dockerfile": self.dockerfile,
                    "cmd": list(self.cmd),
                    "excludes": list(_DPKG_EXCLUDES),
                },
                sort_keys=True,
            ).encode()
        )
        for name, source in sorted(self.context):
            h.update(name.encode())
            path = Path(source)
            if path.is_dir():
                for file in sorted(p for p in path.rglob("*") if p.is_file()):
                    h.update(str(file.relative_to(path)).encode())
                    h.update(file.read_bytes())
            else:
                h.update(path.read_bytes())
        return h.hexdigest()[:12]

    @property
    def tag(self) -> str:
        return f"{self.name}:{self.digest()}"


def _docker(docker: tuple[str, ...] | None = None) -> list[str]:
    """The docker command line to run: ``docker`` (found on PATH) with the
    options that name the engine (``docker_argv``), the ambient engine when None."""
    found = shutil.which("docker")
    if not found:
        raise BuildError("the docker command is not installed")
    return [found, *(docker or ("docker",))[1:]]


def image_exists(tag: str, docker: tuple[str, ...] | None = None) -> bool:
    result = subprocess.run(
        [*_docker(docker), "image", "inspect", "--format", "{{.Id}}", tag],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0


def _run(
    step: str, cmd: list[str], log: Callable[[str], None], env: dict[str, str] | None = None
) -> None:
    log(f"{step}: {' '.join(cmd[:3])} ...")
    result = subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-12:])
        raise BuildError(f"{step} failed (exit {result.returncode}):\n{tail}")


BASE_NAME = "mltui-base"


def _base_recipe(recipe: Recipe) -> Recipe:
    """The bootstrapped root a Dockerfile recipe builds on: shared by every
    recipe with the same packages, so a machine bootstraps each set once."""
    return Recipe(
        name=BASE_NAME,
        packages=recipe.packages,
        suite=recipe.suite,
        mirror=recipe.mirror,
        cmd=recipe.cmd,
    )


def ensure_image(
    recipe: Recipe,
    log: Callable[[str], None] = lambda _m: None,
    fetch: Callable[[Path], None] | None = None,
    docker: tuple[str, ...] | None = None,
) -> str:
    """Return the recipe's tag, building the image first if this engine lacks it.

    ``fetch(folder)``, when given, puts downloads into the build context before a
    build (wheels, say): they are not part of the tag, so the Dockerfile must pin
    what it installs from them, and nothing is fetched while the image exists."""
    tag = recipe.tag
    if image_exists(tag):
        return tag
    if recipe.dockerfile:
        base_tag = ensure_image(_base_recipe(recipe), log)
        _build_on(recipe, base_tag, tag, log, fetch)
    else:
        _bootstrap(recipe, tag, log)
    return tag


def _bootstrap(
    recipe: Recipe, tag: str, log: Callable[[str], None], docker: tuple[str, ...] | None = None
) -> None:
    mmdebstrap = shutil.which("mmdebstrap")
    if not mmdebstrap:
        raise BuildError("mmdebstrap is not installed (Debian package 'mmdebstrap')")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mltui-base-") as tmp:
        tar = os.path.join(tmp, "rootfs.tar")
        cmd = [mmdebstrap, "--variant=apt", "--quiet"]
        if recipe.packages:
            cmd.append("--include=" + ",".join(recipe.packages))
        cmd += [f"--dpkgopt={opt}" for opt in _DPKG_EXCLUDES]
        cmd += [
            '--aptopt=Acquire::Retries "3"',
            recipe.suite,
            tar,
            f"deb {recipe.mirror} {recipe.suite} main",
        ]
        _run(f"bootstrap {recipe.name} ({recipe.suite}: {', '.join(recipe.packages)})", cmd, log)
        changes = [
            "--change",
            f"CMD {json.dumps(list(recipe.cmd))}",
            "--change",
            "ENV LANG=C.UTF-8",
        ]
        _run(f"import {tag}", [*_docker(docker), "import", *changes, tar, tag], log)
    log(f"built {tag} in {time.monotonic() - started:.0f}s")


def _build_on(
    recipe: Recipe,
    base_tag: str,
    tag: str,
    log: Callable[[str], None],
    fetch: Callable[[Path], None] | None = None,
    docker: tuple[str, ...] | None = None,
) -> None:
    with tempfile.TemporaryDirectory(prefix="mltui-build-") as tmp:
        if fetch is not None:
            fetch(Path(tmp))
        for name, source in recipe.context:
            dest = Path(tmp) / name
            if Path(source).is_dir():
                shutil.copytree(source, dest)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest)
        Path(tmp, "Dockerfile").write_text(f"FROM {base_tag}\n{recipe.dockerfile}\n")
        env = dict(os.environ, DOCKER_BUILDKIT="0")
        # --force-rm: a failed step leaves no stopped container behind
        argv = [*_docker(docker), "build", "-q", "--force-rm", "-t", tag, tmp]
        _run(f"build {tag}", argv, log, env=env)
