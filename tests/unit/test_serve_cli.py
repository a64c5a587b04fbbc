"""`mltui --serve` refuses, with one sentence, what it cannot serve on."""

from __future__ import annotations

import socket
import subprocess
import sys


def _serve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mltui", "--serve", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_port_in_use_an_unknown_address_and_a_bad_port_are_sentences():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = _serve("--port", str(port))
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"mltui: cannot serve on 127.0.0.1:{port}: Address already in use "
        "(another mltui --serve? pick another --port)"
    )
    assert "Traceback" not in out.stderr

    out = _serve("--address", "no-such-host.invalid", "--port", "8000")
    assert out.returncode == 2
    assert out.stderr.startswith(
        "mltui: cannot serve on no-such-host.invalid:8000: no such address"
    )

    out = _serve("--port", "70000")
    assert (out.returncode, out.stderr.strip()) == (
        2,
        "mltui: --port 70000: give a port from 1 to 65535",
    )


def test_serve_takes_no_command():
    out = subprocess.run(
        [sys.executable, "-m", "mltui", "--serve", "ps"], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 2
    assert "--serve serves the dashboard; leave out the command" in out.stderr
