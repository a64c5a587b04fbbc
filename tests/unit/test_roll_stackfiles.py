"""Which compose file builds a swarm service for `mltui roll --build`: the file
`mltui up` deployed the stack from (kept in the state folder), else a compose file
of the current folder that gives the service a build:, else one sentence asking
for --file. Hostile state files are the same as none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mltui.core.inventory import Service, Stack
from mltui.deploy.roll import RollError, RollOptions, _build, _build_files
from mltui.deploy.rollout import Target
from mltui.deploy.stackfiles import files_path, recorded_file, remember_file

ENGINE = "unix:///var/run/docker.sock"
BUILDS = "services:\n  model:\n    build: ./ctx\n    image: x-model:latest\n"
NO_BUILD = "services:\n  model:\n    image: x-model:latest\n"


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("MLTUI_STATE", str(tmp_path / "state" / "state.json"))
    return files_path()


def _target(kind: str = "swarm", files: tuple[str, ...] = (), workdir: str = "") -> Target:
    svc = Service("swarm:x", "model", "shop", kind, 2, 2, "x-model:latest", (), ())
    stack = Stack("shop", kind, (svc,), workdir, files)
    return Target(stack, svc, ENGINE, None, "x-model:latest", "sha256:ab", 2)


def test_kept_file_round_trip(state, tmp_path):
    file = tmp_path / "stack" / "compose.yml"
    file.parent.mkdir()
    file.write_text(BUILDS)
    assert recorded_file(ENGINE, "shop") == ""
    assert remember_file(ENGINE, "shop", file) == ""
    assert recorded_file(ENGINE, "shop") == str(file)
    assert recorded_file("tcp://10.0.0.1:2376", "shop") == ""  # one engine's stacks
    file.unlink()
    assert recorded_file(ENGINE, "shop") == ""  # a file gone is not offered


@pytest.mark.parametrize(
    "content",
    [
        b"[1, 2]",
        b"{",
        b"\xff\xfe",
        b'{"x": 1}',
        b'{"' + ENGINE.encode() + b'\\nshop": "rel/c.yml"}',
    ],
)
def test_hostile_kept_files_are_none(state, content):
    state.parent.mkdir(parents=True)
    state.write_bytes(content)
    assert recorded_file(ENGINE, "shop") == ""
    assert remember_file(ENGINE, "other", "/tmp") == ""  # and writing replaces it


def test_a_fifo_in_place_is_none(state, tmp_path):
    state.parent.mkdir(parents=True)
    os.mkfifo(state)
    assert recorded_file(ENGINE, "shop") == ""  # read without blocking
    assert remember_file(ENGINE, "shop", tmp_path) == ""  # the write replaces it
    assert recorded_file(ENGINE, "shop") == "" and state.is_file()


def test_a_failed_write_is_a_sentence(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("MLTUI_STATE", str(blocker / "state.json"))  # a file as its folder
    said = remember_file(ENGINE, "shop", tmp_path)
    assert said.startswith("which file deployed shop is not kept: ") and "\n" not in said


def test_which_files_may_build(state, tmp_path, monkeypatch):
    kept = tmp_path / "kept.yml"
    kept.write_text(BUILDS)
    here = tmp_path / "here"
    here.mkdir()
    (here / "compose.yml").write_text(BUILDS)
    monkeypatch.chdir(here)
    t = _target()
    # nothing kept: the current folder's files, a guess
    assert _build_files(t, RollOptions("shop/model")) == ([here / "compose.yml"], True)
    remember_file(ENGINE, "shop", kept)
    assert _build_files(t, RollOptions("shop/model")) == ([kept], False)
    # --file wins; a Compose project's label before the kept file
    assert _build_files(t, RollOptions("shop/model", file="/x/c.yml")) == (
        [Path("/x/c.yml")],
        False,
    )
    compose = _target("compose", ("a.yml", "b.yml"), "/proj")
    assert _build_files(compose, RollOptions("shop/model"))[0][1].as_posix() == "/proj/b.yml"


def test_no_file_that_builds_is_one_sentence(state, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yml").write_text(NO_BUILD)
    (tmp_path / "docker-compose.yml").write_text("services: [\x1b[31m")  # not this stack's
    with pytest.raises(RollError) as err:
        _build(_target(), RollOptions("shop/model", build=True), lambda _t: None)
    message = str(err.value)
    assert message.endswith("pass --file") and "shop/model" in message
    assert "\n" not in message and "\x1b" not in message


def test_only_the_status_answer_credits_its_replica():
    from mltui.deploy.roll import _status_replica

    # detection on a (still loading), the status on b, the metadata on a again:
    # b said the state, so b alone is credited
    named = [
        ("/v1/models/m", "a"),
        ("/v1/models/m", "b"),
        ("/v1/models/m/versions/3/metadata", "a"),
    ]
    assert _status_replica(named, "m") == "b"
    assert _status_replica([("/v2/models/m/ready", "c")], "m") == "c"
    assert _status_replica([("/v1/models/m/metadata", "a")], "m") == ""
    assert _status_replica([("/v1/models/mm", "a")], "m") == ""
    assert _status_replica([], "m") == ""
