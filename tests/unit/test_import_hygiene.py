"""core/ must import without Textual, and cheaply (lazy heavy imports)."""

import subprocess
import sys

CORE = [
    "mltui.core.engine",
    "mltui.core.inventory",
    "mltui.core.report",
    "mltui.core.textsafe",
    "mltui.core.baseimage",
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

    for path in Path(mltui.core.__file__).parent.glob("*.py"):
        assert "textual" not in path.read_text().lower(), path
