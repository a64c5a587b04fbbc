"""The demo's model replicas behind the nginx balancer, deployed for real with
swarm and with compose; all traffic goes to the balancer's 127.0.0.1 port."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import requests
from helpers import (
    COMPOSE_V2,
    docker,
    free_port,
    http_status,
    predict_folder_against,
    read_png_rgb,
    run,
    wait_for,
)

from mltui.core.engine import Engine
from mltui.core.inventory import Inventory
from mltui.deploy.stacks import DEMO_COMPOSE, DEMO_DIR, DEMO_STACK, demo_images

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def demo_env(engine_info):
    return demo_images(lambda _line: None)


def services_of(stack: str) -> dict:
    engine = Engine()
    try:
        snap = Inventory(engine).snapshot()
    finally:
        engine.close()
    return {s.name: s for st in snap.stacks if st.name == stack for s in st.services}


def answering(url: str) -> bool:
    return http_status(f"{url}/v1/models/my_model") == 200


def replicas_seen(url: str, tries: int = 24) -> set[str]:
    seen = set()
    for _ in range(tries):
        answer = requests.get(f"{url}/v1/models/my_model", timeout=5)
        assert answer.status_code == 200
        seen.add(answer.headers["X-Replica"])
    return seen


def wait_ready(stack: str, url: str) -> None:
    def ready():
        svcs = services_of(stack)
        model, lb = svcs.get("model"), svcs.get("lb")
        return model and lb and model.running == 4 and lb.running == 1 and answering(url)

    wait_for(f"{stack}: 4/4 model replicas and the balancer answering", ready, timeout=120)


def balancer_resolves_every_replica(stack: str) -> bool:
    """The balancer's own DNS lookup of the dnsrr service names every running replica.

    Swarm's DNS for a dnsrr service can lag the task states by a moment, so "4/4
    running" alone does not mean the balancer can reach all four yet."""
    svcs = services_of(stack)
    lb = svcs["lb"].replicas[0].container_id
    want = svcs["model"].running
    found = docker("exec", lb, "getent", "ahostsv4", "model", check=False)
    return len({line.split()[0] for line in found.splitlines() if line.strip()}) == want


def wait_balanced(stack: str, url: str) -> None:
    """Every replica answers through the balancer (nginx keeps a DNS answer for 1 s)."""
    wait_for(
        f"{stack}: the balancer's DNS to name every model replica",
        lambda: balancer_resolves_every_replica(stack),
        timeout=60,
        interval=0.5,
    )
    want = services_of(stack)["model"].running
    seen: set[str] = set()

    def all_seen() -> bool:
        seen.update(replicas_seen(url, 8))
        return len(seen) == want

    wait_for(f"{stack}: requests to reach all {want} replicas", all_seen, timeout=30, interval=0.5)


def predict_digits(url: str, per_class: int = 2) -> float:
    hits = total = 0
    for cls in range(10):
        for path in sorted((DEMO_DIR / "test-images" / str(cls)).glob("*.png"))[:per_class]:
            body = json.dumps({"instances": [read_png_rgb(path)]})
            answer = requests.post(f"{url}/v1/models/my_model:predict", data=body, timeout=60)
            assert answer.status_code == 200, answer.text
            probs = answer.json()["predictions"][0]
            hits += max(range(10), key=probs.__getitem__) == cls
            total += 1
    return hits / total


def mltui_predict_agrees(url: str, tmp_path) -> None:
    """`mltui predict` through the balancer gives, image by image, the classes the
    server gives one request at a time."""
    _out, data, expected = predict_folder_against(url, tmp_path, 2)
    assert {r["image"]: r["predicted"] for r in data["results"]} == expected
    assert data["summary"]["failed"] == 0 and data["summary"]["accuracy"] >= 0.9


def test_swarm_deploy_balances_and_survives_a_replaced_replica(swarm, demo_env, run_id, tmp_path):
    stack = f"{run_id}demo"
    port = free_port()
    env = {**demo_env, "MLTUI_DEMO_PORT": str(port), "MLTUI_DEMO_NOTEBOOK_PORT": str(free_port())}
    url = f"http://127.0.0.1:{port}"
    docker("stack", "deploy", "--resolve-image", "never", "-c", str(DEMO_STACK), stack, env=env)
    try:
        wait_ready(stack, url)
        wait_balanced(stack, url)
        assert predict_digits(url) >= 0.9
        mltui_predict_agrees(url, tmp_path)

        # kill one replica: swarm replaces it (new container, new address), routing goes on
        model = services_of(stack)["model"]
        victim = model.replicas[0].container_id
        docker("rm", "-f", victim)
        failures = 0
        for _ in range(20):
            try:
                if requests.get(f"{url}/v1/models/my_model", timeout=5).status_code != 200:
                    failures += 1
            except requests.RequestException:
                failures += 1
        assert failures == 0
        # swarm notices the removed container within a moment and starts another

        def replaced_model():
            model_now = services_of(stack)["model"]
            gone = victim not in {r.container_id for r in model_now.replicas}
            return model_now if gone and model_now.running == 4 else None

        replaced = wait_for("swarm to replace the removed replica", replaced_model, timeout=60)
        wait_ready(stack, url)
        fresh = {r.container_id[:12] for r in replaced.replicas} - {
            r.container_id[:12] for r in model.replicas
        }
        assert fresh, "no new replica after the kill"
        wait_for(
            "the new replica to get traffic",
            lambda: fresh & replicas_seen(url, 12),
            timeout=30,
            interval=1,
        )
    finally:
        docker("stack", "rm", stack, check=False)


def test_compose_up_runs_the_compose_file(demo_env, run_id, tmp_path):
    project = f"{run_id}democ"
    port = free_port()
    env = {**demo_env, "MLTUI_DEMO_PORT": str(port), "MLTUI_DEMO_NOTEBOOK_PORT": str(free_port())}
    url = f"http://127.0.0.1:{port}"
    run([COMPOSE_V2, "-p", project, "-f", str(DEMO_COMPOSE), "up", "-d"], env=env)
    try:
        wait_ready(project, url)
        assert services_of(project)["model"].kind == "compose"
        wait_balanced(project, url)
        mltui_predict_agrees(url, tmp_path)
    finally:
        subprocess.run(
            [COMPOSE_V2, "-p", project, "-f", str(DEMO_COMPOSE), "down", "-t", "1"],
            env={**os.environ, **env},
            capture_output=True,
            check=False,
        )
