"""`mltui rollback STACK/SERVICE`: a swarm service back to its previous spec."""

from __future__ import annotations

import argparse

from .act import act, add_common


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rollback",
        help="roll a swarm service back to its previous spec, after showing what changes",
        description="Show what a rollback changes (image, replicas, environment: the "
        "service's spec against its previous one), then run docker service update "
        "--rollback and wait until the previous spec runs. Asks first; --yes does not.",
    )
    p.add_argument("service", metavar="STACK/SERVICE")
    add_common(p)


def run(args: argparse.Namespace) -> int:
    from ..deploy.rollback import plan_rollback

    return act(
        args, "mltui rollback", lambda snap, target: plan_rollback(snap, args.service, target)
    )
