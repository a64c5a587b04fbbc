"""The images the test suite runs, built offline from Debian packages (and the
TensorFlow CPU wheels from PyPI), each cached by a hash of its recipe; and the
virtualenvs of the real model servers the predict tests talk to (KServe, MLServer,
from PyPI; tests/servers.py), each cached by its pinned versions.

`make test` runs this file first, so a bare machine builds them once, outside any
test's time limit (a first build of all of them takes several minutes); on a
machine that has them it only looks each tag and venv up.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mltui.deploy.images import BASE_NAME, Recipe, ensure_image

# The image the engine tests run their containers from: small, with python3 and a shell.
TEST_BASE = Recipe(name=BASE_NAME, packages=("python3", "procps"), cmd=("sleep", "infinity"))


def build_all(log=print) -> list[str]:
    from helpers import fetch_tf_wheels, tf_cpu_recipe

    from mltui.deploy.stacks import DEMO_LB, DEMO_MODEL, DEMO_NOTEBOOK

    tags = [ensure_image(recipe, log) for recipe in (TEST_BASE, DEMO_LB, DEMO_MODEL, DEMO_NOTEBOOK)]
    tags.append(ensure_image(tf_cpu_recipe(), log, fetch=fetch_tf_wheels))
    return tags


def build_venvs(log=print) -> list[str]:
    from servers import build_all as build_server_venvs

    return [str(python.parent.parent) for python in build_server_venvs(log)]


if __name__ == "__main__":
    started = time.monotonic()
    for tag in build_all(lambda line: print(f"test images: {line}", flush=True)):
        print(f"test images: {tag}")
    for venv in build_venvs(lambda line: print(f"test venvs: {line}", flush=True)):
        print(f"test venvs: {venv}")
    print(f"test images and venvs: ready in {time.monotonic() - started:.0f} s")
