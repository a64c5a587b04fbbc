"""`mltui stop STACK/SERVICE|NAME`: stop the containers of a Compose service or project."""

from __future__ import annotations

import argparse

from .act import act, add_common


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stop",
        help="stop the containers of a Compose service or project, after asking",
        description="compose stop for one service (PROJECT/SERVICE) or a whole project "
        "(NAME), on the project's own files, then wait until it took effect. On swarm, "
        "stop means scaling (mltui scale). Asks first; --yes does not.",
    )
    p.add_argument("target", metavar="STACK/SERVICE|NAME")
    add_common(p)


def run(args: argparse.Namespace) -> int:
    from ..deploy.startstop import plan_stop

    return act(args, "mltui stop", lambda snap, target: plan_stop(snap, args.target, target))
