"""`mltui start STACK/SERVICE|NAME`: start the stopped containers of a Compose service or project."""

from __future__ import annotations

import argparse

from .act import act, add_common


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "start",
        help="start the stopped containers of a Compose service or project, after asking",
        description="compose start for one service (PROJECT/SERVICE) or a whole project "
        "(NAME), on the project's own files, then wait until it took effect. On swarm, "
        "start means scaling (mltui scale). Asks first; --yes does not.",
    )
    p.add_argument("target", metavar="STACK/SERVICE|NAME")
    add_common(p)


def run(args: argparse.Namespace) -> int:
    from ..deploy.startstop import plan_start

    return act(args, "mltui start", lambda snap, target: plan_start(snap, args.target, target))
