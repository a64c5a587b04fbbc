"""`mltui up`'s compose file reading (hostile files, interpolation, ports,
replicas) and its plans (builds first, then stack deploy or compose up, the
engine passed through); rollback's spec diff; the action lock."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mltui.core.engine import EngineInfo, EngineTarget
from mltui.core.inventory import Replica, Service, Snapshot, Stack
from mltui.deploy.actionlock import Busy, action_lock
from mltui.deploy.actions import ActionError, Plan
from mltui.deploy.composefile import ComposeError, interpolate, load, parse, project_name
from mltui.deploy.rollback import spec_diff
from mltui.deploy.up import crashed, plan_up, port_message, up_state

V1 = ("/usr/bin/docker-compose",)
V2 = ("/opt/bin/docker-compose",)
HOST = EngineTarget("tcp://10.0.0.9:2375", "--host")


def resolve(v1: bool) -> tuple[str, ...]:
    return V1 if v1 else V2


def no_clash(compose, project, kind, target, engine):
    """No port in use (tests/engine/test_up_ports.py checks the real engine's)."""
    return ""


def snapshot(swarm: bool = True, stacks: tuple[Stack, ...] = ()) -> Snapshot:
    info = EngineInfo(
        target="unix:///var/run/docker.sock",
        state="connected",
        swarm="active" if swarm else "inactive",
        swarm_manager=swarm,
    )
    return Snapshot(engine=info, stacks=stacks)


def write(tmp_path: Path, text: str, name: str = "compose.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


COMPOSE = """\
    services:
      model:
        image: me/model:${TAG:-1}
        build:
          context: ./model
          dockerfile: Dockerfile.cpu
          args: {BASE: debian}
        ports: ["127.0.0.1:8501:8501", "9000:9000/udp"]
        deploy: {replicas: 3}
      nb:
        image: nb:latest
        ports: [{published: 8888, target: 8888}]
    """


def test_parse_reads_images_builds_ports_and_replicas(tmp_path, monkeypatch):
    (tmp_path / "model").mkdir()
    monkeypatch.delenv("TAG", raising=False)
    file = load(write(tmp_path, COMPOSE))
    model, nb = file.services
    assert (model.image, model.replicas, model.ports) == ("me/model:1", 3, (8501, 9000))
    assert model.build is not None and model.build.context == str(tmp_path / "model")
    assert model.build.dockerfile == "Dockerfile.cpu" and model.build.args == (("BASE", "debian"),)
    assert (nb.build, nb.replicas, nb.ports) == (None, 1, (8888,))
    assert file.folder_name == project_name(tmp_path.name)


def test_interpolation_like_compose():
    env = {"A": "x", "EMPTY": ""}
    assert interpolate("$A ${A} $$A ${B:-d} ${EMPTY:-d} ${EMPTY-d} ${B-e}", env) == "x x $A d d  e"
    with pytest.raises(ComposeError, match="must be set"):
        interpolate("${B:?say it}", env)


def test_dotenv_fills_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv("TAG", raising=False)
    (tmp_path / "model").mkdir()
    (tmp_path / ".env").write_text("# comment\nTAG=7\n")
    assert load(write(tmp_path, COMPOSE)).services[0].image == "me/model:7"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("services: [\n  bad", "does not parse at line 2"),
        ("just text", "no services mapping"),
        ("services: {}", "has no services"),
        ("services:\n  x: 3", "is not a mapping"),
        ("services:\n  x: {}", "neither an image nor a build"),
        ("services:\n  x: {image: [1]}", "image must be text"),
        ("services:\n  x: {image: a, deploy: {replicas: -1}}", "0 or more"),
        ("services:\n  x: {image: a, build: 3}", "build must be"),
        ("services:\n  x: {image: a, ports: 80}", "ports must be a list"),
        ('services:\n  "a b\\e[31m": {image: a}', "not a service name"),
        ("services: [\n  \x1b[31m", "does not parse"),
    ],
)
def test_hostile_files_are_one_sentence(tmp_path, text, said):
    with pytest.raises(ComposeError) as caught:
        parse(text, tmp_path / "c.yml", {})
    assert said in str(caught.value) and "\n" not in str(caught.value)
    assert "\x1b" not in str(caught.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(ComposeError, match="cannot be read"):
        load(tmp_path / "nope.yml")
    with pytest.raises(ComposeError, match="is a folder"):
        load(tmp_path)


def test_plan_up_on_swarm_builds_then_deploys_on_the_watched_engine(tmp_path):
    (tmp_path / "model").mkdir()
    path = write(tmp_path, COMPOSE)
    asked: list[str] = []

    def present(target, image):
        asked.append(image)
        return True

    plan = plan_up(
        snapshot(), str(path), HOST, name="ml", resolve=resolve, ports=no_clash, present=present
    )
    assert (plan.verb, plan.target, plan.kind, plan.file) == ("up", "ml", "swarm", str(path))
    build, deploy = plan.calls
    assert build.argv[:4] == ("docker", "-H", HOST.base_url, "build")
    assert build.argv[5:7] == ("-t", "me/model:1") and build.argv[-1] == str(tmp_path / "model")
    assert ("DOCKER_BUILDKIT", "0") in build.env and "--build-arg" in build.argv
    assert deploy.argv == (
        *("docker", "-H", HOST.base_url, "stack", "deploy", "--resolve-image", "never"),
        *("-c", str(path), "ml"),
    )
    assert asked == ["nb:latest"]  # only what is not built is looked for
    assert plan.expect == (("model", 3), ("nb", 1))
    assert "Deploy" in plan.question and "swarm stack ml" in plan.question
    assert "build model as me/model:1" in plan.question and "stack deploy" in plan.question


def test_plan_up_with_compose_when_not_a_manager_or_asked(tmp_path, monkeypatch):
    monkeypatch.delenv("MLTUI_COMPOSE", raising=False)
    monkeypatch.setattr("mltui.deploy.up._is_v1", lambda argv: argv == V1)
    (tmp_path / "model").mkdir()
    path = write(tmp_path, COMPOSE)
    for snap, mode in ((snapshot(swarm=False), ""), (snapshot(), "compose")):
        plan = plan_up(
            snap,
            str(path),
            HOST,
            mode=mode,
            resolve=resolve,
            ports=no_clash,
            present=lambda t, i: True,
        )
        deploy = plan.calls[-1]
        assert plan.kind == "compose" and plan.target == project_name(tmp_path.name)
        assert deploy.argv[0] == V2[0] and deploy.argv[-3:] == ("up", "-d", "--no-build")
        assert ("DOCKER_HOST", HOST.base_url) in deploy.env
    # an existing project made by v1 is redeployed by v1
    old = Stack("p", "compose", (), config_files=("compose.yml",), compose_version="1.29.2")
    plan = plan_up(
        snapshot(False, (old,)),
        str(path),
        None,
        "p",
        resolve=resolve,
        ports=no_clash,
        present=lambda t, i: True,
    )
    assert plan.calls[-1].argv[:2] == (V1[0], "--compatibility")


def test_plan_up_refusals(tmp_path):
    (tmp_path / "model").mkdir()
    path = write(tmp_path, COMPOSE)
    with pytest.raises(ActionError, match="not a swarm manager"):
        plan_up(snapshot(False), str(path), mode="swarm", ports=no_clash, present=lambda t, i: True)
    with pytest.raises(ActionError, match=r"image nb:latest does not exist .* has no build"):
        plan_up(snapshot(), str(path), ports=no_clash, present=lambda t, i: False)
    with pytest.raises(ActionError, match="--no-build was asked"):
        plan_up(
            snapshot(),
            str(path),
            build=False,
            ports=no_clash,
            present=lambda t, i: i == "nb:latest",
        )
    with pytest.raises(ActionError, match="not a stack name"):
        plan_up(snapshot(), str(path), name="Bad Name", ports=no_clash, present=lambda t, i: True)
    bare = write(tmp_path, "services:\n  x: {build: ./model}\n", "bare.yml")
    with pytest.raises(ActionError, match="needs an image"):
        plan_up(snapshot(), str(bare), ports=no_clash, present=lambda t, i: True)
    gone = write(tmp_path, "services:\n  x: {image: a, build: ./nope}\n", "gone.yml")
    with pytest.raises(ActionError, match="does not exist"):
        plan_up(snapshot(), str(gone), ports=no_clash, present=lambda t, i: True)


def _svc(name: str, replicas: tuple[Replica, ...], restarts: int = 0, **kw) -> Service:
    return Service(
        key=f"swarm:{name}",
        name=name,
        stack="ml",
        kind="swarm",
        desired=kw.pop("desired", len(replicas)),
        running=sum(r.running for r in replicas),
        image="img",
        ports=(),
        replicas=replicas,
        restarts=restarts,
        **kw,
    )


def _rep(state: str, since: float, **kw) -> Replica:
    return Replica(
        key=state,
        name=f"ml_x.{state}",
        kind="task",
        slot=1,
        state=state,
        since=since,
        image="i",
        **kw,
    )


def test_up_state_and_crashing_rollouts():
    plan = Plan("up", "ml", "swarm", "e", (), expect=(("x", 1),))
    ok = _svc("x", (_rep("running", 100.0),))
    snap = snapshot(True, (Stack("ml", "swarm", (ok,)),))
    assert up_state(snap, plan, 50.0, {})[:3] == (True, "running: x 1/1", "")
    failed = _svc("x", (_rep("failed", 100.0, error="task: non-zero exit (3)"),))
    assert crashed(failed, 50.0, 0) == "ml_x.failed failed: task: non-zero exit (3)"
    assert crashed(failed, 200.0, 0) == ""  # an old failure is not this rollout's
    # a container restarting in place, first read while it ran (exit code 0): its
    # code is read again; while that read has none, no wrong "exit code 0" is said
    looping = _svc("x", (_rep("restarting", 100.0, exit_code=0, container_id="c1"),))
    assert crashed(looping, 50.0, 0, lambda _cid: None) == ""
    assert crashed(looping, 50.0, 0, lambda cid: 4 if cid == "c1" else None) == (
        "ml_x.restarting restarting: exit code 4"
    )
    # a command that exits 0 and is restarted for ever is a crash loop too
    assert crashed(looping, 50.0, 0, lambda _cid: 0) == "ml_x.restarting restarting: exit code 0"
    retried = _svc("x", (_rep("starting", 100.0),), restarts=2, last_error="boom", desired=1)
    done, _text, why, _label = up_state(
        snapshot(True, (Stack("ml", "swarm", (retried,)),)), plan, 50.0, {"x": 1}
    )
    assert not done and "crashing rollout" in why and "boom" in why and "mltui rollback" in why
    assert "already in use on e:" in port_message(
        "Bind for 0.0.0.0:80 failed: port is already allocated", "e"
    )


def test_rollback_diff_names_image_replicas_and_env():
    def spec(image, n, env):
        return {
            "TaskTemplate": {"ContainerSpec": {"Image": image + "@sha256:ab", "Env": env}},
            "Mode": {"Replicated": {"Replicas": n}},
        }

    now = spec("m:2", 4, ["A=1", "B=2", "NEW=x"])
    before = spec("m:1", 2, ["A=1", "B=3", "OLD=y"])
    assert spec_diff(now, before) == (
        "image m:2 -> m:1",
        "replicas 4 -> 2",
        "env B 2 -> 3",
        "env NEW removed",
        "env OLD=y added",
    )
    assert spec_diff(now, now) == ("no change to image, replicas or environment",)


def test_the_action_lock_refuses_a_second_holder_and_frees_a_dead_ones(tmp_path):
    path = tmp_path / "locks" / "x.lock"
    busy = rf"another action on ml/x is running \(pid {os.getpid()}: scale ml/x\)"
    with (
        action_lock("e", "ml/x", "scale ml/x", path),
        pytest.raises(Busy, match=busy),
        action_lock("e", "ml/x", "restart ml/x", path),
    ):
        pass
    with action_lock("e", "ml/x", "again", path):
        pass
    # a holder that dies (SIGKILL, no clean-up) leaves the file but no lock
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); "
            "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, b'1 x'); print('held', flush=True); "
            "sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(Busy), action_lock("e", "ml/x", "scale", path):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert path.exists()
    with action_lock("e", "ml/x", "after the holder died", path):
        pass


def _refusal(engine: str, target: str, what: str) -> str:
    """Why the lock of ``target`` cannot be had now ("" when it can)."""
    from mltui.deploy.actionlock import target_lock

    try:
        with target_lock(engine, target, what):
            return ""
    except Busy as exc:
        return str(exc)


def test_a_stack_action_and_a_service_action_exclude_each_other(tmp_path, monkeypatch):
    from mltui.deploy.actionlock import target_lock

    monkeypatch.setenv("MLTUI_STATE", str(tmp_path / "state.json"))
    with target_lock("e", "ml/a", "scale ml/a"), target_lock("e", "ml/b", "scale ml/b"):
        assert _refusal("e", "ml", "down ml").startswith("another action on ml is running")
        assert "on ml/a is running (pid " in _refusal("e", "ml/a", "restart ml/a")
        assert _refusal("e", "ml/c", "scale ml/c") == ""  # another service of the stack
    with target_lock("e", "ml", "up ml"):
        assert f"on ml is running (pid {os.getpid()}: up ml)" in _refusal("e", "ml/a", "scale")
        assert _refusal("other-engine", "ml/a", "scale") == ""  # another engine's ml
    assert _refusal("e", "ml", "down ml") == ""


def test_an_engine_gone_mid_action_is_a_result(tmp_path, monkeypatch):
    from mltui.core.engine import Engine
    from mltui.core.inventory import Inventory
    from mltui.deploy.actions import execute

    monkeypatch.setenv("MLTUI_STATE", str(tmp_path / "state.json"))
    nowhere = EngineTarget(f"unix://{tmp_path}/no.sock", "--host")
    plan = Plan("scale", "ml/x", "swarm", nowhere.base_url, (), replicas=2)
    engine = Engine(nowhere, timeout=2)
    try:
        result = execute(plan, Inventory(engine), lambda _text: None, timeout=5)
    finally:
        engine.close()
    assert not result.ok and result.started
    assert "the engine went away while it ran" in result.message and "no.sock" in result.message


def test_a_swarm_redeploy_waits_for_the_replaced_tasks():
    from mltui.deploy.up import _renewed

    def item(image: str, replicas: int) -> dict:
        return {
            "Spec": {
                "TaskTemplate": {"ContainerSpec": {"Image": image}},
                "Mode": {"Replicated": {"Replicas": replicas}},
            }
        }

    before = {"same": item("a", 1), "scaled": item("a", 1), "changed": item("a", 1)}
    after = {
        "same": item("a", 1),
        "scaled": item("a", 3),
        "changed": item("b", 1),
        "new": item("c", 1),
    }
    assert _renewed(before, after) == {"changed", "new"}
    plan = Plan("up", "ml", "swarm", "e", (), expect=(("x", 1),))
    old = snapshot(True, (Stack("ml", "swarm", (_svc("x", (_rep("running", 10.0),)),)),))
    assert up_state(old, plan, 50.0, {})[:2] == (True, "running: x 1/1")
    assert up_state(old, plan, 50.0, {}, renewed=frozenset({"x"}))[:2] == (
        False,
        "running: x 0/1",
    )


def test_update_verdict_is_this_deploys_update_only():
    from mltui.deploy.up import update_verdict

    old = {"UpdateStatus": {"State": "completed", "StartedAt": "2026-12-03T10:00:00.1Z"}}
    assert update_verdict(old, old) == ""  # still the last update's: not begun yet
    assert update_verdict({}, old) == ""
    new = {"UpdateStatus": {"State": "updating", "StartedAt": "2026-12-03T10:05:00.2Z"}}
    assert update_verdict(new, old) == "updating"
    assert update_verdict(new, None) == "updating"
    hostile = {"UpdateStatus": {"State": "paused\x1b[2J", "StartedAt": 5}}
    assert "\x1b" not in update_verdict(hostile, old)
    assert update_verdict({"UpdateStatus": "x"}, old) == ""
