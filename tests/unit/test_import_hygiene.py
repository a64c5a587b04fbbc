"""core/ must import without Textual, and cheaply (lazy heavy imports)."""

import subprocess
import sys

CORE = [
    "mltui.core.engine",
    "mltui.core.inventory",
    "mltui.core.report",
    "mltui.core.detail",
    "mltui.core.roles",
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


def test_screens_and_the_palette_do_not_import_the_app():
    """ui/app.py imports the screens and the palette; they ask it through messages
    (ui/requests.py), so nothing imports it back."""
    import ast
    from pathlib import Path

    import mltui.ui

    for path in Path(mltui.ui.__file__).parent.glob("*.py"):
        if path.name == "app.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                # from .app import X, from . import app, from mltui.ui.app import X
                module = ("." * node.level) + (node.module or "")
                targets = [module] + [f"{module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                assert target not in (".app", "..app", "mltui.ui.app"), (
                    f"{path.name} imports the app"
                )


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
