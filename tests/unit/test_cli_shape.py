"""The command line's shape: one module per command with the same two functions,
and nothing heavy imported before a command runs (start-up time)."""

from __future__ import annotations

import subprocess
import sys


def test_every_command_module_adds_its_parser_and_runs_with_args_alone():
    import inspect

    from mltui.cli import COMMANDS, build_parser, serve, tui

    known = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert known == set(COMMANDS)
    for name, module in COMMANDS.items():
        assert list(inspect.signature(module.add_parser).parameters) == ["sub"], name
        assert list(inspect.signature(module.run).parameters) == ["args"], name
    for module in (serve, tui):
        assert list(inspect.signature(module.add_options).parameters) == ["parser"]
        assert list(inspect.signature(module.run).parameters) == ["args"]


def test_parsing_the_command_line_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from mltui.cli import build_parser\n"
        "build_parser().parse_args(['predict', '.'])\n"
        "heavy = ('docker', 'textual', 'requests', 'numpy', 'tomllib', 'importlib.metadata',\n"
        "         'mltui.core.inventory', 'mltui.core.config', 'mltui.core.predict')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
