"""The README's promises that can drift: its pictures exist, its quick start is
two commands, and every headless command it shows exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_every_picture_in_the_readme_exists_and_was_written_by_the_app():
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert len(pictures) >= 7
    for rel in pictures:
        path = ROOT / rel
        assert path.is_file(), rel
        assert "Textual" in path.read_text()[:2000] or "rich-terminal" in path.read_text()


def test_the_quick_start_is_two_commands():
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]


def test_every_subcommand_in_the_readme_is_one_mltui_knows():
    from mltui.cli import build_parser

    known = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    shell = "\n".join(re.findall(r"```sh\n(.*?)```", README, re.S))
    used = set(re.findall(r"^(?:\S+=\S+ )*mltui (?:-H \S+ )?([a-z]+)\b", shell, re.M))
    assert used, "no command found"
    assert used <= known, used - known


def test_the_configuration_example_is_the_one_mltui_prints():
    from mltui.core.config import EXAMPLE

    block = README.split("```toml\n", 1)[1].split("```", 1)[0]
    assert block == EXAMPLE
