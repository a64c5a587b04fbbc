"""The one text-safety table, checked against an oracle written here: explicit code
point lists and Unicode categories, not the implementation's own ranges."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltui.core import textsafe
from mltui.core.config import parse
from mltui.core.logstream import LogDecoder, sanitize_line
from mltui.core.textsafe import is_safe, refused_in_config, safe_text

# -- the oracle ----------------------------------------------------------------------
C0 = set(range(0x00, 0x20))
DEL = {0x7F}
C1 = set(range(0x80, 0xA0))
BIDI = {
    0x061C,  # ARABIC LETTER MARK
    0x200E,  # LEFT-TO-RIGHT MARK
    0x200F,  # RIGHT-TO-LEFT MARK
    0x202A,  # LEFT-TO-RIGHT EMBEDDING
    0x202B,  # RIGHT-TO-LEFT EMBEDDING
    0x202C,  # POP DIRECTIONAL FORMATTING
    0x202D,  # LEFT-TO-RIGHT OVERRIDE
    0x202E,  # RIGHT-TO-LEFT OVERRIDE
    0x2066,  # LEFT-TO-RIGHT ISOLATE
    0x2067,  # RIGHT-TO-LEFT ISOLATE
    0x2068,  # FIRST STRONG ISOLATE
    0x2069,  # POP DIRECTIONAL ISOLATE
}
ZERO_WIDTH = {
    0x200B,  # ZERO WIDTH SPACE
    0x200C,  # ZERO WIDTH NON-JOINER
    0x200D,  # ZERO WIDTH JOINER
    0x2060,  # WORD JOINER
    0xFEFF,  # ZERO WIDTH NO-BREAK SPACE (BOM)
}
SEPARATORS = {0x2028, 0x2029}
SURROGATES = set(range(0xD800, 0xE000))
REPLACED = C1 | BIDI | ZERO_WIDTH | SEPARATORS | SURROGATES


def expected_on_screen(char: str) -> str:
    code = ord(char)
    if code in C0:
        return chr(0x2400 + code)  # SYMBOL FOR NULL ... SYMBOL FOR UNIT SEPARATOR
    if code in DEL:
        return "\u2421"  # SYMBOL FOR DELETE
    if code in REPLACED:
        return "\ufffd"
    return char


def expected_refused_in_config(char: str) -> bool:
    # every control, format, surrogate, private-use or unassigned character, and
    # the line and paragraph separators
    return unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def test_every_character_of_the_basic_plane_is_shown_as_the_table_says():
    wrong = [
        hex(code)
        for code in range(0x10000)
        if safe_text(chr(code)) != expected_on_screen(chr(code))
        or refused_in_config(chr(code)) != expected_refused_in_config(chr(code))
    ]
    assert wrong == []


def test_what_the_screen_replaces_the_configuration_refuses():
    for code in C0 | DEL | REPLACED:
        assert expected_refused_in_config(chr(code)), hex(code)


@settings(max_examples=500)
@given(st.integers(0, 0x10FFFF).map(chr))
def test_any_code_point(char):
    assert safe_text(char) == expected_on_screen(char)
    assert refused_in_config(char) == expected_refused_in_config(char)
    assert is_safe(char) == (safe_text(char) == char)


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40))
def test_text_is_replaced_character_by_character(text):
    assert safe_text(text) == "".join(expected_on_screen(c) for c in text)
    assert refused_in_config(text) == any(expected_refused_in_config(c) for c in text)


# logs add their own steps first: TAB expanded, ESC starts a sequence, a trailing CR goes
LOG_STEPS = {"\t", "\x1b", "\r"}


def test_container_logs_follow_the_same_table():
    wrong = [
        hex(code)
        for code in range(0x10000)
        if chr(code) not in LOG_STEPS
        and sanitize_line(f"a{chr(code)}b") != f"a{expected_on_screen(chr(code))}b"
    ]
    assert wrong == []


@pytest.mark.parametrize("code", sorted(BIDI | ZERO_WIDTH | SEPARATORS | {0x85}))
def test_the_log_decoder_replaces_them_on_its_fast_path_too(code):
    ts = b"2026-11-26T21:14:19.628794017Z"
    payload = ts + b" x" + chr(code).encode() + b"y\n" + ts + b" plain\n"
    lines, _ = LogDecoder(chunked=False, tty=True).feed(payload)
    assert lines == [f"{ts.decode()} x\ufffdy", f"{ts.decode()} plain"]


def test_the_table_documents_every_row_and_names_what_it_does():
    for row in textsafe.TABLE:
        assert row.shown_as in ("picture", "U+FFFD", "as is")
        assert row.in_config in ("refused", "accepted")
        assert row.name in textsafe.__doc__


# -- the configuration: values, key names and binding ids -------------------------
@pytest.mark.parametrize("char", ["\x1b", "\x9b", "\u061c", "\u200b", "\u2028", "\ue000"])
def test_a_config_value_with_a_refused_character_is_refused(char):
    escaped = f"\\u{ord(char):04x}"
    config, problems = parse(f'theme = "a{escaped}b"\n')
    assert config.theme != f"a{char}b"
    assert [p.key for p in problems] == ["theme"]
    assert "control or format characters" in problems[0].message


@pytest.mark.parametrize("char", ["\x1b", "\x9b", "\u202e", "\u061c"])
def test_key_names_and_binding_ids_with_controls_are_refused_not_echoed(char):
    escaped = f"\\u{ord(char):04x}"
    text = f'"x{escaped}" = 1\n[keys]\n"app.quit{escaped}" = "q"\n"app.help" = "h{escaped}"\n'
    config, problems = parse(text)
    assert config.keys == {}
    assert len(problems) == 3
    for problem in problems:
        shown = str(problem)
        assert char not in shown, repr(shown)
        assert is_safe(shown) and not refused_in_config(problem.key)
    assert problems[0].key == f"x\\u{ord(char):04x}"
    assert "control or format characters" in problems[0].message
    assert problems[1].key == f"keys.app.quit\\u{ord(char):04x}"
    assert "control or format characters" in problems[1].message
    assert problems[2].key == "keys.app.help"
