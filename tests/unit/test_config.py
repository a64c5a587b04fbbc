"""The configuration file: every value checked, every bad case one message with its
key and line, and the defaults kept."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltui.core.config import (
    EXAMPLE,
    Config,
    Endpoint,
    config_path,
    load,
    locate,
    parse,
)

GOOD = """\
theme = "textual-light"

[keys]
"services.logs" = "L"
"app.help" = "f1,question_mark"

[logs]
max_lines = 5000
timestamps = false
wrap = true

[engine]
refresh_fallback_s = 60

[predict]
concurrency = 4
batch = 2
scale = 255.0
top_k = 5
timeout_s = 10
shape = [28, 28, 1]

[[predict.endpoints]]
model = "digits"
url = "http://127.0.0.1:9000"
service = "mltui-demo/model"

[[predict.endpoints]]
model = "other"
"""


def test_a_missing_file_is_the_defaults_and_no_problem(tmp_path):
    config, problems = load(tmp_path / "nope.toml")
    assert problems == []
    assert config == Config(path=str(tmp_path / "nope.toml"))
    assert config.logs.max_lines == 100_000 and config.theme == ""  # the UI's default


def test_every_key_is_read():
    config, problems = parse(GOOD, "/x/config.toml")
    assert problems == []
    assert config.theme == "textual-light"
    assert config.keys == {"services.logs": "L", "app.help": "f1,question_mark"}
    assert (config.logs.max_lines, config.logs.timestamps, config.logs.wrap) == (5000, False, True)
    assert config.engine.refresh_fallback_s == 60.0
    p = config.predict
    assert (p.concurrency, p.batch, p.scale, p.top_k, p.timeout_s) == (4, 2, 255.0, 5, 10.0)
    assert p.shape == (28, 28, 1)
    assert p.endpoints == (
        Endpoint("digits", "http://127.0.0.1:9000", service="mltui-demo/model"),
        Endpoint("other"),
    )
    assert p.endpoint_for(service="mltui-demo/model").model == "digits"
    assert p.endpoint_for(model="other").url == "http://127.0.0.1:8501"
    assert p.endpoint_for(model="none") is None


def test_the_shipped_example_is_valid_and_all_defaults():
    config, problems = parse(EXAMPLE)
    assert problems == []
    assert config == Config()


def test_show_output_reads_back_as_the_same_config(tmp_path):
    classes = tmp_path / "classes.txt"
    classes.write_text("a\nb\n")
    text = GOOD.replace('model = "other"', f'model = "other"\nclasses = "{classes}"')
    config, problems = parse(text)
    assert problems == []
    again, problems = parse(config.to_toml())
    assert problems == []
    assert again == config


# (toml, key named in the message, line, words in the message)
BAD = [
    ('theme = 3\n', "theme", 1, "should be a string"),
    ('theme = "a\\u0007b"\n', "theme", 1, "control or format characters"),
    ('theme = "a\\u202eb"\n', "theme", 1, "control or format characters"),
    ('\n\nwat = 1\n', "wat", 3, "unknown key"),
    ('thme = "x"\n', "thme", 1, "did you mean 'theme'"),
    ('logs = 5\n', "logs", 1, "should be a table"),
    ('[logs]\nmax_lines = "lots"\n', "logs.max_lines", 2, "whole number"),
    ('[logs]\nmax_lines = 10\n', "logs.max_lines", 2, "from 100"),
    ('[logs]\nmax_lines = true\n', "logs.max_lines", 2, "whole number"),
    ('[logs]\nmax_lines = 1.5\n', "logs.max_lines", 2, "whole number"),
    ('[logs]\ntimestamps = "yes"\n', "logs.timestamps", 2, "true or false"),
    ('[logs]\nwarp = true\n', "logs.warp", 2, "did you mean 'wrap'"),
    ('[engine]\nrefresh_fallback_s = -1\n', "engine.refresh_fallback_s", 2, "number from 1"),
    ('[engine]\nrefresh_fallback_s = nan\n', "engine.refresh_fallback_s", 2, "not nan"),
    ('[engine]\nrefresh_fallback_s = inf\n', "engine.refresh_fallback_s", 2, "not inf"),
    ('[predict]\nscale = 2.0\n', "predict.scale", 2, "1.0 (0..1) or 255.0"),
    ('[predict]\nscale = "255"\n', "predict.scale", 2, "should be a number"),
    ('[predict]\nconcurrency = 0\n', "predict.concurrency", 2, "from 1"),
    ('[predict]\nshape = [224, 224]\n', "predict.shape", 2, "[H, W, C]"),
    ('[predict]\nshape = [224, 224, 4]\n', "predict.shape", 2, "C 1 or 3"),
    ('[predict]\nendpoints = "x"\n', "predict.endpoints", 2, "[[predict.endpoints]]"),
    ('[[predict.endpoints]]\nurl = "http://a:1"\n', "predict.endpoints[0]", 1, "needs model"),
    ('[[predict.endpoints]]\nmodel = "m"\nurl = "ftp://x"\n', "predict.endpoints[0].url", 3, "http://"),
    ('[[predict.endpoints]]\nmodel = "m"\n[[predict.endpoints]]\nmodel = "n"\nclasses = "/no/such/file"\n',
     "predict.endpoints[1].classes", 5, "no such file"),
    ('[[predict.endpoints]]\nmodel = "m"\nfolder = "/no/such/dir"\n', "predict.endpoints[0].folder", 3, "no such folder"),
    ('[[predict.endpoints]]\nmodel = "m"\nport = 1\n', "predict.endpoints[0].port", 3, "unknown key"),
    ('[keys]\n"services.logs" = 5\n', "keys.services.logs", 2, "should be a string of keys"),
    ('[keys]\n"services.logs" = "ctrl+"\n', "keys.services.logs", 2, "not a key name"),
    ('[keys]\n"services.logs" = "two words"\n', "keys.services.logs", 2, "not a key name"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "key", "line", "words"), BAD)
def test_each_bad_value_is_one_message_with_key_and_line_and_the_default_stays(
    text, key, line, words
):
    config, problems = parse(text, "/home/u/.config/mltui/config.toml")
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.key, problem.line) == (key, line)
    message = str(problem)
    assert message.startswith(f"config.toml line {line}: {key}: "), message
    assert words in message
    # the rest is the defaults: a bad key costs only itself
    default = Config()
    assert (config.theme, config.keys, config.logs, config.engine) == (
        default.theme,
        {},
        default.logs,
        default.engine,
    )
    assert replace(config.predict, endpoints=()) == default.predict
    assert all(ep.model in ("m", "n") for ep in config.predict.endpoints)


def test_a_toml_syntax_error_names_its_line_and_uses_every_default():
    config, problems = parse('theme = "x"\n[logs]\nmax_lines = = 3\n', "/c/config.toml")
    assert config == Config(path="/c/config.toml")
    assert len(problems) == 1
    assert problems[0].line == 3
    assert "not valid TOML" in str(problems[0]) and "line 3" in str(problems[0])


def test_a_duplicate_key_is_a_toml_error():
    _config, problems = parse("theme = 'a'\ntheme = 'b'\n")
    assert problems[0].line == 2 and "not valid TOML" in problems[0].message


def test_a_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b'theme = "x"\n# caf\xe9\n')
    config, problems = load(path)
    assert config == Config(path=str(path))
    assert [(p.line, p.message) for p in problems] == [(2, "is not UTF-8 text; all defaults used")]


def test_a_file_that_cannot_be_read_is_a_message(tmp_path):
    path = tmp_path / "config.toml"
    path.mkdir()  # a folder where the file should be (root reads any file)
    config, problems = load(path)
    assert config == Config(path=str(path))
    assert len(problems) == 1 and "cannot be read" in problems[0].message


def test_a_fifo_is_refused_without_blocking_and_a_huge_file_is_refused(tmp_path):
    import os

    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    config, problems = load(fifo)  # reading it would wait for a writer forever
    assert config == Config(path=str(fifo))
    assert [p.message for p in problems] == [
        "cannot be read (not a regular file); all defaults used"
    ]

    huge = tmp_path / "huge.toml"
    huge.write_text("# x\n" * 400_000)
    config, problems = load(huge)
    assert config == Config(path=str(huge))
    assert [p.message for p in problems] == ["is over 1024 KiB; all defaults used"]


def test_several_bad_keys_give_one_message_each_and_good_keys_still_count():
    text = '[logs]\nmax_lines = 0\nwrap = true\n[predict]\nbatch = "x"\ntop_k = 7\n'
    config, problems = parse(text)
    assert [(p.key, p.line) for p in problems] == [("logs.max_lines", 2), ("predict.batch", 5)]
    assert config.logs.wrap is True and config.predict.top_k == 7
    assert config.logs.max_lines == 100_000 and config.predict.batch == 1


def test_locate_knows_quoted_keys_dotted_headers_and_arrays_of_tables():
    text = '[keys]\n"services.logs" = "L"\n[ predict ]\n[[predict.endpoints]]\nmodel="a"\n[[predict.endpoints]]\n  model = "b"  # c\n'
    lines = locate(text)
    assert lines["keys.services.logs"] == 2
    assert lines["predict"] == 3
    assert lines["predict.endpoints[0].model"] == 5
    assert lines["predict.endpoints[1].model"] == 7


def test_the_path_follows_mltui_config_then_xdg_then_home():
    assert config_path({"MLTUI_CONFIG": "/etc/m.toml"}) == Path("/etc/m.toml")
    assert config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/mltui/config.toml")
    # a relative XDG_CONFIG_HOME is invalid by the spec: ignored
    home = Path.home() / ".config" / "mltui" / "config.toml"
    assert config_path({"XDG_CONFIG_HOME": "rel"}) == home
    assert config_path({}) == home


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_config_and_never_raises(text):
    config, problems = parse(text)
    assert isinstance(config, Config)
    assert all(str(p) for p in problems)


@settings(max_examples=100, deadline=None)
@given(
    theme=st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), max_size=20),
    max_lines=st.integers(100, 10_000_000),
    wrap=st.booleans(),
    top_k=st.integers(1, 100),
)
def test_show_output_round_trips(theme, max_lines, wrap, top_k):
    text = f"theme = {_quote(theme)}\n[logs]\nmax_lines = {max_lines}\nwrap = {str(wrap).lower()}\n[predict]\ntop_k = {top_k}\n"
    config, problems = parse(text)
    assert problems == []
    again, problems = parse(config.to_toml())
    assert problems == [] and again == config


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- the command line ---------------------------------------------------------------------
def _mltui(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mltui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_config_path_and_show_on_the_command_line(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path), "MLTUI_CONFIG": ""}
    out = _mltui("config", "--path", env=env)
    assert out.returncode == 0 and out.stdout.strip() == str(tmp_path / "mltui/config.toml")

    out = _mltui("config", "--show", env=env)
    assert out.returncode == 0
    assert "no such file: these are the defaults" in out.stdout
    assert parse(out.stdout) == (Config(), [])

    (tmp_path / "mltui").mkdir()
    (tmp_path / "mltui/config.toml").write_text('[logs]\nmax_lines = "many"\nwrap = true\n')
    out = _mltui("config", "--show", env=env)
    assert out.returncode == 1
    assert "config.toml line 2: logs.max_lines: should be a whole number" in out.stderr
    assert "wrap = true" in out.stdout and "max_lines = 100000" in out.stdout


def test_config_example_on_the_command_line_is_the_example():
    out = _mltui("config", "--example", env={})
    assert out.returncode == 0 and out.stdout == EXAMPLE


def test_a_bad_config_does_not_stop_a_headless_command(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text("[predict\n")
    out = _mltui("--config", str(bad), "predict", str(tmp_path / "none"), env={})
    # the config problem is said, then the command runs with defaults and fails on its own terms
    assert out.returncode == 2
    assert "c.toml line 1: not valid TOML" in out.stderr
    assert "not a folder" in out.stderr
