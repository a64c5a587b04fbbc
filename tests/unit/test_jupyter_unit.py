"""Jupyter URL parsing, host port mapping and masking: pure functions."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mltui.core.jupyter import (
    is_notebook,
    mask_token,
    parse_list_json,
    parse_log_urls,
    published,
    verdict,
)

DATA = Path(__file__).parent / "data"
TOKEN6 = "2f36e3e4182e0aed09b27145509a3ccacf80c1e59870cea6"

# jupyter_server 2.x as docker-stacks images log it (protocols.md)
SERVER2 = """\
[I 2026-11-26 18:16:07.270 ServerApp] Jupyter Server 2.14.0 is running at:
[I 2026-11-26 18:16:07.273 ServerApp] http://b63fcb9bde20:8888/lab?token=abc123def
[I 2026-11-26 18:16:07.273 ServerApp]     http://127.0.0.1:8888/lab?token=abc123def
[I 2026-11-26 18:16:07.273 ServerApp] Use Control-C to stop this server and shut down all kernels.
[C 2026-11-26 18:16:07.276 ServerApp]

    To access the server, open this file in a browser:
        file:///home/jovyan/.local/share/jupyter/runtime/jpserver-7-open.html
    Or copy and paste one of these URLs:
        http://b63fcb9bde20:8888/lab?token=abc123def
        http://127.0.0.1:8888/lab?token=abc123def
"""
# jupyter_server 1.x: the same lines under ServerApp, tree path, a base_url
SERVER1 = """\
[I 18:16:07.273 ServerApp] http://nb:8888/user/alice/tree?token=t1
[I 18:16:07.273 ServerApp]  or http://127.0.0.1:8888/user/alice/tree?token=t1
"""


def test_notebook6_log_from_a_real_container():
    (server,) = parse_log_urls((DATA / "jupyter-notebook6.log").read_text().splitlines())
    assert (server.port, server.base_url, server.path, server.token) == (8888, "/", "", TOKEN6)
    assert server.source == "logs" and not server.configured_token
    assert server.with_host("127.0.0.1", 49153) == f"http://127.0.0.1:49153/?token={TOKEN6}"


def test_a_token_set_by_configuration_is_only_a_placeholder_in_the_log():
    lines = (DATA / "jupyter-notebook6-configured-token.log").read_text().splitlines()
    (server,) = parse_log_urls(lines)
    assert server.configured_token and server.token == ""
    assert server.with_host("127.0.0.1", 9) == "http://127.0.0.1:9/"


def test_jupyter_server_2_keeps_the_lab_path():
    (server,) = parse_log_urls(SERVER2.splitlines())
    assert (server.base_url, server.path, server.token) == ("/", "lab", "abc123def")
    assert server.with_host("127.0.0.1", 40000) == "http://127.0.0.1:40000/lab?token=abc123def"


def test_jupyter_server_1_keeps_base_url_and_tree():
    (server,) = parse_log_urls(SERVER1.splitlines())
    assert (server.base_url, server.path) == ("/user/alice/", "tree")
    assert server.with_host("10.0.0.1", 8) == "http://10.0.0.1:8/user/alice/tree?token=t1"


def test_the_latest_announcement_wins_and_every_port_is_a_server():
    lines = [
        "[I 1 NotebookApp] http://a:8888/?token=old",
        "[I 2 NotebookApp] http://a:8888/?token=new",
        "[I 3 ServerApp] http://a:9999/lab?token=other",
        "see https://jupyter.org/docs for help",  # no token: not a server URL
    ]
    servers = parse_log_urls(lines)
    assert [(s.port, s.token) for s in servers] == [(8888, "new"), (9999, "other")]


def test_list_json_of_notebook6_and_jupyter_server():
    nb6 = (
        '{"base_url": "/", "hostname": "0.0.0.0", "notebook_dir": "/work", "password": false, '
        '"pid": 1, "port": 8888, "secure": false, "sock": "", "token": "sekrit", '
        '"url": "http://0.0.0.0:8888/"}\n'
    )
    js2 = (
        '{"base_url": "/jh/", "hostname": "localhost", "password": false, "pid": 7, '
        '"port": 8890, "root_dir": "/home/jovyan", "secure": false, "sock": "", '
        '"token": "t2", "url": "http://localhost:8890/jh/", "version": "2.14.0"}\n'
    )
    servers = parse_list_json((nb6 + "not json\n" + js2 + "{broken\n").encode())
    assert [(s.port, s.base_url, s.token, s.source) for s in servers] == [
        (8888, "/", "sekrit", "exec"),
        (8890, "/jh/", "t2", "exec"),
    ]
    assert parse_list_json('[{"port": 1, "token": "x"}, {"port": "no"}, 7]')[0].port == 1
    assert parse_list_json(b"\xff\xfe") == []


def test_published_port_as_the_host_sees_it():
    def insp(bindings, mode="bridge"):
        return {
            "HostConfig": {"NetworkMode": mode},
            "NetworkSettings": {"Ports": {"8888/tcp": bindings}},
        }

    assert published(insp([{"HostIp": "127.0.0.1", "HostPort": "49153"}]), 8888) == (
        "127.0.0.1",
        49153,
    )
    assert published(insp([{"HostIp": "0.0.0.0", "HostPort": "8888"}]), 8888) == (
        "127.0.0.1",
        8888,
    )
    assert published(insp(None), 8888) is None  # exposed, not published
    assert published(insp([{"HostIp": "", "HostPort": "x"}]), 8888) is None
    assert published(insp(None, mode="host"), 8890) == ("127.0.0.1", 8890)
    assert published({}, 8888) is None


def test_what_looks_like_a_notebook():
    assert is_notebook({"Image": "jupyter/tensorflow-notebook:latest"})
    assert is_notebook({"Image": "quay.io/jupyter/scipy-notebook:2024-01-01"})
    assert is_notebook({"Image": "mine:1", "Command": "jupyter lab --ip=0.0.0.0"})
    assert is_notebook({"Image": "mine:1", "Ports": [{"PrivatePort": 8888, "Type": "tcp"}]})
    assert not is_notebook({"Image": "nginx:1", "Command": "nginx -g daemon off;", "Ports": []})
    assert not is_notebook({"Image": None, "Ports": "junk"})


def test_masks_and_verdicts():
    # a long token shows its first 4 characters; a short one nothing (issue 16: a
    # 9-character token showed 4, nearly half of it)
    assert mask_token(f"http://h:1/?token={TOKEN6}", TOKEN6) == (
        f"http://h:1/?token={TOKEN6[:4]}••••••••"
    )
    assert mask_token("http://h:1/?token=abcdef123", "abcdef123") == "http://h:1/?token=••••••••"
    assert mask_token("x", "") == "x"
    assert verdict(200) == "reachable"
    assert verdict(403) == "forbidden: wrong token"
    assert verdict(None) == "not reachable from the host"
    assert verdict(502) == "answers 502"


FRAGMENTS = st.sampled_from(
    [
        "http://",
        "https://",
        "token=",
        "?token=",
        "...",
        ":8888",
        "/lab",
        " or ",
        "[I 1 ServerApp] ",
        "\n",
        "%",
        "&",
        "#",
        "a",
        "127.0.0.1",
        "]",
        " ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=30))
def test_no_url_comes_out_that_was_not_in_the_text(parts):
    text = "".join(parts)
    for server in parse_log_urls(text.splitlines()):
        assert server.url in text
        assert server.token == "" or server.token in text


def test_tokens_stay_in_url_form_so_masking_always_finds_them():
    (server,) = parse_log_urls(["[I 1 ServerApp] http://h:8888/lab?token=a%2Bb+c"])
    assert server.token == "a%2Bb+c"
    url = server.with_host("127.0.0.1", 9)
    assert url == "http://127.0.0.1:9/lab?token=a%2Bb+c"
    assert server.token not in mask_token(url, server.token)
    (listed,) = parse_list_json('{"port": 8888, "token": "a+b/c"}')
    assert listed.token == "a%2Bb%2Fc"
    assert listed.with_host("127.0.0.1", 9).endswith("?token=a%2Bb%2Fc")
