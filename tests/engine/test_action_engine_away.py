"""An engine that goes away mid-rollout (prefix h14rest): a second dockerd
(tests/second_engine.py) runs a swarm stack of two replicas whose rolling update
waits long between them; `mltui -H X restart` replaces the first, and the engine
is killed while it waits for the second. mltui stops waiting, says the engine
went away and where the rollout stopped (1/2 replaced), exit 1; once the engine
is back, `mltui -H X ps` shows the service as the engine has it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from helpers import wait_for
from second_engine import SecondEngine
from test_actions_real import mltui

pytestmark = pytest.mark.engine

# one replica at a time, a long pause between them: the rollout is half done for minutes
FILE = """\
version: "3.8"
services:
  app:
    image: {image}
    command: [sleep, infinity]
    stop_grace_period: 1s
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
      update_config:
        parallelism: 1
        delay: 300s
        order: stop-first
"""


def _addresses(device: str) -> list[str]:
    out = subprocess.run(["ip", "-o", "-4", "addr", "show", "dev", device], capture_output=True)
    return sorted(line.split()[3] for line in out.stdout.decode().splitlines())


@pytest.fixture(scope="module")
def swarm_engine(test_image):
    engine = SecondEngine()
    try:
        engine.start()
        engine.load_image(test_image)
        engine.swarm_init()
        device = engine.gwbridge
        # its swarm's gateway bridge is its own device, not the main engine's
        option = '{{index .Options "com.docker.network.bridge.name"}}'
        assert (
            engine.docker("network", "inspect", "-f", option, "docker_gwbridge").strip() == device
        )
        assert _addresses(device), engine.log_tail()
        yield engine
    finally:
        engine.close()


def _ps(engine: SecondEngine, stack: str) -> dict | None:
    out = mltui("-H", engine.url, "ps", "--json")
    if out.returncode != 0:
        return None
    data = json.loads(out.stdout)
    return next((s for st in data["stacks"] if st["name"] == stack for s in st["services"]), None)


def _engine_replicas(engine: SecondEngine, stack: str) -> str:
    """The engine's own running/desired of the service, as `docker service ls` says it."""
    return engine.docker(
        "service", "ls", "--filter", f"name={stack}_app", "--format", "{{.Replicas}}"
    ).strip()


def test_an_engine_that_goes_away_mid_rollout(swarm_engine, test_image, run_id, tmp_path):
    engine = swarm_engine
    stack = f"h14rest{run_id[-6:]}away"
    file = tmp_path / "compose.yml"
    file.write_text(FILE.format(image=test_image))
    engine.docker("stack", "deploy", "--resolve-image", "never", "-c", str(file), stack)
    wait_for(f"{stack}/app 2/2", lambda: _engine_replicas(engine, stack) == "2/2", timeout=90)

    proc = subprocess.Popen(
        [sys.executable, "-m", "mltui.cli", "-H", engine.url, "restart", f"{stack}/app", "--yes"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        # the first replica replaced; the second waits for update_config's delay
        wait_for("1/2 replaced", lambda: any("1/2 replaced" in x for x in lines), timeout=120)
        assert proc.poll() is None
        engine.kill()
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    reader.join(timeout=30)
    said = "".join(lines)
    assert code == 1, said
    last = said.strip().splitlines()[-1]
    assert "the engine went away while it ran" in last, said
    assert "it stopped at: 1/2 replaced" in last, said
    assert "look again once the engine answers" in last and "Traceback" not in said

    # back: mltui shows the service as the engine has it
    engine.start()

    def agrees() -> bool:
        svc = _ps(engine, stack)
        real = _engine_replicas(engine, stack)
        return bool(svc) and f"{svc['running']}/{svc['desired']}" == real == "2/2"

    wait_for("mltui and the engine agreeing on 2/2 after the restart", agrees, timeout=120)
