"""`mltui shell STACK/SERVICE`: sh (bash where present) in one replica, through
docker exec -it against the engine mltui watches; --print prints that command."""

from __future__ import annotations

import argparse
import os
import sys

from .common import CommandError, engine_snapshot, writable_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "shell",
        help="open a shell in a replica (docker exec -it), or print the command",
        description="Run docker exec -it CONTAINER bash (sh where the image has no bash) in "
        "the first running replica of a service, or replica N; --print prints the exact "
        "command line instead (for a terminal of your own).",
    )
    p.add_argument("service", metavar="STACK/SERVICE")
    p.add_argument("--replica", type=int, metavar="N", help="the replica (slot) to enter")
    p.add_argument("--print", dest="print_only", action="store_true", help="print the command")
    p.add_argument("--read-only", action="store_true", help="refuse (as read_only = true does)")


def run(args: argparse.Namespace) -> int:
    from ..deploy.actions import ActionError
    from ..deploy.shell import shell_argv, shell_line

    who = "mltui shell"
    writable_config(args, who)
    engine, _inventory, snapshot = engine_snapshot(args.host, who)
    try:
        argv = shell_argv(snapshot, args.service, args.replica, engine.target)
    except ActionError as exc:
        raise CommandError(who, str(exc)) from None
    finally:
        engine.close()
    if args.print_only:
        print(shell_line(argv))
        return 0
    if not sys.stdin.isatty():
        raise CommandError(who, f"no terminal to open a shell on: run {shell_line(argv)}")
    from ..core.textsafe import safe_text
    from ..deploy.actionlog import append

    problem = append(
        safe_text(engine.target.display, 200), args.service, shell_line(argv), "shell opened"
    )
    if problem:
        print(f"{who}: {problem}", file=sys.stderr)
    sys.stdout.flush()
    os.execvp(argv[0], list(argv))
    return 0  # not reached
