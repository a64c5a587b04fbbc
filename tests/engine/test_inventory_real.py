"""The inventory against real compose projects, a real swarm stack and plain containers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from helpers import COMPOSE_V1, COMPOSE_V2, STACKS, docker, run, wait_for

from mltui.core.engine import Engine
from mltui.core.inventory import Inventory, Snapshot
from mltui.core.textsafe import is_safe

pytestmark = pytest.mark.engine


def snapshot() -> Snapshot:
    engine = Engine()
    try:
        return Inventory(engine).snapshot()
    finally:
        engine.close()


def find_stack(snap: Snapshot, name: str, kind: str):
    for stack in snap.stacks:
        if stack.name == name and stack.kind == kind:
            return stack
    return None


def find_service(snap: Snapshot, stack: str, name: str, kind: str):
    found = find_stack(snap, stack, kind)
    if found is None:
        return None
    return next((s for s in found.services if s.name == name), None)


@pytest.fixture(scope="module")
def compose_projects(test_image, run_id):
    """The same project under Compose v1 (Debian) and Compose v2+ (official binary)."""
    env = {"MLTUI_TEST_IMAGE": test_image}
    projects = {"v1": (COMPOSE_V1, f"{run_id}v1"), "v2": (COMPOSE_V2, f"{run_id}v2")}
    try:
        for binary, project in projects.values():
            run(
                [
                    binary,
                    "-p",
                    project,
                    "-f",
                    str(STACKS / "compose-scaled.yml"),
                    "up",
                    "-d",
                    "--scale",
                    "worker=3",
                ],
                env=env,
            )
        binary, project = projects["v2"]
        run(
            [binary, "-p", project + "gpu", "-f", str(STACKS / "compose-gpu.yml"), "create"],
            env=env,
        )
        yield projects
    finally:
        full_env = {**os.environ, **env}
        for binary, project in projects.values():
            down = [
                binary,
                "-p",
                project,
                "-f",
                str(STACKS / "compose-scaled.yml"),
                "down",
                "-t",
                "1",
            ]
            subprocess.run(down, env=full_env, capture_output=True, check=False)
        down = [
            COMPOSE_V2,
            "-p",
            projects["v2"][1] + "gpu",
            "-f",
            str(STACKS / "compose-gpu.yml"),
            "down",
        ]
        subprocess.run(down, env=full_env, capture_output=True, check=False)


@pytest.fixture(scope="module")
def swarm_stack(swarm, test_image, run_id):
    name = f"{run_id}s"
    docker(
        "stack",
        "deploy",
        "--resolve-image",
        "never",
        "-c",
        str(STACKS / "swarm-stack.yml"),
        name,
        env={"MLTUI_TEST_IMAGE": test_image},
    )
    try:
        yield name
    finally:
        docker("stack", "rm", name, check=False)


@pytest.mark.parametrize("flavour", ["v1", "v2"])
def test_compose_project_with_scaled_service(compose_projects, flavour):
    _binary, project = compose_projects[flavour]
    sep = "_" if flavour == "v1" else "-"

    def ready():
        snap = snapshot()
        worker = find_service(snap, project, "worker", "compose")
        web = find_service(snap, project, "web", "compose")
        if (
            worker
            and web
            and worker.running == 3
            and all(r.health == "healthy" for r in web.replicas)
        ):
            return snap
        return None

    snap = wait_for(f"compose {flavour} project running and healthy", ready, timeout=60)
    stack = find_stack(snap, project, "compose")
    assert stack.compose_version.startswith("1." if flavour == "v1" else ("2.", "3.", "4.", "5."))
    worker = find_service(snap, project, "worker", "compose")
    assert (worker.running, worker.desired) == (3, 3)
    assert worker.state == "running"
    assert [r.slot for r in worker.replicas] == [1, 2, 3]
    assert [r.name for r in worker.replicas] == [f"{project}{sep}worker{sep}{n}" for n in (1, 2, 3)]
    assert all(r.state == "running" and r.since for r in worker.replicas)
    web = find_service(snap, project, "web", "compose")
    # published on an ephemeral host port of 127.0.0.1
    assert len(web.ports) == 1 and re.fullmatch(r"127\.0\.0\.1:\d+->8000/tcp", web.ports[0])
    assert web.replicas[0].health == "healthy"
    assert worker.gpu is None


def test_compose_gpu_reservation_is_seen(compose_projects):
    _, project = compose_projects["v2"]
    snap = wait_for(
        "gpu trainer created",
        lambda: find_service(snapshot(), project + "gpu", "trainer", "compose"),
    )
    assert snap.gpu is not None
    assert snap.gpu.count == 1 and snap.gpu.capabilities == ("gpu",) and snap.gpu.driver == "nvidia"
    assert snap.gpu.summary == "1 GPU"
    assert snap.state == "created"
    assert (snap.running, snap.desired) == (0, 1)


def test_swarm_stack_replicas_crashloop_and_gpu(swarm_stack):
    def settled():
        snap = snapshot()
        model = find_service(snap, swarm_stack, "model", "swarm")
        crash = find_service(snap, swarm_stack, "crash", "swarm")
        gpu = find_service(snap, swarm_stack, "gpu", "swarm")
        if not (gpu and gpu.replicas and gpu.replicas[0].state == "pending" and gpu.last_error):
            return None  # the scheduler has not yet said why it cannot place the task
        # two failures make a crash loop; the second replacement task may be
        # created a moment later, so wait for it too before counting restarts
        if model and crash and model.running == 4 and crash.crashloop and crash.restarts >= 2:
            return snap
        return None

    snap = wait_for("4/4 model replicas, a crash loop and a pending GPU task", settled, timeout=90)
    stack = find_stack(snap, swarm_stack, "swarm")
    assert {s.name for s in stack.services} == {"model", "crash", "gpu"}
    model = find_service(snap, swarm_stack, "model", "swarm")
    assert (model.running, model.desired) == (4, 4)
    assert model.state == "running" and model.mode == "replicated"
    assert sorted(r.slot for r in model.replicas) == [1, 2, 3, 4]
    assert all(r.kind == "task" and r.container_id for r in model.replicas)

    crash = find_service(snap, swarm_stack, "crash", "swarm")
    assert crash.state == "crashloop"
    assert crash.desired == 1 and crash.running <= 1
    assert crash.restarts >= 2
    assert crash.last_exit == 3
    assert "non-zero exit (3)" in crash.last_error

    gpu = find_service(snap, swarm_stack, "gpu", "swarm")
    assert gpu.gpu is not None and gpu.gpu.generic == (("NVIDIA-GPU", "1"),)
    assert gpu.gpu.summary == "NVIDIA-GPU=1"
    assert (gpu.running, gpu.desired) == (0, 1)
    assert gpu.replicas[0].state == "pending"
    assert "insufficient resources" in gpu.last_error


def test_plain_gpu_and_hostile_containers(container_factory, run_id):
    plain = container_factory("plain", "-p", "127.0.0.1::9000")
    gpu_all = container_factory("gpuall", "--gpus", "all", create_only=True)
    gpu_two = container_factory("gputwo", "--gpus", '"device=0,1"', create_only=True)
    long_name = container_factory("long" + "x" * 200)
    hostile = container_factory(
        "hostile",
        "--label",
        "com.docker.compose.project=evil\x1b]52;c;aGVsbG8=\x07proj\x1b[2J",
        "--label",
        "com.docker.compose.service=svc\x1b]0;pwned\x07\u202e\x9b31m",
        "--label",
        "com.docker.compose.project.working_dir=/tmp/\x1b[31mred",
    )
    empty = container_factory(
        "emptylabels",
        "--label",
        "com.docker.compose.project=",
        "--label",
        "com.docker.compose.service=",
    )

    def all_there():
        snap = snapshot()
        names = {r.name for s in snap.services() for r in s.replicas}
        return snap if {plain, gpu_all, gpu_two, long_name, hostile, empty} <= names else None

    snap = wait_for("the plain containers", all_there, timeout=30)
    loose = find_stack(snap, "", "none")
    by_name = {s.name: s for s in loose.services}
    assert by_name[plain].state == "running" and (
        by_name[plain].running,
        by_name[plain].desired,
    ) == (1, 1)
    assert re.fullmatch(r"127\.0\.0\.1:\d+->9000/tcp", by_name[plain].ports[0])
    assert by_name[gpu_all].gpu.summary == "all GPUs" and by_name[gpu_all].gpu.count == -1
    assert by_name[gpu_two].gpu.device_ids == ("0", "1")
    assert by_name[long_name].name == long_name
    # empty compose labels: not a compose project, shown with the loose containers
    assert empty in by_name
    # the hostile labels make a compose project whose name carries the escapes;
    # what a terminal would see is cleaned by report/textsafe
    evil = next(s for s in snap.stacks if s.name.startswith("evil"))
    assert "\x1b" in evil.name
    from mltui.core.report import rows

    shown = rows(snap)
    assert all(is_safe(cell) for row in shown for cell in row.cells)
    assert any("evil␛]52;c;aGVsbG8=␇proj" in row.cells[0] for row in shown)


def test_constant_api_calls_and_inspect_cache(container_factory):
    name = container_factory("cache1")
    cid = docker("inspect", "--format", "{{.Id}}", name).strip()
    inspected: list[str] = []

    class CountingEngine(Engine):
        def inspect_container(self, container_id):
            inspected.append(container_id)
            return super().inspect_container(container_id)

    engine = CountingEngine()
    inv = Inventory(engine)
    try:
        quick = inv.snapshot(inspect_new=False)
        first = inv.snapshot()
        second = inv.snapshot()
    finally:
        engine.close()
    # the quick first paint: /version (connect), /info, three lists, no inspect
    assert quick.inspects == 0
    assert quick.calls == 5
    assert any(s.name == name for s in quick.services())
    # each container is inspected once; later refreshes cost the three list calls
    # (plus an inspect only for containers that are new or changed state meanwhile,
    # such as the crash-looping swarm task of another test)
    assert inspected.count(cid) == 1
    assert first.inspects >= 1
    assert second.calls - second.inspects == 3


def test_ps_json_and_table_from_the_cli(container_factory, swarm_stack):
    name = container_factory("cli")
    wait_for(
        "model 4/4",
        lambda: (s := find_service(snapshot(), swarm_stack, "model", "swarm")) and s.running == 4,
        timeout=90,
    )
    out = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "ps", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out)
    assert data["engine"]["state"] == "connected"
    stacks = {(s["name"], s["kind"]): s for s in data["stacks"]}
    model = next(s for s in stacks[(swarm_stack, "swarm")]["services"] if s["name"] == "model")
    assert (model["running"], model["desired"]) == (4, 4)
    assert len(model["replicas"]) == 4
    loose = stacks[("", "none")]["services"]
    assert any(s["name"] == name and s["running"] == 1 and s["desired"] == 1 for s in loose)

    table = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "ps"], capture_output=True, text=True, check=True
    ).stdout
    assert swarm_stack in table and name in table
    assert "4/4" in table
    # nothing but newlines among the control characters
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", table)
