from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

# No test reads the configuration of whoever runs the suite: a config test names its own.
os.environ["MLTUI_CONFIG"] = str(Path(__file__).resolve().parent / "no-such-config.toml")
# ... nor what the UI remembered for them (a theme picked in the palette)
os.environ["MLTUI_STATE"] = os.path.join(tempfile.mkdtemp(prefix="mltui-state-"), "state.json")

from helpers import docker

atexit.register(shutil.rmtree, os.path.dirname(os.environ["MLTUI_STATE"]), True)


@pytest.fixture(scope="session")
def engine_info():
    """The real engine every engine test talks to; its absence is a failure, not a skip."""
    from mltui.core.engine import Engine, EngineUnavailable

    engine = Engine()
    try:
        info = engine.info()
    except EngineUnavailable as exc:
        pytest.fail(f"{exc.message}\nStart one with tools/engine-up (make test does this).")
    finally:
        engine.close()
    return info


@pytest.fixture(scope="session")
def swarm(engine_info):
    if engine_info.swarm != "active" or not engine_info.swarm_manager:
        pytest.fail(
            "the engine is not a swarm manager: run tools/engine-up (docker swarm init --advertise-addr 127.0.0.1)"
        )
    return engine_info


@pytest.fixture(scope="session")
def test_image(engine_info) -> str:
    """A small Debian image with python3, built offline once per machine (cached by recipe hash)."""
    from testimages import TEST_BASE

    from mltui.deploy.images import ensure_image

    return ensure_image(TEST_BASE)


# A prefix for everything this test run creates, so runs never collide.
RUN_ID = "mltuitest" + uuid.uuid4().hex[:6]


@pytest.fixture(scope="session")
def run_id() -> str:
    return RUN_ID


@pytest.fixture
def container_factory(test_image, run_id):
    """Start containers from the test image; all are removed afterwards."""
    made: list[str] = []

    def make(
        name: str,
        *args: str,
        command: tuple[str, ...] = ("sleep", "infinity"),
        create_only: bool = False,
    ) -> str:
        full = f"{run_id}-{name}"
        verb = "create" if create_only else "run"
        extra = [] if create_only else ["-d"]
        cid = docker(
            verb,
            *extra,
            "--name",
            full,
            "--label",
            f"mltui.test={run_id}",
            *args,
            test_image,
            *command,
        ).strip()
        made.append(cid)
        return full

    yield make
    if made:
        docker("rm", "-f", *made, check=False)


def pytest_sessionfinish(session, exitstatus):
    # Remove anything a crashed test left behind (containers only: stacks and
    # projects clean up in their own fixtures).
    if os.environ.get("MLTUI_KEEP_TEST_CONTAINERS"):
        return
    # only this run's: another test session may be using the same engine
    out = docker("ps", "-aq", "--filter", f"label=mltui.test={RUN_ID}", check=False)
    ids = out.split()
    if ids:
        docker("rm", "-f", *ids, check=False)
