"""`mltui down NAME`: remove a swarm stack or a Compose project, volumes kept."""

from __future__ import annotations

import argparse

from .act import act, add_common


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "down",
        help="remove a swarm stack or Compose project (volumes kept), after asking",
        description="Remove a swarm stack (docker stack rm) or a Compose project (compose "
        "down on its own files), then wait until it is gone. Named volumes are kept unless "
        "--volumes. Asks first; --yes does not.",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--volumes", action="store_true", help="also remove the project's named volumes")
    add_common(p)


def run(args: argparse.Namespace) -> int:
    from ..deploy.actions import plan_down

    return act(
        args, "mltui down", lambda snap, target: plan_down(snap, args.name, target, args.volumes)
    )
