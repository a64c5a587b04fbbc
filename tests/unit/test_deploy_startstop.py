"""`mltui stop/start` plans (Compose only; swarm is pointed at scale) and the
shell's docker exec command line."""

from __future__ import annotations

import pytest
from test_actions import REMOTE, SNAP, V1, V2, resolve

from mltui.core.inventory import Stack
from mltui.deploy.actions import ActionError, Plan, progress
from mltui.deploy.shell import pick_replica, shell_argv, shell_line


def test_stop_and_start_a_service_or_a_whole_project():
    from mltui.deploy.startstop import plan_start, plan_stop

    one = plan_stop(SNAP, "proj/web", REMOTE, resolve)
    assert one.calls[0].argv[-2:] == ("stop", "web") and one.calls[0].argv[0] == V2[0]
    assert one.calls[0].env == (("DOCKER_HOST", REMOTE.base_url),)
    assert (one.target, one.service) == ("proj/web", "web")
    assert one.question.startswith(f"Stop proj/web on {REMOTE.base_url}? The equivalent: ")
    whole = plan_start(SNAP, "old", resolve=resolve)
    assert whole.calls[0].argv == (*V1, "-p", "old", "-f", "docker-compose.yml", "start")
    assert (whole.target, whole.service) == ("old", "")


def test_stop_on_swarm_points_at_scale():
    from mltui.deploy.startstop import plan_stop

    with pytest.raises(ActionError, match=r"stop means scaling it \(mltui scale tf/model 0\)"):
        plan_stop(SNAP, "tf/model", resolve=resolve)
    with pytest.raises(ActionError, match="swarm service"):
        plan_stop(SNAP, "tf", resolve=resolve)


def test_stop_progress_counts_running_containers():
    from mltui.deploy.startstop import stop_start_progress

    plan = Plan("stop", "proj/web", "compose", "e", (), service="web")
    assert stop_start_progress(SNAP, plan) == (False, "1/1 still running")
    assert progress(SNAP, Plan("start", "proj", "compose", "e", ())) == (True, "1/1 running")
    gone = SNAP.__class__(engine=SNAP.engine, stacks=(Stack("x", "compose", ()),))
    assert stop_start_progress(gone, plan) == (False, "proj/web is gone from the engine")


def test_shell_argv_names_the_engine_and_the_replica():
    argv = shell_argv(SNAP, "tf/model", 2, REMOTE, shell="bash")
    assert argv == ("docker", "-H", REMOTE.base_url, "exec", "-it", "b" * 12, "bash")
    assert shell_line(argv) == f"docker -H {REMOTE.base_url} exec -it {'b' * 12} bash"
    assert pick_replica(SNAP, "tf/model").container_id == "a" * 64
    with pytest.raises(ActionError, match="no running replica 7"):
        shell_argv(SNAP, "tf/model", 7, shell="sh")
    with pytest.raises(ActionError, match="no service or container named"):
        shell_argv(SNAP, "nope", shell="sh")
