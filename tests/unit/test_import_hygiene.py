"""core/ must import without Textual, and cheaply (lazy heavy imports)."""

import subprocess
import sys

CORE = [
    "mltui.core.engine",
    "mltui.core.inventory",
    "mltui.core.report",
    "mltui.core.textsafe",
    "mltui.deploy.images",
    "mltui.cli",
]


def test_core_never_imports_textual():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'numpy', 'PIL', 'orjson'))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"core pulled in: {out}"


def test_core_sources_do_not_mention_the_ui_framework():
    from pathlib import Path

    import mltui.core

    for path in Path(mltui.core.__file__).parent.rglob("*.py"):
        assert "textual" not in path.read_text().lower(), path


def test_the_local_socket_is_found_without_importing_docker_py(tmp_path):
    """Start-up: with no DOCKER_* variable and no current context, the target is the
    local socket and docker-py is not imported yet (it costs ~0.1 s of launch)."""
    import json
    import os

    from mltui.core.engine import DEFAULT_SOCKET, _points_elsewhere

    code = (
        "import sys\n"
        "from mltui.core.engine import resolve_target\n"
        "t = resolve_target()\n"
        "print(t.base_url, t.source, 'docker' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    assert out == [DEFAULT_SOCKET, "default", "False"]

    cfg = tmp_path / "cfg"
    cfg.mkdir()
    assert not _points_elsewhere({"DOCKER_CONFIG": str(cfg)})
    (cfg / "config.json").write_text(json.dumps({"currentContext": "default"}))
    assert not _points_elsewhere({"DOCKER_CONFIG": str(cfg)})
    (cfg / "config.json").write_text("{not json")
    assert not _points_elsewhere({"DOCKER_CONFIG": str(cfg)})
    (cfg / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    assert _points_elsewhere({"DOCKER_CONFIG": str(cfg)})
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        assert _points_elsewhere({name: "x", "DOCKER_CONFIG": str(tmp_path)})
