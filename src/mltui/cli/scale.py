"""`mltui scale STACK/SERVICE N`: a swarm service or a Compose service to N replicas."""

from __future__ import annotations

import argparse

from .act import act, add_common


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scale",
        help="run N replicas of a service (swarm or Compose), after asking",
        description="Scale a swarm service (docker service scale) or a Compose service "
        "(compose up -d --no-recreate --scale on the project's own files) to N replicas, "
        "then wait until N run. Asks first; --yes does not.",
    )
    p.add_argument("service", metavar="STACK/SERVICE")
    p.add_argument("replicas", metavar="N", type=int)
    add_common(p)


def run(args: argparse.Namespace) -> int:
    from ..deploy.actions import plan_scale

    return act(
        args,
        "mltui scale",
        lambda snap, target: plan_scale(snap, args.service, args.replicas, target),
    )
