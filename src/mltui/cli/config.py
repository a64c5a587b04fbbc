"""`mltui config`: where the configuration file is and what is in effect."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import load_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "config",
        help="where the configuration file is and what is in effect",
        description="Without an option: the same as --show.",
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument("--path", action="store_true", help="print the file's path")
    what.add_argument(
        "--show", action="store_true", help="print the configuration in effect, and any problem"
    )
    what.add_argument(
        "--example", action="store_true", help="print a commented example with every key"
    )


def run(args: argparse.Namespace) -> int:
    from ..core.config import EXAMPLE, config_path

    if args.path:
        print(args.config or config_path())
        return 0
    if args.example:
        print(EXAMPLE, end="")
        return 0
    config, problems = load_config(args, quiet=True)
    exists = Path(config.path).is_file()
    print(f"# {config.path}" + ("" if exists else " (no such file: these are the defaults)"))
    print(config.to_toml(), end="")
    for problem in problems:
        print(f"mltui: {problem}", file=sys.stderr)
    return 1 if problems else 0
