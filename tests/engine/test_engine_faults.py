"""An engine that is not there, goes away, and comes back: real sockets, real engine."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from helpers import UnixProxy

from mltui.core.engine import Engine, EngineTarget, EngineUnavailable, resolve_target
from mltui.core.inventory import Inventory

pytestmark = pytest.mark.engine


def test_no_engine_is_a_sentence_not_a_traceback(tmp_path):
    url = f"unix://{tmp_path}/nothing.sock"
    engine = Engine(EngineTarget(url, "test"))
    with pytest.raises(EngineUnavailable) as caught:
        engine.info()
    assert caught.value.message.startswith(
        f"no Docker engine answers at {url}: is it running? permission?"
    )
    assert "socket does not exist" in caught.value.message


def test_ps_without_engine_exits_2_with_the_message(tmp_path):
    url = f"unix://{tmp_path}/nothing.sock"
    result = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "-H", url, "ps"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert f"mltui: no Docker engine answers at {url}" in result.stderr
    assert "Traceback" not in result.stderr
    json_result = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "-H", url, "ps", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert json_result.returncode == 2
    assert '"state": "down"' in json_result.stdout


def test_tcp_port_with_nothing_listening(tmp_path):
    engine = Engine(EngineTarget("tcp://127.0.0.1:9", "test"), timeout=3)
    with pytest.raises(EngineUnavailable) as caught:
        Inventory(engine).snapshot()
    assert "no Docker engine answers at tcp://127.0.0.1:9" in caught.value.message


def test_docker_host_and_context_resolution(tmp_path, monkeypatch):
    target = resolve_target({"DOCKER_HOST": "tcp://127.0.0.1:2375"})
    assert target.source == "DOCKER_HOST"
    assert target.base_url.endswith("127.0.0.1:2375")
    # a context written by the real `docker context create`, in a private config dir
    cfg = tmp_path / "dockercfg"
    for args in (
        ["context", "create", "elsewhere", "--docker", f"host=unix://{tmp_path}/other.sock"],
        ["context", "use", "elsewhere"],
    ):
        subprocess.run(["docker", "--config", str(cfg), *args], check=True, capture_output=True)
    monkeypatch.setenv("DOCKER_CONFIG", str(cfg))  # docker-py reads it from os.environ
    target = resolve_target({"DOCKER_CONFIG": str(cfg)})
    assert target.source == "context elsewhere"
    assert target.base_url == f"unix://{tmp_path}/other.sock"
    with pytest.raises(EngineUnavailable) as caught:
        Engine(target).info()
    assert f"unix://{tmp_path}/other.sock" in caught.value.message


def test_engine_restart_through_a_proxy(tmp_path, engine_info):
    proxy = UnixProxy(str(tmp_path / "engine.sock"))
    proxy.start()
    engine = Engine(EngineTarget(proxy.url, "test"), timeout=5)
    inventory = Inventory(engine)
    try:
        first = inventory.snapshot()
        assert first.engine.connected
        proxy.stop()
        with pytest.raises(EngineUnavailable):
            inventory.snapshot()
        proxy.start()
        again = inventory.snapshot()
        assert again.engine.connected
        assert {s.key for s in again.stacks} >= {s.key for s in first.stacks if s.kind != "none"}
    finally:
        proxy.stop()
        engine.close()


def test_event_stream_breaks_when_the_engine_goes(tmp_path, engine_info):
    import threading

    proxy = UnixProxy(str(tmp_path / "engine.sock"))
    proxy.start()
    engine = Engine(EngineTarget(proxy.url, "test"), timeout=5)
    stream = engine.events()
    outcome: list[object] = []

    def consume():
        try:
            for _ in stream:
                pass
            outcome.append("ended")
        except EngineUnavailable as exc:
            outcome.append(exc)

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    proxy.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert isinstance(outcome[0], EngineUnavailable)
    engine.close()


def test_a_server_that_is_not_docker(tmp_path):
    """Something answers HTTP on the address, but it is not a Docker engine."""
    import http.server
    import threading

    class NotDocker(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"hello": "world"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotDocker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"tcp://127.0.0.1:{server.server_port}"
        with pytest.raises(EngineUnavailable) as caught:
            Engine(EngineTarget(url, "test"), timeout=5).info()
        assert "answers, but not like a Docker engine" in caught.value.message
    finally:
        server.shutdown()


def test_raw_socket_reads_match_docker_py_and_need_no_docker_py(container_factory):
    """On a local engine the inventory's reads go over the unix socket with the
    standard library: the same answers as docker-py, and docker-py stays unloaded."""
    import docker

    name = container_factory("raw-reads")
    engine = Engine()
    api = docker.APIClient(base_url="unix:///var/run/docker.sock", version="auto")
    try:
        ours = {c["Id"]: c["Names"] for c in engine.containers()}
        theirs = {c["Id"]: c["Names"] for c in api.containers(all=True)}
        assert ours == theirs and any(f"/{name}" in n for n in ours.values())
        assert {s["ID"] for s in engine.services()} == {s["ID"] for s in api.services()}
        assert {t["ID"] for t in engine.tasks()} == {t["ID"] for t in api.tasks()}
        cid = next(i for i, n in ours.items() if f"/{name}" in n)
        assert engine.inspect_container(cid)["Config"] == api.inspect_container(cid)["Config"]
        assert engine.info().server_version == api.version()["Version"]
        # the same reads through docker-py, the path remote engines (tcp, ssh) take
        remote_path = Engine()
        remote_path._raw = None
        try:
            assert {c["Id"] for c in remote_path.containers()} == set(ours)
            assert (
                remote_path.inspect_container(cid)["Config"] == api.inspect_container(cid)["Config"]
            )
            assert replace(remote_path.info(), checked_at=0) == replace(engine.info(), checked_at=0)
            assert remote_path.calls["containers"] == 1 and "version" in remote_path.calls
        finally:
            remote_path.close()
    finally:
        api.close()
        engine.close()

    code = (
        "import sys\n"
        "from mltui.core.engine import Engine\n"
        "from mltui.core.inventory import Inventory\n"
        "engine = Engine()\n"
        "inv = Inventory(engine)\n"
        "inv.set_info(engine.info())\n"
        "snap = inv.snapshot()\n"
        "print(len(list(snap.services())) > 0, 'docker' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["True", "False"]


def test_raw_socket_errors_read_like_docker_py_errors(tmp_path):
    import socket
    import threading

    from mltui.core.engine import EngineError

    engine = Engine()
    try:
        with pytest.raises(EngineError) as caught:
            engine.inspect_container("no-such-container-mltui")
        assert caught.value.status == 404
        assert "no-such-container-mltui" in str(caught.value)
    finally:
        engine.close()

    # something on a unix socket that answers, but not like an engine
    path = str(tmp_path / "liar.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()

    def answer() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # the test closed the server: done
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    liar = Engine(EngineTarget(f"unix://{path}", "test"), timeout=5)
    with pytest.raises(EngineUnavailable) as caught:
        liar.info()
    assert "answers, but not like a Docker engine" in caught.value.message
    liar.close()
    server.shutdown(socket.SHUT_RDWR)
    server.close()
    thread.join(5)
    assert not thread.is_alive()


def test_events_between_a_snapshot_and_the_stream_are_replayed(container_factory, run_id):
    """The watcher subscribes from the time a snapshot starts (events `since`), so a
    change between the snapshot and the stream opening is not lost."""
    import time

    engine = Engine()
    try:
        since = time.time()
        Inventory(engine).snapshot()
        name = container_factory("between")  # after the snapshot, before the stream
        stream = engine.events(since=since, until=time.time() + 1)
        seen = [
            (e.get("Action"), (e.get("Actor") or {}).get("Attributes", {}).get("name"))
            for e in stream
        ]
        assert ("start", name) in seen, seen
    finally:
        engine.close()
