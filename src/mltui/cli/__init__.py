"""Command line: `mltui` opens the TUI; sub-commands print the same facts headlessly.

One module per command, each with the same two functions: ``add_parser(sub)``
adds its sub-command (``add_options(parser)`` for the TUI's and ``--serve``'s
top-level options) and ``run(args) -> int`` runs it. What they share, the engine
and its snapshot or one sentence and exit 2, is in :mod:`.common`.

Start-up is tuned: these modules import only the standard library at the top,
so the TUI's first engine round trips start before Textual (and docker-py) are
imported. Keep heavy imports inside ``run``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from . import (
    config,
    demo,
    down,
    gpu,
    jupyter,
    load,
    logs,
    model,
    predict,
    ps,
    restart,
    roll,
    rollback,
    scale,
    serve,
    shell,
    start,
    stop,
    top,
    tui,
    up,
)
from .common import CommandError

# sub-command -> its module, in the order `mltui --help` lists them
COMMANDS: dict[str, ModuleType] = {
    "config": config,
    "ps": ps,
    "top": top,
    "logs": logs,
    "jupyter": jupyter,
    "predict": predict,
    "load": load,
    "model": model,
    "gpu": gpu,
    "demo": demo,
    "up": up,
    "scale": scale,
    "restart": restart,
    "rollback": rollback,
    "roll": roll,
    "stop": stop,
    "start": start,
    "down": down,
    "shell": shell,
}


class _Version(argparse.Action):
    """``--version``: the installed package's version, read only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show program's version number and exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        from .. import __version__

        print(f"mltui {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mltui",
        description="A terminal dashboard for the container stacks of machine learning: "
        "compose projects and swarm stacks, replicas, logs, notebooks, GPUs and model servers.",
    )
    parser.add_argument("--version", action=_Version)
    parser.add_argument(
        "-H",
        "--host",
        help="Docker engine address (default: DOCKER_HOST, then the current docker context, then the local socket)",
    )
    tui.add_options(parser)
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="configuration file (default: $MLTUI_CONFIG, else $XDG_CONFIG_HOME/mltui/config.toml)",
    )
    serve.add_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # --serve hands each browser tab the same command line
    if getattr(args, "tui_read_only", False):
        # `mltui --read-only scale ...`: the top-level flag refuses a command's action too
        args.read_only = True
    module: ModuleType
    if args.command == "config":  # answers even with --serve
        module = config
    elif args.serve:  # which refuses any other command
        module = serve
    else:  # no command: the TUI
        module = COMMANDS.get(args.command, tui)
    try:
        code: int = module.run(args)
        return code
    except CommandError as exc:
        print(exc, file=sys.stderr)
        return exc.code


__all__ = ["COMMANDS", "CommandError", "build_parser", "main"]
