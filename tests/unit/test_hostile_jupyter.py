"""Hostile notebook servers (issue 16): what `jupyter server list --json` and a
container's log say is checked and made safe, masking hides every token and
nothing else, and a token read from a log is the one the server takes."""

from __future__ import annotations

import argparse
import json
from urllib.parse import parse_qsl, urlencode, urlsplit

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mltui.core.inventory.model import Replica, Service
from mltui.core.jupyter import (
    Notebook,
    NotebookScan,
    _notebooks_of,
    mask_token,
    masked,
    parse_list_json,
    parse_log_urls,
)


def unsafe_chars(text: str) -> list[str]:
    """The oracle: C0 controls (ESC included), DEL and C1 controls, by code point."""
    return [c for c in text if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F]


# -- the list command's JSON ----------------------------------------------------------------
def test_a_base_url_with_escapes_never_reaches_the_url():
    line = json.dumps(
        {"port": 8888, "token": "t" * 48, "base_url": "/x\x1b]52;c;ZXZpbA==\x07\x9b6n/",
         "url": "http://h:8888/\x1b[2J"}
    )  # fmt: skip
    (server,) = parse_list_json(line)
    assert server.problem == ""
    url = server.with_host("127.0.0.1", 9)
    assert unsafe_chars(url) == [] and unsafe_chars(server.url) == []
    assert url.startswith("http://127.0.0.1:9/x%1B%5D52;c;ZXZpbA==%07%C2%9B6n/?token=")


def test_a_bad_entry_is_named_and_the_others_are_still_listed():
    entries = [
        {"port": 8888, "token": "a" * 48},
        {"port": "8889", "token": "b"},
        {"port": 70000},
        {"port": True},
        {"port": 8890, "base_url": 5},
        {"port": 8891, "token": ["x"]},
        {"port": 8892, "base_url": "\x1b[2J"},
    ]
    text = "\n".join(json.dumps(e) for e in entries) + "\n{" + '"a": 1,' * 20_000 + '"port": 1}\n'
    servers = parse_list_json(text)
    assert [(s.port, bool(s.problem)) for s in servers] == [
        (8888, False), (0, True), (0, True), (0, True), (8890, True), (8891, True),
        (8892, False), (0, True),
    ]  # fmt: skip
    notes = [s.problem for s in servers if s.problem]
    assert 'port "8889"' in notes[0] and "port 70000" in notes[1] and "port true" in notes[2]
    assert "base_url a number" not in notes[3] and "base_url 5" in notes[3]
    assert "token that is not a string" in notes[4] and "characters for a line" in notes[5]
    assert all(unsafe_chars(n) == [] for n in notes)
    assert servers[6].base_url == "/%1B%5B2J/"


def test_deep_or_huge_json_lines_are_skipped_without_raising():
    assert parse_list_json("[" * 30_000 + "]" * 30_000) == []  # under the line limit, too deep
    assert parse_list_json('{"port": 1' + "0" * 5000 + "}") == []


class _Engine:
    """Just what one container's scan asks of an engine: its inspect, and the
    list command's answer."""

    def __init__(self, listed: str) -> None:
        self.listed = listed.encode()

    def inspect_container(self, cid: str) -> dict:
        ports = {"8888/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49153"}]}
        return {"Config": {"Tty": False}, "NetworkSettings": {"Ports": ports}}

    def exec_run(self, cid: str, cmd: list[str], timeout: float) -> tuple[int, bytes]:
        return 0, self.listed


def _scan(listed: str, log: list[str] | None = None) -> list[Notebook]:
    replica = Replica("c1", "nb-1", "container", None, "running", None, "img", container_id="c1")
    svc = Service("container:c1", "nb", "", "container", 1, 1, "img", (), (replica,))
    return _notebooks_of(
        _Engine(listed), svc, "nb-1", {"Id": "c1", "State": "running"}, {},
        lambda url: 200, lambda cid, tty: log or [],
    )  # fmt: skip


def test_a_server_with_a_bad_entry_has_a_note_and_the_good_one_a_url():
    listed = json.dumps({"port": "x\x1b[2J"}) + "\n" + json.dumps({"port": 8888, "token": "s" * 48})
    bad, good = _scan(listed)
    assert bad.status == "not understood" and bad.url == ""
    assert "port" in bad.note and unsafe_chars(bad.note) == []
    assert good.status == "reachable" and good.url == f"http://127.0.0.1:49153/?token={'s' * 48}"
    assert "2 servers" in good.note


def test_a_short_token_is_said_to_be_weak_and_not_shown():
    (nb,) = _scan(json.dumps({"port": 8888, "token": "abcd"}))
    assert "token is weak: 4 characters" in nb.note
    assert nb.masked_url == "http://127.0.0.1:49153/?token=••••••••"
    assert nb.as_dict()["token"] == "••••••••" and "abcd" not in json.dumps(nb.as_dict())
    (strong,) = _scan(json.dumps({"port": 8888, "token": "x" * 48}))
    assert "weak" not in strong.note


def test_the_text_output_of_mltui_jupyter_shows_no_escape(monkeypatch, capsys):
    from mltui.cli import jupyter as cli

    nb = Notebook(
        service="st/\x1b]0;pwned\x07nb", service_key="k", replica="r\x9b2J", container_id="c",
        container_port=8888, token="t" * 48, url="http://127.0.0.1:1/x\x1b[6n/?token=" + "t" * 48,
        container_url="", status="reachable", source="exec", note="n\x1b[?1049h",
    )  # fmt: skip

    class _Closing:
        def close(self) -> None:
            pass

    monkeypatch.setattr(cli, "engine_snapshot", lambda host, who: (_Closing(), None, None))
    monkeypatch.setattr(
        "mltui.core.jupyter.find_notebooks", lambda *a, **k: NotebookScan(notebooks=[nb])
    )
    for show in (False, True):
        args = argparse.Namespace(host=None, service=None, json=False, show_token=show)
        assert cli.run(args) == 0
        out = capsys.readouterr().out
        assert unsafe_chars(out.replace("\n", "")) == []
        assert ("t" * 48 in out) is show


# -- masking ---------------------------------------------------------------------------------
def test_a_token_that_is_part_of_token_leaves_the_parameter_name_alone():
    url = "http://h:1/lab?token=tok"
    assert mask_token(url, "tok") == "http://h:1/lab?token=••••••••"
    assert mask_token("http://h:1/tok?a=tok&token=tok#tok", "tok") == (
        "http://h:1/tok?a=tok&token=••••••••#tok"
    )


def test_no_short_token_is_readable():
    for n in range(1, 16):
        token = "abcdefghijklmnop"[:n]
        assert masked(token) == "••••••••"
    assert masked("a" * 16) == "aa••••••••"  # an eighth of it
    assert masked("b" * 48) == "bbbb••••••••"  # never more than 4


URL_SAFE = "ABCXYZabcxyz0189-._~!$()*,;:@/?="  # query characters that need no encoding
PARAM = st.tuples(
    st.text("abcdefghij", min_size=1, max_size=5).filter(lambda n: n != "token"),
    st.text(URL_SAFE, max_size=8),
).map(lambda kv: f"{kv[0]}={kv[1]}")


@settings(max_examples=300, deadline=None)
@given(
    token=st.text(URL_SAFE + "%+", min_size=1, max_size=40),
    before=st.lists(PARAM, max_size=3),
    after=st.lists(PARAM, max_size=3),
    fragment=st.text(URL_SAFE, max_size=6),
)
def test_the_masked_url_never_holds_the_token_and_keeps_every_other_parameter(
    token, before, after, fragment
):
    query = "&".join([*before, f"token={token}", *after])
    url = f"http://h:8888/lab?{query}" + (f"#{fragment}" if fragment else "")
    out = mask_token(url, token)
    head, _, rest = out.partition("?")
    assert head == "http://h:8888/lab"
    rest, hash_, frag = rest.partition("#")
    assert (hash_, frag) == (("#", fragment) if fragment else ("", ""))
    params = rest.split("&")
    assert params[: len(before)] == before and params[len(before) + 1 :] == after
    shown = params[len(before)]
    assert shown.startswith("token=") and token not in shown[len("token=") :]
    others = "&".join([*before, *after]) + fragment + "http://h:8888/lab?token="
    if token not in others:  # the token is nowhere else in the URL: nowhere in the output
        assert token not in out


# -- tokens read from a log ------------------------------------------------------------------
def test_a_token_keeps_its_last_characters_and_its_encoded_ampersand_and_hash():
    lines = [
        "[I 1 ServerApp] http://h:8888/lab?token=abc.,;)]}",
        "[I 1 ServerApp] http://h:9999/lab?token=a%26b%23c&next=1#frag",
    ]
    first, second = parse_log_urls(lines)
    assert first.token == "abc.,;)]}"
    assert first.with_host("127.0.0.1", 1) == "http://127.0.0.1:1/lab?token=abc.,;)]}"
    assert dict(parse_qsl(urlsplit(second.with_host("127.0.0.1", 2)).query)) == {"token": "a&b#c"}


def _token_from(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))["token"]


@settings(max_examples=300, deadline=None)
@given(st.text(URL_SAFE, min_size=1, max_size=40))
def test_a_url_safe_token_written_as_is_round_trips(token):
    assume(token != "...")  # Jupyter's placeholder for a configured token
    (server,) = parse_log_urls([f"[I 1 ServerApp] http://b63f:8888/lab?token={token}"])
    assert server.token == token
    url = server.with_host("127.0.0.1", 40000)
    assert url == f"http://127.0.0.1:40000/lab?token={token}"
    assert _token_from(url) == token


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30))
def test_any_token_as_jupyter_encodes_it_round_trips(token):
    """Jupyter writes the token with urlencode; the server reads it back decoded."""
    assume(token != "...")
    line = f"[I 1 ServerApp]     http://b63f:8888/user/a/tree?{urlencode({'token': token})}"
    (server,) = parse_log_urls([line])
    url = server.with_host("127.0.0.1", 40000)
    assert url.startswith("http://127.0.0.1:40000/user/a/tree?token=")
    assert _token_from(url) == token
    assert unsafe_chars(url) == [] and unsafe_chars(mask_token(url, server.token)) == []
