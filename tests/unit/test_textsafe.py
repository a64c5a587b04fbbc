from hypothesis import given
from hypothesis import strategies as st

from mltui.core.textsafe import is_safe, safe_text


def test_escape_sequences_become_visible_pictures():
    assert safe_text("evil\x1b]52;c;aGk=\x07x") == "evil␛]52;c;aGk=␇x"
    assert safe_text("a\r\nb\tc") == "a␍␊b␉c"
    assert safe_text("\x9b31m") == "\ufffd31m"
    assert safe_text("abc\u202edef") == "abc\ufffddef"
    assert safe_text("ok") == "ok"
    assert safe_text(None) == ""
    assert safe_text(42) == "42"


def test_limit_cuts_with_an_ellipsis():
    assert safe_text("x" * 10, 5) == "xxxx…"
    assert safe_text("short", 5) == "short"


@given(st.text())
def test_any_text_comes_out_safe_and_one_line(text):
    out = safe_text(text)
    assert is_safe(out)
    assert "\n" not in out and "\x1b" not in out
    # nothing but unsafe characters is changed
    if is_safe(text):
        assert out == text


@given(st.text(), st.integers(min_value=1, max_value=200))
def test_limit_is_respected(text, limit):
    assert len(safe_text(text, limit)) <= limit
