"""The plans of `mltui scale/restart/down` (argv for swarm, Compose v1 and v2, the
engine passed through), the confirmation, and the action log's line."""

from __future__ import annotations

import io

import pytest

from mltui.cli.act import confirm
from mltui.core.engine import EngineInfo, EngineTarget
from mltui.core.inventory import Replica, Service, Snapshot, Stack
from mltui.deploy.actionlog import append, log_line
from mltui.deploy.actions import (
    ActionError,
    made_by_v1,
    plan_down,
    plan_restart,
    plan_scale,
    progress,
)
from mltui.deploy.dockercli import Call, compose_env, docker_argv

V1 = ("/usr/bin/docker-compose",)
V2 = ("/opt/bin/docker-compose",)


def resolve(v1: bool) -> tuple[str, ...]:
    return V1 if v1 else V2


def replica(cid: str, slot: int, since: float = 1.0, state: str = "running") -> Replica:
    return Replica(
        key=cid,
        name=f"r{slot}",
        kind="container",
        slot=slot,
        state=state,
        since=since,
        image="img",
        container_id=cid,
    )


def service(
    stack: str, name: str, kind: str, replicas: tuple[Replica, ...], desired: int = 0
) -> Service:
    running = sum(r.running for r in replicas)
    return Service(
        key=f"{kind}:{stack}/{name}",
        name=name,
        stack=stack,
        kind=kind,
        desired=desired or len(replicas),
        running=running,
        image="img",
        ports=(),
        replicas=replicas,
        mode="replicated" if kind == "swarm" else "",
        full_name=f"{stack}_{name}" if kind == "swarm" else name,
    )


def snapshot(*stacks: Stack) -> Snapshot:
    return Snapshot(engine=EngineInfo(target="unix:///var/run/docker.sock"), stacks=stacks)


SWARM = Stack(
    "tf", "swarm", (service("tf", "model", "swarm", (replica("a" * 64, 1), replica("b" * 64, 2))),)
)
V2_PROJECT = Stack(
    "proj",
    "compose",
    (service("proj", "web", "compose", (replica("c" * 64, 1),)),),
    working_dir="/srv/proj",
    config_files=("/srv/proj/compose.yml", "/srv/proj/override.yml"),
    compose_version="2.24.0",
)
V1_PROJECT = Stack(
    "old",
    "compose",
    (service("old", "web", "compose", (replica("d" * 64, 1),)),),
    working_dir="/srv/old",
    config_files=("docker-compose.yml",),
    compose_version="1.29.2",
)
SNAP = snapshot(SWARM, V2_PROJECT, V1_PROJECT)
REMOTE = EngineTarget("tcp://10.0.0.5:2376", "--host")


def test_swarm_plans_name_the_service_and_pass_the_host():
    plan = plan_scale(SNAP, "tf/model", 4, REMOTE)
    assert [c.argv for c in plan.calls] == [
        ("docker", "-H", "tcp://10.0.0.5:2376", "service", "scale", "--detach", "tf_model=4")
    ]
    assert plan.engine == "tcp://10.0.0.5:2376" and plan.target == "tf/model"
    assert plan.question == (
        "Scale tf/model on tcp://10.0.0.5:2376 to 4? The equivalent: "
        "docker -H tcp://10.0.0.5:2376 service scale --detach tf_model=4"
    )
    restart = plan_restart(SNAP, "tf/model")
    assert restart.calls[0].argv == (
        "docker",
        "service",
        "update",
        "--force",
        "--detach",
        "tf_model",
    )
    one = plan_restart(SNAP, "tf/model", replica=2)
    assert one.calls[0].argv == ("docker", "stop", "b" * 12)
    assert plan_down(SNAP, "tf").calls[0].argv == ("docker", "stack", "rm", "tf")


def test_compose_plans_use_the_projects_files_and_the_compose_that_made_it():
    v2 = plan_scale(SNAP, "proj/web", 3, REMOTE, resolve)
    (call,) = v2.calls
    assert call.argv == (
        *V2,
        "-p",
        "proj",
        "-f",
        "/srv/proj/compose.yml",
        "-f",
        "/srv/proj/override.yml",
        "up",
        "-d",
        "--no-recreate",
        "--scale",
        "web=3",
        "web",
    )
    assert call.env == (("DOCKER_HOST", "tcp://10.0.0.5:2376"),) and call.cwd == "/srv/proj"
    assert call.shown.startswith("DOCKER_HOST=tcp://10.0.0.5:2376 /opt/bin/docker-compose -p proj")
    v1 = plan_down(SNAP, "old", resolve=resolve)
    assert v1.calls[0].argv == (*V1, "-p", "old", "-f", "docker-compose.yml", "down")
    with_volumes = plan_down(
        SNAP, "old", volumes=True, resolve=resolve, list_volumes=lambda t, p: (f"{p}_data",)
    )
    assert with_volumes.calls[0].argv[-2:] == (
        "down",
        "-v",
    )
    # the volumes are named, and asked about a second time
    assert with_volumes.volumes == ("old_data",) and "delete its volumes old_data" in (
        with_volumes.question
    )
    assert "old_data" in with_volumes.second_question
    assert plan_down(SNAP, "old", resolve=resolve).second_question == ""
    restart = plan_restart(SNAP, "old/web")
    assert [c.argv for c in restart.calls] == [("docker", "restart", "d" * 12)]


def test_which_compose_made_a_project():
    assert made_by_v1(V1_PROJECT) and not made_by_v1(V2_PROJECT)
    # without a version label: v2 writes absolute paths, v1 does not
    assert made_by_v1(Stack("x", "compose", (), config_files=("compose.yml",)))
    assert not made_by_v1(Stack("x", "compose", (), config_files=("/a/compose.yml",)))
    with pytest.raises(ActionError, match="none is installed"):
        plan_scale(SNAP, "old/web", 2, resolve=lambda v1: None)


def test_engine_passthrough():
    assert docker_argv(None) == ("docker",)
    assert docker_argv(EngineTarget("unix:///var/run/docker.sock", "default")) == ("docker",)
    assert docker_argv(EngineTarget("tcp://h:2375", "DOCKER_HOST")) == ("docker",)  # inherited
    ctx = EngineTarget("ssh://me@box", "context box")
    assert docker_argv(ctx) == ("docker", "--context", "box")
    assert compose_env(ctx) == (("DOCKER_CONTEXT", "box"),)
    assert compose_env(REMOTE) == (("DOCKER_HOST", "tcp://10.0.0.5:2376"),)


@pytest.mark.parametrize(
    ("call", "args", "message"),
    [
        (plan_scale, ("tf/model", -1), "0 or more"),
        (plan_scale, ("tf/model", 1001), "more than 1000"),
        (plan_scale, ("nosuch", 2), "no service or container named 'nosuch'"),
        (plan_down, ("nosuch",), "no swarm stack or Compose project named 'nosuch'"),
        (plan_restart, ("tf/model", None, 7), "no running replica 7"),
    ],
)
def test_refusals_are_one_sentence(call, args, message):
    with pytest.raises(ActionError, match=message) as exc:
        call(SNAP, *args)
    assert "\n" not in str(exc.value)


def test_swarm_down_refuses_volumes():
    with pytest.raises(ActionError, match="--volumes is for Compose"):
        plan_down(SNAP, "tf", volumes=True)


def test_progress_of_each_verb():
    scale = plan_scale(SNAP, "tf/model", 2)
    assert progress(SNAP, scale) == (True, "2/2 running")
    assert progress(SNAP, plan_scale(SNAP, "tf/model", 3))[0] is False
    restart = plan_restart(SNAP, "tf/model")
    assert progress(SNAP, restart) == (False, "0/2 replaced")
    fresh = snapshot(
        Stack(
            "tf",
            "swarm",
            (service("tf", "model", "swarm", (replica("e" * 64, 1), replica("f" * 64, 2))),),
        )
    )
    assert progress(fresh, restart) == (True, "2/2 replaced")
    compose = plan_restart(SNAP, "old/web")
    later = snapshot(
        Stack(
            "old",
            "compose",
            (service("old", "web", "compose", (replica("d" * 64, 1, since=9.0),)),),
        )
    )
    assert progress(SNAP, compose)[0] is False and progress(later, compose) == (
        True,
        "1/1 restarted",
    )
    down = plan_down(SNAP, "tf")
    assert progress(SNAP, down)[0] is False and progress(snapshot(), down) == (True, "removed")


class Terminal(io.StringIO):
    def __init__(self, text: str, tty: bool) -> None:
        super().__init__(text)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_confirmation():
    err = io.StringIO()
    assert confirm("Scale?", True, Terminal("", False), err) == ""  # --yes: no question
    assert err.getvalue() == ""
    assert "no terminal" in confirm("Scale?", False, Terminal("y\n", False), err)
    assert err.getvalue() == ""  # nothing asked, nothing read
    assert confirm("Scale?", False, Terminal("y\n", True), err) == ""
    assert err.getvalue() == "Scale? [y/N] "
    assert confirm("Scale?", False, Terminal("YES\n", True), io.StringIO()) == ""
    for answer in ("\n", "n\n", "", "yy\n"):
        assert "not confirmed" in confirm("Scale?", False, Terminal(answer, True), io.StringIO())


def test_action_log_line(tmp_path):
    line = log_line("unix:///s", "tf/model", "docker service scale\ttf_model=2", "ok\nfine", when=0)
    assert (
        line
        == "1970-01-01T00:00:00Z\tunix:///s\ttf/model\tdocker service scale tf_model=2\tok fine\n"
    )
    path = tmp_path / "state" / "actions.log"
    assert append("e", "t", "c", "ok", path) == "" and append("e", "t", "c", "1", path) == ""
    assert len(path.read_text().splitlines()) == 2
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert "could not be written" in append("e", "t", "c", "ok", blocked / "actions.log")


def test_call_shown_quotes():
    assert Call(("docker", "restart", "a b")).shown == "docker restart 'a b'"


@pytest.mark.parametrize(
    "argv",
    [
        ["scale", "tf/model", "2", "--yes"],
        ["restart", "tf/model", "--yes"],
        ["down", "tf", "--yes", "--volumes"],
    ],
)
def test_read_only_config_refuses_before_the_engine(tmp_path, capsys, argv):
    from mltui.cli import main

    config = tmp_path / "config.toml"
    config.write_text("read_only = true\n")
    # an engine that cannot answer: the refusal comes first
    code = main(["-H", "unix:///nonexistent.sock", "--config", str(config), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"mltui {argv[0]}: refused: mltui is read-only (read_only = true in the config)\n"
    assert main(["-H", "unix:///nonexistent.sock", *argv, "--read-only"]) == 2
    assert "read-only (--read-only)" in capsys.readouterr().err


def test_read_only_in_the_config():
    from mltui.core.config import parse

    assert parse("read_only = true\n")[0].read_only is True
    config, problems = parse('read_only = "yes"\n')
    assert config.read_only is False and "read_only" in str(problems[0])
    assert "read_only = true" in parse("read_only = true\n")[0].to_toml()
