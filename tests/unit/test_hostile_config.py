"""Hostile configuration files (issue 16): numbers of any size, deep nesting, names
with escapes, and text that made the key locator take cubic time. Whatever the
file holds, loading never raises, every problem is one printable message, and
every value mltui keeps is safe to show."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltui.core.config import Config, load, locate, parse


def unsafe_chars(text: str) -> list[str]:
    """The oracle: every C0 control (ESC included), DEL and C1 control in
    ``text``, by code point, written here and not taken from mltui."""
    return [c for c in text if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F]


# -- numbers of any size: one problem each, the default kept ------------------------------
HUGE_HEX = "0x1" + "0" * 4000  # 16,000 bits: no float holds it, no str() writes it
HUGE_DEC = "1" + "0" * 5000  # over Python's 4,300-digit limit on reading an int


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (f"[engine]\nrefresh_fallback_s = {HUGE_HEX}\n", "engine.refresh_fallback_s", "digits"),
        (f"[logs]\nmax_lines = {HUGE_HEX}\n", "logs.max_lines", "digits"),
        ("[logs]\nmax_lines = 0o7" + "7" * 3000 + "\n", "logs.max_lines", "digits"),
        ("[logs]\nmax_lines = 0b1" + "1" * 9000 + "\n", "logs.max_lines", "digits"),
        (f"[predict]\ntimeout_s = {HUGE_HEX}\n", "predict.timeout_s", "digits"),
        (f"[predict]\nscale = {HUGE_HEX}\n", "predict.scale", "digits"),
        (f"[predict]\nshape = [{HUGE_HEX}, 1, 3]\n", "predict.shape", "digits"),
        (f'[keys]\n"services.logs" = [{HUGE_HEX}]\n', "keys.services.logs", "digits"),
        (f"theme = {HUGE_HEX}\n", "theme", "digits"),
        (f"[logs]\ntimestamps = {HUGE_HEX}\n", "logs.timestamps", "digits"),
    ],
)
def test_a_number_of_any_size_is_one_problem_and_the_default_stays(text, key, words):
    config, problems = parse(text, "/c/config.toml")
    assert [(p.key, p.line) for p in problems] == [(key, 2 if "\n" in text[:-1] else 1)]
    message = str(problems[0])
    assert words in message and len(message) < 300
    assert config.logs == Config().logs and config.engine == Config().engine
    assert config.predict.shape is None and config.keys == {}


def test_a_decimal_past_pythons_digit_limit_is_one_problem_with_its_line():
    config, problems = parse(f'theme = "x"\n\n[logs]\nmax_lines = {HUGE_DEC}\n', "/c/config.toml")
    assert config == Config(path="/c/config.toml")
    (problem,) = problems
    assert problem.line == 4
    assert "5,001 digits" in str(problem) and "all defaults used" in str(problem)


def test_values_nested_deeper_than_python_recurses_are_one_problem():
    config, problems = parse("x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert config == Config()
    assert [p.message for p in problems] == ["has values nested too deeply; all defaults used"]


def test_an_endpoint_path_too_long_or_naming_no_user_is_one_problem():
    text = (
        '[[predict.endpoints]]\nmodel = "m"\nclasses = "' + "a" * 5000 + '"\n'
        '[[predict.endpoints]]\nmodel = "n"\nfolder = "~no-such-user-mltui/x"\n'
    )
    config, problems = parse(text)
    assert [(p.key, p.line) for p in problems] == [
        ("predict.endpoints[0].classes", 3),
        ("predict.endpoints[1].folder", 6),
    ]
    assert all("cannot check" in p.message for p in problems)
    assert [(e.model, e.classes, e.folder) for e in config.predict.endpoints] == [
        ("m", "", ""),
        ("n", "", ""),
    ]


def test_every_command_survives_a_config_with_huge_numbers(tmp_path):
    """The config loads before any command: a traceback there stopped them all."""
    path = tmp_path / "config.toml"
    path.write_text(f"[engine]\nrefresh_fallback_s = {HUGE_HEX}\n[logs]\nmax_lines = {HUGE_DEC}\n")
    out = subprocess.run(
        [sys.executable, "-m", "mltui", "--config", str(path), "config", "--show"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert "Traceback" not in out.stderr
    assert out.returncode == 1
    assert "config.toml line 4: has a number of 5,001 digits" in out.stderr
    assert "refresh_fallback_s = 300.0" in out.stdout


# -- the key locator: linear, and not fooled by strings and arrays ------------------------
@pytest.mark.timeout(10)  # a hang guard: the old header regex took about 20 s here
def test_the_cubic_header_case_loads():
    text = 'theme = """\n[' + " " * 4000 + 'x\n"""\n[logs]\nwrap = 3\n'
    config, problems = parse(text)
    assert [(p.key, p.line) for p in problems] == [("theme", 1), ("logs.wrap", 5)]
    assert config.theme == ""


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "line",
    ["[" + " " * 100_000, "[" + "a." * 50_000, '"' + "\\" * 100_001, "a" + " " * 100_000 + "."],
)
def test_long_lines_of_every_kind_load(line):
    """Each as a line of its own (invalid TOML, one problem) and inside a string
    (valid, located line by line)."""
    for text in (line + "\n", "theme = '''\n" + line + "\n'''\n[logs]\nwrap = 1\n"):
        _config, problems = parse(text)
        assert len(problems) in (1, 2)
        assert all(unsafe_chars(str(p)) == [] for p in problems)


def test_lines_inside_multiline_strings_and_arrays_are_no_headers_or_keys():
    text = (
        'theme = """\n[predict]\ntop_k = 1\n"""\n'  # 1-4: one string
        "[logs]\n"  # 5
        "max_lines = [\n  [1, 2]\n]\n"  # 6-8
        "wrap = '''\n[[x]]\n'''''\n"  # 9-11: ends with two quotes of content
        'd."e\\u0041" = 1\n'  # 12
        "[[predict.endpoints]] # c\n"  # 13
        'model = "a" # [b]\n'  # 14
    )
    assert locate(text) == {
        "theme": 1,
        "logs": 5,
        "logs.max_lines": 6,
        "logs.wrap": 9,
        "logs.d.eA": 12,
        "predict.endpoints[0]": 13,
        "predict.endpoints": 13,
        "predict.endpoints[0].model": 14,
    }


# -- names with escapes (the text-safety table change fixed these: regressions) ------------
def test_key_names_with_esc_or_c1_are_shown_escaped():
    text = '"\\u001b]52;c;eA==\\u0007x" = 1\n[logs]\n"w\\u009bq" = 2\n'
    _config, problems = parse(text)
    assert [p.line for p in problems] == [1, 3]
    for problem in problems:
        assert unsafe_chars(str(problem)) == []
    assert "\\u001b]52" in problems[0].key and "\\u009b" in problems[1].key


def test_a_binding_id_with_c1_is_refused_not_accepted_silently():
    config, problems = parse('[keys]\n"services.\\u0085logs" = "L"\n"app.help" = "f1"\n')
    assert config.keys == {"app.help": "f1"}
    (problem,) = problems
    assert problem.line == 2 and "binding id" in problem.message
    assert unsafe_chars(str(problem)) == []


def test_a_config_path_with_escapes_is_shown_safe(tmp_path):
    path = tmp_path / "c\x1b[2Jonfig.toml"
    path.write_text("wat = 1\n")
    _config, problems = load(path)
    assert len(problems) == 1 and unsafe_chars(str(problems[0])) == []


# -- property: arbitrary configuration text --------------------------------------------------
def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string, escaping what TOML needs escaped."""
    out = []
    for c in text:
        if c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
HUGE_INTS = st.one_of(
    st.integers(),
    st.integers(1, 6000).map(lambda n: "1" + "0" * n),
    st.integers(1, 6000).map(lambda n: "0x" + "f" * n),
    st.integers(1, 3000).map(lambda n: "0o7" + "7" * n),
    st.integers(1, 9000).map(lambda n: "0b" + "1" * n),
).map(str)
VALUES = st.one_of(
    HUGE_INTS,
    st.floats().map(repr),
    st.booleans().map(lambda b: str(b).lower()),
    TEXT.map(_toml_string),
    st.integers(0, 20_000).map(lambda n: _toml_string("x" * n)),
    st.lists(HUGE_INTS, max_size=4).map(lambda v: "[" + ", ".join(v) + "]"),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    st.just("{a = 1}"),
)
KNOWN_KEYS = [
    "theme",
    "max_lines",
    "timestamps",
    "wrap",
    "refresh_fallback_s",
    "concurrency",
    "batch",
    "scale",
    "top_k",
    "timeout_s",
    "shape",
    "model",
    "url",
    "classes",
    "folder",
    "service",
    "endpoints",
    '"services.logs"',
    '"app.help"',
]
KEYS = st.one_of(
    st.sampled_from(KNOWN_KEYS),
    TEXT.map(_toml_string),
)
HEADERS = st.sampled_from(
    ["[logs]", "[engine]", "[predict]", "[keys]", "[[predict.endpoints]]", "[other]"]
)
LINES = st.one_of(
    st.tuples(KEYS, VALUES).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    HEADERS,
    TEXT,  # and anything at all (mostly invalid TOML)
)


def _check(text: str) -> None:
    config, problems = parse(text, "/c/config.toml")
    assert isinstance(config, Config)
    for problem in problems:
        message = str(problem)
        assert message and unsafe_chars(message) == [], message
        assert len(message) < 1000
    kept = [config.theme, *config.keys, *config.keys.values()]
    kept += [v for ep in config.predict.endpoints for v in vars(ep).values()]
    assert all(unsafe_chars(v) == [] for v in kept)


@settings(max_examples=150, deadline=None)
@given(st.lists(LINES, max_size=12))
def test_any_configuration_loads_and_every_problem_is_printable(lines):
    _check("\n".join(lines) + "\n")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_any_text_at_all_loads(text):
    _check(text)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["logs", "engine", "predict", "keys", "x.y"]),
            st.lists(
                st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), max_size=4, unique=True
            ),
            st.lists(st.sampled_from(["[a]", "[[b]]", "k = 1", '"""', "x"]), max_size=3),
        ),
        max_size=5,
        unique_by=lambda t: t[0],
    )
)
def test_locate_places_every_key_on_its_line(tables):
    """The expected lines are counted here, while the file is written."""
    out: list[str] = []
    expected: dict[str, int] = {}
    for table, keys, decoys in tables:
        out.append(f"[{table}]")
        expected[table] = len(out)
        for key in keys:
            out.append(f"{key} = '''")  # a multi-line string of lines that look like TOML
            expected[f"{table}.{key}"] = len(out)
            out.extend(d.replace('"""', "'") for d in decoys)
            out.append("'''")
    found = locate("\n".join(out) + "\n")
    assert found == expected


@pytest.mark.timeout(10)  # a hang guard: tomllib itself is quadratic in a key's parts
def test_a_key_of_thousands_of_dotted_parts_is_one_problem_not_a_hang():
    config, problems = parse('theme = "x"\n[' + "a." * 50_000 + "a]\n")
    assert config == Config()
    assert [(p.line, p.message) for p in problems] == [
        (2, "has a key of 50,001 dotted parts, more than the 64 mltui reads; all defaults used")
    ]
