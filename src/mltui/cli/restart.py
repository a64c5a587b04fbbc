"""`mltui restart STACK/SERVICE`: every replica, one at a time, or one replica."""

from __future__ import annotations

import argparse

from .act import act, add_common


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "restart",
        help="restart a service replica by replica (or one replica), after asking",
        description="Restart a swarm service (docker service update --force: a rolling "
        "update that honours its update_config) or a Compose service (docker restart, one "
        "container at a time), then wait until every replica is new. --replica N: only "
        "that one (swarm replaces the stopped task's container). Asks first; --yes does not.",
    )
    p.add_argument("service", metavar="STACK/SERVICE")
    p.add_argument("--replica", type=int, metavar="N", help="only replica N (its slot)")
    add_common(p)


def run(args: argparse.Namespace) -> int:
    from ..deploy.actions import plan_restart

    return act(
        args,
        "mltui restart",
        lambda snap, target: plan_restart(snap, args.service, target, args.replica),
    )
