"""What mltui remembers between runs: a small JSON file, hostile like any input."""

from __future__ import annotations

import json
import os
import stat

import pytest

from mltui.core.state import MAX_BYTES, load_state, remember, state_path


def test_the_path_follows_mltui_state_then_xdg_then_home():
    assert str(state_path({"MLTUI_STATE": "/x/s.json"})) == "/x/s.json"
    assert str(state_path({"XDG_STATE_HOME": "/xdg"})) == "/xdg/mltui/state.json"
    # a relative XDG path is ignored, as the XDG spec says
    home = state_path({"XDG_STATE_HOME": "rel"})
    assert home.parts[-4:] == (".local", "state", "mltui", "state.json")


def test_remember_writes_creates_the_folder_and_keeps_other_values(tmp_path):
    path = tmp_path / "a" / "b" / "state.json"
    assert load_state(path) == {}
    assert remember("theme", "nord", path) == ""
    assert load_state(path) == {"theme": "nord"}
    data = json.loads(path.read_text())
    data["theme"] = "gruvbox"
    data["future"] = "kept"  # a key a later version wrote is not lost
    path.write_text(json.dumps(data))
    assert remember("theme", "nord", path) == ""
    assert json.loads(path.read_text()) == {"theme": "nord", "future": "kept"}
    assert load_state(path) == {"theme": "nord"}
    assert not [p for p in path.parent.iterdir() if p.name != "state.json"]  # no temp file left
    with pytest.raises(KeyError):
        remember("password", "x", path)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"[1, 2]",
        b'"theme"',
        b"\xff\xfe{}",
        b'{"theme": 3}',
        b'{"theme": ""}',
        b'{"theme": "a\\u001b]52;c;x\\u0007"}',
        b'{"theme": "' + b"x" * 200 + b'"}',
        b"[" * 100000,
        b'{"theme": "nord"' + b" " * MAX_BYTES + b"}",
    ],
    ids=[
        "empty",
        "truncated",
        "a list",
        "a string",
        "not utf-8",
        "a number",
        "empty theme",
        "control characters",
        "too long",
        "deep nesting",
        "over the size bound",
    ],
)
def test_a_damaged_file_counts_as_empty(tmp_path, content):
    path = tmp_path / "state.json"
    path.write_bytes(content)
    assert load_state(path) == {}
    # and remembering replaces it with a good one
    assert remember("theme", "nord", path) == ""
    assert load_state(path) == {"theme": "nord"}


def test_a_fifo_or_folder_in_its_place_neither_blocks_nor_raises(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    assert load_state(fifo) == {}  # returns at once: opened without blocking
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    assert load_state(folder) == {}
    message = remember("theme", "nord", folder)
    assert message.startswith(f"could not remember the theme in {folder}: ")


def test_an_unwritable_place_is_a_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    message = remember("theme", "nord", blocker / "state.json")  # its folder is a file
    assert message.startswith("could not remember the theme in ")
    assert str(blocker) in message
